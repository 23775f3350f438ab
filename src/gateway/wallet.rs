//! Pay with the simulated e-wallet: the same records as a card payment (operation, authorization
//! transaction, answer applied by the same code), with the wallet itself deciding.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{Gateway, GatewayError, PayOutcome};
use crate::assist::codes;
use crate::db::models::{NewOperation, OperationId, Order, OrderId, Transaction, TransactionId};
use crate::db::schema::operations;
use crate::db::{self, AnyConnection};
use crate::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use crate::processing::AuthAnswer;

/// The wallet id and code the simulated wallet approves; anything else is declined (AS100).
pub const DEMO_WALLET: &str = "demo-wallet";
pub const DEMO_WALLET_CODE: &str = "0000";

#[derive(Debug)]
pub struct WalletRequest {
    pub wallet_id: String,
    /// The one-time code the wallet sent the customer; never stored.
    pub code: String,
    pub client_ip: Option<String>,
}

impl Gateway {
    /// Authorizes the order from the simulated e-wallet. The rules of [`Gateway::pay`] hold: one
    /// payment in flight, none after success, none after the payment time.
    pub async fn pay_wallet(&self, order: &OrderId, request: WalletRequest) -> Result<PayOutcome, GatewayError> {
        let wallet_id = request.wallet_id.trim().to_owned();
        if wallet_id.is_empty() || wallet_id.chars().count() > 64 {
            return Err(GatewayError::invalid("WalletId", "is required (at most 64 characters)"));
        }
        let now = db::now();
        let (order_id, client_ip, wallet) = (order.clone(), request.client_ip.clone(), wallet_id.clone());
        let (operation, authorization) =
            self.store.write(move |c| start(c, &order_id, &wallet, client_ip, now)).await?;
        let answer = if wallet_id == DEMO_WALLET && request.code.trim() == DEMO_WALLET_CODE {
            let reference = format!("W{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            AuthAnswer::Approved { reference, approval_code: format!("{:06}", rand::random::<u32>() % 1_000_000) }
        } else {
            AuthAnswer::Declined { code: codes::DECLINED.into() }
        };
        self.record_authorization(order, &operation, &authorization, TransactionState::Sent, Some(Ok(answer))).await
    }
}

fn start(
    c: &mut AnyConnection,
    order_id: &OrderId,
    wallet: &str,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> Result<(OperationId, TransactionId), GatewayError> {
    let order = Order::lock(c, order_id)?;
    match order.state() {
        OrderState::InProcess => {}
        s if s.is_paid() => return Err(GatewayError::AlreadyPaid),
        s => return Err(GatewayError::WrongState(s)),
    }
    if order.expires_at <= now {
        return Err(GatewayError::OrderExpired);
    }
    if !order.payment_means.split(',').any(|m| m == "wallet") {
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
        card_mask: None,
        card_brand: Some("Wallet".into()),
        cardholder: Some(wallet.to_owned()),
        card_expiry: None,
        client_ip: client_ip.or_else(|| order.client_ip.clone()),
        cancel_reason: None,
        external_refund_id: None,
        created_at: now,
        updated_at: now,
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
    Ok((operation.id, auth.id))
}
