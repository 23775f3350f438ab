//! The worker's deliveries to real local receivers: Assist notifications (0/0, error, no answer,
//! slow answer, the retry schedule), signed webhooks checked by an independent implementation,
//! e-mail to files and over SMTP, and two workers sharing one database.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use common::*;
use diesel::prelude::*;
use kassa::assist::checkvalue;
use kassa::config::Config;
use kassa::db::StoreError;
use kassa::db::models::Merchant;
use kassa::db::schema::{delivery_attempts, merchants, outbox};
use kassa::worker::Worker;

#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// A merchant's server: `/ok` acknowledges, `/error` refuses, `/silent` never answers in time,
/// `/slow` answers after a second, `/webhook` takes webhooks.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let log = Arc::new(Mutex::new(Vec::<Received>::new()));
    let shared = log.clone();
    let server = HttpServer::new(move || {
        let log = shared.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: String| {
            let log = log.clone();
            async move {
                let headers =
                    req.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
                let path = req.path().to_owned();
                log.lock().unwrap().push(Received { path: path.clone(), headers, body });
                let ack = r#"<?xml version="1.0"?><pushpaymentresult firstcode="0" secondcode="0"><order></order></pushpaymentresult>"#;
                match path.as_str() {
                    "/ok" => HttpResponse::Ok().body(ack),
                    "/error" => HttpResponse::Ok().body(r#"<pushpaymentresult firstcode="5" secondcode="108"></pushpaymentresult>"#),
                    "/silent" => {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        HttpResponse::Ok().body(ack)
                    }
                    "/slow" => {
                        tokio::time::sleep(Duration::from_millis(1000)).await;
                        HttpResponse::Ok().body(ack)
                    }
                    _ => HttpResponse::NoContent().finish(),
                }
            }
        }))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (address, log)
}

fn worker_config(t: &TestGateway) -> Config {
    let mut c = Config::load(None, Vec::new()).unwrap();
    c.data_dir = t.db.dir().to_path_buf();
    c.outbound_allow_internal = true;
    c.outbound_timeout_secs = 2;
    c.notify_retry_schedule = "1,1".into();
    c
}

