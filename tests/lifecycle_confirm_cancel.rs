//! Confirm and cancel through the use cases: the two-stage matrix, reversal versus refund,
//! partial cancels, and settlement in between.

mod common;

use common::*;
use kassa::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use kassa::gateway::CancelRequest;

const VISA: &str = "4111111111111111";
const AMEX: &str = "378282246310005";

fn amount(minor: i64) -> CancelRequest {
    CancelRequest { amount: Some(minor), ..CancelRequest::default() }
}

#[tokio::test]
async fn confirm_full_partial_and_twice() {
    let t = spawn_gateway().await;

    let full = t.paid("confirm-full", "100.00", true, VISA).await;
    let out = t.gateway.confirm(&full.id, None).await.unwrap();
    assert_eq!(out.order.state(), OrderState::Approved);
    assert_eq!((out.order.confirmed, out.operation.amount), (10_000, 10_000));
    assert_eq!(out.operation.kind(), OperationKind::Confirmation);
    assert!(!out.repeated);

    let again = t.gateway.confirm(&full.id, None).await.unwrap();
    assert!(again.repeated, "a repeated confirm has no second effect");
    assert_eq!(again.operation.id, out.operation.id);
    assert_eq!(t.reload(&full).await.confirmed, 10_000);
    let financial = t.transactions(&full).await.into_iter().filter(|t| t.kind() == TransactionKind::Financial).count();
    assert_eq!(financial, 1);
    let other = t.gateway.confirm(&full.id, Some(5_000)).await.unwrap_err();
    assert_eq!(other.code(), "already_confirmed");

    let partial = t.paid("confirm-partial", "100.00", true, VISA).await;
    let out = t.gateway.confirm(&partial.id, Some(6_000)).await.unwrap();
    assert_eq!(out.order.state(), OrderState::PartialDelayed);
    assert_eq!((out.order.authorized, out.order.confirmed), (10_000, 6_000));
    let same = t.gateway.confirm(&partial.id, Some(6_000)).await.unwrap();
    assert!(same.repeated);

    let too_much = t.paid("confirm-too-much", "100.00", true, VISA).await;
    let err = t.gateway.confirm(&too_much.id, Some(10_001)).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_amount", Some("Amount")));
    assert_eq!(t.reload(&too_much).await.state(), OrderState::Delayed);
}

#[tokio::test]
async fn one_stage_and_unpaid_orders_cannot_be_confirmed() {
    let t = spawn_gateway().await;
    let one_stage = t.paid("one-stage", "10.00", false, VISA).await;
    assert_eq!(t.gateway.confirm(&one_stage.id, None).await.unwrap_err().code(), "not_two_stage");
    let unpaid = t.create("unpaid", "10.00", true).await;
    assert_eq!(t.gateway.confirm(&unpaid.id, None).await.unwrap_err().code(), "wrong_state");
    let declined = t.paid("declined", "10.00", true, "4000000000000002").await;
    assert_eq!(t.gateway.confirm(&declined.id, None).await.unwrap_err().code(), "wrong_state");
}

