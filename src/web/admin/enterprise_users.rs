//! An enterprise's account users from the admin area (`/admin/enterprises/<id>/users`): the
//! same pages and changes as the account's users page ([`crate::web::users`]), for any
//! enterprise, audited with the admin as the actor.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AdminError;
use super::session::signed_in;
use crate::startup::AppState;
use crate::web::users::{self, Manager};

async fn manager(req: &HttpRequest, state: &AppState, enterprise: &str) -> Result<Manager, AdminError> {
    let admin = signed_in(req, state).await?;
    Ok(Manager::admin(state, admin, enterprise).await?)
}

#[derive(serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

pub async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let m = manager(&req, &state, &path).await?;
    Ok(users::list(&state, m, query.done.as_deref()).await?)
}

pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let m = manager(&req, &state, &path).await?;
    Ok(users::create(&state, m, &form).await?)
}

pub async fn require_totp(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let m = manager(&req, &state, &path).await?;
    Ok(users::require_totp(&state, m, &form).await?)
}

pub async fn edit_form(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let (enterprise, id) = path.into_inner();
    let m = manager(&req, &state, &enterprise).await?;
    Ok(users::edit_form(&state, m, id, query.done.as_deref()).await?)
}

pub async fn edit(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let (enterprise, id) = path.into_inner();
    let m = manager(&req, &state, &enterprise).await?;
    Ok(users::edit(&state, m, id, &form).await?)
}

/// `reset-password`, `lock`, `unlock`, `delete`, `reset-totp` on one user of the enterprise.
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AdminError> {
    let (enterprise, id, action) = path.into_inner();
    let m = manager(&req, &state, &enterprise).await?;
    Ok(users::act(&state, m, id, &action, &form).await?)
}
