//! The per-login lock of the account and admin sign-ins: every [`MAX_FAILURES`]th failure locks
//! the login for [`LOCK`].
//!
//! An attempt is counted before its password (or TOTP code) is verified, in one upsert that
//! also refuses it if the login is locked ([`claim`]); a right answer gives its count back
//! ([`release`]) or clears it. Checking first and counting afterwards let a burst of
//! simultaneous guesses all pass the check, and on PostgreSQL lost counts or collided on the
//! first insert; counting first, in the database, makes the tenth claim the last one judged.

use diesel::prelude::*;
// `filter` of an upsert (its `DO UPDATE … WHERE`) is not in the prelude.
use diesel::query_dsl::methods::FilterDsl as _;
use time::Duration;

use super::AccountError;
use crate::db::schema::account_sign_ins::dsl::{
    account_sign_ins, failures, locked_until, login as login_col, updated_at,
};
use crate::db::{self, AnyConnection, StoreError};
use crate::startup::AppState;

pub const MAX_FAILURES: i32 = 10;
pub const LOCK: Duration = Duration::minutes(30);

/// One counted attempt of a login that was not locked.
#[derive(Debug)]
pub(crate) struct Claim {
    login: String,
    /// This attempt was the one that locked the login.
    locked: bool,
}

/// Counts one attempt of `login` unless it is locked; `None` when it is locked, and the attempt
/// must be refused without looking at the password.
pub(crate) async fn claim(state: &AppState, login: String) -> Result<Option<Claim>, AccountError> {
    let now = db::now();
    let claimed = state
        .gateway
        .store
        .write(move |c| {
            let Some(count) = count_attempt(c, &login, now)? else { return Ok::<_, StoreError>(None) };
            // The count is this transaction's own (the row stays locked until commit), so
            // exactly one of any burst of attempts sees each multiple of MAX_FAILURES.
            let locked = count % MAX_FAILURES == 0;
            if locked {
                diesel::update(account_sign_ins.find(&login)).set(locked_until.eq(Some(now + LOCK))).execute(c)?;
            }
            Ok(Some(Claim { login, locked }))
        })
        .await?;
    Ok(claimed)
}

/// `failures + 1` for `login` (a new row counts 1) unless it is locked at `now`, in a single
/// `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`; the new count, or `None` when locked.
fn count_attempt(c: &mut AnyConnection, login: &str, now: time::PrimitiveDateTime) -> QueryResult<Option<i32>> {
    let first =
        (login_col.eq(login), failures.eq(1), locked_until.eq(None::<time::PrimitiveDateTime>), updated_at.eq(now));
    let unlocked = locked_until.is_null().or(locked_until.le(now));
    // `MultiConnection` has no ON CONFLICT clause; both backends spell it the same way.
    match c {
        AnyConnection::Postgresql(pg) => diesel::insert_into(account_sign_ins)
            .values(first)
            .on_conflict(login_col)
            .do_update()
            .set((failures.eq(failures + 1), updated_at.eq(now)))
            .filter(unlocked)
            .returning(failures)
            .get_result(pg)
            .optional(),
        AnyConnection::Sqlite(sqlite) => diesel::insert_into(account_sign_ins)
            .values(first)
            .on_conflict(login_col)
            .do_update()
            .set((failures.eq(failures + 1), updated_at.eq(now)))
            .filter(unlocked)
            .returning(failures)
            .get_result(sqlite)
            .optional(),
    }
}

/// Gives back the count of an attempt whose password was right while the sign-in goes on (to
/// the TOTP step), and the lock it set: the ninth failure followed by the right password signs
/// in, as it always did.
pub(crate) async fn release(state: &AppState, claim: Claim) -> Result<(), AccountError> {
    state
        .gateway
        .store
        .write(move |c| {
            let row = account_sign_ins.find(&claim.login);
            if claim.locked {
                // No attempt could be counted while this one held the lock.
                diesel::update(row)
                    .set((failures.eq(failures - 1), locked_until.eq(None::<time::PrimitiveDateTime>)))
                    .execute(c)?;
            } else {
                diesel::update(row).set(failures.eq(failures - 1)).execute(c)?;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(())
}

/// Clears the failure count of a login after a complete sign-in.
pub(crate) fn clear_failures(c: &mut AnyConnection, login: &str) -> Result<(), StoreError> {
    diesel::delete(account_sign_ins.find(login)).execute(c)?;
    Ok(())
}
