//! The audit log, searchable by actor, enterprise, action and date (UTC days), and exported as
//! CSV with the same filters. Read only: nothing in Kassa updates or deletes an entry.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use time::PrimitiveDateTime;

use super::fields::Errors;
use super::session::{Admin, signed_in};
use super::{AdminError, html, render};
use crate::db::StoreError;
use crate::db::schema::{audit_events, enterprises};
use crate::web::account::Zone;

const PAGE_ROWS: i64 = 200;
const CSV_ROWS: i64 = 100_000;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub enterprise: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// The filter as query conditions: times are UTC, `to` includes its whole day.
struct Checked {
    actor: Option<String>,
    enterprise: Option<String>,
    action: Option<String>,
    from: Option<PrimitiveDateTime>,
    to: Option<PrimitiveDateTime>,
}

fn day(errors: &mut Errors, field: &'static str, text: &str) -> Option<time::Date> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(t, &format) {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(field, "A day as YYYY-MM-DD.");
            None
        }
    }
}

fn check(f: &Filter) -> Result<Checked, Errors> {
    let mut e = Errors::default();
    let from = day(&mut e, "from", &f.from).map(|d| d.midnight());
    let to = day(&mut e, "to", &f.to).map(|d| d.midnight() + time::Duration::days(1));
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        e.add("to", "The last day is before the first.");
    }
    let text = |s: &str| Some(s.trim().chars().take(100).collect::<String>()).filter(|s| !s.is_empty());
    if !e.is_empty() {
        return Err(e);
    }
    Ok(Checked { actor: text(&f.actor), enterprise: text(&f.enterprise), action: text(&f.action), from, to })
}

#[derive(Debug, Clone, Queryable)]
pub struct Entry {
    pub created_at: PrimitiveDateTime,
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub enterprise_id: Option<String>,
    pub merchant_id: Option<String>,
    pub order_id: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

impl Entry {
    pub fn time(&self) -> String {
        Zone::utc().show(self.created_at)
    }

    /// The detail's `changes` as `field: old → new` lines, else the detail as stored.
    pub fn summary(&self) -> String {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&self.detail) else { return self.detail.clone() };
        match v.get("changes").and_then(|c| c.as_object()) {
            Some(changes) if !changes.is_empty() => changes
                .iter()
                .map(|(field, ch)| {
                    let s = |k: &str| ch.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
                    format!("{field}: {} → {}", show(&s("old")), show(&s("new")))
                })
                .collect::<Vec<_>>()
                .join("; "),
            _ => self.detail.clone(),
        }
    }
}

fn show(v: &str) -> String {
    if v.is_empty() { "(empty)".into() } else { v.to_owned() }
}

fn like(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

async fn search(state: &crate::startup::AppState, f: Checked, limit: i64) -> Result<Vec<Entry>, AdminError> {
    Ok(state
        .gateway
        .store
        .read(move |c| {
            let mut q = audit_events::table.into_boxed();
            if let Some(a) = &f.actor {
                q = q.filter(audit_events::actor.like(like(a)).escape('\\'));
            }
            if let Some(e) = &f.enterprise {
                q = q.filter(audit_events::enterprise_id.eq(e.clone()));
            }
            if let Some(a) = &f.action {
                q = q.filter(audit_events::action.like(like(a)).escape('\\'));
            }
            if let Some(t) = f.from {
                q = q.filter(audit_events::created_at.ge(t));
            }
            if let Some(t) = f.to {
                q = q.filter(audit_events::created_at.lt(t));
            }
            q.order((audit_events::created_at.desc(), audit_events::id.desc()))
                .limit(limit)
                .select((
                    audit_events::created_at,
                    audit_events::actor_kind,
                    audit_events::actor,
                    audit_events::action,
                    audit_events::outcome,
                    audit_events::enterprise_id,
                    audit_events::merchant_id,
                    audit_events::order_id,
                    audit_events::ip,
                    audit_events::detail,
                ))
                .load(c)
                .map_err(StoreError::from)
        })
        .await?)
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    admin: Admin,
    filter: Filter,
    errors: Errors,
    enterprises: Vec<(String, String)>,
    entries: Vec<Entry>,
    csv_query: String,
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<crate::startup::AppState>,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let filter = query.into_inner();
    let enterprises: Vec<(String, String)> = state
        .gateway
        .store
        .read(|c| {
            enterprises::table
                .order(enterprises::name.asc())
                .select((enterprises::id, enterprises::name))
                .load(c)
                .map_err(StoreError::from)
        })
        .await?;
    let csv_query = serde_urlencoded::to_string([
        ("actor", &filter.actor),
        ("enterprise", &filter.enterprise),
        ("action", &filter.action),
        ("from", &filter.from),
        ("to", &filter.to),
    ])
    .unwrap_or_default();
    let (entries, errors, status) = match check(&filter) {
        Ok(checked) => (search(&state, checked, PAGE_ROWS).await?, Errors::default(), 200),
        Err(errors) => (Vec::new(), errors, 400),
    };
    let body = render(&AuditPage { admin, filter, errors, enterprises, entries, csv_query })?;
    if status == 200 {
        Ok(html(body))
    } else {
        Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body))
    }
}

/// A CSV field: quoted, quotes doubled, and a leading `=+-@` defused so a spreadsheet does not
/// run it as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

pub async fn export(
    req: HttpRequest,
    state: web::Data<crate::startup::AppState>,
    query: web::Query<Filter>,
) -> Result<HttpResponse, AdminError> {
    signed_in(&req, &state).await?;
    let checked = check(&query)
        .map_err(|e| AdminError::BadRequest(format!("Fix the filter first ({}).", e.fields().join(", "))))?;
    let entries = search(&state, checked, CSV_ROWS).await?;
    let mut out = String::from(
        "time_utc,actor_kind,actor,action,outcome,enterprise_id,merchant_id,order_id,ip,changes,detail\r\n",
    );
    for e in &entries {
        let row = [
            e.time(),
            e.actor_kind.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.outcome.clone(),
            e.enterprise_id.clone().unwrap_or_default(),
            e.merchant_id.clone().unwrap_or_default(),
            e.order_id.clone().unwrap_or_default(),
            e.ip.clone().unwrap_or_default(),
            e.summary(),
            e.detail.clone(),
        ];
        out.push_str(&row.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"kassa-audit.csv\""))
        .body(out))
}
