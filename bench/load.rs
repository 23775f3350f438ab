//! The load generator of `bench/run`: one scenario, closed or open loop, one result line.
//!
//! ```text
//! bench_load <scenario> <base-url> closed <connections> <seconds> [arg]
//! bench_load <scenario> <base-url> open <requests-per-second> <seconds> [arg]
//! ```
//!
//! Scenarios (the demo merchant 679471 and its web-services user `demo_manager`):
//! - `get <path>`: one GET (with `BENCH_COOKIE` as the Cookie header when set);
//! - `orderstate <billnumber>`: `POST /orderstate/orderstate.cfm` (XML) for one billnumber;
//! - `pay`: `payrequest` creates the order, the customer opens the payment page and pays with
//!   the approved test card («Charge»): three requests, one payment;
//! - `twostage`: the same with `Delay=1`, then `charge.cfm` confirms it: four requests.
//!
//! Closed loop: `connections` workers, each sends its next request when the last one answered
//! (like wrk). Open loop: requests (or whole payments) start at a fixed rate whatever the server
//! does, and each latency is measured from the moment its request was *due*, not from when it
//! was sent, so a stalled server shows up in the percentiles instead of hiding (no coordinated
//! omission). Prints:
//!
//! `RESULT <scenario> <closed|open> <ok>/s p50_ms p99_ms errors=<n> sent=<n> last_error=<…>`

use std::sync::Arc;
use std::time::{Duration, Instant};

use kassa::gateway::setup::{DEMO_MANAGER, DEMO_MERCHANT_NUMBER};
use tokio::sync::Mutex;

#[derive(Clone)]
struct Target {
    client: reqwest::Client,
    base: String,
    scenario: String,
    arg: String,
    cookie: Option<String>,
    run: String,
}

fn nonce(body: &str) -> Option<String> {
    let marker = "name=\"nonce\" value=\"";
    let at = body.find(marker)? + marker.len();
    Some(body[at..].split('"').next()?.to_owned())
}

fn json_field(body: &str, name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v[name].as_str().map(str::to_owned)
}

impl Target {
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<reqwest::Response, String> {
        self.client.post(format!("{}{path}", self.base)).form(form).send().await.map_err(|e| e.to_string())
    }

