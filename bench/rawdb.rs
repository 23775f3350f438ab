//! The raw database of `bench/run`: the rows Kassa writes for one payment, written directly with
//! diesel in one transaction per payment, no HTTP, no gateway, no group commit; and the reads
//! behind orderstate and the Order Monitor. "Kassa / raw database" then shows what Kassa adds
//! over the database itself.
//!
//! ```text
//! bench_rawdb <database-url> <pay|twostage|orderstate|monitor> <threads> <seconds> [billnumber]
//! ```
//!
//! Each thread has its own connection (SQLite: `BEGIN IMMEDIATE`, WAL, `synchronous=FULL`,
//! like Kassa). Prints a `RESULT` line like `bench_load`.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use kassa::db::models::{Merchant, NewOperation, NewOrder, NewOutboxMessage, Operation, Order, OrderId, Transaction};
use kassa::db::schema::{audit_events, checkout_nonces, checkout_pages, merchants, operations, orders};
use kassa::db::{AnyConnection, Backend};
use kassa::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use kassa::gateway::setup::DEMO_MERCHANT_NUMBER;

fn connect(url: &str) -> AnyConnection {
    match Backend::from_url(url) {
        (Backend::Postgres, u) => AnyConnection::Postgresql(PgConnection::establish(&u).expect("connect")),
        (Backend::Sqlite, path) => {
            let mut c = SqliteConnection::establish(&path).expect("open");
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON;",
            )
            .unwrap();
            AnyConnection::Sqlite(c)
        }
    }
}

