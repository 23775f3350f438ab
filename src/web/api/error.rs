//! Errors of the JSON API: `{code, message, field?}` with a stable `code` (the use cases' own
//! [`GatewayError::code`] where the refusal comes from one), mapped to HTTP here and only here.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::{CancelError, ConfirmError};
use crate::gateway::GatewayError;

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, retry_after: None }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError { field: Some(field.to_owned()), ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_field", message) }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid API key is required (Authorization: Bearer …)")
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "order_not_found", "order not found")
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error")
    }

    pub fn limited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests")
        }
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            r.insert_header(("Retry-After", secs.to_string()));
        }
        r.content_type("application/json").body(self.body())
    }
}

impl From<crate::db::StoreError> for ApiError {
    fn from(e: crate::db::StoreError) -> Self {
        tracing::error!(error = %e, "API request failed");
        ApiError::internal()
    }
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> ApiError {
        use GatewayError::*;
        let status = match &e {
            InvalidField { .. }
            | CurrencyNotAllowed(_)
            | NoExchangeRate { .. }
            | BadCheckValue
            | BadSignature
            | TwoStageNotAllowed
            | MeansNotAllowed
            | Card(_)
            | Confirm(ConfirmError::NotPositive | ConfirmError::ExceedsAuthorized { .. })
            | Cancel(CancelError::NotPositive) => StatusCode::BAD_REQUEST,
            OrderNotFound => StatusCode::NOT_FOUND,
            UnknownMerchant | MerchantInactive => StatusCode::FORBIDDEN,
            ProcessorUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Store(_) => return crate::db::StoreError::Panicked.into(),
            _ => StatusCode::CONFLICT,
        };
        let field = e.field().map(api_field);
        ApiError { status, code: e.code(), message: e.to_string(), field, retry_after: None }
    }
}

/// The API's name of an Assist field.
fn api_field(assist: &str) -> String {
    match assist {
        "OrderNumber" => "order_number",
        "OrderAmount" | "Amount" => "amount",
        "OrderCurrency" | "Currency" => "currency",
        "OrderComment" => "comment",
        "Delay" => "two_stage",
        "Language" => "language",
        "Email" => "email",
        "Lastname" => "lastname",
        "Firstname" => "firstname",
        "Middlename" => "middlename",
        "ClientIP" => "client_ip",
        "URL_RETURN" => "url_return",
        "URL_RETURN_OK" => "url_return_ok",
        "URL_RETURN_NO" => "url_return_no",
        "CancelReason" => "reason",
        "Externalrefundid" => "external_refund_id",
        other => return other.to_ascii_lowercase(),
    }
    .to_owned()
}
