//! Processing (`/admin/processing`): the settlement schedule (daily cut-off times in UTC, read
//! by the worker at every turn), "settle now", the last settlement batches, and the simulator's
//! latency and fault injection for each test merchant (read at every payment). Every change is
//! validated beside its field and audited old → new.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::fields::{Errors, diff, number};
use super::session::{Admin, signed_in};
use super::{AdminError, CsrfOnly, Saved, audit, html, render};
use crate::db::models::{Merchant, MerchantId, SettlementBatch};
use crate::db::schema::{merchants, settlement_batches, simulator_settings, transactions};
use crate::db::{self, StoreError};
use crate::domain::{TransactionKind, TransactionState};
use crate::gateway::simulator_settings::{MAX_LATENCY_MS, Refusal, SimulatorSettings};
use crate::startup::AppState;
use crate::web::account::Zone;
use crate::worker::schedule::{self, Schedule};

/// Batches the page lists.
const BATCHES_SHOWN: i64 = 20;
/// Test merchants the page lists.
const MERCHANTS_SHOWN: i64 = 500;

pub struct BatchRow {
    pub id: String,
    pub created_at: String,
    pub currency: String,
    pub items: i32,
    pub total: String,
    pub state: String,
    pub accepted_total: String,
    pub rejected: i32,
    pub processor_ref: String,
    pub acknowledged_at: String,
}

pub struct TestMerchantRow {
    pub id: String,
    pub number: i64,
    pub name: String,
    /// The settings in one line, or empty when none.
    pub summary: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub cutoffs: String,
}

#[derive(Template)]
#[template(path = "admin/processing.html")]
struct ProcessingPage {
    admin: Admin,
    form: ScheduleForm,
    errors: Errors,
    notice: Option<String>,
    last_run: String,
    next_cutoff: String,
    pending: i64,
    batches: Vec<BatchRow>,
    merchants: Vec<TestMerchantRow>,
}

fn summary(s: &SimulatorSettings) -> String {
    let mut parts = Vec::new();
    if s.latency_ms > 0 {
        parts.push(format!("+{} ms", s.latency_ms));
    }
    for (pct, what) in [
        (s.timeout_pct, "timeouts"),
        (s.late_answer_pct, "late answers"),
        (s.error_pct, "errors"),
        (s.decline_pct, "declines"),
        (s.duplicate_pct, "duplicates"),
    ] {
        if pct > 0 {
            parts.push(format!("{pct}% {what}"));
        }
    }
    parts.join(", ")
}

/// Everything the page shows besides the form.
struct Overview {
    schedule: Schedule,
    last_run: Option<time::PrimitiveDateTime>,
    pending: i64,
    batches: Vec<SettlementBatch>,
    merchants: Vec<(Merchant, Option<SimulatorSettings>)>,
}

async fn overview(state: &AppState) -> Result<Overview, AdminError> {
    Ok(state
        .gateway
        .store
        .read(|c| {
            let schedule = schedule::load(c)?;
            let last_run = schedule::last_run(c)?;
            let pending: i64 = transactions::table
                .filter(transactions::kind.eq(TransactionKind::Financial.as_str()))
                .filter(transactions::state.eq(TransactionState::New.as_str()))
                .filter(transactions::amount.gt(0))
                .count()
                .get_result(c)?;
            let batches = settlement_batches::table
                .order(settlement_batches::created_at.desc())
                .limit(BATCHES_SHOWN)
                .select(SettlementBatch::as_select())
                .load(c)?;
            let merchants = merchants::table
                .left_join(simulator_settings::table)
                .filter(merchants::test_mode.eq(true))
                .order(merchants::merchant_number.asc())
                .limit(MERCHANTS_SHOWN)
                .select((Merchant::as_select(), Option::<SimulatorSettings>::as_select()))
                .load(c)?;
            Ok::<_, StoreError>(Overview { schedule, last_run, pending, batches, merchants })
        })
        .await?)
}

async fn page_with(
    state: &AppState,
    admin: Admin,
    form: Option<ScheduleForm>,
    errors: Errors,
    notice: Option<String>,
) -> Result<String, AdminError> {
    let o = overview(state).await?;
    let utc = Zone::utc();
    let now = db::now();
    let form = form.unwrap_or_else(|| ScheduleForm { csrf: String::new(), cutoffs: o.schedule.text() });
    let batches = o
        .batches
        .into_iter()
        .map(|b| BatchRow {
            id: b.id.0.clone(),
            created_at: utc.show(b.created_at),
            total: crate::money::format_minor(b.total, &b.currency),
            accepted_total: crate::money::format_minor(b.accepted_total, &b.currency),
            currency: b.currency,
            items: b.item_count,
            state: b.state,
            rejected: b.rejected_count,
            processor_ref: b.processor_ref.unwrap_or_default(),
            acknowledged_at: b.acknowledged_at.map(|t| utc.show(t)).unwrap_or_default(),
        })
        .collect();
    let merchants = o
        .merchants
        .into_iter()
        .map(|(m, s)| TestMerchantRow {
            id: m.id.0,
            number: m.merchant_number,
            name: m.name,
            summary: s.as_ref().map(summary).unwrap_or_default(),
        })
        .collect();
    render(&ProcessingPage {
        admin,
        form,
        errors,
        notice,
        last_run: o.last_run.map(|t| utc.show(t)).unwrap_or_else(|| "never".into()),
        next_cutoff: utc.show(o.schedule.next_cutoff(now)),
        pending: o.pending,
        batches,
        merchants,
    })
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Saved>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let notice = query.saved.as_ref().map(|_| "Saved. The worker uses the new schedule at its next turn.".to_owned());
    Ok(html(page_with(&state, admin, None, Errors::default(), notice).await?))
}

