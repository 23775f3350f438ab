//! Pay: the authorization of an order with a card, including 3-D Secure and the processor that
//! never answers.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::card::Card;
use crate::db::models::{
    Merchant, NewOperation, Operation, OperationId, Order, OrderId, Transaction, TransactionId, turnover,
};
use crate::db::schema::{operations, orders};
use crate::db::{self, AnyConnection};
use crate::domain::{OperationKind, OperationState, OrderMoney, OrderState, TransactionKind, TransactionState};
use crate::processing::faults::MerchantFaults;
use crate::processing::{AuthAnswer, AuthRequest, ProcessorError, ReturnAnswer, ReturnRequest};

#[derive(Debug)]
pub struct PayRequest {
    pub card: Card,
    pub client_ip: Option<String>,
}

/// Where a payment ended: the order's state tells approved, declined or still in process.
#[derive(Debug)]
pub struct PayOutcome {
    pub order: Order,
    pub operation: Operation,
    /// Set when the customer must pass a 3-D Secure challenge (see [`Gateway::complete_challenge`]).
    pub challenge: Option<String>,
}

/// The payment, as written before the processor is called.
pub(super) struct Started {
    pub order: Order,
    pub operation: OperationId,
    pub authorization: TransactionId,
}

impl Gateway {
    /// Authorizes the order with `request.card`. One successful payment per order: a second
    /// attempt while one is in flight is refused with `PaymentInProgress`, after success with
    /// `AlreadyPaid`.
    pub async fn pay(&self, order: &OrderId, request: PayRequest) -> Result<PayOutcome, GatewayError> {
        let now = db::now();
        request.card.expiry.check_not_expired(now.date())?;
        let (order_id, card) = (order.clone(), request.card.clone());
        let client_ip = request.client_ip.clone();
        // A test merchant's simulated latency and faults, as an admin set them (read each time).
        let faults = self.merchant_faults(order).await?;
        let started = self.store.write(move |c| start(c, &order_id, &Means::card(&card), client_ip, now)).await?;
        let auth = AuthRequest {
            transaction_id: &started.authorization.0,
            card: &request.card,
            amount: started.order.amount,
            currency: &started.order.currency,
        };
        let answer = if faults.is_calm() {
            self.with_timeout(self.processor.authorize(auth)).await
        } else {
            self.with_timeout(faults.authorize(&*self.processor, auth)).await
        };
        self.record_authorization(
            &started.order.id,
            &started.operation,
            &started.authorization,
            TransactionState::Sent,
            answer,
        )
        .await
    }

    /// Finishes a payment that asked for 3-D Secure, with the customer's result.
    pub async fn complete_challenge(&self, order: &OrderId, passed: bool) -> Result<PayOutcome, GatewayError> {
        let order_id = order.clone();
        let now = db::now();
        // The challenge's answer goes to the processor as a message of its own: the
        // authorization moves from `challenge` to `sent` first, conditionally, so that the
        // worker's expiry (which declines open challenges) and a second submit of the page
        // find it taken. The processor's answer then lands on a `sent` authorization, or
        // recovery asks for it; it can no longer approve a challenge the order gave up on.
        let (operation, authorization) = self
            .store
            .write(move |c| {
                Order::lock(c, &order_id)?;
                let pending = Transaction::of_order(c, &order_id)?
                    .into_iter()
                    .find(|t| t.kind() == TransactionKind::Authorization && t.state() == TransactionState::Challenge)
                    .ok_or(GatewayError::NoChallenge)?;
                let reference = pending.processor_ref.as_deref();
                if !Transaction::answer(
                    c,
                    &pending.id,
                    TransactionState::Challenge,
                    TransactionState::Sent,
                    reference,
                    None,
                    now,
                )? {
                    return Err(GatewayError::NoChallenge);
                }
                Ok::<_, GatewayError>((pending.operation_id.clone(), pending))
            })
            .await?;
        let reference = authorization.processor_ref.clone().unwrap_or_default();
        let faults = self.merchant_faults(order).await?;
        let answer = if faults.is_calm() {
            self.with_timeout(self.processor.complete_challenge(&reference, passed)).await
        } else {
            self.with_timeout(faults.complete_challenge(&*self.processor, &reference, passed)).await
        };
        self.record_authorization(order, &operation, &authorization.id, TransactionState::Sent, answer).await
    }

