//! The account's errors, mapped to HTTP once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::db::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No session, or it ended: back to the sign-in page.
    #[error("sign in first")]
    SignIn,
    /// The form's CSRF token does not match the session's.
    #[error("the form has expired; reload the page and try again")]
    Csrf,
    #[error("your role does not allow this")]
    Forbidden,
    /// Also for another enterprise's order: it does not exist for this user.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many requests; try again in a minute")]
    Limited,
    #[error("internal error")]
    Internal,
    /// Sign-in is not finished: the session must go to this page first.
    #[error("finish signing in first")]
    Step(&'static str),
    /// An operator's action beyond their amount limit; the text says what the limit is.
    #[error("{0}")]
    OverLimit(String),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "account: database error");
        AccountError::Internal
    }
}

impl From<diesel::result::Error> for AccountError {
    fn from(e: diesel::result::Error) -> Self {
        AccountError::from(StoreError::from(e))
    }
}

impl ResponseError for AccountError {
    fn status_code(&self) -> StatusCode {
        match self {
            AccountError::SignIn | AccountError::Step(_) => StatusCode::SEE_OTHER,
            AccountError::OverLimit(_) => StatusCode::FORBIDDEN,
            AccountError::Csrf | AccountError::Forbidden => StatusCode::FORBIDDEN,
            AccountError::NotFound => StatusCode::NOT_FOUND,
            AccountError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AccountError::Limited => StatusCode::TOO_MANY_REQUESTS,
            AccountError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AccountError::SignIn => {
                return HttpResponse::SeeOther().insert_header(("Location", "/account/login")).finish();
            }
            AccountError::Step(page) => return HttpResponse::SeeOther().insert_header(("Location", *page)).finish(),
            _ => {}
        }
        let text = self.to_string().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let heading = match self {
            AccountError::Csrf => "The form has expired",
            AccountError::Forbidden | AccountError::OverLimit(_) => "Not allowed",
            AccountError::NotFound => "Not found",
            AccountError::BadRequest(_) => "Please check what you entered",
            AccountError::Limited => "Too many requests",
            _ => "Something went wrong",
        };
        let hint = match self {
            AccountError::NotFound => "There is no such page or order in your account.",
            AccountError::Forbidden => "Your role does not allow this. A manager of your enterprise can change it.",
            AccountError::Internal => "Kassa could not finish this; nothing was half done. Try again in a moment.",
            _ => "",
        };
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{heading} · Kassa account</title>\
                 <link rel=\"stylesheet\" href=\"/static/css/kassa-2.css\"></head>\
                 <body><main><h1>{heading}</h1><p class=\"error\" role=\"alert\">{text}</p><p>{hint}</p>\
                 <p><a href=\"/account\">Dashboard</a> · \
                 <a href=\"/account/orders\">Orders</a></p></main></body></html>"
        ))
    }
}
