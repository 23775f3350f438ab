//! Use-case throughput: create order + pay with an approved card, through `Gateway` (no HTTP),
//! with `concurrency` tasks until `orders` payments are done.
//!
//! cargo run --release --example usecases -- <database-url> <orders> <concurrency> [naive]
//!
//! `naive` turns the SQLite group commit off (one BEGIN IMMEDIATE transaction per write).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use kassa::card::{Card, CardNumber, Cvc, Expiry};
use kassa::db::models::{Enterprise, EnterpriseId};
use kassa::db::schema::{enterprises, merchants};
use kassa::db::{Store, StoreOptions};
use kassa::gateway::{Gateway, OrderRequest, PayRequest, setup};
use kassa::processing::{Simulator, SimulatorOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).cloned().unwrap_or_else(|| "/tmp/kassa-bench.db".into());
    let orders: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let concurrency: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(64);
    let naive = args.get(4).is_some_and(|a| a == "naive");
    let options = StoreOptions { pool_size: 16, sqlite_group_commit: !naive, ..StoreOptions::default() };
    let store = Store::open(&url, options)?;
    let simulator = Simulator::new(SimulatorOptions::default())?;
    let gateway = Gateway::new(store.clone(), Arc::new(simulator), Duration::from_secs(30));

    let number = 100_000 + i64::from(rand::random::<u16>());
    let enterprise =
        Enterprise { id: EnterpriseId::new(), name: format!("bench {number}"), created_at: kassa::db::now() };
    let merchant = setup::new_merchant(&enterprise.id, number, "bench", "bench-secret");
    store
        .write(move |c| {
            diesel::insert_into(enterprises::table).values(&enterprise).execute(c)?;
            diesel::insert_into(merchants::table).values(&merchant).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await?;

    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (gateway, next, errors) = (gateway.clone(), next.clone(), errors.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < orders {
                    let t0 = Instant::now();
                    let request = OrderRequest {
                        merchant_id: number.to_string(),
                        order_number: uuid::Uuid::new_v4().to_string(),
                        order_amount: "100.00".into(),
                        ..OrderRequest::default()
                    };
                    let ok = match gateway.create_order(request).await {
                        Ok(order) => gateway.pay(&order.id, PayRequest { card: card(), client_ip: None }).await.is_ok(),
                        Err(_) => false,
                    };
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "| {} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {} |",
        format!("{:?}", store.backend()).to_lowercase(),
        if naive { "naive (tx per write)" } else { "Store::write" },
        orders,
        concurrency,
        orders as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        errors.load(Ordering::Relaxed),
    );
    Ok(())
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
