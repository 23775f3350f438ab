//! The admin area's errors, mapped to HTTP once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::db::StoreError;
use crate::web::account::AccountError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No admin session, or it ended: back to the admin sign-in page.
    #[error("sign in first")]
    SignIn,
    #[error("the form has expired; reload the page and try again")]
    Csrf,
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
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "admin: database error");
        AdminError::Internal
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::from(StoreError::from(e))
    }
}

/// The shared sign-in helpers answer account errors; here they mean the same thing.
impl From<AccountError> for AdminError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Csrf => AdminError::Csrf,
            AccountError::Limited => AdminError::Limited,
            AccountError::NotFound => AdminError::NotFound,
            AccountError::BadRequest(m) | AccountError::OverLimit(m) => AdminError::BadRequest(m),
            AccountError::SignIn | AccountError::Step(_) | AccountError::Forbidden => AdminError::SignIn,
            AccountError::Internal => AdminError::Internal,
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::SignIn | AdminError::Step(_) => StatusCode::SEE_OTHER,
            AdminError::Csrf => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Limited => StatusCode::TOO_MANY_REQUESTS,
            AdminError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AdminError::SignIn => return HttpResponse::SeeOther().insert_header(("Location", "/admin/login")).finish(),
            AdminError::Step(page) => return HttpResponse::SeeOther().insert_header(("Location", *page)).finish(),
            _ => {}
        }
        let text = self.to_string().replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Kassa admin</title>\
                 <link rel=\"stylesheet\" href=\"/static/css/kassa-2.css\"></head>\
                 <body><main><h1>{}</h1><p>{text}</p><p><a href=\"/admin\">Admin home</a></p></main></body></html>",
            self.status_code().as_u16()
        ))
    }
}
