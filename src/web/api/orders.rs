//! Orders: create (answers the payment-page link), get with operations, list with filters and
//! keyset paging (newest first).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::{Value, json};
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiCaller, ApiError, authenticate, idempotent, json_body, read_body, views};
use crate::db::StoreError;
use crate::db::models::{Merchant, Operation, Order, OrderId};
use crate::db::schema::orders;
use crate::domain::OrderState;
use crate::gateway::OrderRequest;
use crate::startup::AppState;
use crate::web::protection::Protection;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub order_number: String,
    /// Decimal string, e.g. `"100.00"`.
    pub amount: String,
    pub currency: Option<String>,
    #[serde(default)]
    pub two_stage: bool,
    pub comment: Option<String>,
    pub language: Option<String>,
    pub lastname: Option<String>,
    pub firstname: Option<String>,
    pub middlename: Option<String>,
    pub email: Option<String>,
    pub client_ip: Option<String>,
    pub url_return: Option<String>,
    pub url_return_ok: Option<String>,
    pub url_return_no: Option<String>,
}

/// The Assist request the use case validates. The API key already proves the merchant, so the
/// check value or signature a merchant's settings demand of browser-posted requests is not.
fn order_request(merchant: &Merchant, body: CreateOrder) -> OrderRequest {
    OrderRequest {
        merchant_id: merchant.merchant_number.to_string(),
        order_number: body.order_number,
        order_amount: body.amount,
        order_currency: body.currency,
        order_comment: body.comment,
        delay: Some(if body.two_stage { "1" } else { "0" }.into()),
        language: body.language,
        lastname: body.lastname,
        firstname: body.firstname,
        middlename: body.middlename,
        email: body.email,
        client_ip: body.client_ip,
        url_return: body.url_return,
        url_return_ok: body.url_return_ok,
        url_return_no: body.url_return_no,
        authenticated: true,
        ..OrderRequest::default()
    }
}

pub async fn create(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let body = read_body(body)?;
    idempotent(&req, &state, &caller, &body, || async {
        let request = order_request(&caller.merchant, json_body::<CreateOrder>(&body)?);
        let result = state.gateway.create_order(request.clone()).await;
        let order = result.as_ref().ok().map(|o| o.id.clone());
        caller
            .audit(
                &state,
                order,
                "api.create_order",
                &result,
                json!({
                    "order_number": request.order_number,
                    "amount": request.order_amount,
                    "currency": request.order_currency,
                }),
            )
            .await;
        let order = result?;
        let public_url = state.config.public_url();
        let mut view = views::order(&caller.merchant, &order, Some(&[]), &public_url);
        if order.state() == OrderState::InProcess && view.get("payment_url").is_none_or(Value::is_null) {
            // A merchant signing with RSA gets the order's own page: Kassa cannot sign its link.
            let token = crate::web::checkout::page_for(&state, &order).await?;
            view.insert("payment_url".into(), format!("{public_url}/pay/{token}").into());
        }
        Ok((StatusCode::CREATED, Value::Object(view)))
    })
    .await
}

/// The caller's order by billnumber; another merchant's is "not found".
pub async fn find(state: &AppState, caller: &ApiCaller, billnumber: &str) -> Result<Order, ApiError> {
    if billnumber.is_empty() || billnumber.len() > 20 || !billnumber.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::not_found());
    }
    state.gateway.order(&caller.merchant.id, billnumber).await.map_err(ApiError::from)
}

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let order = find(&state, &caller, &path).await?;
    let id = order.id.clone();
    let ops = state.gateway.store.read(move |c| Operation::of_order(c, &id).map_err(StoreError::from)).await?;
    let view = views::order(&caller.merchant, &order, Some(&ops), &state.config.public_url());
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub state: Option<String>,
    pub order_number: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

fn parse_time(field: &str, v: &Option<String>) -> Result<Option<PrimitiveDateTime>, ApiError> {
    v.as_deref()
        .map(|s| {
            time::OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| {
                    let t = t.to_offset(time::UtcOffset::UTC);
                    PrimitiveDateTime::new(t.date(), t.time())
                })
                .map_err(|_| ApiError::invalid(field, "an RFC 3339 time, e.g. 2026-12-03T10:00:00Z"))
        })
        .transpose()
}

/// The keyset cursor: the last order's creation time (unix microseconds) and id.
fn encode_cursor(order: &Order) -> String {
    let micros = order.created_at.assume_utc().unix_timestamp_nanos() / 1_000;
    format!("{micros}_{}", order.id)
}

fn decode_cursor(cursor: &str) -> Result<(PrimitiveDateTime, OrderId), ApiError> {
    let bad = || ApiError::invalid("cursor", "not a cursor from an earlier page");
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let micros: i128 = micros.parse().map_err(|_| bad())?;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| bad())?;
    if id.is_empty() || id.len() > 64 {
        return Err(bad());
    }
    Ok((PrimitiveDateTime::new(t.date(), t.time()), OrderId(id.to_owned())))
}

pub async fn list(
    req: HttpRequest,
    query: Result<web::Query<ListQuery>, actix_web::Error>,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&req, &state, &protection).await?;
    let q = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.to_string()))?.into_inner();
    let filter_state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<OrderState>().map_err(|_| ApiError::invalid("state", "an order state, e.g. Approved"))?.as_str(),
        ),
    };
    let from = parse_time("created_from", &q.created_from)?;
    let to = parse_time("created_to", &q.created_to)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("from 1 to {MAX_LIMIT}")));
    }
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let merchant = caller.merchant.id.clone();
    let order_number = q.order_number.clone();
    let mut found: Vec<Order> = state
        .gateway
        .store
        .read(move |c| {
            let mut query =
                orders::table.filter(orders::merchant_id.eq(merchant)).select(Order::as_select()).into_boxed();
            if let Some(s) = filter_state {
                query = query.filter(orders::state.eq(s));
            }
            if let Some(n) = order_number {
                query = query.filter(orders::order_number.eq(n));
            }
            if let Some(f) = from {
                query = query.filter(orders::created_at.ge(f));
            }
            if let Some(t) = to {
                query = query.filter(orders::created_at.lt(t));
            }
            if let Some((at, id)) = after {
                query = query.filter(orders::created_at.lt(at).or(orders::created_at.eq(at).and(orders::id.lt(id))));
            }
            query
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(limit + 1)
                .load(c)
                .map_err(StoreError::from)
        })
        .await?;
    let next_cursor = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(encode_cursor)
    } else {
        None
    };
    let public_url = state.config.public_url();
    let list: Vec<Value> =
        found.iter().map(|o| Value::Object(views::order(&caller.merchant, o, None, &public_url))).collect();
    Ok(HttpResponse::Ok().json(json!({ "orders": list, "next_cursor": next_cursor })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let t = crate::db::now();
        let order_time = PrimitiveDateTime::new(t.date(), t.time());
        let micros = order_time.assume_utc().unix_timestamp_nanos() / 1_000;
        let cursor = format!("{micros}_abc");
        let (at, id) = decode_cursor(&cursor).unwrap();
        assert_eq!((at, id.0.as_str()), (order_time, "abc"));
        assert!(decode_cursor("x_y").is_err());
        assert!(decode_cursor("123").is_err());
    }
}
