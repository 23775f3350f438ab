//! Server-side sessions over the `account_sessions` table.
//!
//! The cookie holds 32 random bytes (hex); the table holds their SHA-256, the user, the CSRF
//! token and two times. A session ends on logout (row deleted), after 15 minutes without a
//! request, or 12 hours after sign-in, whichever comes first.
//!
//! The admin area keeps its sessions in the same table with `kind = 'admin'` (its own cookie,
//! path and users); [`start_kind`], [`advance_hash`], [`end`] and [`sweep`] serve both, and a
//! session of one kind never opens the other surface.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::{Duration, PrimitiveDateTime};

use super::zone::Zone;
use super::{AccountError, Role};
use crate::db::models::{EnterpriseId, MerchantId, UserId};
use crate::db::schema::{account_grants, account_nonces, account_sessions, account_sign_ins, enterprises, users};
use crate::db::{self, AnyConnection, StoreError};
use crate::startup::AppState;

pub const COOKIE: &str = "kassa_account";
pub const IDLE: Duration = Duration::minutes(15);
pub const ABSOLUTE: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often, so reading pages does not write every time.
const TOUCH_EVERY: Duration = Duration::seconds(30);

/// Which merchants of the enterprise a user sees, and with which role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Every merchant, now and later, with one role.
    All(Role),
    /// Only these merchants, each with its own role.
    Listed(Vec<(MerchantId, Role)>),
}

impl Access {
    pub fn role_for(&self, merchant: &MerchantId) -> Option<Role> {
        match self {
            Access::All(role) => Some(*role),
            Access::Listed(grants) => grants.iter().find(|(m, _)| m == merchant).map(|(_, r)| *r),
        }
    }

    /// The merchants a query must be limited to; `None` for all of the enterprise's.
    pub fn merchants(&self) -> Option<Vec<MerchantId>> {
        match self {
            Access::All(_) => None,
            Access::Listed(grants) => Some(grants.iter().map(|(m, _)| m.clone()).collect()),
        }
    }

    /// The highest role held anywhere (what the navigation shows).
    pub fn highest(&self) -> Role {
        match self {
            Access::All(role) => *role,
            Access::Listed(grants) => grants.iter().map(|(_, r)| *r).max().unwrap_or(Role::Viewer),
        }
    }
}

/// How far a session has got through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waits for the TOTP code.
    Totp,
    /// The enterprise requires TOTP and the user has none yet: enrolment first.
    Enroll,
    /// A manager reset the password: a new one first.
    Password,
    Full,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Totp => "totp",
            Stage::Enroll => "enroll",
            Stage::Password => "password",
            Stage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Stage {
        match s {
            "full" => Stage::Full,
            "enroll" => Stage::Enroll,
            "password" => Stage::Password,
            // Unknown text never opens the account.
            _ => Stage::Totp,
        }
    }

    /// The one page a session at this stage may see.
    pub fn page(self) -> &'static str {
        match self {
            Stage::Totp => "/account/login/totp",
            Stage::Enroll => "/account/totp",
            Stage::Password => "/account/password",
            Stage::Full => "/account",
        }
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Account {
    pub session_hash: String,
    pub user_id: UserId,
    pub login: String,
    pub enterprise: EnterpriseId,
    /// The highest role the user holds (shown in the navigation).
    pub role: Role,
    pub access: Access,
    /// An operator's limit per action: minor units and currency.
    pub limit: Option<(i64, String)>,
    pub stage: Stage,
    pub csrf: String,
    pub ip: Option<String>,
    /// The enterprise's time zone: local times and days on every page.
    pub zone: Zone,
}

impl Account {
    /// The sign-in stopped at the password change a manager's reset requires.
    pub fn must_change_password(&self) -> bool {
        self.stage == Stage::Password
    }

    /// May confirm and cancel orders of some merchant.
    pub fn may_act(&self) -> bool {
        self.role >= Role::Operator
    }

    /// May confirm and cancel this merchant's orders.
    pub fn may_act_on(&self, merchant: &MerchantId) -> bool {
        self.access.role_for(merchant).is_some_and(|r| r >= Role::Operator)
    }