#[tokio::test]
async fn cancel_before_settlement_reverses_after_settlement_refunds() {
    let t = spawn_gateway().await;

    // Two-stage, unconfirmed: the authorization is reversed.
    let delayed = t.paid("cancel-delayed", "50.00", true, VISA).await;
    let out = t.gateway.cancel(&delayed.id, CancelRequest::default()).await.unwrap();
    assert_eq!(out.order.state(), OrderState::Canceled);
    assert_eq!((out.plan.release, out.plan.refund), (5_000, 0));
    assert_eq!(out.operation.kind(), OperationKind::Cancel);
    assert_eq!(out.operation.state(), OperationState::Success);
    let txns = t.transactions(&out.order).await;
    let reversal = txns.iter().find(|t| t.kind() == TransactionKind::Reversal).unwrap();
    assert_eq!((reversal.state(), reversal.amount), (TransactionState::Approved, 5_000));

    // One-stage, not yet settled: dropped from the next batch and reversed.
    let unsettled = t.paid("cancel-unsettled", "30.00", false, VISA).await;
    let out = t.gateway.cancel(&unsettled.id, CancelRequest::default()).await.unwrap();
    assert_eq!(out.order.state(), OrderState::Canceled);
    assert_eq!((out.plan.void, out.plan.refund), (3_000, 0));
    let fin = t.transactions(&out.order).await.into_iter().find(|t| t.kind() == TransactionKind::Financial).unwrap();
    assert_eq!((fin.state(), fin.amount), (TransactionState::Dropped, 0));
    let report = t.gateway.settle().await.unwrap();
    assert_eq!(report.batches, 0, "nothing left to settle");

    // Settled: refunded.
    let settled = t.paid("cancel-settled", "40.00", false, VISA).await;
    t.gateway.settle().await.unwrap();
    assert_eq!(t.reload(&settled).await.settled, 4_000);
    let out = t.gateway.cancel(&settled.id, CancelRequest::default()).await.unwrap();
    assert_eq!(out.order.state(), OrderState::Canceled);
    assert_eq!((out.plan.reverse(), out.plan.refund), (0, 4_000));
    assert_eq!(out.order.refunded, 4_000);
    let refund = t.transactions(&out.order).await.into_iter().find(|t| t.kind() == TransactionKind::Refund).unwrap();
    assert_eq!(refund.state(), TransactionState::Approved);
}

#[tokio::test]
async fn partial_cancel_then_the_rest_and_no_more() {
    let t = spawn_gateway().await;
    let order = t.paid("partial", "100.00", false, VISA).await;
    t.gateway.settle().await.unwrap();

    let first = t.gateway.cancel(&order.id, amount(3_000)).await.unwrap();
    assert_eq!(first.order.state(), OrderState::PartialCanceled);
    assert_eq!(first.order.refunded, 3_000);

    let before = t.transactions(&order).await.len();
    let err = t.gateway.cancel(&order.id, amount(7_001)).await.unwrap_err();
    assert_eq!(err.code(), "exceeds_remaining");
    assert_eq!(t.transactions(&order).await.len(), before, "nothing written");
    assert_eq!(t.operations(&order).await.len(), 2);

    let rest = t.gateway.cancel(&order.id, CancelRequest::default()).await.unwrap();
    assert_eq!(rest.plan.amount, 7_000);
    assert_eq!(rest.order.state(), OrderState::Canceled);
    assert_eq!(rest.order.refunded, 10_000);
    let seqs: Vec<i32> = t.operations(&order).await.iter().map(|o| o.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3], "each cancel is its own billnumber.N operation");

    assert_eq!(t.gateway.cancel(&order.id, amount(1)).await.unwrap_err().code(), "wrong_state");
    assert_eq!(t.gateway.cancel(&order.id, CancelRequest::default()).await.unwrap_err().code(), "wrong_state");
}

#[tokio::test]
async fn partially_confirmed_order_reverses_the_rest_and_refunds_the_settled_part() {
    let t = spawn_gateway().await;
    let order = t.paid("split", "100.00", true, VISA).await;
    t.gateway.confirm(&order.id, Some(7_000)).await.unwrap();
    t.gateway.settle().await.unwrap();
    let plan = t.gateway.preview_cancel(&order.id, None).await.unwrap();
    assert_eq!((plan.reverse(), plan.refund), (3_000, 7_000), "reverse 30.00, refund 70.00");
    let out = t.gateway.cancel(&order.id, CancelRequest::default()).await.unwrap();
    assert_eq!(out.plan, plan);
    assert_eq!(out.order.state(), OrderState::Canceled);
    assert_eq!((out.order.released, out.order.refunded), (3_000, 7_000));
}

#[tokio::test]
async fn delayed_orders_cancel_only_in_full() {
    let t = spawn_gateway().await;
    let order = t.paid("delayed-partial", "100.00", true, VISA).await;
    assert_eq!(t.gateway.cancel(&order.id, amount(1_000)).await.unwrap_err().code(), "partial_cancel_of_delayed");
    assert_eq!(t.reload(&order).await.state(), OrderState::Delayed);
}

