//! Every row of `reference/test-cards.md` through the pay use case.

mod common;

use common::*;
use kassa::domain::{OperationState, OrderState, TransactionKind, TransactionState};

struct Row {
    card: &'static str,
    order: OrderState,
    operation: OperationState,
    code: &'static str,
}

const fn row(card: &'static str, order: OrderState, operation: OperationState, code: &'static str) -> Row {
    Row { card, order, operation, code }
}

const ONE_STAGE: &[Row] = &[
    row("4111 1111 1111 1111", OrderState::Approved, OperationState::Success, "AS000"),
    row("4242 4242 4242 4242", OrderState::Approved, OperationState::Success, "AS000"),
    row("5555 5555 5555 4444", OrderState::Approved, OperationState::Success, "AS000"),
    row("2200 0000 0000 0004", OrderState::Approved, OperationState::Success, "AS000"),
    row("3782 822463 10005", OrderState::Approved, OperationState::Success, "AS000"),
    row("4000 0000 0000 0002", OrderState::Declined, OperationState::Declined, "AS100"),
    row("4000 0000 0000 9995", OrderState::Declined, OperationState::Declined, "AS102"),
    row("4000 0000 0000 0069", OrderState::Declined, OperationState::Declined, "AS104"),
    row("4000 0000 0000 0127", OrderState::Declined, OperationState::Declined, "AS101"),
    row("4000 0000 0000 0077", OrderState::Declined, OperationState::Declined, "AS108"),
    row("4000 0000 0000 0119", OrderState::Declined, OperationState::Declined, "AS998"),
    row("4000 0000 0000 0259", OrderState::Approved, OperationState::Success, "AS000"),
    row("4000 0000 0000 5126", OrderState::Approved, OperationState::Success, "AS000"),
    row("4000 0000 0000 7775", OrderState::Approved, OperationState::Success, "AS000"),
    // Any other Luhn-valid number is approved.
    row("4012 8888 8888 1881", OrderState::Approved, OperationState::Success, "AS000"),
];

#[tokio::test]
async fn each_test_card_ends_as_the_table_says() {
    let t = spawn_gateway().await;
    for (i, r) in ONE_STAGE.iter().enumerate() {
        let order = t.create(&format!("card-{i}"), "100.00", false).await;
        let out = t.pay(&order, r.card).await;
        assert_eq!(out.order.state(), r.order, "{}", r.card);
        assert_eq!(out.operation.state(), r.operation, "{}", r.card);
        assert_eq!(out.operation.response_code.as_deref(), Some(r.code), "{}", r.card);
        assert!(out.challenge.is_none());
        let digits: String = r.card.chars().filter(|c| c.is_ascii_digit()).collect();
        let n = digits.len();
        let expected_mask = format!("{}{}{}", &digits[..6], "*".repeat(n - 10), &digits[n - 4..]);
        assert_eq!(out.operation.card_mask.as_deref(), Some(expected_mask.as_str()));
        let txns = t.transactions(&out.order).await;
        let auth = txns.iter().find(|t| t.kind() == TransactionKind::Authorization).unwrap();
        let expected =
            if r.order == OrderState::Approved { TransactionState::Approved } else { TransactionState::Declined };
        assert_eq!(auth.state(), expected, "{}", r.card);
        if r.order == OrderState::Approved {
            assert_eq!(out.order.authorized, 10_000);
            assert_eq!(out.order.confirmed, 10_000, "one-stage orders are captured at once");
            let fin = txns.iter().find(|t| t.kind() == TransactionKind::Financial).expect("financial transaction");
            assert_eq!((fin.state(), fin.amount), (TransactionState::New, 10_000));
        } else {
            assert_eq!(out.order.authorized, 0);
        }
    }
}

#[tokio::test]
async fn two_stage_approval_leaves_the_order_delayed() {
    let t = spawn_gateway().await;
    let order = t.paid("delayed-1", "10.00", true, "4111111111111111").await;
    assert_eq!(order.state(), OrderState::Delayed);
    assert_eq!((order.authorized, order.confirmed), (1_000, 0));
    assert!(order.confirm_deadline.is_some());
    let txns = t.transactions(&order).await;
    assert!(txns.iter().all(|t| t.kind() != TransactionKind::Financial), "nothing to settle before confirmation");
}

