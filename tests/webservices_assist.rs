//! The Assist web services over HTTP: every service in every format through a whole lifecycle,
//! check values recomputed from the formula, refusals that leak nothing, malformed fields,
//! concurrency, rate and size limits, the audit log.

mod common;

use std::collections::HashMap;

use common::webservices::*;
use common::*;
use diesel::prelude::*;
use kassa::db::models::{Merchant, Order};
use kassa::gateway::PayRequest;
use serde_json::Value;

const LOGIN: &str = "shop_api_user";
const PASSWORD: &str = "ws-password-2026";

struct Ctx {
    app: TestApp,
    merchant: Merchant,
    client: reqwest::Client,
}

async fn setup() -> Ctx {
    let app = spawn_app_with(|_| {}).await;
    let merchant = add_merchant(&app.gateway, 1001, |_| {}).await;
    add_user(&app, &merchant, LOGIN, PASSWORD, true).await;
    Ctx { app, merchant, client: reqwest::Client::new() }
}

impl Ctx {
    async fn call(&self, path: &str, format: &str, fields: &[(&str, &str)]) -> Answer {
        let number = self.merchant.merchant_number.to_string();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.extend([("Merchant_ID", number.as_str()), ("Login", LOGIN), ("Password", PASSWORD), ("Format", format)]);
        post_form(&self.client, &format!("{}{path}", self.app.address), &all).await
    }

    async fn order(&self, billnumber: &str) -> Order {
        self.app.gateway.order(&self.merchant.id, billnumber).await.unwrap()
    }
}

/// The order-level records of an answer, whatever the format: one map per `<order>` block /
/// CSV line / JSON order.
fn records(format: &str, body: &str, json_root: &str) -> Vec<HashMap<String, String>> {
    match format {
        "1" => csv_records(body),
        "3" => {
            assert_eq!(result_attr(body, "firstcode"), "0", "{body}");
            assert_eq!(result_attr(body, "secondcode"), "0", "{body}");
            let blocks: Vec<&str> = body.split("<order>").skip(1).collect();
            blocks
                .iter()
                .map(|b| {
                    let b = b.split("<operation>").next().unwrap();
                    ["billnumber", "ordernumber", "orderstate", "orderamount", "ordercurrency", "checkvalue", "URL"]
                        .iter()
                        .filter_map(|k| tags(b, k).into_iter().next().map(|v| (k.to_string(), v)))
                        .collect()
                })
                .collect()
        }
        _ => {
            let v: Value = serde_json::from_str(body).unwrap();
            let root = if json_root.is_empty() { v.clone() } else { v[json_root].clone() };
            let objects: Vec<Value> = match &root["orders"] {
                Value::Array(list) => list.clone(),
                _ if root.get("order").is_some() => vec![root["order"].clone()],
                _ => vec![root.clone()],
            };
            objects
                .iter()
                .map(|o| {
                    let mut m: HashMap<String, String> = o
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                        .collect();
                    let check = if root.get("order").is_some() { &root["checkdata"] } else { &o["checkdata"] };
                    if let Some(cv) = check["checkvalue"].as_str() {
                        m.insert("checkvalue".into(), cv.into());
                    }
                    m
                })
                .collect()
        }
    }
}

/// Operation types of an orderresult / resultbydate answer.
fn operation_types(format: &str, body: &str) -> Vec<String> {
    match format {
        "1" => csv_records(body).into_iter().map(|r| r["operationtype"].clone()).collect(),
        "3" => tags(body, "operationtype"),
        _ => {
            let v: Value = serde_json::from_str(body).unwrap();
            let ops = if v.get("resultbydate").is_some() {
                v["resultbydate"]["operations"].as_array().unwrap().clone()
            } else {
                v["orderresult"]["orders"][0]["operations"].as_array().unwrap().clone()
            };
            ops.iter().map(|o| o["operationtype"].as_str().unwrap().to_owned()).collect()
        }
    }
}

