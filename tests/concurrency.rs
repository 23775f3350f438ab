//! Fifty simultaneous identical requests have one effect, on either database.

mod common;

use std::sync::Arc;

use common::*;
use kassa::domain::{OperationKind, OperationState, OrderState};
use kassa::gateway::{CancelRequest, PayRequest};

const N: usize = 50;

async fn all<T: Send + 'static>(futures: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(futures.len());
    for f in futures {
        out.push(f.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_pays_of_one_order_make_one_payment() {
    let t = Arc::new(spawn_gateway().await);
    let order = t.create("race-pay", "100.00", false).await;
    let tasks = (0..N)
        .map(|_| {
            let (t, id) = (t.clone(), order.id.clone());
            tokio::spawn(async move {
                t.gateway.pay(&id, PayRequest { card: card("4111111111111111"), client_ip: None }).await
            })
        })
        .collect();
    let results = all(tasks).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one pay goes through");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(r.code(), "payment_in_progress" | "already_paid"), "{r}");
    }
    let ops = t.operations(&order).await;
    let payments: Vec<_> = ops.iter().filter(|o| o.kind() == OperationKind::Payment).collect();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].state(), OperationState::Success);
    let order = t.reload(&order).await;
    assert_eq!((order.state(), order.authorized), (OrderState::Approved, 10_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_confirms_capture_once() {
    let t = Arc::new(spawn_gateway().await);
    let order = t.paid("race-confirm", "100.00", true, "4111111111111111").await;
    let tasks = (0..N)
        .map(|_| (t.clone(), order.id.clone()))
        .map(|(t, id)| tokio::spawn(async move { t.gateway.confirm(&id, Some(6_000)).await }))
        .collect();
    let results = all(tasks).await;
    assert!(results.iter().all(|r| r.is_ok()), "a repeated confirm answers with the first");
    assert_eq!(results.iter().filter(|r| !r.as_ref().unwrap().repeated).count(), 1);
    let order = t.reload(&order).await;
    assert_eq!((order.state(), order.confirmed), (OrderState::PartialDelayed, 6_000));
    let confirmations = t.operations(&order).await.iter().filter(|o| o.kind() == OperationKind::Confirmation).count();
    assert_eq!(confirmations, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_full_cancels_return_the_money_once() {
    let t = Arc::new(spawn_gateway().await);
    let order = t.paid("race-cancel", "100.00", false, "4111111111111111").await;
    t.gateway.settle().await.unwrap();
    let tasks = (0..N)
        .map(|_| (t.clone(), order.id.clone()))
        .map(|(t, id)| tokio::spawn(async move { t.gateway.cancel(&id, CancelRequest::default()).await }))
        .collect();
    let results = all(tasks).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    let order = t.reload(&order).await;
    assert_eq!((order.state(), order.refunded), (OrderState::Canceled, 10_000));
    let cancels = t.operations(&order).await.iter().filter(|o| o.kind() == OperationKind::Cancel).count();
    assert_eq!(cancels, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_partial_cancels_with_one_external_id_cancel_once() {
    let t = Arc::new(spawn_gateway().await);
    let order = t.paid("race-ext", "100.00", false, "4111111111111111").await;
    let req = CancelRequest {
        amount: Some(1_500),
        external_refund_id: Some("ext-race-000001".into()),
        ..CancelRequest::default()
    };
    let tasks = (0..N)
        .map(|_| (t.clone(), order.id.clone(), req.clone()))
        .map(|(t, id, req)| tokio::spawn(async move { t.gateway.cancel(&id, req).await }))
        .collect();
    let results = all(tasks).await;
    assert!(results.iter().all(|r| r.is_ok()));
    let order = t.reload(&order).await;
    assert_eq!((order.state(), order.voided), (OrderState::PartialCanceled, 1_500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_creates_of_one_order_number_make_one_order() {
    let t = Arc::new(spawn_gateway().await);
    let tasks = (0..N)
        .map(|_| t.clone())
        .map(|t| {
            tokio::spawn(async move { t.gateway.create_order(request(&t.merchant, "race-create", "10.00")).await })
        })
        .collect();
    let results = all(tasks).await;
    let ids: std::collections::HashSet<_> =
        results.into_iter().map(|r| r.expect("same request, same attempt").id).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(t.count_orders().await, 1);
}
