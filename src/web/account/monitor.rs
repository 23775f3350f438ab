//! The Order Monitor (`/account/orders`) and its CSV export (`/account/orders.csv`), both from
//! the same [`Filter`], so the export holds exactly the rows of the view.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::AccountError;
use super::filter::{Cursor, Filter, Found, MEANS, Sort, encode_cursor};
use super::login::{html, render};
use super::session::{Account, signed_in};
use super::zone::Zone;
use crate::db;
use crate::db::models::Order;
use crate::domain::OrderState;
use crate::gateway::settlement_report::csv_field;
use crate::money::format_minor;
use crate::startup::AppState;

pub const PAGE: i64 = 50;
/// Rows read per database round trip of the export.
const EXPORT_CHUNK: i64 = 1000;

pub struct Row {
    /// ISO 8601 in UTC (`…Z`), for the export.
    pub created_at: String,
    /// Local time with the offset, for the page.
    pub created_local: String,
    pub merchant: i64,
    pub order_number: String,
    pub billnumber: String,
    pub customer: String,
    pub amount: String,
    pub currency: String,
    pub means: String,
    /// The card of the latest payment attempt, masked down to its last four (`******4242`).
    pub card: String,
    pub state: String,
    pub response_code: String,
    pub test: bool,
}

impl Row {
    fn of(found: &Found, zone: &Zone) -> Row {
        let (order, merchant) = (&found.order, found.merchant);
        Row {
            created_at: db::iso8601(order.created_at),
            created_local: zone.show(order.created_at),
            merchant,
            order_number: order.order_number.clone(),
            billnumber: order.billnumber.clone(),
            customer: customer(order),
            amount: format_minor(order.amount, &order.currency),
            currency: order.currency.clone(),
            // The means the order was paid with (a card brand, or `Wallet`), not the allowed list.
            means: order.card_brand.clone().unwrap_or_default(),
            card: order.card_last4.as_deref().map(mask_last4).unwrap_or_default(),
            state: order.state.clone(),
            response_code: found.response_code.clone().unwrap_or_default(),
            test: order.test_mode,
        }
    }

