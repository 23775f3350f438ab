//! The dashboard (`/account`): for a period of the enterprise's local days and one currency,
//! turnover and approval rate per day (SVG charts drawn here), orders by state and by means,
//! the top decline codes, and the `Delayed` orders waiting for confirmation.
//!
//! Definitions (the page says them too):
//! - **turnover**: over orders in a paid state ([`OrderState::is_paid`]: `Delayed`, `Approved`,
//!   `PartialDelayed`, `PartialCanceled`, `Canceled`), authorized less released, voided and
//!   refunded ([`crate::domain::OrderMoney::remaining`]): a fully cancelled order adds nothing,
//!   a partly refunded one what was kept, a `Delayed` one what is held.
//! - **approval rate**: approved payment operations / payment operations that got an answer
//!   (`Success` or `Declined`; one still `In Process` has none), of the orders created that day.
//!   Successful ones are counted as the paid orders (one each), declined ones by a join.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use time::{Date, Duration};

use super::AccountError;
use super::chart::{self, Labels, Point};
use super::login::{html, render};
use super::session::{Account, signed_in};
use super::stats::{self, BUCKET, Scope};
use super::zone::Zone;
use crate::assist::codes;
use crate::db::StoreError;
use crate::db::models::Order;
use crate::domain::OrderState;
use crate::money::format_minor;
use crate::startup::AppState;

/// Days shown when the query names none.
const DEFAULT_DAYS: i64 = 14;
/// The longest period one page aggregates.
const MAX_DAYS: i64 = 366;
/// Decline codes listed.
const TOP_DECLINES: usize = 10;
/// Waiting orders listed.
const WAITING: i64 = 50;

/// What the query string asks for.
struct Period {
    from: Date,
    to: Date,
    currency: Option<String>,
}

fn parse_date(v: &str) -> Option<Date> {
    Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn bad(message: &str) -> AccountError {
    AccountError::BadRequest(message.to_owned())
}

fn parse(query: &str, zone: &Zone) -> Result<Period, AccountError> {
    let (mut from, mut to, mut currency) = (None, None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        match key.as_ref() {
            "from" => from = Some(parse_date(v).ok_or_else(|| bad("The date from must be YYYY-MM-DD."))?),
            "to" => to = Some(parse_date(v).ok_or_else(|| bad("The date to must be YYYY-MM-DD."))?),
            "currency" => {
                let v = v.to_uppercase();
                v.parse::<crate::money::Currency>().map_err(|_| bad("The currency is not known."))?;
                currency = Some(v);
            }
            _ => return Err(bad("The dashboard takes from, to and currency.")),
        }
    }
    let to = to.unwrap_or_else(|| zone.today());
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(bad("The period must start before it ends."));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(bad("The period can be at most 366 days."));
    }
    Ok(Period { from, to, currency })
}

/// A row of a split table.
pub struct SplitLine {
    pub name: String,
    pub orders: i64,
    pub amount: String,
    pub turnover: String,
}

pub struct DeclineLine {
    pub code: String,
    pub message: String,
    pub operations: i64,
}

pub struct WaitingLine {
    pub billnumber: String,
    pub merchant: i64,
    pub order_number: String,
    pub amount: String,
    pub currency: String,
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "account/dashboard.html")]
struct DashboardPage {
    account: Account,
    from: String,
    to: String,
    currency: String,
    currencies: Vec<String>,
    orders: i64,
    turnover: String,
    approval: String,
    turnover_chart: String,
    approval_chart: String,
    states: Vec<SplitLine>,
    means: Vec<SplitLine>,
    declines: Vec<DeclineLine>,
    waiting: Vec<WaitingLine>,
    waiting_total: i64,
}

/// Per local day of the chosen currency.
#[derive(Default, Clone, Copy)]
struct Day {
    orders: i64,
    turnover: i64,
    answered: i64,
    approved: i64,
}

fn rate(approved: i64, answered: i64) -> Option<f64> {
    (answered > 0).then(|| approved as f64 / answered as f64)
}

fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())
}

fn means_name(brand: &str) -> String {
    match brand {
        "" => "not paid".into(),
        "Wallet" => "wallet".into(),
        b => format!("card ({b})"),
    }
}

/// Folds split rows of one currency into lines keyed by `key`, in the order of `names`.
fn lines(
    rows: &[&stats::OrderRow],
    key: impl Fn(&stats::OrderRow) -> String,
    names: Vec<String>,
    currency: &str,
) -> Vec<SplitLine> {
    let mut sums: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = sums.entry(key(r)).or_default();
        *e = (e.0 + r.orders, e.1 + r.amount, e.2 + r.turnover);
    }
    let mut order = names;
    order.extend(sums.keys().filter(|k| !order.contains(k)).cloned().collect::<Vec<_>>());
    order
        .into_iter()
        .filter_map(|name| {
            sums.get(&name).map(|(n, a, t)| SplitLine {
                name,
                orders: *n,
                amount: format_minor(*a, currency),
                turnover: format_minor(*t, currency),
            })
        })
        .collect()
}