#[tokio::test]
async fn three_d_secure_passed_approves_failed_or_abandoned_declines() {
    let t = spawn_gateway().await;
    for (n, passed, expected) in [
        ("4000 0000 0000 3220", Some(true), OrderState::Approved),
        ("4000 0000 0000 3220", Some(false), OrderState::Declined),
        ("4000 0084 0000 1629", Some(true), OrderState::Declined),
    ] {
        let order = t.create(&format!("3ds-{n}-{passed:?}"), "50.00", false).await;
        let out = t.pay(&order, n).await;
        assert!(out.challenge.is_some(), "{n} asks for 3-D Secure");
        assert_eq!(out.order.state(), OrderState::InProcess);
        assert_eq!(out.operation.state(), OperationState::InProcess);
        let done = t.gateway.complete_challenge(&order.id, passed.unwrap()).await.unwrap();
        assert_eq!(done.order.state(), expected, "{n} passed={passed:?}");
        let code = if expected == OrderState::Approved { "AS000" } else { "AS100" };
        assert_eq!(done.operation.response_code.as_deref(), Some(code));
        // The challenge cannot be answered twice.
        assert!(t.gateway.complete_challenge(&order.id, true).await.is_err());
    }
}

#[tokio::test]
async fn abandoned_challenge_times_out_with_the_order() {
    let t = spawn_gateway().await;
    let order = t.create("3ds-abandoned", "50.00", false).await;
    assert!(t.pay(&order, "4000000000003220").await.challenge.is_some());
    let id = order.id.clone();
    t.gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            use kassa::db::schema::orders;
            diesel::update(orders::table.find(&id))
                .set(orders::expires_at.eq(kassa::db::now() - time::Duration::minutes(1)))
                .execute(c)
                .map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(t.gateway.expire().await.unwrap(), 1);
    let order = t.reload(&order).await;
    assert_eq!(order.state(), OrderState::Timeout);
    let ops = t.operations(&order).await;
    assert_eq!(ops[0].state(), OperationState::Declined);
}

#[tokio::test]
async fn the_card_that_never_answers_is_reversed_and_declined() {
    let t = spawn_gateway().await;
    let order = t.create("no-answer", "75.00", true).await;
    let out = t.pay(&order, "4000 0000 0000 0341").await;
    assert_eq!(out.order.state(), OrderState::Declined, "never Delayed or Approved");
    assert_eq!(out.operation.state(), OperationState::Declined);
    assert_eq!(out.order.authorized, 0);
    let txns = t.transactions(&out.order).await;
    let auth = txns.iter().find(|t| t.kind() == TransactionKind::Authorization).unwrap();
    assert_eq!(auth.state(), TransactionState::Timeout);
    let reversal = txns.iter().find(|t| t.kind() == TransactionKind::Reversal).expect("a reversal was sent");
    assert_eq!((reversal.state(), reversal.amount), (TransactionState::Approved, 7_500));
    assert_eq!(reversal.parent_id.as_ref(), Some(&auth.id));
}

#[tokio::test]
async fn settlement_rejects_the_rejected_card_and_refund_fails_for_its_card() {
    let t = spawn_gateway().await;
    let rejected = t.paid("settle-reject", "10.00", false, "4000000000000259").await;
    let good = t.paid("settle-ok", "20.00", false, "4111111111111111").await;
    let report = t.gateway.settle().await.unwrap();
    assert_eq!((report.batches, report.accepted, report.rejected), (1, 1, 1));
    assert_eq!(t.reload(&good).await.settled, 2_000);
    assert_eq!(t.reload(&rejected).await.settled, 0);
    let fin = t.transactions(&rejected).await.into_iter().find(|t| t.kind() == TransactionKind::Financial).unwrap();
    assert_eq!(fin.state(), TransactionState::Rejected);

    let failing = t.paid("refund-fails", "30.00", false, "4000000000005126").await;
    t.gateway.settle().await.unwrap();
    let out = t.gateway.cancel(&failing.id, Default::default()).await.unwrap();
    assert_eq!(out.operation.state(), OperationState::Declined);
    assert_eq!(out.operation.response_code.as_deref(), Some("AS100"));
    assert_eq!(out.order.state(), OrderState::Approved, "a refused refund gives nothing back");
    assert_eq!(out.order.refunded, 0);
}

#[tokio::test]
async fn expired_card_and_bad_luhn_never_reach_the_processor() {
    let t = spawn_gateway().await;
    let order = t.create("expired-card", "10.00", false).await;
    let mut c = card("4111111111111111");
    c.expiry = kassa::card::Expiry::parse("01", "2020").unwrap();
    let err = t.gateway.pay(&order.id, kassa::gateway::PayRequest { card: c, client_ip: None }).await.unwrap_err();
    assert_eq!(err.code(), "invalid_card");
    assert!(t.operations(&order).await.is_empty());
    assert!(kassa::card::CardNumber::parse("4111 1111 1111 1112").is_err());
}
