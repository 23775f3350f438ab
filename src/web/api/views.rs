//! JSON shapes of the API. Amounts are decimal strings beside their currency, never floats;
//! times are RFC 3339 in UTC.

use serde_json::{Value, json};
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::models::{Merchant, Operation, Order};
use crate::domain::{CancelPlan, OrderState};
use crate::money::format_minor;

pub fn timestamp(t: PrimitiveDateTime) -> String {
    t.assume_utc().format(&Rfc3339).unwrap_or_default()
}

pub fn order(
    merchant: &Merchant,
    order: &Order,
    operations: Option<&[Operation]>,
    public_url: &str,
) -> serde_json::Map<String, Value> {
    let pay = |minor: i64| format_minor(minor, &order.currency);
    let payment_url = (order.state() == OrderState::InProcess)
        .then(|| crate::web::services::payment_link(public_url, merchant, order))
        .flatten();
    let o = json!({
        "id": order.id,
        "billnumber": order.billnumber,
        "order_number": order.order_number,
        "state": order.state,
        "amount": format_minor(order.original_amount, &order.original_currency),
        "currency": order.original_currency,
        "payment_amount": pay(order.amount),
        "payment_currency": order.currency,
        "rate": order.rate,
        "two_stage": order.delay,
        "test_mode": order.test_mode,
        "comment": order.comment,
        "totals": {
            "authorized": pay(order.authorized),
            "confirmed": pay(order.confirmed),
            "released": pay(order.released),
            "voided": pay(order.voided),
            "refunded": pay(order.refunded),
        },
        "payment_url": payment_url,
        "created_at": timestamp(order.created_at),
        "expires_at": timestamp(order.expires_at),
        "confirm_deadline": order.confirm_deadline.map(timestamp),
        "paid_at": order.paid_at.map(timestamp),
    });
    let Value::Object(mut map) = o else { unreachable!("json! of an object literal is an object") };
    if let Some(ops) = operations {
        map.insert("operations".into(), Value::Array(ops.iter().map(|op| operation(order, op)).collect()));
    }
    map
}

pub fn operation(order: &Order, op: &Operation) -> Value {
    json!({
        "billnumber": format!("{}.{}", order.billnumber, op.seq),
        "type": op.kind,
        "assist_type": op.kind().assist_type(),
        "state": op.state,
        "amount": format_minor(op.amount, &op.currency),
        "currency": op.currency,
        "response_code": op.response_code,
        "message": op.message,
        "approval_code": op.approval_code,
        "card_mask": op.card_mask,
        "card_brand": op.card_brand,
        "cancel_reason": op.cancel_reason,
        "external_refund_id": op.external_refund_id,
        "created_at": timestamp(op.created_at),
        "updated_at": timestamp(op.updated_at),
    })
}

pub fn plan(order: &Order, plan: &CancelPlan) -> Value {
    let m = |minor: i64| format_minor(minor, &order.currency);
    json!({
        "amount": m(plan.amount),
        "currency": order.currency,
        "reverse": m(plan.reverse()),
        "release": m(plan.release),
        "void": m(plan.void),
        "capture": m(plan.capture),
        "refund": m(plan.refund),
        "refund_now": m(plan.refund_now),
        "state_after": plan.state_after.as_str(),
    })
}
