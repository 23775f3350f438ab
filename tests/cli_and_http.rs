//! The binary and the server: `--help`, wrong settings, `kassa demo` (twice), the health check.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

fn kassa() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kassa"));
    c.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn help_explains_each_command() {
    let out = kassa().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "worker", "migrate", "demo", "settle"] {
        assert!(text.contains(cmd), "--help lists {cmd}: {text}");
    }
}

#[test]
fn a_wrong_setting_stops_start_up_and_is_named() {
    let out = kassa().env("KASSA_LISTN", "127.0.0.1:1").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KASSA_LISTN"));
    let out = kassa().env("KASSA_PROCESSOR_TIMEOUT_SECS", "0").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KASSA_PROCESSOR_TIMEOUT_SECS"));
}

/// Starts `kassa demo`, reads its `name: value` lines, checks the server answers, stops it.
fn run_demo(db: &TestDb) -> Vec<(String, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = kassa()
        .arg("demo")
        .env("KASSA_DATABASE_URL", &db.url)
        .env("KASSA_DATA_DIR", db.dir())
        .env("KASSA_LISTEN", format!("127.0.0.1:{port}"))
        .env("KASSA_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut pairs = Vec::new();
    while pairs.iter().filter(|(k, _): &&(String, String)| k == "password").count() < 2 {
        let line = lines.next().expect("demo output").unwrap();
        let (k, v) = line.split_once(": ").unwrap_or_else(|| panic!("not name: value: {line}"));
        pairs.push((k.to_owned(), v.to_owned()));
    }
    let url = format!("http://127.0.0.1:{port}/health");
    let ok = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ok, "the demo serves at {url}");
    pairs
}

#[test]
fn demo_prints_credentials_and_is_idempotent() {
    let db = TestDb::new();
    let first = run_demo(&db);
    let get = |pairs: &[(String, String)], key: &str| {
        pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect::<Vec<_>>()
    };
    assert_eq!(get(&first, "merchant_id"), vec!["679471"]);
    assert_eq!(get(&first, "secret_word"), vec!["demo-secret-word"]);
    assert_eq!(get(&first, "login"), vec!["demo_manager", "admin"]);
    assert_eq!(get(&first, "password").len(), 2);
    assert!(get(&first, "url")[0].starts_with("http://127.0.0.1:"));
    let second = run_demo(&db);
    assert_eq!(get(&second, "merchant_id"), get(&first, "merchant_id"));
}

#[tokio::test]
async fn health_and_security_headers() {
    let app = spawn_app().await;
    let res = reqwest::get(format!("{}/health", app.address)).await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.headers().get("x-content-type-options").unwrap(), "nosniff");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let expected = if app.db.is_postgres() { "postgres" } else { "sqlite" };
    assert_eq!(body["database"], expected);
    let page = reqwest::get(format!("{}/", app.address)).await.unwrap().text().await.unwrap();
    assert!(page.contains("/pay/order.cfm"));
}

/// A CLI run against PostgreSQL over TLS exits with its own status. (OpenSSL's exit handler
/// used to crash about one run in eight with SIGSEGV while pool threads held TLS connections.)
#[test]
fn commands_exit_cleanly_over_tls_to_postgres() {
    let db = TestDb::new();
    if !db.is_postgres() {
        return;
    }
    // The test URL may turn TLS off; this test wants libpq's default (TLS when offered).
    let url = db.url.split('?').next().unwrap().to_owned();
    for _ in 0..25 {
        let status = kassa()
            .arg("settle")
            .env("KASSA_DATABASE_URL", &url)
            .env("KASSA_DATA_DIR", db.dir())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{status:?}");
    }
}
