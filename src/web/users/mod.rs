//! An enterprise's users, managed by its own managers (`/account/users`) or by a platform admin
//! (`/admin/enterprises/<id>/users`): create a user with a role over all merchants or a role per
//! merchant and an operator's amount limit, edit them, reset a password, lock, unlock, delete,
//! turn off a lost authenticator, and require two-factor sign-in for everyone. Both areas call
//! the handlers here with a [`Manager`] that says who acts and where the pages live. Every change
//! goes to the audit log with the actor, the enterprise and old → new values (never a password,
//! a hash or a TOTP secret).
//!
//! A manager cannot change, lock or delete themselves: the enterprise keeps at least the
//! manager who is doing the work.

pub mod access;
pub mod store;

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use serde_json::{Value, json};

use self::access::{Access, FormValues, MerchantRow, bad, parse_access, parse_login};
use self::store::UserBase;
use crate::db::StoreError;
use crate::db::models::{EnterpriseId, UserId};
use crate::gateway::setup::hash_password;
use crate::startup::AppState;
use crate::web::account::{Account, AccountError, constant_eq};
use crate::web::admin::Admin;
use crate::web::protection::audit::{self, Actor, AuditEvent};

/// The navigation of the area the pages are shown in.
pub enum Nav {
    Account(Account),
    Admin(Admin),
}

/// Who manages the users of which enterprise, and where the pages live.
pub struct Manager {
    pub enterprise: EnterpriseId,
    pub nav: Nav,
    /// The users page: `/account/users` or `/admin/enterprises/<id>/users`.
    pub base: String,
    /// Where the new-user form posts.
    pub create_path: String,
    /// The enterprise's name, shown in the admin area (an account user knows their own).
    pub enterprise_name: Option<String>,
}

/// The changes, each with its audit action in each area.
#[derive(Debug, Clone, Copy)]
enum Op {
    Create,
    Update,
    ResetPassword,
    Lock,
    Unlock,
    Delete,
    ResetTotp,
    RequireTotp,
}

impl Op {
    fn action(self, admin: bool) -> &'static str {
        match (self, admin) {
            (Op::Create, false) => "account.user_create",
            (Op::Update, false) => "account.user_update",
            (Op::ResetPassword, false) => "account.user_reset_password",
            (Op::Lock, false) => "account.user_lock",
            (Op::Unlock, false) => "account.user_unlock",
            (Op::Delete, false) => "account.user_delete",
            (Op::ResetTotp, false) => "account.user_reset_totp",
            (Op::RequireTotp, false) => "account.require_totp",
            (Op::Create, true) => "admin.user_create",
            (Op::Update, true) => "admin.user_update",
            (Op::ResetPassword, true) => "admin.user_reset_password",
            (Op::Lock, true) => "admin.user_lock",
            (Op::Unlock, true) => "admin.user_unlock",
            (Op::Delete, true) => "admin.user_delete",
            (Op::ResetTotp, true) => "admin.user_reset_totp",
            (Op::RequireTotp, true) => "admin.require_totp",
        }
    }
}

impl Manager {
    /// A manager of the account, on their own enterprise.
    pub fn account(account: Account) -> Manager {
        Manager {
            enterprise: account.enterprise.clone(),
            nav: Nav::Account(account),
            base: "/account/users".into(),
            create_path: "/account/users".into(),
            enterprise_name: None,
        }
    }

    /// A platform admin, on any enterprise; `NotFound` for an unknown one.
    pub async fn admin(state: &AppState, admin: Admin, enterprise: &str) -> Result<Manager, AccountError> {
        let id = EnterpriseId(enterprise.to_owned());
        let lookup = id.clone();
        let name = state.gateway.store.read(move |c| Ok::<_, StoreError>(store::enterprise_name(c, &lookup)?)).await?;
        let name = name.ok_or(AccountError::NotFound)?;
        let base = format!("/admin/enterprises/{}/users", id.0);
        Ok(Manager {
            enterprise: id,
            nav: Nav::Admin(admin),
            create_path: format!("{base}/create"),
            base,
            enterprise_name: Some(name),
        })
    }

