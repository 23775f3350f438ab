//! Order details (`/account/orders/<billnumber>`): the order, its operations, transactions with
//! their settlement batch, and the delivery log of its notifications. Another enterprise's
//! billnumber is "not found", exactly like one that does not exist.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use super::AccountError;
use super::common_info::CommonInfo;
use super::login::{html, render};
use super::session::{Account, issue_nonce, signed_in};
use crate::db::models::{Merchant, Operation, Order, Transaction};
use crate::db::schema::{audit_events, delivery_attempts, merchants, orders, outbox, settlement_batches};
use crate::db::{self, StoreError};
use crate::domain::{OperationKind, OrderState, TransactionKind};
use crate::money::format_minor;
use crate::startup::AppState;

/// The user's enterprise's order with this billnumber.
pub async fn find(state: &AppState, account: &Account, billnumber: &str) -> Result<(Order, Merchant), AccountError> {
    if billnumber.is_empty() || billnumber.len() > 20 || !billnumber.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AccountError::NotFound);
    }
    let (enterprise, billnumber) = (account.enterprise.clone(), billnumber.to_owned());
    let found: Option<(Order, Merchant)> = state
        .gateway
        .store
        .read(move |c| {
            orders::table
                .inner_join(merchants::table)
                .filter(orders::billnumber.eq(billnumber))
                .filter(merchants::enterprise_id.eq(enterprise))
                .select((Order::as_select(), Merchant::as_select()))
                .first(c)
                .optional()
                .map_err(StoreError::from)
        })
        .await?;
    // A merchant the user has no role on is as absent as another enterprise's.
    found.filter(|(o, _)| account.access.role_for(&o.merchant_id).is_some()).ok_or(AccountError::NotFound)
}

pub struct OperationRow {
    pub number: String,
    pub kind: String,
    pub state: String,
    pub amount: String,
    pub response_code: String,
    pub approval_code: String,
    pub card: String,
    pub actor: String,
    pub at: String,
}

/// Who carried out an operation, for people: the payment is the customer's.
fn actor_of(o: &Operation) -> String {
    match (&o.actor, o.kind()) {
        (Some(a), _) => a.clone(),
        (None, crate::domain::OperationKind::Payment) => "customer".into(),
        (None, _) => String::new(),
    }
}

/// One line of the order's timeline.
pub struct Event {
    pub at: String,
    pub who: String,
    pub what: String,
    /// For sorting: the time itself.
    sort: time::PrimitiveDateTime,
}

pub struct TransactionRow {
    pub kind: String,
    pub state: String,
    pub amount: String,
    pub response_code: String,
    pub processor_ref: String,
    pub batch: String,
    pub at: String,
}

pub struct DeliveryRow {
    pub id: String,
    /// The last row of a message that is no longer pending, for a user who may act: it gets
    /// the resend button.
    pub resend: bool,
    pub topic: String,
    pub state: String,
    pub attempt: String,
    pub outcome: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "account/order.html")]
