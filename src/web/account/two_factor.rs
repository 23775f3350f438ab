//! TOTP two-factor sign-in: the code step after the password, and setting it up or turning it
//! off for oneself. A wrong code counts as a failed sign-in of the login (ten lock it), and a
//! code is accepted once ([`totp::verify`] with the last accepted step, stored by a
//! conditional update so two racing submits of one code cannot both pass).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::AccountError;
use super::lockout::{claim, clear_failures};
use super::login::{html, next_stage, render};
use super::session::{self, Account, Stage, advance, session_of, signed_in_at};
use crate::db::models::UserId;
use crate::db::schema::{enterprises, users};
use crate::db::{Store, StoreError};
use crate::startup::AppState;
use crate::web::totp;

const WRONG_CODE: &str = "The code is wrong or was already used. Wait for the next one and try again.";

#[derive(Template)]
#[template(path = "account/totp_step.html")]
struct StepPage {
    account: Account,
    error: Option<&'static str>,
}

pub async fn step_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in_at(&req, &state, Stage::Totp).await?;
    Ok(html(render(&StepPage { account, error: None })?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// The user's secret, whether it is on, the last accepted step, and whether the enterprise
/// requires TOTP.
type TotpRow = (Option<String>, bool, Option<i64>, bool);

async fn totp_row(state: &AppState, user: &UserId) -> Result<TotpRow, AccountError> {
    let user = user.clone();
    Ok(state
        .gateway
        .store
        .read(move |c| {
            users::table
                .inner_join(enterprises::table.on(users::enterprise_id.eq(enterprises::id.nullable())))
                .filter(users::id.eq(user))
                .select((users::totp_secret, users::totp_enabled, users::totp_last_step, enterprises::require_totp))
                .first(c)
                .map_err(StoreError::from)
        })
        .await?)
}

/// Checks `code` against the user's TOTP secret and, if right, stores its step so it cannot be
/// used again; `enable` also turns TOTP on (setting it up). The conditional update lets two
/// racing submits of one code pass at most once. Shared by the account's and the admin area's
/// sign-in. Answers whether the code was accepted.
pub(crate) async fn accept_code(store: &Store, user: &UserId, code: &str, enable: bool) -> Result<bool, StoreError> {
    let lookup = user.clone();
    let (secret, last): (Option<String>, Option<i64>) = store
        .read(move |c| {
            users::table
                .find(lookup)
                .select((users::totp_secret, users::totp_last_step))
                .first(c)
                .map_err(StoreError::from)
        })
        .await?;
    let Some(secret) = secret else { return Ok(false) };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let Some(step) = totp::verify(&secret, code, now, last) else { return Ok(false) };
    let user = user.clone();
    store
        .write(move |c| {
            let target = users::table
                .filter(users::id.eq(user))
                .filter(users::totp_secret.eq(secret))
                .filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step)));
            let n = if enable {
                diesel::update(target).set((users::totp_last_step.eq(step), users::totp_enabled.eq(true))).execute(c)?
            } else {
                diesel::update(target).set(users::totp_last_step.eq(step)).execute(c)?
            };
            Ok(n == 1)
        })
        .await
}

pub async fn step_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in_at(&req, &state, Stage::Totp).await?;
    account.check_csrf(&form.csrf)?;
    // The code is counted before it is checked, like a password (see `lockout`).
    if claim(&state, account.login.clone()).await?.is_none() {
        // Ten wrong codes lock the login like ten wrong passwords: the half-open session ends.
        session::end(&state, req.cookie(session::COOKIE).map(|c| c.value().to_owned()).unwrap_or_default()).await?;
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/account/login"))
            .cookie(session::removal_cookie(&state))
            .finish());
    }
    if !accept_code(&state.gateway.store, &account.user_id, &form.code, false).await? {
        let body = render(&StepPage { account, error: Some(WRONG_CODE) })?;
        return Ok(HttpResponse::Unauthorized().content_type("text/html; charset=utf-8").body(body));
    }
    let (user, login) = (account.user_id.clone(), account.login.clone());
    let next = state
        .gateway
        .store
        .write(move |c| {
            clear_failures(c, &login)?;
            next_stage(c, &user, true)
        })
        .await?;
    let token = advance(&state, &account, next).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", next.page()))
        .cookie(session::cookie(&state, token))
        .finish())
}

