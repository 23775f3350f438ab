//! Sign-in, logout and password change.
//!
//! Failed sign-ins are counted per login in `account_sign_ins` whether or not the login exists
//! (see [`super::lockout`]), and every refusal shows the same message, so neither the answer nor the lock tells an
//! attacker which logins exist. Unknown logins cost one argon2 verification like known ones.

use std::sync::OnceLock;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::AccountError;
use super::lockout::{claim, release};
use super::session::{self, Account, Stage, advance, constant_eq, random_token, session_of};
use crate::db::models::{User, UserId};
use crate::db::schema::{account_sessions, account_sign_ins, enterprises, users};
use crate::db::{AnyConnection, StoreError};
use crate::gateway::setup::{hash_password, verify_password};
use crate::startup::AppState;
use crate::web::protection::{Protection, client_ip};

pub const MIN_PASSWORD: usize = 12;
const LOGIN_CSRF_COOKIE: &str = "kassa_login_csrf";
/// The one refusal text.
pub const REFUSED: &str = "Sign-in failed: wrong login or password, or too many attempts. Try again later.";

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    csrf: String,
    error: Option<&'static str>,
    login: String,
}

pub(crate) fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

pub(crate) fn render(t: &impl Template) -> Result<String, AccountError> {
    t.render().map_err(|e| {
        tracing::error!(error = %e, "account: template");
        AccountError::Internal
    })
}

/// The sign-in form.
fn login_page(state: &AppState, error: Option<&'static str>, login: String) -> Result<HttpResponse, AccountError> {
    let csrf = random_token();
    let body = render(&LoginPage { csrf: csrf.clone(), error, login })?;
    Ok(session::login_form(state, LOGIN_CSRF_COOKIE, "/account/login", SameSite::Lax, csrf, body, error.is_some()))
}

pub async fn form(state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    login_page(&state, None, String::new())
}

#[derive(Deserialize)]
pub struct SignIn {
    login: String,
    password: String,
    csrf: String,
}

fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("kassa-account-no-such-user").unwrap_or_default())
}

/// Verifies off the async threads, at most a few at once (each takes 19 MiB and a core).
pub(crate) async fn verify(
    protection: &Protection,
    password: String,
    hash: Option<String>,
) -> Result<bool, AccountError> {
    let _permit = protection.verifications.acquire().await.map_err(|_| AccountError::Internal)?;
    tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, hash.as_deref().unwrap_or_else(|| dummy_hash()));
        ok && hash.is_some()
    })
    .await
    .map_err(|_| AccountError::Internal)
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
    form: web::Form<SignIn>,
) -> Result<HttpResponse, AccountError> {
    let form = form.into_inner();
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if expected.is_empty() || !constant_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(AccountError::Csrf);
    }
    if let Some(ip) = client_ip(&req) {
        protection.sign_ins.check(&format!("account:{ip}")).map_err(|_| AccountError::Limited)?;
    }
    let login = form.login.trim().to_owned();
    if login.is_empty() || login.len() > 64 || form.password.is_empty() || form.password.len() > 1024 {
        return login_page(&state, Some(REFUSED), login);
    }
    // Counted before the password is looked at, so a locked login is refused without it and a
    // burst of guesses gets no more than the lock allows.
    let Some(claim) = claim(&state, login.clone()).await? else {
        return login_page(&state, Some(REFUSED), login);
    };
    let lookup = login.clone();
    let (user, deleted) = state
        .gateway
        .store
        .read(move |c| {
            let user = User::by_login(c, &lookup)?;
            let deleted = match &user {
                Some(u) => users::table
                    .find(&u.id)
                    .select(users::deleted_at)
                    .first::<Option<time::PrimitiveDateTime>>(c)?
                    .is_some(),
                None => false,
            };
            Ok::<_, StoreError>((user, deleted))
        })
        .await?;
    let user = user.filter(|u| u.role == "merchant" && u.active && u.enterprise_id.is_some() && !deleted);
    let ok = verify(&protection, form.password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    let (Some(user), true) = (user, ok) else {
        return login_page(&state, Some(REFUSED), login);
    };
    release(&state, claim).await?;
    let previous = req.cookie(session::COOKIE).map(|c| c.value().to_owned());
    let ip = client_ip(&req);
    let user_id = user.id.clone();
    let token = state
        .gateway
        .store
        .write(move |c| {
            // The failure count is cleared only once the whole sign-in (with TOTP) succeeds.
            let stage = next_stage(c, &user_id, false)?;
            if stage != Stage::Totp {
                diesel::delete(account_sign_ins::table.find(&login)).execute(c)?;
            }
            Ok::<_, StoreError>((session::start(c, &user_id, stage, ip, previous)?, stage))
        })
        .await?;
    let (token, stage) = token;
    let mut clear = Cookie::new(LOGIN_CSRF_COOKIE, "");
    clear.set_path("/account/login");
    clear.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", stage.page()))
        .cookie(session::cookie(&state, token))
        .cookie(clear)
        .finish())
}

