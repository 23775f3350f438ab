//! The enterprise's users (`/account/users`), for managers of every merchant. The pages and
//! every change are shared with the admin area: see [`crate::web::users`].

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AccountError;
use super::session::signed_in;
use crate::startup::AppState;
use crate::web::users::{self, Manager};

async fn manager(req: &HttpRequest, state: &AppState) -> Result<Manager, AccountError> {
    let account = signed_in(req, state).await?;
    if account.is_manager() { Ok(Manager::account(account)) } else { Err(AccountError::Forbidden) }
}

#[derive(serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

pub async fn list(
    req: HttpRequest,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    users::list(&state, manager(&req, &state).await?, query.done.as_deref()).await
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    users::create(&state, manager(&req, &state).await?, &form).await
}

pub async fn edit_form(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    users::edit_form(&state, manager(&req, &state).await?, path.into_inner(), query.done.as_deref()).await
}

pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    users::edit(&state, manager(&req, &state).await?, path.into_inner(), &form).await
}

/// `reset-password`, `lock`, `unlock`, `delete`, `reset-totp` on one user.
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    let (id, action) = path.into_inner();
    users::act(&state, manager(&req, &state).await?, id, &action, &form).await
}

pub async fn require_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    users::require_totp(&state, manager(&req, &state).await?, &form).await
}