    /// The simulated latency and faults for a payment of `order` (none unless its merchant is a
    /// test merchant with settings).
    async fn merchant_faults(&self, order: &OrderId) -> Result<MerchantFaults, GatewayError> {
        let order = order.clone();
        self.store.read(move |c| Ok(super::simulator_settings::for_order(c, &order)?)).await
    }

    /// Applies the processor's answer (or its silence) to the order, operation and transaction.
    pub(crate) async fn record_authorization(
        &self,
        order: &OrderId,
        operation: &OperationId,
        authorization: &TransactionId,
        from: TransactionState,
        answer: Option<Result<AuthAnswer, ProcessorError>>,
    ) -> Result<PayOutcome, GatewayError> {
        let (order, operation, authorization) = (order.clone(), operation.clone(), authorization.clone());
        let now = db::now();
        match answer {
            Some(Ok(answer)) => {
                self.store
                    .write(move |c| {
                        let challenge = apply_answer(c, &order, &operation, &authorization, from, &answer, now)?;
                        outcome(c, &order, &operation, challenge)
                    })
                    .await
            }
            // No answer (or no connection): the processor may have approved. The order is declined
            // now, and the authorization is reversed so that no money stays held.
            None | Some(Err(_)) => {
                let (o, op, auth) = (order.clone(), operation.clone(), authorization.clone());
                let reversal = self.store.write(move |c| give_up(c, &o, &op, &auth, from, now)).await?;
                if let Some(reversal) = reversal {
                    self.send_reversal(&reversal, &authorization, true).await?;
                }
                self.store.read(move |c| outcome(c, &order, &operation, None)).await
            }
        }
    }

    /// Sends a reversal written in state `sent` and records the answer. `technical` when it
    /// reverses an authorization whose answer was lost (not a merchant's cancel). Without an answer the
    /// transaction stays `sent`, for the worker to resolve.
    pub(crate) async fn send_reversal(
        &self,
        reversal: &Transaction,
        authorization: &TransactionId,
        technical: bool,
    ) -> Result<Option<ReturnAnswer>, GatewayError> {
        let answer = self
            .with_timeout(self.processor.reverse(ReturnRequest {
                transaction_id: &reversal.id.0,
                authorization: &authorization.0,
                amount: reversal.amount,
                currency: &reversal.currency,
                technical,
            }))
            .await;
        let Some(answer) = final_answer(answer) else {
            tracing::warn!(transaction = %reversal.id, "reversal not answered; left for recovery");
            return Ok(None);
        };
        let id = reversal.id.clone();
        let recorded = answer.clone();
        self.store
            .write(move |c| {
                let (state, reference, code) = match &recorded {
                    ReturnAnswer::Approved { reference } => {
                        (TransactionState::Approved, Some(reference.as_str()), codes::SUCCESS)
                    }
                    ReturnAnswer::Declined { code } => (TransactionState::Declined, None, code.as_str()),
                };
                Transaction::answer(c, &id, TransactionState::Sent, state, reference, Some(code), db::now())?;
                Ok::<_, GatewayError>(())
            })
            .await?;
        Ok(Some(answer))
    }
}

/// How the customer pays, as recorded on the payment operation.
pub(super) struct Means {
    /// The order's payment-means entry this is (`card`, `wallet`).
    pub kind: &'static str,
    pub mask: Option<String>,
    pub brand: Option<String>,
    pub holder: Option<String>,
    pub expiry: Option<String>,
}

impl Means {
    fn card(card: &Card) -> Means {
        Means {
            kind: "card",
            mask: Some(card.number.masked()),
            brand: Some(card.number.brand().name().into()),
            holder: Some(card.holder.clone()).filter(|h| !h.is_empty()),
            expiry: Some(card.expiry.assist()),
        }
    }
}

