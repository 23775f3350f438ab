//! Admin sign-in: password, then a TOTP code, which is mandatory. An admin without TOTP enrols
//! first (the QR code is drawn on the server). Lockout, the one refusal text, argon2 off the
//! async threads and the login CSRF cookie are the merchant account's, shared.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::session::{self, Admin, page, session_of, signed_in_at};
use super::{AdminError, CsrfOnly, audit, html, render};
use crate::db::StoreError;
use crate::db::models::User;
use crate::db::schema::users;
use crate::startup::AppState;
use crate::web::account::Stage;
use crate::web::account::lockout::{claim, clear_failures, release};
use crate::web::account::login::{REFUSED, verify};
use crate::web::account::session::{KIND_ADMIN, advance_hash, constant_eq, end, login_form, random_token, start_kind};
use crate::web::account::two_factor::accept_code;
use crate::web::protection::{Protection, client_ip};
use crate::web::totp;

const LOGIN_CSRF_COOKIE: &str = "kassa_admin_login_csrf";
const WRONG_CODE: &str = "The code is wrong or was already used. Wait for the next one and try again.";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
    login: String,
}

fn login_page(state: &AppState, error: Option<&'static str>, login: String) -> Result<HttpResponse, AdminError> {
    let csrf = random_token();
    let body = render(&LoginPage { csrf: csrf.clone(), error, login })?;
    Ok(login_form(state, LOGIN_CSRF_COOKIE, "/admin/login", SameSite::Strict, csrf, body, error.is_some()))
}

pub async fn form(state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    login_page(&state, None, String::new())
}

