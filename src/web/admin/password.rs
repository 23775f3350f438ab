//! An admin's own password: chosen at the next sign-in after another admin reset it (the
//! session stays at the password stage until then, after the TOTP code), or changed at will.
//! The rules are the merchant account's.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::session::{self, Admin, page, session_of};
use super::{AdminError, audit, html, render};
use crate::db::StoreError;
use crate::db::schema::{account_sessions, users};
use crate::gateway::setup::hash_password;
use crate::startup::AppState;
use crate::web::account::Stage;
use crate::web::account::login::{MIN_PASSWORD, verify};
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

#[derive(Deserialize)]
pub struct PasswordChange {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
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
    if form.new.chars().count() < MIN_PASSWORD || form.new.len() > 1024 {
        return refuse(admin, "The new password must have at least 12 characters.");
    }
    if form.new != form.repeat {
        return refuse(admin, "The two new passwords differ.");
    }
    if form.new == form.current {
        return refuse(admin, "The new password must differ from the current one.");
    }
    let id = admin.user_id.clone();
    let hash: String = state
        .gateway
        .store
        .read(move |c| users::table.find(id).select(users::password_hash).first(c).map_err(StoreError::from))
        .await?;
    if !verify(&protection, form.current, Some(hash)).await? {
        return refuse(admin, "The current password is wrong.");
    }
    let new = form.new;
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|_| AdminError::Internal)?
        .map_err(|_| AdminError::Internal)?;
    let (id, keep) = (admin.user_id.clone(), admin.session_hash.clone());
    state
        .gateway
        .store
        .write(move |c| {
            diesel::update(users::table.find(&id))
                .set((users::password_hash.eq(new_hash), users::must_change_password.eq(false)))
                .execute(c)?;
            // Whoever else held the old password loses their sessions; this one stays.
            diesel::delete(
                account_sessions::table
                    .filter(account_sessions::user_id.eq(&id))
                    .filter(account_sessions::id_hash.ne(keep)),
            )
            .execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await?;
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
