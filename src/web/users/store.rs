//! The database side of an enterprise's users: loading them with their access, and every change
//! the users pages make (create, access, password, lock, delete, two-factor). The account's
//! users page and the admin area both call these; nothing here knows who is acting.

use diesel::prelude::*;

use super::access::{Access, MerchantRow};
use crate::db::models::{EnterpriseId, MerchantId, NewUser, UserId};
use crate::db::schema::{account_grants, account_sessions, account_sign_ins, enterprises, merchants, users};
use crate::db::{self, AnyConnection, StoreError};
use crate::web::account::Role;

/// A user as the pages show it.
pub struct UserBase {
    pub id: UserId,
    pub login: String,
    pub totp: bool,
    pub active: bool,
}

type Columns = (UserId, String, Option<String>, String, String, Option<i64>, Option<String>, bool, bool);

pub fn enterprise_merchants(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<Vec<MerchantRow>> {
    let rows: Vec<(MerchantId, i64, String)> = merchants::table
        .filter(merchants::enterprise_id.eq(enterprise))
        .order(merchants::merchant_number.asc())
        .select((merchants::id, merchants::merchant_number, merchants::name))
        .load(c)?;
    Ok(rows.into_iter().map(|(id, number, name)| MerchantRow { id, number, name }).collect())
}

pub fn enterprise_name(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<Option<String>> {
    enterprises::table.find(enterprise).select(enterprises::name).first(c).optional()
}

pub fn require_totp(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<bool> {
    enterprises::table.find(enterprise).select(enterprises::require_totp).first(c)
}

fn with_access(c: &mut AnyConnection, row: Columns) -> QueryResult<(UserBase, Access)> {
    let (id, login, email, role, scope, limit, currency, totp, active) = row;
    let grants = if scope == "listed" {
        let rows: Vec<(MerchantId, String)> = account_grants::table
            .filter(account_grants::user_id.eq(&id))
            .select((account_grants::merchant_id, account_grants::role))
            .load(c)?;
        Some(rows.into_iter().map(|(m, r)| (m, Role::parse(&r))).collect())
    } else {
        None
    };
    let access = Access { email, grants, role: Role::parse(&role), limit: limit.zip(currency) };
    Ok((UserBase { id, login, totp, active }, access))
}

#[allow(clippy::type_complexity)]
fn columns() -> (
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

/// The enterprise's live users with their access, login first.
pub fn load_users(c: &mut AnyConnection, enterprise: &EnterpriseId) -> QueryResult<Vec<(UserBase, Access)>> {
    let rows: Vec<Columns> = users::table
        .filter(users::enterprise_id.eq(enterprise))
        .filter(users::role.eq("merchant"))
        .filter(users::deleted_at.is_null())
        .order(users::login.asc())
        .select(columns())
        .load(c)?;
    rows.into_iter().map(|r| with_access(c, r)).collect()
}

/// One live user of the enterprise; `None` for any other id (another enterprise's included).
pub fn load_user(
    c: &mut AnyConnection,
    enterprise: &EnterpriseId,
    id: &str,
) -> QueryResult<Option<(UserBase, Access)>> {
    let row: Option<Columns> = users::table
        .filter(users::id.eq(id))
        .filter(users::enterprise_id.eq(enterprise))
        .filter(users::role.eq("merchant"))
        .filter(users::deleted_at.is_null())
        .select(columns())
        .first(c)
        .optional()?;
    row.map(|r| with_access(c, r)).transpose()
}

/// Writes the access of `user` (the grants are replaced as a whole).
pub fn store_access(c: &mut AnyConnection, user: &UserId, access: &Access) -> Result<(), StoreError> {
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

/// Creates an account user who must choose their own password at the first sign-in; `false`
/// when the login is taken.
pub fn create(
    c: &mut AnyConnection,
    enterprise: &EnterpriseId,
    login: &str,
    password_hash: String,
    access: &Access,
) -> Result<bool, StoreError> {
    let taken: i64 = users::table.filter(users::login.eq(login)).count().get_result(c)?;
    if taken > 0 {
        return Ok(false);
    }
    let user = NewUser {
        id: UserId::new(),
        enterprise_id: Some(enterprise.clone()),
        login: login.to_owned(),
        password_hash,
        role: "merchant".into(),
        webservices: false,
        active: true,
        created_at: db::now(),
    };
    diesel::insert_into(users::table).values(&user).execute(c)?;
    diesel::update(users::table.find(&user.id)).set(users::must_change_password.eq(true)).execute(c)?;
    store_access(c, &user.id, access)?;
    Ok(true)
}

/// Ends every session of the user (after a lock, a delete, a password reset).
fn end_sessions(c: &mut AnyConnection, user: &UserId) -> QueryResult<usize> {
    diesel::delete(account_sessions::table.filter(account_sessions::user_id.eq(user))).execute(c)
}

/// A new (temporary) password that must be changed at the next sign-in; signs the user out.
pub fn reset_password(c: &mut AnyConnection, user: &UserId, password_hash: String) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set((users::password_hash.eq(password_hash), users::must_change_password.eq(true)))
        .execute(c)?;
    end_sessions(c, user)?;
    Ok(())
}

/// Locks (and signs out) or unlocks a user; unlocking also lifts a lock of failed sign-ins.
/// Admins and account users alike.
pub fn set_active(c: &mut AnyConnection, user: &UserId, login: &str, active: bool) -> QueryResult<()> {
    diesel::update(users::table.find(user)).set(users::active.eq(active)).execute(c)?;
    if active {
        diesel::delete(account_sign_ins::table.find(login)).execute(c)?;
    } else {
        end_sessions(c, user)?;
    }
    Ok(())
}

/// Deletes a user: kept for the audit log's sake, but locked, without grants or sessions.
pub fn delete(c: &mut AnyConnection, user: &UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set((users::deleted_at.eq(Some(db::now())), users::active.eq(false)))
        .execute(c)?;
    diesel::delete(account_grants::table.filter(account_grants::user_id.eq(user))).execute(c)?;
    end_sessions(c, user)?;
    Ok(())
}

/// Turns off a lost authenticator: the user sets two-factor sign-in up again. Signs them out.
pub fn reset_totp(c: &mut AnyConnection, user: &UserId) -> QueryResult<()> {
    diesel::update(users::table.find(user))
        .set((
            users::totp_enabled.eq(false),
            users::totp_secret.eq(None::<String>),
            users::totp_last_step.eq(None::<i64>),
        ))
        .execute(c)?;
    end_sessions(c, user)?;
    Ok(())
}

/// Requires (or stops requiring) TOTP for the enterprise; answers the old value.
pub fn set_require_totp(c: &mut AnyConnection, enterprise: &EnterpriseId, required: bool) -> QueryResult<bool> {
    let old = require_totp(c, enterprise)?;
    diesel::update(enterprises::table.find(enterprise)).set(enterprises::require_totp.eq(required)).execute(c)?;
    Ok(old)
}
