//! `resultbydate`: the merchant's operations in a window (at most 24 hours, default the last
//! three), filtered by `Operationstate` (N/P/S/F/T), `Operationtype` (A/C/R) and `TestMode`.
//! `DateTimeMode` picks the date the window applies to: 0 the order's, 1 the operation's start,
//! 2 its end.

use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::answer::{self, Format, Row};
use super::codes::ServiceError;
use super::fields::Fields;
use super::serve;
use super::window::window;
use crate::db::models::{Operation, Order};
use crate::db::schema::{operations, orders};
use crate::db::{self, StoreError};
use crate::domain::{OperationKind, OperationState};
use crate::startup::AppState;
use crate::web::protection::Protection;

/// More operations than this in one answer is refused: ask for a shorter window.
const MAX_OPERATIONS: i64 = 10_000;

struct Filters {
    states: Option<Vec<&'static str>>,
    kinds: Option<Vec<&'static str>>,
    test_mode: Option<bool>,
    date_mode: i64,
}

fn letters<T: Copy>(
    fields: &Fields,
    name: &'static str,
    table: &[(char, Option<T>)],
) -> Result<Option<Vec<T>>, ServiceError> {
    let Some(v) = fields.get(name) else { return Ok(None) };
    let mut out = Vec::new();
    for c in v.chars().filter(|c| *c != ',' && !c.is_whitespace()) {
        let (_, value) = table
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(&c))
            .ok_or_else(|| ServiceError::field(name, format!("unknown letter {c:?}")))?;
        out.extend(value.iter().copied());
    }
    Ok(Some(out))
}

fn filters(fields: &Fields) -> Result<Filters, ServiceError> {
    // Kassa has no separate "created" or "timed out" operation state: N and T select nothing.
    let states = letters(
        fields,
        "Operationstate",
        &[
            ('N', None),
            ('P', Some(OperationState::InProcess.as_str())),
            ('S', Some(OperationState::Success.as_str())),
            ('F', Some(OperationState::Declined.as_str())),
            ('T', None),
        ],
    )?;
    let kinds = letters(
        fields,
        "Operationtype",
        &[
            ('A', Some(OperationKind::Payment.as_str())),
            ('C', Some(OperationKind::Confirmation.as_str())),
            ('R', Some(OperationKind::Cancel.as_str())),
        ],
    )?;
    let test_mode = fields.number("TestMode", 0..=1)?.map(|t| t == 1);
    let date_mode = fields.number("DateTimeMode", 0..=2)?.unwrap_or(0);
    Ok(Filters { states, kinds, test_mode, date_mode })
}

pub async fn resultbydate(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    serve(&req, &body, &state.clone(), &protection, Format::Xml, |call| async move {
        let f = filters(&call.fields)?;
        let w = window(&call.fields, db::now(), time::Duration::hours(3), Some(time::Duration::hours(24)))?;
        let merchant = call.caller.merchant.clone();
        let id = merchant.id.clone();
        let found: Vec<(Operation, Order)> = state
            .gateway
            .store
            .read(move |c| {
                let mut q = operations::table
                    .inner_join(orders::table)
                    .filter(orders::merchant_id.eq(id))
                    .select((Operation::as_select(), Order::as_select()))
                    .into_boxed();
                q = match f.date_mode {
                    0 => q.filter(orders::created_at.between(w.start, w.end)),
                    1 => q.filter(operations::created_at.between(w.start, w.end)),
                    _ => q.filter(operations::updated_at.between(w.start, w.end)),
                };
                if let Some(states) = f.states {
                    q = q.filter(operations::state.eq_any(states));
                }
                if let Some(kinds) = f.kinds {
                    q = q.filter(operations::kind.eq_any(kinds));
                }
                if let Some(t) = f.test_mode {
                    q = q.filter(orders::test_mode.eq(t));
                }
                q.order((operations::created_at.asc(), operations::id.asc()))
                    .limit(MAX_OPERATIONS + 1)
                    .load(c)
                    .map_err(StoreError::from)
            })
            .await
            .map_err(|_| ServiceError::internal())?;
        if found.len() as i64 > MAX_OPERATIONS {
            return Err(ServiceError::field("StartYear", "too many operations in the window; ask for a shorter one"));
        }
        let packetdate = answer::assist_date(db::now());
        let seal = state.gateway.seal(&merchant).await?;
        let rows: Vec<Row> = found
            .iter()
            .map(|(op, order)| {
                let view = answer::order_view(&merchant, &seal, order, std::slice::from_ref(op), &packetdate);
                answer::csv_rows(&view, true).remove(0)
            })
            .collect();
        Ok(match call.format {
            Format::Xml => answer::ok(Format::Xml, answer::xml_records("operation", &rows)),
            Format::Csv => {
                let header = answer::header_of(&rows, &["billnumber", "operationbillnumber", "operationtype"]);
                answer::ok(Format::Csv, answer::csv(&rows, &header))
            }
            Format::Json => {
                let list: Vec<Value> = rows.iter().map(|r| Value::Object(answer::object(r))).collect();
                answer::ok_json(json!({ "resultbydate": { "operations": list } }))
            }
        })
    })
    .await
}