struct DetailsPage {
    account: Account,
    order: Order,
    merchant: Merchant,
    info: CommonInfo,
    amount: String,
    remaining: String,
    held: String,
    /// Local times of the order, with their offset.
    created: String,
    confirm_by: String,
    operations: Vec<OperationRow>,
    transactions: Vec<TransactionRow>,
    deliveries: Vec<DeliveryRow>,
    timeline: Vec<Event>,
    /// Set when the user may confirm this order now.
    confirm_nonce: Option<String>,
    can_cancel: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
    error: Option<String>,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

type AuditRow = (time::PrimitiveDateTime, String, String, String, String, Option<String>);

type OutboxRow =
    (String, String, String, time::PrimitiveDateTime, Option<i32>, Option<String>, Option<time::PrimitiveDateTime>);

pub async fn page(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Notice>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (order, merchant) = find(&state, &account, &path).await?;
    let id = order.id.clone();
    let (ops, txs, log) = state
        .gateway
        .store
        .read(move |c| {
            let ops = Operation::of_order(c, &id)?;
            let txs = Transaction::of_order(c, &id)?;
            let batch_ids: Vec<String> = txs.iter().filter_map(|t| t.batch_id.as_ref().map(|b| b.0.clone())).collect();
            let batches: Vec<(String, String)> = settlement_batches::table
                .filter(settlement_batches::id.eq_any(batch_ids))
                .select((settlement_batches::id, settlement_batches::state))
                .load(c)?;
            let log: Vec<OutboxRow> = outbox::table
                .left_join(delivery_attempts::table)
                .filter(outbox::order_id.eq(id.0.clone()))
                .select((
                    outbox::id,
                    outbox::topic,
                    outbox::state,
                    outbox::created_at,
                    delivery_attempts::attempt.nullable(),
                    delivery_attempts::outcome.nullable(),
                    delivery_attempts::started_at.nullable(),
                ))
                .order((outbox::created_at.asc(), delivery_attempts::attempt.asc()))
                .load(c)?;
            let audit: Vec<AuditRow> = audit_events::table
                .filter(audit_events::order_id.eq(id.0.clone()))
                .order(audit_events::created_at.asc())
                .select((
                    audit_events::created_at,
                    audit_events::actor_kind,
                    audit_events::actor,
                    audit_events::action,
                    audit_events::outcome,
                    audit_events::ip,
                ))
                .load(c)?;
            Ok::<_, StoreError>((ops, (txs, batches), (log, audit)))
        })
        .await?;
    let (log, audit) = log;
    let timeline = timeline(&order, &ops, &txs.0, &log, &audit, &account.zone);
    let info = CommonInfo::of(&order, &ops);
    let cur = order.currency.clone();
    let operations = ops
        .iter()
        .map(|o| OperationRow {
            number: format!("{}.{}", order.billnumber, o.seq),
            kind: o.kind.clone(),
            state: o.state.clone(),
            amount: format!("{} {}", format_minor(o.amount, &o.currency), o.currency),
            response_code: opt(&o.response_code),
            approval_code: opt(&o.approval_code),
            card: opt(&o.card_mask),
            actor: actor_of(o),
            at: account.zone.show(o.created_at),
        })
        .collect();
    let (txs, batches) = txs;
    let transactions = txs
        .iter()
        .map(|t| TransactionRow {
            kind: t.kind.clone(),
            state: t.state.clone(),
            amount: format!("{} {}", format_minor(t.amount, &t.currency), t.currency),
            response_code: opt(&t.response_code),
            processor_ref: opt(&t.processor_ref),
            batch: t
                .batch_id
                .as_ref()
                .map(|b| {
                    let state = batches.iter().find(|(id, _)| *id == b.0).map(|(_, s)| s.as_str()).unwrap_or("");
                    format!("{b} ({state})")
                })
                .unwrap_or_default(),
            at: account.zone.show(t.created_at),
        })
        .collect();
    let mut deliveries: Vec<DeliveryRow> = log
        .into_iter()
        .map(|(id, topic, st, created, attempt, outcome, started)| DeliveryRow {
            id,
            resend: false,
            topic,
            state: st,
            attempt: attempt.map(|a| a.to_string()).unwrap_or_default(),
            outcome: outcome.unwrap_or_default(),
            at: account.zone.show(started.unwrap_or(created)),
        })
        .collect();
    for i in 0..deliveries.len() {
        let last = deliveries.get(i + 1).is_none_or(|next| next.id != deliveries[i].id);
        deliveries[i].resend = last && account.may_act_on(&order.merchant_id) && deliveries[i].state != "pending";
    }
    let s = order.state();
    let may_act = account.may_act_on(&order.merchant_id);
    let confirm_nonce =
        if may_act && s == OrderState::Delayed { Some(issue_nonce(&state, &account).await?) } else { None };
    let money = order.money();
    let can_cancel = may_act && s.is_paid() && money.remaining() > 0;
    let notice = match (&query.done, &query.error) {
        (_, Some(code)) => Some(format!("Not done: {} (code {code})", refusal(code))),
        (Some(what), None) if what == "cancel" => Some(format!(
            "Done: {}. The order is now {}.",
            latest_cancel(&ops, &txs).unwrap_or_else(|| what.clone()),
            order.state
        )),
        (Some(what), None) => Some(format!("Done: {what}. The order is now {}.", order.state)),
        _ => None,
    };
    Ok(html(render(&DetailsPage {
        amount: format_minor(order.amount, &cur),
        remaining: format_minor(money.remaining(), &cur),
        held: format_minor(money.held(), &cur),
        created: account.zone.show(order.created_at),
        confirm_by: account.zone.show_opt(order.confirm_deadline),
        account,
        merchant,
        info,
        operations,
        transactions,
        deliveries,
        timeline,
        confirm_nonce,
        can_cancel,
        notice,
        order,
    })?))
}

/// One timeline of everything that happened to the order: the customer's steps (the order and
/// each payment attempt), what merchant staff and systems did (operations and audit entries,
/// refused attempts included), the money moving with the processing center (transactions and
/// their batches) and every notification attempt. Oldest first.
fn timeline(
    order: &Order,
    ops: &[Operation],
    txs: &[Transaction],
    log: &[OutboxRow],
    audit: &[AuditRow],
    zone: &super::Zone,
) -> Vec<Event> {
    let money = |minor: i64, currency: &str| format!("{} {currency}", format_minor(minor, currency));
    let mut events = vec![Event {
        at: String::new(),
        who: "shop".into(),
        what: format!("Order {} created for {}", order.order_number, money(order.amount, &order.currency)),
        sort: order.created_at,
    }];
    for o in ops {
        let code = o.response_code.as_deref().map(|c| format!(", code {c}")).unwrap_or_default();
        let card = o.card_mask.as_deref().map(|c| format!(" with {c}")).unwrap_or_default();
        events.push(Event {
            at: String::new(),
            who: actor_of(o),
            what: format!(
                "{}.{} {} of {}{card}: {}{code}",
                order.billnumber,
                o.seq,
                o.kind,
                money(o.amount, &o.currency),
                o.state
            ),
            sort: o.updated_at,
        });
    }
    for t in txs {
        let batch = t.batch_id.as_ref().map(|b| format!(", settlement batch {b}")).unwrap_or_default();
        events.push(Event {
            at: String::new(),
            who: "processing center".into(),
            what: format!("{} {} {}{batch}", t.kind, money(t.amount, &t.currency), t.state),
            sort: t.updated_at,
        });
    }
    for (_, topic, _, created, attempt, outcome, started) in log {
        let what = match (attempt, outcome) {
            (Some(n), Some(out)) => format!("{topic}: attempt {n}, {out}"),
            (Some(n), None) => format!("{topic}: attempt {n} under way"),
            _ => format!("{topic}: queued"),
        };
        events.push(Event { at: String::new(), who: "worker".into(), what, sort: started.unwrap_or(*created) });
    }
    for (at, kind, actor, action, outcome, ip) in audit {
        let from = ip.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default();
        events.push(Event {
            at: String::new(),
            who: format!("{kind} {actor}"),
            what: format!("{action}: {outcome}{from}"),
            sort: *at,
        });
    }
    // A stable sort keeps the order of equal times: the order, then its operations, and so on.
    events.sort_by_key(|e| e.sort);
    for e in &mut events {
        e.at = zone.show(e.sort);
    }
    events
}

/// The order's operations as CSV (UTF-8, a header row, decimal amounts, ISO 8601 times).
pub async fn operations_csv(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    use crate::gateway::settlement_report::csv_field;
    let account = signed_in(&req, &state).await?;
    let (order, _) = find(&state, &account, &path).await?;
    let id = order.id.clone();
    let ops = state.gateway.store.read(move |c| Operation::of_order(c, &id).map_err(StoreError::from)).await?;
    let mut body = String::from(
        "operation,type,state,amount,currency,response_code,message,approval_code,card,actor,created_at,updated_at\r\n",
    );
    for o in &ops {
        let fields = [
            format!("{}.{}", order.billnumber, o.seq),
            o.kind.clone(),
            o.state.clone(),
            format_minor(o.amount, &o.currency),
            o.currency.clone(),
            opt(&o.response_code),
            opt(&o.message),
            opt(&o.approval_code),
            opt(&o.card_mask),
            actor_of(o),
            db::iso8601(o.created_at),
            db::iso8601(o.updated_at),
        ];
        body.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        body.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"order-{}-operations.csv\"", order.billnumber),
        ))
        .body(body))
}

