//! The enterprise's users (`/account/users`), for managers of every merchant: create a user
//! with a role over all merchants or a role per merchant and an operator's amount limit, edit
//! them, reset a password, lock, unlock, delete, turn off a lost authenticator, and require
//! two-factor sign-in for everyone. Every change goes to the audit log with old → new values
//! (never a password or a TOTP secret).
//!
//! A manager cannot change, lock or delete themselves: the enterprise keeps at least the
//! manager who is doing the work.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::login::{html, render};
use super::session::{Account, signed_in};
use super::{AccountError, Role};
use crate::db::models::{EnterpriseId, MerchantId, NewUser, UserId};
use crate::db::schema::{account_grants, account_sessions, account_sign_ins, enterprises, merchants, users};
use crate::db::{self, AnyConnection, StoreError};
use crate::gateway::setup::hash_password;
use crate::money::{Currency, Money, format_minor};
use crate::startup::AppState;

/// What a user may see and do: the part of a user the form edits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Access {
    email: Option<String>,
    /// `None`: every merchant with `role`; otherwise these merchants with their roles.
    grants: Option<Vec<(MerchantId, Role)>>,
    role: Role,
    limit: Option<(i64, String)>,
}

impl Access {
    fn describe(&self, merchants: &[MerchantRow]) -> String {
        match &self.grants {
            None => format!("all merchants: {}", self.role.as_str()),
            Some(grants) if grants.is_empty() => "no merchant".into(),
            Some(grants) => grants
                .iter()
                .map(|(id, role)| {
                    let n = merchants.iter().find(|m| m.id == *id).map(|m| m.number).unwrap_or_default();
                    format!("{n}: {}", role.as_str())
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn limit_text(&self) -> String {
        self.limit.as_ref().map(|(m, c)| format!("{} {c}", format_minor(*m, c))).unwrap_or_default()
    }

    /// The audit detail of a change: each field that changed, as `[old, new]`.
    fn diff(&self, new: &Access, merchants: &[MerchantRow]) -> Value {
        let mut changed = serde_json::Map::new();
        let mut field = |name: &str, old: String, new: String| {
            if old != new {
                changed.insert(name.into(), json!([old, new]));
            }
        };
        field("email", self.email.clone().unwrap_or_default(), new.email.clone().unwrap_or_default());
        field("access", self.describe(merchants), new.describe(merchants));
        field("limit", self.limit_text(), new.limit_text());
        Value::Object(changed)
    }
}

#[derive(Debug, Clone)]
pub struct MerchantRow {
    pub id: MerchantId,
    pub number: i64,
    pub name: String,
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

/// One line of the access form: a merchant and the role chosen for it (empty: none).
pub struct GrantField {
    pub number: i64,
    pub name: String,
    pub role: &'static str,
}

/// The values the create and edit forms show.
pub struct FormValues {
    pub login: String,
    pub email: String,
    pub all: bool,
    pub role: &'static str,
    pub grants: Vec<GrantField>,
    pub limit: String,
    pub limit_currency: String,
}

impl FormValues {
    fn of(login: &str, access: &Access, merchants: &[MerchantRow]) -> FormValues {
        FormValues {
            login: login.to_owned(),
            email: access.email.clone().unwrap_or_default(),
            all: access.grants.is_none(),
            role: access.role.as_str(),
            grants: merchants
                .iter()
                .map(|m| GrantField {
                    number: m.number,
                    name: m.name.clone(),
                    role: access
                        .grants
                        .as_ref()
                        .and_then(|g| g.iter().find(|(id, _)| *id == m.id))
                        .map(|(_, r)| r.as_str())
                        .unwrap_or(""),
                })
                .collect(),
            limit: access.limit.as_ref().map(|(m, c)| format_minor(*m, c)).unwrap_or_default(),
            limit_currency: access.limit.as_ref().map(|(_, c)| c.clone()).unwrap_or_default(),
        }
    }

    /// The form as submitted, shown again beside its error.
    fn from_form(form: &HashMap<String, String>, merchants: &[MerchantRow]) -> FormValues {
        let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
        let role = |v: &str| match v {
            "viewer" => "viewer",
            "operator" => "operator",
            "manager" => "manager",
            _ => "",
        };
        FormValues {
            login: get("login"),
            email: get("email"),
            all: get("scope") != "listed",
            role: match role(&get("role")) {
                "" => "viewer",
                r => r,
            },
            grants: merchants
                .iter()
                .map(|m| GrantField {
                    number: m.number,
                    name: m.name.clone(),
                    role: role(&get(&format!("grant_{}", m.number))),
                })
                .collect(),
            limit: get("limit"),
            limit_currency: get("limit_currency"),
        }
    }
}

#[derive(Template)]
#[template(path = "account/users.html")]
struct ListPage {
    account: Account,
    users: Vec<UserRow>,
    require_totp: bool,
    form: FormValues,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "account/user.html")]
struct EditPage {
    account: Account,
    id: String,
    active: bool,
    totp: bool,
    form: FormValues,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "account/user_password.html")]
struct PasswordShownPage {
    account: Account,
    login: String,
    password: String,
    created: bool,
}

async fn manager(req: &HttpRequest, state: &AppState) -> Result<Account, AccountError> {
    let account = signed_in(req, state).await?;
    if account.is_manager() { Ok(account) } else { Err(AccountError::Forbidden) }
}

fn bad(message: &str) -> AccountError {
    AccountError::BadRequest(message.to_owned())
}

fn enterprise_merchants(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<Vec<MerchantRow>> {
    let rows: Vec<(MerchantId, i64, String)> = merchants::table
        .filter(merchants::enterprise_id.eq(enterprise))
        .order(merchants::merchant_number.asc())
        .select((merchants::id, merchants::merchant_number, merchants::name))
        .load(c)?;
    Ok(rows.into_iter().map(|(id, number, name)| MerchantRow { id, number, name }).collect())
}

type UserBase = (UserId, String, Option<String>, String, String, Option<i64>, Option<String>, bool, bool);

fn user_access(c: &mut AnyConnection, base: &UserBase) -> QueryResult<Access> {
    let (id, _, email, role, scope, limit, currency, _, _) = base;
    let grants = if scope == "listed" {
        let rows: Vec<(MerchantId, String)> = account_grants::table
            .filter(account_grants::user_id.eq(id))
            .select((account_grants::merchant_id, account_grants::role))
            .load(c)?;
        Some(rows.into_iter().map(|(m, r)| (m, Role::parse(&r))).collect())
    } else {
        None
    };
    Ok(Access { email: email.clone(), grants, role: Role::parse(role), limit: limit.zip(currency.clone()) })
}

/// The enterprise's live users with their access, login first.
fn load_users(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<Vec<(UserBase, Access)>> {
    let bases: Vec<UserBase> = users::table
        .filter(users::enterprise_id.eq(enterprise))
        .filter(users::role.eq("merchant"))
        .filter(users::deleted_at.is_null())
        .order(users::login.asc())
        .select(base_columns())
        .load(c)?;
    bases
        .into_iter()
        .map(|b| {
            let access = user_access(c, &b)?;
            Ok((b, access))
        })
        .collect()
}

#[allow(clippy::type_complexity)]
fn base_columns() -> (
    users::id,
    users::login,
    users::email,
    users::account_role,
    users::merchant_scope,
    users::amount_limit,
    users::limit_currency,
    users::totp_enabled,
    users::active,
) {
    (
        users::id,
        users::login,
        users::email,
        users::account_role,
        users::merchant_scope,
        users::amount_limit,
        users::limit_currency,
        users::totp_enabled,
        users::active,
    )
}

/// One live user of the enterprise; `None` for any other id (another enterprise's included).
fn load_user(
    c: &mut AnyConnection,
    enterprise: &EnterpriseId,
    id: &str,
) -> Result<Option<(UserBase, Access)>, StoreError> {
    let base: Option<UserBase> = users::table
        .filter(users::id.eq(id))
        .filter(users::enterprise_id.eq(enterprise))
        .filter(users::role.eq("merchant"))
        .filter(users::deleted_at.is_null())
        .select(base_columns())
        .first(c)
        .optional()?;
    match base {
        Some(b) => {
            let access = user_access(c, &b)?;
            Ok(Some((b, access)))
        }
        None => Ok(None),
    }
}

/// Reads the access part of the form, checked against the enterprise's merchants.
fn parse_access(form: &HashMap<String, String>, merchants: &[MerchantRow]) -> Result<Access, AccountError> {
    let get = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let role = |v: &str| match v {
        "viewer" | "operator" | "manager" => Ok(Role::parse(v)),
        _ => Err(bad("Choose a role: viewer, operator or manager.")),
    };
    let email = match get("email") {
        Some(e) if e.len() > 200 || !e.contains('@') || e.contains(char::is_whitespace) => {
            return Err(bad("The e-mail address is not valid."));
        }
        e => e.map(str::to_owned),
    };
    let (grants, role) = match get("scope").unwrap_or("all") {
        "all" => (None, role(get("role").unwrap_or(""))?),
        "listed" => {
            let mut grants = Vec::new();
            for m in merchants {
                if let Some(v) = get(&format!("grant_{}", m.number)) {
                    grants.push((m.id.clone(), role(v)?));
                }
            }
            if grants.is_empty() {
                return Err(bad("Give the user a role for at least one merchant."));
            }
            let highest = grants.iter().map(|(_, r)| *r).max().unwrap_or(Role::Viewer);
            (Some(grants), highest)
        }
        _ => return Err(bad("Choose all merchants or some merchants.")),
    };
    let limit = match (get("limit"), get("limit_currency")) {
        (None, _) => None,
        (Some(_), None) => return Err(bad("Give the currency of the amount limit.")),
        (Some(amount), Some(cur)) => {
            let currency: Currency = cur.parse().map_err(|_| bad("The currency of the limit is not known."))?;
            let money = Money::parse(amount, currency).map_err(|_| bad("The amount limit is not a valid amount."))?;
            Some((money.minor, cur.to_uppercase()))
        }
    };
    Ok(Access { email, grants, role, limit })
}

/// Writes the access of `user` (the grants are replaced as a whole).
fn store_access(c: &mut AnyConnection, user: &UserId, access: &Access) -> Result<(), StoreError> {
    let scope = if access.grants.is_some() { "listed" } else { "all" };
    diesel::update(users::table.find(user))
        .set((
            users::email.eq(access.email.clone()),
            users::account_role.eq(access.role.as_str()),
            users::merchant_scope.eq(scope),
            users::amount_limit.eq(access.limit.as_ref().map(|(m, _)| *m)),
            users::limit_currency.eq(access.limit.as_ref().map(|(_, c)| c.clone())),
        ))
        .execute(c)?;
    diesel::delete(account_grants::table.filter(account_grants::user_id.eq(user))).execute(c)?;
    for (merchant, role) in access.grants.iter().flatten() {
        diesel::insert_into(account_grants::table)
            .values((
                account_grants::user_id.eq(user),
                account_grants::merchant_id.eq(merchant),
                account_grants::role.eq(role.as_str()),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// A password for a new user or a reset: 16 characters without look-alikes (about 93 bits).
fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    use rand::Rng;
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

async fn hash_off_thread(password: String) -> Result<String, AccountError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AccountError::Internal)?
        .map_err(|_| AccountError::Internal)
}

async fn list_page(
    state: &AppState,
    account: Account,
    form: Option<FormValues>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AccountError> {
    let enterprise = account.enterprise.clone();
    let (users, merchants, require_totp) = state
        .gateway
        .store
        .read(move |c| {
            let users = load_users(c, &enterprise)?;
            let merchants = enterprise_merchants(c, &enterprise)?;
            let require: bool = enterprises::table.find(&enterprise).select(enterprises::require_totp).first(c)?;
            Ok::<_, StoreError>((users, merchants, require))
        })
        .await?;
    let rows = users
        .iter()
        .map(|(b, a)| UserRow {
            id: b.0.0.clone(),
            login: b.1.clone(),
            email: b.2.clone().unwrap_or_default(),
            access: a.describe(&merchants),
            limit: a.limit_text(),
            totp: b.7,
            active: b.8,
            me: b.0 == account.user_id,
        })
        .collect();
    let blank = Access { email: None, grants: None, role: Role::Viewer, limit: None };
    let form = form.unwrap_or_else(|| FormValues::of("", &blank, &merchants));
    let status =
        if error.is_some() { actix_web::http::StatusCode::BAD_REQUEST } else { actix_web::http::StatusCode::OK };
    let body = render(&ListPage { account, users: rows, require_totp, form, error, notice })?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

#[derive(serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

fn done_text(done: Option<&str>) -> Option<String> {
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

pub async fn list(
    req: HttpRequest,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    list_page(&state, account, None, None, done_text(query.done.as_deref())).await
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    account.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let enterprise = account.enterprise.clone();
    let merchants =
        state.gateway.store.read(move |c| Ok::<_, StoreError>(enterprise_merchants(c, &enterprise)?)).await?;
    let login = form.get("login").map(|l| l.trim().to_owned()).unwrap_or_default();
    let checked = if !(3..=64).contains(&login.len())
        || !login.bytes().all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
    {
        Err(bad("The login must have 3 to 64 letters, digits or . _ @ -"))
    } else {
        parse_access(&form, &merchants)
    };
    let access = match checked {
        Ok(a) => a,
        Err(e) => {
            let values = FormValues::from_form(&form, &merchants);
            return list_page(&state, account, Some(values), Some(e.to_string()), None).await;
        }
    };
    let password = temporary_password();
    let hash = hash_off_thread(password.clone()).await?;
    let user = NewUser {
        id: UserId::new(),
        enterprise_id: Some(account.enterprise.clone()),
        login: login.clone(),
        password_hash: hash,
        role: "merchant".into(),
        webservices: false,
        active: true,
        created_at: db::now(),
    };
    let stored = access.clone();
    let created = state
        .gateway
        .store
        .write(move |c| {
            let taken: i64 = users::table.filter(users::login.eq(&user.login)).count().get_result(c)?;
            if taken > 0 {
                return Ok(false);
            }
            diesel::insert_into(users::table).values(&user).execute(c)?;
            diesel::update(users::table.find(&user.id)).set(users::must_change_password.eq(true)).execute(c)?;
            store_access(c, &user.id, &stored)?;
            Ok::<_, StoreError>(true)
        })
        .await;
    // A login taken by a concurrent create ends as a unique violation: the same answer.
    if !matches!(created, Ok(true)) {
        if let Err(e) = &created {
            tracing::info!(error = %e, "account: user not created");
        }
        let values = FormValues::from_form(&form, &merchants);
        return list_page(&state, account, Some(values), Some("This login is taken.".into()), None).await;
    }
    let detail = json!({ "user": login, "access": access.describe(&merchants), "limit": access.limit_text() });
    super::audit(&state, &account, None, None, "account.user_create", "ok", detail).await;
    Ok(html(render(&PasswordShownPage { account, login, password, created: true })?))
}

async fn edit_page(
    state: &AppState,
    account: Account,
    id: String,
    form: Option<FormValues>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AccountError> {
    let (enterprise, lookup) = (account.enterprise.clone(), id.clone());
    let (found, merchants) = state
        .gateway
        .store
        .read(move |c| {
            Ok::<_, StoreError>((load_user(c, &enterprise, &lookup)?, enterprise_merchants(c, &enterprise)?))
        })
        .await?;
    let (base, access) = found.ok_or(AccountError::NotFound)?;
    let form = form.unwrap_or_else(|| FormValues::of(&base.1, &access, &merchants));
    let status =
        if error.is_some() { actix_web::http::StatusCode::BAD_REQUEST } else { actix_web::http::StatusCode::OK };
    let body = render(&EditPage { account, id, active: base.8, totp: base.7, form, error, notice })?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

pub async fn edit_form(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    edit_page(&state, account, path.into_inner(), None, None, done_text(query.done.as_deref())).await
}

fn refuse_self(account: &Account, id: &str) -> Result<(), AccountError> {
    if account.user_id.0 == id {
        return Err(bad("You cannot change, lock or delete your own user; ask another manager."));
    }
    Ok(())
}

pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    account.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let id = path.into_inner();
    refuse_self(&account, &id)?;
    let (enterprise, lookup) = (account.enterprise.clone(), id.clone());
    let (found, merchants) = state
        .gateway
        .store
        .read(move |c| {
            Ok::<_, StoreError>((load_user(c, &enterprise, &lookup)?, enterprise_merchants(c, &enterprise)?))
        })
        .await?;
    let (base, old) = found.ok_or(AccountError::NotFound)?;
    let new = match parse_access(&form, &merchants) {
        Ok(a) => a,
        Err(e) => {
            let mut values = FormValues::from_form(&form, &merchants);
            values.login = base.1.clone();
            return edit_page(&state, account, id, Some(values), Some(e.to_string()), None).await;
        }
    };
    let (user, stored) = (base.0.clone(), new.clone());
    state.gateway.store.write(move |c| store_access(c, &user, &stored)).await?;
    let mut detail = old.diff(&new, &merchants);
    detail["user"] = json!(base.1);
    super::audit(&state, &account, None, None, "account.user_update", "ok", detail).await;
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/account/users/{id}?done=saved"))).finish())
}

/// Ends every session of the user (after a lock, a delete, a password reset).
fn end_sessions(c: &mut AnyConnection, user: &UserId) -> QueryResult<usize> {
    diesel::delete(account_sessions::table.filter(account_sessions::user_id.eq(user))).execute(c)
}

/// `reset-password`, `lock`, `unlock`, `delete`, `reset-totp` on one user.
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    account.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let (id, action) = path.into_inner();
    refuse_self(&account, &id)?;
    let (enterprise, lookup) = (account.enterprise.clone(), id.clone());
    let found = state.gateway.store.read(move |c| load_user(c, &enterprise, &lookup)).await?;
    let (base, _) = found.ok_or(AccountError::NotFound)?;
    let (user, login) = (base.0.clone(), base.1.clone());
    let (audit_action, done) = match action.as_str() {
        "reset-password" => {
            let password = temporary_password();
            let hash = hash_off_thread(password.clone()).await?;
            let u = user.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(users::table.find(&u))
                        .set((users::password_hash.eq(hash), users::must_change_password.eq(true)))
                        .execute(c)?;
                    end_sessions(c, &u).map_err(StoreError::from)
                })
                .await?;
            super::audit(&state, &account, None, None, "account.user_reset_password", "ok", json!({ "user": login }))
                .await;
            return Ok(html(render(&PasswordShownPage { account, login, password, created: false })?));
        }
        "lock" | "unlock" => {
            let (u, active, l) = (user.clone(), action == "unlock", login.clone());
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(users::table.find(&u)).set(users::active.eq(active)).execute(c)?;
                    if active {
                        // Unlocking also lifts a lock of failed sign-ins.
                        diesel::delete(account_sign_ins::table.find(&l)).execute(c)?;
                    } else {
                        end_sessions(c, &u)?;
                    }
                    Ok::<_, StoreError>(())
                })
                .await?;
            if active { ("account.user_unlock", "unlocked") } else { ("account.user_lock", "locked") }
        }
        "delete" => {
            let u = user.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(users::table.find(&u))
                        .set((users::deleted_at.eq(Some(db::now())), users::active.eq(false)))
                        .execute(c)?;
                    diesel::delete(account_grants::table.filter(account_grants::user_id.eq(&u))).execute(c)?;
                    end_sessions(c, &u).map_err(StoreError::from)
                })
                .await?;
            super::audit(&state, &account, None, None, "account.user_delete", "ok", json!({ "user": login })).await;
            return Ok(HttpResponse::SeeOther().insert_header(("Location", "/account/users?done=deleted")).finish());
        }
        "reset-totp" => {
            let u = user.clone();
            state
                .gateway
                .store
                .write(move |c| {
                    diesel::update(users::table.find(&u))
                        .set((
                            users::totp_enabled.eq(false),
                            users::totp_secret.eq(None::<String>),
                            users::totp_last_step.eq(None::<i64>),
                        ))
                        .execute(c)?;
                    end_sessions(c, &u).map_err(StoreError::from)
                })
                .await?;
            ("account.user_reset_totp", "totp")
        }
        _ => return Err(AccountError::NotFound),
    };
    super::audit(&state, &account, None, None, audit_action, "ok", json!({ "user": login })).await;
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/account/users/{id}?done={done}"))).finish())
}

/// Requires (or stops requiring) TOTP for every user of the enterprise. Users without it set it
/// up at their next sign-in; signed-in users are not cut off mid-work.
pub async fn require_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, AccountError> {
    let account = manager(&req, &state).await?;
    account.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let required = form.get("require").is_some_and(|v| v == "1");
    let enterprise = account.enterprise.clone();
    let old: bool = state
        .gateway
        .store
        .write(move |c| {
            let old = enterprises::table.find(&enterprise).select(enterprises::require_totp).first(c)?;
            diesel::update(enterprises::table.find(&enterprise))
                .set(enterprises::require_totp.eq(required))
                .execute(c)?;
            Ok::<_, StoreError>(old)
        })
        .await?;
    let detail = json!({ "require_totp": [old, required] });
    super::audit(&state, &account, None, None, "account.require_totp", "ok", detail).await;
    let done = if required { "required" } else { "optional" };
    Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/account/users?done={done}"))).finish())
}

#[cfg(test)]
mod tests {
    use super::super::login::MIN_PASSWORD;
    use super::*;

    #[test]
    fn temporary_passwords_are_long_enough_and_differ() {
        let a = temporary_password();
        assert!(a.len() >= MIN_PASSWORD);
        assert_ne!(a, temporary_password());
    }
}
