//! Confirm: the capture of a two-stage (`Delayed`) order, in full or in part.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::db::models::{Merchant, NewOperation, Operation, OperationId, Order, OrderId, Transaction};
use crate::db::schema::operations;
use crate::db::{self, AnyConnection};
use crate::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState, plan_confirm};

#[derive(Debug)]
pub struct ConfirmOutcome {
    pub order: Order,
    pub operation: Operation,
    /// The order was confirmed before; nothing was changed.
    pub repeated: bool,
}

impl Gateway {
    /// Confirms `amount` of a `Delayed` order (all of it when `None`): `Approved` in full,
    /// `PartialDelayed` in part. Confirming again with the same (or no) amount answers with the
    /// first confirmation and changes nothing.
    pub async fn confirm(&self, order: &OrderId, amount: Option<i64>) -> Result<ConfirmOutcome, GatewayError> {
        self.confirm_as(order, amount, None).await
    }

    /// [`Gateway::confirm`], naming who asks on the operation (`account:<login>`, …).
    pub async fn confirm_as(
        &self,
        order: &OrderId,
        amount: Option<i64>,
        actor: Option<String>,
    ) -> Result<ConfirmOutcome, GatewayError> {
        let order = order.clone();
        self.store.write(move |c| confirm(c, &order, amount, true, actor, db::now())).await
    }

    /// Confirms a `Delayed` order in full at its deadline, for merchants whose deadline policy
    /// is to confirm rather than reverse.
    pub async fn confirm_after_deadline(&self, order: &OrderId) -> Result<ConfirmOutcome, GatewayError> {
        let order = order.clone();
        self.store.write(move |c| confirm(c, &order, None, false, Some("worker".into()), db::now())).await
    }
}

fn confirm(
    c: &mut AnyConnection,
    order_id: &OrderId,
    amount: Option<i64>,
    enforce_deadline: bool,
    actor: Option<String>,
    now: PrimitiveDateTime,
) -> Result<ConfirmOutcome, GatewayError> {
    let order = Order::lock(c, order_id)?;
    let operations = Operation::of_order(c, order_id)?;
    if let Some(done) =
        operations.iter().find(|o| o.kind() == OperationKind::Confirmation && o.state() == OperationState::Success)
    {
        if amount.is_some_and(|a| a != done.amount) {
            return Err(GatewayError::AlreadyConfirmed { amount: done.amount });
        }
        return Ok(ConfirmOutcome { order, operation: done.clone(), repeated: true });
    }
    if enforce_deadline && order.confirm_deadline.is_some_and(|deadline| now > deadline) {
        return Err(GatewayError::ConfirmDeadlinePassed);
    }
    let money = plan_confirm(&order.money(), order.state(), order.delay, amount)?;
    let captured = money.confirmed - order.confirmed;
    let authorization = Transaction::of_order(c, order_id)?
        .into_iter()
        .find(|t| t.kind() == TransactionKind::Authorization && t.state() == TransactionState::Approved)
        .ok_or(GatewayError::WrongState(order.state()))?;
    let seq = Order::take_seq(c, order_id)?;
    let operation = NewOperation {
        id: OperationId::new(),
        order_id: order_id.clone(),
        seq,
        kind: OperationKind::Confirmation.as_str().into(),
        state: OperationState::Success.as_str().into(),
        amount: captured,
        currency: order.currency.clone(),
        response_code: Some(codes::SUCCESS.into()),
        message: Some(codes::message(codes::SUCCESS).into()),
        approval_code: None,
        card_mask: None,
        card_brand: order.card_brand.clone(),
        cardholder: None,
        card_expiry: None,
        client_ip: None,
        cancel_reason: None,
        external_refund_id: None,
        created_at: now,
        updated_at: now,
        actor,
    };
    diesel::insert_into(operations::table).values(&operation).execute(c)?;
    Transaction::new(
        order_id,
        &operation.id,
        TransactionKind::Financial,
        TransactionState::New,
        captured,
        &order.currency,
        now,
    )
    .acting_on(&authorization.id)
    .insert(c)?;
    if !Order::transition(c, order_id, OrderState::Delayed, money.paid_state(), &money, now)? {
        return Err(GatewayError::WrongState(order.state()));
    }
    let order = Order::find(c, order_id)?;
    let merchant = Merchant::find(c, &order.merchant_id)?;
    events::emit(c, &merchant, &order, Event::PaymentConfirmed, Some(&operation), now)?;
    Ok(ConfirmOutcome { order, operation, repeated: false })
}
