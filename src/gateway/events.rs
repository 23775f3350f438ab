//! What a change tells the outside world, written to the outbox in the same transaction as the
//! change: the Assist notification (payments only, as Assist does), a JSON webhook for every
//! event, and the customer's e-mail.

use diesel::QueryResult;
use serde_json::json;
use time::PrimitiveDateTime;

use crate::db::AnyConnection;
use crate::db::models::{Merchant, NewOutboxMessage, Operation, Order};
use crate::money::format_minor;

pub const ASSIST_NOTIFICATION: &str = "assist.notification";
pub const WEBHOOK: &str = "webhook";
pub const EMAIL: &str = "email";

/// The events Kassa announces; the webhook `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    PaymentApproved,
    PaymentDeclined,
    PaymentConfirmed,
    PaymentCanceled,
    CancelDeclined,
    OrderTimeout,
    PaymentSettled,
    SettlementRejected,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::PaymentApproved => "payment.approved",
            Event::PaymentDeclined => "payment.declined",
            Event::PaymentConfirmed => "payment.confirmed",
            Event::PaymentCanceled => "payment.canceled",
            Event::CancelDeclined => "payment.cancel_declined",
            Event::OrderTimeout => "order.timeout",
            Event::PaymentSettled => "payment.settled",
            Event::SettlementRejected => "payment.settlement_rejected",
        }
    }

    /// The customer's e-mail for this event, if any.
    fn email(self) -> Option<&'static str> {
        match self {
            Event::PaymentApproved | Event::PaymentConfirmed => Some("receipt"),
            Event::PaymentCanceled => Some("returned"),
            _ => None,
        }
    }
}

/// Writes the outbox rows `event` causes for `order`.
pub fn emit(
    c: &mut AnyConnection,
    merchant: &Merchant,
    order: &Order,
    event: Event,
    operation: Option<&Operation>,
    now: PrimitiveDateTime,
) -> QueryResult<()> {
    let operation_id = operation.map(|o| o.id.clone());
    if matches!(event, Event::PaymentApproved | Event::PaymentDeclined) && merchant.notification_url.is_some() {
        let payload = json!({ "order_id": order.id, "operation_id": operation_id });
        NewOutboxMessage::new(ASSIST_NOTIFICATION, &merchant.id, Some(&order.id), &payload, now).insert(c)?;
    }
    let endpoints = merchant.webhook_endpoints();
    if !endpoints.is_empty() {
        let message_id = format!("msg_{}", crate::db::new_id().replace('-', ""));
        let body = json!({
            "type": event.name(),
            "timestamp": crate::db::iso8601(now),
            "data": {
                "order": {
                    "id": order.id,
                    "merchant_id": merchant.merchant_number,
                    "ordernumber": order.order_number,
                    "billnumber": order.billnumber,
                    "state": order.state,
                    "amount": format_minor(order.amount, &order.currency),
                    "currency": order.currency,
                    "testmode": order.test_mode,
                },
                "operation": operation.map(|o| json!({
                    "billnumber": format!("{}.{}", order.billnumber, o.seq),
                    "type": o.kind().assist_type(),
                    "state": o.state,
                    "amount": format_minor(o.amount, &o.currency),
                    "currency": o.currency,
                    "responsecode": o.response_code,
                })),
            },
        });
        // One message per endpoint, each retried on its own; the same id, so a receiver behind
        // several endpoints can tell a repeat.
        let body = body.to_string();
        for endpoint in endpoints {
            let payload = json!({ "id": message_id, "body": body, "endpoint": endpoint });
            NewOutboxMessage::new(WEBHOOK, &merchant.id, Some(&order.id), &payload, now).insert(c)?;
        }
    }
    if let (Some(kind), Some(_)) = (event.email(), &order.email) {
        let payload = json!({ "kind": kind, "order_id": order.id, "operation_id": operation_id });
        NewOutboxMessage::new(EMAIL, &merchant.id, Some(&order.id), &payload, now).insert(c)?;
    }
    Ok(())
}
