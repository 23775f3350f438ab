//! Kassa's public signing key (`/account/signing-key`), for managers: in signature mode the
//! merchant verifies the `signature` of Kassa's answers and notifications with it.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AccountError;
use super::login::{html, render};
use super::session::{Account, signed_in};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "account/signing_key.html")]
struct SigningKeyPage {
    account: Account,
    fingerprint: String,
    public_pem: String,
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    if !account.is_manager() {
        return Err(AccountError::Forbidden);
    }
    let key = state.gateway.signing_key().await.map_err(|e| {
        tracing::error!(error = %e, "account: no signing key");
        AccountError::Internal
    })?;
    let page =
        SigningKeyPage { account, fingerprint: key.fingerprint().to_owned(), public_pem: key.public_pem().to_owned() };
    Ok(html(render(&page)?))
}