async fn set_merchant(t: &TestGateway, f: impl FnOnce(&mut Merchant) + Send + 'static) {
    let mut m = t.merchant.clone();
    f(&mut m);
    t.gateway
        .store
        .write(move |c| {
            diesel::update(merchants::table.find(&m.id))
                .set((
                    merchants::notification_url.eq(&m.notification_url),
                    merchants::webhook_url.eq(&m.webhook_url),
                    merchants::webhook_secrets.eq(&m.webhook_secrets),
                    merchants::tech_email.eq(&m.tech_email),
                    merchants::customer_emails.eq(m.customer_emails),
                    merchants::staff_emails.eq(&m.staff_emails),
                ))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
}

/// (topic, state, attempts) of every outbox message, oldest first.
async fn outbox_rows(t: &TestGateway) -> Vec<(String, String, i32)> {
    t.gateway
        .store
        .read(|c| {
            outbox::table
                .order(outbox::created_at.asc())
                .select((outbox::topic, outbox::state, outbox::attempts))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

/// Makes every pending message due now (instead of waiting out the retry schedule).
async fn due_now(t: &TestGateway) {
    t.gateway
        .store
        .write(|c| {
            diesel::update(outbox::table.filter(outbox::state.eq("pending")))
                .set(outbox::available_at.eq(kassa::db::now() - time::Duration::seconds(1)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notification_acknowledged_with_zero_codes_is_done() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    set_merchant(&t, move |m| m.notification_url = Some(format!("{address}/ok"))).await;
    let order = t.paid("notify-ok", "123.45", false, "4111111111111111").await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    assert_eq!(worker.deliver_due().await.unwrap(), 1);
    assert_eq!(outbox_rows(&t).await, vec![("assist.notification".into(), "delivered".into(), 1)]);
    let got = log.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let form: HashMap<String, String> = serde_urlencoded::from_str(&got[0].body).unwrap();
    assert_eq!(form["billnumber"], format!("{}.1", order.billnumber));
    assert_eq!((form["amount"].as_str(), form["currency"].as_str()), ("123.45", "RUB"));
    assert_eq!((form["orderstate"].as_str(), form["responsecode"].as_str()), ("Approved", "AS000"));
    assert_eq!((form["operationtype"].as_str(), form["testmode"].as_str()), ("100", "1"));
    assert_eq!(form["meannumber"], "411111******1111");
    assert!(!got[0].body.contains("4111111111111111"), "the card number never leaves in clear");
    // The check value, recomputed from the formula: MD5(UPPER(MD5(secret) + MD5(X))).
    let x = format!("{}{}{}{}{}", t.merchant.merchant_number, "notify-ok", "123.45", "RUB", "Approved");
    let inner = format!("{}{}", checkvalue::md5_hex(SECRET), checkvalue::md5_hex(&x)).to_uppercase();
    assert_eq!(form["checkvalue"], checkvalue::md5_hex(&inner).to_uppercase());
    assert_eq!(form["signature"], "", "MD5 mode: no signature");
    // Delivered once: nothing more to do.
    assert_eq!(worker.deliver_due().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_error_answer_is_final_and_the_contact_is_told() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    set_merchant(&t, move |m| {
        m.notification_url = Some(format!("{address}/error"));
        m.tech_email = Some("tech@shop.example".into());
    })
    .await;
    t.paid("notify-error", "10.00", false, "4111111111111111").await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    due_now(&t).await;
    worker.deliver_due().await.unwrap();
    let rows = outbox_rows(&t).await;
    assert_eq!(rows[0], ("assist.notification".into(), "failed".into(), 1), "not retried");
    assert_eq!(rows[1], ("email".into(), "delivered".into(), 1), "the alert went out");
    assert_eq!(log.lock().unwrap().len(), 1);
    let mails: Vec<_> = std::fs::read_dir(t.db.dir().join("mail")).unwrap().collect();
    assert_eq!(mails.len(), 1);
    let mail = std::fs::read_to_string(mails[0].as_ref().unwrap().path()).unwrap();
    assert!(mail.contains("To: tech@shop.example") && mail.contains("secondcode") && mail.contains("108"), "{mail}");
    assert!(mail.contains(&t.merchant.merchant_number.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_answer_is_retried_on_schedule_then_given_up() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    set_merchant(&t, move |m| m.notification_url = Some(format!("{address}/silent"))).await;
    t.paid("notify-silent", "10.00", false, "4111111111111111").await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    let before = kassa::db::now();
    worker.deliver_due().await.unwrap();
    assert_eq!(outbox_rows(&t).await[0], ("assist.notification".into(), "pending".into(), 1));
    let next: time::PrimitiveDateTime = t
        .gateway
        .store
        .read(|c| outbox::table.select(outbox::available_at).first(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert!(next > before, "the retry waits for the schedule");
    assert_eq!(worker.deliver_due().await.unwrap(), 0, "not due yet");
    // Schedule "1,1": three attempts in all.
    for _ in 0..3 {
        due_now(&t).await;
        worker.deliver_due().await.unwrap();
    }
    assert_eq!(outbox_rows(&t).await[0], ("assist.notification".into(), "failed".into(), 3));
    assert_eq!(log.lock().unwrap().len(), 3);
    let attempts: Vec<(i32, String)> = t
        .gateway
        .store
        .read(|c| {
            delivery_attempts::table
                .order(delivery_attempts::attempt.asc())
                .select((delivery_attempts::attempt, delivery_attempts::outcome))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(attempts, vec![(1, "no_answer".into()), (2, "no_answer".into()), (3, "no_answer".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_answer_within_the_timeout_counts() {
    let t = spawn_gateway().await;
    let (address, _) = receiver().await;
    set_merchant(&t, move |m| m.notification_url = Some(format!("{address}/slow"))).await;
    t.paid("notify-slow", "10.00", false, "4111111111111111").await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    assert_eq!(outbox_rows(&t).await[0].1, "delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn internal_targets_are_refused_unless_allowed() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    set_merchant(&t, move |m| m.notification_url = Some(format!("{address}/ok"))).await;
    t.paid("notify-internal", "10.00", false, "4111111111111111").await;
    let mut config = worker_config(&t);
    config.outbound_allow_internal = false;
    let worker = Worker::new(t.gateway.clone(), config).unwrap();
    worker.deliver_due().await.unwrap();
    assert_eq!(outbox_rows(&t).await[0].1, "failed");
    assert!(log.lock().unwrap().is_empty(), "Kassa did not call its own network");
}

/// Verifies a Standard Webhooks signature with Python's hmac module: an implementation
/// independent of Kassa's.
fn python_verifies(secret: &str, id: &str, timestamp: &str, body: &str, signature: &str) -> bool {
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, sig_header = sys.argv[1:5]
body = sys.stdin.read()
key = base64.b64decode(secret.split("_", 1)[1])
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()).decode()
print("ok" if any(s.split(",", 1)[1] == expected for s in sig_header.split()) else "bad")
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, secret, id, timestamp, signature])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap().trim() == "ok"
}

/// Every event goes to each endpoint as a message of its own (retried on its own) with the same
/// id; a message for an endpoint taken off since is given up, the other endpoints still get theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_go_to_every_endpoint_each_on_its_own() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    let secret = kassa::worker::webhook::new_secret();
    let (a, b) = (format!("{address}/webhook-a"), format!("{address}/webhook-b"));
    let (both, kept) = (format!("{a} {b}"), secret.clone());
    set_merchant(&t, move |m| {
        m.webhook_url = Some(both);
        m.webhook_secrets = Some(secret);
    })
    .await;
    t.paid("endpoints-1", "10.00", false, "4111111111111111").await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    let got = log.lock().unwrap().clone();
    let mut paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/webhook-a", "/webhook-b"]);
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_eq!(got[0].body, got[1].body);

    // B is taken off while the next event waits for delivery.
    t.paid("endpoints-2", "20.00", false, "4111111111111111").await;
    set_merchant(&t, move |m| {
        m.webhook_url = Some(a);
        m.webhook_secrets = Some(kept);
    })
    .await;
    worker.deliver_due().await.unwrap();
    let got = log.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].path, "/webhook-a");
    let webhooks: Vec<(String, String, i32)> = outbox_rows(&t).await.into_iter().filter(|r| r.0 == "webhook").collect();
    let failed: Vec<_> = webhooks.iter().filter(|r| r.1 == "failed").collect();
    assert_eq!((webhooks.len(), failed.len()), (4, 1), "{webhooks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhooks_are_signed_with_both_secrets() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    let (old, new) = (kassa::worker::webhook::new_secret(), kassa::worker::webhook::new_secret());
    let secrets = format!("{old} {new}");
    set_merchant(&t, move |m| {
        m.webhook_url = Some(format!("{address}/webhook"));
        m.webhook_secrets = Some(secrets);
    })
    .await;
    let order = t.paid("webhook-1", "10.00", true, "4111111111111111").await;
    t.gateway.confirm(&order.id, None).await.unwrap();
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    let got = log.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let types: Vec<String> = got
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.contains(&"payment.approved".to_owned()) && types.contains(&"payment.confirmed".to_owned()));
    for r in &got {
        let (id, ts, sig) =
            (&r.headers["webhook-id"], &r.headers["webhook-timestamp"], &r.headers["webhook-signature"]);
        assert!(python_verifies(&old, id, ts, &r.body, sig), "old secret");
        assert!(python_verifies(&new, id, ts, &r.body, sig), "new secret");
        assert!(!python_verifies(&kassa::worker::webhook::new_secret(), id, ts, &r.body, sig), "a stranger's secret");
        assert!(!python_verifies(&old, id, ts, &r.body.replace("10.00", "1.00"), sig), "a changed body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_are_mailed_to_files_by_default() {
    let t = spawn_gateway().await;
    let mut r = two_stage(request(&t.merchant, "mail-1", "55.00"));
    r.email = Some("buyer@example.com".into());
    r.firstname = Some("Анна".into());
    let order = t.gateway.create_order(r).await.unwrap();
    t.pay(&order, "4111111111111111").await;
    t.gateway.cancel(&order.id, Default::default()).await.unwrap();
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    let mut mails: Vec<String> = std::fs::read_dir(t.db.dir().join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 2, "a receipt and a refund notice");
    assert!(mails.iter().all(|m| m.contains("To: buyer@example.com")));
    assert!(mails.iter().any(|m| m.contains("mail-1") && m.contains("text/html")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receipts_go_out_over_smtp() {
    let python = match std::env::var("KASSA_PYTHON") {
        Ok(p) => p,
        Err(_) if std::env::var("CI").is_err() => {
            eprintln!("skipped: set KASSA_PYTHON to a python with aiosmtpd (CI does)");
            return;
        }
        Err(_) => panic!("CI must set KASSA_PYTHON to a python with aiosmtpd"),
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let spool = tempfile::tempdir().unwrap();
    let mut smtp = std::process::Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(spool.path().join("box"))
        .spawn()
        .expect("start aiosmtpd");
    let up = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "aiosmtpd listens");
    let t = spawn_gateway().await;
    set_merchant(&t, |m| m.staff_emails = Some("ops@shop.example boss@shop.example".into())).await;
    let mut r = request(&t.merchant, "smtp-1", "77.00");
    r.email = Some("buyer@example.com".into());
    r.language = Some("EN".into());
    let order = t.gateway.create_order(r).await.unwrap();
    t.pay(&order, "4111111111111111").await;
    let mut config = worker_config(&t);
    config.mail_transport = kassa::config::MailTransport::Smtp;
    config.smtp_host = "127.0.0.1".into();
    config.smtp_port = port;
    config.smtp_tls = kassa::config::SmtpTls::None;
    let worker = Worker::new(t.gateway.clone(), config).unwrap();
    worker.deliver_due().await.unwrap();
    smtp.kill().unwrap();
    smtp.wait().unwrap();
    let dir = spool.path().join("box").join("new");
    let mails: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: Payment for order smtp-1"), "{}", mails[0]);
    assert!(mails[0].contains("77.00 RUB"));
    // The staff's blind copies: recipients of the envelope, never named in the message.
    let recipients = mails[0].lines().find(|l| l.starts_with("X-RcptTo:")).unwrap_or_default();
    for address in ["buyer@example.com", "ops@shop.example", "boss@shop.example"] {
        assert!(recipients.contains(address), "{address} in {recipients}");
    }
    assert!(!mails[0].lines().any(|l| l.starts_with("Bcc:") || (l.starts_with("To:") && l.contains("shop.example"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customer_emails_turned_off_hold_back_even_queued_ones() {
    let t = spawn_gateway().await;
    let mut r = request(&t.merchant, "quiet-1", "12.00");
    r.email = Some("buyer@example.com".into());
    let order = t.gateway.create_order(r).await.unwrap();
    t.pay(&order, "4111111111111111").await;
    // Queued while e-mails were on, sent after they were turned off.
    set_merchant(&t, |m| m.customer_emails = false).await;
    let worker = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    worker.deliver_due().await.unwrap();
    let mails = std::fs::read_dir(t.db.dir().join("mail")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(mails, 0, "no e-mail to the customer");
    let states: Vec<String> = t
        .gateway
        .store
        .read(|c| {
            outbox::table.filter(outbox::topic.eq("email")).select(outbox::state).load(c).map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0], "delivered", "held back for good, not retried");

    // Turned on again, the next e-mail goes.
    set_merchant(&t, |m| m.customer_emails = true).await;
    t.gateway.cancel(&order.id, Default::default()).await.unwrap();
    worker.deliver_due().await.unwrap();
    let mails = std::fs::read_dir(t.db.dir().join("mail")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(mails, 1, "the returned-money notice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_workers_never_deliver_the_same_message() {
    let t = spawn_gateway().await;
    let (address, log) = receiver().await;
    let secret = kassa::worker::webhook::new_secret();
    set_merchant(&t, move |m| {
        m.webhook_url = Some(format!("{address}/webhook"));
        m.webhook_secrets = Some(secret);
    })
    .await;
    for i in 0..40 {
        t.paid(&format!("two-workers-{i}"), "10.00", false, "4111111111111111").await;
    }
    let a = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    let b = Worker::new(t.gateway.clone(), worker_config(&t)).unwrap();
    let (ra, rb) = tokio::join!(a.deliver_due(), b.deliver_due());
    let (na, nb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(na + nb, 40, "every message claimed once ({na} + {nb})");
    let ids: Vec<String> = log.lock().unwrap().iter().map(|r| r.headers["webhook-id"].clone()).collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (40, 40));
}
