//! The one row of `gateway_signing_key`: Kassa's private key (PKCS#8 PEM), shared by every Kassa
//! process on the database. Only [`crate::gateway`] reads it, to sign; nothing displays it.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::gateway_signing_key::dsl::{created_at, gateway_signing_key, id, private_key_pem};

/// The table holds at most this row (a CHECK constraint says so).
const ROW: i32 = 1;

/// The stored key, if a process has made one yet.
pub fn stored(c: &mut AnyConnection) -> QueryResult<Option<String>> {
    gateway_signing_key.find(ROW).select(private_key_pem).first(c).optional()
}

/// Stores `pem` unless another process stored its key first, and returns the key that is stored
/// now: two processes that generate at once both end up with the winner's.
pub fn store_or_keep(c: &mut AnyConnection, pem: &str) -> QueryResult<String> {
    let row = (id.eq(ROW), private_key_pem.eq(pem), created_at.eq(crate::db::now()));
    // `MultiConnection` has no ON CONFLICT clause; both backends spell it the same way.
    match c {
        AnyConnection::Postgresql(pg) => {
            diesel::insert_into(gateway_signing_key).values(row).on_conflict_do_nothing().execute(pg)?
        }
        AnyConnection::Sqlite(sqlite) => {
            diesel::insert_into(gateway_signing_key).values(row).on_conflict_do_nothing().execute(sqlite)?
        }
    };
    gateway_signing_key.find(ROW).select(private_key_pem).first(c)
}
