use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{EnterpriseId, UserId};
use crate::db::schema::users;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub enterprise_id: Option<EnterpriseId>,
    pub login: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// `admin` or `merchant`.
    pub role: String,
    /// May call the web services.
    pub webservices: bool,
    pub active: bool,
    pub created_at: PrimitiveDateTime,
}

pub type NewUser = User;

impl User {
    pub fn by_login(conn: &mut crate::db::AnyConnection, login: &str) -> QueryResult<Option<User>> {
        users::table.filter(users::login.eq(login)).select(User::as_select()).first(conn).optional()
    }
}
