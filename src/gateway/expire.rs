//! Expire: orders whose payment time ran out become `Timeout`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::db::models::{Merchant, Order, OrderId, Transaction};
use crate::db::schema::orders;
use crate::db::{self, AnyConnection};
use crate::domain::{OperationState, OrderState, TransactionKind, TransactionState};

/// Orders handled per write, so one run never holds the writer for long.
const EXPIRE_BATCH: i64 = 500;

impl Gateway {
    /// Moves unpaid orders past their payment deadline to `Timeout`; an abandoned 3-D Secure
    /// challenge is declined with them. An order whose authorization is in flight is left for
    /// the processor's answer (or for recovery). Returns how many orders timed out.
    pub async fn expire(&self) -> Result<usize, GatewayError> {
        let mut total = 0;
        loop {
            let n = self.store.write(|c| expire_some(c, db::now())).await?;
            total += n.0;
            if n.1 < EXPIRE_BATCH as usize {
                return Ok(total);
            }
        }
    }
}

/// Returns (timed out, looked at).
fn expire_some(c: &mut AnyConnection, now: PrimitiveDateTime) -> Result<(usize, usize), GatewayError> {
    let due = due_orders(c, now)?;
    let mut expired = 0;
    'orders: for id in &due {
        let order = Order::lock(c, id)?;
        if order.state() != OrderState::InProcess {
            continue;
        }
        let auths: Vec<Transaction> =
            Transaction::of_order(c, id)?.into_iter().filter(|t| t.kind() == TransactionKind::Authorization).collect();
        if auths.iter().any(|t| t.state() == TransactionState::Sent) {
            continue;
        }
        for t in auths.iter().filter(|t| t.state() == TransactionState::Challenge) {
            // Conditional: a customer's answer that took the challenge first wins, and the order
            // waits for the processor's answer to it.
            if !Transaction::answer(
                c,
                &t.id,
                TransactionState::Challenge,
                TransactionState::Declined,
                t.processor_ref.as_deref(),
                Some(codes::DECLINED),
                now,
            )? {
                continue 'orders;
            }
            crate::db::models::Operation::finish(
                c,
                &t.operation_id,
                OperationState::Declined,
                codes::DECLINED,
                "3-D Secure was not completed in time",
                None,
                now,
            )?;
        }
        if Order::transition(c, id, OrderState::InProcess, OrderState::Timeout, &order.money(), now)? {
            expired += 1;
            let (order, merchant) = (Order::find(c, id)?, Merchant::find(c, &order.merchant_id)?);
            events::emit(c, &merchant, &order, Event::OrderTimeout, None, now)?;
        }
    }
    // Orders skipped above stay due; stop when a round changes nothing to avoid spinning.
    Ok((expired, if expired == 0 { 0 } else { due.len() }))
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The next batch of orders past their payment deadline, oldest deadline first.
///
/// On PostgreSQL the batch is locked here, all at once, skipping orders another transaction
/// holds (a 3-D Secure completion or a payment in progress: not to be expired under it). The
/// loop then never waits for an order's lock while it holds a merchant's turnover row (taken
/// when an abandoned challenge is declined), and a completion that locks its order and then the
/// turnover row cannot deadlock with it. SQLite has a single writer, so nothing interleaves.
fn due_orders(c: &mut AnyConnection, now: PrimitiveDateTime) -> QueryResult<Vec<OrderId>> {
    match c {
        AnyConnection::Postgresql(pg) => Ok(diesel::sql_query(
            "SELECT id FROM orders WHERE state = $1 AND expires_at <= $2 \
             ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind::<Text, _>(OrderState::InProcess.as_str())
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(EXPIRE_BATCH)
        .load::<Due>(pg)?
        .into_iter()
        .map(|d| OrderId(d.id))
        .collect()),
        AnyConnection::Sqlite(_) => orders::table
            .filter(orders::state.eq(OrderState::InProcess.as_str()))
            .filter(orders::expires_at.le(now))
            .order(orders::expires_at.asc())
            .limit(EXPIRE_BATCH)
            .select(orders::id)
            .load(c),
    }
}