    /// One unit of work: a request, or a whole payment.
    async fn once(&self, i: u64) -> Result<(), String> {
        match self.scenario.as_str() {
            "get" => {
                let mut r = self.client.get(format!("{}{}", self.base, self.arg));
                if let Some(c) = &self.cookie {
                    r = r.header("Cookie", c);
                }
                let r = r.send().await.map_err(|e| e.to_string())?;
                let status = r.status();
                r.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!("status {status}"));
                }
                Ok(())
            }
            "orderstate" => {
                let merchant = DEMO_MERCHANT_NUMBER.to_string();
                let form = [
                    ("Billnumber", self.arg.as_str()),
                    ("Merchant_ID", merchant.as_str()),
                    ("Login", DEMO_MANAGER.0),
                    ("Password", DEMO_MANAGER.1),
                    ("Format", "3"),
                ];
                let r = self.post("/orderstate/orderstate.cfm", &form).await?;
                let status = r.status();
                let body = r.text().await.map_err(|e| e.to_string())?;
                if !status.is_success() || !body.contains("firstcode=\"0\"") {
                    return Err(format!("orderstate: status {status}"));
                }
                Ok(())
            }
            "pay" => self.payment(i, false).await,
            "twostage" => self.payment(i, true).await,
            other => Err(format!("unknown scenario {other}")),
        }
    }

    async fn payment(&self, i: u64, two_stage: bool) -> Result<(), String> {
        let merchant = DEMO_MERCHANT_NUMBER.to_string();
        let number = format!("load-{}-{i}", self.run);
        let mut form = vec![
            ("Merchant_ID", merchant.as_str()),
            ("Login", DEMO_MANAGER.0),
            ("Password", DEMO_MANAGER.1),
            ("OrderNumber", number.as_str()),
            ("OrderAmount", "10.00"),
            ("OrderCurrency", "RUB"),
            ("CardPayment", "1"),
            ("Lastname", "Petrov"),
            ("Firstname", "Ivan"),
            ("Email", "bench@example.com"),
            ("Format", "5"),
        ];
        if two_stage {
            form.push(("Delay", "1"));
        }
        let r = self.post("/pay/payrequest.cfm", &form).await?;
        let body = r.text().await.map_err(|e| e.to_string())?;
        let url = json_field(&body, "URL").filter(|u| !u.is_empty()).ok_or_else(|| format!("payrequest: {body}"))?;
        let billnumber = json_field(&body, "billnumber").unwrap_or_default();
        // The link enters the checkout and redirects to the payment page.
        let mut next = url;
        let mut page = String::new();
        let mut html = String::new();
        for _ in 0..4 {
            let r = self.client.get(&next).send().await.map_err(|e| e.to_string())?;
            if r.status().is_redirection() {
                let location = r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                next = if location.starts_with('/') { format!("{}{location}", self.base) } else { location };
                page = next.clone();
                continue;
            }
            html = r.text().await.map_err(|e| e.to_string())?;
            break;
        }
        let nonce = nonce(&html).ok_or("page: no card form")?;
        let card = [
            ("nonce", nonce.as_str()),
            ("number", "4111111111111111"),
            ("holder", "IVAN PETROV"),
            ("month", "12"),
            ("year", "30"),
            ("cvc", "123"),
        ];
        let r = self.client.post(format!("{page}/card")).form(&card).send().await.map_err(|e| e.to_string())?;
        if r.status().as_u16() != 303 {
            return Err(format!("charge: status {}", r.status()));
        }
        if two_stage {
            let form = [
                ("Billnumber", billnumber.as_str()),
                ("Merchant_ID", merchant.as_str()),
                ("Login", DEMO_MANAGER.0),
                ("Password", DEMO_MANAGER.1),
                ("Format", "3"),
            ];
            let r = self.post("/charge/charge.cfm", &form).await?;
            let status = r.status();
            let body = r.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() || !body.contains("firstcode=\"0\"") {
                return Err(format!("confirm: status {status} {}", body.chars().take(200).collect::<String>()));
            }
        }
        Ok(())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

#[derive(Default)]
struct Tally {
    times: Vec<Duration>,
    errors: u64,
    last_error: Option<String>,
}

impl Tally {
    fn record(&mut self, result: Result<(), String>, latency: Duration) {
        match result {
            Ok(()) => self.times.push(latency),
            Err(e) => {
                self.errors += 1;
                self.last_error = Some(e);
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!(
            "usage: bench_load <get|orderstate|pay|twostage> <base> <closed|open> <connections|rate> <seconds> [arg]"
        );
        std::process::exit(2);
    }
    let (scenario, base, mode) = (args[1].clone(), args[2].clone(), args[3].clone());
    let level: f64 = args[4].parse().expect("connections or rate");
    let seconds: f64 = args[5].parse().expect("seconds");
    let arg = args.get(6).cloned().unwrap_or_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4096)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis());
    let target =
        Target { client, base, scenario: scenario.clone(), arg, cookie: std::env::var("BENCH_COOKIE").ok(), run };
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let length = Duration::from_secs_f64(seconds);
    let mut sent = 0u64;
    match mode.as_str() {
        "closed" => {
            let workers: Vec<_> = (0..level as u64)
                .map(|w| {
                    let (target, tally) = (target.clone(), tally.clone());
                    tokio::spawn(async move {
                        let mut local = Tally::default();
                        let mut i = 0u64;
                        while start.elapsed() < length {
                            let t = Instant::now();
                            let r = target.once((w << 32) | i).await;
                            local.record(r, t.elapsed());
                            i += 1;
                        }
                        let mut all = tally.lock().await;
                        all.times.extend(local.times);
                        all.errors += local.errors;
                        all.last_error = local.last_error.or(all.last_error.take());
                        i
                    })
                })
                .collect();
            for w in workers {
                sent += w.await.unwrap();
            }
        }
        "open" => {
            let interval = Duration::from_secs_f64(1.0 / level);
            let mut tasks = Vec::new();
            loop {
                let due = start + interval.mul_f64(sent as f64);
                if due >= start + length {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let (target, tally, i) = (target.clone(), tally.clone(), sent);
                tasks.push(tokio::spawn(async move {
                    let r = target.once(i).await;
                    // From when it was due: a late start counts against the server.
                    let latency = due.elapsed();
                    tally.lock().await.record(r, latency);
                }));
                sent += 1;
            }
            for t in tasks {
                let _ = t.await;
            }
        }
        _ => panic!("mode is closed or open"),
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut tally = tally.lock().await;
    tally.times.sort();
    println!(
        "RESULT {scenario} {mode} {:.0} {:.2} {:.2} errors={} sent={sent} last_error={}",
        tally.times.len() as f64 / elapsed,
        percentile(&tally.times, 0.50),
        percentile(&tally.times, 0.99),
        tally.errors,
        tally.last_error.clone().unwrap_or_else(|| "-".into()).replace(char::is_whitespace, "_"),
    );
}
