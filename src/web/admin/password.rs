//! An admin's own password: chosen at the next sign-in after another admin reset it (the
//! session stays at the password stage until then, after the TOTP code), or changed at will.
//! The rules are the merchant account's.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::json;

use super::session::{self, Admin, page, session_of};
use super::{AdminError, audit, html, render};
use crate::startup::AppState;
use crate::web::account::Stage;
use crate::web::account::login::{PasswordChange, change_password};
use crate::web::account::session::advance_hash;
use crate::web::protection::Protection;

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    admin: Admin,
    message: Option<&'static str>,
    done: bool,
}

/// The session of the password page: fully signed in, or made to choose a new password first.
async fn password_session(req: &HttpRequest, state: &AppState) -> Result<Admin, AdminError> {
    let admin = session_of(req, state).await?;
    match admin.stage {
        Stage::Full | Stage::Password => Ok(admin),
        other => Err(AdminError::Step(page(other))),
    }
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = password_session(&req, &state).await?;
    Ok(html(render(&PasswordPage { admin, message: None, done: false })?))
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
    form: web::Form<PasswordChange>,
) -> Result<HttpResponse, AdminError> {
    let admin = password_session(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let refuse = |admin: Admin, message: &'static str| -> Result<HttpResponse, AdminError> {
        let body = render(&PasswordPage { admin, message: Some(message), done: false })?;
        Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body))
    };
    let changed = change_password(&state, &protection, &admin.user_id, &admin.session_hash, form, |_| Ok(())).await?;
    if let Err(message) = changed {
        return refuse(admin, message);
    }
    audit(&state, &admin, None, "admin.password_change", json!({ "user": admin.login })).await;
    if admin.stage == Stage::Password {
        // Into the admin area under a fresh session id.
        let token = advance_hash(&state, admin.session_hash.clone(), Stage::Full).await?;
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/admin"))
            .cookie(session::cookie(&state, token))
            .finish());
    }
    Ok(html(render(&PasswordPage { admin, message: None, done: true })?))
}
