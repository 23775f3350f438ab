//! The driver of `bench/crash-loop`: payments under load, Kassa killed with SIGKILL, restarted,
//! checked; again and again.
//!
//! ```text
//! bench_crash <kassa binary> <database-url> <data dir> <cycles> [port]
//! ```
//!
//! Each cycle starts `kassa demo` (the demo merchant's Assist notifications go to a slow
//! receiver in this process, so the worker is often mid-notification), runs `kassa check`
//! against the restarted database, verifies every acknowledged payment, then puts load on it
//! (one-stage payments, two-stage payments with a confirm, payments with a cancel) and kills it:
//! at a random moment, while a notification is being delivered, or while a settlement
//! (`kassa settle`, the worker's job in a process of its own) is running — killed together.
//!
//! Acknowledged means the load generator was told so: `orderstate` answered a paid state after
//! the payment, `charge.cfm` and `wscancel.cfm` answered 0/0. After every restart each
//! acknowledged payment must exist exactly once (one paid attempt of its order number, one
//! successful payment operation) in the acknowledged state or a later one, and `kassa check`
//! must pass. At the end the processing center's journal must show no transaction settled
//! twice. Violations are printed and counted; the exit status is 1 if there was any.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use kassa::db::schema::{merchants, operations, orders};
use kassa::db::{AnyConnection, Backend};
use kassa::gateway::setup::{DEMO_MANAGER, DEMO_MERCHANT_NUMBER};
use rand::Rng;

/// What the load generator was told about an order number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ack {
    Paid,
    Confirmed,
    Canceled,
}

type Acks = Arc<Mutex<HashMap<String, Ack>>>;

struct Setup {
    kassa: String,
    url: String,
    dir: String,
    port: u16,
}

impl Setup {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.kassa);
        c.args(args)
            .env("KASSA_DATABASE_URL", &self.url)
            .env("KASSA_DATA_DIR", &self.dir)
            .env("KASSA_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("KASSA_LOG", "warn")
            .env("KASSA_RATE_LIMIT_PER_MINUTE", "0")
            .env("KASSA_WORKER_INTERVAL_SECS", "1")
            .env("KASSA_PROCESSOR_TIMEOUT_SECS", "2")
            .env("KASSA_OUTBOUND_ALLOW_INTERNAL", "true")
            .env("KASSA_OUTBOUND_TIMEOUT_SECS", "2")
            .env("KASSA_NOTIFY_RETRY_SCHEDULE", "1,1,1,2,2,2,5");
        c
    }

    fn start(&self, cycle: usize) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(format!("{}/kassa-{cycle}.log", self.dir))
            .unwrap();
        self.command(&["demo"]).stdout(Stdio::null()).stderr(log).spawn().expect("start kassa")
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn connect(url: &str) -> AnyConnection {
    match Backend::from_url(url) {
        (Backend::Postgres, u) => AnyConnection::Postgresql(PgConnection::establish(&u).expect("connect")),
        (Backend::Sqlite, path) => {
            let mut c = SqliteConnection::establish(&path).expect("open");
            c.batch_execute("PRAGMA busy_timeout = 10000;").unwrap();
            AnyConnection::Sqlite(c)
        }
    }
}

fn kill(child: &mut Child) {
    // SIGKILL: no shutdown code runs, like a power cut to the process.
    let _ = child.kill();
    let _ = child.wait();
}

async fn wait_up(client: &reqwest::Client, base: &str) -> bool {
    for _ in 0..300 {
        if client.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let at = xml.find(&open)? + open.len();
    Some(xml[at..].split('<').next()?.to_owned())
}

struct Load {
    client: reqwest::Client,
    base: String,
    acks: Acks,
}

impl Load {
    async fn service(&self, path: &str, fields: &[(&str, &str)]) -> Result<String, String> {
        let merchant = DEMO_MERCHANT_NUMBER.to_string();
        let mut form =
            vec![("Merchant_ID", merchant.as_str()), ("Login", DEMO_MANAGER.0), ("Password", DEMO_MANAGER.1)];
        form.extend_from_slice(fields);
        let r = self.client.post(format!("{}{path}", self.base)).form(&form).send().await.map_err(|e| e.to_string())?;
        r.text().await.map_err(|e| e.to_string())
    }

    /// One order: pay (one- or two-stage), then confirm or cancel it for some.
    async fn order(&self, number: &str, kind: u64) -> Result<(), String> {
        let two_stage = kind == 1;
        let mut fields = vec![
            ("OrderNumber", number),
            ("OrderAmount", "25.00"),
            ("OrderCurrency", "RUB"),
            ("CardPayment", "1"),
            ("Lastname", "Petrov"),
            ("Firstname", "Ivan"),
            ("Email", "crash@example.com"),
            ("Format", "5"),
        ];
        if two_stage {
            fields.push(("Delay", "1"));
        }
        let body = self.service("/pay/payrequest.cfm", &fields).await?;
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        let url = v["URL"].as_str().filter(|u| !u.is_empty()).ok_or("payrequest refused")?.to_owned();
        let billnumber = v["billnumber"].as_str().unwrap_or_default().to_owned();
        let r = self.client.get(&url).send().await.map_err(|e| e.to_string())?;
        let page = r.headers().get("location").and_then(|l| l.to_str().ok()).ok_or("no page")?.to_owned();
        let page = if page.starts_with('/') { format!("{}{page}", self.base) } else { page };
        let html = self.client.get(&page).send().await.map_err(|e| e.to_string())?.text().await.unwrap_or_default();
        let marker = "name=\"nonce\" value=\"";
        let at = html.find(marker).ok_or("no card form")? + marker.len();
        let nonce = html[at..].split('"').next().unwrap_or_default().to_owned();
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
            return Err(format!("charge: {}", r.status()));
        }
        let state =
            self.service("/orderstate/orderstate.cfm", &[("Billnumber", billnumber.as_str()), ("Format", "3")]).await?;
        match field(&state, "orderstate").as_deref() {
            Some("Approved" | "Delayed") => self.ack(number, Ack::Paid),
            other => return Err(format!("paid order is {other:?}")),
        }
        let answer = match kind {
            1 => self.service("/charge/charge.cfm", &[("Billnumber", billnumber.as_str()), ("Format", "3")]).await?,
            2 => self.service("/cancel/wscancel.cfm", &[("Billnumber", billnumber.as_str()), ("Format", "3")]).await?,
            _ => return Ok(()),
        };
        if answer.contains("firstcode=\"0\" secondcode=\"0\"") {
            self.ack(number, if kind == 1 { Ack::Confirmed } else { Ack::Canceled });
        }
        Ok(())
    }

    fn ack(&self, number: &str, ack: Ack) {
        let mut acks = self.acks.lock().unwrap();
        let entry = acks.entry(number.to_owned()).or_insert(ack);
        *entry = (*entry).max(ack);
    }
}