    pub fn csrf(&self) -> &str {
        match &self.nav {
            Nav::Account(a) => &a.csrf,
            Nav::Admin(a) => &a.csrf,
        }
    }

    fn check_csrf(&self, form: &HashMap<String, String>) -> Result<(), AccountError> {
        let token = form.get("csrf").map(String::as_str).unwrap_or("");
        if constant_eq(token.as_bytes(), self.csrf().as_bytes()) { Ok(()) } else { Err(AccountError::Csrf) }
    }

    /// The acting account user, who may not act on themself; `None` for an admin.
    fn me(&self) -> Option<&UserId> {
        match &self.nav {
            Nav::Account(a) => Some(&a.user_id),
            Nav::Admin(_) => None,
        }
    }

    pub fn area(&self) -> &'static str {
        match self.nav {
            Nav::Account(_) => "Kassa account",
            Nav::Admin(_) => "Kassa admin",
        }
    }

    fn refuse_self(&self, id: &str) -> Result<(), AccountError> {
        if self.me().is_some_and(|me| me.0 == id) {
            return Err(bad("You cannot change, lock or delete your own user; ask another manager."));
        }
        Ok(())
    }

    async fn audit(&self, state: &AppState, op: Op, mut detail: Value) {
        if let Value::Object(map) = &mut detail {
            map.insert("enterprise".into(), self.enterprise.0.clone().into());
        }
        let (actor, ip, admin) = match &self.nav {
            Nav::Account(a) => (Actor::AccountUser(a.login.clone()), a.ip.clone(), false),
            Nav::Admin(a) => (Actor::Admin(a.login.clone()), a.ip.clone(), true),
        };
        let event = AuditEvent {
            merchant: None,
            order: None,
            actor,
            action: op.action(admin),
            outcome: "ok".into(),
            detail,
            ip,
        };
        audit::record(&state.gateway.store, event).await;
    }

    fn see(&self, path: String) -> HttpResponse {
        HttpResponse::SeeOther().insert_header(("Location", path)).finish()
    }
}

pub struct UserRow {
    pub id: String,
    pub login: String,
    pub email: String,
    pub access: String,
    pub limit: String,
    pub totp: bool,
    pub active: bool,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage<'a> {
    m: &'a Manager,
    users: Vec<UserRow>,
    require_totp: bool,
    form: FormValues,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "users/user.html")]
struct EditPage<'a> {
    m: &'a Manager,
    id: String,
    active: bool,
    totp: bool,
    form: FormValues,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "users/password.html")]
struct PasswordShownPage<'a> {
    m: &'a Manager,
    login: String,
    password: String,
    created: bool,
}

fn page(status: StatusCode, t: &impl Template) -> Result<HttpResponse, AccountError> {
    let body = t.render().map_err(|e| {
        tracing::error!(error = %e, "users: template");
        AccountError::Internal
    })?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

fn status_of(error: &Option<String>) -> StatusCode {
    if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK }
}

/// A password for a new user or a reset: 16 characters without look-alikes (about 93 bits).
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// A temporary password and its hash, computed off the async threads.
pub(crate) async fn new_password() -> Result<(String, String), AccountError> {
    let password = temporary_password();
    let clear = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&clear))
        .await
        .map_err(|_| AccountError::Internal)?
        .map_err(|_| AccountError::Internal)?;
    Ok((password, hash))
}

async fn merchants_of(state: &AppState, m: &Manager) -> Result<Vec<MerchantRow>, AccountError> {
    let enterprise = m.enterprise.clone();
    Ok(state.gateway.store.read(move |c| Ok::<_, StoreError>(store::enterprise_merchants(c, &enterprise)?)).await?)
}

async fn one_user(
    state: &AppState,
    m: &Manager,
    id: &str,
) -> Result<(UserBase, Access, Vec<MerchantRow>), AccountError> {
    let (enterprise, lookup) = (m.enterprise.clone(), id.to_owned());
    let (found, merchants) = state
        .gateway
        .store
        .read(move |c| {
            Ok::<_, StoreError>((
                store::load_user(c, &enterprise, &lookup)?,
                store::enterprise_merchants(c, &enterprise)?,
            ))
        })
        .await?;
    let (base, access) = found.ok_or(AccountError::NotFound)?;
    Ok((base, access, merchants))
}

