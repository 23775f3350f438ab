//! Authentication of a web-service call: `Merchant_ID` + `Login` + `Password` of an active user
//! with the web-services right, belonging to the merchant's enterprise.

use std::sync::OnceLock;

use super::codes::ServiceError;
use super::fields::Fields;
use crate::db::StoreError;
use crate::db::models::{Merchant, User};
use crate::gateway::Gateway;
use crate::gateway::setup::{hash_password, verify_password};
use crate::web::protection::{Limited, Protection};

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub merchant: Merchant,
    pub login: String,
}

pub enum AuthError {
    Denied(ServiceError),
    Limited(Limited),
}

impl From<ServiceError> for AuthError {
    fn from(e: ServiceError) -> Self {
        AuthError::Denied(e)
    }
}

/// A hash verified when the login is unknown, so that an unknown login costs as much time as a
/// wrong password and logins cannot be told apart by timing.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("kassa-no-such-user").unwrap_or_default())
}

pub async fn authenticate(gateway: &Gateway, protection: &Protection, fields: &Fields) -> Result<Caller, AuthError> {
    let denied = ServiceError::denied;
    let number: i64 = fields.get("Merchant_ID").and_then(|v| v.parse().ok()).filter(|n| *n > 0).ok_or_else(denied)?;
    // Before the password check: a password guesser is slowed down per merchant as well as per IP.
    protection.check_merchant(number).map_err(AuthError::Limited)?;
    let login = fields.get("Login").ok_or_else(denied)?.to_owned();
    let password = fields.raw("Password").filter(|p| !p.is_empty()).ok_or_else(denied)?;
    let lookup_login = login.clone();
    let (merchant, user) = gateway
        .store
        .read(move |c| Ok::<_, StoreError>((Merchant::by_number(c, number)?, User::by_login(c, &lookup_login)?)))
        .await
        .map_err(|_| ServiceError::internal())?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let known = |p: &Protection| stored.as_ref().is_some_and(|h| p.credentials.knows(&login, &password, h));
    let password_ok = if known(protection) {
        true
    } else {
        let _permit = protection.verifications.acquire().await.map_err(|_| ServiceError::internal())?;
        // A concurrent call with the same credentials may have verified them meanwhile.
        if known(protection) {
            true
        } else {
            let (p, h) = (password.clone(), stored.clone());
            let ok = tokio::task::spawn_blocking(move || {
                let ok = verify_password(&p, h.as_deref().unwrap_or_else(|| dummy_hash()));
                ok && h.is_some()
            })
            .await
            .unwrap_or(false);
            if let (true, Some(hash)) = (ok, &stored) {
                protection.credentials.remember(&login, &password, hash);
            }
            ok
        }
    };
    let (Some(merchant), Some(user)) = (merchant, user) else { return Err(denied().into()) };
    let allowed = password_ok
        && user.active
        && user.webservices
        && user.role == "merchant"
        && merchant.active
        && user.enterprise_id.as_ref() == Some(&merchant.enterprise_id);
    if !allowed {
        tracing::info!(merchant = number, login = %user.login, "web-service authentication refused");
        return Err(denied().into());
    }
    Ok(Caller { merchant, login })
}
