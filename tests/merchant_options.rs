//! Merchant options of the admin area that change what other parts of Kassa do: the RSA
//! `Signature` of payment requests, checked with the public key the admin uploads, and the
//! notification protocol (form POST or SOAP) the worker reads at send time.

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use common::account::get;
use common::admin::*;
use common::checkout::{order_fields, with};
use common::spawn_app;
use common::webservices::{add_user, post_form, published_key, verifies};
use diesel::prelude::*;
use kassa::assist::checkvalue::{self, RequestMode, Variant};
use kassa::config::Config;
use kassa::db::StoreError;
use kassa::db::schema::outbox;
use kassa::gateway::PayRequest;
use kassa::worker::Worker;
use md5::{Digest, Md5};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};

fn new_key(bits: usize) -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).expect("an RSA key")
}

/// The request string X of a payment request (reference §2.3, delimited rule).
fn request_string(fields: &[(String, String)]) -> String {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).unwrap().1.clone();
    checkvalue::request_string(
        RequestMode::Delimited,
        [&get("Merchant_ID"), &get("OrderNumber"), &get("OrderAmount"), &get("OrderCurrency")],
        &[],
    )
}

/// The merchant's side: base64 of RSA PKCS#1 v1.5 over MD5(X).
fn sign(key: &RsaPrivateKey, x: &str) -> String {
    let raw = key.sign(Pkcs1v15Sign::new::<Md5>(), &Md5::digest(x.as_bytes())).unwrap();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

fn signed(fields: Vec<(String, String)>, key: &RsaPrivateKey) -> Vec<(String, String)> {
    let signature = sign(key, &request_string(&fields));
    with(fields, "Signature", &signature)
}

#[tokio::test]
async fn signature_mode_accepts_only_requests_signed_with_the_uploaded_key() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let enterprise = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, secret) = create_merchant(&c, &app.address, &csrf, &enterprise, "7101").await;

    // Malformed, short and missing keys are refused beside their fields; nothing is saved.
    let bad = save_settings(
        &c,
        &app.address,
        &path,
        &[("rsa_public_key", Some("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"))],
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("id=\"error-rsa_public_key\">Not an RSA public key in PEM"), "{}", bad.body);
    let short = new_key(1024).to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let bad = save_settings(&c, &app.address, &path, &[("rsa_public_key", Some(&short))]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("The key has 1024 bits; at least 2048 are required."), "{}", bad.body);
    let bad = save_settings(&c, &app.address, &path, &[("signature_required", Some("on"))]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"error-signature_required\""), "{}", bad.body);
    let m = app.gateway.merchant_by_number(7101).await.unwrap();
    assert_eq!((m.rsa_public_key, m.signature_required), (None, false));

    // A PKCS#1 key pasted with CRLF line ends is accepted and signature mode switched on.
    let key = new_key(2048);
    let pem = key.to_public_key().to_pkcs1_pem(LineEnding::CRLF).unwrap();
    let saved =
        save_settings(&c, &app.address, &path, &[("rsa_public_key", Some(&pem)), ("signature_required", Some("on"))])
            .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let m = app.gateway.merchant_by_number(7101).await.unwrap();
    assert!(m.signature_required);
    assert!(m.rsa_public_key.as_deref().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let log = get(&c, &format!("{}/admin/audit", app.address)).await;
    assert!(log.body.contains("SHA256:"), "the audit log shows the key's fingerprint: {}", log.body);

    // A correctly signed request opens the payment page.
    let page = app.post("/pay/order.cfm", &signed(order_fields(&m, "sig-1", "10.00"), &key)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().starts_with("/pay/"));
    // Unsigned, signed over another amount, signed by another key, or with only a check value:
    // refused, and no order is made.
    let unsigned = app.post("/pay/order.cfm", &order_fields(&m, "sig-2", "10.00")).await;
    assert_eq!(unsigned.status, 400);
    assert!(unsigned.body.contains("Signature"), "{}", unsigned.body);
    let other_amount = signed(order_fields(&m, "sig-3", "99.00"), &key);
    let tampered = with(other_amount, "OrderAmount", "10.00");
    let refused = app.post("/pay/order.cfm", &tampered).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body.contains("The request&#39;s signature (Signature) does not match.")
            || refused.body.contains("The request's signature (Signature) does not match."),
        "{}",
        refused.body
    );
    let stranger = new_key(2048);
    assert_eq!(app.post("/pay/order.cfm", &signed(order_fields(&m, "sig-4", "10.00"), &stranger)).await.status, 400);
    let fields = order_fields(&m, "sig-5", "10.00");
    let value = checkvalue::compute(&checkvalue::md5_hex(&secret), &request_string(&fields), Variant::B);
    assert_eq!(app.post("/pay/order.cfm", &with(fields, "Checkvalue", &value)).await.status, 400);
    assert_eq!(common::checkout::order_count(&app).await, 1);

    // The payrequest web service: the same rule, 5/159 when refused, and a link that works.
    add_user(&app, &m, "shop_api_user", "ws-password-2026", true).await;
    let ws = |fields: Vec<(String, String)>| {
        let mut all = fields;
        all.extend(
            [("Login", "shop_api_user"), ("Password", "ws-password-2026"), ("Format", "5")]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        all
    };
    let client = reqwest::Client::new();
    let url = format!("{}/pay/payrequest.cfm", app.address);
    let call = |fields: Vec<(String, String)>| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            post_form(&client, &url, &pairs).await.json()
        }
    };
    let refused = call(ws(order_fields(&m, "ws-1", "20.00"))).await;
    assert_eq!((refused["firstcode"].as_str(), refused["secondcode"].as_str()), (Some("5"), Some("159")), "{refused}");
    let bad = call(ws(with(order_fields(&m, "ws-1", "20.00"), "Signature", "AAAA"))).await;
    assert_eq!((bad["secondcode"].as_str(), bad["code"].as_str()), (Some("159"), Some("bad_signature")), "{bad}");
    // Refusals and answers are sealed with Kassa's signature, not a check value (§4.3).
    let (_, kassa_key) = published_key(&app).await;
    assert_eq!(refused["checkvalue"], "", "{refused}");
    assert!(verifies(&kassa_key, "7101ws-120.00RUBDecline", refused["signature"].as_str().unwrap()), "{refused}");
    let created = call(ws(signed(order_fields(&m, "ws-1", "20.00"), &key))).await;
    assert_eq!(created["firstcode"].as_str(), Some("0"), "{created}");
    assert_eq!(created["checkvalue"], "", "{created}");
    let sealed = created["signature"].as_str().unwrap();
    assert!(verifies(&kassa_key, "7101ws-120.00RUBIn Process", sealed), "{created}");
    assert!(!verifies(&kassa_key, "7101ws-120.01RUBIn Process", sealed));
    let link = created["URL"].as_str().unwrap();
    assert!(link.contains("/pay/") && !link.contains("order.cfm"), "{link}");
    let opened = app.get(&link[link.find("/pay/").unwrap()..]).await;
    assert_eq!(opened.status, 200, "the link of a signed order opens its page: {link}");
}

