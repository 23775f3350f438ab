//! The money actions: confirm a two-stage order, cancel (with the plan Kassa carried out), and
//! preview a cancel's plan.

use std::str::FromStr;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::orders::find;
use super::{ApiError, authenticate, idempotent, json_body, read_body, views};
use crate::db::models::Order;
use crate::gateway::CancelRequest;
use crate::money::{Currency, Money};
use crate::startup::AppState;
use crate::web::protection::Protection;

/// An optional amount: both `amount` and `currency` or neither; in the order's payment currency.
fn amount(order: &Order, amount: &Option<String>, currency: &Option<String>) -> Result<Option<i64>, ApiError> {
    match (amount, currency) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::invalid("currency", "is required with amount")),
        (None, Some(_)) => Err(ApiError::invalid("amount", "is required with currency")),
        (Some(a), Some(c)) => {
            let c = Currency::from_str(c).map_err(|e| ApiError::invalid("currency", e.to_string()))?;
            if c.code() != order.currency {
                return Err(ApiError::invalid("currency", format!("must be the order's currency {}", order.currency)));
            }
            Ok(Some(Money::parse(a, c).map_err(|e| ApiError::invalid("amount", e.to_string()))?.minor))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub amount: Option<String>,
    pub currency: Option<String>,
}

pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let body = read_body(body)?;
    idempotent(&req, &state, &caller, &body, || async {
        let input: ConfirmBody = json_body(&body)?;
        let order = find(&state, &caller, &path).await?;
        let minor = amount(&order, &input.amount, &input.currency)?;
        let result = state.gateway.confirm_as(&order.id, minor, Some(format!("api:{}", caller.key.id))).await;
        caller
            .audit(
                &state,
                Some(order.id.clone()),
                "api.confirm",
                &result,
                json!({ "billnumber": order.billnumber, "amount": minor }),
            )
            .await;
        let done = result?;
        Ok((
            StatusCode::OK,
            json!({
                "order": views::order(&caller.merchant, &done.order, None, &state.config.public_url()),
                "operation": views::operation(&done.order, &done.operation),
                "repeated": done.repeated,
            }),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// 1 declined by the shop, 2 by the customer (default), 3 fraud.
    pub reason: Option<i32>,
    pub external_refund_id: Option<String>,
}

pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let body = read_body(body)?;
    idempotent(&req, &state, &caller, &body, || async {
        let input: CancelBody = json_body(&body)?;
        let order = find(&state, &caller, &path).await?;
        let minor = amount(&order, &input.amount, &input.currency)?;
        let request = CancelRequest {
            amount: minor,
            reason: input.reason,
            external_refund_id: input.external_refund_id.clone(),
            actor: Some(format!("api:{}", caller.key.id)),
            // A machine asks for an amount; Kassa chooses how (the answer says which).
            shown_plan: None,
        };
        let result = state.gateway.cancel(&order.id, request).await;
        caller
            .audit(
                &state,
                Some(order.id.clone()),
                "api.cancel",
                &result,
                json!({
                    "billnumber": order.billnumber,
                    "amount": minor,
                    "reason": input.reason,
                    "external_refund_id": input.external_refund_id,
                }),
            )
            .await;
        let done = result?;
        Ok((
            StatusCode::OK,
            json!({
                "order": views::order(&caller.merchant, &done.order, None, &state.config.public_url()),
                "operation": views::operation(&done.order, &done.operation),
                "plan": views::plan(&done.order, &done.plan),
                "repeated": done.repeated,
            }),
        ))
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    pub amount: Option<String>,
    pub currency: Option<String>,
}

/// What a cancel of `amount` would do (reverse, refund), without doing it.
pub async fn cancel_plan(
    req: HttpRequest,
    path: web::Path<String>,
    query: Result<web::Query<PlanQuery>, actix_web::Error>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let q = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?.into_inner();
    let order = find(&state, &caller, &path).await?;
    let minor = amount(&order, &q.amount, &q.currency)?;
    let plan = state.gateway.preview_cancel(&order.id, minor).await?;
    Ok(HttpResponse::Ok().json(json!({ "plan": views::plan(&order, &plan) })))
}
