//! Settle: the step the worker runs at each cut-off. Financial transactions go to the
//! processing center in batches; the acknowledgement settles or rejects each of them; refunds
//! that were waiting for their money to be settled go out afterwards.
//!
//! A batch is recorded (`sent`) before it is submitted, so a crash or a lost answer leaves a
//! batch that the next run resolves by asking the processor, and never a batch sent twice
//! under two ids.

use std::collections::BTreeMap;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::db::models::{BatchId, Merchant, Operation, Order, SettlementBatch, Transaction};
use crate::db::schema::{orders, settlement_batches, transactions};
use crate::db::{self, AnyConnection};
use crate::domain::{OperationState, TransactionKind, TransactionState};
use crate::processing::{BatchAck, BatchItem, BatchRequest, ReturnAnswer};

/// Most financial transactions in one batch.
const BATCH_LIMIT: i64 = 5_000;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SettleReport {
    pub batches: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Batches submitted without an acknowledgement yet (retried at the next run).
    pub unacknowledged: usize,
    pub refunds_sent: usize,
}

impl Gateway {
    pub async fn settle(&self) -> Result<SettleReport, GatewayError> {
        let mut report = SettleReport::default();
        let open = self.store.read(open_batches).await?;
        let fresh = self.store.write(|c| form_batches(c, db::now())).await?;
        for (batch, resubmit) in open.into_iter().map(|b| (b, true)).chain(fresh.into_iter().map(|b| (b, false))) {
            report.batches += 1;
            let ack = if resubmit {
                match self.with_timeout(self.processor.batch_status(&batch.batch_id)).await {
                    Some(Ok(Some(ack))) => Some(ack),
                    // Never received: submit it again under the same id.
                    Some(Ok(None)) => self.with_timeout(self.processor.settle(&batch)).await.and_then(Result::ok),
                    _ => None,
                }
            } else {
                self.with_timeout(self.processor.settle(&batch)).await.and_then(Result::ok)
            };
            let Some(ack) = ack else {
                tracing::warn!(batch = %batch.batch_id, "settlement batch not acknowledged; retried next run");
                report.unacknowledged += 1;
                continue;
            };
            let (accepted, rejected) =
                self.store.write(move |c| apply_ack(c, &BatchId(batch.batch_id.clone()), &ack, db::now())).await?;
            report.accepted += accepted;
            report.rejected += rejected;
        }
        report.refunds_sent = self.send_waiting_refunds().await?;
        Ok(report)
    }

    /// Sends refunds whose money is now settled (Amex cancels before settlement).
    async fn send_waiting_refunds(&self) -> Result<usize, GatewayError> {
        let waiting = self
            .store
            .read(|c| {
                transactions::table
                    .filter(transactions::kind.eq(TransactionKind::Refund.as_str()))
                    .filter(transactions::state.eq(TransactionState::Waiting.as_str()))
                    .select(Transaction::as_select())
                    .load(c)
                    .map_err(GatewayError::from)
            })
            .await?;
        let mut sent = 0;
        for refund in waiting {
            let id = refund.id.clone();
            let ready = self.store.write(move |c| release_waiting(c, &id, db::now())).await?;
            if !ready {
                continue;
            }
            let Some(authorization) = refund.parent_id.clone() else { continue };
            let answer = self.send_refund(&refund, &authorization).await;
            sent += 1;
            self.store.write(move |c| record_refund(c, &refund, answer, db::now())).await?;
        }
        Ok(sent)
    }
}

fn batch_request(batch: &SettlementBatch, items: &[Transaction]) -> BatchRequest {
    BatchRequest {
        batch_id: batch.id.0.clone(),
        currency: batch.currency.clone(),
        items: items
            .iter()
            .map(|t| BatchItem {
                transaction_id: t.id.0.clone(),
                authorization: t.parent_id.clone().map(|p| p.0).unwrap_or_default(),
                amount: t.amount,
            })
            .collect(),
    }
}

fn batch_items(c: &mut AnyConnection, batch: &BatchId) -> QueryResult<Vec<Transaction>> {
    transactions::table
        .filter(transactions::batch_id.eq(batch))
        .order(transactions::id.asc())
        .select(Transaction::as_select())
        .load(c)
}

fn open_batches(c: &mut AnyConnection) -> Result<Vec<BatchRequest>, GatewayError> {
    let batches: Vec<SettlementBatch> = settlement_batches::table
        .filter(settlement_batches::state.eq("sent"))
        .order(settlement_batches::created_at.asc())
        .select(SettlementBatch::as_select())
        .load(c)?;
    batches.iter().map(|b| Ok(batch_request(b, &batch_items(c, &b.id)?))).collect()
}

/// Puts every unsent financial transaction into a batch per currency, recorded as `sent`.
fn form_batches(c: &mut AnyConnection, now: PrimitiveDateTime) -> Result<Vec<BatchRequest>, GatewayError> {
    let pending: Vec<Transaction> = transactions::table
        .filter(transactions::kind.eq(TransactionKind::Financial.as_str()))
        .filter(transactions::state.eq(TransactionState::New.as_str()))
        .filter(transactions::amount.gt(0))
        .order((transactions::currency.asc(), transactions::created_at.asc()))
        .limit(BATCH_LIMIT)
        .select(Transaction::as_select())
        .load(c)?;
    let mut by_currency: BTreeMap<String, Vec<Transaction>> = BTreeMap::new();
    for t in pending {
        by_currency.entry(t.currency.clone()).or_default().push(t);
    }
    let mut requests = Vec::new();
    for (currency, items) in by_currency {
        let batch = SettlementBatch {
            id: BatchId::new(),
            currency,
            state: "sent".into(),
            item_count: items.len() as i32,
            total: items.iter().map(|t| t.amount).sum(),
            accepted_total: 0,
            rejected_count: 0,
            processor_ref: None,
            created_at: now,
            acknowledged_at: None,
        };
        diesel::insert_into(settlement_batches::table).values(&batch).execute(c)?;
        let ids: Vec<&str> = items.iter().map(|t| t.id.0.as_str()).collect();
        diesel::update(transactions::table.filter(transactions::id.eq_any(&ids)))
            .set((
                transactions::state.eq(TransactionState::Sent.as_str()),
                transactions::batch_id.eq(&batch.id),
                transactions::updated_at.eq(now),
            ))
            .execute(c)?;
        requests.push(batch_request(&batch, &batch_items(c, &batch.id)?));
    }
    Ok(requests)
}

