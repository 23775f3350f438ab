//! Helpers for the web-service and API tests: an app with a chosen configuration, users with
//! the web-services right, form posts, and a tiny XML reader.

use base64::Engine;
use diesel::prelude::*;
use kassa::assist::checkvalue::md5_hex;
use kassa::config::Config;
use kassa::db::models::{Merchant, NewUser, UserId};
use kassa::db::schema::users;
use kassa::gateway::setup;
use kassa::startup::Application;
use md5::{Digest, Md5};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};

use super::{SECRET, TestApp, TestDb, gateway_on};

/// The whole application over HTTP, with `adjust` applied to its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new();
    let mut config = Config::load(None, Vec::new()).unwrap();
    config.listen = "127.0.0.1:0".into();
    config.database_url = db.url.clone();
    config.data_dir = db.dir().to_path_buf();
    adjust(&mut config);
    let gateway = gateway_on(&db);
    let app = Application::build(config, gateway.clone()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp { address, gateway, db }
}

/// A user of the merchant's enterprise.
pub async fn add_user(app: &TestApp, merchant: &Merchant, login: &str, password: &str, webservices: bool) {
    let hash = setup::hash_password(password).unwrap();
    let user = NewUser {
        id: UserId::new(),
        enterprise_id: Some(merchant.enterprise_id.clone()),
        login: login.into(),
        password_hash: hash,
        role: "merchant".into(),
        webservices,
        active: true,
        created_at: kassa::db::now(),
    };
    app.gateway
        .store
        .write(move |c| diesel::insert_into(users::table).values(&user).execute(c).map_err(kassa::db::StoreError::from))
        .await
        .unwrap();
}

pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn post_form(client: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let r = client
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let retry_after = r.headers().get("Retry-After").map(|v| v.to_str().unwrap().to_owned());
    Answer { status, retry_after, body: r.text().await.unwrap() }
}

/// Every text of `<name>…</name>` in document order.
pub fn tags(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let j = after.find(&close).expect("closed tag");
        out.push(after[..j].to_owned());
        rest = &after[j + close.len()..];
    }
    out
}

pub fn tag(xml: &str, name: &str) -> String {
    tags(xml, name).into_iter().next().unwrap_or_else(|| panic!("no <{name}> in {xml}"))
}

/// The value of attribute `name` of the first `<result …>`.
pub fn result_attr(xml: &str, name: &str) -> String {
    let start = xml.find("<result").expect("<result>");
    let head = &xml[start..start + xml[start..].find('>').unwrap()];
    let key = format!("{name}=\"");
    let i = head.find(&key).unwrap_or_else(|| panic!("no {name} in {head}")) + key.len();
    head[i..i + head[i..].find('"').unwrap()].to_owned()
}

/// The answer check value, recomputed here from the formula of reference §4.3 (variant B):
/// `UPPER(MD5(UPPER(MD5(secret) + MD5(merchant_id + ordernumber + amount + currency + state))))`.
pub fn expected_checkvalue(merchant: i64, order_number: &str, amount: &str, currency: &str, state: &str) -> String {
    let x = format!("{merchant}{order_number}{amount}{currency}{state}");
    md5_hex(&format!("{}{}", md5_hex(SECRET), md5_hex(&x)).to_uppercase()).to_uppercase()
}

/// Variant A, for merchants who chose it: only `MD5(secret)` is upper-cased.
pub fn expected_checkvalue_a(merchant: i64, order_number: &str, amount: &str, currency: &str, state: &str) -> String {
    let x = format!("{merchant}{order_number}{amount}{currency}{state}");
    md5_hex(&format!("{}{}", md5_hex(SECRET).to_uppercase(), md5_hex(&x))).to_uppercase()
}

/// A CSV answer as header → value maps, one per line.
pub fn csv_records(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(';').collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| header.iter().map(|h| h.to_string()).zip(l.split(';').map(str::to_owned)).collect())
        .collect()
}

/// The merchant's side, written from the reference rather than from Kassa's code: base64-decode
/// and check PKCS#1 v1.5 over MD5(X).
pub fn verifies(public: &RsaPublicKey, x: &str, signature: &str) -> bool {
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(signature) else { return false };
    public.verify(Pkcs1v15Sign::new::<Md5>(), &Md5::digest(x.as_bytes()), &raw).is_ok()
}

/// The public key as a merchant downloads it, without signing in.
pub async fn published_key(app: &TestApp) -> (String, RsaPublicKey) {
    let response = reqwest::get(format!("{}/.well-known/kassa-signing-key.pem", app.address)).await.unwrap();
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("kassa-signing-key.pem"), "{disposition}");
    let pem = response.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----") && !pem.contains("PRIVATE"), "{pem}");
    let key = RsaPublicKey::from_public_key_pem(&pem).expect("a PEM public key");
    (pem, key)
}
