//! A merchant's turnover per UTC day (`merchant_daily_turnover`): the sum of its payment
//! operations of that day that are in flight or succeeded. It is what the merchant's
//! `daily_cap` is held against, in the database, whatever runs at the same time.
//!
//! A payment reserves its amount when it starts (in the transaction that writes the operation,
//! before the processor is called) and gives it back when it ends declined or failed
//! ([`Operation::finish`](super::Operation::finish) to any state but `Success`). A cancel or
//! refund of an approved payment gives nothing back: the cap bounds what a merchant may
//! authorize in a day, and an authorize-then-reverse loop must not be a way around it.

use diesel::prelude::*;
use diesel::sql_types::Text;
use time::Date;

use super::{MerchantId, OperationId};
use crate::db::AnyConnection;
use crate::db::schema::{merchant_daily_turnover as turnover, operations, orders};
use crate::domain::OperationKind;

/// The key of a day's row: the UTC date as `YYYY-MM-DD`.
pub fn day_key(day: Date) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

/// Adds `amount` to the merchant's turnover of `day` if the sum stays within `cap` (no cap:
/// always). `false`, and nothing changed, when it would go beyond. The conditional update is
/// the check: on PostgreSQL a concurrent payment waits for the row and re-reads it.
pub fn reserve(
    c: &mut AnyConnection,
    merchant: &MerchantId,
    day: Date,
    amount: i64,
    cap: Option<i64>,
) -> QueryResult<bool> {
    let key = day_key(day);
    // INSERT … ON CONFLICT DO NOTHING: two first payments of a day never trip over each other.
    const INSERT: &str = "INSERT INTO merchant_daily_turnover (merchant_id, day, amount) VALUES";
    match c {
        AnyConnection::Postgresql(pg) => diesel::sql_query(format!("{INSERT} ($1, $2, 0) ON CONFLICT DO NOTHING"))
            .bind::<Text, _>(&merchant.0)
            .bind::<Text, _>(&key)
            .execute(pg)?,
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(format!("{INSERT} (?, ?, 0) ON CONFLICT DO NOTHING"))
            .bind::<Text, _>(&merchant.0)
            .bind::<Text, _>(&key)
            .execute(sqlite)?,
    };
    let row = turnover::table.filter(turnover::merchant_id.eq(merchant)).filter(turnover::day.eq(&key));
    let n = match cap {
        Some(cap) if amount > cap => return Ok(false),
        Some(cap) => diesel::update(row.filter(turnover::amount.le(cap - amount)))
            .set(turnover::amount.eq(turnover::amount + amount))
            .execute(c)?,
        None => diesel::update(row).set(turnover::amount.eq(turnover::amount + amount)).execute(c)?,
    };
    Ok(n == 1)
}

/// Gives back the reservation of a payment operation that ended without success; nothing for
/// other kinds of operation.
pub fn release_payment(c: &mut AnyConnection, operation: &OperationId) -> QueryResult<()> {
    let (kind, amount, created_at, merchant): (String, i64, time::PrimitiveDateTime, MerchantId) = operations::table
        .inner_join(orders::table)
        .filter(operations::id.eq(operation))
        .select((operations::kind, operations::amount, operations::created_at, orders::merchant_id))
        .first(c)?;
    if kind != OperationKind::Payment.as_str() {
        return Ok(());
    }
    let key = day_key(created_at.date());
    let n = diesel::update(
        turnover::table
            .filter(turnover::merchant_id.eq(&merchant))
            .filter(turnover::day.eq(&key))
            .filter(turnover::amount.ge(amount)),
    )
    .set(turnover::amount.eq(turnover::amount - amount))
    .execute(c)?;
    if n != 1 {
        // Only a row written before the payment could be missing; never give back more than held.
        tracing::error!(operation = %operation.0, "turnover: no reservation to give back");
    }
    Ok(())
}

/// The merchant's turnover of `day` so far (reserved and authorized).
pub fn of_day(c: &mut AnyConnection, merchant: &MerchantId, day: Date) -> QueryResult<i64> {
    let amount: Option<i64> = turnover::table
        .filter(turnover::merchant_id.eq(merchant))
        .filter(turnover::day.eq(day_key(day)))
        .select(turnover::amount)
        .first(c)
        .optional()?;
    Ok(amount.unwrap_or(0))
}

/// Every row, for `kassa check`: `(merchant, day, amount)`.
pub fn all(c: &mut AnyConnection) -> QueryResult<Vec<(MerchantId, String, i64)>> {
    turnover::table.select((turnover::merchant_id, turnover::day, turnover::amount)).load(c)
}