/// Every acknowledged payment exists exactly once, in its acknowledged state or a later one.
fn verify(url: &str, acks: &HashMap<String, Ack>) -> Vec<String> {
    let mut c = connect(url);
    let rows: Vec<(String, String, String)> = orders::table
        .inner_join(merchants::table)
        .filter(merchants::merchant_number.eq(DEMO_MERCHANT_NUMBER))
        .filter(orders::order_number.like("crash-%"))
        .select((orders::order_number, orders::id, orders::state))
        .load(&mut c)
        .expect("read orders");
    let paid_ops: Vec<String> = operations::table
        .filter(operations::kind.eq("payment"))
        .filter(operations::state.eq("Success"))
        .select(operations::order_id)
        .load(&mut c)
        .expect("read operations");
    let mut ops_of: HashMap<&str, usize> = HashMap::new();
    for id in &paid_ops {
        *ops_of.entry(id.as_str()).or_default() += 1;
    }
    let paid = ["Delayed", "Approved", "PartialDelayed", "Canceled", "PartialCanceled"];
    let mut by_number: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for (number, id, state) in &rows {
        by_number.entry(number.as_str()).or_default().push((id.as_str(), state.as_str()));
    }
    let mut bad = Vec::new();
    for (number, ack) in acks {
        let attempts = by_number.get(number.as_str()).cloned().unwrap_or_default();
        let paid_attempts: Vec<_> = attempts.iter().filter(|(_, s)| paid.contains(s)).collect();
        if paid_attempts.len() != 1 {
            bad.push(format!("{number} ({ack:?}): {} paid attempts {attempts:?}", paid_attempts.len()));
            continue;
        }
        let (id, state) = paid_attempts[0];
        let ops = ops_of.get(id).copied().unwrap_or(0);
        if ops != 1 {
            bad.push(format!("{number} ({ack:?}): {ops} successful payment operations"));
        }
        let fits = match ack {
            Ack::Paid => true,
            Ack::Confirmed => matches!(*state, "Approved" | "Canceled" | "PartialCanceled"),
            Ack::Canceled => *state == "Canceled",
        };
        if !fits {
            bad.push(format!("{number} ({ack:?}) is {state}"));
        }
    }
    bad
}