    /// The page's means column: `VISA ******4242`; only the card of a declined attempt (the
    /// brand is kept for a successful payment); nothing for an unpaid order.
    pub fn paid_with(&self) -> String {
        [self.means.as_str(), self.card.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
    }
}

/// A card known only by its last four, masked the way the order details show the full mask
/// (`411111******4242`): the same tail, so the two pages can be matched by eye. Orders keep only
/// the last four; the first six are on the payment operation.
fn mask_last4(last4: &str) -> String {
    format!("******{last4}")
}

fn customer(order: &Order) -> String {
    let name: Vec<&str> = [&order.firstname, &order.lastname].into_iter().flatten().map(String::as_str).collect();
    match (&order.email, name.is_empty()) {
        (Some(e), true) => e.clone(),
        (Some(e), false) => format!("{} <{e}>", name.join(" ")),
        (None, _) => name.join(" "),
    }
}

pub struct StateBox {
    pub name: &'static str,
    pub checked: bool,
}

/// An option of a select: value, label, selected.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "account/orders.html")]
struct MonitorPage {
    account: Account,
    filter: Filter,
    states: Vec<StateBox>,
    means: Vec<Choice>,
    sorts: Vec<Choice>,
    rows: Vec<Row>,
    query: String,
    next: Option<String>,
}

async fn load(
    state: &AppState,
    account: &Account,
    filter: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<Found>, AccountError> {
    let (filter, enterprise, visible) = (filter.clone(), account.enterprise.clone(), account.access.merchants());
    Ok(state
        .gateway
        .store
        .read(move |c| filter.load(c, &enterprise, visible.as_deref(), after.as_ref(), limit))
        .await?)
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (mut filter, after) = Filter::parse(req.query_string())?;
    filter.zone = account.zone.clone();
    let mut found = load(&state, &account, &filter, after, PAGE + 1).await?;
    let query = filter.to_query();
    let next = if found.len() as i64 > PAGE {
        found.truncate(PAGE as usize);
        found.last().map(|f| {
            let cursor = encode_cursor(&f.order, filter.sort);
            if query.is_empty() { format!("after={cursor}") } else { format!("{query}&after={cursor}") }
        })
    } else {
        None
    };
    let states =
        OrderState::ALL.iter().map(|s| StateBox { name: s.as_str(), checked: filter.states.contains(s) }).collect();
    let means = MEANS
        .iter()
        .map(|(value, label)| Choice { value, label, selected: filter.means.as_deref() == Some(*value) })
        .collect();
    let sorts =
        Sort::ALL.iter().map(|(sort, value, label)| Choice { value, label, selected: filter.sort == *sort }).collect();
    let rows = found.iter().map(|f| Row::of(f, &account.zone)).collect();
    Ok(html(render(&MonitorPage { account, filter, states, means, sorts, rows, query, next })?))
}

/// The export's columns. `created_at` is ISO 8601 in UTC (`2026-12-03T22:30:00.123456Z`), whatever
/// the enterprise's zone, so spreadsheets and scripts read one format; the `from`/`to` filter
/// still picks the enterprise's local days.
pub const CSV_HEADER: &str =
    "created_at,merchant,order_number,billnumber,state,amount,currency,customer,means,card,response_code,test\r\n";

fn csv_line(row: &Row) -> String {
    let test = if row.test { "test" } else { "live" };
    let fields = [
        row.created_at.clone(),
        row.merchant.to_string(),
        row.order_number.clone(),
        row.billnumber.clone(),
        row.state.clone(),
        row.amount.clone(),
        row.currency.clone(),
        row.customer.clone(),
        row.means.clone(),
        row.card.clone(),
        row.response_code.clone(),
        test.to_owned(),
    ];
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The body of the export: chunks sent by the task that reads the rows.
struct Chunks(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// All rows of the filtered view, read [`EXPORT_CHUNK`] at a time along the same keyset as the
/// pages and streamed: memory stays constant whatever the number of rows.
pub async fn export(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (mut filter, _) = Filter::parse(req.query_string())?;
    filter.zone = account.zone.clone();
    // The first chunk is read before answering, so a database failure is still a clean 500.
    let first = load(&state, &account, &filter, None, EXPORT_CHUNK).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let state = state.into_inner();
    tokio::spawn(async move {
        let mut chunk = first;
        let mut text = String::from(CSV_HEADER);
        loop {
            for found in &chunk {
                text.push_str(&csv_line(&Row::of(found, &account.zone)));
            }
            if tx.send(Ok(Bytes::from(std::mem::take(&mut text)))).await.is_err() {
                return; // The client went away.
            }
            if (chunk.len() as i64) < EXPORT_CHUNK {
                return;
            }
            let after = chunk.last().map(|f| Cursor::after(&f.order, filter.sort));
            match load(&state, &account, &filter, after, EXPORT_CHUNK).await {
                Ok(next) => chunk = next,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"orders.csv\""))
        .streaming(Chunks(rx)))
}

#[derive(serde::Deserialize)]
pub struct SettlementQuery {
    /// `YYYY-MM-DD` (UTC); today when absent.
    date: Option<String>,
    /// `1`: totals per currency instead of items.
    totals: Option<String>,
}

/// The settlement report of a day for the merchants the user sees, as CSV.
pub async fn settlement(
    req: HttpRequest,
    query: web::Query<SettlementQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let day = match query.date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| AccountError::BadRequest("The date must be YYYY-MM-DD.".into()))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let scope = crate::gateway::settlement_report::ReportScope::Enterprise(
        account.enterprise.clone(),
        account.access.merchants(),
    );
    let report = state.gateway.settlement_report(day, scope).await.map_err(|_| AccountError::Internal)?;
    let body = if query.totals.as_deref() == Some("1") { report.totals_csv() } else { report.items_csv() };
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"settlement-{day}.csv\"")))
        .body(body))
}
