//! `kassa check` passes after every kind of lifecycle, and catches what it is meant to catch.

mod common;

use common::*;
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::schema::{merchants, orders};
use kassa::gateway::CancelRequest;

async fn findings(t: &TestGateway) -> Vec<kassa::check::Finding> {
    t.gateway.store.read(kassa::check::run).await.unwrap()
}

fn broken(f: &[kassa::check::Finding]) -> Vec<&'static str> {
    f.iter().filter(|f| f.violations > 0).map(|f| f.rule).collect()
}

#[tokio::test]
async fn a_busy_day_breaks_no_rule_and_corruption_is_caught() {
    let t = spawn_gateway().await;
    let m = t.merchant.id.clone();
    t.gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&m))
                .set(merchants::notification_url.eq("https://shop.example/notify"))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let visa = "4111111111111111";
    let a = t.paid("c-1", "100.00", true, visa).await;
    t.gateway.confirm(&a.id, Some(6_000)).await.unwrap();
    let b = t.paid("c-2", "50.00", false, visa).await;
    t.paid("c-3", "20.00", false, "4000000000000002").await;
    t.paid("c-4", "30.00", false, "378282246310005").await;
    t.paid("c-5", "40.00", false, "4000000000000259").await;
    let f = t.paid("c-6", "15.00", false, "4000000000005126").await;
    t.paid("c-7", "12.00", true, "4000000000000341").await;
    t.gateway.settle().await.unwrap();
    t.gateway.cancel(&a.id, CancelRequest::default()).await.unwrap();
    t.gateway.cancel(&b.id, CancelRequest { amount: Some(1_000), ..Default::default() }).await.unwrap();
    t.gateway.cancel(&f.id, CancelRequest::default()).await.unwrap();
    let all = findings(&t).await;
    assert!(all.len() >= 10);
    assert_eq!(broken(&all), Vec::<&str>::new(), "{all:#?}");

    let id = b.id.clone();
    t.gateway
        .store
        .write(move |c| {
            diesel::update(orders::table.find(&id))
                .set((orders::comment.eq("card 4242 4242 4242 4242 exp 12/30"), orders::refunded.eq(0)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let after = findings(&t).await;
    let rules = broken(&after);
    assert!(rules.contains(&"no full card number in clear anywhere"), "{rules:?}");
    assert!(rules.contains(&"order totals equal the sum of their operations"), "{rules:?}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
        .arg("check")
        .env_clear()
        .env("KASSA_DATABASE_URL", &t.db.url)
        .env("KASSA_DATA_DIR", t.db.dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL no full card number in clear anywhere: 1"), "{text}");
    assert!(!text.contains("4242424242424242"), "the report does not print the number either");
}

#[tokio::test]
async fn a_days_turnover_that_differs_from_its_payments_is_caught() {
    let t = spawn_gateway().await;
    t.paid("t-1", "100.00", false, "4111111111111111").await;
    t.paid("t-2", "50.00", true, "4111111111111111").await;
    t.paid("t-3", "20.00", false, "4000000000000002").await;
    let rule = "each day's turnover equals the sum of its payments";
    let all = findings(&t).await;
    assert!(all.iter().any(|f| f.rule == rule));
    assert_eq!(broken(&all), Vec::<&str>::new(), "{all:#?}");

    // A turnover that lost a payment's amount would let the merchant go beyond its cap.
    t.gateway
        .store
        .write(|c| {
            diesel::update(kassa::db::schema::merchant_daily_turnover::table)
                .set(kassa::db::schema::merchant_daily_turnover::amount.eq(5_000))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let after = findings(&t).await;
    assert_eq!(broken(&after), vec![rule]);
    let f = after.iter().find(|f| f.rule == rule).unwrap();
    assert!(f.examples[0].contains("turnover 5000, payments 15000"), "{:?}", f.examples);
}
