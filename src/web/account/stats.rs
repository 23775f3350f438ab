//! The dashboard's aggregate queries: two GROUP BY scans over the orders of a period, read per
//! merchant along the `orders_by_date` index of migration `monitor_covering_indexes`
//! (index-only on both backends), with time cut into 15-minute UTC
//! buckets (unix seconds / 900): every time zone in use today is a whole number of quarter
//! hours from UTC, so a bucket never straddles a local midnight and Rust folds buckets into
//! the enterprise's local days. The SQL text differs per backend only in the bucket
//! expression and the placeholders.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::sqlite::Sqlite;
use time::PrimitiveDateTime;

use crate::db::AnyConnection;
use crate::db::models::{EnterpriseId, Order};
use crate::db::schema::{merchants, orders};
use crate::domain::OrderState;

/// Seconds in a bucket.
pub const BUCKET: i64 = 900;

/// Which orders count: these merchants, created in `[from, until)` (UTC).
pub struct Scope {
    pub merchants: Vec<String>,
    pub from: PrimitiveDateTime,
    pub until: PrimitiveDateTime,
}

/// The merchants a user of the account sees: all of the enterprise's, or only `listed` ones
/// (the user's per-merchant roles).
pub fn visible_merchants(
    c: &mut AnyConnection,
    enterprise: &EnterpriseId,
    listed: Option<Vec<crate::db::models::MerchantId>>,
) -> QueryResult<Vec<(String, i64)>> {
    let mut q = merchants::table
        .filter(merchants::enterprise_id.eq(enterprise.clone()))
        .select((merchants::id, merchants::merchant_number))
        .order(merchants::merchant_number)
        .into_boxed();
    if let Some(listed) = listed {
        q = q.filter(merchants::id.eq_any(listed));
    }
    q.load(c)
}

/// Orders of one bucket by currency, state and the brand they were paid with (empty: unpaid).
#[derive(Debug, QueryableByName)]
pub struct OrderRow {
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Text)]
    pub brand: String,
    #[diesel(sql_type = BigInt)]
    pub orders: i64,
    #[diesel(sql_type = BigInt)]
    pub amount: i64,
    #[diesel(sql_type = BigInt)]
    pub turnover: i64,
}

/// Declined payment operations of one bucket's orders, by currency and response code.
#[derive(Debug, QueryableByName)]
pub struct DeclineRow {
    #[diesel(sql_type = BigInt)]
    pub bucket: i64,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = BigInt)]
    pub operations: i64,
}

/// The money a paid order still brings: authorized less everything given back
/// ([`crate::domain::OrderMoney::remaining`]), over the states where a payment succeeded.
fn turnover_sql() -> String {
    let paid: Vec<String> =
        OrderState::ALL.iter().filter(|s| s.is_paid()).map(|s| format!("'{}'", s.as_str())).collect();
    format!(
        "CAST(SUM(CASE WHEN o.state IN ({}) THEN o.authorized - o.released - o.voided - o.refunded ELSE 0 END) AS BIGINT)",
        paid.join(", ")
    )
}

const SQLITE_BUCKET: &str = "(CAST(strftime('%s', o.created_at) AS INTEGER) / 900)";
const PG_BUCKET: &str = "CAST(floor(extract(epoch FROM o.created_at) / 900) AS BIGINT)";

/// `sql` with `{bucket}` and `{scope}` filled in for a backend: `?` placeholders for SQLite,
/// `$n` for PostgreSQL, bound in the order merchants, from, until.
fn text(sql: &str, scope: &Scope, pg: bool) -> String {
    let marks = vec!["?"; scope.merchants.len()].join(", ");
    let filled = sql
        .replace("{bucket}", if pg { PG_BUCKET } else { SQLITE_BUCKET })
        .replace("{turnover}", &turnover_sql())
        .replace("{scope}", &format!("o.merchant_id IN ({marks}) AND o.created_at >= ? AND o.created_at < ?"));
    if !pg {
        return filled;
    }
    let mut out = String::with_capacity(filled.len());
    for (n, part) in filled.split('?').enumerate() {
        if n > 0 {
            out.push_str(&format!("${n}"));
        }
        out.push_str(part);
    }
    out
}