#[tokio::test]
async fn amex_is_refunded_never_reversed() {
    let t = spawn_gateway().await;
    // Unsettled Amex: captured, settled at the next run, then refunded.
    let order = t.paid("amex-unsettled", "25.00", false, AMEX).await;
    let out = t.gateway.cancel(&order.id, CancelRequest::default()).await.unwrap();
    assert_eq!((out.plan.reverse(), out.plan.refund, out.plan.refund_now), (0, 2_500, 0));
    assert_eq!(out.order.state(), OrderState::Canceled);
    assert_eq!(out.operation.state(), OperationState::InProcess, "the refund waits for settlement");
    let report = t.gateway.settle().await.unwrap();
    assert_eq!((report.accepted, report.refunds_sent), (1, 1));
    let ops = t.operations(&order).await;
    assert_eq!(ops.last().unwrap().state(), OperationState::Success);
    let txns = t.transactions(&order).await;
    assert!(txns.iter().all(|t| t.kind() != TransactionKind::Reversal));
    let refund = txns.iter().find(|t| t.kind() == TransactionKind::Refund).unwrap();
    assert_eq!((refund.state(), refund.amount), (TransactionState::Approved, 2_500));

    // Settled Amex: refunded at once.
    let settled = t.paid("amex-settled", "10.00", false, AMEX).await;
    t.gateway.settle().await.unwrap();
    let out = t.gateway.cancel(&settled.id, amount(400)).await.unwrap();
    assert_eq!((out.plan.refund_now, out.order.state()), (400, OrderState::PartialCanceled));
    assert_eq!(out.operation.state(), OperationState::Success);
}

#[tokio::test]
async fn external_refund_id_is_an_idempotency_key() {
    let t = spawn_gateway().await;
    let order = t.paid("ext-id", "100.00", false, VISA).await;
    let req = CancelRequest {
        amount: Some(1_000),
        external_refund_id: Some("refund-0001".into()),
        reason: Some(1),
        ..CancelRequest::default()
    };
    let first = t.gateway.cancel(&order.id, req.clone()).await.unwrap();
    let second = t.gateway.cancel(&order.id, req.clone()).await.unwrap();
    assert!(second.repeated);
    assert_eq!(first.operation.id, second.operation.id);
    assert_eq!(t.reload(&order).await.voided, 1_000);
    let other = CancelRequest { amount: Some(2_000), ..req };
    assert_eq!(t.gateway.cancel(&order.id, other).await.unwrap_err().code(), "external_refund_id_reused");
    let bad = CancelRequest { external_refund_id: Some("short".into()), ..CancelRequest::default() };
    assert_eq!(t.gateway.cancel(&order.id, bad).await.unwrap_err().field(), Some("Externalrefundid"));
}

/// The account's plan page sends back the plan it showed: when a settlement batch comes between,
/// the reversal it showed would be a refund now, so the cancel is refused and nothing is done.
#[tokio::test]
async fn a_cancel_carried_out_otherwise_than_shown_is_refused() {
    let t = spawn_gateway().await;
    let order = t.paid("shown-plan", "50.00", false, VISA).await;
    let plan = t.gateway.preview_cancel(&order.id, None).await.unwrap();
    assert_eq!((plan.reverse(), plan.refund), (5_000, 0), "not settled yet: dropped from the batch and reversed");
    t.gateway.settle().await.unwrap();
    let shown = CancelRequest { shown_plan: Some((plan.reverse(), plan.refund)), ..CancelRequest::default() };
    let refused = t.gateway.cancel(&order.id, shown).await.unwrap_err();
    assert_eq!(refused.code(), "plan_changed");
    let untouched = t.reload(&order).await;
    assert_eq!((untouched.state.as_str(), untouched.voided + untouched.refunded), ("Approved", 0));
    let now = t.gateway.preview_cancel(&order.id, None).await.unwrap();
    assert_eq!((now.reverse(), now.refund), (0, 5_000));
    let matching = CancelRequest { shown_plan: Some((0, 5_000)), ..CancelRequest::default() };
    let done = t.gateway.cancel(&order.id, matching).await.unwrap();
    assert_eq!(done.order.state, "Canceled");
    assert_eq!(done.order.refunded, 5_000);
}