fn check(setup: &Setup) -> Option<String> {
    let out = setup.command(&["check"]).output().expect("kassa check");
    (!out.status.success()).then(|| {
        format!("kassa check failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// The processing center's journal: no financial transaction in two settlement batches.
fn settled_twice(dir: &str) -> (usize, Vec<String>) {
    let journal = std::fs::read_to_string(format!("{dir}/simulator.journal")).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    let mut twice = Vec::new();
    for line in journal.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        for item in entry.get("Batch").and_then(|b| b["items"].as_array()).into_iter().flatten() {
            let item = item.as_str().unwrap_or_default().to_owned();
            if !seen.insert(item.clone()) {
                twice.push(format!("transaction {item} settled in two batches"));
            }
        }
    }
    (seen.len(), twice)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bench_crash <kassa binary> <database-url> <data dir> <cycles> [port]");
        std::process::exit(2);
    }
    let cycles: usize = args[4].parse().expect("cycles");
    let port: u16 = args.get(5).and_then(|p| p.parse().ok()).unwrap_or(18580);
    let setup = Setup { kassa: args[1].clone(), url: args[2].clone(), dir: args[3].clone(), port };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // The merchant's notification receiver: slow to answer, so kills land mid-delivery.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (f, r) = (in_flight.clone(), received.clone());
    let server = HttpServer::new(move || {
        let (f, r) = (f.clone(), r.clone());
        App::new().default_service(web::to(move || {
            let (f, r) = (f.clone(), r.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                f.fetch_sub(1, Ordering::SeqCst);
                r.fetch_add(1, Ordering::Relaxed);
                HttpResponse::Ok().body(r#"<pushpaymentresult firstcode="0" secondcode="0"></pushpaymentresult>"#)
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let notify_url = format!("http://{}/notify", server.addrs()[0]);
    tokio::spawn(server.run());

    // The demo data first, then the notification URL, before any payment.
    let mut kassa = setup.start(0);
    assert!(wait_up(&client, &setup.base()).await, "kassa did not start; see {}/kassa-0.log", setup.dir);
    kill(&mut kassa);
    diesel::update(merchants::table.filter(merchants::merchant_number.eq(DEMO_MERCHANT_NUMBER)))
        .set(merchants::notification_url.eq(&notify_url))
        .execute(&mut connect(&setup.url))
        .expect("set the notification URL");

    let acks: Acks = Arc::new(Mutex::new(HashMap::new()));
    let mut violations: Vec<String> = Vec::new();
    let mut rng = rand::rng();
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    let counter = Arc::new(AtomicU64::new(0));
    // Why orders were not acknowledged (most: requests cut off by the kill).
    let errors: Arc<Mutex<HashMap<String, usize>>> = Arc::new(Mutex::new(HashMap::new()));
    let started = Instant::now();
    let mut kinds = [0usize; 3];
    for cycle in 1..=cycles + 1 {
        let mut kassa = setup.start(cycle);
        if !wait_up(&client, &setup.base()).await {
            violations.push(format!("cycle {cycle}: kassa did not restart (see {}/kassa-{cycle}.log)", setup.dir));
            kill(&mut kassa);
            break;
        }
        if let Some(failure) = check(&setup) {
            violations.push(format!("cycle {cycle}: {failure}"));
        }
        let snapshot = acks.lock().unwrap().clone();
        for v in verify(&setup.url, &snapshot) {
            violations.push(format!("cycle {cycle}: {v}"));
        }
        if cycle > cycles {
            kill(&mut kassa);
            break;
        }

        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let load = Load { client: client.clone(), base: setup.base(), acks: acks.clone() };
                let (stop, counter, run, errors) = (stop.clone(), counter.clone(), run.clone(), errors.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let i = counter.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = load.order(&format!("crash-{run}-{i}"), i % 3).await {
                            let kind: String = e.chars().take(60).collect();
                            *errors.lock().unwrap().entry(kind).or_default() += 1;
                        }
                    }
                })
            })
            .collect();
        // Let some payments through, then kill at a moment of this cycle's kind.
        let warm = Duration::from_millis(rng.random_range(300..1500));
        tokio::time::sleep(warm).await;
        let kind = cycle % 3;
        kinds[kind] += 1;
        let mut settle = None;
        match kind {
            0 => tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await,
            1 => {
                // Mid-notification: the receiver is holding a delivery open.
                let deadline = Instant::now() + Duration::from_secs(5);
                while in_flight.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..100))).await;
            }
            _ => {
                // Mid-settlement: a settlement run in its own process, killed with the server.
                settle = Some(setup.command(&["settle"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
                tokio::time::sleep(Duration::from_millis(rng.random_range(5..250))).await;
            }
        }
        kill(&mut kassa);
        if let Some(mut s) = settle {
            kill(&mut s);
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            let _ = w.await;
        }
        eprintln!(
            "cycle {cycle}/{cycles}: {} acknowledged so far, {} notifications received, {} violations",
            acks.lock().unwrap().len(),
            received.load(Ordering::Relaxed),
            violations.len()
        );
    }

    let (settled, twice) = settled_twice(&setup.dir);
    violations.extend(twice);
    let acks = acks.lock().unwrap();
    let count = |a: Ack| acks.values().filter(|v| **v == a).count();
    println!(
        "crash loop: {cycles} cycles in {:.0} s (kills: {} random, {} mid-notification, {} mid-settlement); \
         {} payments acknowledged ({} paid, {} confirmed, {} canceled), {} order numbers used (with requests refused while Kassa was down), {settled} transactions \
         settled, {} notifications received; violations: {}",
        started.elapsed().as_secs_f64(),
        kinds[0],
        kinds[1],
        kinds[2],
        acks.len(),
        count(Ack::Paid),
        count(Ack::Confirmed),
        count(Ack::Canceled),
        counter.load(Ordering::Relaxed),
        received.load(Ordering::Relaxed),
        violations.len()
    );
    let mut errors: Vec<(String, usize)> = errors.lock().unwrap().clone().into_iter().collect();
    errors.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (e, n) in errors.iter().take(8) {
        println!("  not acknowledged {n}×: {e}");
    }
    for v in &violations {
        println!("VIOLATION {v}");
    }
    std::process::exit(if violations.is_empty() { 0 } else { 1 });
}
