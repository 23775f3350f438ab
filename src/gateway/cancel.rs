//! Cancel: give money back. Kassa picks reversal or refund itself ([`plan_cancel`]).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::card::Brand;
use crate::db::models::{Merchant, NewOperation, Operation, OperationId, Order, OrderId, Transaction, TransactionId};
use crate::db::schema::{operations, transactions};
use crate::db::{self, AnyConnection};
use crate::domain::{
    CancelPlan, OperationKind, OperationState, OrderMoney, TransactionKind, TransactionState, plan_cancel,
};
use crate::processing::{ReturnAnswer, ReturnRequest};

#[derive(Debug, Clone, Default)]
pub struct CancelRequest {
    /// Minor units; everything left when `None`.
    pub amount: Option<i64>,
    /// Assist `CancelReason`: 1 declined by the shop, 2 by the customer (default), 3 fraud.
    pub reason: Option<i32>,
    /// Assist `Externalrefundid`: the merchant's idempotency key for this cancel.
    pub external_refund_id: Option<String>,
    /// Who asks, kept on the operation: `account:<login>`, `api:<key>`, `worker`…
    pub actor: Option<String>,
    /// The reversal and the refund a person was shown before asking (the account's plan page):
    /// when the cancel would now be carried out otherwise (a settlement batch came between), it
    /// is refused with [`GatewayError::PlanChanged`] and nothing is done.
    pub shown_plan: Option<(i64, i64)>,
}

#[derive(Debug)]
pub struct CancelOutcome {
    pub order: Order,
    pub operation: Operation,
    pub plan: CancelPlan,
    /// An earlier cancel with the same `Externalrefundid`; nothing was changed.
    pub repeated: bool,
}

/// What the first write left to send.
struct Reserved {
    operation: OperationId,
    plan: CancelPlan,
    authorization: TransactionId,
    reversal: Option<Transaction>,
    refund: Option<Transaction>,
}

enum Reservation {
    New(Box<Reserved>),
    Repeated(Box<CancelOutcome>),
}

impl Gateway {
    /// How a cancel of `amount` would be carried out, for the merchant to see first.
    pub async fn preview_cancel(&self, order: &OrderId, amount: Option<i64>) -> Result<CancelPlan, GatewayError> {
        let order = order.clone();
        self.store
            .read(move |c| {
                let order = Order::find(c, &order)?;
                let in_settlement = in_settlement(c, &order.id)?;
                Ok(plan_cancel(&order.money(), order.state(), in_settlement, is_amex(&order), amount)?)
            })
            .await
    }

    /// Cancels `request.amount` of a paid order (everything left when `None`): the unsettled part
    /// is reversed, the settled part refunded, Amex always refunded.
    pub async fn cancel(&self, order: &OrderId, request: CancelRequest) -> Result<CancelOutcome, GatewayError> {
        validate(&request)?;
        let order_id = order.clone();
        let reserved = match self.store.write(move |c| reserve(c, &order_id, &request, db::now())).await? {
            Reservation::Repeated(outcome) => return Ok(*outcome),
            Reservation::New(r) => *r,
        };
        let reversal = match &reserved.reversal {
            Some(t) => self.send_reversal(t, &reserved.authorization, false).await?,
            None => None,
        };
        let refund = match &reserved.refund {
            Some(t) => self.send_refund(t, &reserved.authorization).await,
            None => None,
        };
        let order_id = order.clone();
        self.store.write(move |c| finish(c, &order_id, reserved, reversal, refund, db::now())).await
    }

    /// Sends a refund written in state `sent`; `None` when there was no answer.
    pub(crate) async fn send_refund(
        &self,
        refund: &Transaction,
        authorization: &TransactionId,
    ) -> Option<ReturnAnswer> {
        let answer = self
            .with_timeout(self.processor.refund(ReturnRequest {
                transaction_id: &refund.id.0,
                authorization: &authorization.0,
                amount: refund.amount,
                currency: &refund.currency,
                technical: false,
            }))
            .await;
        let answer = super::pay::final_answer(answer);
        if answer.is_none() {
            tracing::warn!(transaction = %refund.id, "refund not answered; left for recovery");
        }
        answer
    }
}

fn validate(request: &CancelRequest) -> Result<(), GatewayError> {
    if let Some(id) = &request.external_refund_id {
        let ok =
            (10..=100).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(GatewayError::invalid("Externalrefundid", "10 to 100 characters of A-Z, a-z, 0-9, _ and -"));
        }
    }
    if request.reason.is_some_and(|r| !(1..=3).contains(&r)) {
        return Err(GatewayError::invalid("CancelReason", "must be 1, 2 or 3"));
    }
    Ok(())
}