/// What the latest cancel of the order did: "cancel of 100.00 RUB: reversal 30.00 RUB
/// (Approved), refund 70.00 RUB (Approved)", the calls to the processing center as answered.
fn latest_cancel(ops: &[Operation], txs: &[Transaction]) -> Option<String> {
    let op = ops.iter().filter(|o| o.kind() == OperationKind::Cancel).max_by_key(|o| o.seq)?;
    let calls: Vec<String> = txs
        .iter()
        .filter(|t| t.operation_id == op.id && matches!(t.kind(), TransactionKind::Reversal | TransactionKind::Refund))
        .map(|t| format!("{} {} {} ({})", t.kind, format_minor(t.amount, &t.currency), t.currency, t.state))
        .collect();
    let amount = format!("cancel of {} {}", format_minor(op.amount, &op.currency), op.currency);
    Some(if calls.is_empty() { amount } else { format!("{amount}: {}", calls.join(", ")) })
}

/// A sentence for people about why Kassa refused a confirm or cancel; the stable code is shown
/// beside it for support.
fn refusal(code: &str) -> &'static str {
    match code {
        "wrong_state" => "the order is not in a state that allows this (reload the page to see its state)",
        "already_confirmed" => "the order was already confirmed, for another amount",
        "confirm_deadline_passed" => "the time to confirm this order has passed",
        "not_two_stage" => "the order was paid in one stage; there is nothing to confirm",
        "invalid_amount" => "the amount must be more than zero and at most what is held",
        "exceeds_remaining" => "the amount is more than what is left of the order",
        "partial_cancel_of_delayed" => "a payment that is not confirmed yet can only be cancelled in full",
        "settlement_in_progress" => "the money is being settled right now; try again in a few minutes",
        "processor_unavailable" => "the processing center did not answer; nothing was charged or returned, try again",
        "external_refund_id_reused" => "this cancel was already made with other values",
        "plan_changed" => {
            "the order changed since the plan was shown (money was settled meanwhile); look at the new plan"
        }
        "order_not_found" => "the order no longer exists",
        _ => "Kassa could not do it",
    }
}
