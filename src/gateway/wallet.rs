//! Pay with the simulated e-wallet: the same records as a card payment (operation, authorization
//! transaction, answer applied by the same code), with the wallet itself deciding.

use super::pay::{Means, start};
use super::{Gateway, GatewayError, PayOutcome};
use crate::assist::codes;
use crate::db::{self, models::OrderId};
use crate::domain::TransactionState;
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
        let means =
            Means { kind: "wallet", mask: None, brand: Some("Wallet".into()), holder: Some(wallet), expiry: None };
        let started = self.store.write(move |c| start(c, &order_id, &means, client_ip, now)).await?;
        let (operation, authorization) = (started.operation, started.authorization);
        let answer = if wallet_id == DEMO_WALLET && request.code.trim() == DEMO_WALLET_CODE {
            let reference = format!("W{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            AuthAnswer::Approved { reference, approval_code: format!("{:06}", rand::random::<u32>() % 1_000_000) }
        } else {
            AuthAnswer::Declined { code: codes::DECLINED.into() }
        };
        self.record_authorization(order, &operation, &authorization, TransactionState::Sent, Some(Ok(answer))).await
    }
}
