//! The Order Monitor's filters: parsed from the query string (so a view is a bookmarkable URL),
//! turned into one boxed query scoped to the user's enterprise (and to the merchants the user
//! has a role on), sorted by date or amount and paged by a keyset on (sort key, id): no page
//! costs more than the first.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use time::{Date, PrimitiveDateTime};

use super::AccountError;
use std::collections::HashMap;

use super::zone::Zone;
use crate::db::models::{EnterpriseId, MerchantId, Order, OrderId};
use crate::db::schema::{merchants, operations, orders};
use crate::db::{AnyConnection, StoreError};
use crate::domain::OrderState;
use crate::money::{Currency, Money};

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `YYYY-MM-DD`, local days of [`Filter::zone`], inclusive.
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub states: Vec<OrderState>,
    pub merchant: Option<i64>,
    /// Exact, or a mask with `%`.
    pub order_number: Option<String>,
    pub billnumber: Option<String>,
    /// Decimal, in the currency's minor unit (two decimals when no currency is chosen).
    pub amount_min: Option<String>,
    pub amount_max: Option<String>,
    pub currency: Option<String>,
    /// E-mail, last name or first name, exact.
    pub customer: Option<String>,
    /// The last four digits of the card of the order's latest payment attempt.
    pub card: Option<String>,
    /// `test` or `live`.
    pub mode: Option<String>,
    /// The means the order was paid with: `card`, `wallet`, or a card brand (`VISA`, `MIR`…).
    pub means: Option<String>,
    pub sort: Sort,
    /// The zone of `from`/`to`: the handler sets the enterprise's (UTC until then).
    pub zone: Zone,
}

/// The order of the rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    #[default]
    DateDesc,
    DateAsc,
    /// Largest first (in minor units: choose a currency for a meaningful order).
    AmountDesc,
    AmountAsc,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 4] = [
        (Sort::DateDesc, "date", "newest first"),
        (Sort::DateAsc, "date_asc", "oldest first"),
        (Sort::AmountDesc, "amount", "largest amount first"),
        (Sort::AmountAsc, "amount_asc", "smallest amount first"),
    ];

    pub fn as_str(self) -> &'static str {
        Sort::ALL.iter().find(|(s, _, _)| *s == self).map(|(_, name, _)| *name).unwrap_or("date")
    }

    fn by_amount(self) -> bool {
        matches!(self, Sort::AmountDesc | Sort::AmountAsc)
    }
}

/// The means filter's choices: value and label.
pub const MEANS: [(&str, &str); 7] = [
    ("card", "any card"),
    ("VISA", "VISA"),
    ("MasterCard", "MasterCard"),
    ("MIR", "MIR"),
    ("AMEX", "AMEX"),
    ("wallet", "e-wallet"),
    ("none", "not paid"),
];

/// Where a page starts: after the order with this sort key and id.
#[derive(Debug, Clone)]
pub enum Cursor {
    Date(PrimitiveDateTime, OrderId),
    Amount(i64, OrderId),
}

impl Cursor {
    pub fn after(order: &Order, sort: Sort) -> Cursor {
        if sort.by_amount() {
            Cursor::Amount(order.amount, order.id.clone())
        } else {
            Cursor::Date(order.created_at, order.id.clone())
        }
    }
}

/// An order of the view: with its merchant's number and the response code of its last payment
/// attempt.
pub struct Found {
    pub order: Order,
    pub merchant: i64,
    pub response_code: Option<String>,
}

