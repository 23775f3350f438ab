//! The audit log of every money action — from web services, the API, the account, the admin
//! area, the customer's «Charge» and the worker's deadlines and settlements — and of every change
//! made in the account and the admin area: who (the credential), what, on which order, from
//! where, and how it ended. Never card data, never secrets. Entries are only ever inserted: there is no update or
//! delete path here, and the database refuses both (a trigger on `audit_events`).

use diesel::prelude::*;

use crate::db::models::{MerchantId, OrderId};
use crate::db::schema::{audit_events, merchants};
use crate::db::{self, Store, StoreError};

/// The credential a request was made with.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A web-service user, by login.
    User(String),
    /// A JSON API key, by id (never the key itself).
    ApiKey(String),
    /// A merchant user of the personal account, by login.
    AccountUser(String),
    /// A platform admin of the admin area, by login.
    Admin(String),
    /// The `kassa` command line, run by whoever operates the server.
    Cli,
    /// A customer on the hosted payment pages (known by the IP address only).
    Customer,
    /// The background worker, acting on a schedule or a deadline.
    Worker,
}

impl Actor {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Actor::User(login) => ("user", login),
            Actor::ApiKey(id) => ("api_key", id),
            Actor::AccountUser(login) => ("account_user", login),
            Actor::Admin(login) => ("admin", login),
            Actor::Cli => ("cli", "kassa"),
            Actor::Customer => ("customer", "checkout"),
            Actor::Worker => ("worker", "kassa"),
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent {
    id: String,
    merchant_id: Option<MerchantId>,
    order_id: Option<OrderId>,
    actor_kind: String,
    actor: String,
    action: String,
    outcome: String,
    detail: String,
    ip: Option<String>,
    created_at: time::PrimitiveDateTime,
    enterprise_id: Option<String>,
}

/// One money-changing request.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// `None` for what concerns the enterprise as a whole (its users, its settings).
    pub merchant: Option<MerchantId>,
    pub order: Option<OrderId>,
    pub actor: Actor,
    /// `payrequest`, `charge`, `cancel`, `api.create_order`, `api.confirm`, `api.cancel`,
    /// `checkout.pay`, `worker.deadline`, `worker.settle`…
    pub action: &'static str,
    /// `ok` or the stable error code.
    pub outcome: String,
    /// Amounts and keys of the request, as JSON.
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

/// Writes the event. A failure is logged and does not undo the answer: the money change it
/// describes is already committed.
pub async fn record(store: &Store, event: AuditEvent) {
    let (kind, actor) = event.actor.parts();
    // The enterprise the entry concerns: named in the detail (account and admin actions), or
    // the merchant's (web services and API).
    let named = event.detail.get("enterprise").and_then(|v| v.as_str()).map(str::to_owned);
    let mut row = NewAuditEvent {
        id: db::new_id(),
        merchant_id: event.merchant,
        order_id: event.order,
        actor_kind: kind.into(),
        actor: actor.into(),
        action: event.action.into(),
        outcome: event.outcome,
        detail: event.detail.to_string(),
        ip: event.ip,
        created_at: db::now(),
        enterprise_id: named,
    };
    let result = store
        .write(move |c| {
            if let (None, Some(m)) = (&row.enterprise_id, &row.merchant_id) {
                row.enterprise_id = merchants::table.find(m).select(merchants::enterprise_id).first(c).optional()?;
            }
            diesel::insert_into(audit_events::table).values(&row).execute(c).map_err(StoreError::from)
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action = event.action, "audit event not written");
    }
}