/// A merchant's SOAP endpoint: `/soap` acknowledges, `/fault` answers a SOAP fault (HTTP 500).
async fn soap_receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let log = Arc::new(Mutex::new(Vec::new()));
    let shared = log.clone();
    let server = HttpServer::new(move || {
        let log = shared.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: String| {
            let log = log.clone();
            async move {
                let kind = req.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                log.lock().unwrap().push((kind, body));
                if req.path() == "/fault" {
                    return HttpResponse::InternalServerError().content_type("text/xml").body(
                        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>unknown order</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#,
                    );
                }
                HttpResponse::Ok().content_type("text/xml").body(
                    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ws="http://www.paysecure.ru/ws/"><soapenv:Body><ws:PushPaymentResultResponse><pushpaymentresult firstcode="0" secondcode="0"><order></order></pushpaymentresult></ws:PushPaymentResultResponse></soapenv:Body></soapenv:Envelope>"#,
                )
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

fn worker(app: &common::TestApp) -> Worker {
    let mut c = Config::load(None, Vec::new()).unwrap();
    c.data_dir = app.db.dir().to_path_buf();
    c.outbound_allow_internal = true;
    c.outbound_timeout_secs = 2;
    c.notify_retry_schedule = "1,1".into();
    Worker::new(app.gateway.clone(), c).unwrap()
}

/// (state, attempts) of the Assist notifications, oldest first.
async fn notifications(app: &common::TestApp) -> Vec<(String, i32)> {
    app.gateway
        .store
        .read(|c| {
            outbox::table
                .filter(outbox::topic.eq("assist.notification"))
                .order(outbox::created_at.asc())
                .select((outbox::state, outbox::attempts))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soap_notifications_carry_the_fields_and_a_fault_is_final() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let enterprise = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, secret) = create_merchant(&c, &app.address, &csrf, &enterprise, "7102").await;
    let (address, log) = soap_receiver().await;

    let bad = save_settings(&c, &app.address, &path, &[("notification_protocol", Some("ftp"))]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"error-notification_protocol\""), "{}", bad.body);
    let url = format!("{address}/soap");
    let saved = save_settings(
        &c,
        &app.address,
        &path,
        &[("notification_url", Some(&url)), ("notification_protocol", Some("soap"))],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let m = app.gateway.merchant_by_number(7102).await.unwrap();
    let order = app.gateway.create_order(common::request(&m, "soap-1", "10.00")).await.unwrap();
    let card = PayRequest { card: common::card("4111111111111111"), client_ip: None };
    app.gateway.pay(&order.id, card).await.unwrap();
    let worker = worker(&app);
    worker.deliver_due().await.unwrap();
    assert_eq!(notifications(&app).await, vec![("delivered".into(), 1)]);
    let (kind, body) = log.lock().unwrap()[0].clone();
    assert!(kind.starts_with("text/xml"), "{kind}");
    assert!(body.contains("<ws:PushPaymentResult>") && body.contains("http://www.paysecure.ru/ws/"), "{body}");
    assert!(body.contains(&format!("<billnumber>{}.1</billnumber>", order.billnumber)), "{body}");
    assert!(body.contains("<amount>10.00</amount><currency>RUB</currency>"), "{body}");
    assert!(body.contains("<orderstate>Approved</orderstate>"), "{body}");
    // The check value, recomputed from the formula: MD5(UPPER(MD5(secret) + MD5(X))).
    let x = "7102soap-110.00RUBApproved";
    let inner = format!("{}{}", checkvalue::md5_hex(&secret), checkvalue::md5_hex(x)).to_uppercase();
    assert!(
        body.contains(&format!("<checkvalue>{}</checkvalue>", checkvalue::md5_hex(&inner).to_uppercase())),
        "{body}"
    );

    // A SOAP fault is a final answer: not retried.
    let url = format!("{address}/fault");
    assert_eq!(save_settings(&c, &app.address, &path, &[("notification_url", Some(&url))]).await.status, 303);
    let order = app.gateway.create_order(common::request(&m, "soap-2", "10.00")).await.unwrap();
    let card = PayRequest { card: common::card("4111111111111111"), client_ip: None };
    app.gateway.pay(&order.id, card).await.unwrap();
    worker.deliver_due().await.unwrap();
    assert_eq!(notifications(&app).await[1], ("failed".into(), 1), "a fault is not retried");
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn email_options_are_checked_stored_and_audited() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let enterprise = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, _) = create_merchant(&c, &app.address, &csrf, &enterprise, "7103").await;

    let six = "a@shop.example b@shop.example c@shop.example d@shop.example e@shop.example f@shop.example";
    for bad in [six, "ops@shop.example not-an-address"] {
        let page = save_settings(&c, &app.address, &path, &[("staff_emails", Some(bad))]).await;
        assert_eq!(page.status, 400, "{bad}");
        assert!(page.body.contains("id=\"error-staff_emails\""), "{}", page.body);
    }
    let saved = save_settings(
        &c,
        &app.address,
        &path,
        &[("staff_emails", Some(" ops@shop.example   boss@shop.example ")), ("customer_emails", None)],
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let m = app.gateway.merchant_by_number(7103).await.unwrap();
    assert_eq!(m.staff_emails.as_deref(), Some("ops@shop.example boss@shop.example"));
    assert!(!m.customer_emails);
    let page = get(&c, &format!("{}{path}", app.address)).await.body;
    assert!(page.contains("value=\"ops@shop.example boss@shop.example\""));

    let details: Vec<String> = app
        .gateway
        .store
        .read(|c| {
            kassa::db::schema::audit_events::table
                .filter(kassa::db::schema::audit_events::action.eq("admin.merchant_update"))
                .select(kassa::db::schema::audit_events::detail)
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let last = details.last().expect("an audit entry");
    assert!(last.contains("staff_emails") && last.contains("boss@shop.example"), "{last}");
    assert!(last.contains("customer_emails"), "{last}");
}