#[derive(Deserialize)]
pub struct SignIn {
    login: String,
    password: String,
    csrf: String,
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
    form: web::Form<SignIn>,
) -> Result<HttpResponse, AdminError> {
    let form = form.into_inner();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !constant_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(AdminError::Csrf);
    }
    if let Some(ip) = client_ip(&req) {
        protection.sign_ins.check(&format!("admin:{ip}")).map_err(|_| AdminError::Limited)?;
    }
    let login = form.login.trim().to_owned();
    if login.is_empty() || login.len() > 64 || form.password.is_empty() || form.password.len() > 1024 {
        return login_page(&state, Some(REFUSED), login);
    }
    let Some(claim) = claim(&state, login.clone()).await? else {
        return login_page(&state, Some(REFUSED), login);
    };
    let lookup = login.clone();
    let found: Option<(User, bool, bool)> = state
        .gateway
        .store
        .read(move |c| {
            let Some(user) = User::by_login(c, &lookup)? else { return Ok(None) };
            let (deleted, totp): (Option<time::PrimitiveDateTime>, bool) =
                users::table.find(&user.id).select((users::deleted_at, users::totp_enabled)).first(c)?;
            Ok::<_, StoreError>(Some((user, deleted.is_some(), totp)))
        })
        .await?;
    // Only admins sign in here; a merchant user is refused like a wrong password.
    let found = found.filter(|(u, deleted, _)| u.role == "admin" && u.active && !deleted);
    let hash = found.as_ref().map(|(u, ..)| u.password_hash.clone());
    let ok = verify(&protection, form.password, hash).await?;
    let (Some((user, _, totp_on)), true) = (found, ok) else {
        return login_page(&state, Some(REFUSED), login);
    };
    // The failure count is cleared only once the code is right too.
    release(&state, claim).await?;
    let stage = if totp_on { Stage::Totp } else { Stage::Enroll };
    let previous = session::token(&req);
    let ip = client_ip(&req);
    let token = state.gateway.store.write(move |c| start_kind(c, KIND_ADMIN, &user.id, stage, ip, previous)).await?;
    let mut clear = Cookie::new(LOGIN_CSRF_COOKIE, "");
    clear.set_path("/admin/login");
    clear.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", page(stage)))
        .cookie(session::cookie(&state, token))
        .cookie(clear)
        .finish())
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AdminError> {
    let admin = session_of(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    if let Some(token) = session::token(&req) {
        end(&state, token).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/admin/login"))
        .cookie(session::removal_cookie(&state))
        .finish())
}

#[derive(Template)]
#[template(path = "admin/totp_step.html")]
struct StepPage {
    admin: Admin,
    error: Option<&'static str>,
}

pub async fn step_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in_at(&req, &state, Stage::Totp).await?;
    Ok(html(render(&StepPage { admin, error: None })?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// Into the admin area under a fresh session id, or first to a new password after another
/// admin's reset; the login's failure count is cleared.
async fn finish(state: &AppState, admin: &Admin) -> Result<HttpResponse, AdminError> {
    let (login, user) = (admin.login.clone(), admin.user_id.clone());
    let must_change = state
        .gateway
        .store
        .write(move |c| {
            clear_failures(c, &login)?;
            users::table.find(&user).select(users::must_change_password).first::<bool>(c).map_err(StoreError::from)
        })
        .await?;
    let stage = if must_change { Stage::Password } else { Stage::Full };
    let token = advance_hash(state, admin.session_hash.clone(), stage).await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", page(stage))).cookie(session::cookie(state, token)).finish())
}

pub async fn step_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in_at(&req, &state, Stage::Totp).await?;
    admin.check_csrf(&form.csrf)?;
    if claim(&state, admin.login.clone()).await?.is_none() {
        end(&state, session::token(&req).unwrap_or_default()).await?;
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/admin/login"))
            .cookie(session::removal_cookie(&state))
            .finish());
    }
    if !accept_code(&state.gateway.store, &admin.user_id, &form.code, false).await? {
        let body = render(&StepPage { admin, error: Some(WRONG_CODE) })?;
        return Ok(HttpResponse::Unauthorized().content_type("text/html; charset=utf-8").body(body));
    }
    audit(&state, &admin, None, "admin.sign_in", json!({})).await;
    finish(&state, &admin).await
}

#[derive(Template)]
#[template(path = "admin/totp_setup.html")]
struct EnrolPage {
    admin: Admin,
    secret: String,
    qr: String,
    error: Option<&'static str>,
}

/// The enrolment page: a pending secret is kept until confirmed, so a reload shows the same QR.
async fn enrol_page(state: &AppState, admin: Admin, error: Option<&'static str>) -> Result<String, AdminError> {
    let (user, fresh) = (admin.user_id.clone(), totp::new_secret());
    let secret: Option<String> = state
        .gateway
        .store
        .write(move |c| {
            diesel::update(users::table.find(&user).filter(users::totp_secret.is_null()))
                .set((users::totp_secret.eq(fresh), users::totp_last_step.eq(None::<i64>)))
                .execute(c)?;
            users::table.find(&user).select(users::totp_secret).first(c).map_err(StoreError::from)
        })
        .await?;
    let secret = secret.ok_or(AdminError::Internal)?;
    let svg = totp::qr_svg(&totp::uri("Kassa admin", &admin.login, &secret)).ok_or(AdminError::Internal)?;
    let qr = svg.find("<svg").map(|i| svg[i..].to_owned()).unwrap_or(svg);
    render(&EnrolPage { admin, secret, qr, error })
}

pub async fn enrol_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in_at(&req, &state, Stage::Enroll).await?;
    Ok(html(enrol_page(&state, admin, None).await?))
}

pub async fn enrol_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in_at(&req, &state, Stage::Enroll).await?;
    admin.check_csrf(&form.csrf)?;
    if !accept_code(&state.gateway.store, &admin.user_id, &form.code, true).await? {
        let body = enrol_page(&state, admin, Some(WRONG_CODE)).await?;
        return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
    }
    audit(&state, &admin, None, "admin.totp_enable", json!({ "user": admin.login })).await;
    finish(&state, &admin).await
}
