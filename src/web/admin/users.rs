//! Users from the admin area: platform admins (create, lock, unlock, reset two-factor, reset the
//! password, delete) and an enterprise's account users (create a manager, lock, unlock).
//! Creating goes through [`setup::add_user`], the same code as `kassa user add`; the other
//! changes through [`crate::web::users::store`], the same code as the account's user pages.
//! Locking, deleting and a reset end the user's sessions.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::fields::Errors;
use super::session::{Admin, signed_in};
use super::{AdminError, audit, html, render};
use crate::db::models::{EnterpriseId, UserId};
use crate::db::schema::users;
use crate::db::{AnyConnection, StoreError};
use crate::gateway::{GatewayError, setup};
use crate::startup::AppState;
use crate::web::account::Zone;
use crate::web::users::{new_password, store as user_store};

#[derive(Queryable)]
pub struct UserRow {
    pub id: UserId,
    pub login: String,
    pub account_role: String,
    pub active: bool,
    pub totp_enabled: bool,
    pub created_at: time::PrimitiveDateTime,
}

impl UserRow {
    pub fn created(&self) -> String {
        Zone::utc().show(self.created_at)
    }
}

/// The users of an enterprise, or the platform admins (`None`); deleted users are left out.
pub fn of(c: &mut crate::db::AnyConnection, enterprise: Option<&EnterpriseId>) -> QueryResult<Vec<UserRow>> {
    let q = users::table.filter(users::deleted_at.is_null()).into_boxed();
    let q = match enterprise {
        Some(e) => q.filter(users::enterprise_id.eq(e.clone())).filter(users::role.eq("merchant")),
        None => q.filter(users::role.eq("admin")),
    };
    q.order(users::login.asc())
        .select((users::id, users::login, users::account_role, users::active, users::totp_enabled, users::created_at))
        .load(c)
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub repeat: String,
}

/// Creates the user, or answers the messages beside the fields.
pub(super) async fn create_user(
    state: &AppState,
    admin: &Admin,
    form: &NewUserForm,
    enterprise: Option<EnterpriseId>,
) -> Result<Result<(), Errors>, AdminError> {
    let mut errors = Errors::default();
    if form.password != form.repeat {
        errors.add("repeat", "The two passwords differ.");
        return Ok(Err(errors));
    }
    let new = setup::AddUser {
        login: form.login.clone(),
        password: form.password.clone(),
        admin: enterprise.is_none(),
        enterprise: enterprise.clone(),
    };
    match setup::add_user(&state.gateway.store, new).await {
        Ok(_) => {}
        Err(GatewayError::InvalidField { field, reason }) => {
            let field = if field == "password" { "password" } else { "login" };
            errors.add(field, format!("{}{}.", reason[..1].to_uppercase(), &reason[1..]));
            return Ok(Err(errors));
        }
        Err(e) => {
            tracing::error!(error = %e, "admin: add user");
            return Err(AdminError::Internal);
        }
    }
    let (action, detail) = match &enterprise {
        None => ("admin.admin_create", json!({ "user": form.login.trim() })),
        Some(e) => ("admin.user_create", json!({ "user": form.login.trim(), "enterprise": e.0, "role": "manager" })),
    };
    audit(state, admin, None, action, detail).await;
    Ok(Ok(()))
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    admin: Admin,
    users: Vec<UserRow>,
    form: NewUserForm,
    errors: Errors,
    notice: Option<&'static str>,
}

async fn users_page(
    state: &AppState,
    admin: Admin,
    form: NewUserForm,
    errors: Errors,
    notice: Option<&'static str>,
) -> Result<HttpResponse, AdminError> {
    let users = state.gateway.store.read(|c| of(c, None).map_err(StoreError::from)).await?;
    let bad = !errors.is_empty();
    let body = render(&UsersPage {
        admin,
        users,
        form: NewUserForm { password: String::new(), repeat: String::new(), ..form },
        errors,
        notice,
    })?;
    Ok(if bad { HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body) } else { html(body) })
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    users_page(&state, admin, NewUserForm::default(), Errors::default(), None).await
}

pub async fn create_admin(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    match create_user(&state, &admin, &form, None).await? {
        Ok(()) => {
            let notice = Some("Admin created. Two-factor sign-in is set up at the first sign-in.");
            users_page(&state, admin, NewUserForm::default(), Errors::default(), notice).await
        }
        Err(errors) => users_page(&state, admin, form, errors, None).await,
    }
}

#[derive(Deserialize)]
pub struct ActForm {
    csrf: String,
}