pub async fn save_schedule(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let schedule = match Schedule::parse(&form.cutoffs) {
        Ok(s) => s,
        Err(message) => {
            let mut errors = Errors::default();
            errors.add("cutoffs", message);
            let body = page_with(&state, admin, Some(form), errors, None).await?;
            return Ok(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body));
        }
    };
    let new = schedule.clone();
    let old = state.gateway.store.write(move |c| schedule::save(c, &new, db::now())).await?;
    let changes = diff(&[("settlement_cutoffs_utc", old.text(), schedule.text())]);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        audit(&state, &admin, None, "admin.settlement_schedule", json!({ "changes": changes })).await;
    }
    Ok(HttpResponse::SeeOther().insert_header(("Location", "/admin/processing?saved=1")).finish())
}

/// Runs a settlement at once, through the same lease as the worker's, so it never runs beside
/// a scheduled one.
pub async fn settle_now(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let holder = format!("admin:{}", admin.login);
    let run = schedule::settle_if_due(&state.gateway, &holder, db::now(), true).await.map_err(|e| {
        tracing::error!(error = %e, "admin: settle now failed");
        AdminError::Internal
    })?;
    let (status, notice) = match run {
        Some(r) => {
            let detail = json!({
                "batches": r.batches,
                "accepted": r.accepted,
                "rejected": r.rejected,
                "unacknowledged": r.unacknowledged,
                "refunds_sent": r.refunds_sent,
            });
            audit(&state, &admin, None, "admin.settle_now", detail).await;
            let mut text = format!(
                "Settlement run: {} batch(es), {} item(s) settled, {} rejected.",
                r.batches, r.accepted, r.rejected
            );
            if r.unacknowledged > 0 {
                text.push_str(&format!(
                    " {} batch(es) not acknowledged yet; the worker asks again at its next turn.",
                    r.unacknowledged
                ));
            }
            (actix_web::http::StatusCode::OK, text)
        }
        None => (
            actix_web::http::StatusCode::CONFLICT,
            "A settlement run is in progress on a worker; nothing was started. Try again in a moment.".to_owned(),
        ),
    };
    let body = page_with(&state, admin, None, Errors::default(), Some(notice)).await?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

/// The simulator form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct SimulatorForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub latency_ms: String,
    #[serde(default)]
    pub timeout_pct: String,
    #[serde(default)]
    pub late_answer_pct: String,
    #[serde(default)]
    pub error_pct: String,
    #[serde(default)]
    pub decline_pct: String,
    #[serde(default)]
    pub duplicate_pct: String,
}

impl SimulatorForm {
    fn of(s: &SimulatorSettings) -> SimulatorForm {
        SimulatorForm {
            csrf: String::new(),
            latency_ms: s.latency_ms.to_string(),
            timeout_pct: s.timeout_pct.to_string(),
            late_answer_pct: s.late_answer_pct.to_string(),
            error_pct: s.error_pct.to_string(),
            decline_pct: s.decline_pct.to_string(),
            duplicate_pct: s.duplicate_pct.to_string(),
        }
    }

    /// The fields as the audit log compares them.
    fn audit_view(&self) -> Vec<(&'static str, String)> {
        vec![
            ("latency_ms", self.latency_ms.trim().to_owned()),
            ("timeout_pct", self.timeout_pct.trim().to_owned()),
            ("late_answer_pct", self.late_answer_pct.trim().to_owned()),
            ("error_pct", self.error_pct.trim().to_owned()),
            ("decline_pct", self.decline_pct.trim().to_owned()),
            ("duplicate_pct", self.duplicate_pct.trim().to_owned()),
        ]
    }
}