#[tokio::test]
async fn settlement_survives_a_lost_acknowledgement() {
    let t = spawn_gateway().await;
    let order = t.paid("lost-ack", "12.34", false, VISA).await;
    // The batch was recorded and submitted, but Kassa never applied the answer (a crash).
    let batch = t.gateway.settle().await.unwrap();
    assert_eq!(batch.accepted, 1);
    // Make it look unacknowledged again and run settlement: it asks the processor, which
    // knows the batch, and applies the same acknowledgement once.
    let id = order.id.clone();
    t.gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            use kassa::db::schema::{orders, settlement_batches, transactions};
            diesel::update(settlement_batches::table).set(settlement_batches::state.eq("sent")).execute(c)?;
            diesel::update(transactions::table.filter(transactions::state.eq("settled")))
                .set(transactions::state.eq("sent"))
                .execute(c)?;
            diesel::update(orders::table.find(&id)).set(orders::settled.eq(0)).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .unwrap();
    let again = t.gateway.settle().await.unwrap();
    assert_eq!((again.batches, again.accepted), (1, 1));
    assert_eq!(t.reload(&order).await.settled, 1_234);
    assert_eq!(t.gateway.settle().await.unwrap().batches, 0);
    // The processing center received the batch once: it was asked about, not resent.
    let journal = std::fs::read_to_string(t.db.dir().join("simulator.journal")).unwrap();
    assert_eq!(journal.lines().filter(|l| l.starts_with("{\"Batch\"")).count(), 1);
}

#[tokio::test]
async fn unpaid_orders_expire_and_their_number_can_be_retried() {
    let t = spawn_gateway().await;
    let order = t.create("expire-me", "10.00", false).await;
    let id = order.id.clone();
    t.gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            use kassa::db::schema::orders;
            diesel::update(orders::table.find(&id))
                .set(orders::expires_at.eq(kassa::db::now() - time::Duration::seconds(1)))
                .execute(c)
                .map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(t.gateway.expire().await.unwrap(), 1);
    assert_eq!(t.reload(&order).await.state(), OrderState::Timeout);
    assert_eq!(
        t.gateway
            .pay(&order.id, kassa::gateway::PayRequest { card: card(VISA), client_ip: None })
            .await
            .unwrap_err()
            .code(),
        "wrong_state"
    );
    let retry = t.create("expire-me", "10.00", false).await;
    assert_ne!(retry.billnumber, order.billnumber);
    assert_eq!(t.gateway.expire().await.unwrap(), 0);
}

#[tokio::test]
async fn retry_rules_for_order_numbers() {
    let t = spawn_gateway().await;
    let declined = t.paid("retry", "10.00", false, "4000000000000002").await;
    assert_eq!(declined.state(), OrderState::Declined);
    let second = t.create("retry", "10.00", false).await;
    assert_ne!(second.billnumber, declined.billnumber, "a new attempt gets a new billnumber");
    assert_eq!(second.order_number, declined.order_number);
    // The same request while the attempt is open returns that attempt.
    assert_eq!(t.create("retry", "10.00", false).await.id, second.id);
    let err = t.gateway.create_order(request(&t.merchant, "retry", "11.00")).await.unwrap_err();
    assert_eq!(err.code(), "order_number_in_use");
    t.pay(&second, VISA).await;
    let err = t.gateway.create_order(request(&t.merchant, "retry", "10.00")).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("order_number_paid", Some("OrderNumber")));
    assert_eq!(t.count_orders().await, 2);
    // Billnumbers are 16 digits.
    assert!(second.billnumber.len() == 16 && second.billnumber.bytes().all(|b| b.is_ascii_digit()));
}
