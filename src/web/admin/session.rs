//! Admin sessions: rows of `account_sessions` with `kind = 'admin'`, named by the `kassa_admin`
//! cookie (path `/admin`), held only by users with the `admin` role. The same idle and absolute
//! limits, fresh ids at every stage and CSRF token per session as the merchant account.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::AdminError;
use crate::db::models::UserId;
use crate::db::schema::{account_sessions, users};
use crate::db::{self, StoreError};
use crate::startup::AppState;
use crate::web::account::Stage;
use crate::web::account::session::{ABSOLUTE, IDLE, KIND_ADMIN, constant_eq, end, hash_token, private_cookie};

pub const COOKIE: &str = "kassa_admin";
const TOUCH_EVERY: time::Duration = time::Duration::seconds(30);

/// The page a session at this stage may see. TOTP is mandatory, so a new admin enrols first and
/// every later sign-in asks for a code; after another admin's reset comes the new password.
pub fn page(stage: Stage) -> &'static str {
    match stage {
        Stage::Totp => "/admin/login/totp",
        Stage::Enroll => "/admin/totp",
        Stage::Password => "/admin/password",
        Stage::Full => "/admin",
    }
}

/// The signed-in platform admin of a request.
#[derive(Debug, Clone)]
pub struct Admin {
    pub session_hash: String,
    pub user_id: UserId,
    pub login: String,
    pub stage: Stage,
    pub csrf: String,
    pub ip: Option<String>,
}

impl Admin {
    pub fn check_csrf(&self, token: &str) -> Result<(), AdminError> {
        if constant_eq(token.as_bytes(), self.csrf.as_bytes()) { Ok(()) } else { Err(AdminError::Csrf) }
    }
}

pub fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    private_cookie(state, COOKIE, "/admin", SameSite::Strict, value)
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

pub fn token(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 64)
}

/// A fully signed-in admin, or the way to the sign-in step still missing.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Admin, AdminError> {
    let admin = session_of(req, state).await?;
    match admin.stage {
        Stage::Full => Ok(admin),
        stage => Err(AdminError::Step(page(stage))),
    }
}

/// The session at exactly `stage` (the pages of a sign-in step).
pub async fn signed_in_at(req: &HttpRequest, state: &AppState, stage: Stage) -> Result<Admin, AdminError> {
    let admin = session_of(req, state).await?;
    if admin.stage == stage { Ok(admin) } else { Err(AdminError::Step(page(admin.stage))) }
}

type Row = (String, PrimitiveDateTime, PrimitiveDateTime, String, UserId, String, String, bool);

/// The admin of the session named by the cookie, at whatever stage. A session that expired, or
/// whose user is no longer an active admin, is deleted here.
pub async fn session_of(req: &HttpRequest, state: &AppState) -> Result<Admin, AdminError> {
    let Some(token) = token(req) else { return Err(AdminError::SignIn) };
    let hash = hash_token(&token);
    let lookup = hash.clone();
    let row: Option<Row> = state
        .gateway
        .store
        .read(move |c| {
            account_sessions::table
                .inner_join(users::table)
                .filter(account_sessions::id_hash.eq(lookup))
                .filter(account_sessions::kind.eq(KIND_ADMIN))
                .filter(users::deleted_at.is_null())
                .select((
                    account_sessions::csrf_token,
                    account_sessions::created_at,
                    account_sessions::last_seen_at,
                    account_sessions::stage,
                    users::id,
                    users::login,
                    users::role,
                    users::active,
                ))
                .first(c)
                .optional()
                .map_err(StoreError::from)
        })
        .await?;
    let Some((csrf, created, seen, stage, user_id, login, role, active)) = row else {
        return Err(AdminError::SignIn);
    };
    let now = db::now();
    if now - seen > IDLE || now - created > ABSOLUTE || role != "admin" || !active {
        end(state, token).await?;
        return Err(AdminError::SignIn);
    }
    if now - seen > TOUCH_EVERY {
        let h = hash.clone();
        state
            .gateway
            .store
            .write(move |c| {
                diesel::update(account_sessions::table.find(h))
                    .set(account_sessions::last_seen_at.eq(now))
                    .execute(c)
                    .map_err(StoreError::from)
            })
            .await?;
    }
    Ok(Admin {
        session_hash: hash,
        user_id,
        login,
        stage: Stage::parse(&stage),
        csrf,
        ip: crate::web::protection::client_ip(req),
    })
}
