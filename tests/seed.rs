//! `kassa seed` fills a database with orders in every state, and `kassa check` passes on it.

mod common;

use std::collections::HashMap;
use std::process::Command;

use common::*;
use diesel::prelude::*;
use kassa::db::schema::{merchants, orders, settlement_batches, transactions};
use kassa::db::{Store, StoreError, StoreOptions};

fn kassa(db: &TestDb, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kassa"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KASSA_DATABASE_URL", &db.url)
        .env("KASSA_DATA_DIR", db.dir())
        .env("KASSA_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_orders_pass_the_check() {
    let db = TestDb::new();
    let out = kassa(&db, &["seed", "--orders", "3000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("seeded 3000 orders"));
    // A second run adds to the first (new billnumbers and order numbers), only to one shop.
    let out = kassa(&db, &["seed", "--orders", "500", "--merchant", "679471"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let check = kassa(&db, &["check"]);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(!report.contains("FAIL"), "{report}");

    let store = Store::open(&db.url, StoreOptions::default()).unwrap();
    let (states, per_merchant, settled, batches) = store
        .read(|c| {
            let states: Vec<String> = orders::table.select(orders::state).load(c)?;
            let per_merchant: Vec<(i64, String)> =
                orders::table.inner_join(merchants::table).select((merchants::merchant_number, orders::id)).load(c)?;
            let settled: i64 = transactions::table.filter(transactions::state.eq("settled")).count().get_result(c)?;
            let batches: Vec<(i32, i64)> = settlement_batches::table
                .select((settlement_batches::item_count, settlement_batches::total))
                .load(c)?;
            Ok::<_, StoreError>((states, per_merchant, settled, batches))
        })
        .await
        .unwrap();
    assert_eq!(states.len(), 3_500);
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in &states {
        *count.entry(s.as_str()).or_default() += 1;
    }
    for state in ["Approved", "Delayed", "Declined", "Canceled", "PartialCanceled", "In Process", "Timeout"] {
        assert!(count.get(state).copied().unwrap_or(0) > 10, "{state}: {count:?}");
    }
    assert!(count["Approved"] > 1_500, "{count:?}");
    let mut shops: HashMap<i64, usize> = HashMap::new();
    for (number, _) in &per_merchant {
        *shops.entry(*number).or_default() += 1;
    }
    assert_eq!(shops.len(), 4, "the demo enterprise's four shops: {shops:?}");
    assert!(shops[&679471] > 500 + 400, "{shops:?}");
    assert!(settled > 1_000, "{settled} settled");
    let in_batches: i64 = batches.iter().map(|(n, _)| i64::from(*n)).sum();
    assert_eq!(in_batches, settled, "batch counts add up to their transactions");
    assert!(batches.iter().all(|(n, t)| *n > 0 && *t > 0));
}