/// Checks every field; the errors name the field they belong beside (`faults` for the sum).
pub fn validate(f: &SimulatorForm, merchant: &MerchantId) -> Result<SimulatorSettings, Errors> {
    let mut e = Errors::default();
    let blank_zero = |t: &str| if t.trim().is_empty() { "0".to_owned() } else { t.to_owned() };
    let latency = number(&mut e, "latency_ms", &blank_zero(&f.latency_ms), 0, i64::from(MAX_LATENCY_MS));
    let mut pct = |field: &'static str, text: &str| number(&mut e, field, &blank_zero(text), 0, 100) as i32;
    let timeout = pct("timeout_pct", &f.timeout_pct);
    let late = pct("late_answer_pct", &f.late_answer_pct);
    let error = pct("error_pct", &f.error_pct);
    let decline = pct("decline_pct", &f.decline_pct);
    let duplicate = pct("duplicate_pct", &f.duplicate_pct);
    if e.is_empty() && timeout + late + error + decline + duplicate > 100 {
        e.add("faults", "The faults add up to more than 100%.");
    }
    if !e.is_empty() {
        return Err(e);
    }
    Ok(SimulatorSettings {
        merchant_id: merchant.clone(),
        latency_ms: latency as i32,
        timeout_pct: timeout,
        late_answer_pct: late,
        error_pct: error,
        decline_pct: decline,
        duplicate_pct: duplicate,
        updated_at: db::now(),
    })
}

#[derive(Template)]
#[template(path = "admin/simulator.html")]
struct SimulatorPage {
    admin: Admin,
    merchant: Merchant,
    form: SimulatorForm,
    errors: Errors,
    notice: Option<&'static str>,
    processor_timeout_secs: u64,
}

async fn load(state: &AppState, id: &str) -> Result<(Merchant, SimulatorSettings), AdminError> {
    let id = MerchantId(id.to_owned());
    state
        .gateway
        .store
        .read(move |c| {
            let Some(merchant) = merchants::table.find(&id).select(Merchant::as_select()).first(c).optional()? else {
                return Ok(None);
            };
            let settings =
                SimulatorSettings::of_merchant(c, &id)?.unwrap_or_else(|| SimulatorSettings::calm(&id, db::now()));
            Ok::<_, StoreError>(Some((merchant, settings)))
        })
        .await?
        .ok_or(AdminError::NotFound)
}

fn simulator_page(
    state: &AppState,
    admin: Admin,
    merchant: Merchant,
    form: SimulatorForm,
    errors: Errors,
    notice: Option<&'static str>,
) -> Result<String, AdminError> {
    let processor_timeout_secs = state.gateway.processor_timeout.as_secs();
    render(&SimulatorPage { admin, merchant, form, errors, notice, processor_timeout_secs })
}

pub async fn simulator(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Saved>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let (merchant, settings) = load(&state, &path).await?;
    let notice = query.saved.as_ref().map(|_| "Saved. The next payment of this merchant uses it.");
    Ok(html(simulator_page(&state, admin, merchant, SimulatorForm::of(&settings), Errors::default(), notice)?))
}

pub async fn save_simulator(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<SimulatorForm>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    let form = form.into_inner();
    admin.check_csrf(&form.csrf)?;
    let (merchant, old) = load(&state, &path).await?;
    let refused = |state: &AppState, admin: Admin, merchant: Merchant, form: SimulatorForm, errors: Errors| {
        let body = simulator_page(state, admin, merchant, form, errors, None)?;
        Ok::<_, AdminError>(HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(body))
    };
    let settings = match validate(&form, &merchant.id) {
        Ok(s) => s,
        Err(errors) => return refused(&state, admin, merchant, form, errors),
    };
    let row = settings.clone();
    match state.gateway.store.write(move |c| row.save(c).map_err(StoreError::from)).await? {
        Ok(()) => {}
        Err(Refusal::NotTestMode) => {
            let mut errors = Errors::default();
            errors.add("merchant", "This merchant is live: simulated latency and faults are only for test merchants.");
            // Show what is stored, not what was typed: nothing changed.
            let (merchant, stored) = load(&state, &path).await?;
            return refused(&state, admin, merchant, SimulatorForm::of(&stored), errors);
        }
    }
    let pairs: Vec<(&str, String, String)> = SimulatorForm::of(&old)
        .audit_view()
        .into_iter()
        .zip(SimulatorForm::of(&settings).audit_view())
        .map(|((field, before), (_, after))| (field, before, after))
        .collect();
    let changes = diff(&pairs);
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        let detail = json!({
            "enterprise": merchant.enterprise_id.0,
            "merchant_number": merchant.merchant_number,
            "changes": changes,
        });
        audit(&state, &admin, Some(merchant.id.clone()), "admin.simulator_update", detail).await;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/admin/processing/merchants/{}?saved=1", merchant.id.0)))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulator_fields_are_bounded() {
        let m = MerchantId("m".into());
        let ok = SimulatorForm { latency_ms: "250".into(), error_pct: "100".into(), ..SimulatorForm::default() };
        let s = validate(&ok, &m).unwrap();
        assert_eq!((s.latency_ms, s.error_pct, s.timeout_pct), (250, 100, 0));
        let bad = SimulatorForm { latency_ms: "30001".into(), decline_pct: "-1".into(), ..SimulatorForm::default() };
        assert_eq!(validate(&bad, &m).unwrap_err().fields(), vec!["latency_ms", "decline_pct"]);
        let sum = SimulatorForm { error_pct: "60".into(), decline_pct: "41".into(), ..SimulatorForm::default() };
        assert_eq!(validate(&sum, &m).unwrap_err().fields(), vec!["faults"]);
    }
}
