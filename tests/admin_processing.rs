//! The admin area's Processing page over HTTP: the settlement schedule the worker follows (its
//! settlement step driven at chosen times), "settle now", and the simulator's latency and fault
//! injection per test merchant, refused for live ones.

mod common;

use std::time::{Duration, Instant};

use common::account::{by_id, get, hidden, paid_order, post};
use common::admin::*;
use common::checkout::{attempts, operations, order_fields};
use common::{TestApp, add_merchant, spawn_app};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::Merchant;
use kassa::db::schema::{audit_events, merchants, settlement_batches, simulator_settings, transactions};
use kassa::domain::OrderState;
use kassa::worker::schedule::{claim, release, settle_if_due};
use time::PrimitiveDateTime;

async fn audits(app: &TestApp, action: &'static str) -> Vec<String> {
    app.gateway
        .store
        .read(move |c| {
            audit_events::table
                .filter(audit_events::action.eq(action))
                .order(audit_events::created_at.asc())
                .select(audit_events::detail)
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

/// (transaction state, batch id) of every financial transaction.
async fn financial(app: &TestApp) -> Vec<(String, Option<String>)> {
    app.gateway
        .store
        .read(|c| {
            transactions::table
                .filter(transactions::kind.eq("financial"))
                .order(transactions::created_at.asc())
                .select((transactions::state, transactions::batch_id))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

async fn batch_count(app: &TestApp) -> i64 {
    app.gateway.store.read(|c| settlement_batches::table.count().get_result(c).map_err(StoreError::from)).await.unwrap()
}

#[tokio::test]
async fn the_worker_settles_at_the_cutoffs_set_on_the_processing_page() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let url = |path: &str| format!("{}{path}", app.address);
    let page = get(&c, &url("/admin/processing")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(hidden(&page.body, "cutoffs").as_deref(), Some("21:00"), "the default cut-off");
    let csrf = hidden(&page.body, "csrf").unwrap();

    // Wrong schedules are refused beside the field and change nothing.
    for bad in ["25:00", "", "9:00, 09:00", "noon"] {
        let p = post(&c, &url("/admin/processing/schedule"), &[("csrf", &csrf), ("cutoffs", bad)]).await;
        assert_eq!(p.status, 400, "{bad}");
        assert!(by_id(&p.body, "error-cutoffs").is_some(), "{bad}: {}", p.body);
    }
    let forged = post(&c, &url("/admin/processing/schedule"), &[("csrf", "x"), ("cutoffs", "09:00")]).await;
    assert_eq!(forged.status, 403);
    assert!(audits(&app, "admin.settlement_schedule").await.is_empty());

    let p = post(&c, &url("/admin/processing/schedule"), &[("csrf", &csrf), ("cutoffs", "09:00")]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/processing?saved=1")), "{}", p.body);

    // The worker's settlement step, at chosen times of a day after today (later than any real
    // run of this test).
    let day = kassa::db::now().date().next_day().unwrap();
    let at = |h: u8, m: u8| PrimitiveDateTime::new(day, time::Time::from_hms(h, m, 0).unwrap());
    let g = &app.gateway;
    assert!(settle_if_due(g, "w1", at(8, 0), false).await.unwrap().is_some(), "never ran: due at once");
    assert!(settle_if_due(g, "w1", at(8, 59), false).await.unwrap().is_none(), "no cut-off since");
    assert!(settle_if_due(g, "w2", at(9, 0), false).await.unwrap().is_some(), "the 09:00 cut-off");
    assert!(settle_if_due(g, "w1", at(9, 20), false).await.unwrap().is_none());

    let m = add_merchant(&app.gateway, 7001, |_| {}).await;
    paid_order(&app, &m, "s-1", "10.00", false).await;
    // A second cut-off at 09:30, added over HTTP, applies at the worker's next turn.
    let p = post(&c, &url("/admin/processing/schedule"), &[("csrf", &csrf), ("cutoffs", "9:30, 09:00")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(settle_if_due(g, "w1", at(9, 29), false).await.unwrap().is_none());
    assert_eq!(financial(&app).await[0].0, "new", "waits for the cut-off");
    let run = settle_if_due(g, "w1", at(9, 30), false).await.unwrap().expect("the new 09:30 cut-off");
    assert_eq!((run.batches, run.accepted), (1, 1));
    assert_eq!(financial(&app).await[0].0, "settled");
    // Only the run that sent money is in the audit log, as the worker's.
    let settled = common::audit_entries(&app.gateway.store, "worker.settle").await;
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0].actor_kind, "worker");
    assert_eq!((settled[0].detail["batches"].as_u64(), settled[0].detail["accepted"].as_u64()), (Some(1), Some(1)));
    assert!(settle_if_due(g, "w2", at(10, 0), false).await.unwrap().is_none());

    let page = get(&c, &url("/admin/processing")).await;
    assert_eq!(hidden(&page.body, "cutoffs").as_deref(), Some("09:00, 09:30"));
    let log = audits(&app, "admin.settlement_schedule").await;
    assert_eq!(log.len(), 2);
    let change = |entry: &str| {
        let v: serde_json::Value = serde_json::from_str(entry).unwrap();
        let c = &v["changes"]["settlement_cutoffs_utc"];
        (c["old"].as_str().unwrap().to_owned(), c["new"].as_str().unwrap().to_owned())
    };
    assert_eq!(change(&log[0]), ("21:00".into(), "09:00".into()));
    assert_eq!(change(&log[1]), ("09:00".into(), "09:00, 09:30".into()));
}

#[tokio::test]
async fn settle_now_sends_the_waiting_transactions_in_a_batch() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 7002, |_| {}).await;
    paid_order(&app, &m, "n-1", "10.00", false).await;
    paid_order(&app, &m, "n-2", "20.00", false).await;
    // Two-stage and not confirmed: nothing to settle yet.
    paid_order(&app, &m, "n-3", "5.00", true).await;
    let (c, _) = admin_client(&app, "root").await;
    let url = |path: &str| format!("{}{path}", app.address);
    let page = get(&c, &url("/admin/processing")).await;
    assert_eq!(by_id(&page.body, "pending").as_deref(), Some("2"));
    assert_eq!(by_id(&page.body, "last-run").as_deref(), Some("never"));
    let csrf = hidden(&page.body, "csrf").unwrap();

    assert_eq!(post(&c, &url("/admin/processing/settle"), &[("csrf", "x")]).await.status, 403);
    assert_eq!(batch_count(&app).await, 0);

    // While a worker holds the settlement job, nothing starts beside it.
    let now = kassa::db::now();
    assert!(claim(&app.gateway.store, "busy-worker", now, true).await.unwrap());
    let p = post(&c, &url("/admin/processing/settle"), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 409, "{}", p.body);
    assert_eq!(batch_count(&app).await, 0);
    release(&app.gateway.store, "busy-worker", now).await.unwrap();

    let p = post(&c, &url("/admin/processing/settle"), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("1 batch(es), 2 item(s) settled, 0 rejected"), "{}", p.body);
    let rows = financial(&app).await;
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(state, _)| state == "settled"), "{rows:?}");
    assert_eq!(rows[0].1, rows[1].1, "one batch");
    let batch = rows[0].1.clone().unwrap();
    let (items, total): (i32, i64) = app
        .gateway
        .store
        .read(move |c| {
            settlement_batches::table
                .find(&batch)
                .select((settlement_batches::item_count, settlement_batches::total))
                .first(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!((items, total), (2, 3_000));
    assert!(p.body.contains(rows[0].1.as_deref().unwrap()), "the page lists the batch");
    assert_eq!(by_id(&p.body, "pending").as_deref(), Some("0"));
    let log = audits(&app, "admin.settle_now").await;
    assert_eq!(log.len(), 1);
    assert!(log[0].contains("\"accepted\":2"), "{}", log[0]);
}

async fn simulator_form(
    c: &reqwest::Client,
    app: &TestApp,
    m: &Merchant,
    fields: &[(&str, &str)],
) -> common::account::Page {
    let url = format!("{}/admin/processing/merchants/{}", app.address, m.id.0);
    let page = get(c, &url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    post(c, &url, &all).await
}

async fn has_settings(app: &TestApp, m: &Merchant) -> bool {
    let id = m.id.clone();
    app.gateway
        .store
        .read(move |c| simulator_settings::table.find(&id).count().get_result::<i64>(c).map_err(StoreError::from))
        .await
        .unwrap()
        == 1
}

#[tokio::test]
async fn simulator_faults_and_latency_apply_to_a_test_merchant_only() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 7101, |_| {}).await;
    assert!(m.test_mode);
    let live = add_merchant(&app.gateway, 7102, |m| m.test_mode = false).await;
    let (c, _) = admin_client(&app, "root").await;

    let listed = get(&c, &format!("{}/admin/processing", app.address)).await;
    assert!(listed.body.contains(&format!("/admin/processing/merchants/{}", m.id.0)));
    assert!(!listed.body.contains(&format!("/admin/processing/merchants/{}", live.id.0)), "test merchants only");

    // Every authorization fails with a processor error: the payment is declined, not paid.
    let p = simulator_form(&c, &app, &m, &[("latency_ms", "0"), ("error_pct", "100")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let path = app.open(&order_fields(&m, "f-1", "10.00")).await;
    app.charge(&path, "4111111111111111").await;
    let order = &attempts(&app, &m, "f-1").await[0];
    assert_eq!(order.state(), OrderState::Declined);
    assert_eq!(order.authorized, 0);
    let ops = operations(&app, order).await;
    assert_eq!(ops[0].response_code.as_deref(), Some(kassa::assist::codes::SYSTEM_ERROR), "{ops:?}");

    // Back to no fault, with a latency: approved, and not before the latency has passed.
    let p = simulator_form(&c, &app, &m, &[("latency_ms", "1200"), ("error_pct", "0")]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let path = app.open(&order_fields(&m, "f-2", "10.00")).await;
    let started = Instant::now();
    app.charge(&path, "4111111111111111").await;
    let elapsed = started.elapsed();
    let order = &attempts(&app, &m, "f-2").await[0];
    assert_eq!(order.state(), OrderState::Approved);
    assert!(elapsed >= Duration::from_millis(1200), "the simulator waited the latency: {elapsed:?}");

    // Every decline: AS100 whatever the card.
    simulator_form(&c, &app, &m, &[("latency_ms", "0"), ("decline_pct", "100")]).await;
    let path = app.open(&order_fields(&m, "f-3", "10.00")).await;
    app.charge(&path, "4111111111111111").await;
    let order = &attempts(&app, &m, "f-3").await[0];
    assert_eq!(order.state(), OrderState::Declined);
    assert_eq!(operations(&app, order).await[0].response_code.as_deref(), Some(kassa::assist::codes::DECLINED));

    // Out of bounds: refused beside the field, nothing stored.
    for (fields, error) in [
        (vec![("latency_ms", "30001")], "error-latency_ms"),
        (vec![("error_pct", "101")], "error-error_pct"),
        (vec![("timeout_pct", "x")], "error-timeout_pct"),
        (vec![("error_pct", "60"), ("decline_pct", "41")], "error-faults"),
    ] {
        let p = simulator_form(&c, &app, &m, &fields).await;
        assert_eq!(p.status, 400, "{fields:?}");
        assert!(by_id(&p.body, error).is_some(), "{fields:?}: {}", p.body);
    }
    let page = get(&c, &format!("{}/admin/processing/merchants/{}", app.address, m.id.0)).await;
    assert_eq!(hidden(&page.body, "decline_pct").as_deref(), Some("100"), "unchanged");

    // A live merchant: no form, and a forged post is refused.
    let url = format!("{}/admin/processing/merchants/{}", app.address, live.id.0);
    let page = get(&c, &url).await;
    assert!(page.body.contains("id=\"live\"") && !page.body.contains("simulator-form"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let p = post(&c, &url, &[("csrf", &csrf), ("error_pct", "100")]).await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("This merchant is live"), "{}", p.body);
    assert!(!has_settings(&app, &live).await);

    // Settings left on a merchant that went live are not applied.
    let id = m.id.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&id)).set(merchants::test_mode.eq(false)).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    let path = app.open(&order_fields(&m, "f-4", "10.00")).await;
    app.charge(&path, "4111111111111111").await;
    assert_eq!(attempts(&app, &m, "f-4").await[0].state(), OrderState::Approved);

    let log = audits(&app, "admin.simulator_update").await;
    assert_eq!(log.len(), 3, "{log:?}");
    let change = |entry: &str, field: &str| {
        let v: serde_json::Value = serde_json::from_str(entry).unwrap();
        (
            v["changes"][field]["old"].as_str().unwrap().to_owned(),
            v["changes"][field]["new"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(change(&log[0], "error_pct"), ("0".into(), "100".into()));
    assert_eq!(change(&log[1], "latency_ms"), ("0".into(), "1200".into()));
    assert_eq!(change(&log[1], "error_pct"), ("100".into(), "0".into()));
}