fn text(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

fn bad(field: &str) -> AccountError {
    AccountError::BadRequest(format!("The filter {field} is not valid."))
}

impl Filter {
    /// Parses the query string; also answers the cursor (`after`), if any.
    pub fn parse(query: &str) -> Result<(Filter, Option<Cursor>), AccountError> {
        let mut f = Filter::default();
        let mut after = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let Some(v) = text(&value) else { continue };
            match key.as_ref() {
                "from" | "to" => {
                    let format = time::macros::format_description!("[year]-[month]-[day]");
                    let d = Date::parse(&v, &format).map_err(|_| bad(&key))?;
                    if key == "from" { f.from = Some(d) } else { f.to = Some(d) }
                }
                "state" => {
                    let s: OrderState = v.parse().map_err(|_| bad("state"))?;
                    if !f.states.contains(&s) {
                        f.states.push(s);
                    }
                }
                "merchant" => f.merchant = Some(v.parse().map_err(|_| bad("merchant"))?),
                "order_number" if v.len() <= 128 => f.order_number = Some(v),
                "billnumber" if v.len() <= 20 => f.billnumber = Some(v),
                "amount_min" => f.amount_min = Some(v),
                "amount_max" => f.amount_max = Some(v),
                "currency" => {
                    v.parse::<Currency>().map_err(|_| bad("currency"))?;
                    f.currency = Some(v.to_uppercase());
                }
                "customer" if v.len() <= 200 => f.customer = Some(v),
                "card" if v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()) => f.card = Some(v),
                "mode" if v == "test" || v == "live" => f.mode = Some(v),
                "means" if MEANS.iter().any(|(m, _)| *m == v) => f.means = Some(v),
                "sort" => {
                    f.sort = Sort::ALL
                        .iter()
                        .find(|(_, name, _)| *name == v)
                        .map(|(s, _, _)| *s)
                        .ok_or_else(|| bad("sort"))?
                }
                "after" => after = Some(v),
                _ => return Err(bad(&key)),
            }
        }
        f.amount_minor(&f.amount_min, "amount_min")?;
        f.amount_minor(&f.amount_max, "amount_max")?;
        // The cursor is read last: its form depends on the sort, wherever `sort` stands.
        let after = after.map(|v| decode_cursor(&v, f.sort)).transpose()?;
        Ok((f, after))
    }

    fn amount_minor(&self, v: &Option<String>, field: &str) -> Result<Option<i64>, AccountError> {
        let currency = self.currency.as_deref().unwrap_or("RUB").parse::<Currency>().map_err(|_| bad("currency"))?;
        v.as_deref().map(|s| Money::parse(s, currency).map(|m| m.minor).map_err(|_| bad(field))).transpose()
    }

    /// An amount bound of the filter in minor units (parsed, so valid, by [`Filter::parse`]).
    fn amount_bound(&self, v: &Option<String>) -> Result<Option<i64>, StoreError> {
        self.amount_minor(v, "amount").map_err(|_| StoreError::NotCommitted)
    }

    /// The filter as a query string (without the cursor), for links and the export.
    pub fn to_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        let date = |d: &Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        if let Some(d) = &self.from {
            q.append_pair("from", &date(d));
        }
        if let Some(d) = &self.to {
            q.append_pair("to", &date(d));
        }
        for s in &self.states {
            q.append_pair("state", s.as_str());
        }
        let m = self.merchant.map(|n| n.to_string());
        for (k, v) in [
            ("merchant", &m),
            ("order_number", &self.order_number),
            ("billnumber", &self.billnumber),
            ("amount_min", &self.amount_min),
            ("amount_max", &self.amount_max),
            ("currency", &self.currency),
            ("customer", &self.customer),
            ("card", &self.card),
            ("mode", &self.mode),
            ("means", &self.means),
        ] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        if self.sort != Sort::DateDesc {
            q.append_pair("sort", self.sort.as_str());
        }
        q.finish()
    }

    /// Up to `limit` orders after `after`, in the filter's order, among the enterprise's
    /// orders or, when `visible` is given, among those merchants' only.
    pub fn load(
        &self,
        c: &mut AnyConnection,
        enterprise: &EnterpriseId,
        visible: Option<&[MerchantId]>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<Found>, StoreError> {
        // One keyset query per merchant, merged here. A single query over the enterprise's
        // merchants cannot walk any index in the view's order: the databases sorted every
        // matching order for each page (seconds at a million orders). Per merchant, the
        // `(merchant_id, created_at, id, …)` and `(merchant_id, amount, id, …)` indexes give the
        // first `limit` rows directly, and merging a few short lists is cheap. The indexes also
        // carry currency, state, amount, means and mode, so the databases check those terms on
        // the index entry and read a table row only for an order that matches.
        let mut shops = merchants::table
            .filter(merchants::enterprise_id.eq(enterprise.clone()))
            .select((merchants::id, merchants::merchant_number))
            .into_boxed();
        if let Some(visible) = visible {
            shops = shops.filter(merchants::id.eq_any(visible.to_vec()));
        }
        if let Some(n) = self.merchant {
            shops = shops.filter(merchants::merchant_number.eq(n));
        }
        let shops: Vec<(MerchantId, i64)> = shops.load(c)?;
        // In date order, one query per state too: `(merchant_id, state, created_at)` then gives
        // a rare state's orders directly, where walking every order of the merchant by date in
        // search of them took a third of a second at a quarter of a million orders.
        let states: Vec<Option<OrderState>> = if self.sort.by_amount() || self.states.is_empty() {
            vec![None]
        } else {
            self.states.iter().copied().map(Some).collect()
        };
        let (min, max) = (self.amount_bound(&self.amount_min)?, self.amount_bound(&self.amount_max)?);
        let mut rows: Vec<(Order, i64)> = Vec::new();
        for (merchant, number) in shops {
            let by_amount_index = matches!(c, AnyConnection::Sqlite(_))
                && !self.sort.by_amount()
                && (min.is_some() || max.is_some())
                && narrow_amount_range(c, &merchant, min, max)?;
            for state in &states {
                let found = self.load_merchant(c, &merchant, *state, by_amount_index, after, limit)?;
                rows.extend(found.into_iter().map(|o| (o, number)));
            }
        }
        match self.sort {
            Sort::DateDesc => rows.sort_by(|(a, _), (b, _)| (b.created_at, &b.id).cmp(&(a.created_at, &a.id))),
            Sort::DateAsc => rows.sort_by(|(a, _), (b, _)| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
            Sort::AmountDesc => rows.sort_by(|(a, _), (b, _)| (b.amount, &b.id).cmp(&(a.amount, &a.id))),
            Sort::AmountAsc => rows.sort_by(|(a, _), (b, _)| (a.amount, &a.id).cmp(&(b.amount, &b.id))),
        }
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        self.with_response_codes(c, rows)
    }

    /// Up to `limit` of one merchant's orders after `after`, in the filter's order; of `state`
    /// only, when given, or else of the filter's states.
    ///
    /// SQLite has no statistics on how many rows a range holds, and picks indexes that cost
    /// seconds at a million orders; a unary `+` keeps a term from choosing the index (SQLite's
    /// documented hint; PostgreSQL has no `+` on text and chooses well by itself). In date
    /// order a wide amount range must not pick `(merchant_id, amount, id)`, which makes SQLite
    /// sort every order in the range (0.3 s), while a narrow one must (`by_amount_index`, see
    /// [`narrow_amount_range`]): then the state and the date order are kept off their indexes.
    /// The customer must pick the indexes on e-mail and names, not the merchant's orders by
    /// date.
    fn load_merchant(
        &self,
        c: &mut AnyConnection,
        merchant: &MerchantId,
        state: Option<OrderState>,
        by_amount_index: bool,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<Order>, StoreError> {
        let sqlite = matches!(c, AnyConnection::Sqlite(_));
        let mut q = orders::table.select(Order::as_select()).into_boxed();
        q = if sqlite && self.customer.is_some() {
            q.filter(sql::<Bool>("+orders.merchant_id = ").bind::<Text, _>(merchant.0.clone()))
        } else {
            q.filter(orders::merchant_id.eq(merchant.clone()))
        };
        if let Some(d) = self.from {
            q = q.filter(orders::created_at.ge(self.zone.start_of_day(d)));
        }
        if let Some(d) = self.to.and_then(|d| d.next_day()) {
            q = q.filter(orders::created_at.lt(self.zone.start_of_day(d)));
        }
        if let Some(state) = state {
            q = if by_amount_index {
                q.filter(sql::<Bool>("+orders.state = ").bind::<Text, _>(state.as_str()))
            } else {
                q.filter(orders::state.eq(state.as_str()))
            };
        } else if !self.states.is_empty() {
            q = q.filter(orders::state.eq_any(self.states.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
        }
        if let Some(n) = &self.order_number {
            if n.contains('%') {
                // `%` is the mask; `_` and `\` are literal characters of an order number.
                let pattern = n.replace('\\', "\\\\").replace('_', "\\_");
                q = q.filter(orders::order_number.like(pattern).escape('\\'));
                // SQLite's LIKE ignores the case of ASCII letters, so it cannot read a prefix off
                // the (case-sensitive) `(merchant_id, order_number)` index and scanned the
                // merchant's orders (3 s at a million). The mask's literal start as a range of
                // that index narrows it to the numbers that start so. PostgreSQL derives the range
                // from LIKE itself, with the `text_pattern_ops` index.
                let prefix = &n[..n.find('%').unwrap_or(n.len())];
                if matches!(c, AnyConnection::Sqlite(_)) && !prefix.is_empty() {
                    q = q.filter(orders::order_number.ge(prefix.to_owned()));
                    if let Some(end) = next_prefix(prefix) {
                        q = q.filter(orders::order_number.lt(end));
                    }
                }
            } else {
                q = q.filter(orders::order_number.eq(n.clone()));
            }
        }
        if let Some(b) = &self.billnumber {
            q = q.filter(orders::billnumber.eq(b.clone()));
        }
        let amount_hint = if sqlite && !self.sort.by_amount() && !by_amount_index { "+" } else { "" };
        if let Some(min) = self.amount_bound(&self.amount_min)? {
            q = q.filter(sql::<Bool>(&format!("{amount_hint}orders.amount >= ")).bind::<BigInt, _>(min));
        }
        if let Some(max) = self.amount_bound(&self.amount_max)? {
            q = q.filter(sql::<Bool>(&format!("{amount_hint}orders.amount <= ")).bind::<BigInt, _>(max));
        }
        if let Some(cur) = &self.currency {
            q = q.filter(orders::currency.eq(cur.clone()));
        }
        if let Some(who) = &self.customer {
            q = q.filter(
                orders::email
                    .eq(who.clone())
                    .or(orders::lastname.eq(who.clone()))
                    .or(orders::firstname.eq(who.clone())),
            );
        }
        if let Some(last4) = &self.card {
            q = q.filter(orders::card_last4.eq(last4.clone()));
        }
        if let Some(mode) = &self.mode {
            q = q.filter(orders::test_mode.eq(mode == "test"));
        }
        match self.means.as_deref() {
            None => {}
            Some("card") => q = q.filter(orders::card_brand.is_not_null().and(orders::card_brand.ne("Wallet"))),
            Some("wallet") => q = q.filter(orders::card_brand.eq("Wallet")),
            Some("none") => q = q.filter(orders::card_brand.is_null()),
            Some(brand) => q = q.filter(orders::card_brand.eq(brand.to_owned())),
        }
        // A row-value comparison, `(created_at, id) < (?, ?)`: both databases read it as a range
        // of the `(merchant_id, created_at, id)` or `(merchant_id, amount, id)` index, so a page
        // deep in the view starts where the cursor points. The equivalent
        // `a < ? OR (a = ? AND id < ?)` is no range to PostgreSQL's planner: it walked the index
        // from the start and filtered (1.5 s half a million rows deep, and an export that slowed
        // down with every chunk).
        let rows_after = |key: &str, op: &str| sql::<Bool>(&format!("({key}, orders.id) {op} ("));
        q = match (after, self.sort) {
            (None, _) => q,
            (Some(Cursor::Date(at, id)), Sort::DateDesc | Sort::DateAsc) => {
                let op = if self.sort == Sort::DateDesc { "<" } else { ">" };
                q.filter(
                    rows_after("orders.created_at", op)
                        .bind::<Timestamp, _>(*at)
                        .sql(", ")
                        .bind::<Text, _>(id.0.clone())
                        .sql(")"),
                )
            }
            (Some(Cursor::Amount(a, id)), Sort::AmountDesc | Sort::AmountAsc) => {
                let op = if self.sort == Sort::AmountDesc { "<" } else { ">" };
                q.filter(
                    rows_after("orders.amount", op)
                        .bind::<BigInt, _>(*a)
                        .sql(", ")
                        .bind::<Text, _>(id.0.clone())
                        .sql(")"),
                )
            }
            // `parse` makes the cursor of the sort; any other pairing is a programming error.
            (Some(_), _) => return Err(StoreError::NotCommitted),
        };
        q = match self.sort {
            // `+` keeps the date order from choosing the date index over the amount range.
            Sort::DateDesc if by_amount_index => q.order(sql::<Bool>("+orders.created_at DESC, +orders.id DESC")),
            Sort::DateAsc if by_amount_index => q.order(sql::<Bool>("+orders.created_at ASC, +orders.id ASC")),
            Sort::DateDesc => q.order((orders::created_at.desc(), orders::id.desc())),
            Sort::DateAsc => q.order((orders::created_at.asc(), orders::id.asc())),
            Sort::AmountDesc => q.order((orders::amount.desc(), orders::id.desc())),
            Sort::AmountAsc => q.order((orders::amount.asc(), orders::id.asc())),
        };
        Ok(q.limit(limit).load(c)?)
    }

    /// The orders with the response code of each one's last payment attempt.
    fn with_response_codes(&self, c: &mut AnyConnection, rows: Vec<(Order, i64)>) -> Result<Vec<Found>, StoreError> {
        // The response code of each order's last payment attempt: one query for the page.
        let ids: Vec<OrderId> = rows.iter().map(|(o, _)| o.id.clone()).collect();
        let codes: Vec<(OrderId, i32, Option<String>)> = operations::table
            .filter(operations::order_id.eq_any(ids))
            .filter(operations::kind.eq(crate::domain::OperationKind::Payment.as_str()))
            .select((operations::order_id, operations::seq, operations::response_code))
            .load(c)?;
        let mut last: HashMap<OrderId, (i32, Option<String>)> = HashMap::new();
        for (id, seq, code) in codes {
            if last.get(&id).is_none_or(|(s, _)| *s < seq) {
                last.insert(id, (seq, code));
            }
        }
        Ok(rows
            .into_iter()
            .map(|(order, merchant)| {
                let response_code = last.remove(&order.id).and_then(|(_, c)| c);
                Found { order, merchant, response_code }
            })
            .collect())
    }
}

/// How many of a merchant's orders an amount range may hold for the Order Monitor, in date
/// order on SQLite, to read them off the amount index and sort them.
const NARROW_AMOUNT_RANGE: i64 = 5_000;

/// Whether the merchant has fewer than [`NARROW_AMOUNT_RANGE`] orders in the amount range: one
/// short, index-only read of the range that stops at the bound. A narrow range is read off
/// `(merchant_id, amount, …)` and sorted by date (a millisecond); a wide one holds matches
/// often enough that walking the merchant's orders by date finds a page soon. Without it a
/// range that matches nothing, say above 99,999, walked every order of the merchant by date
/// (0.3 s per quarter of a million orders).
fn narrow_amount_range(
    c: &mut AnyConnection,
    merchant: &MerchantId,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<bool, StoreError> {
    let mut q = orders::table.filter(orders::merchant_id.eq(merchant.clone())).select(orders::amount).into_boxed();
    if let Some(min) = min {
        q = q.filter(orders::amount.ge(min));
    }
    if let Some(max) = max {
        q = q.filter(orders::amount.le(max));
    }
    let held: Vec<i64> = q.limit(NARROW_AMOUNT_RANGE).load(c)?;
    Ok((held.len() as i64) < NARROW_AMOUNT_RANGE)
}

/// The smallest string after every string that starts with `prefix`, in code-point order (which
/// is the byte order of UTF-8, SQLite's BINARY collation); `None` when there is none.
fn next_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value, skipping the surrogate range.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The keyset cursor: the last order's sort key (creation time in unix microseconds, or amount
/// in minor units) and id.
pub fn encode_cursor(order: &Order, sort: Sort) -> String {
    if sort.by_amount() {
        format!("{}_{}", order.amount, order.id)
    } else {
        let micros = order.created_at.assume_utc().unix_timestamp_nanos() / 1_000;
        format!("{micros}_{}", order.id)
    }
}

fn decode_cursor(cursor: &str, sort: Sort) -> Result<Cursor, AccountError> {
    let (key, id) = cursor.split_once('_').ok_or_else(|| bad("after"))?;
    if id.is_empty() || id.len() > 64 {
        return Err(bad("after"));
    }
    let id = OrderId(id.to_owned());
    if sort.by_amount() {
        return Ok(Cursor::Amount(key.parse().map_err(|_| bad("after"))?, id));
    }
    let micros: i128 = key.parse().map_err(|_| bad("after"))?;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).map_err(|_| bad("after"))?;
    Ok(Cursor::Date(PrimitiveDateTime::new(t.date(), t.time()), id))
}

#[cfg(test)]
mod tests {
    use super::next_prefix;

    #[test]
    fn next_prefix_bounds_every_string_with_the_prefix() {
        assert_eq!(next_prefix("S0000001-00012").as_deref(), Some("S0000001-00013"));
        assert_eq!(next_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(next_prefix("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(next_prefix("\u{10FFFF}"), None);
        let end = next_prefix("ab").unwrap();
        for s in ["ab", "ab\u{10FFFF}\u{10FFFF}", "ab~", "abz"] {
            assert!(s.as_bytes() < end.as_bytes(), "{s}");
        }
        assert!("ac".as_bytes() >= end.as_bytes());
    }
}
