//! Server-side sessions over the `account_sessions` table.
//!
//! The cookie holds 32 random bytes (hex); the table holds their SHA-256, the user, the CSRF
//! token and two times. A session ends on logout (row deleted), after 15 minutes without a
//! request, or 12 hours after sign-in, whichever comes first.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::{Duration, PrimitiveDateTime};

use super::zone::Zone;
use super::{AccountError, Role};
use crate::db::models::{EnterpriseId, UserId};
use crate::db::schema::{account_nonces, account_sessions, enterprises, users};
use crate::db::{self, AnyConnection, StoreError};
use crate::startup::AppState;

pub const COOKIE: &str = "kassa_account";
pub const IDLE: Duration = Duration::minutes(15);
pub const ABSOLUTE: Duration = Duration::hours(12);
/// `last_seen_at` is written at most this often, so reading pages does not write every time.
const TOUCH_EVERY: Duration = Duration::seconds(30);

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Account {
    pub session_hash: String,
    pub user_id: UserId,
    pub login: String,
    pub enterprise: EnterpriseId,
    pub role: Role,
    pub csrf: String,
    pub ip: Option<String>,
    /// The enterprise's time zone: local times and days on every page.
    pub zone: Zone,
}

impl Account {
    /// Operators and managers may move money.
    pub fn may_act(&self) -> bool {
        self.role >= Role::Operator
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

/// The session cookie: `Secure` when Kassa is reached over https.
pub fn cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path("/account")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.public_url().starts_with("https://"))
        .finish()
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
}

/// Starts a new session for `user` (a fresh id at every sign-in) and ends `previous`, if any.
/// Answers the cookie value.
pub fn start(
    c: &mut AnyConnection,
    user: &UserId,
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
    };
    diesel::insert_into(account_sessions::table).values(&row).execute(c)?;
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

type SessionRow = (String, PrimitiveDateTime, PrimitiveDateTime, UserId, String, Option<EnterpriseId>, String, bool);

/// The signed-in user, or [`AccountError::SignIn`]. An expired session is deleted here.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() == 64);
    let Some(token) = token else { return Err(AccountError::SignIn) };
    let hash = hash_token(&token);
    let lookup = hash.clone();
    let row: Option<(SessionRow, Option<String>)> = state
        .gateway
        .store
        .read(move |c| {
            let session: Option<SessionRow> = account_sessions::table
                .inner_join(users::table)
                .filter(account_sessions::id_hash.eq(lookup))
                .select((
                    account_sessions::csrf_token,
                    account_sessions::created_at,
                    account_sessions::last_seen_at,
                    users::id,
                    users::login,
                    users::enterprise_id,
                    users::account_role,
                    users::active,
                ))
                .first(c)
                .optional()?;
            let zone = match session.as_ref().and_then(|s| s.5.clone()) {
                Some(e) => enterprises::table.find(e).select(enterprises::time_zone).first(c).optional()?,
                None => None,
            };
            Ok::<_, StoreError>(session.map(|s| (s, zone)))
        })
        .await?;
    let Some(((csrf, created, seen, user_id, login, enterprise, role, active), zone)) = row else {
        return Err(AccountError::SignIn);
    };
    let now = db::now();
    let expired = now - seen > IDLE || now - created > ABSOLUTE;
    let (Some(enterprise), false, true) = (enterprise, expired, active) else {
        end(state, token).await?;
        return Err(AccountError::SignIn);
    };
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
    Ok(Account {
        session_hash: hash,
        user_id,
        login,
        enterprise,
        role: Role::parse(&role),
        csrf,
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