/// The first step a user still has to take at sign-in: the TOTP code (unless `totp_passed`), a
/// new password after a manager's reset, TOTP enrolment when the enterprise requires it.
pub(super) fn next_stage(c: &mut AnyConnection, user: &UserId, totp_passed: bool) -> Result<Stage, StoreError> {
    let (totp, must_change, required): (bool, bool, bool) = users::table
        .inner_join(enterprises::table.on(users::enterprise_id.eq(enterprises::id.nullable())))
        .filter(users::id.eq(user))
        .select((users::totp_enabled, users::must_change_password, enterprises::require_totp))
        .first(c)?;
    Ok(if totp && !totp_passed {
        Stage::Totp
    } else if must_change {
        Stage::Password
    } else if required && !totp {
        Stage::Enroll
    } else {
        Stage::Full
    })
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AccountError> {
    let account = session_of(&req, &state).await?;
    account.check_csrf(&form.csrf)?;
    if let Some(c) = req.cookie(session::COOKIE) {
        session::end(&state, c.value().to_owned()).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/account/login"))
        .cookie(session::removal_cookie(&state))
        .finish())
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    account: Account,
    message: Option<String>,
    done: bool,
}

/// The session of the password pages: open, or made to choose a new password first.
async fn password_session(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let account = session_of(req, state).await?;
    match account.stage {
        Stage::Full | Stage::Password => Ok(account),
        other => Err(AccountError::Step(other.page())),
    }
}

pub async fn password_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = password_session(&req, &state).await?;
    Ok(html(render(&PasswordPage { account, message: None, done: false })?))
}

#[derive(Deserialize)]
pub struct PasswordChange {
    pub(crate) csrf: String,
    current: String,
    new: String,
    repeat: String,
}

/// A user's own password change, for the account and the admin area: checks the form (length,
/// the repeat, a new password, the current one right), stores the new hash and ends the user's
/// other sessions, running `then` in the same transaction. `Ok(Err(message))` when refused, the
/// message for the person.
pub(crate) async fn change_password<T: Send + 'static>(
    state: &AppState,
    protection: &Protection,
    user: &UserId,
    keep_session: &str,
    form: PasswordChange,
    then: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
) -> Result<Result<T, &'static str>, AccountError> {
    if form.new.chars().count() < MIN_PASSWORD || form.new.len() > 1024 {
        return Ok(Err("The new password must have at least 12 characters."));
    }
    if form.new != form.repeat {
        return Ok(Err("The two new passwords differ."));
    }
    if form.new == form.current {
        return Ok(Err("The new password must differ from the current one."));
    }
    let id = user.clone();
    let hash: String = state
        .gateway
        .store
        .read(move |c| users::table.find(id).select(users::password_hash).first(c).map_err(StoreError::from))
        .await?;
    if !verify(protection, form.current, Some(hash)).await? {
        return Ok(Err("The current password is wrong."));
    }
    let new = form.new;
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|_| AccountError::Internal)?
        .map_err(|_| AccountError::Internal)?;
    let (id, keep) = (user.clone(), keep_session.to_owned());
    let done = state
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
            then(c)
        })
        .await?;
    Ok(Ok(done))
}

pub async fn password_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
    form: web::Form<PasswordChange>,
) -> Result<HttpResponse, AccountError> {
    let account = password_session(&req, &state).await?;
    account.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let refuse = |account: Account, message: &str| -> Result<HttpResponse, AccountError> {
        let body = render(&PasswordPage { account, message: Some(message.to_owned()), done: false })?;
        Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body))
    };
    let id = account.user_id.clone();
    let changed = change_password(&state, &protection, &account.user_id, &account.session_hash, form, move |c| {
        next_stage(c, &id, true)
    })
    .await?;
    let next = match changed {
        Ok(next) => next,
        Err(message) => return refuse(account, message),
    };
    super::audit(&state, &account, None, None, "account.password_change", "ok", serde_json::json!({})).await;
    if account.stage == Stage::Password {
        // The sign-in goes on (to TOTP enrolment, or into the account) under a fresh id.
        let token = advance(&state, &account, next).await?;
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", next.page()))
            .cookie(session::cookie(&state, token))
            .finish());
    }
    Ok(html(render(&PasswordPage { account, message: None, done: true })?))
}
