//! Kassa's own RSA signature (reference §4.3, §5): in signature mode notifications and
//! web-service answers carry `signature` (base64 RSA PKCS#1 v1.5 over MD5 of the check value's
//! string) and an empty `checkvalue`; the merchant verifies with the public key Kassa publishes,
//! which every Kassa process on the database shares. MD5-mode merchants see no change.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::account::{add_account_user, get, signed_in};
use common::admin::{admin_client, create_enterprise, create_merchant, csrf};
use common::webservices::{add_user, expected_checkvalue, post_form, published_key, spawn_app_with, tag, verifies};
use common::{TestApp, TestDb, add_merchant, card, gateway_on, request};
use diesel::prelude::*;
use kassa::config::Config;
use kassa::db::StoreError;
use kassa::db::models::Merchant;
use kassa::db::schema::{audit_events, gateway_signing_key};
use kassa::gateway::PayRequest;
use kassa::worker::Worker;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};

const LOGIN: &str = "shop_api_user";
const PASSWORD: &str = "ws-password-2026";

/// A merchant whose requests must be signed: it has its own public key, unrelated to Kassa's.
async fn signature_merchant(app: &TestApp, number: i64, notification_url: Option<String>) -> Merchant {
    let own = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = own.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    add_merchant(&app.gateway, number, move |m| {
        m.rsa_public_key = Some(pem);
        m.signature_required = true;
        m.notification_url = notification_url;
    })
    .await
}