/// Applies an acknowledgement once: settles accepted items on their orders, rejects the rest.
fn apply_ack(
    c: &mut AnyConnection,
    batch: &BatchId,
    ack: &BatchAck,
    now: PrimitiveDateTime,
) -> Result<(usize, usize), GatewayError> {
    let mut items = batch_items(c, batch)?;
    // Lock orders in one global order, as every writer does, so batches never deadlock.
    items.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    let (mut accepted, mut rejected, mut accepted_total) = (0, 0, 0);
    for t in items.iter().filter(|t| t.state() == TransactionState::Sent) {
        let ok = !ack.rejected.contains(&t.id.0);
        Order::lock(c, &t.order_id)?;
        let to = if ok { TransactionState::Settled } else { TransactionState::Rejected };
        Transaction::answer(c, &t.id, TransactionState::Sent, to, Some(&ack.reference), None, now)?;
        if ok {
            diesel::update(orders::table.find(&t.order_id))
                .set((orders::settled.eq(orders::settled + t.amount), orders::updated_at.eq(now)))
                .execute(c)?;
            accepted += 1;
            accepted_total += t.amount;
        } else {
            tracing::error!(transaction = %t.id, order = %t.order_id, "settlement item rejected by the processing center");
            rejected += 1;
        }
        let order = Order::find(c, &t.order_id)?;
        let merchant = Merchant::find(c, &order.merchant_id)?;
        let event = if ok { Event::PaymentSettled } else { Event::SettlementRejected };
        let operation = Operation::find(c, &t.operation_id)?;
        events::emit(c, &merchant, &order, event, Some(&operation), now)?;
    }
    diesel::update(settlement_batches::table.find(batch).filter(settlement_batches::state.eq("sent")))
        .set((
            settlement_batches::state.eq("acknowledged"),
            settlement_batches::accepted_total.eq(accepted_total),
            settlement_batches::rejected_count.eq(rejected as i32),
            settlement_batches::processor_ref.eq(&ack.reference),
            settlement_batches::acknowledged_at.eq(now),
        ))
        .execute(c)?;
    Ok((accepted, rejected))
}

/// Marks a waiting refund `sent` if its order has enough settled money not yet refunded.
fn release_waiting(
    c: &mut AnyConnection,
    id: &crate::db::models::TransactionId,
    now: PrimitiveDateTime,
) -> Result<bool, GatewayError> {
    let refund = Transaction::find(c, id)?;
    let order = Order::lock(c, &refund.order_id)?;
    let already: i64 = Transaction::of_order(c, &order.id)?
        .iter()
        .filter(|t| {
            t.kind() == TransactionKind::Refund
                && matches!(t.state(), TransactionState::Sent | TransactionState::Approved)
        })
        .map(|t| t.amount)
        .sum();
    if order.settled - already < refund.amount {
        return Ok(false);
    }
    Ok(Transaction::answer(c, id, TransactionState::Waiting, TransactionState::Sent, None, None, now)?)
}

/// Records the answer to a refund sent outside the cancel that created it.
pub(super) fn record_refund(
    c: &mut AnyConnection,
    refund: &Transaction,
    answer: Option<ReturnAnswer>,
    now: PrimitiveDateTime,
) -> Result<(), GatewayError> {
    let Some(answer) = answer else { return Ok(()) };
    let order = Order::lock(c, &refund.order_id)?;
    match &answer {
        ReturnAnswer::Approved { reference } => {
            Transaction::answer(
                c,
                &refund.id,
                TransactionState::Sent,
                TransactionState::Approved,
                Some(reference),
                Some(codes::SUCCESS),
                now,
            )?;
            let open = Transaction::of_order(c, &order.id)?.iter().any(|t| {
                t.operation_id == refund.operation_id
                    && matches!(t.state(), TransactionState::Sent | TransactionState::Waiting)
            });
            if !open {
                Operation::finish(
                    c,
                    &refund.operation_id,
                    OperationState::Success,
                    codes::SUCCESS,
                    codes::message(codes::SUCCESS),
                    None,
                    now,
                )?;
            }
        }
        ReturnAnswer::Declined { code } => {
            Transaction::answer(
                c,
                &refund.id,
                TransactionState::Sent,
                TransactionState::Declined,
                None,
                Some(code),
                now,
            )?;
            let mut money = order.money();
            money.refunded -= refund.amount;
            super::cancel::apply_money(c, &order, &money, now)?;
            Operation::finish(
                c,
                &refund.operation_id,
                OperationState::Declined,
                code,
                codes::message(code),
                None,
                now,
            )?;
        }
    }
    let order = Order::find(c, &refund.order_id)?;
    let operation = Operation::find(c, &refund.operation_id)?;
    super::cancel::announce_cancel(c, &order, &operation, now)
}