fn assert_checkvalue(r: &HashMap<String, String>, number: &str, state: &str) {
    assert_eq!(r["orderstate"], state);
    assert_eq!(r["checkvalue"], expected_checkvalue(1001, number, "100.00", "RUB", state), "{r:?}");
}

#[tokio::test]
async fn every_service_in_every_format_through_a_lifecycle() {
    let t = setup().await;
    for format in ["1", "3", "5"] {
        let number = format!("ws-lifecycle-{format}");
        let created = t
            .call(
                "/pay/payrequest.cfm",
                format,
                &[("OrderNumber", &number), ("OrderAmount", "100.00"), ("OrderCurrency", "RUB"), ("Delay", "1")],
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let r = records(format, &created.body, "").remove(0);
        assert_eq!(r["orderstate"], "In Process");
        assert!(r["URL"].contains("/pay/order.cfm?") && r["URL"].contains(&number), "{r:?}");
        assert_checkvalue(&r, &number, "In Process");
        let billnumber = r["billnumber"].clone();

        let order = t.order(&billnumber).await;
        let paid =
            t.app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
        assert_eq!(paid.order.state, "Delayed");

        let state = t.call("/orderstate/orderstate.cfm", format, &[("OrderNumber", &number)]).await;
        assert_eq!(state.status, 200, "{}", state.body);
        let r = records(format, &state.body, "orderstate").remove(0);
        assert_eq!(r["billnumber"], billnumber);
        assert_checkvalue(&r, &number, "Delayed");

        let charged = t
            .call(
                "/charge/charge.cfm",
                format,
                &[("Billnumber", &billnumber), ("Amount", "60.00"), ("Currency", "RUB")],
            )
            .await;
        assert_eq!(charged.status, 200, "{}", charged.body);
        let r = records(format, &charged.body, "charge").remove(0);
        assert_checkvalue(&r, &number, "PartialDelayed");

        let cancelled =
            t.call("/cancel/wscancel.cfm", format, &[("Billnumber", &billnumber), ("CancelReason", "1")]).await;
        assert_eq!(cancelled.status, 200, "{}", cancelled.body);
        let r = records(format, &cancelled.body, "wscancel").remove(0);
        assert_checkvalue(&r, &number, "Canceled");

        let result = t.call("/orderresult/orderresult.cfm", format, &[("Billnumber", &billnumber)]).await;
        assert_eq!(result.status, 200, "{}", result.body);
        assert_checkvalue(&records(format, &result.body, "orderresult").remove(0), &number, "Canceled");
        assert_eq!(operation_types(format, &result.body), ["100", "200", "300"]);

        let by_date = t.call("/resultbydate/resultbydate.cfm", format, &[]).await;
        assert_eq!(by_date.status, 200, "{}", by_date.body);
        let types = operation_types(format, &by_date.body);
        assert_eq!(types.len(), 3 * (["1", "3", "5"].iter().position(|f| *f == format).unwrap() + 1), "{types:?}");
        let only_refunds = t.call("/resultbydate/resultbydate.cfm", format, &[("Operationtype", "R")]).await;
        assert!(operation_types(format, &only_refunds.body).iter().all(|t| t == "300"));
    }
}

#[tokio::test]
async fn json_answers_have_the_sdk_shapes() {
    let t = setup().await;
    let created = t
        .call(
            "/pay/payrequest.cfm",
            "5",
            &[("OrderNumber", "sdk-1"), ("OrderAmount", "100.00"), ("OrderCurrency", "RUB")],
        )
        .await
        .json();
    for key in ["URL", "expirationtime", "orderstate"] {
        assert!(created[key].is_string(), "{key} in {created}");
    }
    let billnumber = created["billnumber"].as_str().unwrap().to_owned();
    let order = t.order(&billnumber).await;
    t.app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();

    let state = t.call("/orderstate/orderstate.cfm", "5", &[("OrderNumber", "sdk-1")]).await.json();
    let o = &state["orderstate"];
    for key in ["ordernumber", "billnumber", "orderamount", "ordercurrency", "orderstate"] {
        assert!(o[key].is_string(), "{key} in {state}");
    }
    assert!(o["checkdata"]["packetdate"].is_string());

    let result = t.call("/orderresult/orderresult.cfm", "5", &[("Billnumber", &billnumber)]).await.json();
    let order = &result["orderresult"]["orders"][0];
    for key in ["billnumber", "ordernumber", "testmode", "ordercomment", "orderamount", "ordercurrency", "orderdate"] {
        assert!(order[key].is_string(), "{key} in {result}");
    }
    let op = &order["operations"][0];
    for key in [
        "operationtype",
        "amount",
        "currency",
        "ipaddress",
        "meansubtype",
        "meannumber",
        "cardexpirationdate",
        "issuebank",
        "bankcountry",
        "responsecode",
        "message",
        "customermessage",
        "recommendation",
        "approvalcode",
        "protocoltypename",
        "processingname",
    ] {
        assert!(op[key].is_string(), "{key} in {op}");
    }
    assert_eq!(op["meannumber"], "411111******1111");
    let cancel = t
        .call("/cancel/wscancel.cfm", "5", &[("Billnumber", &billnumber), ("Amount", "10.00"), ("Currency", "RUB")])
        .await;
    let cancel = cancel.json();
    assert!(cancel["wscancel"]["order"].is_object() && cancel["wscancel"].get("checkdata").is_some(), "{cancel}");
    assert_eq!(cancel["wscancel"]["order"]["orderstate"], "PartialCanceled");
    // The older path of the same service.
    let legacy = t
        .call("/cancel/cancel.cfm", "5", &[("Billnumber", &billnumber), ("Amount", "5.00"), ("Currency", "RUB")])
        .await;
    assert_eq!(legacy.status, 200, "{}", legacy.body);
    assert_eq!(legacy.json()["wscancel"]["order"]["operations"][0]["amount"], "5.00");
}

#[tokio::test]
async fn payrequest_declines_with_an_empty_url() {
    let t = setup().await;
    let fields = [("OrderNumber", "dup-1"), ("OrderAmount", "100.00"), ("OrderCurrency", "RUB")];
    let first = t.call("/pay/payrequest.cfm", "5", &fields).await.json();
    let order = t.order(first["billnumber"].as_str().unwrap()).await;
    t.app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
    let again = t.call("/pay/payrequest.cfm", "5", &fields).await;
    assert_eq!(again.status, 200);
    let v = again.json();
    assert_eq!((v["orderstate"].as_str(), v["URL"].as_str()), (Some("Decline"), Some("")));
    assert_eq!((v["firstcode"].as_str(), v["secondcode"].as_str()), (Some("6"), Some("107")));
    assert_eq!(v["checkvalue"], expected_checkvalue(1001, "dup-1", "100.00", "RUB", "Decline"));
}

#[tokio::test]
async fn refusals_look_the_same_and_leak_nothing() {
    let t = setup().await;
    add_user(&t.app, &t.merchant, "no_right_user", PASSWORD, false).await;
    let other = add_merchant(&t.app.gateway, 2002, |_| {}).await;
    add_user(&t.app, &other, "other_shop_user", PASSWORD, true).await;
    let foreign = t.app.gateway.create_order(request(&other, "foreign-1", "10.00")).await.unwrap();
    let url = format!("{}/orderstate/orderstate.cfm", t.app.address);
    let attempts: [(&str, &str, &str); 6] = [
        ("1001", LOGIN, "wrong-password-1"),
        ("9999", LOGIN, PASSWORD),
        ("1001", "no_such_login", PASSWORD),
        ("1001", "no_right_user", PASSWORD),
        ("1001", "other_shop_user", PASSWORD),
        ("2002", LOGIN, PASSWORD),
    ];
    let mut bodies = Vec::new();
    for (merchant, login, password) in attempts {
        let fields = [
            ("Merchant_ID", merchant),
            ("Login", login),
            ("Password", password),
            ("Format", "3"),
            ("Billnumber", foreign.billnumber.as_str()),
        ];
        let a = post_form(&t.client, &url, &fields).await;
        assert_eq!(a.status, 401, "{merchant}/{login}: {}", a.body);
        assert_eq!((result_attr(&a.body, "firstcode"), result_attr(&a.body, "secondcode")), ("5".into(), "100".into()));
        bodies.push(a.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every refusal reads the same");
    // Authenticated, but the order belongs to another enterprise's merchant: not found.
    for path in
        ["/orderstate/orderstate.cfm", "/orderresult/orderresult.cfm", "/charge/charge.cfm", "/cancel/wscancel.cfm"]
    {
        let a = t.call(path, "3", &[("Billnumber", &foreign.billnumber)]).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert_eq!(result_attr(&a.body, "secondcode"), "143");
        assert!(!a.body.contains("foreign-1"));
    }
    let untouched = t.app.gateway.order(&other.id, &foreign.billnumber).await.unwrap();
    assert_eq!(untouched.state, "In Process");
}

/// Path, extra fields, HTTP status, firstcode, secondcode.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str, &'a str);

#[tokio::test]
async fn malformed_fields_name_their_code() {
    let t = setup().await;
    let paid = t.app.gateway.create_order(two_stage(request(&t.merchant, "bad-1", "100.00"))).await.unwrap();
    t.app.gateway.pay(&paid.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
    let b = paid.billnumber.as_str();
    let cases: &[Case] = &[
        ("/orderstate/orderstate.cfm", &[], 400, "5", "107"),
        ("/orderstate/orderstate.cfm", &[("OrderNumber", "nope")], 404, "5", "107"),
        ("/orderstate/orderstate.cfm", &[("OrderNumber", "bad-1"), ("StartYear", "20x6")], 400, "5", "104"),
        (
            "/orderstate/orderstate.cfm",
            &[("OrderNumber", "bad-1"), ("StartYear", "2026"), ("StartMonth", "13"), ("StartDay", "1")],
            400,
            "5",
            "104",
        ),
        ("/orderresult/orderresult.cfm", &[("Billnumber", "12ab")], 400, "5", "143"),
        ("/orderresult/orderresult.cfm", &[("Billnumber", "1234567890123456")], 404, "5", "143"),
        ("/resultbydate/resultbydate.cfm", &[("Operationstate", "X")], 400, "5", "204"),
        ("/resultbydate/resultbydate.cfm", &[("Operationtype", "Z")], 400, "5", "205"),
        ("/resultbydate/resultbydate.cfm", &[("TestMode", "2")], 400, "5", "206"),
        (
            "/resultbydate/resultbydate.cfm",
            &[("StartYear", "2026"), ("StartMonth", "1"), ("StartDay", "1")],
            400,
            "5",
            "104",
        ),
        ("/charge/charge.cfm", &[], 400, "5", "143"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "10.00")], 400, "5", "105"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Currency", "RUB")], 400, "5", "108"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "1e3"), ("Currency", "RUB")], 400, "5", "108"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "10.001"), ("Currency", "RUB")], 400, "5", "108"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "10.00"), ("Currency", "USD")], 400, "5", "105"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "10.00"), ("Currency", "XXX")], 400, "5", "105"),
        ("/charge/charge.cfm", &[("Billnumber", b), ("Amount", "500.00"), ("Currency", "RUB")], 400, "5", "108"),
        ("/cancel/wscancel.cfm", &[("Billnumber", b), ("CancelReason", "7")], 400, "5", "202"),
        ("/cancel/wscancel.cfm", &[("Billnumber", b), ("Externalrefundid", "short")], 400, "5", "203"),
        ("/cancel/wscancel.cfm", &[("Billnumber", b), ("Amount", "10.00"), ("Currency", "RUB")], 409, "6", "143"),
        ("/orderstate/orderstate.cfm", &[("OrderNumber", "bad-1"), ("Format", "4")], 400, "5", "201"),
        ("/orderstate/orderstate.cfm", &[("OrderNumber", "bad-1"), ("Language", "FR")], 400, "5", "207"),
    ];
    for (path, fields, status, first, second) in cases {
        let a = t.call(path, "3", fields).await;
        assert_eq!(a.status, *status, "{path} {fields:?}: {}", a.body);
        assert_eq!(result_attr(&a.body, "firstcode"), *first, "{path} {fields:?}: {}", a.body);
        assert_eq!(result_attr(&a.body, "secondcode"), *second, "{path} {fields:?}: {}", a.body);
    }
    let json = t.call("/charge/charge.cfm", "5", &[("Billnumber", "x")]).await;
    assert_eq!(json.status, 400);
    assert_eq!(json.json()["secondcode"], "143");
    let csv = t.call("/charge/charge.cfm", "1", &[("Billnumber", "x")]).await;
    assert_eq!(csv_records(&csv.body)[0]["secondcode"], "143");
    let order = t.order(b).await;
    assert_eq!((order.state.as_str(), order.confirmed), ("Delayed", 0), "no refused call changed the order");
}

#[tokio::test]
async fn field_names_are_case_insensitive() {
    let t = setup().await;
    let order = t.app.gateway.create_order(request(&t.merchant, "case-1", "100.00")).await.unwrap();
    let fields =
        [("MERCHANT_ID", "1001"), ("login", LOGIN), ("PASSWORD", PASSWORD), ("format", "3"), ("ORDERNUMBER", "case-1")];
    let a = post_form(&t.client, &format!("{}/orderstate/orderstate.cfm", t.app.address), &fields).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(tag(&a.body, "billnumber"), order.billnumber);
}

#[tokio::test]
async fn fifty_concurrent_charges_and_cancels_have_one_effect() {
    let t = std::sync::Arc::new(setup().await);
    let order = t.app.gateway.create_order(two_stage(request(&t.merchant, "race-1", "100.00"))).await.unwrap();
    t.app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.unwrap();
    let b = order.billnumber.clone();
    let charge: &[(&str, &str)] = &[("Amount", "80.00"), ("Currency", "RUB")];
    let cancel: &[(&str, &str)] = &[("Amount", "30.00"), ("Currency", "RUB"), ("Externalrefundid", "refund-0001")];
    for (path, extra) in [("/charge/charge.cfm", charge), ("/cancel/wscancel.cfm", cancel)] {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (t, b) = (t.clone(), b.clone());
                let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                tokio::spawn(async move {
                    let mut fields: Vec<(&str, &str)> = vec![("Billnumber", b.as_str())];
                    fields.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    t.call(path, "5", &fields).await
                })
            })
            .collect();
        for task in tasks {
            let a = task.await.unwrap();
            assert_eq!(a.status, 200, "{path}: {}", a.body);
        }
    }
    let id = order.id.clone();
    let ops = t
        .app
        .gateway
        .store
        .read(move |c| kassa::db::models::Operation::of_order(c, &id).map_err(kassa::db::StoreError::from))
        .await
        .unwrap();
    let kinds: Vec<&str> = ops.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds, ["payment", "confirmation", "cancel"]);
    let order = t.order(&b).await;
    assert_eq!((order.confirmed, order.state.as_str()), (8_000, "PartialCanceled"));
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_bodies_are_limited() {
    let app = spawn_app_with(|c| c.rate_limit_per_minute = 60).await;
    let client = reqwest::Client::new();
    let url = format!("{}/orderstate/orderstate.cfm", app.address);
    // The bucket holds ten seconds' worth (10 requests) and refills one a second: the first ten
    // pass (401: unknown merchant), then 429 comes well before thirty.
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let a = post_form(&client, &url, &[("Merchant_ID", "1"), ("Login", "x"), ("Password", "y")]).await;
        statuses.push(a.status);
        if a.status == 429 {
            assert!(a.retry_after.unwrap().parse::<u64>().unwrap() >= 1);
            break;
        }
    }
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");

    let t = setup().await;
    let big = "x".repeat(100 * 1024);
    let a = t.call("/orderstate/orderstate.cfm", "3", &[("OrderComment", &big)]).await;
    assert_eq!(a.status, 413);
}