/// A merchant's server that acknowledges every notification and keeps its form.
async fn receiver() -> (String, Arc<Mutex<Vec<HashMap<String, String>>>>) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let log = Arc::new(Mutex::new(Vec::new()));
    let shared = log.clone();
    let server = HttpServer::new(move || {
        let log = shared.clone();
        App::new().default_service(web::to(move |body: String| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(serde_urlencoded::from_str(&body).unwrap());
                HttpResponse::Ok()
                    .body(r#"<pushpaymentresult firstcode="0" secondcode="0"><order></order></pushpaymentresult>"#)
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (address, log)
}

fn worker(app: &TestApp) -> Worker {
    let mut c = Config::load(None, Vec::new()).unwrap();
    c.data_dir = app.db.dir().to_path_buf();
    c.outbound_allow_internal = true;
    c.outbound_timeout_secs = 2;
    Worker::new(app.gateway.clone(), c).unwrap()
}

async fn pay(app: &TestApp, merchant: &Merchant, order_number: &str, amount: &str) {
    // Created as the JSON API does, already authenticated: signing the merchant's own requests
    // is `merchant_options.rs`'s subject, not this file's.
    let order_request = kassa::gateway::OrderRequest { authenticated: true, ..request(merchant, order_number, amount) };
    let order = app.gateway.create_order(order_request).await.unwrap();
    app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_in_signature_mode_carry_kassas_signature_and_no_check_value() {
    let app = spawn_app_with(|_| {}).await;
    let (address, log) = receiver().await;
    let signed = signature_merchant(&app, 7201, Some(format!("{address}/notify"))).await;
    let md5 = add_merchant(&app.gateway, 7202, |m| m.notification_url = Some(format!("{address}/notify"))).await;
    pay(&app, &signed, "sig-notify-1", "123.45").await;
    pay(&app, &md5, "md5-notify-1", "10.00").await;
    assert_eq!(worker(&app).deliver_due().await.unwrap(), 2);
    let (_, public) = published_key(&app).await;

    let forms = log.lock().unwrap().clone();
    let form = forms.iter().find(|f| f["merchant_id"] == "7201").expect("the signed merchant's notification");
    assert_eq!(form["checkvalue"], "");
    // The merchant's check (§5): merchant_id + ordernumber + amount + currency + orderstate.
    let x = |f: &HashMap<String, String>| {
        format!("{}{}{}{}{}", f["merchant_id"], f["ordernumber"], f["amount"], f["currency"], f["orderstate"])
    };
    assert_eq!(x(form), "7201sig-notify-1123.45RUBApproved");
    assert!(verifies(&public, &x(form), &form["signature"]), "{form:?}");
    // A field changed on the way no longer verifies.
    let mut tampered = form.clone();
    tampered.insert("amount".into(), "123.46".into());
    assert!(!verifies(&public, &x(&tampered), &form["signature"]));
    let mut tampered = form.clone();
    tampered.insert("orderstate".into(), "Declined".into());
    assert!(!verifies(&public, &x(&tampered), &form["signature"]));

    // MD5 mode as before: the check value, no signature.
    let form = forms.iter().find(|f| f["merchant_id"] == "7202").expect("the MD5 merchant's notification");
    assert_eq!(form["signature"], "");
    assert_eq!(form["checkvalue"], expected_checkvalue(7202, "md5-notify-1", "10.00", "RUB", "Approved"));
}

#[tokio::test]
async fn orderstate_answers_in_signature_mode_are_signed_in_every_format() {
    let app = spawn_app_with(|_| {}).await;
    let signed = signature_merchant(&app, 7203, None).await;
    let md5 = add_merchant(&app.gateway, 7204, |_| {}).await;
    add_user(&app, &signed, LOGIN, PASSWORD, true).await;
    add_user(&app, &md5, "md5_api_user", PASSWORD, true).await;
    pay(&app, &signed, "sig-state-1", "250.00").await;
    pay(&app, &md5, "md5-state-1", "30.00").await;
    let (_, public) = published_key(&app).await;
    let client = reqwest::Client::new();
    let call = |merchant: &Merchant, login: &'static str, order_number: &'static str, format: &'static str| {
        let (client, url, number) = (
            client.clone(),
            format!("{}/orderstate/orderstate.cfm", app.address),
            merchant.merchant_number.to_string(),
        );
        async move {
            let fields = [
                ("Merchant_ID", number.as_str()),
                ("Login", login),
                ("Password", PASSWORD),
                ("Ordernumber", order_number),
                ("Format", format),
            ];
            let answer = post_form(&client, &url, &fields).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body
        }
    };

    // §4.3: merchant_id + ordernumber + orderamount + ordercurrency + orderstate.
    let x = "7203sig-state-1250.00RUBApproved";
    let xml = call(&signed, LOGIN, "sig-state-1", "3").await;
    assert_eq!(tag(&xml, "checkvalue"), "", "{xml}");
    let x_of_answer = format!(
        "7203{}{}{}{}",
        tag(&xml, "ordernumber"),
        tag(&xml, "orderamount"),
        tag(&xml, "ordercurrency"),
        tag(&xml, "orderstate")
    );
    assert_eq!(x_of_answer, x);
    assert!(verifies(&public, x, &tag(&xml, "signature")), "{xml}");
    assert!(!verifies(&public, "7203sig-state-1250.00RUBCanceled", &tag(&xml, "signature")));
    assert!(!verifies(&public, "7204sig-state-1250.00RUBApproved", &tag(&xml, "signature")));

    let json: serde_json::Value = serde_json::from_str(&call(&signed, LOGIN, "sig-state-1", "5").await).unwrap();
    let check = &json["orderstate"]["checkdata"];
    assert_eq!(check["checkvalue"], "", "{json}");
    assert!(verifies(&public, x, check["signature"].as_str().unwrap()), "{json}");

    // MD5 mode as before.
    let xml = call(&md5, "md5_api_user", "md5-state-1", "3").await;
    assert_eq!(tag(&xml, "signature"), "", "{xml}");
    assert_eq!(tag(&xml, "checkvalue"), expected_checkvalue(7204, "md5-state-1", "30.00", "RUB", "Approved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_on_one_database_make_and_use_one_key() {
    let db = TestDb::new();
    let (first, second) = (gateway_on(&db), gateway_on(&db));
    // Both find no key and race to store theirs; both end up with the one that was stored.
    let (a, b) = tokio::join!(first.signing_key(), second.signing_key());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.public_pem(), b.public_pem());
    let rows: i64 =
        first.store.read(|c| gateway_signing_key::table.count().get_result(c).map_err(StoreError::from)).await.unwrap();
    assert_eq!(rows, 1);
    let public = RsaPublicKey::from_public_key_pem(b.public_pem()).unwrap();
    assert!(verifies(&public, "7205order-110.00RUBApproved", &a.sign("7205order-110.00RUBApproved")));
    // A third process, started later, reads the same key.
    assert_eq!(gateway_on(&db).signing_key().await.unwrap().fingerprint(), a.fingerprint());
}

#[tokio::test]
async fn managers_and_admins_see_the_public_key_and_nobody_the_private_one() {
    let app = spawn_app_with(|_| {}).await;
    let (pem, public) = published_key(&app).await;
    let fingerprint = kassa::assist::signature::fingerprint(&public);
    let shown_pem = pem.trim_end();

    let merchant = add_merchant(&app.gateway, 7206, |_| {}).await;
    add_account_user(&app, &merchant, "shop_manager", "manager").await;
    add_account_user(&app, &merchant, "shop_viewer", "viewer").await;
    let manager = signed_in(&app, "shop_manager").await;
    let page = get(&manager, &format!("{}/account/signing-key", app.address)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&fingerprint), "{}", page.body);
    assert!(page.body.contains(shown_pem), "{}", page.body);
    assert!(page.body.contains("/.well-known/kassa-signing-key.pem"));
    let dashboard = get(&manager, &format!("{}/account", app.address)).await;
    assert!(dashboard.body.contains("href=\"/account/signing-key\""), "managers find it in the menu");
    let viewer = signed_in(&app, "shop_viewer").await;
    assert_eq!(get(&viewer, &format!("{}/account/signing-key", app.address)).await.status, 403);

    let (admin, _) = admin_client(&app, "root").await;
    let token = csrf(&admin, &app.address).await;
    let enterprise = create_enterprise(&admin, &app.address, &token, "Acme Trading").await;
    let (path, _) = create_merchant(&admin, &app.address, &token, &enterprise, "7207").await;
    let page = get(&admin, &format!("{}{path}", app.address)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&fingerprint) && page.body.contains(shown_pem), "{}", page.body);

    // The private key is in its table and nowhere a person looks.
    let audit: Vec<String> = app
        .gateway
        .store
        .read(|c| audit_events::table.select(audit_events::detail).load(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert!(!audit.is_empty());
    for text in audit.iter().chain([&page.body]) {
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
}

/// With `signing_key_file` Kassa signs with the operator's key, read from outside the database,
/// and keeps none there; an unreadable or weak key stops the start with the setting's name.
#[tokio::test]
async fn a_signing_key_file_keeps_the_key_out_of_the_database() {
    use rsa::pkcs8::EncodePrivateKey;
    let db = TestDb::new();
    let own = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let file = db.dir().join("signing-key.pem");
    std::fs::write(&file, own.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let mut config = Config::load(None, Vec::new()).unwrap();
    config.database_url = db.url.clone();
    config.data_dir = db.dir().to_path_buf();
    config.signing_key_file = Some(file.clone());

    let gateway = kassa::startup::open_gateway(&config).unwrap();
    let key = gateway.signing_key().await.unwrap();
    assert_eq!(key.fingerprint(), kassa::assist::signature::fingerprint(&own.to_public_key()));
    assert!(verifies(&own.to_public_key(), "7208order-15.00RUBApproved", &key.sign("7208order-15.00RUBApproved")));
    let rows: i64 = gateway
        .store
        .read(|c| gateway_signing_key::table.count().get_result(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(rows, 0, "nothing of the key is kept in the database");

    let weak = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    std::fs::write(&file, weak.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
    let refused = kassa::startup::open_gateway(&config).err().expect("a 1024-bit key is refused").to_string();
    assert!(refused.contains("signing_key_file") && refused.contains("1024 bits"), "{refused}");
    config.signing_key_file = Some(db.dir().join("missing.pem"));
    let refused = kassa::startup::open_gateway(&config).err().expect("a missing file is refused").to_string();
    assert!(refused.contains("cannot read signing_key_file"), "{refused}");
}
