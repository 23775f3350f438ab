//! `charge`: confirms a two-stage order, in full or for `Amount` + `Currency`. Repeating it
//! answers with the first confirmation and changes nothing ([`crate::gateway::Gateway::confirm`]).

use std::str::FromStr;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::answer::{self, Format, OrderView};
use super::codes::ServiceError;
use super::fields::Fields;
use super::{Call, billnumber, serve};
use crate::db::models::Order;
use crate::money::{Currency, Money};
use crate::startup::AppState;
use crate::web::protection::Protection;
use crate::web::protection::audit::{self, Actor, AuditEvent};

pub async fn charge(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    serve(&req, &body, &state.clone(), &protection, Format::Xml, |call| async move {
        let order = find_order(&state, &call).await?;
        let amount = requested_amount(&call.fields, &order)?;
        // Before the money moves, so a missing signing key cannot turn a done operation into an error.
        let seal = state.gateway.seal(&call.caller.merchant).await?;
        let result =
            state.gateway.confirm_as(&order.id, amount, Some(format!("webservices:{}", call.caller.login))).await;
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code().to_owned(),
        };
        audit::record(
            &state.gateway.store,
            AuditEvent {
                merchant: Some(call.caller.merchant.id.clone()),
                order: Some(order.id.clone()),
                actor: Actor::User(call.caller.login.clone()),
                action: "charge",
                outcome,
                detail: json!({ "billnumber": order.billnumber, "amount": amount }),
                ip: call.ip.clone(),
            },
        )
        .await;
        let done = result?;
        let packetdate = answer::assist_date(crate::db::now());
        let operations = std::slice::from_ref(&done.operation);
        let view = answer::order_view(&call.caller.merchant, &seal, &done.order, operations, &packetdate);
        Ok(respond(call.format, &view, "charge"))
    })
    .await
}

/// The order of the call's `Billnumber`; another merchant's order is "not found".
pub(super) async fn find_order(state: &AppState, call: &Call) -> Result<Order, ServiceError> {
    let b = billnumber(&call.fields)?;
    state.gateway.order(&call.caller.merchant.id, b).await.map_err(|_| ServiceError::not_found("Billnumber"))
}

/// `Amount` and `Currency` come together; the currency must be the order's payment currency.
pub(super) fn requested_amount(fields: &Fields, order: &Order) -> Result<Option<i64>, ServiceError> {
    match (fields.get("Amount"), fields.get("Currency")) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ServiceError::field("Currency", "is required with Amount")),
        (None, Some(_)) => Err(ServiceError::field("Amount", "is required with Currency")),
        (Some(amount), Some(currency)) => {
            let currency = Currency::from_str(currency).map_err(|e| ServiceError::field("Currency", e))?;
            if currency.code() != order.currency {
                return Err(ServiceError::field(
                    "Currency",
                    format!("must be the order's currency {}", order.currency),
                ));
            }
            let money = Money::parse(amount, currency).map_err(|e| ServiceError::field("Amount", e))?;
            Ok(Some(money.minor))
        }
    }
}

/// One order with its one new operation. JSON: the B.4 shape under `root` — `charge` flat,
/// `wscancel` with a nested `order` and `checkdata`.
pub(super) fn respond(format: Format, view: &OrderView, root: &str) -> HttpResponse {
    match format {
        Format::Xml => answer::ok(Format::Xml, answer::xml_orders(std::slice::from_ref(view), true)),
        Format::Csv => {
            let rows = answer::csv_rows(view, true);
            let header = answer::header_of(&rows, &[]);
            answer::ok(Format::Csv, answer::csv(&rows, &header))
        }
        Format::Json if root == "charge" => {
            let mut o = answer::object(&view.order);
            for row in [&view.check].into_iter().chain(view.operations.iter()) {
                for (k, v) in row {
                    o.entry(*k).or_insert_with(|| Value::String(v.clone()));
                }
            }
            o.insert("customer".into(), Value::Object(answer::object(&view.customer)));
            answer::ok_json(json!({ "charge": o }))
        }
        Format::Json => {
            let check = Value::Object(answer::object(&view.check));
            answer::ok_json(json!({ root: { "order": answer::json_order(view, true), "checkdata": check } }))
        }
    }
}