/// One write transaction; on SQLite `BEGIN IMMEDIATE`, so concurrent writers queue on the lock
/// instead of failing to upgrade a read lock.
fn write_tx(c: &mut AnyConnection, f: impl FnOnce(&mut AnyConnection) -> QueryResult<()>) -> QueryResult<()> {
    if let AnyConnection::Postgresql(_) = c {
        return c.transaction(f);
    }
    c.batch_execute("BEGIN IMMEDIATE")?;
    match f(c) {
        Ok(()) => c.batch_execute("COMMIT"),
        Err(e) => {
            let _ = c.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

/// The writes of one complete payment (payrequest, page, «Charge», the answer) and, for a
/// two-stage one, of its confirmation: the same rows and updates Kassa makes, in one transaction.
fn payment(c: &mut AnyConnection, m: &Merchant, tag: &str, two_stage: bool) -> QueryResult<()> {
    let now = kassa::db::now();
    let id = OrderId::new();
    let amount = 1_000;
    let order = NewOrder {
        id: id.clone(),
        merchant_id: m.id.clone(),
        order_number: format!("raw-{tag}"),
        billnumber: format!("8{:015}", rand::random::<u64>() % 1_000_000_000_000_000),
        state: OrderState::InProcess.as_str().into(),
        original_amount: amount,
        original_currency: "RUB".into(),
        amount,
        currency: "RUB".into(),
        rate: "1".into(),
        delay: two_stage,
        test_mode: true,
        comment: None,
        language: "RU".into(),
        lastname: Some("Petrov".into()),
        firstname: Some("Ivan".into()),
        middlename: None,
        email: Some("bench@example.com".into()),
        phone: None,
        address: None,
        country: None,
        city: None,
        zip: None,
        client_ip: None,
        url_return: None,
        url_return_ok: None,
        url_return_no: None,
        payment_means: "card".into(),
        card_brand: None,
        card_last4: None,
        authorized: 0,
        confirmed: 0,
        released: 0,
        voided: 0,
        refunded: 0,
        settled: 0,
        next_seq: 1,
        expires_at: now + time::Duration::minutes(20),
        confirm_deadline: None,
        paid_at: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(orders::table).values(&order).execute(c)?;
    audit(c, m, &id, "payrequest", now)?;
    diesel::insert_into(checkout_pages::table)
        .values((
            checkout_pages::token.eq(kassa::db::new_id()),
            checkout_pages::order_id.eq(&id),
            checkout_pages::created_at.eq(now),
        ))
        .execute(c)?;
    diesel::insert_into(checkout_nonces::table)
        .values((
            checkout_nonces::nonce.eq(kassa::db::new_id()),
            checkout_nonces::order_id.eq(&id),
            checkout_nonces::created_at.eq(now),
        ))
        .execute(c)?;
    // Payment start: lock, next operation number, the operation and its authorization.
    Order::lock(c, &id)?;
    let seq = Order::take_seq(c, &id)?;
    let op = NewOperation {
        id: kassa::db::models::OperationId::new(),
        order_id: id.clone(),
        seq,
        kind: OperationKind::Payment.as_str().into(),
        state: OperationState::InProcess.as_str().into(),
        amount,
        currency: "RUB".into(),
        response_code: None,
        message: None,
        approval_code: None,
        card_mask: Some("411111******1111".into()),
        card_brand: Some("VISA".into()),
        cardholder: Some("IVAN PETROV".into()),
        card_expiry: Some("12/30".into()),
        client_ip: None,
        cancel_reason: None,
        external_refund_id: None,
        created_at: now,
        updated_at: now,
        actor: Some("customer".into()),
    };
    diesel::insert_into(operations::table).values(&op).execute(c)?;
    let auth =
        Transaction::new(&id, &op.id, TransactionKind::Authorization, TransactionState::Sent, amount, "RUB", now);
    auth.insert(c)?;
    // The answer: approved.
    Order::lock(c, &id)?;
    Transaction::answer(
        c,
        &auth.id,
        TransactionState::Sent,
        TransactionState::Approved,
        Some("ref"),
        Some("AS000"),
        now,
    )?;
    let money = kassa::domain::OrderMoney::authorize(amount, two_stage);
    Order::transition(c, &id, OrderState::InProcess, money.paid_state(), &money, now)?;
    diesel::update(orders::table.find(&id)).set((orders::card_brand.eq("VISA"), orders::paid_at.eq(now))).execute(c)?;
    Operation::finish(c, &op.id, OperationState::Success, "AS000", "Operation successful", Some("123456"), now)?;
    if !two_stage {
        Transaction::new(&id, &op.id, TransactionKind::Financial, TransactionState::New, amount, "RUB", now)
            .acting_on(&auth.id)
            .insert(c)?;
    }
    receipt(c, m, &id, now)?;
    if two_stage {
        Order::lock(c, &id)?;
        let seq = Order::take_seq(c, &id)?;
        let confirm = NewOperation {
            id: kassa::db::models::OperationId::new(),
            seq,
            kind: OperationKind::Confirmation.as_str().into(),
            state: OperationState::Success.as_str().into(),
            ..op.clone()
        };
        diesel::insert_into(operations::table).values(&confirm).execute(c)?;
        Transaction::new(&id, &confirm.id, TransactionKind::Financial, TransactionState::New, amount, "RUB", now)
            .acting_on(&auth.id)
            .insert(c)?;
        let confirmed = kassa::domain::OrderMoney { confirmed: amount, ..money };
        Order::transition(c, &id, OrderState::Delayed, OrderState::Approved, &confirmed, now)?;
        receipt(c, m, &id, now)?;
        audit(c, m, &id, "charge", now)?;
    }
    Ok(())
}

fn audit(
    c: &mut AnyConnection,
    m: &Merchant,
    id: &OrderId,
    action: &str,
    now: time::PrimitiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(kassa::db::new_id()),
            audit_events::merchant_id.eq(Some(m.id.0.as_str())),
            audit_events::order_id.eq(Some(id.0.as_str())),
            audit_events::actor_kind.eq("user"),
            audit_events::actor.eq("demo_manager"),
            audit_events::action.eq(action),
            audit_events::outcome.eq("ok"),
            audit_events::detail.eq("{}"),
            audit_events::created_at.eq(now),
        ))
        .execute(c)
        .map(|_| ())
}

fn receipt(c: &mut AnyConnection, m: &Merchant, id: &OrderId, now: time::PrimitiveDateTime) -> QueryResult<()> {
    let payload = serde_json::json!({ "kind": "receipt", "order_id": id });
    NewOutboxMessage::new("email", &m.id, Some(id), &payload, now).insert(c)
}

/// The reads behind `orderstate` by billnumber: the order (merchant-scoped) and its operations.
fn orderstate(c: &mut AnyConnection, m: &Merchant, billnumber: &str) -> QueryResult<()> {
    let order = Order::by_billnumber(c, &m.id, billnumber)?.ok_or(diesel::result::Error::NotFound)?;
    Operation::of_order(c, &order.id)?;
    Ok(())
}

/// The Order Monitor's filtered first page: the enterprise's orders in one state, newest first.
/// The Order Monitor's page as Kassa reads it: the enterprise's merchants, one keyset query per
/// merchant (newest first) merged, and the last payment attempt's response codes of the page.
fn monitor(c: &mut AnyConnection, m: &Merchant) -> QueryResult<()> {
    let shops: Vec<kassa::db::models::MerchantId> =
        merchants::table.filter(merchants::enterprise_id.eq(&m.enterprise_id)).select(merchants::id).load(c)?;
    let mut rows: Vec<Order> = Vec::new();
    for shop in shops {
        rows.extend(
            orders::table
                .filter(orders::merchant_id.eq(shop))
                .filter(orders::state.eq("Declined"))
                .order((orders::created_at.desc(), orders::id.desc()))
                .limit(51)
                .select(Order::as_select())
                .load(c)?,
        );
    }
    rows.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    rows.truncate(50);
    if rows.is_empty() {
        return Err(diesel::result::Error::NotFound);
    }
    let ids: Vec<OrderId> = rows.iter().map(|o| o.id.clone()).collect();
    let _codes: Vec<(OrderId, i32, Option<String>)> = operations::table
        .filter(operations::order_id.eq_any(ids))
        .filter(operations::kind.eq("payment"))
        .select((operations::order_id, operations::seq, operations::response_code))
        .load(c)?;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!(
            "usage: bench_rawdb <database-url> <pay|twostage|orderstate|monitor> <threads> <seconds> [billnumber]"
        );
        std::process::exit(2);
    }
    let (url, scenario) = (args[1].clone(), args[2].clone());
    let threads: usize = args[3].parse().unwrap();
    let length = Duration::from_secs_f64(args[4].parse().unwrap());
    let billnumber = args.get(5).cloned().unwrap_or_default();
    let merchant = Merchant::by_number(&mut connect(&url), DEMO_MERCHANT_NUMBER).unwrap().expect("the demo merchant");
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis());
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|w| {
            let (url, scenario, m, run, billnumber) =
                (url.clone(), scenario.clone(), merchant.clone(), run.clone(), billnumber.clone());
            std::thread::spawn(move || {
                let mut c = connect(&url);
                let (mut times, mut errors, mut last) = (Vec::new(), 0u64, None);
                let mut i = 0u64;
                while start.elapsed() < length {
                    let t = Instant::now();
                    let tag = format!("{run}-{w}-{i}");
                    let r = match scenario.as_str() {
                        "pay" => write_tx(&mut c, |c| payment(c, &m, &tag, false)),
                        "twostage" => write_tx(&mut c, |c| payment(c, &m, &tag, true)),
                        "orderstate" => orderstate(&mut c, &m, &billnumber),
                        "monitor" => monitor(&mut c, &m),
                        other => panic!("unknown scenario {other}"),
                    };
                    match r {
                        Ok(()) => times.push(t.elapsed()),
                        Err(e) => {
                            errors += 1;
                            last = Some(e.to_string());
                        }
                    }
                    i += 1;
                }
                (times, errors, last)
            })
        })
        .collect();
    let (mut times, mut errors, mut last) = (Vec::new(), 0, None);
    for w in workers {
        let (t, e, l) = w.join().unwrap();
        times.extend(t);
        errors += e;
        last = last.or(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    times.sort();
    let pct = |p: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
        }
    };
    println!(
        "RESULT raw-{scenario} closed {:.0} {:.2} {:.2} errors={errors} sent={} last_error={}",
        times.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        times.len() as u64 + errors,
        last.unwrap_or_else(|| "-".into()).replace(char::is_whitespace, "_"),
    );
}