#[tokio::test]
async fn money_changing_calls_are_audited_with_the_login() {
    use kassa::db::schema::audit_events;
    let t = setup().await;
    let created = t
        .call(
            "/pay/payrequest.cfm",
            "5",
            &[("OrderNumber", "audit-1"), ("OrderAmount", "100.00"), ("OrderCurrency", "RUB")],
        )
        .await
        .json();
    let b = created["billnumber"].as_str().unwrap().to_owned();
    t.call("/charge/charge.cfm", "3", &[("Billnumber", &b)]).await;
    let rows: Vec<(String, String, String, String)> = t
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
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], ("user".into(), LOGIN.into(), "payrequest".into(), "ok".into()));
    assert_eq!(rows[1], ("user".into(), LOGIN.into(), "charge".into(), "not_two_stage".into()));
}

#[tokio::test]
async fn check_values_follow_the_merchant_settings() {
    let app = spawn_app_with(|_| {}).await;
    let merchant = add_merchant(&app.gateway, 3003, |m| {
        m.checkvalue_mode = "delimited".into();
        m.response_variant = "A".into();
    })
    .await;
    add_user(&app, &merchant, LOGIN, PASSWORD, true).await;
    let t = Ctx { app, merchant, client: reqwest::Client::new() };
    let order = [("OrderNumber", "cv-1"), ("OrderAmount", "100.00"), ("OrderCurrency", "RUB")];
    let unsigned = t.call("/pay/payrequest.cfm", "5", &order).await.json();
    assert_eq!((unsigned["orderstate"].as_str(), unsigned["secondcode"].as_str()), (Some("Decline"), Some("158")));
    let x = "3003;cv-1;100.00;RUB";
    let request_cv = kassa::assist::checkvalue::md5_hex(
        &format!("{}{}", kassa::assist::checkvalue::md5_hex(SECRET), kassa::assist::checkvalue::md5_hex(x))
            .to_uppercase(),
    )
    .to_uppercase();
    let mut signed = order.to_vec();
    signed.push(("Checkvalue", &request_cv));
    let created = t.call("/pay/payrequest.cfm", "5", &signed).await.json();
    assert_eq!(created["orderstate"], "In Process", "{created}");
    // The answers carry the merchant's check value in its variant, sealing the request's values
    // when refused.
    assert_eq!(created["checkvalue"], expected_checkvalue_a(3003, "cv-1", "100.00", "RUB", "In Process"));
    assert_eq!(created["signature"], "", "{created}");
    assert_eq!(unsigned["checkvalue"], expected_checkvalue_a(3003, "cv-1", "100.00", "RUB", "Decline"));
    let url = created["URL"].as_str().unwrap();
    assert!(url.contains(&format!("Checkvalue={request_cv}")), "the link carries a valid check value: {url}");
    let state = t.call("/orderstate/orderstate.cfm", "3", &[("OrderNumber", "cv-1")]).await;
    assert_eq!(tag(&state.body, "checkvalue"), expected_checkvalue_a(3003, "cv-1", "100.00", "RUB", "In Process"));
    assert_ne!(tag(&state.body, "checkvalue"), expected_checkvalue(3003, "cv-1", "100.00", "RUB", "In Process"));
}