/// Writes the payment operation and its authorization (`sent`), after the rules: the order is
/// `In Process` and not expired, the means is allowed, no other payment is in flight.
pub(super) fn start(
    c: &mut AnyConnection,
    order_id: &OrderId,
    means: &Means,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> Result<Started, GatewayError> {
    let order = Order::lock(c, order_id)?;
    match order.state() {
        OrderState::InProcess => {}
        s if s.is_paid() => return Err(GatewayError::AlreadyPaid),
        s => return Err(GatewayError::WrongState(s)),
    }
    if order.expires_at <= now {
        return Err(GatewayError::OrderExpired);
    }
    // A merchant switched off, or an enterprise suspended, after the order was made.
    let merchant = Merchant::find(c, &order.merchant_id)?;
    if !merchant.accepts_payments(c)? {
        return Err(GatewayError::MerchantInactive);
    }
    if !order.payment_means.split(',').any(|m| m == means.kind) {
        return Err(GatewayError::MeansNotAllowed);
    }
    let in_flight: i64 = operations::table
        .filter(operations::order_id.eq(order_id))
        .filter(operations::kind.eq(OperationKind::Payment.as_str()))
        .filter(operations::state.eq(OperationState::InProcess.as_str()))
        .count()
        .get_result(c)?;
    if in_flight > 0 {
        return Err(GatewayError::PaymentInProgress);
    }
    let seq = Order::take_seq(c, order_id)?;
    // The card of the latest attempt, for the Order Monitor's card filter (none for a wallet).
    let last4 = means.mask.as_deref().and_then(|m| m.get(m.len().saturating_sub(4)..));
    let last4 = last4.filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()));
    diesel::update(orders::table.find(order_id)).set(orders::card_last4.eq(last4)).execute(c)?;
    let operation = NewOperation {
        id: OperationId::new(),
        order_id: order_id.clone(),
        seq,
        kind: OperationKind::Payment.as_str().into(),
        state: OperationState::InProcess.as_str().into(),
        amount: order.amount,
        currency: order.currency.clone(),
        response_code: None,
        message: None,
        approval_code: None,
        card_mask: means.mask.clone(),
        card_brand: means.brand.clone(),
        cardholder: means.holder.clone(),
        card_expiry: means.expiry.clone(),
        client_ip: client_ip.or_else(|| order.client_ip.clone()),
        cancel_reason: None,
        external_refund_id: None,
        created_at: now,
        updated_at: now,
        actor: Some("customer".into()),
    };
    diesel::insert_into(operations::table)
        .values(&operation)
        .execute(c)
        .map_err(|e| if db::is_unique_violation(&e) { GatewayError::PaymentInProgress } else { e.into() })?;
    let auth = Transaction::new(
        order_id,
        &operation.id,
        TransactionKind::Authorization,
        TransactionState::Sent,
        order.amount,
        &order.currency,
        now,
    );
    auth.insert(c)?;
    // Last, so the day's row is held for as short a time as can be: the cap is checked where
    // the amount is added, and a refusal undoes everything written above.
    if !turnover::reserve(c, &merchant.id, now.date(), order.amount, merchant.daily_cap)? {
        tracing::info!(order = %order.billnumber, merchant = merchant.merchant_number, "pay: daily cap reached");
        return Err(GatewayError::DailyCapReached);
    }
    Ok(Started { order, operation: operation.id, authorization: auth.id })
}

