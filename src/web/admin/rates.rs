//! Exchange rates: entered by hand or imported as CSV, never changed afterwards. A new rate for
//! a pair is a new row with its `valid_from`, so the history stays and an order converts at the
//! newest rate in force when it is made (`gateway::create_order::rate`).

use std::str::FromStr;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use time::PrimitiveDateTime;

use super::fields::Errors;
use super::session::{Admin, signed_in};
use super::{AdminError, audit, html, render};
use crate::db::schema::exchange_rates;
use crate::db::{self, StoreError};
use crate::money::Currency;
use crate::startup::AppState;
use crate::web::account::Zone;

const MAX_IMPORT_LINES: usize = 1000;

/// One checked rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub from: &'static str,
    pub to: &'static str,
    pub rate: Decimal,
    pub valid_from: PrimitiveDateTime,
}

/// Checks one rate as typed; `valid_from` empty means now. Answers the field and its message.
pub fn parse_rate(
    from: &str,
    to: &str,
    rate: &str,
    valid_from: &str,
    now: PrimitiveDateTime,
) -> Result<Rate, (&'static str, String)> {
    let from = Currency::from_str(from).map_err(|_| ("from", format!("Unknown currency {}.", from.trim())))?;
    let to = Currency::from_str(to).map_err(|_| ("to", format!("Unknown currency {}.", to.trim())))?;
    if from == to {
        return Err(("to", "The two currencies must differ.".into()));
    }
    let value = Decimal::from_str(rate.trim()).map_err(|_| ("rate", "A decimal number like 92.15.".to_owned()))?;
    if value <= Decimal::ZERO || value > Decimal::from(1_000_000_000) || value.scale() > 10 {
        return Err(("rate", "Above zero, at most 1,000,000,000 and 10 decimal places.".into()));
    }
    let valid_from = match valid_from.trim() {
        "" => now,
        t => {
            let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
            let day = time::macros::format_description!("[year]-[month]-[day]");
            PrimitiveDateTime::parse(t, &format)
                .or_else(|_| time::Date::parse(t, &day).map(|d| d.midnight()))
                .map_err(|_| ("valid_from", "UTC time as YYYY-MM-DD HH:MM (or a day), empty for now.".to_owned()))?
        }
    };
    Ok(Rate { from: from.code(), to: to.code(), rate: value.normalize(), valid_from })
}

/// Parses CSV lines `from,to,rate[,valid_from]` (a header line is skipped); every bad line is
/// named with its number.
pub fn parse_csv(text: &str, now: PrimitiveDateTime) -> Result<Vec<Rate>, Vec<String>> {
    let mut rates = Vec::new();
    let mut errors = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_IMPORT_LINES {
        return Err(vec![format!("At most {MAX_IMPORT_LINES} lines at once.")]);
    }
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.to_ascii_lowercase().starts_with("from")) {
            continue;
        }
        let cells: Vec<&str> = line.split([',', ';']).map(|c| c.trim().trim_matches('"')).collect();
        if !(3..=4).contains(&cells.len()) {
            errors.push(format!("Line {}: expected from,to,rate[,valid_from].", i + 1));
            continue;
        }
        match parse_rate(cells[0], cells[1], cells[2], cells.get(3).copied().unwrap_or(""), now) {
            Ok(r) if rates.iter().any(|o: &Rate| (o.from, o.to, o.valid_from) == (r.from, r.to, r.valid_from)) => {
                errors.push(format!("Line {}: the same pair and time appear twice.", i + 1))
            }
            Ok(r) => rates.push(r),
            Err((_, m)) => errors.push(format!("Line {}: {m}", i + 1)),
        }
    }
    if rates.is_empty() && errors.is_empty() {
        errors.push("No rate in the text.".into());
    }
    if errors.is_empty() { Ok(rates) } else { Err(errors) }
}

fn insert(c: &mut db::AnyConnection, rates: &[Rate]) -> Result<(), StoreError> {
    for r in rates {
        diesel::insert_into(exchange_rates::table)
            .values((
                exchange_rates::id.eq(db::new_id()),
                exchange_rates::from_currency.eq(r.from),
                exchange_rates::to_currency.eq(r.to),
                exchange_rates::rate.eq(r.rate.to_string()),
                exchange_rates::valid_from.eq(r.valid_from),
            ))
            .execute(c)?;
    }
    Ok(())
}

pub struct Row {
    pub from: String,
    pub to: String,
    pub rate: String,
    pub valid_from: String,
    pub current: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub rate: String,
    #[serde(default)]
    pub valid_from: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub csv: String,
}

#[derive(Template)]
#[template(path = "admin/rates.html")]
struct RatesPage {
    admin: Admin,
    rows: Vec<Row>,
    form: RateForm,
    errors: Errors,
    import: ImportForm,
    import_errors: Vec<String>,
    notice: Option<String>,
}

