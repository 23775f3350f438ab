//! A 3-D Secure challenge answered by the customer while the worker expires its order: each
//! challenge ends exactly one way, the worker's batch never deadlocks with a completion (both
//! take the order's row and the merchant's turnover row), and no customer is left charged for an
//! order that timed out.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::turnover;
use kassa::db::schema::orders;
use kassa::domain::OrderState;
use kassa::gateway::{Gateway, PayRequest};
use kassa::processing::{Simulator, SimulatorOptions};

const N: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn challenges_completed_while_their_orders_expire_end_one_way() {
    let t = spawn_gateway().await;
    // The processor takes a while to answer, so a completion is in flight while expiry runs.
    let processor = Arc::new(
        Simulator::new(SimulatorOptions { latency: Duration::from_millis(30), ..SimulatorOptions::default() }).unwrap(),
    );
    let gateway = Gateway::new(t.gateway.store.clone(), processor.clone(), PROCESSOR_TIMEOUT);
    let mut ids = Vec::with_capacity(N);
    for i in 0..N {
        let order = gateway.create_order(request(&t.merchant, &format!("race-{i}"), "10.00")).await.unwrap();
        let outcome =
            gateway.pay(&order.id, PayRequest { card: card("4000000000003220"), client_ip: None }).await.unwrap();
        assert!(outcome.challenge.is_some(), "the card asks for 3-D Secure");
        ids.push(order.id);
    }
    gateway
        .store
        .write(|c| {
            diesel::update(orders::table)
                .set(orders::expires_at.eq(kassa::db::now() - time::Duration::minutes(1)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();

    // Every customer answers (half pass, half fail) while four workers expire the orders.
    let completions: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (g, id) = (gateway.clone(), id.clone());
            tokio::spawn(async move { g.complete_challenge(&id, i % 2 == 0).await })
        })
        .collect();
    let expiries: Vec<_> = (0..4)
        .map(|_| {
            let g = gateway.clone();
            tokio::spawn(async move {
                let mut n = 0;
                for _ in 0..5 {
                    n += g.expire().await?;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Ok::<_, kassa::gateway::GatewayError>(n)
            })
        })
        .collect();
    let mut completed = 0;
    for task in completions {
        match task.await.unwrap() {
            Ok(_) => completed += 1,
            // Expiry declined the challenge first: the page then shows the order as it is.
            Err(e) => assert_eq!(e.code(), "no_challenge", "{e}"),
        }
    }
    let mut expired = 0;
    for task in expiries {
        expired += task.await.unwrap().expect("expiry never fails, deadlock included");
    }
    gateway.recover(Duration::ZERO).await.unwrap();
    expired += gateway.expire().await.unwrap();

    let (all, txns) = orders_and_transactions(&gateway.store).await;
    let timed_out = all.iter().filter(|o| o.state() == OrderState::Timeout).count();
    assert_eq!(expired, timed_out, "each expired order counted once");
    assert_eq!(completed + timed_out, N, "each challenge ended one way: completed or expired");
    for o in &all {
        let expected: &[OrderState] = if o.order_number.trim_start_matches("race-").parse::<usize>().unwrap() % 2 == 0 {
            &[OrderState::Approved, OrderState::Timeout]
        } else {
            &[OrderState::Declined, OrderState::Timeout]
        };
        assert!(expected.contains(&o.state()), "order {} is {}", o.order_number, o.state);
    }

    // The processing center holds exactly what the orders say.
    let order_of_auth = order_of_authorization(&all, &txns);
    for a in processor.audit().iter().filter(|a| a.approved) {
        let order = order_of_auth[a.transaction_id.as_str()];
        let held = a.amount - a.reversed - a.refunded;
        let expected = if order.state().is_paid() { order.money().remaining() } else { 0 };
        assert_eq!(held, expected, "order {} is {} and the processor holds {held}", order.order_number, order.state);
    }
    let m = t.merchant.id.clone();
    let day = gateway.store.read(move |c| turnover::of_day(c, &m, kassa::db::now().date()).map_err(StoreError::from));
    let paid: i64 = all.iter().map(|o| o.authorized).sum();
    assert_eq!(day.await.unwrap(), paid, "the day's turnover holds the paid orders only");
    let findings = gateway.store.read(kassa::check::run).await.unwrap();
    let broken: Vec<_> = findings.iter().filter(|f| f.violations > 0).collect();
    assert!(broken.is_empty(), "{broken:#?}");
}