#[derive(Template)]
#[template(path = "account/totp_setup.html")]
struct SetupPage {
    account: Account,
    enabled: bool,
    required: bool,
    /// Set up before going on: the enterprise requires TOTP.
    enrolling: bool,
    secret: String,
    qr: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// The open session, or one that must set up TOTP before anything else.
async fn setup_session(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let account = session_of(req, state).await?;
    match account.stage {
        Stage::Full | Stage::Enroll => Ok(account),
        other => Err(AccountError::Step(other.page())),
    }
}

async fn setup_page(
    state: &AppState,
    account: Account,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<String, AccountError> {
    let (secret, enabled, _, required) = totp_row(state, &account.user_id).await?;
    let secret = match (secret, enabled) {
        (Some(s), _) => s,
        (None, true) => return Err(AccountError::Internal),
        // A pending secret is kept until it is confirmed, so a reload shows the same QR code.
        (None, false) => {
            let (user, fresh) = (account.user_id.clone(), totp::new_secret());
            let stored = fresh.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(users::table.find(user).filter(users::totp_secret.is_null()))
                        .set((users::totp_secret.eq(stored), users::totp_last_step.eq(None::<i64>)))
                        .execute(c)
                        .map_err(StoreError::from)
                })
                .await?;
            let (secret, ..) = totp_row(state, &account.user_id).await?;
            secret.unwrap_or(fresh)
        }
    };
    let (qr, secret) = if enabled {
        (String::new(), String::new())
    } else {
        let uri = totp::uri("Kassa", &account.login, &secret);
        let svg = totp::qr_svg(&uri).ok_or(AccountError::Internal)?;
        // Inline in HTML: the XML declaration before `<svg` has no place there.
        let svg = svg.find("<svg").map(|i| svg[i..].to_owned()).unwrap_or(svg);
        (svg, secret)
    };
    let enrolling = account.stage == Stage::Enroll;
    render(&SetupPage { account, enabled, required, enrolling, secret, qr, notice, error })
}

pub async fn setup_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = setup_session(&req, &state).await?;
    Ok(html(setup_page(&state, account, None, None).await?))
}

/// Turns TOTP on once the user typed a code of the shown secret.
pub async fn setup_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AccountError> {
    let account = setup_session(&req, &state).await?;
    account.check_csrf(&form.csrf)?;
    if !accept_code(&state.gateway.store, &account.user_id, &form.code, true).await? {
        let body = setup_page(&state, account, None, Some(WRONG_CODE)).await?;
        return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
    }
    super::audit(&state, &account, None, None, "account.totp_enable", "ok", json!({ "user": account.login })).await;
    if account.stage == Stage::Enroll {
        let token = advance(&state, &account, Stage::Full).await?;
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", Stage::Full.page()))
            .cookie(session::cookie(&state, token))
            .finish());
    }
    Ok(html(setup_page(&state, account, Some("Two-factor sign-in is on."), None).await?))
}

/// Turns TOTP off with a current code, unless the enterprise requires it.
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in_at(&req, &state, Stage::Full).await?;
    account.check_csrf(&form.csrf)?;
    let (_, enabled, _, required) = totp_row(&state, &account.user_id).await?;
    if required {
        return Err(AccountError::BadRequest("Your enterprise requires two-factor sign-in.".into()));
    }
    if !enabled || !accept_code(&state.gateway.store, &account.user_id, &form.code, false).await? {
        let body = setup_page(&state, account, None, Some(WRONG_CODE)).await?;
        return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
    }
    let user = account.user_id.clone();
    state
        .gateway
        .store
        .write(move |c| {
            diesel::update(users::table.find(user))
                .set((users::totp_enabled.eq(false), users::totp_secret.eq(None::<String>)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await?;
    super::audit(&state, &account, None, None, "account.totp_disable", "ok", json!({ "user": account.login })).await;
    Ok(html(setup_page(&state, account, Some("Two-factor sign-in is off."), None).await?))
}