fn is_amex(order: &Order) -> bool {
    order.card_brand.as_deref() == Some(Brand::Amex.name())
}

/// Money in settlement batches sent and not yet acknowledged.
fn in_settlement(c: &mut AnyConnection, order: &OrderId) -> QueryResult<i64> {
    Ok(Transaction::of_order(c, order)?
        .iter()
        .filter(|t| t.kind() == TransactionKind::Financial && t.state() == TransactionState::Sent)
        .map(|t| t.amount)
        .sum())
}

fn reserve(
    c: &mut AnyConnection,
    order_id: &OrderId,
    request: &CancelRequest,
    now: PrimitiveDateTime,
) -> Result<Reservation, GatewayError> {
    let order = Order::lock(c, order_id)?;
    if let Some(key) = &request.external_refund_id {
        let earlier =
            Operation::of_order(c, order_id)?.into_iter().find(|o| o.external_refund_id.as_ref() == Some(key));
        if let Some(op) = earlier {
            if request.amount.is_some_and(|a| a != op.amount) {
                return Err(GatewayError::ExternalRefundIdReused);
            }
            let plan = CancelPlan { amount: op.amount, ..CancelPlan::none(order.money(), order.state()) };
            return Ok(Reservation::Repeated(Box::new(CancelOutcome { order, operation: op, plan, repeated: true })));
        }
    }
    let txns = Transaction::of_order(c, order_id)?;
    let in_settlement = in_settlement(c, order_id)?;
    let plan = plan_cancel(&order.money(), order.state(), in_settlement, is_amex(&order), request.amount)?;
    if request.shown_plan.is_some_and(|shown| shown != (plan.reverse(), plan.refund)) {
        return Err(GatewayError::PlanChanged);
    }
    let authorization = txns
        .iter()
        .find(|t| t.kind() == TransactionKind::Authorization && t.state() == TransactionState::Approved)
        .map(|t| t.id.clone())
        .ok_or(GatewayError::WrongState(order.state()))?;
    let seq = Order::take_seq(c, order_id)?;
    let calls_needed = plan.reverse() > 0 || plan.refund > 0;
    let operation = NewOperation {
        id: OperationId::new(),
        order_id: order_id.clone(),
        seq,
        kind: OperationKind::Cancel.as_str().into(),
        state: if calls_needed { OperationState::InProcess } else { OperationState::Success }.as_str().into(),
        amount: plan.amount,
        currency: order.currency.clone(),
        response_code: None,
        message: None,
        approval_code: None,
        card_mask: None,
        card_brand: order.card_brand.clone(),
        cardholder: None,
        card_expiry: None,
        client_ip: None,
        cancel_reason: Some(request.reason.unwrap_or(2)),
        external_refund_id: request.external_refund_id.clone(),
        created_at: now,
        updated_at: now,
        actor: request.actor.clone(),
    };
    diesel::insert_into(operations::table).values(&operation).execute(c)?;
    let new_txn = |kind, state, amount| {
        Transaction::new(order_id, &operation.id, kind, state, amount, &order.currency, now).acting_on(&authorization)
    };
    if plan.void > 0 {
        drop_from_settlement(c, &txns, plan.void, now)?;
    }
    let reversal =
        (plan.reverse() > 0).then(|| new_txn(TransactionKind::Reversal, TransactionState::Sent, plan.reverse()));
    if plan.capture > 0 {
        new_txn(TransactionKind::Financial, TransactionState::New, plan.capture).insert(c)?;
    }
    let refund =
        (plan.refund_now > 0).then(|| new_txn(TransactionKind::Refund, TransactionState::Sent, plan.refund_now));
    if plan.refund > plan.refund_now {
        // Amex money not settled yet: refunded once its settlement is acknowledged.
        new_txn(TransactionKind::Refund, TransactionState::Waiting, plan.refund - plan.refund_now).insert(c)?;
    }
    for t in reversal.iter().chain(refund.iter()) {
        t.insert(c)?;
    }
    if !Order::transition(c, order_id, order.state(), plan.state_after, &plan.money_after, now)? {
        return Err(GatewayError::WrongState(order.state()));
    }
    Ok(Reservation::New(Box::new(Reserved { operation: operation.id, plan, authorization, reversal, refund })))
}