async fn list_page(
    state: &AppState,
    m: &Manager,
    form: Option<FormValues>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AccountError> {
    let enterprise = m.enterprise.clone();
    let (users, merchants, require_totp) = state
        .gateway
        .store
        .read(move |c| {
            let users = store::load_users(c, &enterprise)?;
            let merchants = store::enterprise_merchants(c, &enterprise)?;
            Ok::<_, StoreError>((users, merchants, store::require_totp(c, &enterprise)?))
        })
        .await?;
    let rows = users
        .iter()
        .map(|(b, a)| UserRow {
            id: b.id.0.clone(),
            login: b.login.clone(),
            email: a.email.clone().unwrap_or_default(),
            access: a.describe(&merchants),
            limit: a.limit_text(),
            totp: b.totp,
            active: b.active,
            me: m.me() == Some(&b.id),
        })
        .collect();
    let form = form.unwrap_or_else(|| FormValues::of("", &Access::blank(), &merchants));
    page(status_of(&error), &ListPage { m, users: rows, require_totp, form, error, notice })
}

/// The text of `?done=…` after a change.
pub fn done_text(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "saved" => "The user was saved.",
            "locked" => "The user is locked and was signed out.",
            "unlocked" => "The user is unlocked.",
            "deleted" => "The user was deleted.",
            "totp" => "The user's two-factor sign-in is off; they can set it up again.",
            "required" => "Two-factor sign-in is now required for everyone.",
            "optional" => "Two-factor sign-in is no longer required.",
            _ => return None,
        }
        .to_owned(),
    )
}

/// The users page.
pub async fn list(state: &AppState, m: Manager, done: Option<&str>) -> Result<HttpResponse, AccountError> {
    list_page(state, &m, None, None, done_text(done)).await
}

/// Creates a user with a temporary password, shown once.
pub async fn create(
    state: &AppState,
    m: Manager,
    form: &HashMap<String, String>,
) -> Result<HttpResponse, AccountError> {
    m.check_csrf(form)?;
    let merchants = merchants_of(state, &m).await?;
    let checked = parse_login(form).and_then(|login| Ok((login, parse_access(form, &merchants)?)));
    let (login, access) = match checked {
        Ok(a) => a,
        Err(e) => {
            let values = FormValues::from_form(form, &merchants);
            return list_page(state, &m, Some(values), Some(e.to_string()), None).await;
        }
    };
    let (password, hash) = new_password().await?;
    let (enterprise, l, stored) = (m.enterprise.clone(), login.clone(), access.clone());
    let created = state.gateway.store.write(move |c| store::create(c, &enterprise, &l, hash, &stored)).await;
    // A login taken by a concurrent create ends as a unique violation: the same answer.
    if !matches!(created, Ok(true)) {
        if let Err(e) = &created {
            tracing::info!(error = %e, "users: user not created");
        }
        let values = FormValues::from_form(form, &merchants);
        return list_page(state, &m, Some(values), Some("This login is taken.".into()), None).await;
    }
    let detail = json!({ "user": login, "access": access.describe(&merchants), "limit": access.limit_text() });
    m.audit(state, Op::Create, detail).await;
    page(StatusCode::OK, &PasswordShownPage { m: &m, login, password, created: true })
}

