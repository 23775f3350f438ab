//! The system page (version, database, worker queues, failed messages with retry, the last
//! settlement batches), `/healthz` and `/metrics` (Prometheus text format 0.0.4).

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::dsl::{count_star, min, sum};
use diesel::prelude::*;
use serde_json::json;
use time::PrimitiveDateTime;

use super::session::{Admin, signed_in};
use super::{AdminError, CsrfOnly, audit, html, render};
use crate::db::schema::{delivery_attempts, job_leases, orders, outbox, settlement_batches};
use crate::db::{self, AnyConnection, StoreError};
use crate::startup::AppState;
use crate::web::account::Zone;
use crate::web::account::session::constant_eq;

/// Answered requests by status class (1xx … 5xx), counted by [`count_request`].
static REQUESTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Counts one answered request; called by the middleware every route passes through.
pub fn count_request(status: u16) {
    let class = usize::from(status / 100).clamp(1, 5) - 1;
    REQUESTS[class].fetch_add(1, Ordering::Relaxed);
}

/// Queue depth per topic and state, and the oldest pending message.
struct Queues {
    depths: Vec<(String, String, i64)>,
    oldest_pending: Option<PrimitiveDateTime>,
}

fn queues(c: &mut AnyConnection) -> QueryResult<Queues> {
    let depths = outbox::table
        .group_by((outbox::topic, outbox::state))
        .select((outbox::topic, outbox::state, count_star()))
        .order((outbox::topic, outbox::state))
        .load(c)?;
    let oldest_pending =
        outbox::table.filter(outbox::state.eq("pending")).select(min(outbox::available_at)).first(c)?;
    Ok(Queues { depths, oldest_pending })
}

#[derive(Queryable)]
pub struct Failed {
    pub id: String,
    pub topic: String,
    pub attempts: i32,
    pub created_at: PrimitiveDateTime,
    pub last_error: Option<String>,
}

#[derive(Queryable)]
pub struct Batch {
    pub id: String,
    pub currency: String,
    pub state: String,
    pub item_count: i32,
    pub total: i64,
    pub created_at: PrimitiveDateTime,
    pub acknowledged_at: Option<PrimitiveDateTime>,
}

impl Failed {
    pub fn created(&self) -> String {
        utc(self.created_at)
    }
}

impl Batch {
    pub fn created(&self) -> String {
        utc(self.created_at)
    }

    pub fn acknowledged(&self) -> String {
        self.acknowledged_at.map(utc).unwrap_or_default()
    }

    pub fn total_text(&self) -> String {
        crate::money::format_minor(self.total, &self.currency)
    }
}

#[derive(Template)]
#[template(path = "admin/system.html")]
struct SystemPage {
    admin: Admin,
    version: &'static str,
    backend: String,
    database_ok: bool,
    depths: Vec<(String, String, i64)>,
    oldest_pending: String,
    failed: Vec<Failed>,
    batches: Vec<Batch>,
    jobs: Vec<(String, String, String)>,
    notice: Option<&'static str>,
}

fn utc(t: PrimitiveDateTime) -> String {
    Zone::utc().show(t)
}

fn backend(state: &AppState) -> String {
    format!("{:?}", state.gateway.store.backend()).to_lowercase()
}

async fn system_page(state: &AppState, admin: Admin, notice: Option<&'static str>) -> Result<String, AdminError> {
    type Loaded = (Queues, Vec<Failed>, Vec<Batch>, Vec<(String, String, String)>);
    let (q, failed, batches, jobs): Loaded = state
        .gateway
        .store
        .read(|c| {
            let q = queues(c)?;
            let failed = outbox::table
                .filter(outbox::state.eq("failed"))
                .order(outbox::created_at.desc())
                .limit(50)
                .select((outbox::id, outbox::topic, outbox::attempts, outbox::created_at, outbox::last_error))
                .load(c)?;
            let batches = settlement_batches::table
                .order(settlement_batches::created_at.desc())
                .limit(10)
                .select((
                    settlement_batches::id,
                    settlement_batches::currency,
                    settlement_batches::state,
                    settlement_batches::item_count,
                    settlement_batches::total,
                    settlement_batches::created_at,
                    settlement_batches::acknowledged_at,
                ))
                .load(c)?;
            let leases: Vec<(String, String, PrimitiveDateTime, Option<PrimitiveDateTime>)> = job_leases::table
                .order(job_leases::name)
                .select((job_leases::name, job_leases::holder, job_leases::lease_until, job_leases::last_run_at))
                .load(c)?;
            let jobs = leases
                .into_iter()
                .map(|(name, holder, _, last)| (name, holder, last.map(utc).unwrap_or_else(|| "never".into())))
                .collect();
            Ok::<_, StoreError>((q, failed, batches, jobs))
        })
        .await?;
    render(&SystemPage {
        admin,
        version: env!("CARGO_PKG_VERSION"),
        backend: backend(state),
        database_ok: true,
        depths: q.depths,
        oldest_pending: q.oldest_pending.map(utc).unwrap_or_else(|| "none".into()),
        failed,
        batches,
        jobs,
        notice,
    })
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    Ok(html(system_page(&state, admin, None).await?))
}

