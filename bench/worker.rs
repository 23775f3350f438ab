//! Worker benchmarks.
//!
//! cargo run --release --example worker -- settle <database-url> <transactions>
//! cargo run --release --example worker -- notify <database-url> <notifications>
//!
//! `settle` bulk-loads approved one-stage payments (their authorizations known to the
//! simulator), then times `Gateway::settle` until nothing is left, and prints the peak memory.
//! `notify` makes paid orders whose Assist notifications go to a local receiver in this
//! process, then times the worker delivering them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use kassa::card::{Card, CardNumber, Cvc, Expiry};
use kassa::db::models::*;
use kassa::db::schema::{enterprises, merchants, operations, orders};
use kassa::db::{Store, StoreError, StoreOptions};
use kassa::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use kassa::gateway::{Gateway, OrderRequest, PayRequest, setup};
use kassa::processing::{AuthRequest, Processor, Simulator, SimulatorOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_default();
    let url = args.get(2).cloned().unwrap_or_else(|| "/tmp/kassa-worker-bench.db".into());
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let store = Store::open(&url, StoreOptions::default())?;
    let simulator = Arc::new(Simulator::new(SimulatorOptions::default())?);
    let gateway = Gateway::new(store.clone(), simulator.clone(), Duration::from_secs(30));
    let merchant = merchant(&store).await?;
    match mode.as_str() {
        "settle" => settle(&gateway, &simulator, &merchant, n).await,
        "notify" => notify(&gateway, merchant, n, &url).await,
        _ => anyhow::bail!("usage: worker settle|notify <database-url> <count>"),
    }
}

async fn merchant(store: &Store) -> anyhow::Result<Merchant> {
    let number = 200_000 + i64::from(rand::random::<u16>());
    let enterprise =
        Enterprise { id: EnterpriseId::new(), name: format!("bench {number}"), created_at: kassa::db::now() };
    let merchant = setup::new_merchant(&enterprise.id, number, "bench", "bench-secret");
    let m = merchant.clone();
    store
        .write(move |c| {
            diesel::insert_into(enterprises::table).values(&enterprise).execute(c)?;
            diesel::insert_into(merchants::table).values(&m).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(merchant)
}

fn card() -> Card {
    let number = CardNumber::parse("4111111111111111").unwrap();
    let brand = number.brand();
    Card {
        number,
        expiry: Expiry::parse("12", "2030").unwrap(),
        cvc: Cvc::parse("123", brand).unwrap(),
        holder: String::new(),
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

async fn settle(gateway: &Gateway, simulator: &Simulator, merchant: &Merchant, n: usize) -> anyhow::Result<()> {
    let load = Instant::now();
    let mut auth_ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let (m, chunk) = (merchant.clone(), chunk.to_vec());
        let ids = gateway
            .store
            .write(move |c| {
                let now = kassa::db::now();
                let mut ids = Vec::new();
                for i in chunk {
                    let order = OrderId::new();
                    let op = OperationId::new();
                    diesel::insert_into(orders::table)
                        .values((
                            orders::id.eq(&order),
                            orders::merchant_id.eq(&m.id),
                            orders::order_number.eq(format!("bulk-{i}")),
                            orders::billnumber.eq(format!("{:016}", 1_000_000_000_000_000u64 + i as u64)),
                            orders::state.eq(OrderState::Approved.as_str()),
                            orders::original_amount.eq(1_000),
                            orders::original_currency.eq("RUB"),
                            orders::amount.eq(1_000),
                            orders::currency.eq("RUB"),
                            orders::rate.eq("1"),
                            orders::delay.eq(false),
                            orders::test_mode.eq(true),
                            orders::language.eq("RU"),
                            orders::payment_means.eq("card"),
                            orders::authorized.eq(1_000),
                            orders::confirmed.eq(1_000),
                            orders::next_seq.eq(2),
                            orders::expires_at.eq(now),
                            orders::created_at.eq(now),
                            orders::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    diesel::insert_into(operations::table)
                        .values((
                            operations::id.eq(&op),
                            operations::order_id.eq(&order),
                            operations::seq.eq(1),
                            operations::kind.eq(OperationKind::Payment.as_str()),
                            operations::state.eq(OperationState::Success.as_str()),
                            operations::amount.eq(1_000),
                            operations::currency.eq("RUB"),
                            operations::created_at.eq(now),
                            operations::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    let auth = Transaction::new(
                        &order,
                        &op,
                        TransactionKind::Authorization,
                        TransactionState::Approved,
                        1_000,
                        "RUB",
                        now,
                    );
                    auth.insert(c)?;
                    Transaction::new(&order, &op, TransactionKind::Financial, TransactionState::New, 1_000, "RUB", now)
                        .acting_on(&auth.id)
                        .insert(c)?;
                    ids.push(auth.id);
                }
                Ok::<_, StoreError>(ids)
            })
            .await?;
        auth_ids.extend(ids);
    }
    let card = card();
    for id in &auth_ids {
        simulator.authorize(AuthRequest { transaction_id: &id.0, card: &card, amount: 1_000, currency: "RUB" }).await?;
    }
    let loaded = load.elapsed();
    let rss_before = peak_rss_mib();
    let started = Instant::now();
    let (mut batches, mut accepted) = (0, 0);
    loop {
        let r = gateway.settle().await?;
        if r.batches == 0 {
            break;
        }
        batches += r.batches;
        accepted += r.accepted;
    }
    let took = started.elapsed();
    println!(
        "| settle | {:?} | {n} | {batches} | {accepted} | {:.1} s | {:.0}/s | {:.0} MiB (after loading: {:.0} MiB) | load {:.1} s |",
        gateway.store.backend(),
        took.as_secs_f64(),
        accepted as f64 / took.as_secs_f64(),
        peak_rss_mib(),
        rss_before,
        loaded.as_secs_f64()
    );
    Ok(())
}

async fn notify(gateway: &Gateway, merchant: Merchant, n: usize, url: &str) -> anyhow::Result<()> {
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().default_service(web::to(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { HttpResponse::Ok().body(r#"<pushpaymentresult firstcode="0" secondcode="0"></pushpaymentresult>"#) }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")?;
    let address = format!("http://{}/notify", server.addrs()[0]);
    tokio::spawn(server.run());
    let id = merchant.id.clone();
    gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&id)).set(merchants::notification_url.eq(address)).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await?;
    for i in 0..n {
        let request = OrderRequest {
            merchant_id: merchant.merchant_number.to_string(),
            order_number: format!("notify-{i}"),
            order_amount: "10.00".into(),
            ..OrderRequest::default()
        };
        let order = gateway.create_order(request).await?;
        gateway.pay(&order.id, PayRequest { card: card(), client_ip: None }).await?;
    }
    let mut config = kassa::config::Config::load(None, Vec::new())?;
    config.outbound_allow_internal = true;
    config.data_dir = std::env::temp_dir();
    let worker = kassa::worker::Worker::new(gateway.clone(), config)?;
    let started = Instant::now();
    let mut delivered = 0;
    while delivered < n {
        delivered += worker.deliver_due().await?;
    }
    let took = started.elapsed();
    println!(
        "| notify | {} | {n} | {:.1} s | {:.0}/s | received {} |",
        if url.starts_with("postgres") { "Postgres" } else { "Sqlite" },
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        received.load(Ordering::Relaxed)
    );
    Ok(())
}