macro_rules! run {
    ($conn:expr, $db:ty, $sql:expr, $scope:expr) => {{
        let mut q = diesel::sql_query($sql).into_boxed::<$db>();
        for m in &$scope.merchants {
            q = q.bind::<Text, _>(m.clone());
        }
        q.bind::<Timestamp, _>($scope.from).bind::<Timestamp, _>($scope.until).load($conn)
    }};
}

fn query<R>(c: &mut AnyConnection, sql: &str, scope: &Scope) -> QueryResult<Vec<R>>
where
    R: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
{
    if scope.merchants.is_empty() {
        return Ok(Vec::new());
    }
    match c {
        AnyConnection::Postgresql(pg) => run!(pg, Pg, text(sql, scope, true), scope),
        AnyConnection::Sqlite(sqlite) => run!(sqlite, Sqlite, text(sql, scope, false), scope),
    }
}

/// One index-only scan of `orders_by_date`.
pub fn orders(c: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<OrderRow>> {
    query(
        c,
        "SELECT {bucket} AS bucket, o.currency AS currency, o.state AS state, COALESCE(o.card_brand, '') AS brand, \
         COUNT(*) AS orders, CAST(SUM(o.amount) AS BIGINT) AS amount, {turnover} AS turnover \
         FROM orders o WHERE {scope} GROUP BY 1, 2, 3, 4",
        scope,
    )
}

/// The declined payment operations. A payment is declined only on an order that is `In
/// Process`, and the same transaction moves the order to `Declined` (or `Timeout`, for a 3-D
/// Secure challenge left open): so only those orders are joined to their operations, found by
/// `orders_by_state` (merchant, state, date, id), which keeps the join small on a busy period.
pub fn declines(c: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<DeclineRow>> {
    query(
        c,
        "SELECT {bucket} AS bucket, p.currency AS currency, COALESCE(p.response_code, '') AS code, \
         COUNT(*) AS operations \
         FROM orders o JOIN operations p ON p.order_id = o.id \
         WHERE {scope} AND o.state IN ('Declined', 'Timeout') AND p.kind = 'payment' AND p.state = 'Declined' \
         GROUP BY 1, 2, 3",
        scope,
    )
}

/// The `Delayed` orders of these merchants (whatever the period: a deadline does not wait for
/// it), nearest confirmation deadline first, at most `limit`, and how many there are in all.
pub fn waiting(c: &mut AnyConnection, merchants: &[String], limit: i64) -> QueryResult<(Vec<Order>, i64)> {
    let delayed = || {
        orders::table
            .filter(orders::merchant_id.eq_any(merchants.to_vec()))
            .filter(orders::state.eq(OrderState::Delayed.as_str()))
    };
    let list = delayed()
        .order((orders::confirm_deadline.asc(), orders::id.asc()))
        .limit(limit)
        .select(Order::as_select())
        .load(c)?;
    let total = delayed().count().get_result(c)?;
    Ok((list, total))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn placeholders_per_backend() {
        let scope = Scope {
            merchants: vec!["a".into(), "b".into()],
            from: datetime!(2026-12-01 0:00),
            until: datetime!(2026-12-02 0:00),
        };
        let sql = "SELECT {bucket} FROM orders o WHERE {scope}";
        assert_eq!(
            text(sql, &scope, true),
            format!(
                "SELECT {PG_BUCKET} FROM orders o WHERE o.merchant_id IN ($1, $2) AND o.created_at >= $3 AND o.created_at < $4"
            )
        );
        assert!(text(sql, &scope, false).ends_with("IN (?, ?) AND o.created_at >= ? AND o.created_at < ?"));
        assert!(turnover_sql().contains("'Delayed'") && !turnover_sql().contains("'Declined'"));
    }
}
