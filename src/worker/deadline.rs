//! Confirmation deadlines: a `Delayed` order not confirmed in time is reversed (the default)
//! or confirmed in full, as its merchant chose.

use diesel::prelude::*;

use crate::db::models::{Merchant, Order};
use crate::db::schema::{merchants, orders};
use crate::db::{self, StoreError};
use crate::domain::OrderState;
use crate::gateway::{CancelRequest, Gateway, GatewayError};
use crate::web::protection::audit::{self, Actor, AuditEvent};

/// Applies the deadline policy to overdue `Delayed` orders; returns how many were handled.
pub async fn apply_deadlines(gateway: &Gateway) -> Result<usize, GatewayError> {
    let overdue: Vec<(Order, Merchant)> = gateway
        .store
        .read(|c| {
            orders::table
                .inner_join(merchants::table)
                .filter(orders::state.eq(OrderState::Delayed.as_str()))
                .filter(orders::confirm_deadline.lt(db::now()))
                .limit(500)
                .select((Order::as_select(), Merchant::as_select()))
                .load(c)
                .map_err(StoreError::from)
        })
        .await?;
    let mut handled = 0;
    for (order, merchant) in overdue {
        let confirm = merchant.deadline_policy == "confirm";
        let result = if confirm {
            gateway.confirm_after_deadline(&order.id).await.map(|_| ())
        } else {
            gateway
                .cancel(
                    &order.id,
                    CancelRequest { reason: Some(1), actor: Some("worker".into()), ..CancelRequest::default() },
                )
                .await
                .map(|_| ())
        };
        let event = AuditEvent {
            merchant: Some(merchant.id.clone()),
            order: Some(order.id.clone()),
            actor: Actor::Worker,
            action: "worker.deadline",
            outcome: result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()).to_owned(),
            detail: serde_json::json!({
                "policy": if confirm { "confirm" } else { "reverse" },
                "amount": crate::money::format_minor(order.amount, &order.currency),
                "currency": order.currency,
            }),
            ip: None,
        };
        audit::record(&gateway.store, event).await;
        match result {
            Ok(()) => handled += 1,
            Err(e) => tracing::warn!(order = %order.id, error = %e, "confirmation deadline not applied"),
        }
    }
    Ok(handled)
}

/// `Delayed` orders of a merchant whose deadline falls within `within`, soonest first: the
/// list a merchant sees before the policy applies.
pub async fn near_deadline(
    gateway: &Gateway,
    merchant: &crate::db::models::MerchantId,
    within: time::Duration,
) -> Result<Vec<Order>, GatewayError> {
    let merchant = merchant.clone();
    gateway
        .store
        .read(move |c| {
            orders::table
                .filter(orders::merchant_id.eq(&merchant))
                .filter(orders::state.eq(OrderState::Delayed.as_str()))
                .filter(orders::confirm_deadline.le(db::now() + within))
                .order(orders::confirm_deadline.asc())
                .select(Order::as_select())
                .load(c)
                .map_err(GatewayError::from)
        })
        .await
}
