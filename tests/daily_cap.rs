//! The merchant's daily turnover cap holds for what is authorized: checked in the database when
//! a payment starts, so fifty simultaneous payments cannot go beyond it, and given back by a
//! payment that does not go through.

mod common;

use std::sync::Arc;

use common::checkout::{attempts, operations, order_fields};
use common::*;
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::turnover;
use kassa::db::schema::merchants;
use kassa::domain::{OperationKind, OperationState, OrderState};
use kassa::gateway::PayRequest;

const N: usize = 50;
/// Every order is 100.00 RUB.
const AMOUNT: i64 = 10_000;

async fn capped(cap: i64) -> TestGateway {
    let db = TestDb::new();
    let gateway = gateway_on(&db);
    let merchant = add_merchant(&gateway, 1001, |m| m.daily_cap = Some(cap)).await;
    TestGateway { gateway, merchant, db }
}

async fn today(t: &TestGateway) -> i64 {
    let m = t.merchant.id.clone();
    t.gateway
        .store
        .read(move |c| turnover::of_day(c, &m, kassa::db::now().date()).map_err(StoreError::from))
        .await
        .unwrap()
}

async fn broken_rules(t: &TestGateway) -> Vec<&'static str> {
    let all = t.gateway.store.read(kassa::check::run).await.unwrap();
    all.iter().filter(|f| f.violations > 0).map(|f| f.rule).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_simultaneous_payments_authorize_no_more_than_the_cap() {
    let t = Arc::new(capped(3 * AMOUNT).await);
    let mut orders = Vec::with_capacity(N);
    for i in 0..N {
        orders.push(t.create(&format!("cap-{i}"), "100.00", false).await);
    }
    let tasks: Vec<_> = orders
        .iter()
        .map(|o| {
            let (t, id) = (t.clone(), o.id.clone());
            tokio::spawn(async move {
                t.gateway.pay(&id, PayRequest { card: card("4111111111111111"), client_ip: None }).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(N);
    for task in tasks {
        results.push(task.await.expect("task"));
    }
    let approved = results.iter().filter(|r| r.as_ref().is_ok_and(|p| p.order.state() == OrderState::Approved)).count();
    assert_eq!(approved, 3, "exactly three payments fit in the cap");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(r.code(), "daily_cap_reached", "{r}");
    }
    let mut authorized = 0;
    let mut unpaid = 0;
    for o in &orders {
        let o = t.reload(o).await;
        authorized += o.authorized;
        if o.state() == OrderState::InProcess {
            unpaid += 1;
            // A refused payment leaves nothing behind: the order can be paid another day.
            assert!(t.operations(&o).await.iter().all(|op| op.kind() != OperationKind::Payment));
        }
    }
    assert_eq!((authorized, unpaid), (3 * AMOUNT, N - 3));
    assert_eq!(today(&t).await, 3 * AMOUNT);
    assert_eq!(broken_rules(&t).await, Vec::<&str>::new());
}

#[tokio::test]
async fn payments_that_do_not_go_through_give_the_cap_back() {
    let t = capped(2 * AMOUNT).await;
    // Declined, never answered (reversed after the timeout), and a failed 3-D Secure challenge.
    for (n, number) in ["4000000000000002", "4000000000000341", "4000000000003220"].iter().enumerate() {
        let order = t.create(&format!("no-{n}"), "100.00", false).await;
        let outcome = t.pay(&order, number).await;
        if outcome.challenge.is_some() {
            assert_eq!(today(&t).await, AMOUNT, "a payment waiting for 3-D Secure holds its amount");
            t.gateway.complete_challenge(&order.id, false).await.unwrap();
        }
        assert_eq!(t.reload(&order).await.state(), OrderState::Declined);
        assert_eq!(today(&t).await, 0, "card {number}");
    }
    let c = t.create("yes-3", "100.00", false).await;
    let a = t.paid("yes-1", "100.00", false, "4111111111111111").await;
    let b = t.paid("yes-2", "100.00", true, "4111111111111111").await;
    assert_eq!((a.state(), b.state()), (OrderState::Approved, OrderState::Delayed));
    // A cancel gives nothing back: the cap bounds what is authorized in the day.
    t.gateway.cancel(&b.id, kassa::gateway::CancelRequest::default()).await.unwrap();
    let refused = t.gateway.pay(&c.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await;
    assert_eq!(refused.unwrap_err().code(), "daily_cap_reached");
    assert_eq!(today(&t).await, 2 * AMOUNT);
    assert_eq!(broken_rules(&t).await, Vec::<&str>::new());
    // The check at order creation counts the day's turnover too.
    let r = t.gateway.create_order(request(&t.merchant, "yes-4", "100.00")).await;
    assert_eq!(r.unwrap_err().code(), "invalid_field");
}

#[tokio::test]
async fn the_customer_is_told_and_the_order_stays_payable() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |m| m.daily_cap = Some(AMOUNT)).await;
    let first = app.open(&order_fields(&m, "page-1", "100.00")).await;
    let second = app.open(&order_fields(&m, "page-2", "100.00")).await;
    assert_eq!(app.charge(&first, "4111111111111111").await.status, 303);
    let refused = app.charge(&second, "4111111111111111").await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("AS109") && refused.body.contains("payment limit"), "{}", refused.body);
    assert!(refused.body.contains("name=\"number\""), "the card form stays: {}", refused.body);
    let order = attempts(&app, &m, "page-2").await.remove(0);
    assert_eq!(order.state(), OrderState::InProcess);
    assert!(operations(&app, &order).await.is_empty());

    // A higher cap, set while the page is open, lets the same order be paid.
    let id = m.id.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&id))
                .set(merchants::daily_cap.eq(Some(2 * AMOUNT)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(app.charge(&second, "4111111111111111").await.status, 303);
    let order = attempts(&app, &m, "page-2").await.remove(0);
    assert_eq!(order.state(), OrderState::Approved);
    let payment = operations(&app, &order).await.remove(0);
    assert_eq!((payment.kind(), payment.state()), (OperationKind::Payment, OperationState::Success));
}
