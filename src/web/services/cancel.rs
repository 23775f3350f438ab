//! `wscancel` (and the older `cancel.cfm`): cancel or refund, in full or for `Amount` +
//! `Currency`, with `CancelReason` and `Externalrefundid` (the merchant's idempotency key for
//! this cancel, unique within the order).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::answer::{self, Format};
use super::charge::{find_order, requested_amount, respond};
use super::serve;
use crate::gateway::CancelRequest;
use crate::startup::AppState;
use crate::web::protection::Protection;
use crate::web::protection::audit::{self, Actor, AuditEvent};

pub async fn cancel(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    serve(&req, &body, &state.clone(), &protection, Format::Xml, |call| async move {
        let reason = call.fields.number("CancelReason", 1..=3)?.map(|r| r as i32);
        let external_refund_id = call.fields.get("Externalrefundid").map(str::to_owned);
        let order = find_order(&state, &call).await?;
        let amount = requested_amount(&call.fields, &order)?;
        // Before the money moves, so a missing signing key cannot turn a done operation into an error.
        let seal = state.gateway.seal(&call.caller.merchant).await?;
        let request = CancelRequest {
            amount,
            reason,
            external_refund_id: external_refund_id.clone(),
            actor: Some(format!("webservices:{}", call.caller.login)),
            // A machine asks for an amount; Kassa chooses how (the answer says which).
            shown_plan: None,
        };
        let result = state.gateway.cancel(&order.id, request).await;
        audit::record(
            &state.gateway.store,
            AuditEvent {
                merchant: Some(call.caller.merchant.id.clone()),
                order: Some(order.id.clone()),
                actor: Actor::User(call.caller.login.clone()),
                action: "cancel",
                outcome: result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()).to_owned(),
                detail: json!({
                    "billnumber": order.billnumber,
                    "amount": amount,
                    "reason": reason,
                    "externalrefundid": external_refund_id,
                }),
                ip: call.ip.clone(),
            },
        )
        .await;
        let done = result?;
        let packetdate = answer::assist_date(crate::db::now());
        let operations = std::slice::from_ref(&done.operation);
        let view = answer::order_view(&call.caller.merchant, &seal, &done.order, operations, &packetdate);
        Ok(respond(call.format, &view, "wscancel"))
    })
    .await
}