    /// Keeps up the settings of at least one merchant.
    pub fn manages_a_merchant(&self) -> bool {
        self.role == Role::Manager
    }

    /// Manages the enterprise's users: a manager of every merchant.
    pub fn is_manager(&self) -> bool {
        self.access == Access::All(Role::Manager)
    }

    /// Whether an action of `amount` (minor units of `currency`) on a `merchant`'s order is
    /// within the user's role and limit. Managers have no limit; an operator's limit is in one
    /// currency and an order in another is beyond it (there is no rate a limit could trust).
    pub fn check_action(&self, merchant: &MerchantId, amount: i64, currency: &str) -> Result<(), AccountError> {
        match self.access.role_for(merchant) {
            Some(Role::Manager) => Ok(()),
            Some(Role::Operator) => match &self.limit {
                None => Ok(()),
                Some((max, cur)) if cur == currency && amount <= *max => Ok(()),
                Some((max, cur)) => Err(AccountError::OverLimit(format!(
                    "This is beyond your limit of {} {cur} per action. Ask a manager to do it.",
                    crate::money::format_minor(*max, cur)
                ))),
            },
            _ => Err(AccountError::Forbidden),
        }
    }

    pub fn check_csrf(&self, token: &str) -> Result<(), AccountError> {
        if constant_eq(token.as_bytes(), self.csrf.as_bytes()) { Ok(()) } else { Err(AccountError::Csrf) }
    }
}

pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A cookie for the server alone (`HttpOnly`), sent back only under `path`, `Secure` when Kassa
/// is reached over https.
pub fn private_cookie(
    state: &AppState,
    name: &'static str,
    path: &'static str,
    same_site: SameSite,
    value: String,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(same_site)
        .secure(state.config.public_url().starts_with("https://"))
        .finish()
}

/// A sign-in form's answer (`body`, 401 when it shows an error), with the form's CSRF token in
/// a cookie of the form's own path: there is no session yet to keep it in.
pub fn login_form(
    state: &AppState,
    csrf_cookie: &'static str,
    path: &'static str,
    same_site: SameSite,
    csrf: String,
    body: String,
    failed: bool,
) -> HttpResponse {
    let status = if failed { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .cookie(private_cookie(state, csrf_cookie, path, same_site, csrf))
        .body(body)
}

/// The session cookie.
pub fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    private_cookie(state, COOKIE, "/account", SameSite::Lax, value)
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, String::new());
    c.set_max_age(CookieDuration::ZERO);
    c
}

#[derive(Insertable)]
#[diesel(table_name = account_sessions)]
struct NewSession {
    id_hash: String,
    user_id: UserId,
    csrf_token: String,
    ip: Option<String>,
    created_at: PrimitiveDateTime,
    last_seen_at: PrimitiveDateTime,
    stage: String,
    kind: String,
}

/// The `kind` of merchant account sessions.
pub const KIND_ACCOUNT: &str = "account";
/// The `kind` of admin area sessions.
pub const KIND_ADMIN: &str = "admin";

/// Starts a new session for `user` at `stage` (a fresh id at every sign-in) and ends
/// `previous`, if any. Answers the cookie value.
pub fn start(
    c: &mut AnyConnection,
    user: &UserId,
    stage: Stage,
    ip: Option<String>,
    previous: Option<String>,
) -> Result<String, StoreError> {
    start_kind(c, KIND_ACCOUNT, user, stage, ip, previous)
}

/// [`start`] for a session of either kind.
pub fn start_kind(
    c: &mut AnyConnection,
    kind: &str,
    user: &UserId,
    stage: Stage,
    ip: Option<String>,
    previous: Option<String>,
) -> Result<String, StoreError> {
    if let Some(prev) = previous {
        diesel::delete(account_sessions::table.find(hash_token(&prev))).execute(c)?;
    }
    let token = random_token();
    let now = db::now();
    let row = NewSession {
        id_hash: hash_token(&token),
        user_id: user.clone(),
        csrf_token: random_token(),
        ip,
        created_at: now,
        last_seen_at: now,
        stage: stage.as_str().into(),
        kind: kind.into(),
    };
    diesel::insert_into(account_sessions::table).values(&row).execute(c)?;
    Ok(token)
}

