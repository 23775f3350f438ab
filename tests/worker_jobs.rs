//! The worker's own jobs: confirmation deadlines, the settlement lease, resending a message,
//! and a `kassa settle` process killed with SIGKILL in the middle of a large settlement.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::schema::{merchants, orders, outbox, transactions};
use kassa::domain::{OrderState, TransactionKind};
use kassa::gateway::settlement_report::ReportScope;

async fn past_deadline(t: &TestGateway, order: &kassa::db::models::Order) {
    let id = order.id.clone();
    t.gateway
        .store
        .write(move |c| {
            diesel::update(orders::table.find(&id))
                .set(orders::confirm_deadline.eq(kassa::db::now() - time::Duration::seconds(1)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn deadlines_reverse_or_confirm_as_the_merchant_chose() {
    let t = spawn_gateway().await;
    let reversed = t.paid("deadline-reverse", "10.00", true, "4111111111111111").await;
    let soon = kassa::worker::near_deadline(&t.gateway, &t.merchant.id, time::Duration::days(5)).await.unwrap();
    assert_eq!(soon.len(), 1, "listed for the merchant before the deadline");
    past_deadline(&t, &reversed).await;
    assert_eq!(t.gateway.confirm(&reversed.id, None).await.unwrap_err().code(), "confirm_deadline_passed");
    assert_eq!(kassa::worker::apply_deadlines(&t.gateway).await.unwrap(), 1);
    let after = t.reload(&reversed).await;
    assert_eq!((after.state(), after.released), (OrderState::Canceled, 1_000));

    let m = add_merchant(&t.gateway, 4004, |m| m.deadline_policy = "confirm".into()).await;
    let order = t.gateway.create_order(two_stage(request(&m, "deadline-confirm", "20.00"))).await.unwrap();
    t.pay(&order, "4111111111111111").await;
    past_deadline(&t, &order).await;
    assert_eq!(kassa::worker::apply_deadlines(&t.gateway).await.unwrap(), 1);
    let after = t.reload(&order).await;
    assert_eq!((after.state(), after.confirmed), (OrderState::Approved, 2_000));
    assert_eq!(kassa::worker::apply_deadlines(&t.gateway).await.unwrap(), 0);
    // Both in the audit log, as the worker's.
    let audited = audit_entries(&t.gateway.store, "worker.deadline").await;
    let seen: Vec<(&str, &str, &str)> = audited
        .iter()
        .map(|e| (e.actor_kind.as_str(), e.outcome.as_str(), e.detail["policy"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("worker", "ok", "reverse"), ("worker", "ok", "confirm")]);
    assert_eq!(audited[0].order_id.as_deref(), Some(reversed.id.0.as_str()));
    assert_eq!(audited[1].detail["amount"], "20.00");
}

#[tokio::test]
async fn settlement_runs_on_one_worker_per_interval() {
    let t = spawn_gateway().await;
    let hour = Duration::from_secs(3600);
    assert!(kassa::worker::claim_job(&t.gateway.store, "settlement", "a", hour).await.unwrap());
    assert!(!kassa::worker::claim_job(&t.gateway.store, "settlement", "b", hour).await.unwrap());
    assert!(!kassa::worker::claim_job(&t.gateway.store, "settlement", "a", hour).await.unwrap(), "not due again yet");
}

#[tokio::test]
async fn an_operator_can_resend_a_dead_message() {
    let t = spawn_gateway().await;
    let m = t.merchant.id.clone();
    t.gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&m))
                .set(merchants::notification_url.eq("http://127.0.0.1:9/nowhere"))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    t.paid("resend", "10.00", false, "4111111111111111").await;
    let id: String =
        t.gateway.store.read(|c| outbox::table.select(outbox::id).first(c).map_err(StoreError::from)).await.unwrap();
    let (i, now) = (id.clone(), kassa::db::now());
    let dead = t.gateway.store.write(move |c| kassa::worker::claim::resend(c, &i, now).map_err(StoreError::from)).await;
    assert!(!dead.unwrap(), "a pending message is not resent");
    t.gateway
        .store
        .write(|c| {
            diesel::update(outbox::table)
                .set((outbox::state.eq("failed"), outbox::attempts.eq(8)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let (i, now) = (id.clone(), kassa::db::now());
    assert!(
        t.gateway
            .store
            .write(move |c| kassa::worker::claim::resend(c, &i, now).map_err(StoreError::from))
            .await
            .unwrap()
    );
    let row: (String, i32) = t
        .gateway
        .store
        .read(|c| outbox::table.select((outbox::state, outbox::attempts)).first(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(row, ("pending".into(), 0));
}

/// Runs `kassa settle` against the test database; `kill_after` SIGKILLs it mid-run. Returns
/// the exit status and what the process wrote to stderr.
fn settle_process(db: &TestDb, kill_after: Option<Duration>) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kassa"))
        .arg("settle")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KASSA_DATABASE_URL", &db.url)
        .env("KASSA_DATA_DIR", db.dir())
        .env("KASSA_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(after) = kill_after {
        std::thread::sleep(after);
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// id, batch, state of a financial transaction.
type FinancialRow = (String, Option<String>, String);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_settlement_settles_everything_exactly_once() {
    let t = spawn_gateway().await;
    const N: usize = 1_200;
    for i in 0..N {
        let card = if i % 100 == 7 { "4000000000000259" } else { "4111111111111111" };
        t.paid(&format!("kill-{i}"), "10.00", false, card).await;
    }
    // Kill the settlement at several moments, then let one run finish.
    for ms in [30u64, 120, 250, 400] {
        let db = &t.db;
        tokio::task::block_in_place(|| settle_process(db, Some(Duration::from_millis(ms))));
    }
    let db = &t.db;
    let (ok, stderr) = tokio::task::block_in_place(|| settle_process(db, None));
    assert!(ok, "the run after the kills finishes: {stderr}");
    let (ok, stderr) = tokio::task::block_in_place(|| settle_process(db, None));
    assert!(ok, "a second run finds nothing to do: {stderr}");

    let (financial, settled_orders): (Vec<FinancialRow>, Vec<(i64, i64)>) = t
        .gateway
        .store
        .read(|c| {
            let f = transactions::table
                .filter(transactions::kind.eq(TransactionKind::Financial.as_str()))
                .select((transactions::id, transactions::batch_id, transactions::state))
                .load(c)?;
            let o = orders::table.select((orders::confirmed, orders::settled)).load(c)?;
            Ok::<_, StoreError>((f, o))
        })
        .await
        .unwrap();
    assert_eq!(financial.len(), N);
    let rejected = financial.iter().filter(|(_, _, s)| s == "rejected").count();
    assert_eq!(rejected, N / 100, "the rejected-settlement card, and only it");
    assert!(
        financial.iter().all(|(_, b, s)| b.is_some() && (s == "settled" || s == "rejected")),
        "nothing left behind"
    );
    let paid_in_full = settled_orders.iter().filter(|(c, s)| c == s).count();
    assert_eq!(paid_in_full, N - rejected, "every accepted payment settled exactly once");
    assert!(settled_orders.iter().all(|(c, s)| s <= c));

    // The processing center's own record: no transaction in two batches.
    let journal = std::fs::read_to_string(t.db.dir().join("simulator.journal")).unwrap();
    let mut seen = std::collections::HashSet::new();
    for line in journal.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if let Some(items) = entry.get("Batch").and_then(|b| b["items"].as_array()) {
            for item in items {
                assert!(seen.insert(item.as_str().unwrap().to_owned()), "{item} submitted in two batches");
            }
        }
    }
    assert_eq!(seen.len(), N);
}

#[tokio::test]
async fn settlement_report_per_day_and_currency() {
    let t = spawn_gateway().await;
    let other = add_merchant(&t.gateway, 5005, |_| {}).await;
    t.paid("report-1", "10.00", false, "4111111111111111").await;
    t.paid("report-2", "2.50", false, "4000000000000259").await;
    let o = t.gateway.create_order(request(&other, "=cmd|' /C calc'!A0", "7.00")).await.unwrap();
    t.pay(&o, "4111111111111111").await;
    t.gateway.settle().await.unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let all = t.gateway.settlement_report(today, ReportScope::All).await.unwrap();
    assert_eq!(all.items.len(), 3);
    assert_eq!(all.totals()["RUB"], (2, 1_700, 1, 250));
    let csv = all.items_csv();
    assert!(csv.contains("\"'=cmd|' /C calc'!A0\"") || csv.contains("'=cmd|' /C calc'!A0"), "{csv}");
    assert!(csv.lines().any(|l| l.ends_with(",2.50,rejected")), "{csv}");
    let mine = t.gateway.settlement_report(today, ReportScope::Merchant(t.merchant.id.clone())).await.unwrap();
    assert_eq!(mine.items.len(), 2, "a merchant sees only its own orders");
    assert_eq!(mine.totals_csv().lines().nth(1).unwrap(), format!("{today},RUB,1,10.00,1,2.50"));
    let yesterday = today.previous_day().unwrap();
    assert!(t.gateway.settlement_report(yesterday, ReportScope::All).await.unwrap().items.is_empty());
}
