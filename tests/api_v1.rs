//! The JSON API over HTTP: keys, the order lifecycle, paging, idempotency, refusals, audit.

mod common;

use std::sync::Arc;

use common::webservices::spawn_app_with;
use common::*;
use diesel::prelude::*;
use kassa::db::models::{Merchant, Operation};
use kassa::gateway::PayRequest;
use kassa::web::api::keys;
use serde_json::{Value, json};

struct Api {
    app: TestApp,
    merchant: Merchant,
    key: String,
    key_id: String,
    client: reqwest::Client,
}

async fn setup() -> Api {
    let app = spawn_app_with(|_| {}).await;
    let merchant = add_merchant(&app.gateway, 1001, |_| {}).await;
    let (row, key) = keys::create_key(&app.gateway.store, &merchant.id, "shop server").await.unwrap();
    Api { app, merchant, key, key_id: row.id, client: reqwest::Client::new() }
}

struct Reply {
    status: u16,
    replayed: bool,
    body: Value,
}

impl Api {
    async fn send(&self, method: &str, path: &str, body: Option<Value>, idempotency_key: Option<&str>) -> Reply {
        let url = format!("{}{path}", self.app.address);
        let mut r = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        }
        .bearer_auth(&self.key);
        if let Some(k) = idempotency_key {
            r = r.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let replayed = resp.headers().contains_key("Idempotent-Replayed");
        let text = resp.text().await.unwrap();
        Reply { status, replayed, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    async fn pay(&self, billnumber: &str) {
        let order = self.app.gateway.order(&self.merchant.id, billnumber).await.unwrap();
        self.app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
    }

    async fn operations(&self, billnumber: &str) -> Vec<Operation> {
        let order = self.app.gateway.order(&self.merchant.id, billnumber).await.unwrap();
        self.app
            .gateway
            .store
            .read(move |c| Operation::of_order(c, &order.id).map_err(kassa::db::StoreError::from))
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn an_order_through_create_pay_get_confirm_cancel() {
    let api = setup().await;
    let created = api
        .send(
            "POST",
            "/api/v1/orders",
            Some(json!({ "order_number": "api-1", "amount": "100.00", "currency": "RUB", "two_stage": true })),
            Some("create-api-1"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let o = &created.body;
    assert_eq!(
        (o["state"].as_str(), o["amount"].as_str(), o["currency"].as_str()),
        (Some("In Process"), Some("100.00"), Some("RUB"))
    );
    let url = o["payment_url"].as_str().unwrap();
    assert!(url.contains("/pay/order.cfm?") && url.contains("OrderNumber=api-1"), "{url}");
    let b = o["billnumber"].as_str().unwrap().to_owned();

    api.pay(&b).await;
    let got = api.send("GET", &format!("/api/v1/orders/{b}"), None, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["state"], "Delayed");
    assert_eq!(got.body["payment_url"], Value::Null);
    assert_eq!(got.body["operations"][0]["type"], "payment");
    assert_eq!(got.body["operations"][0]["amount"], "100.00");

    let confirmed = api
        .send(
            "POST",
            &format!("/api/v1/orders/{b}/confirm"),
            Some(json!({ "amount": "70.00", "currency": "RUB" })),
            None,
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert_eq!(confirmed.body["order"]["state"], "PartialDelayed");
    assert_eq!(confirmed.body["operation"]["assist_type"], 200);

    let plan = api.send("GET", &format!("/api/v1/orders/{b}/cancel-plan?amount=20.00&currency=RUB"), None, None).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert_eq!(plan.body["plan"]["amount"], "20.00");

    let cancelled = api
        .send("POST", &format!("/api/v1/orders/{b}/cancel"), Some(json!({ "reason": 1 })), Some("cancel-api-1"))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["order"]["state"], "Canceled");
    assert_eq!(cancelled.body["plan"]["state_after"], "Canceled");
    assert!(cancelled.body["plan"]["reverse"].is_string());

    let kinds: Vec<String> = api.operations(&b).await.into_iter().map(|o| o.kind).collect();
    assert_eq!(kinds, ["payment", "confirmation", "cancel"]);
}

#[tokio::test]
async fn listing_pages_by_keyset_and_filters() {
    let api = setup().await;
    for i in 0..7 {
        let r = api
            .send(
                "POST",
                "/api/v1/orders",
                Some(json!({ "order_number": format!("list-{i}"), "amount": "5.00" })),
                None,
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=3&cursor={c}"),
            None => "/api/v1/orders?limit=3".to_owned(),
        };
        let page = api.send("GET", &path, None, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for o in page.body["orders"].as_array().unwrap() {
            seen.push(o["order_number"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).rev().map(|i| format!("list-{i}")).collect();
    assert_eq!(seen, expected, "newest first, each once");
    let one = api.send("GET", "/api/v1/orders?order_number=list-3", None, None).await;
    assert_eq!(one.body["orders"].as_array().unwrap().len(), 1);
    let none = api.send("GET", "/api/v1/orders?state=Approved", None, None).await;
    assert_eq!(none.body["orders"].as_array().unwrap().len(), 0);
    for bad in ["state=Paid", "limit=0", "limit=501", "cursor=zzz", "created_from=yesterday", "colour=red"] {
        let r = api.send("GET", &format!("/api/v1/orders?{bad}"), None, None).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.body["code"].is_string());
    }
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_and_serialise() {
    let api = Arc::new(setup().await);
    let body = json!({ "order_number": "idem-1", "amount": "100.00" });
    let first = api.send("POST", "/api/v1/orders", Some(body.clone()), Some("key-1")).await;
    let again = api.send("POST", "/api/v1/orders", Some(body), Some("key-1")).await;
    assert_eq!((first.status, again.status), (201, 201));
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.body, again.body);
    let other = api
        .send("POST", "/api/v1/orders", Some(json!({ "order_number": "idem-2", "amount": "1.00" })), Some("key-1"))
        .await;
    assert_eq!(other.status, 422);
    assert_eq!(other.body["code"], "idempotency_key_reused");
    let b = first.body["billnumber"].as_str().unwrap().to_owned();
    api.pay(&b).await;

    // 50 concurrent partial cancels with one key: one cancel; the others replay it or are told
    // the first is still running.
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (api, b) = (api.clone(), b.clone());
            tokio::spawn(async move {
                api.send(
                    "POST",
                    &format!("/api/v1/orders/{b}/cancel"),
                    Some(json!({ "amount": "10.00", "currency": "RUB" })),
                    Some("cancel-key-1"),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            200 => ok += 1,
            409 => assert_eq!(r.body["code"], "idempotency_key_in_use"),
            s => panic!("{s}: {}", r.body),
        }
    }
    assert!(ok >= 1);
    let cancels = api.operations(&b).await.into_iter().filter(|o| o.kind == "cancel").count();
    assert_eq!(cancels, 1);
    let order = api.send("GET", &format!("/api/v1/orders/{b}"), None, None).await;
    assert_eq!(order.body["state"], "PartialCanceled");
    let bad = api.send("POST", "/api/v1/orders", Some(json!({})), Some("bad key with spaces")).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn refusals_without_a_key_or_for_another_merchant() {
    let api = setup().await;
    let other = add_merchant(&api.app.gateway, 2002, |_| {}).await;
    let foreign = api.app.gateway.create_order(request(&other, "foreign-1", "10.00")).await.unwrap();
    let url = format!("{}/api/v1/orders", api.app.address);
    let none = api.client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = api.client.get(&url).bearer_auth(format!("kassa_{}", "0".repeat(64))).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let got = api.send("GET", &format!("/api/v1/orders/{}", foreign.billnumber), None, None).await;
    assert_eq!(got.status, 404);
    assert_eq!(got.body["code"], "order_not_found");
    let cancel = api.send("POST", &format!("/api/v1/orders/{}/cancel", foreign.billnumber), None, None).await;
    assert_eq!(cancel.status, 404);

    assert!(keys::revoke_key(&api.app.gateway.store, &api.merchant.id, &api.key_id).await.unwrap());
    let revoked = api.send("GET", "/api/v1/orders", None, None).await;
    assert_eq!(revoked.status, 401);
    assert_eq!(revoked.body["code"], "unauthorized");
}

#[tokio::test]
async fn errors_are_stable_json() {
    let api = setup().await;
    let cases = [
        (json!({ "order_number": "e-1", "amount": "1.5e2" }), "invalid_field", Some("amount")),
        (json!({ "order_number": "e-1", "amount": "10.00", "currency": "XXX" }), "invalid_field", Some("currency")),
        (json!({ "order_number": "", "amount": "10.00" }), "invalid_field", Some("order_number")),
        (json!({ "order_number": "e-1", "amount": 10.0 }), "invalid_json", None),
        (json!({ "order_number": "e-1", "amount": "10.00", "extra": 1 }), "invalid_json", None),
    ];
    for (body, code, field) in cases {
        let r = api.send("POST", "/api/v1/orders", Some(body.clone()), None).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.body["code"], code, "{body}: {}", r.body);
        assert_eq!(r.body["field"].as_str(), field, "{body}: {}", r.body);
    }
    let created =
        api.send("POST", "/api/v1/orders", Some(json!({ "order_number": "e-2", "amount": "10.00" })), None).await;
    let b = created.body["billnumber"].as_str().unwrap();
    let r = api.send("POST", &format!("/api/v1/orders/{b}/confirm"), None, None).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["code"], "not_two_stage");
}

#[tokio::test]
async fn money_changes_are_audited_with_the_key_id() {
    use kassa::db::schema::audit_events;
    let api = setup().await;
    let created =
        api.send("POST", "/api/v1/orders", Some(json!({ "order_number": "aud-1", "amount": "10.00" })), None).await;
    let b = created.body["billnumber"].as_str().unwrap().to_owned();
    api.pay(&b).await;
    api.send("POST", &format!("/api/v1/orders/{b}/cancel"), None, None).await;
    let rows: Vec<(String, String, String, String)> = api
        .app
        .gateway
        .store
        .read(|c| {
            audit_events::table
                .order(audit_events::created_at.asc())
                .select((audit_events::actor_kind, audit_events::actor, audit_events::action, audit_events::outcome))
                .load(c)
                .map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap();
    let key = api.key_id.clone();
    assert_eq!(
        rows,
        [
            ("api_key".into(), key.clone(), "api.create_order".into(), "ok".into()),
            ("api_key".into(), key, "api.cancel".into(), "ok".into()),
        ]
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_in_json() {
    let api = setup().await;
    let big = json!({ "order_number": "big", "amount": "1.00", "comment": "x".repeat(100 * 1024) });
    let r = api.send("POST", "/api/v1/orders", Some(big), None).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["code"], "payload_too_large");
}