/// Puts a failed message back in the queue.
pub async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, AdminError> {
    let admin = signed_in(&req, &state).await?;
    admin.check_csrf(&form.csrf)?;
    let id = path.into_inner();
    let target = id.clone();
    let found: Option<(String, bool)> = state
        .gateway
        .store
        .write(move |c| {
            let merchant: Option<String> =
                outbox::table.find(&target).select(outbox::merchant_id).first(c).optional()?;
            let Some(merchant) = merchant else { return Ok(None) };
            let resent = crate::worker::claim::resend(c, &target, db::now())?;
            Ok::<_, StoreError>(Some((merchant, resent)))
        })
        .await?;
    let Some((merchant, resent)) = found else { return Err(AdminError::NotFound) };
    if resent {
        let m = crate::db::models::MerchantId(merchant);
        audit(&state, &admin, Some(m), "admin.outbox_retry", json!({ "message": id })).await;
    }
    let notice = if resent { "The message is queued again." } else { "The message was already queued." };
    Ok(html(system_page(&state, admin, Some(notice)).await?))
}

/// Liveness and readiness: 200 when the process answers and the database does.
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let ok =
        state.gateway.store.read(|c| diesel::sql_query("SELECT 1").execute(c).map_err(StoreError::from)).await.is_ok();
    let body = json!({ "status": if ok { "ok" } else { "unavailable" }, "database": backend(&state), "version": env!("CARGO_PKG_VERSION") });
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Label values escaped the Prometheus way.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

struct Snapshot {
    orders: Vec<(String, bool, i64)>,
    queues: Queues,
    batches: Vec<(String, i64, Option<i64>)>,
    failed_attempts: i64,
    failed_messages: i64,
}

/// The Prometheus text exposition of requests, payments by state, queue depths, settlement and
/// notification failures.
pub async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AdminError> {
    if let Some(token) = &state.config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !constant_eq(given.as_bytes(), token.as_bytes()) {
            return Ok(HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"kassa-metrics\""))
                .finish());
        }
    }
    let s: Snapshot = state
        .gateway
        .store
        .read(|c| {
            let orders = orders::table
                .group_by((orders::state, orders::test_mode))
                .select((orders::state, orders::test_mode, count_star()))
                .load(c)?;
            let batches = settlement_batches::table
                .group_by(settlement_batches::state)
                .select((settlement_batches::state, count_star(), sum(settlement_batches::item_count)))
                .load::<(String, i64, Option<i64>)>(c)?;
            let failed_attempts =
                delivery_attempts::table.filter(delivery_attempts::outcome.ne("delivered")).count().get_result(c)?;
            let failed_messages = outbox::table.filter(outbox::state.eq("failed")).count().get_result(c)?;
            Ok::<_, StoreError>(Snapshot { orders, queues: queues(c)?, batches, failed_attempts, failed_messages })
        })
        .await?;
    let mut out = String::new();
    out.push_str("# HELP kassa_http_requests_total HTTP requests answered, by status class.\n");
    out.push_str("# TYPE kassa_http_requests_total counter\n");
    for (i, n) in REQUESTS.iter().enumerate() {
        out.push_str(&format!("kassa_http_requests_total{{class=\"{}xx\"}} {}\n", i + 1, n.load(Ordering::Relaxed)));
    }
    out.push_str("# HELP kassa_orders Orders by state and mode.\n# TYPE kassa_orders gauge\n");
    for (st, test, n) in &s.orders {
        let mode = if *test { "test" } else { "live" };
        out.push_str(&format!("kassa_orders{{state=\"{}\",mode=\"{mode}\"}} {n}\n", label(st)));
    }
    out.push_str(
        "# HELP kassa_outbox_messages Outbox messages by topic and state.\n# TYPE kassa_outbox_messages gauge\n",
    );
    for (topic, st, n) in &s.queues.depths {
        out.push_str(&format!("kassa_outbox_messages{{topic=\"{}\",state=\"{}\"}} {n}\n", label(topic), label(st)));
    }
    let age = s.queues.oldest_pending.map_or(0, |t| (db::now() - t).whole_seconds().max(0));
    out.push_str("# HELP kassa_outbox_oldest_pending_seconds Age of the oldest due pending message.\n");
    out.push_str(&format!(
        "# TYPE kassa_outbox_oldest_pending_seconds gauge\nkassa_outbox_oldest_pending_seconds {age}\n"
    ));
    out.push_str(
        "# HELP kassa_settlement_batches Settlement batches by state.\n# TYPE kassa_settlement_batches gauge\n",
    );
    for (st, n, _) in &s.batches {
        out.push_str(&format!("kassa_settlement_batches{{state=\"{}\"}} {n}\n", label(st)));
    }
    out.push_str("# HELP kassa_settlement_items Settlement items in batches, by batch state.\n# TYPE kassa_settlement_items gauge\n");
    for (st, _, items) in &s.batches {
        out.push_str(&format!("kassa_settlement_items{{state=\"{}\"}} {}\n", label(st), items.unwrap_or(0)));
    }
    out.push_str("# HELP kassa_notification_failed_attempts_total Delivery attempts that did not deliver.\n");
    out.push_str(&format!(
        "# TYPE kassa_notification_failed_attempts_total counter\nkassa_notification_failed_attempts_total {}\n",
        s.failed_attempts
    ));
    out.push_str("# HELP kassa_notification_failed_messages Messages that gave up (retry from the system page).\n");
    out.push_str(&format!(
        "# TYPE kassa_notification_failed_messages gauge\nkassa_notification_failed_messages {}\n",
        s.failed_messages
    ));
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out))
}
