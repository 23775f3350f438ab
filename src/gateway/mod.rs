//! The use cases, one file each. They are the only code that changes orders; pages, web
//! services and the worker call them.

mod cancel;
mod confirm;
mod create_order;
mod customer;
mod error;
pub mod events;
mod expire;
mod pay;
mod recover;
mod retry;
mod settle;
pub mod settlement_report;
pub mod setup;
mod signing_key;
pub mod simulator_settings;
mod wallet;

use std::sync::Arc;
use std::time::Duration;

pub use cancel::{CancelOutcome, CancelRequest};
pub use confirm::ConfirmOutcome;
pub use create_order::OrderRequest;
pub use customer::CustomerDetails;
pub use error::GatewayError;
pub use pay::{PayOutcome, PayRequest};
pub use recover::RecoverReport;
pub use settle::SettleReport;
pub use signing_key::SigningKeyError;
pub use wallet::{DEMO_WALLET, DEMO_WALLET_CODE, WalletRequest};

use crate::assist::gateway_key::GatewayKey;
use crate::db::Store;
use crate::db::models::{Merchant, MerchantId, Order};
use crate::processing::Processor;

/// Everything a use case needs: the database and the processing center.
#[derive(Clone)]
pub struct Gateway {
    pub store: Store,
    pub processor: Arc<dyn Processor>,
    /// How long Kassa waits for the processing center before it gives up and reverses.
    pub processor_timeout: Duration,
    /// Kassa's signing key once loaded (see [`Gateway::signing_key`]), shared by the clones.
    signing_key: Arc<tokio::sync::OnceCell<Arc<GatewayKey>>>,
}

impl Gateway {
    pub fn new(store: Store, processor: Arc<dyn Processor>, processor_timeout: Duration) -> Gateway {
        Gateway { store, processor, processor_timeout, signing_key: Arc::default() }
    }

    /// Signs with `key` (from outside the database) instead of the key kept in the database.
    pub fn with_signing_key(self, key: GatewayKey) -> Gateway {
        Gateway { signing_key: Arc::new(tokio::sync::OnceCell::new_with(Some(Arc::new(key)))), ..self }
    }

    /// An order of one merchant by its billnumber (the plain one or `billnumber.N`).
    pub async fn order(&self, merchant: &MerchantId, billnumber: &str) -> Result<Order, GatewayError> {
        let merchant = merchant.clone();
        let billnumber = billnumber.split('.').next().unwrap_or_default().to_owned();
        self.store
            .read(move |c| Order::by_billnumber(c, &merchant, &billnumber)?.ok_or(GatewayError::OrderNotFound))
            .await
    }

    pub async fn merchant_by_number(&self, number: i64) -> Result<Merchant, GatewayError> {
        self.store.read(move |c| Merchant::by_number(c, number)?.ok_or(GatewayError::UnknownMerchant)).await
    }

    async fn with_timeout<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, crate::processing::ProcessorError>>,
    ) -> Option<Result<T, crate::processing::ProcessorError>> {
        tokio::time::timeout(self.processor_timeout, call).await.ok()
    }
}
