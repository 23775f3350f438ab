//! `kassa seed`: bulk-loads realistic orders for the demo enterprise, for benchmarks and for
//! trying the Order Monitor on a full database. Every order is written with the operations and
//! transactions its state implies (payments, confirmations, reversals, refunds, settlement in
//! acknowledged batches), so `kassa check` passes on a seeded database.
//!
//! Rows are built in memory and inserted many per statement, thousands of orders per
//! transaction, through [`Store::write`] like every other write.

use std::collections::HashMap;
use std::time::Instant;

use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Duration, PrimitiveDateTime};

use crate::assist::codes;
use crate::db::models::{
    BatchId, Merchant, MerchantId, NewOperation, NewOrder, NewTransaction, OperationId, OrderId, SettlementBatch,
    TransactionId,
};
use crate::db::schema::{merchants, operations, orders, settlement_batches, transactions};
use crate::db::{self, AnyConnection, Store, StoreError};
use crate::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use crate::gateway::{GatewayError, setup};

/// Orders per write transaction.
const CHUNK: usize = 5_000;
/// Progress is printed every this many orders.
const PROGRESS_EVERY: usize = 50_000;
/// Most orders of one run: seven digits of the billnumber count them.
pub const MAX_ORDERS: usize = 9_999_999;
/// Orders are spread over the last this many days.
const DAYS: i64 = 90;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub orders: usize,
    /// Only this merchant (its Assist `Merchant_ID`); otherwise the demo enterprise's merchants.
    pub merchant: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub orders: usize,
    pub operations: usize,
    pub transactions: usize,
    pub batches: usize,
    pub states: Vec<(String, usize)>,
}

/// The demo enterprise's other shops, created when missing: a bookshop (one-stage), a travel
/// agency (mostly two-stage) and an invoicing service whose payment links stay open a week.
const SHOPS: [(i64, &str, i64); 3] =
    [(679472, "Demo Books", 20 * 60), (679473, "Demo Travel", 20 * 60), (679474, "Demo Invoices", 7 * 24 * 3600)];