/// Moves a session to its next stage under a fresh id (the old cookie value opens nothing).
/// Answers the new cookie value.
pub async fn advance(state: &AppState, account: &Account, stage: Stage) -> Result<String, AccountError> {
    advance_hash(state, account.session_hash.clone(), stage).await
}

/// [`advance`] for the session stored under `old` (either kind).
pub async fn advance_hash(state: &AppState, old: String, stage: Stage) -> Result<String, AccountError> {
    let token = random_token();
    let new = hash_token(&token);
    state
        .gateway
        .store
        .write(move |c| {
            diesel::update(account_sessions::table.find(old))
                .set((account_sessions::id_hash.eq(new), account_sessions::stage.eq(stage.as_str())))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await?;
    Ok(token)
}

/// Ends the session with this cookie value (logout).
pub async fn end(state: &AppState, token: String) -> Result<(), AccountError> {
    let hash = hash_token(&token);
    state
        .gateway
        .store
        .write(move |c| {
            diesel::delete(account_nonces::table.filter(account_nonces::session_hash.eq(&hash))).execute(c)?;
            diesel::delete(account_sessions::table.find(&hash)).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(())
}

/// A user's per-merchant roles as stored.
type Grants = Vec<(MerchantId, String)>;

#[derive(Queryable)]
struct SessionRow {
    csrf: String,
    created: PrimitiveDateTime,
    seen: PrimitiveDateTime,
    stage: String,
    user_id: UserId,
    login: String,
    enterprise: Option<EnterpriseId>,
    role: String,
    active: bool,
    scope: String,
    amount_limit: Option<i64>,
    limit_currency: Option<String>,
}

/// The signed-in user with a fully open session, or [`AccountError::SignIn`] (or the way to
/// the step the session still has to take).
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let account = session_of(req, state).await?;
    match account.stage {
        Stage::Full => Ok(account),
        stage => Err(AccountError::Step(stage.page())),
    }
}

/// The session at `stage`: the pages of a sign-in step.
pub async fn signed_in_at(req: &HttpRequest, state: &AppState, stage: Stage) -> Result<Account, AccountError> {
    let account = session_of(req, state).await?;
    if account.stage == stage { Ok(account) } else { Err(AccountError::Step(account.stage.page())) }
}

/// The user of the session named by the cookie, at whatever stage. An expired session is
/// deleted here.
pub async fn session_of(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 64);
    let Some(token) = token else { return Err(AccountError::SignIn) };
    let hash = hash_token(&token);
    let lookup = hash.clone();
    let found: Option<(SessionRow, Grants, Option<String>)> = state
        .gateway
        .store
        .read(move |c| {
            let row: Option<SessionRow> = account_sessions::table
                .inner_join(users::table)
                .filter(account_sessions::id_hash.eq(lookup))
                .filter(account_sessions::kind.eq(KIND_ACCOUNT))
                .filter(users::deleted_at.is_null())
                .select((
                    account_sessions::csrf_token,
                    account_sessions::created_at,
                    account_sessions::last_seen_at,
                    account_sessions::stage,
                    users::id,
                    users::login,
                    users::enterprise_id,
                    users::account_role,
                    users::active,
                    users::merchant_scope,
                    users::amount_limit,
                    users::limit_currency,
                ))
                .first(c)
                .optional()?;
            let Some(row) = row else { return Ok(None) };
            let grants = if row.scope == "listed" {
                account_grants::table
                    .filter(account_grants::user_id.eq(&row.user_id))
                    .select((account_grants::merchant_id, account_grants::role))
                    .load(c)?
            } else {
                Vec::new()
            };
            let zone = match row.enterprise.clone() {
                Some(e) => enterprises::table.find(e).select(enterprises::time_zone).first(c).optional()?,
                None => None,
            };
            Ok::<_, StoreError>(Some((row, grants, zone)))
        })
        .await?;
    let Some((row, grants, zone)) = found else {
        return Err(AccountError::SignIn);
    };
    let now = db::now();
    let expired = now - row.seen > IDLE || now - row.created > ABSOLUTE;
    let (Some(enterprise), false, true) = (row.enterprise, expired, row.active) else {
        end(state, token).await?;
        return Err(AccountError::SignIn);
    };
    if now - row.seen > TOUCH_EVERY {
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
    let access = if row.scope == "listed" {
        Access::Listed(grants.into_iter().map(|(m, r)| (m, Role::parse(&r))).collect())
    } else {
        Access::All(Role::parse(&row.role))
    };
    Ok(Account {
        session_hash: hash,
        user_id: row.user_id,
        login: row.login,
        enterprise,
        role: access.highest(),
        access,
        limit: row.amount_limit.zip(row.limit_currency),
        stage: Stage::parse(&row.stage),
        csrf: row.csrf,
        ip: crate::web::protection::client_ip(req),
        zone: zone.as_deref().map(Zone::stored).unwrap_or_default(),
    })
}

/// A one-time nonce for a rendered money form.
pub async fn issue_nonce(state: &AppState, account: &Account) -> Result<String, AccountError> {
    let nonce = random_token();
    let row = (
        account_nonces::nonce.eq(nonce.clone()),
        account_nonces::session_hash.eq(account.session_hash.clone()),
        account_nonces::created_at.eq(db::now()),
    );
    state
        .gateway
        .store
        .write(move |c| {
            // Forms older than the absolute session lifetime can never be submitted.
            diesel::delete(account_nonces::table.filter(account_nonces::created_at.lt(db::now() - ABSOLUTE)))
                .execute(c)?;
            diesel::insert_into(account_nonces::table).values(row).execute(c).map_err(StoreError::from)
        })
        .await?;
    Ok(nonce)
}

/// Uses up the nonce; `false` when it was already used (a second submit) or never issued to
/// this session. The delete is atomic, so of two concurrent submits exactly one gets `true`.
pub async fn take_nonce(state: &AppState, account: &Account, nonce: &str) -> Result<bool, AccountError> {
    let (nonce, session) = (nonce.to_owned(), account.session_hash.clone());
    let n = state
        .gateway
        .store
        .write(move |c| {
            diesel::delete(
                account_nonces::table
                    .filter(account_nonces::nonce.eq(nonce))
                    .filter(account_nonces::session_hash.eq(session)),
            )
            .execute(c)
            .map_err(StoreError::from)
        })
        .await?;
    Ok(n == 1)
}

/// What [`sweep`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub sessions: usize,
    pub nonces: usize,
    pub sign_ins: usize,
}

/// Failure counts older than this, and not locking anything, are forgotten.
const FORGET_FAILURES: Duration = Duration::hours(24);

/// Deletes what can never be used again: sessions past their idle or absolute end, form nonces
/// older than a session can live, and failed-sign-in counts that lock nothing and are a day old.
/// The worker runs it with its other maintenance.
pub async fn sweep(store: &db::Store) -> Result<Swept, StoreError> {
    let now = db::now();
    store
        .write(move |c| {
            let sessions = diesel::delete(account_sessions::table.filter(
                account_sessions::last_seen_at.lt(now - IDLE).or(account_sessions::created_at.lt(now - ABSOLUTE)),
            ))
            .execute(c)?;
            let nonces = diesel::delete(account_nonces::table.filter(account_nonces::created_at.lt(now - ABSOLUTE)))
                .execute(c)?;
            let sign_ins = diesel::delete(
                account_sign_ins::table
                    .filter(account_sign_ins::updated_at.lt(now - FORGET_FAILURES))
                    .filter(account_sign_ins::locked_until.is_null().or(account_sign_ins::locked_until.lt(now))),
            )
            .execute(c)?;
            Ok(Swept { sessions, nonces, sign_ins })
        })
        .await
}