async fn rows(state: &AppState) -> Result<Vec<Row>, AdminError> {
    let all: Vec<(String, String, String, PrimitiveDateTime)> = state
        .gateway
        .store
        .read(|c| {
            exchange_rates::table
                .order((exchange_rates::from_currency, exchange_rates::to_currency, exchange_rates::valid_from.desc()))
                .limit(2000)
                .select((
                    exchange_rates::from_currency,
                    exchange_rates::to_currency,
                    exchange_rates::rate,
                    exchange_rates::valid_from,
                ))
                .load(c)
                .map_err(StoreError::from)
        })
        .await?;
    let now = db::now();
    let mut seen: Vec<(String, String)> = Vec::new();
    Ok(all
        .into_iter()
        .map(|(from, to, rate, at)| {
            // The newest row in force of each pair is the one orders convert with.
            let pair = (from.clone(), to.clone());
            let current = at <= now && !seen.contains(&pair);
            if current {
                seen.push(pair);
            }
            Row { from, to, rate, valid_from: Zone::utc().show(at), current }
        })
        .collect())
}

async fn page_with(
    state: &AppState,
    admin: Admin,
    form: RateForm,
    errors: Errors,
    import: ImportForm,
    import_errors: Vec<String>,
    notice: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let bad = !errors.is_empty() || !import_errors.is_empty();
    let body = render(&RatesPage { admin, rows: rows(state).await?, form, errors, import, import_errors, notice })?;
    Ok(if bad { HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body) } else { html(body) })
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    page_with(&state, admin, RateForm::default(), Errors::default(), ImportForm::default(), Vec::new(), None).await
}

fn audit_rates(rates: &[Rate]) -> serde_json::Value {
    rates
        .iter()
        .map(|r| json!({ "pair": format!("{}/{}", r.from, r.to), "rate": r.rate.to_string(), "valid_from": Zone::utc().show(r.valid_from) }))
        .collect()
}

async fn store(state: &AppState, rates: Vec<Rate>) -> Result<Result<(), String>, AdminError> {
    match state.gateway.store.write(move |c| insert(c, &rates)).await {
        Ok(()) => Ok(Ok(())),
        Err(e) if e.is_unique_violation() => Ok(Err(
            "A rate for this pair with the same valid-from time exists; rates are never changed, pick another time."
                .into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<RateForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let rate = match parse_rate(&form.from, &form.to, &form.rate, &form.valid_from, db::now()) {
        Ok(r) => r,
        Err((field, message)) => {
            let mut errors = Errors::default();
            errors.add(field, message);
            return page_with(&state, admin, form, errors, ImportForm::default(), Vec::new(), None).await;
        }
    };
    if let Err(message) = store(&state, vec![rate.clone()]).await? {
        let mut errors = Errors::default();
        errors.add("valid_from", message);
        return page_with(&state, admin, form, errors, ImportForm::default(), Vec::new(), None).await;
    }
    audit(&state, &admin, None, "admin.rate_add", json!({ "rates": audit_rates(&[rate]) })).await;
    let notice = Some("Rate saved.".to_owned());
    page_with(&state, admin, RateForm::default(), Errors::default(), ImportForm::default(), Vec::new(), notice).await
}

pub async fn import(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let rates = match parse_csv(&form.csv, db::now()) {
        Ok(r) => r,
        Err(errors) => {
            return page_with(&state, admin, RateForm::default(), Errors::default(), form, errors, None).await;
        }
    };
    let n = rates.len();
    let detail = json!({ "count": n, "rates": audit_rates(&rates) });
    // All or nothing: one bad row keeps every row out.
    if let Err(message) = store(&state, rates).await? {
        return page_with(&state, admin, RateForm::default(), Errors::default(), form, vec![message], None).await;
    }
    audit(&state, &admin, None, "admin.rate_import", detail).await;
    let notice = Some(format!("Imported {n} rate(s)."));
    page_with(&state, admin, RateForm::default(), Errors::default(), ImportForm::default(), Vec::new(), notice).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_checked_one_by_one() {
        let now = time::macros::datetime!(2026-12-03 12:00);
        let ok = parse_csv("from,to,rate,valid_from\nUSD,RUB,92.5\neur;rub;100.10;2026-12-01 09:30\n", now).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!((ok[1].from, ok[1].to, ok[1].rate.to_string()), ("EUR", "RUB", "100.1".into()));
        assert_eq!(ok[1].valid_from, time::macros::datetime!(2026-12-01 09:30));
        let bad = parse_csv("USD,RUB,-1\nUSD,USD,1\nXXX,RUB,1\nUSD,RUB\n", now).unwrap_err();
        assert_eq!(bad.len(), 4);
        assert!(bad[0].starts_with("Line 1:") && bad[3].starts_with("Line 4:"), "{bad:?}");
    }
}