#[derive(Template)]
#[template(path = "admin/user_password.html")]
struct PasswordShownPage {
    admin: Admin,
    login: String,
    password: String,
}

/// Takes a lock that every change to who is an active admin waits for, so that two admins
/// locking or deleting each other at once cannot leave none. SQLite has one writer already.
fn serialize_admin_changes(c: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = c {
        diesel::sql_query("SELECT pg_advisory_xact_lock(4242001)").execute(pg)?;
    }
    Ok(())
}

/// The active admins besides `user`.
fn other_active_admins(c: &mut AnyConnection, user: &UserId) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq("admin"))
        .filter(users::active.eq(true))
        .filter(users::deleted_at.is_null())
        .filter(users::id.ne(user))
        .count()
        .get_result(c)
}

/// `lock`, `unlock` a user, or `reset-totp`, `reset-password`, `delete` an admin; answers to the
/// page the form came from, or shows the temporary password of a reset once. An admin cannot
/// act on themself, and the last active admin can be neither locked nor deleted: the platform
/// always keeps someone who can sign in to the admin area.
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let (id, action) = path.into_inner();
    let id = UserId(id);
    if id == admin.user_id {
        return Err(AdminError::BadRequest("You cannot lock, delete or reset yourself; ask another admin.".into()));
    }
    let target = id.clone();
    let found: Option<(String, String, Option<EnterpriseId>)> = state
        .gateway
        .store
        .read(move |c| {
            users::table
                .find(target)
                .filter(users::deleted_at.is_null())
                .select((users::login, users::role, users::enterprise_id))
                .first(c)
                .optional()
                .map_err(StoreError::from)
        })
        .await?;
    let Some((login, role, enterprise)) = found else { return Err(AdminError::NotFound) };
    let (audit_action, changes) = match (action.as_str(), role.as_str()) {
        ("lock", _) => ("admin.user_lock", json!({ "active": { "old": "true", "new": "false" } })),
        ("unlock", _) => ("admin.user_unlock", json!({ "active": { "old": "false", "new": "true" } })),
        ("reset-totp", "admin") => ("admin.user_reset_totp", json!({ "totp_enabled": { "new": "false" } })),
        // Never the password, nor its hash: only that it must be changed.
        ("reset-password", "admin") => {
            ("admin.user_reset_password", json!({ "must_change_password": { "new": "true" } }))
        }
        ("delete", "admin") => ("admin.user_delete", json!({ "deleted": { "new": "true" } })),
        _ => return Err(AdminError::NotFound),
    };
    let temporary = match action.as_str() {
        "reset-password" => Some(new_password().await?),
        _ => None,
    };
    let hash = temporary.as_ref().map(|(_, hash)| hash.clone());
    let (target, act, l, is_admin) = (id.clone(), action.clone(), login.clone(), role == "admin");
    let done = state
        .gateway
        .store
        .write(move |c| {
            if is_admin && matches!(act.as_str(), "lock" | "delete") {
                serialize_admin_changes(c)?;
                if other_active_admins(c, &target)? == 0 {
                    return Ok(false);
                }
            }
            match act.as_str() {
                "lock" => user_store::set_active(c, &target, &l, false),
                "unlock" => user_store::set_active(c, &target, &l, true),
                "delete" => user_store::delete(c, &target),
                "reset-password" => user_store::reset_password(c, &target, hash.unwrap_or_default()),
                _ => user_store::reset_totp(c, &target),
            }?;
            Ok::<_, StoreError>(true)
        })
        .await?;
    if !done {
        return Err(AdminError::BadRequest(
            "The last active admin cannot be locked or deleted; create or unlock another admin first.".into(),
        ));
    }
    let mut detail = json!({ "user": login, "changes": changes });
    if let Some(e) = &enterprise {
        detail["enterprise"] = e.0.clone().into();
    }
    audit(&state, &admin, None, audit_action, detail).await;
    if let Some((password, _)) = temporary {
        return Ok(html(render(&PasswordShownPage { admin, login, password })?));
    }
    let back = match &enterprise {
        Some(e) => format!("/admin/enterprises/{}?saved=1", e.0),
        None => "/admin/users".to_owned(),
    };
    Ok(HttpResponse::SeeOther().insert_header(("Location", back)).finish())
}

pub async fn create_enterprise_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let enterprise = EnterpriseId(path.into_inner());
    match create_user(&state, &admin, &form, Some(enterprise.clone())).await? {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/admin/enterprises/{}?saved=1", enterprise.0)))
            .finish()),
        Err(errors) => {
            let body = super::enterprises::show_page_users(&state, admin, &enterprise.0, form, errors).await?;
            Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body))
        }
    }
}