/// Seeds `options.orders` orders; progress goes to stderr.
pub async fn seed(store: &Store, options: SeedOptions) -> Result<SeedReport, GatewayError> {
    if options.orders > MAX_ORDERS {
        return Err(GatewayError::invalid("orders", format!("at most {MAX_ORDERS} per run")));
    }
    let demo = setup::demo(store).await?;
    let shops = match options.merchant {
        Some(number) => {
            let m = store.read(move |c| Merchant::by_number(c, number).map_err(StoreError::from)).await?;
            vec![m.ok_or_else(|| GatewayError::invalid("merchant", format!("no merchant {number}")))?]
        }
        None => {
            let enterprise = demo.merchant.enterprise_id.clone();
            let mut shops = vec![demo.merchant.clone()];
            for (number, name, timeout) in SHOPS {
                let enterprise = enterprise.clone();
                let m = store
                    .write(move |c| {
                        if let Some(m) = Merchant::by_number(c, number)? {
                            return Ok(m);
                        }
                        let mut m = setup::new_merchant(&enterprise, number, name, setup::DEMO_SECRET);
                        m.payment_timeout_secs = timeout;
                        diesel::insert_into(merchants::table).values(&m).execute(c)?;
                        Ok::<_, StoreError>(m)
                    })
                    .await?;
                shops.push(m);
            }
            shops
        }
    };

    let now = db::now();
    // One acknowledged batch per currency and day, like a daily settlement cut-off; the totals
    // are filled in at the end and batches nothing landed in are removed.
    let mut batches = Vec::new();
    for day in 0..=DAYS {
        for currency in CURRENCIES {
            let created = now - Duration::days(day) + Duration::hours(1);
            batches.push(SettlementBatch {
                id: BatchId::new(),
                currency: currency.into(),
                state: "acknowledged".into(),
                item_count: 1,
                total: 1,
                accepted_total: 1,
                rejected_count: 0,
                processor_ref: Some(format!("SIM-BATCH-{}", &db::new_id()[..8])),
                created_at: created,
                acknowledged_at: Some(created + Duration::minutes(5)),
            });
        }
    }
    let rows = batches.clone();
    store
        .write(move |c| {
            if let AnyConnection::Sqlite(_) = c {
                // A bulk load into tables keyed by random UUIDs with many indexes: a large page
                // cache on the writer's connection (this process only) keeps it from slowing
                // down as the file grows.
                diesel::sql_query("PRAGMA cache_size = -524288").execute(c)?;
            }
            for chunk in rows.chunks(500) {
                insert_all!(c, settlement_batches::table, chunk);
            }
            Ok::<_, StoreError>(())
        })
        .await?;

    let run: u64 = rand::random::<u64>() % 10_000_000;
    let mut report = SeedReport::default();
    let mut states: HashMap<&'static str, usize> = HashMap::new();
    let mut totals: HashMap<usize, (i32, i64)> = HashMap::new();
    let started = Instant::now();
    let mut next_progress = PROGRESS_EVERY;
    let mut done = 0;
    while done < options.orders {
        let n = CHUNK.min(options.orders - done);
        let mut rng = StdRng::seed_from_u64(run ^ done as u64);
        let mut rows = Rows::default();
        for i in done..done + n {
            let (state, batch) = rows.order(&mut rng, &shops, run, i as u64, now, &batches);
            *states.entry(state.as_str()).or_default() += 1;
            if let Some((index, amount)) = batch {
                let t = totals.entry(index).or_default();
                t.0 += 1;
                t.1 += amount;
            }
        }
        report.operations += rows.operations.len();
        report.transactions += rows.transactions.len();
        store.write(move |c| rows.insert(c)).await?;
        done += n;
        if done >= next_progress || done == options.orders {
            let secs = started.elapsed().as_secs_f64();
            eprintln!("seed: {done} orders in {secs:.1} s ({:.0} orders/s)", done as f64 / secs.max(1e-9));
            next_progress += PROGRESS_EVERY;
        }
    }

    let (used, unused): (Vec<_>, Vec<_>) = batches.iter().enumerate().partition(|(i, _)| totals.contains_key(i));
    report.batches = used.len();
    let used: Vec<(BatchId, i32, i64)> =
        used.into_iter().map(|(i, b)| (b.id.clone(), totals[&i].0, totals[&i].1)).collect();
    let unused: Vec<BatchId> = unused.into_iter().map(|(_, b)| b.id.clone()).collect();
    store
        .write(move |c| {
            diesel::delete(settlement_batches::table.filter(settlement_batches::id.eq_any(&unused))).execute(c)?;
            for (id, count, total) in used {
                diesel::update(settlement_batches::table.find(&id))
                    .set((
                        settlement_batches::item_count.eq(count),
                        settlement_batches::total.eq(total),
                        settlement_batches::accepted_total.eq(total),
                    ))
                    .execute(c)?;
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    if let AnyConnection::Postgresql(_) = &mut *store.connection()? {
        // Fresh statistics, so the planner uses the indexes on the new rows at once.
        store.write(|c| diesel::sql_query("ANALYZE").execute(c).map_err(StoreError::from)).await?;
    }
    report.orders = options.orders;
    let mut states: Vec<(String, usize)> = states.into_iter().map(|(s, n)| (s.to_owned(), n)).collect();
    states.sort_by_key(|s| std::cmp::Reverse(s.1));
    report.states = states;
    Ok(report)
}

/// Inserts `rows`: many per statement on PostgreSQL; one by one on SQLite, whose multi-row
/// insert diesel cannot use for rows with `None` fields (it would open a transaction of its own
/// inside the writer's). Prepared statements are cached, so that is still fast.
macro_rules! insert_all {
    ($c:expr, $table:expr, $rows:expr) => {
        match $c {
            AnyConnection::Sqlite(s) => {
                for row in $rows {
                    diesel::insert_into($table).values(row).execute(s)?;
                }
            }
            AnyConnection::Postgresql(p) => {
                diesel::insert_into($table).values($rows).execute(p)?;
            }
        }
    };
}
use insert_all;

const CURRENCIES: [&str; 3] = ["RUB", "USD", "EUR"];
const FIRST: [&str; 16] = [
    "Ivan", "Maria", "Alexei", "Olga", "Dmitry", "Anna", "Sergei", "Elena", "John", "Emma", "Pavel", "Natalia",
    "Mikhail", "Sophie", "Andrei", "Irina",
];
const LAST: [&str; 16] = [
    "Petrov",
    "Ivanova",
    "Smirnov",
    "Kuznetsova",
    "Popov",
    "Volkova",
    "Sokolov",
    "Lebedeva",
    "Smith",
    "Brown",
    "Novikov",
    "Morozova",
    "Fedorov",
    "Miller",
    "Orlov",
    "Pavlova",
];
const CITIES: [(&str, &str); 6] = [
    ("RU", "Moscow"),
    ("RU", "Saint Petersburg"),
    ("RU", "Kazan"),
    ("BY", "Minsk"),
    ("DE", "Berlin"),
    ("US", "Boston"),
];
/// Card masks (the BIN; each order draws its own last four) with their brand.
const CARDS: [(&str, &str); 6] = [
    ("411111******1111", "VISA"),
    ("427600******3456", "VISA"),
    ("555555******4444", "MasterCard"),
    ("510510******5100", "MasterCard"),
    ("220220******1234", "MIR"),
    ("378282*****0005", "AMEX"),
];
const DECLINES: [&str; 5] =
    [codes::DECLINED, codes::INSUFFICIENT_FUNDS, codes::WRONG_CARD_DATA, codes::FRAUD_SUSPECTED, "AS105"];

#[derive(Default)]
struct Rows {
    orders: Vec<NewOrder>,
    operations: Vec<NewOperation>,
    transactions: Vec<NewTransaction>,
}

/// What a seeded order went through.
#[derive(Clone, Copy)]
enum Story {
    OneStage,
    Confirmed,
    Delayed,
    Declined,
    Timeout,
    InProcess,
    Reversed,
    Refunded,
    PartlyRefunded,
}

impl Story {
    fn pick(rng: &mut StdRng) -> Story {
        match rng.random_range(0..100) {
            0..45 => Story::OneStage,
            45..57 => Story::Confirmed,
            57..62 => Story::Delayed,
            62..76 => Story::Declined,
            76..86 => Story::Timeout,
            86..89 => Story::InProcess,
            89..93 => Story::Reversed,
            93..96 => Story::Refunded,
            _ => Story::PartlyRefunded,
        }
    }
}

impl Rows {
    /// Builds one order and its history; returns its state and the settlement batch (index
    /// into `batches`) and amount it adds to, if any.
    fn order(
        &mut self,
        rng: &mut StdRng,
        shops: &[Merchant],
        run: u64,
        i: u64,
        now: PrimitiveDateTime,
        batches: &[SettlementBatch],
    ) -> (OrderState, Option<(usize, i64)>) {
        let story = Story::pick(rng);
        // Unpaid invoices belong to the invoicing shop when there is one; the rest spread evenly.
        let merchant = match story {
            Story::InProcess => shops.iter().max_by_key(|m| m.payment_timeout_secs).unwrap(),
            _ => &shops[rng.random_range(0..shops.len())],
        };
        let delay = match story {
            Story::Confirmed | Story::Delayed | Story::Reversed => true,
            Story::OneStage | Story::Refunded | Story::PartlyRefunded => false,
            _ => rng.random_bool(0.3),
        };
        // Open orders are younger than their deadlines; the rest spread over the last 90 days.
        let age = match story {
            Story::InProcess => Duration::seconds(rng.random_range(0..merchant.payment_timeout_secs * 9 / 10)),
            Story::Delayed => Duration::seconds(rng.random_range(60..3 * 24 * 3600)),
            _ => Duration::seconds(rng.random_range(60..DAYS * 24 * 3600)),
        };
        let created = now - age;
        let currency = CURRENCIES[match rng.random_range(0..10) {
            0..7 => 0,
            7..9 => 1,
            _ => 2,
        }];
        // Log-uniform amounts: 1.00–100,000.00 RUB, 1.00–2,000.00 USD/EUR.
        let top = if currency == "RUB" { 5.0 } else { 3.3 };
        let amount = (10f64.powf(rng.random_range(2.0..2.0 + top)) as i64).max(100);
        let (first, last) = (FIRST[rng.random_range(0..FIRST.len())], LAST[rng.random_range(0..LAST.len())]);
        let (country, city) = CITIES[rng.random_range(0..CITIES.len())];
        let (bin_mask, brand) = CARDS[rng.random_range(
            0..if matches!(story, Story::OneStage | Story::Declined) {
                CARDS.len()
            } else {
                CARDS.len() - 1 // Amex cancels wait for settlement; keep the seeded ones simple.
            },
        )];
        // Cards differ in their last four digits, as a shop's customers' do.
        let last4 = format!("{:04}", rng.random_range(0..10_000));
        let mask = format!("{}{last4}", &bin_mask[..bin_mask.len() - 4]);
        let id = OrderId::new();
        let billnumber = billnumber(run, i);
        let mut order = NewOrder {
            id: id.clone(),
            merchant_id: merchant.id.clone(),
            order_number: format!("S{run:07}-{i:07}"),
            billnumber,
            state: OrderState::InProcess.as_str().into(),
            original_amount: amount,
            original_currency: currency.into(),
            amount,
            currency: currency.into(),
            rate: "1".into(),
            delay,
            test_mode: true,
            comment: rng.random_bool(0.2).then(|| format!("Order {} from the web shop", i % 100_000)),
            language: if country == "RU" || country == "BY" { "RU" } else { "EN" }.into(),
            lastname: Some(last.into()),
            firstname: Some(first.into()),
            middlename: None,
            email: Some(format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i % 997)),
            phone: rng
                .random_bool(0.5)
                .then(|| format!("+7 9{:02} {:03}-{:02}-{:02}", i % 100, i % 1000, i % 97, i % 89)),
            address: None,
            country: Some(country.into()),
            city: Some(city.into()),
            zip: None,
            client_ip: Some(format!("10.{}.{}.{}", i % 256, (i / 256) % 256, 1 + i % 250)),
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
            expires_at: created + Duration::seconds(merchant.payment_timeout_secs),
            confirm_deadline: None,
            paid_at: None,
            created_at: created,
            updated_at: created,
        };
        let mut batch = None;
        match story {
            Story::InProcess => {}
            Story::Timeout => order.state = OrderState::Timeout.as_str().into(),
            Story::Declined => {
                let code = DECLINES[rng.random_range(0..DECLINES.len())];
                let paid = created + Duration::seconds(rng.random_range(20..300));
                let op =
                    self.operation(&order, 1, OperationKind::Payment, OperationState::Declined, amount, paid, code);
                self.operations.last_mut().unwrap().card_mask = Some(mask.clone());
                self.operations.last_mut().unwrap().card_brand = Some(brand.into());
                order.card_last4 = Some(last4.clone());
                let mut auth =
                    txn(&order, &op, TransactionKind::Authorization, TransactionState::Declined, amount, paid);
                auth.response_code = Some(code.into());
                self.transactions.push(auth);
                order.state = OrderState::Declined.as_str().into();
                order.next_seq = 2;
                order.updated_at = paid;
            }
            _ => {
                let paid = created + Duration::seconds(rng.random_range(20..300));
                let op = self.operation(
                    &order,
                    1,
                    OperationKind::Payment,
                    OperationState::Success,
                    amount,
                    paid,
                    codes::SUCCESS,
                );
                let last = self.operations.last_mut().unwrap();
                last.card_mask = Some(mask.clone());
                last.card_brand = Some(brand.into());
                last.cardholder = Some(format!("{} {}", first.to_uppercase(), last_upper(&order)));
                last.card_expiry = Some(format!("{:02}/{:02}", 1 + i % 12, 27 + i % 4));
                last.approval_code = Some(format!("{:06}", rng.random_range(0..1_000_000)));
                let mut auth =
                    txn(&order, &op, TransactionKind::Authorization, TransactionState::Approved, amount, paid);
                auth.response_code = Some(codes::SUCCESS.into());
                auth.processor_ref = Some(format!("SIM-{}", &db::new_id()[..13]));
                let auth_id = auth.id.clone();
                self.transactions.push(auth);
                order.card_brand = Some(brand.into());
                order.card_last4 = Some(last4.clone());
                order.paid_at = Some(paid);
                order.authorized = amount;
                order.next_seq = 2;
                order.updated_at = paid;
                if delay {
                    order.confirm_deadline = Some(paid + Duration::seconds(merchant.confirm_window_secs));
                }
                // Captured money: one-stage at payment, two-stage at confirmation.
                let mut capture = |rows: &mut Rows, order: &mut NewOrder, op: &OperationId, at: PrimitiveDateTime| {
                    let mut f = txn(order, op, TransactionKind::Financial, TransactionState::New, amount, at);
                    f.parent_id = Some(auth_id.clone());
                    order.confirmed = amount;
                    // Settled at the next day's cut-off unless that is still to come.
                    let day = (now - at).whole_days();
                    if day >= 1 {
                        let index = batches
                            .iter()
                            .position(|b| b.currency == order.currency && (now - b.created_at).whole_days() == day - 1)
                            .expect("a batch for every day");
                        f.state = TransactionState::Settled.as_str().into();
                        f.batch_id = Some(batches[index].id.clone());
                        f.updated_at = batches[index].acknowledged_at.unwrap();
                        order.settled = amount;
                        batch = Some((index, amount));
                    }
                    rows.transactions.push(f);
                };
                match story {
                    Story::Delayed => order.state = OrderState::Delayed.as_str().into(),
                    Story::Confirmed => {
                        let at = paid + Duration::minutes(rng.random_range(5..2 * 24 * 60));
                        let at = if at > now { paid } else { at };
                        let confirm = self.operation(
                            &order,
                            2,
                            OperationKind::Confirmation,
                            OperationState::Success,
                            amount,
                            at,
                            codes::SUCCESS,
                        );
                        capture(self, &mut order, &confirm, at);
                        order.state = OrderState::Approved.as_str().into();
                        order.next_seq = 3;
                        order.updated_at = at;
                    }
                    Story::Reversed => {
                        let at = paid + Duration::minutes(rng.random_range(1..60));
                        let cancel = self.operation(
                            &order,
                            2,
                            OperationKind::Cancel,
                            OperationState::Success,
                            amount,
                            at,
                            codes::SUCCESS,
                        );
                        self.operations.last_mut().unwrap().cancel_reason = Some(2);
                        let mut r =
                            txn(&order, &cancel, TransactionKind::Reversal, TransactionState::Approved, amount, at);
                        r.parent_id = Some(auth_id.clone());
                        r.response_code = Some(codes::SUCCESS.into());
                        self.transactions.push(r);
                        order.released = amount;
                        order.state = OrderState::Canceled.as_str().into();
                        order.next_seq = 3;
                        order.updated_at = at;
                    }
                    Story::OneStage => {
                        capture(self, &mut order, &op, paid);
                        order.state = OrderState::Approved.as_str().into();
                    }
                    Story::Refunded | Story::PartlyRefunded => {
                        capture(self, &mut order, &op, paid);
                        if order.settled == amount && amount > 100 {
                            let part = if matches!(story, Story::Refunded) { amount } else { amount / 2 };
                            let at = paid + Duration::days(1) + Duration::hours(2);
                            let cancel = self.operation(
                                &order,
                                2,
                                OperationKind::Cancel,
                                OperationState::Success,
                                part,
                                at,
                                codes::SUCCESS,
                            );
                            self.operations.last_mut().unwrap().cancel_reason = Some(1);
                            let mut r =
                                txn(&order, &cancel, TransactionKind::Refund, TransactionState::Approved, part, at);
                            r.parent_id = Some(auth_id.clone());
                            r.response_code = Some(codes::SUCCESS.into());
                            self.transactions.push(r);
                            order.refunded = part;
                            order.state =
                                if part == amount { OrderState::Canceled } else { OrderState::PartialCanceled }
                                    .as_str()
                                    .into();
                            order.next_seq = 3;
                            order.updated_at = at;
                        } else {
                            order.state = OrderState::Approved.as_str().into();
                        }
                    }
                    Story::Declined | Story::Timeout | Story::InProcess => unreachable!(),
                }
            }
        }
        let state = order.state.parse().unwrap_or(OrderState::InProcess);
        self.orders.push(order);
        (state, batch)
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &mut self,
        order: &NewOrder,
        seq: i32,
        kind: OperationKind,
        state: OperationState,
        amount: i64,
        at: PrimitiveDateTime,
        code: &str,
    ) -> OperationId {
        let id = OperationId::new();
        self.operations.push(NewOperation {
            id: id.clone(),
            order_id: order.id.clone(),
            seq,
            kind: kind.as_str().into(),
            state: state.as_str().into(),
            amount,
            currency: order.currency.clone(),
            response_code: Some(code.into()),
            message: Some(codes::message(code).into()),
            approval_code: None,
            card_mask: None,
            card_brand: order.card_brand.clone(),
            cardholder: None,
            card_expiry: None,
            client_ip: order.client_ip.clone(),
            cancel_reason: None,
            external_refund_id: None,
            created_at: at,
            updated_at: at,
            actor: Some(if kind == OperationKind::Payment { "customer" } else { "seed" }.into()),
        });
        id
    }

    /// Writes the rows, parents first, many per statement.
    fn insert(self, c: &mut AnyConnection) -> Result<(), StoreError> {
        for chunk in self.orders.chunks(400) {
            insert_all!(c, orders::table, chunk);
        }
        for chunk in self.operations.chunks(1_000) {
            insert_all!(c, operations::table, chunk);
        }
        for chunk in self.transactions.chunks(1_500) {
            insert_all!(c, transactions::table, chunk);
        }
        // The day's turnover the payments would have reserved (`kassa check` compares them).
        let merchant_of: HashMap<&OrderId, &MerchantId> = self.orders.iter().map(|o| (&o.id, &o.merchant_id)).collect();
        let mut days: std::collections::BTreeMap<(&MerchantId, time::Date), i64> = Default::default();
        for op in self.operations.iter().filter(|op| {
            op.kind() == OperationKind::Payment
                && matches!(op.state(), OperationState::Success | OperationState::InProcess)
        }) {
            *days.entry((merchant_of[&op.order_id], op.created_at.date())).or_default() += op.amount;
        }
        for ((merchant, day), amount) in days {
            crate::db::models::turnover::reserve(c, merchant, day, amount, None)?;
        }
        Ok(())
    }
}

fn last_upper(order: &NewOrder) -> String {
    order.lastname.as_deref().unwrap_or_default().to_uppercase()
}

fn txn(
    order: &NewOrder,
    operation: &OperationId,
    kind: TransactionKind,
    state: TransactionState,
    amount: i64,
    at: PrimitiveDateTime,
) -> NewTransaction {
    NewTransaction {
        id: TransactionId::new(),
        order_id: order.id.clone(),
        operation_id: operation.clone(),
        kind: kind.as_str().into(),
        state: state.as_str().into(),
        amount,
        currency: order.currency.clone(),
        parent_id: None,
        processor_ref: None,
        response_code: None,
        batch_id: None,
        created_at: at,
        updated_at: at,
    }
}

/// A 16-digit billnumber: `9`, seven digits of the run, seven of the order, and a check digit
/// that fails Luhn like every billnumber Kassa makes, so it is never mistaken for a card number.
fn billnumber(run: u64, i: u64) -> String {
    let body = format!("9{run:07}{i:07}");
    (0..10u8)
        .map(|d| format!("{body}{d}"))
        .find(|candidate| !crate::card::luhn(candidate))
        .expect("only one of ten check digits passes Luhn")
}
