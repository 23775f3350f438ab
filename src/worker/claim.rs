//! Claiming outbox messages with a lease. A claim is a conditional update (on PostgreSQL after
//! `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's rows): two workers never hold
//! the same message, and a worker that dies lets its lease expire for another to take over.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use time::PrimitiveDateTime;

use crate::db::AnyConnection;
use crate::db::schema::{delivery_attempts, outbox};

/// An outbox message as a worker holds it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: String,
    pub topic: String,
    pub merchant_id: crate::db::models::MerchantId,
    pub order_id: Option<crate::db::models::OrderId>,
    pub payload: String,
    pub attempts: i32,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Claims up to `limit` due messages for `worker` until `now + lease`.
pub fn claim(
    c: &mut AnyConnection,
    worker: &str,
    limit: i64,
    lease: time::Duration,
    now: PrimitiveDateTime,
) -> QueryResult<Vec<Message>> {
    let ids: Vec<String> = match c {
        AnyConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
             AND (lease_until IS NULL OR lease_until < $1) ORDER BY available_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        )
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<Id>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        // SQLite has one writer: the select and the update below cannot interleave with another.
        AnyConnection::Sqlite(_) => outbox::table
            .filter(outbox::state.eq("pending"))
            .filter(outbox::available_at.le(now))
            .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now)))
            .order(outbox::available_at.asc())
            .limit(limit)
            .select(outbox::id)
            .load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(&ids))
            .filter(outbox::state.eq("pending"))
            .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now))),
    )
    .set((outbox::lease_until.eq(now + lease), outbox::locked_by.eq(worker), outbox::attempts.eq(outbox::attempts + 1)))
    .execute(c)?;
    outbox::table
        .filter(outbox::id.eq_any(&ids))
        .filter(outbox::locked_by.eq(worker))
        .filter(outbox::lease_until.eq(now + lease))
        .select(Message::as_select())
        .load(c)
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the receiver acknowledged it.
    Delivered,
    /// The receiver answered with an error: never retried (Assist's rule).
    Refused(String),
    /// No (usable) answer: retried at `retry_at`, or dead when attempts are used up.
    NoAnswer { error: String, retry_at: Option<PrimitiveDateTime> },
}

/// Records an attempt and its outcome, if `worker` still holds the message.
pub fn finish(
    c: &mut AnyConnection,
    message: &Message,
    worker: &str,
    outcome: &Outcome,
    status: Option<i32>,
    started: PrimitiveDateTime,
    now: PrimitiveDateTime,
) -> QueryResult<bool> {
    let (state, available_at, error) = match outcome {
        Outcome::Delivered => ("delivered", now, None),
        Outcome::Refused(e) => ("failed", now, Some(e.clone())),
        Outcome::NoAnswer { error, retry_at: Some(at) } => ("pending", *at, Some(error.clone())),
        Outcome::NoAnswer { error, retry_at: None } => ("failed", now, Some(error.clone())),
    };
    let held = outbox::table
        .filter(outbox::id.eq(&message.id))
        .filter(outbox::state.eq("pending"))
        .filter(outbox::locked_by.eq(worker));
    let n = diesel::update(held)
        .set((
            outbox::state.eq(state),
            outbox::available_at.eq(available_at),
            outbox::lease_until.eq(None::<PrimitiveDateTime>),
            outbox::last_error.eq(&error),
            outbox::delivered_at.eq((state == "delivered").then_some(now)),
        ))
        .execute(c)?;
    let outcome_name = match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Refused(_) => "refused",
        Outcome::NoAnswer { .. } => "no_answer",
    };
    diesel::insert_into(delivery_attempts::table)
        .values((
            delivery_attempts::id.eq(crate::db::new_id()),
            delivery_attempts::outbox_id.eq(&message.id),
            delivery_attempts::attempt.eq(message.attempts),
            delivery_attempts::status.eq(status),
            delivery_attempts::outcome.eq(outcome_name),
            delivery_attempts::detail.eq(error.map(|e| e.chars().take(500).collect::<String>())),
            delivery_attempts::started_at.eq(started),
            delivery_attempts::duration_ms.eq((now - started).whole_milliseconds() as i64),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Puts a failed (dead) or delivered message back in the queue: the operator's "resend".
pub fn resend(c: &mut AnyConnection, id: &str, now: PrimitiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(outbox::table.find(id).filter(outbox::state.ne("pending")))
        .set((
            outbox::state.eq("pending"),
            outbox::attempts.eq(0),
            outbox::available_at.eq(now),
            outbox::lease_until.eq(None::<PrimitiveDateTime>),
        ))
        .execute(c)?;
    Ok(n == 1)
}
