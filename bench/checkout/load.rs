//! Complete payments over HTTP, as browsers make them: the shop's signed POST to
//! `/pay/order.cfm`, the payment page (card form and its nonce), «Charge» with an approved card.
//! Prints payments per second and the p50/p99 of a whole payment.
//!
//! `cargo run --release --example checkout_load -- http://127.0.0.1:18080 [concurrency] [seconds]`
//! against a `kassa demo` server (the demo merchant 679471).

use std::time::{Duration, Instant};

use kassa::assist::checkvalue::{RequestMode, Variant, compute, md5_hex, request_string};
use kassa::gateway::setup::{DEMO_MERCHANT_NUMBER, DEMO_SECRET};

fn nonce(body: &str) -> Option<String> {
    let at = body.find("name=\"nonce\" value=\"")? + "name=\"nonce\" value=\"".len();
    Some(body[at..].split('"').next()?.to_owned())
}

async fn one_payment(client: &reqwest::Client, base: &str, number: &str) -> Result<(), String> {
    let merchant = DEMO_MERCHANT_NUMBER.to_string();
    let x = request_string(RequestMode::Delimited, [&merchant, number, "10.00", "RUB"], &[]);
    let checkvalue = compute(&md5_hex(DEMO_SECRET), &x, Variant::B);
    let form = [
        ("Merchant_ID", merchant.as_str()),
        ("OrderNumber", number),
        ("OrderAmount", "10.00"),
        ("OrderCurrency", "RUB"),
        ("CardPayment", "1"),
        ("Lastname", "Petrov"),
        ("Firstname", "Ivan"),
        ("Email", "bench@example.com"),
        ("Checkvalue", checkvalue.as_str()),
    ];
    let r = client.post(format!("{base}/pay/order.cfm")).form(&form).send().await.map_err(|e| e.to_string())?;
    let page = r.headers().get("location").and_then(|v| v.to_str().ok()).ok_or("entry: no redirect")?.to_owned();
    let body =
        client.get(format!("{base}{page}")).send().await.map_err(|e| e.to_string())?.text().await.unwrap_or_default();
    let nonce = nonce(&body).ok_or("page: no card form")?;
    let card = [
        ("nonce", nonce.as_str()),
        ("number", "4111111111111111"),
        ("holder", "IVAN PETROV"),
        ("month", "12"),
        ("year", "30"),
        ("cvc", "123"),
    ];
    let r = client.post(format!("{base}{page}/card")).form(&card).send().await.map_err(|e| e.to_string())?;
    if r.status().as_u16() != 303 {
        return Err(format!("charge: status {}", r.status()));
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().unwrap_or_else(|| "http://127.0.0.1:18080".into());
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (client, base, run) = (client.clone(), base.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            let (mut times, mut errors, mut last_error) = (Vec::new(), 0u64, None);
            let mut i = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match one_payment(&client, &base, &format!("bench-{run}-{w}-{i}")).await {
                    Ok(()) => times.push(t.elapsed()),
                    Err(e) => {
                        errors += 1;
                        last_error = Some(e);
                    }
                }
                i += 1;
            }
            (times, errors, last_error)
        }));
    }
    let (mut all, mut errors, mut last_error) = (Vec::new(), 0, None);
    for w in workers {
        let (t, e, l) = w.await.unwrap();
        all.extend(t);
        errors += e;
        last_error = last_error.or(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    println!(
        "payments: {} in {elapsed:.1} s = {:.0}/s (concurrency {concurrency}); p50 {:.1} ms, p99 {:.1} ms; errors {errors}{}",
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        last_error.map(|e| format!(" (last: {e})")).unwrap_or_default(),
    );
}
