use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{EnterpriseId, MerchantId};
use crate::db::schema::{enterprises, merchants};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = enterprises)]
pub struct Enterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub created_at: PrimitiveDateTime,
}

pub type NewEnterprise = Enterprise;

/// A shop (point of sale) with its Assist settings.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = merchants)]
pub struct Merchant {
    pub id: MerchantId,
    pub enterprise_id: EnterpriseId,
    /// The Assist `Merchant_ID`.
    pub merchant_number: i64,
    pub name: String,
    pub secret_md5: String,
    pub checkvalue_mode: String,
    pub response_variant: String,
    pub two_stage_allowed: bool,
    pub test_mode: bool,
    /// Comma-separated payment means the merchant accepts (`card`, `wallet`).
    pub payment_means: String,
    /// Comma-separated order currencies the merchant accepts.
    pub currencies: String,
    /// The currency authorizations are made in; orders in other currencies are converted.
    pub payment_currency: String,
    pub payment_timeout_secs: i64,
    pub confirm_window_secs: i64,
    pub url_return: Option<String>,
    pub url_return_ok: Option<String>,
    pub url_return_no: Option<String>,
    pub notification_url: Option<String>,
    pub active: bool,
    pub created_at: PrimitiveDateTime,
    /// JSON webhooks for every event go here, signed with `webhook_secrets`.
    pub webhook_url: Option<String>,
    pub webhook_secrets: Option<String>,
    /// Told when notifications keep failing.
    pub tech_email: Option<String>,
    /// `reverse` (default) or `confirm`: what happens to a Delayed order at its deadline.
    pub deadline_policy: String,
    /// The smallest order, in minor units of the payment currency; none when `None`.
    pub min_amount: Option<i64>,
    /// The largest order, in minor units of the payment currency.
    pub max_amount: Option<i64>,
    /// The most the merchant's orders may authorize in one UTC day, in the payment currency.
    pub daily_cap: Option<i64>,
    /// `result` (Kassa's result page) or `redirect` (straight back to the shop).
    pub after_payment: String,
    /// PEM (SubjectPublicKeyInfo) of the key that verifies the `Signature` of payment requests.
    pub rsa_public_key: Option<String>,
    /// Payment requests must carry a valid `Signature` (a check value no longer suffices).
    pub signature_required: bool,
    /// `post` (a form) or `soap` (`<ws:PushPaymentResult>`): how notifications are sent.
    pub notification_protocol: String,
    /// The customer gets Kassa's receipts and returned-money notices by e-mail.
    pub customer_emails: bool,
    /// Up to five space-separated staff addresses that get a blind copy of each customer e-mail.
    pub staff_emails: Option<String>,
}

pub type NewMerchant = Merchant;

impl Merchant {
    /// The JSON webhook endpoints, in the order set (`webhook_url` holds them space-separated);
    /// every event goes to each of them.
    pub fn webhook_endpoints(&self) -> Vec<&str> {
        self.webhook_url.as_deref().map(|urls| urls.split_whitespace().collect()).unwrap_or_default()
    }

    pub fn by_number(conn: &mut crate::db::AnyConnection, number: i64) -> QueryResult<Option<Merchant>> {
        merchants::table
            .filter(merchants::merchant_number.eq(number))
            .select(Merchant::as_select())
            .first(conn)
            .optional()
    }

    pub fn find(conn: &mut crate::db::AnyConnection, id: &MerchantId) -> QueryResult<Merchant> {
        merchants::table.find(id).select(Merchant::as_select()).first(conn)
    }

    /// Whether the merchant takes payments now: it is active and its enterprise is not
    /// suspended (an admin's suspension changes nothing else).
    pub fn accepts_payments(&self, conn: &mut crate::db::AnyConnection) -> QueryResult<bool> {
        if !self.active {
            return Ok(false);
        }
        let suspended: bool =
            enterprises::table.find(&self.enterprise_id).select(enterprises::suspended).first(conn)?;
        Ok(!suspended)
    }

    /// What the merchant's payments of this UTC day hold of its `daily_cap`: authorized and in
    /// flight (see [`super::turnover`]).
    pub fn turnover_today(&self, conn: &mut crate::db::AnyConnection) -> QueryResult<i64> {
        super::turnover::of_day(conn, &self.id, crate::db::now().date())
    }

    pub fn accepts_currency(&self, code: &str) -> bool {
        self.currencies.split(',').any(|c| c.trim().eq_ignore_ascii_case(code))
    }

    pub fn accepts_means(&self, means: &str) -> bool {
        self.payment_means.split(',').any(|m| m.trim() == means)
    }
}
