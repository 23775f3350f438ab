//! Set-up: enterprises, merchants and users, and the demo data of `kassa demo`.

use diesel::prelude::*;

use super::GatewayError;
use crate::assist::checkvalue::md5_hex;
use crate::db::models::{Enterprise, EnterpriseId, Merchant, MerchantId, NewUser, User, UserId};
use crate::db::schema::{enterprises, merchants, users};
use crate::db::{self, AnyConnection, Store};

pub const DEMO_MERCHANT_NUMBER: i64 = 679471;
pub const DEMO_SECRET: &str = "demo-secret-word";
pub const DEMO_MANAGER: (&str, &str) = ("demo_manager", "demo-password-2026");
pub const DEMO_ADMIN: (&str, &str) = ("admin", "admin-password-2026");

/// The demo enterprise, merchant and users; created once, found again afterwards.
#[derive(Debug, Clone)]
pub struct Demo {
    pub merchant: Merchant,
    pub secret: &'static str,
    pub users: Vec<(&'static str, &'static str)>,
}

/// An argon2id hash (OWASP parameters: m=19 MiB, t=2, p=1), as a PHC string.
pub fn hash_password(password: &str) -> Result<String, GatewayError> {
    use argon2::{Argon2, PasswordHasher};
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| GatewayError::invalid("password", e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::{Argon2, PasswordVerifier, password_hash::phc::PasswordHash};
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A test-mode merchant with Kassa's defaults: card payments in RUB, USD and EUR, two-stage
/// allowed, check values off, 20 minutes to pay, 4 days to confirm.
pub fn new_merchant(enterprise: &EnterpriseId, number: i64, name: &str, secret: &str) -> Merchant {
    Merchant {
        id: MerchantId::new(),
        enterprise_id: enterprise.clone(),
        merchant_number: number,
        name: name.into(),
        secret_md5: md5_hex(secret),
        checkvalue_mode: "off".into(),
        response_variant: "B".into(),
        two_stage_allowed: true,
        test_mode: true,
        payment_means: "card".into(),
        currencies: "RUB,USD,EUR".into(),
        payment_currency: "RUB".into(),
        payment_timeout_secs: 20 * 60,
        confirm_window_secs: 4 * 24 * 3600,
        url_return: None,
        url_return_ok: None,
        url_return_no: None,
        notification_url: None,
        active: true,
        created_at: db::now(),
        webhook_url: None,
        webhook_secrets: None,
        tech_email: None,
        deadline_policy: "reverse".into(),
        min_amount: None,
        max_amount: None,
        daily_cap: None,
        after_payment: "result".into(),
        rsa_public_key: None,
        signature_required: false,
        notification_protocol: "post".into(),
        customer_emails: true,
        staff_emails: None,
    }
}

fn ensure_user(
    c: &mut AnyConnection,
    enterprise: Option<&EnterpriseId>,
    (login, hash): (&str, &str),
    role: &str,
) -> Result<(), GatewayError> {
    if User::by_login(c, login)?.is_none() {
        let user = NewUser {
            id: UserId::new(),
            enterprise_id: enterprise.cloned(),
            login: login.into(),
            password_hash: hash.into(),
            role: role.into(),
            webservices: role == "merchant",
            active: true,
            created_at: db::now(),
        };
        diesel::insert_into(users::table).values(&user).execute(c)?;
    }
    Ok(())
}

/// Creates the demo data if it is missing (idempotent).
pub async fn demo(store: &Store) -> Result<Demo, GatewayError> {
    let manager_hash =
        tokio::task::spawn_blocking(|| hash_password(DEMO_MANAGER.1)).await.map_err(|_| db::StoreError::Panicked)??;
    let admin_hash =
        tokio::task::spawn_blocking(|| hash_password(DEMO_ADMIN.1)).await.map_err(|_| db::StoreError::Panicked)??;
    let merchant = store
        .write(move |c| {
            if let Some(m) = Merchant::by_number(c, DEMO_MERCHANT_NUMBER)? {
                return Ok(m);
            }
            let enterprise =
                Enterprise { id: EnterpriseId::new(), name: "Demo Enterprise".into(), created_at: db::now() };
            diesel::insert_into(enterprises::table).values(&enterprise).execute(c)?;
            // The demo shop is Russian: its account shows Moscow time.
            diesel::update(enterprises::table.find(&enterprise.id))
                .set(enterprises::time_zone.eq("Europe/Moscow"))
                .execute(c)?;
            let mut merchant = new_merchant(&enterprise.id, DEMO_MERCHANT_NUMBER, "Demo Shop (test)", DEMO_SECRET);
            // The demo offers both means the checkout has, so the method choice shows.
            merchant.payment_means = "card,wallet".into();
            diesel::insert_into(merchants::table).values(&merchant).execute(c)?;
            ensure_user(c, Some(&enterprise.id), (DEMO_MANAGER.0, &manager_hash), "merchant")?;
            // The demo manager may do everything in the merchant account.
            diesel::update(users::table.filter(users::login.eq(DEMO_MANAGER.0)))
                .set(users::account_role.eq("manager"))
                .execute(c)?;
            ensure_user(c, None, (DEMO_ADMIN.0, &admin_hash), "admin")?;
            Ok::<_, GatewayError>(merchant)
        })
        .await?;
    Ok(Demo { merchant, secret: DEMO_SECRET, users: vec![DEMO_MANAGER, DEMO_ADMIN] })
}

/// A user to create from the command line (`kassa user add`).
#[derive(Debug, Clone)]
pub struct AddUser {
    pub login: String,
    pub password: String,
    /// A platform admin (no enterprise; TOTP enrolment at the first sign-in) or a manager of
    /// every merchant of `enterprise`.
    pub admin: bool,
    pub enterprise: Option<EnterpriseId>,
}

/// Creates the user; refuses a taken login, a short password, or a merchant user without an
/// existing enterprise. The audit log records who was created (by the command line).
pub async fn add_user(store: &Store, new: AddUser) -> Result<UserId, GatewayError> {
    let login = new.login.trim().to_owned();
    if !(3..=64).contains(&login.chars().count()) || login.chars().any(char::is_whitespace) {
        return Err(GatewayError::invalid("login", "3 to 64 characters, no spaces"));
    }
    if new.password.chars().count() < 12 || new.password.len() > 1024 {
        return Err(GatewayError::invalid("password", "at least 12 characters"));
    }
    let (admin, enterprise) = match (new.admin, new.enterprise) {
        (true, None) => (true, None),
        (true, Some(_)) => return Err(GatewayError::invalid("enterprise", "an admin belongs to no enterprise")),
        (false, Some(e)) => (false, Some(e)),
        (false, None) => return Err(GatewayError::invalid("enterprise", "a merchant user needs --enterprise")),
    };
    let password = new.password;
    let hash =
        tokio::task::spawn_blocking(move || hash_password(&password)).await.map_err(|_| db::StoreError::Panicked)??;
    let id = UserId::new();
    let user = NewUser {
        id: id.clone(),
        enterprise_id: enterprise.clone(),
        login: login.clone(),
        password_hash: hash,
        role: if admin { "admin" } else { "merchant" }.into(),
        webservices: false,
        active: true,
        created_at: db::now(),
    };
    store
        .write(move |c| {
            if User::by_login(c, &user.login)?.is_some() {
                return Err(GatewayError::invalid("login", "already taken"));
            }
            if let Some(e) = &user.enterprise_id
                && enterprises::table.find(e).count().get_result::<i64>(c)? == 0
            {
                return Err(GatewayError::invalid("enterprise", "no such enterprise"));
            }
            diesel::insert_into(users::table).values(&user).execute(c)?;
            if !admin {
                diesel::update(users::table.find(&user.id)).set(users::account_role.eq("manager")).execute(c)?;
            }
            Ok(())
        })
        .await?;
    let detail = serde_json::json!({
        "user": login,
        "role": if admin { "admin" } else { "manager" },
        "enterprise": enterprise.map(|e| e.0),
    });
    crate::web::protection::audit::record(
        store,
        crate::web::protection::audit::AuditEvent {
            merchant: None,
            order: None,
            actor: crate::web::protection::audit::Actor::Cli,
            action: "cli.user_add",
            outcome: "ok".into(),
            detail,
            ip: None,
        },
    )
    .await;
    Ok(id)
}
