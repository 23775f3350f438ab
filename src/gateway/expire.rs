//! Expire: orders whose payment time ran out become `Timeout`.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::events::{self, Event};
use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::db::models::{Merchant, Order, Transaction};
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
    let due: Vec<crate::db::models::OrderId> = orders::table
        .filter(orders::state.eq(OrderState::InProcess.as_str()))
        .filter(orders::expires_at.le(now))
        .order(orders::expires_at.asc())
        .limit(EXPIRE_BATCH)
        .select(orders::id)
        .load(c)?;
    let mut expired = 0;
    for id in &due {
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
            Transaction::answer(
                c,
                &t.id,
                TransactionState::Challenge,
                TransactionState::Declined,
                t.processor_ref.as_deref(),
                Some(codes::DECLINED),
                now,
            )?;
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