/// Takes `amount` out of the order's financial transactions not sent for settlement (or rejected).
fn drop_from_settlement(
    c: &mut AnyConnection,
    txns: &[Transaction],
    mut amount: i64,
    now: PrimitiveDateTime,
) -> Result<(), GatewayError> {
    // Money whose settlement the processor rejected was never captured either: it is dropped too.
    let droppable = |t: &&Transaction| {
        t.kind() == TransactionKind::Financial
            && matches!(t.state(), TransactionState::New | TransactionState::Rejected)
    };
    for t in txns.iter().filter(droppable) {
        if amount == 0 {
            break;
        }
        let take = amount.min(t.amount);
        let left = t.amount - take;
        let state = if left == 0 { TransactionState::Dropped } else { t.state() };
        let n = diesel::update(transactions::table.find(&t.id).filter(transactions::state.eq(t.state.as_str())))
            .set((
                transactions::amount.eq(left),
                transactions::state.eq(state.as_str()),
                transactions::updated_at.eq(now),
            ))
            .execute(c)?;
        if n == 1 {
            amount -= take;
        }
    }
    if amount > 0 {
        return Err(crate::domain::CancelError::SettlementInProgress.into());
    }
    Ok(())
}

/// Records the processor's answers. A refused return gives its money back to the order.
fn finish(
    c: &mut AnyConnection,
    order_id: &OrderId,
    reserved: Reserved,
    reversal: Option<ReturnAnswer>,
    refund: Option<ReturnAnswer>,
    now: PrimitiveDateTime,
) -> Result<CancelOutcome, GatewayError> {
    let order = Order::lock(c, order_id)?;
    let plan = reserved.plan;
    let mut money = order.money();
    let mut declined: Option<String> = None;
    let mut unanswered = false;
    if let Some(txn) = &reserved.reversal {
        match &reversal {
            Some(ReturnAnswer::Approved { .. }) => {}
            Some(ReturnAnswer::Declined { code }) => {
                declined = Some(code.clone());
                money.released -= plan.release;
                money.voided -= plan.void;
                if plan.void > 0 {
                    // The money goes back into the next settlement batch.
                    Transaction::new(
                        order_id,
                        &reserved.operation,
                        TransactionKind::Financial,
                        TransactionState::New,
                        plan.void,
                        &order.currency,
                        now,
                    )
                    .acting_on(&reserved.authorization)
                    .insert(c)?;
                }
                tracing::error!(transaction = %txn.id, "reversal declined by the processing center");
            }
            None => unanswered = true,
        }
    }
    if let Some(txn) = &reserved.refund {
        let (state, reference, code) = match &refund {
            Some(ReturnAnswer::Approved { reference }) => {
                (TransactionState::Approved, Some(reference.as_str()), codes::SUCCESS)
            }
            Some(ReturnAnswer::Declined { code }) => {
                declined = Some(code.clone());
                money.refunded -= plan.refund_now;
                (TransactionState::Declined, None, code.as_str())
            }
            None => {
                unanswered = true;
                (TransactionState::Sent, None, "")
            }
        };
        if state != TransactionState::Sent {
            Transaction::answer(c, &txn.id, TransactionState::Sent, state, reference, Some(code), now)?;
        }
    }
    if money != order.money() {
        apply_money(c, &order, &money, now)?;
    }
    let waiting = plan.refund > plan.refund_now;
    match (&declined, unanswered || waiting) {
        (Some(code), _) => {
            Operation::finish(c, &reserved.operation, OperationState::Declined, code, codes::message(code), None, now)?;
        }
        (None, false) => {
            Operation::finish(
                c,
                &reserved.operation,
                OperationState::Success,
                codes::SUCCESS,
                codes::message(codes::SUCCESS),
                None,
                now,
            )?;
        }
        // Still in process: the worker resolves unanswered calls and sends waiting refunds.
        (None, true) => {}
    }
    let (order, operation) = (Order::find(c, order_id)?, Operation::find(c, &reserved.operation)?);
    announce_cancel(c, &order, &operation, now)?;
    Ok(CancelOutcome { order, operation, plan, repeated: false })
}

/// Announces a cancel once it is final (success or declined); one still in process is
/// announced when it finishes.
pub(crate) fn announce_cancel(
    c: &mut AnyConnection,
    order: &Order,
    operation: &Operation,
    now: PrimitiveDateTime,
) -> Result<(), GatewayError> {
    let event = match operation.state() {
        OperationState::Success => Event::PaymentCanceled,
        OperationState::Declined => Event::CancelDeclined,
        OperationState::InProcess => return Ok(()),
    };
    let merchant = Merchant::find(c, &order.merchant_id)?;
    events::emit(c, &merchant, order, event, Some(operation), now)?;
    Ok(())
}

/// Writes corrected totals and the state that follows from them.
pub(crate) fn apply_money(
    c: &mut AnyConnection,
    order: &Order,
    money: &OrderMoney,
    now: PrimitiveDateTime,
) -> Result<(), GatewayError> {
    let to = money.paid_state();
    if !Order::transition(c, &order.id, order.state(), to, money, now)? {
        return Err(GatewayError::WrongState(order.state()));
    }
    Ok(())
}