/// Records an answer; returns the challenge reference when 3-D Secure is asked for.
fn apply_answer(
    c: &mut AnyConnection,
    order_id: &OrderId,
    operation: &OperationId,
    authorization: &TransactionId,
    from: TransactionState,
    answer: &AuthAnswer,
    now: PrimitiveDateTime,
) -> Result<Option<String>, GatewayError> {
    let order = Order::lock(c, order_id)?;
    let merchant = Merchant::find(c, &order.merchant_id)?;
    match answer {
        AuthAnswer::Challenge { reference } => {
            Transaction::answer(c, authorization, from, TransactionState::Challenge, Some(reference), None, now)?;
            return Ok(Some(reference.clone()));
        }
        AuthAnswer::Approved { reference, approval_code } => {
            if !Transaction::answer(
                c,
                authorization,
                from,
                TransactionState::Approved,
                Some(reference),
                Some(codes::SUCCESS),
                now,
            )? {
                // Answered already (a concurrent recovery): nothing more to do.
                return Ok(None);
            }
            let money = OrderMoney::authorize(order.amount, order.delay);
            let state = money.paid_state();
            if !Order::transition(c, order_id, OrderState::InProcess, state, &money, now)? {
                return Err(GatewayError::WrongState(order.state()));
            }
            let brand = crate::db::models::Operation::find(c, operation)?.card_brand;
            let deadline = order.delay.then(|| now + time::Duration::seconds(merchant.confirm_window_secs));
            diesel::update(orders::table.find(order_id))
                .set((orders::card_brand.eq(brand), orders::paid_at.eq(now), orders::confirm_deadline.eq(deadline)))
                .execute(c)?;
            Operation::finish(
                c,
                operation,
                OperationState::Success,
                codes::SUCCESS,
                codes::message(codes::SUCCESS),
                Some(approval_code),
                now,
            )?;
            if !order.delay {
                // One-stage: captured at once; the worker settles it.
                Transaction::new(
                    order_id,
                    operation,
                    TransactionKind::Financial,
                    TransactionState::New,
                    order.amount,
                    &order.currency,
                    now,
                )
                .acting_on(authorization)
                .insert(c)?;
            }
        }
        AuthAnswer::Declined { code } => {
            if !Transaction::answer(c, authorization, from, TransactionState::Declined, None, Some(code), now)? {
                return Ok(None);
            }
            Operation::finish(c, operation, OperationState::Declined, code, codes::message(code), None, now)?;
            Order::transition(c, order_id, OrderState::InProcess, OrderState::Declined, &order.money(), now)?;
        }
    }
    let order = Order::find(c, order_id)?;
    let event = if order.state().is_paid() { Event::PaymentApproved } else { Event::PaymentDeclined };
    let operation = Operation::find(c, operation)?;
    events::emit(c, &merchant, &order, event, Some(&operation), now)?;
    Ok(None)
}

/// The processor did not answer: decline the order and write the reversal to send.
fn give_up(
    c: &mut AnyConnection,
    order_id: &OrderId,
    operation: &OperationId,
    authorization: &TransactionId,
    from: TransactionState,
    now: PrimitiveDateTime,
) -> Result<Option<Transaction>, GatewayError> {
    let order = Order::lock(c, order_id)?;
    if !Transaction::answer(c, authorization, from, TransactionState::Timeout, None, Some(codes::SYSTEM_ERROR), now)? {
        return Ok(None);
    }
    let message = "The processing center did not answer; the authorization was reversed";
    Operation::finish(c, operation, OperationState::Declined, codes::SYSTEM_ERROR, message, None, now)?;
    Order::transition(c, order_id, OrderState::InProcess, OrderState::Declined, &order.money(), now)?;
    let merchant = Merchant::find(c, &order.merchant_id)?;
    let declined = Order::find(c, order_id)?;
    let declined_op = Operation::find(c, operation)?;
    events::emit(c, &merchant, &declined, Event::PaymentDeclined, Some(&declined_op), now)?;
    let reversal = Transaction::new(
        order_id,
        operation,
        TransactionKind::Reversal,
        TransactionState::Sent,
        order.amount,
        &order.currency,
        now,
    )
    .acting_on(authorization);
    reversal.insert(c)?;
    Ok(Some(reversal))
}

fn outcome(
    c: &mut AnyConnection,
    order: &OrderId,
    operation: &OperationId,
    challenge: Option<String>,
) -> Result<PayOutcome, GatewayError> {
    Ok(PayOutcome { order: Order::find(c, order)?, operation: Operation::find(c, operation)?, challenge })
}

/// The processor's answer to a reversal or refund, if it is final. A refusal (the processor
/// does not know the authorization, e.g. because the authorization itself never reached it) is a
/// final decline: asking again would get the same.
pub(crate) fn final_answer(answer: Option<Result<ReturnAnswer, ProcessorError>>) -> Option<ReturnAnswer> {
    match answer {
        Some(Ok(answer)) => Some(answer),
        Some(Err(ProcessorError::Refused(_))) => Some(ReturnAnswer::Declined { code: codes::NO_SUCH_PAYMENT.into() }),
        Some(Err(ProcessorError::Unavailable(_))) | None => None,
    }
}
