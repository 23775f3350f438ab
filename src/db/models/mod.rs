//! Database rows: a read struct per table plus a `New…` struct for inserts, and the typed ids.

mod checkout;
mod merchant;
mod operation;
mod order;
mod outbox;
mod settlement;
pub mod signing_key;
mod transaction;
pub mod turnover;
mod user;

pub use checkout::{CheckoutPage, CheckoutSettings, spend_nonce, valid_frame_ancestors, valid_origin};
pub use merchant::{Enterprise, Merchant, NewEnterprise, NewMerchant};
pub use operation::{NewOperation, Operation};
pub use order::{NewOrder, Order};
pub use outbox::NewOutboxMessage;
pub use settlement::SettlementBatch;
pub use transaction::{NewTransaction, Transaction};
pub use user::{NewUser, User};

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        /// A typed id (stored as text), so one kind of id cannot stand in for another.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, diesel_derive_newtype::DieselNewType)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new() -> Self {
                $name(crate::db::new_id())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

typed_id!(EnterpriseId, MerchantId, UserId, OrderId, OperationId, TransactionId, BatchId);
