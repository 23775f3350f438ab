//! What vouches for an order answer or a notification Kassa sends a merchant (reference §4.3,
//! §5): in MD5 mode the `checkvalue`, in signature mode Kassa's RSA `signature` over the same
//! string `merchant_id + ordernumber + amount + currency + orderstate`; the other stays empty.

use std::sync::Arc;

use super::checkvalue::{self, Variant};
use super::gateway_key::GatewayKey;
use crate::db::models::Merchant;

/// No `Debug`: the check-value seal holds the MD5 of the merchant's secret, enough to forge one.
pub enum Seal {
    /// MD5 mode: the merchant's secret (its MD5) and the formula variant it verifies with.
    CheckValue { secret_md5: String, variant: Variant },
    /// Signature mode: Kassa's own key.
    Signature(Arc<GatewayKey>),
}

impl Seal {
    /// The MD5-mode seal of `merchant`.
    pub fn check_value(merchant: &Merchant) -> Seal {
        Seal::CheckValue {
            secret_md5: merchant.secret_md5.clone(),
            variant: Variant::parse(&merchant.response_variant),
        }
    }

    /// `signature` and `checkvalue`, in the order answers and notifications list them.
    pub fn fields(
        &self,
        merchant_id: i64,
        order_number: &str,
        amount: &str,
        currency: &str,
        state: &str,
    ) -> [(&'static str, String); 2] {
        let x = checkvalue::response_string(merchant_id, order_number, amount, currency, state);
        match self {
            Seal::CheckValue { secret_md5, variant } => {
                [("signature", String::new()), ("checkvalue", checkvalue::compute(secret_md5, &x, *variant))]
            }
            Seal::Signature(key) => [("signature", key.sign(&x)), ("checkvalue", String::new())],
        }
    }
}
