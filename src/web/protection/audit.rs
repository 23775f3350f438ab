//! The audit log of money-changing web-service and API requests: who (the credential), what,
//! on which order, from where, and how it ended. Never card data.

use diesel::prelude::*;

use crate::db::models::{MerchantId, OrderId};
use crate::db::schema::audit_events;
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
}

impl Actor {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Actor::User(login) => ("user", login),
            Actor::ApiKey(id) => ("api_key", id),
            Actor::AccountUser(login) => ("account_user", login),
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
}

/// One money-changing request.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// `None` for what concerns the enterprise as a whole (its users, its settings).
    pub merchant: Option<MerchantId>,
    pub order: Option<OrderId>,
    pub actor: Actor,
    /// `payrequest`, `charge`, `cancel`, `api.create_order`, `api.confirm`, `api.cancel`.
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
    let row = NewAuditEvent {
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
    };
    let result = store
        .write(move |c| diesel::insert_into(audit_events::table).values(&row).execute(c).map_err(StoreError::from))
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, action = event.action, "audit event not written");
    }
}
