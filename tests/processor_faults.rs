//! Payments, confirms and cancels through a processing center that loses requests and answers,
//! fails, answers slowly and twice. Afterwards, with recovery run, `kassa check` passes and the
//! processing center holds exactly what Kassa's orders say: no customer is charged without a
//! paid order (every orphan authorization reversed).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use kassa::domain::TransactionState;
use kassa::gateway::{CancelRequest, Gateway, PayRequest};
use kassa::processing::faults::{FaultRates, Faulty};
use kassa::processing::{Simulator, SimulatorOptions};

/// `KASSA_FAULT_ORDERS` (default 400, what CI runs; `bench/faults` runs thousands),
/// `KASSA_FAULT_SEED` and `KASSA_FAULT_RATE` (per kind of fault) vary the storm.
fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn faults_lose_no_money() {
    let total: usize = knob("KASSA_FAULT_ORDERS", 400);
    let t = spawn_gateway().await;
    let processor = Arc::new(Faulty::new(
        Simulator::new(SimulatorOptions::default()).unwrap(),
        FaultRates::uniform(knob("KASSA_FAULT_RATE", 0.04)),
        Duration::from_millis(20),
        knob("KASSA_FAULT_SEED", 20261203),
    ));
    let gateway = Gateway::new(t.gateway.store.clone(), processor.clone(), Duration::from_millis(300));
    let merchant = t.merchant.clone();
    let tasks: Vec<_> = (0..16)
        .map(|w| {
            let (g, m) = (gateway.clone(), merchant.clone());
            tokio::spawn(async move {
                for i in (w..total).step_by(16) {
                    let two_stage = i % 2 == 0;
                    let mut r = request(&m, &format!("fault-{i}"), &format!("{}.00", 10 + i % 90));
                    if two_stage {
                        r.delay = Some("1".into());
                    }
                    let Ok(order) = g.create_order(r).await else { continue };
                    let number = if i % 7 == 0 { "378282246310005" } else { "4111111111111111" };
                    let Ok(paid) = g.pay(&order.id, PayRequest { card: card(number), client_ip: None }).await else {
                        continue;
                    };
                    let id = paid.order.id.clone();
                    if two_stage && i % 3 != 0 {
                        let _ = g.confirm(&id, if i % 4 == 0 { Some(500) } else { None }).await;
                    }
                    if i % 5 == 0 {
                        let _ = g.settle().await;
                    }
                    if i % 3 == 0 {
                        let amount = if i % 6 == 0 { None } else { Some(100) };
                        let _ = g.cancel(&id, CancelRequest { amount, ..CancelRequest::default() }).await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    // The storm is over: recovery and settlement bring everything to rest.
    processor.calm_down();
    for _ in 0..5 {
        gateway.recover(Duration::ZERO).await.unwrap();
        gateway.settle().await.unwrap();
        gateway.expire().await.unwrap();
    }
    let findings = t.gateway.store.read(kassa::check::run).await.unwrap();
    let broken: Vec<_> = findings.iter().filter(|f| f.violations > 0).collect();
    assert!(broken.is_empty(), "{broken:#?}");

    let (all_orders, txns) = orders_and_transactions(&t.gateway.store).await;
    let stuck = txns.iter().filter(|t| matches!(t.state(), TransactionState::Sent | TransactionState::Waiting)).count();
    assert_eq!(stuck, 0, "every message to the processor was resolved");
    let order_of_auth = order_of_authorization(&all_orders, &txns);
    let audit = processor.inner().audit();
    assert!(audit.len() > total / 2, "most payments reached the processor ({})", audit.len());
    let mut paid = 0;
    for a in audit.iter().filter(|a| a.approved) {
        let order = order_of_auth[a.transaction_id.as_str()];
        let held = a.amount - a.reversed - a.refunded;
        if order.state().is_paid() {
            paid += 1;
            assert_eq!(held, order.money().remaining(), "order {} disagrees with the processor", order.billnumber);
        } else {
            assert_eq!(held, 0, "order {} is {} but the customer is still charged", order.billnumber, order.state);
        }
    }
    assert!(paid > total / 3, "{paid} paid orders");
}