async fn edit_page(
    state: &AppState,
    m: &Manager,
    id: String,
    form: Option<FormValues>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AccountError> {
    let (base, access, merchants) = one_user(state, m, &id).await?;
    let form = form.unwrap_or_else(|| FormValues::of(&base.login, &access, &merchants));
    page(status_of(&error), &EditPage { m, id, active: base.active, totp: base.totp, form, error, notice })
}

/// One user's page: the access form and the actions.
pub async fn edit_form(
    state: &AppState,
    m: Manager,
    id: String,
    done: Option<&str>,
) -> Result<HttpResponse, AccountError> {
    edit_page(state, &m, id, None, None, done_text(done)).await
}

/// Saves a user's access.
pub async fn edit(
    state: &AppState,
    m: Manager,
    id: String,
    form: &HashMap<String, String>,
) -> Result<HttpResponse, AccountError> {
    m.check_csrf(form)?;
    m.refuse_self(&id)?;
    let (base, old, merchants) = one_user(state, &m, &id).await?;
    let new = match parse_access(form, &merchants) {
        Ok(a) => a,
        Err(e) => {
            let mut values = FormValues::from_form(form, &merchants);
            values.login = base.login.clone();
            return edit_page(state, &m, id, Some(values), Some(e.to_string()), None).await;
        }
    };
    let (user, stored) = (base.id.clone(), new.clone());
    state.gateway.store.write(move |c| store::store_access(c, &user, &stored)).await?;
    let mut detail = old.diff(&new, &merchants);
    detail["user"] = json!(base.login);
    m.audit(state, Op::Update, detail).await;
    Ok(m.see(format!("{}/{id}?done=saved", m.base)))
}

/// `reset-password`, `lock`, `unlock`, `delete`, `reset-totp` on one user.
pub async fn act(
    state: &AppState,
    m: Manager,
    id: String,
    action: &str,
    form: &HashMap<String, String>,
) -> Result<HttpResponse, AccountError> {
    m.check_csrf(form)?;
    m.refuse_self(&id)?;
    let (base, _, _) = one_user(state, &m, &id).await?;
    let (user, login) = (base.id, base.login);
    let detail = json!({ "user": login });
    let (op, done) = match action {
        "reset-password" => {
            let (password, hash) = new_password().await?;
            let u = user.clone();
            state.gateway.store.write(move |c| Ok::<_, StoreError>(store::reset_password(c, &u, hash)?)).await?;
            m.audit(state, Op::ResetPassword, detail).await;
            return page(StatusCode::OK, &PasswordShownPage { m: &m, login, password, created: false });
        }
        "lock" | "unlock" => {
            let (u, active, l) = (user.clone(), action == "unlock", login.clone());
            state.gateway.store.write(move |c| Ok::<_, StoreError>(store::set_active(c, &u, &l, active)?)).await?;
            if active { (Op::Unlock, "unlocked") } else { (Op::Lock, "locked") }
        }
        "delete" => {
            let u = user.clone();
            state.gateway.store.write(move |c| Ok::<_, StoreError>(store::delete(c, &u)?)).await?;
            m.audit(state, Op::Delete, detail).await;
            return Ok(m.see(format!("{}?done=deleted", m.base)));
        }
        "reset-totp" => {
            let u = user.clone();
            state.gateway.store.write(move |c| Ok::<_, StoreError>(store::reset_totp(c, &u)?)).await?;
            (Op::ResetTotp, "totp")
        }
        _ => return Err(AccountError::NotFound),
    };
    m.audit(state, op, detail).await;
    Ok(m.see(format!("{}/{id}?done={done}", m.base)))
}

/// Requires (or stops requiring) TOTP for every user of the enterprise. Users without it set it
/// up at their next sign-in; signed-in users are not cut off mid-work.
pub async fn require_totp(
    state: &AppState,
    m: Manager,
    form: &HashMap<String, String>,
) -> Result<HttpResponse, AccountError> {
    m.check_csrf(form)?;
    let required = form.get("require").is_some_and(|v| v == "1");
    let enterprise = m.enterprise.clone();
    let old = state
        .gateway
        .store
        .write(move |c| Ok::<_, StoreError>(store::set_require_totp(c, &enterprise, required)?))
        .await?;
    m.audit(state, Op::RequireTotp, json!({ "require_totp": [old, required] })).await;
    let done = if required { "required" } else { "optional" };
    Ok(m.see(format!("{}?done={done}", m.base)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::account::login::MIN_PASSWORD;

    #[test]
    fn temporary_passwords_are_long_enough_and_differ() {
        let a = temporary_password();
        assert!(a.len() >= MIN_PASSWORD);
        assert_ne!(a, temporary_password());
    }
}