/// The buckets of one currency folded into the period's local days (every day present).
fn fold_days(
    period: &Period,
    zone: &Zone,
    orders: &[&stats::OrderRow],
    declines: &[&stats::DeclineRow],
) -> BTreeMap<Date, Day> {
    let mut days: BTreeMap<Date, Day> = BTreeMap::new();
    let mut d = period.from;
    while d <= period.to {
        days.insert(d, Day::default());
        d += Duration::days(1);
    }
    for r in orders {
        if let Some(day) = days.get_mut(&zone.local_date_of_unix(r.bucket * BUCKET)) {
            day.orders += r.orders;
            day.turnover += r.turnover;
            // A paid order is exactly one successful payment operation (a partial unique index
            // allows one; the payment moves the order to its paid state in the same transaction).
            if r.state.parse::<OrderState>().is_ok_and(OrderState::is_paid) {
                day.approved += r.orders;
                day.answered += r.orders;
            }
        }
    }
    for r in declines {
        if let Some(day) = days.get_mut(&zone.local_date_of_unix(r.bucket * BUCKET)) {
            day.answered += r.operations;
        }
    }
    days
}

/// The two SVG charts of the days.
fn charts(days: &BTreeMap<Date, Day>, period: &Period, zone: &Zone, currency: &str) -> (String, String) {
    let label = |d: &Date| format!("{:02}-{:02}", u8::from(d.month()), d.day());
    let turnover_points: Vec<Point> = days
        .iter()
        .map(|(d, day)| Point {
            label: label(d),
            value: Some(day.turnover as f64),
            title: format!("{d}: {} {currency}, {} orders", format_minor(day.turnover, currency), day.orders),
        })
        .collect();
    let approval_points: Vec<Point> = days
        .iter()
        .map(|(d, day)| Point {
            label: label(d),
            value: rate(day.approved, day.answered).map(|r| r * 100.0),
            title: match rate(day.approved, day.answered) {
                Some(r) => format!("{d}: {:.1}% ({} of {} answered)", r * 100.0, day.approved, day.answered),
                None => format!("{d}: no answered payment"),
            },
        })
        .collect();
    let days_axis = format!("local day ({zone})");
    let money_tick = |v: f64| format_minor(v.round() as i64, currency);
    let turnover_chart = chart::bars(
        &Labels {
            id: "turnover-chart",
            title: &format!("Turnover per day, {currency}"),
            desc: &format!(
                "Paid amounts less returns of the orders created each day from {} to {}, {currency}.",
                period.from, period.to
            ),
            x_axis: &days_axis,
            y_axis: currency,
        },
        &turnover_points,
        &money_tick,
    );
    let approval_chart = chart::line(
        &Labels {
            id: "approval-chart",
            title: "Approval rate per day",
            desc: &format!(
                "Approved payments out of answered payment attempts, of the orders created each day from {} to {}.",
                period.from, period.to
            ),
            x_axis: &days_axis,
            y_axis: "approved, %",
        },
        &approval_points,
        100.0,
        &|v| format!("{v:.0}%"),
    );

    (turnover_chart, approval_chart)
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let zone = account.zone.clone();
    let period = parse(req.query_string(), &zone)?;
    let from = zone.start_of_day(period.from);
    let until = zone.start_of_day(period.to + Duration::days(1));
    let (enterprise, listed) = (account.enterprise.clone(), account.access.merchants());
    let (merchants, orders, declines, (waiting, waiting_total)) = state
        .gateway
        .store
        .read(move |c| {
            let merchants = stats::visible_merchants(c, &enterprise, listed)?;
            let scope = Scope { merchants: merchants.iter().map(|(id, _)| id.clone()).collect(), from, until };
            let waiting = stats::waiting(c, &scope.merchants, WAITING)?;
            Ok::<_, StoreError>((merchants, stats::orders(c, &scope)?, stats::declines(c, &scope)?, waiting))
        })
        .await?;

    // The currency: asked for, else the one of most orders in the period.
    let mut per_currency: BTreeMap<String, i64> = BTreeMap::new();
    for b in &orders {
        *per_currency.entry(b.currency.clone()).or_default() += b.orders;
    }
    let busiest = per_currency.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(c, _)| c.clone());
    let currency = period.currency.clone().or(busiest).unwrap_or_else(|| "RUB".into());
    let mut currencies: Vec<String> = per_currency.keys().cloned().collect();
    if !currencies.contains(&currency) {
        currencies.push(currency.clone());
        currencies.sort();
    }

    let orders: Vec<&stats::OrderRow> = orders.iter().filter(|r| r.currency == currency).collect();
    let declines: Vec<&stats::DeclineRow> = declines.iter().filter(|r| r.currency == currency).collect();
    let days = fold_days(&period, &zone, &orders, &declines);
    let total = days.values().fold(Day::default(), |t, d| Day {
        orders: t.orders + d.orders,
        turnover: t.turnover + d.turnover,
        answered: t.answered + d.answered,
        approved: t.approved + d.approved,
    });

    let (turnover_chart, approval_chart) = charts(&days, &period, &zone, &currency);
    let state_names = OrderState::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    let states = lines(&orders, |r| r.state.clone(), state_names, &currency);
    let means = lines(&orders, |r| means_name(&r.brand), Vec::new(), &currency);
    let mut declined: BTreeMap<String, i64> = BTreeMap::new();
    for r in &declines {
        *declined.entry(r.code.clone()).or_default() += r.operations;
    }
    let mut declines: Vec<DeclineLine> = declined
        .into_iter()
        .map(|(code, operations)| DeclineLine { message: codes::message(&code).to_owned(), code, operations })
        .collect();
    declines.sort_by(|a, b| b.operations.cmp(&a.operations).then(a.code.cmp(&b.code)));
    declines.truncate(TOP_DECLINES);
    let number = |o: &Order| merchants.iter().find(|(id, _)| *id == o.merchant_id.0).map(|(_, n)| *n).unwrap_or(0);
    let waiting = waiting
        .iter()
        .map(|o| WaitingLine {
            billnumber: o.billnumber.clone(),
            merchant: number(o),
            order_number: o.order_number.clone(),
            amount: format_minor(o.amount, &o.currency),
            currency: o.currency.clone(),
            deadline: zone.show_opt(o.confirm_deadline),
        })
        .collect();

    Ok(html(render(&DashboardPage {
        from: period.from.to_string(),
        to: period.to.to_string(),
        orders: total.orders,
        turnover: format_minor(total.turnover, &currency),
        approval: percent(rate(total.approved, total.answered)),
        currency,
        currencies,
        turnover_chart,
        approval_chart,
        states,
        means,
        declines,
        waiting,
        waiting_total,
        account,
    })?))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    #[test]
    fn periods() {
        let utc = Zone::utc();
        let p = parse("from=2026-12-01&to=2026-12-03&currency=usd", &utc).unwrap();
        assert_eq!((p.from, p.to, p.currency.as_deref()), (date!(2026 - 12 - 01), date!(2026 - 12 - 03), Some("USD")));
        let p = parse("", &utc).unwrap();
        assert_eq!((p.to - p.from).whole_days(), DEFAULT_DAYS - 1);
        assert!(parse("from=2026-12-04&to=2026-12-03", &utc).is_err());
        assert!(parse("from=2025-01-01&to=2026-12-03", &utc).is_err());
        assert!(parse("from=yesterday", &utc).is_err());
        assert!(parse("colour=red", &utc).is_err());
    }

    #[test]
    fn buckets_fold_into_local_days() {
        let moscow = Zone::named("Europe/Moscow").unwrap();
        let period = Period { from: date!(2026 - 11 - 30), to: date!(2026 - 12 - 01), currency: None };
        let at = |t: time::PrimitiveDateTime| t.assume_utc().unix_timestamp() / BUCKET;
        let row = |bucket, state: &str, turnover| stats::OrderRow {
            bucket,
            currency: "RUB".into(),
            state: state.into(),
            brand: String::new(),
            orders: 1,
            amount: 100,
            turnover,
        };
        // 22:30 UTC is 01:30 the next day in Moscow; 20:59 UTC is 23:59 the same day.
        let orders = [
            row(at(datetime!(2026-11-30 22:30)), "Approved", 100),
            row(at(datetime!(2026-11-30 20:59)), "Declined", 0),
        ];
        let declines = [stats::DeclineRow {
            bucket: at(datetime!(2026-11-30 20:59)),
            currency: "RUB".into(),
            code: "AS100".into(),
            operations: 1,
        }];
        let days =
            fold_days(&period, &moscow, &orders.iter().collect::<Vec<_>>(), &declines.iter().collect::<Vec<_>>());
        let nov30 = days[&date!(2026 - 11 - 30)];
        let dec1 = days[&date!(2026 - 12 - 01)];
        assert_eq!((nov30.orders, nov30.turnover, nov30.approved, nov30.answered), (1, 0, 0, 1));
        assert_eq!((dec1.orders, dec1.turnover, dec1.approved, dec1.answered), (1, 100, 1, 1));
        let utc = fold_days(&period, &Zone::utc(), &orders.iter().collect::<Vec<_>>(), &[]);
        assert_eq!(utc[&date!(2026 - 11 - 30)].orders, 2);
        assert_eq!(utc[&date!(2026 - 12 - 01)].orders, 0);
    }
}
