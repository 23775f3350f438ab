//! The JSON API `/api/v1`: orders (create, get with operations, list with keyset paging) and
//! the money actions (confirm, cancel with its plan), for merchants' servers. Authenticated by
//! per-merchant API keys ([`keys`]); every POST honours `Idempotency-Key` ([`idempotency`]).
//! Documented by `openapi.json`, served at `/api/v1/openapi.json` and checked against these
//! routes by a test.

mod actions;
mod error;
pub mod idempotency;
pub mod keys;
mod orders;
mod views;

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::db::models::Merchant;
use crate::startup::AppState;
use crate::web::protection::Protection;
pub use error::ApiError;
use idempotency::Claim;
use keys::ApiKey;

/// The OpenAPI 3 document of this API, kept true by `tests/api_openapi.rs`.
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn routes(cfg: &mut web::ServiceConfig) {
    let limit = crate::web::machine::body_limit;
    cfg.route("/api/v1/openapi.json", web::get().to(openapi))
        .service(
            web::resource("/api/v1/orders")
                .app_data(limit())
                .route(web::get().to(orders::list))
                .route(web::post().to(orders::create)),
        )
        .service(web::resource("/api/v1/orders/{billnumber}").route(web::get().to(orders::get)))
        .service(
            web::resource("/api/v1/orders/{billnumber}/confirm")
                .app_data(limit())
                .route(web::post().to(actions::confirm)),
        )
        .service(
            web::resource("/api/v1/orders/{billnumber}/cancel")
                .app_data(limit())
                .route(web::post().to(actions::cancel)),
        )
        .service(web::resource("/api/v1/orders/{billnumber}/cancel-plan").route(web::get().to(actions::cancel_plan)));
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

/// An authenticated API request.
pub struct ApiCaller {
    pub key: ApiKey,
    pub merchant: Merchant,
    pub ip: Option<String>,
}

/// Rate limits (per IP, then per merchant) and the API key of `Authorization: Bearer <key>`.
impl ApiCaller {
    /// Writes the audit row of a money-changing call made with this key.
    pub async fn audit<T>(
        &self,
        state: &AppState,
        order: Option<crate::db::models::OrderId>,
        action: &'static str,
        result: &Result<T, crate::gateway::GatewayError>,
        detail: Value,
    ) {
        use crate::web::protection::audit::{self, Actor, AuditEvent};
        let event = AuditEvent {
            merchant: Some(self.merchant.id.clone()),
            order,
            actor: Actor::ApiKey(self.key.id.clone()),
            action,
            outcome: result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()).to_owned(),
            detail,
            ip: self.ip.clone(),
        };
        audit::record(&state.gateway.store, event).await;
    }
}

pub async fn authenticate(req: &HttpRequest, state: &AppState, protection: &Protection) -> Result<ApiCaller, ApiError> {
    protection.check_ip(req).map_err(|l| ApiError::limited(l.retry_after_secs()))?;
    let clear = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    let (key, merchant) = keys::authenticate(&state.gateway.store, clear).await?.ok_or_else(ApiError::unauthorized)?;
    protection.check_merchant(merchant.merchant_number).map_err(|l| ApiError::limited(l.retry_after_secs()))?;
    Ok(ApiCaller { key, merchant, ip: crate::web::protection::client_ip(req) })
}

/// The raw body, or a JSON error when it could not be read (too large: 413).
pub fn read_body(body: Result<web::Bytes, actix_web::Error>) -> Result<web::Bytes, ApiError> {
    body.map_err(|e| {
        let status = e.as_response_error().status_code();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE { "payload_too_large" } else { "invalid_body" };
        ApiError::new(status, code, e.to_string())
    })
}

/// A JSON body; an empty body reads as `{}`.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))
}

fn json_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json").body(body)
}

/// Runs a POST under its `Idempotency-Key`, if one was sent.
pub async fn idempotent<F, Fut>(
    req: &HttpRequest,
    state: &AppState,
    caller: &ApiCaller,
    body: &[u8],
    run: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    let key = match req.headers().get("Idempotency-Key") {
        None => {
            let (status, value) = run().await?;
            return Ok(json_response(status, value.to_string()));
        }
        Some(v) => v.to_str().map_err(|_| ApiError::invalid("Idempotency-Key", "visible ASCII only"))?.to_owned(),
    };
    idempotency::validate_key(&key)?;
    let store = &state.gateway.store;
    let hash = idempotency::request_hash(req.method().as_str(), req.path(), body);
    match idempotency::claim(store, &caller.merchant.id, &key, &hash).await? {
        Claim::Replay { status, body } => Ok(idempotency::replay(status, body)),
        Claim::Mismatch => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request",
        )),
        Claim::InProgress => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still running; retry later",
        )),
        Claim::New => {
            let (status, text) = match run().await {
                Ok((status, value)) => (status, value.to_string()),
                Err(e) => (e.status, e.body()),
            };
            idempotency::finish(store, &caller.merchant.id, &key, status, &text).await;
            Ok(json_response(status, text))
        }
    }
}
