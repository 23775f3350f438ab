//! Everything a checkout page can fail with, mapped to a status and a page once, here.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::i18n::{Lang, Texts};
use crate::gateway::GatewayError;

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The payment request was refused; nothing was created.
    #[error("payment request refused: {1}")]
    Entry(Lang, GatewayError),
    #[error("payment page not found")]
    NotFound(Lang),
    #[error("malformed form")]
    BadForm(Lang),
    #[error("{1}")]
    Internal(Lang, GatewayError),
    #[error("template: {1}")]
    Render(Lang, String),
}

#[derive(Template)]
#[template(path = "checkout/error.html")]
struct ErrorPage<'a> {
    t: &'static Texts,
    heading: &'a str,
    message: String,
}

impl CheckoutError {
    fn lang(&self) -> Lang {
        match self {
            CheckoutError::Entry(l, _)
            | CheckoutError::NotFound(l)
            | CheckoutError::BadForm(l)
            | CheckoutError::Internal(l, _)
            | CheckoutError::Render(l, _) => *l,
        }
    }
}

impl ResponseError for CheckoutError {
    fn status_code(&self) -> StatusCode {
        match self {
            CheckoutError::Entry(_, GatewayError::Store(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            CheckoutError::Entry(..) | CheckoutError::BadForm(_) => StatusCode::BAD_REQUEST,
            CheckoutError::NotFound(_) => StatusCode::NOT_FOUND,
            CheckoutError::Internal(..) | CheckoutError::Render(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let lang = self.lang();
        let t = lang.texts();
        let (heading, message) = match self {
            CheckoutError::Entry(_, e) => (t.error_heading, lang.entry_error(e)),
            CheckoutError::NotFound(_) => (t.not_found, t.not_found_text.to_owned()),
            CheckoutError::BadForm(_) => (t.error_heading, t.bad_form.to_owned()),
            CheckoutError::Internal(..) | CheckoutError::Render(..) => {
                tracing::error!(error = %self, "checkout failed");
                (t.error_heading, t.internal_error.to_owned())
            }
        };
        let body = ErrorPage { t, heading, message }.render().unwrap_or_else(|_| t.internal_error.to_owned());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}
