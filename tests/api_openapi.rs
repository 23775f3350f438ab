//! The OpenAPI document is valid enough to use and true: it is what `/api/v1/openapi.json`
//! serves, every documented operation is answered by a handler, every method it does not
//! document is refused by the router, and every `/api/v1` path in the routing code is in it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::webservices::spawn_app_with;
use common::*;
use kassa::web::api::{OPENAPI, keys};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
}

/// Documented operations: path → methods.
fn operations(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let methods = item.as_object().unwrap().keys().filter(|m| METHODS.contains(&m.as_str())).cloned().collect();
            (path.clone(), methods)
        })
        .collect()
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_well_formed() {
    let doc = document();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()), "duplicate operationId at {path}");
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{path} {method} has no responses");
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] == "path" {
                    let name = param["name"].as_str().unwrap();
                    assert!(path.contains(&format!("{{{name}}}")), "{path}: path parameter {name} not in the path");
                }
            }
        }
    }
}

#[test]
fn every_api_path_in_the_routing_code_is_documented() {
    let code = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/api/mod.rs")).unwrap();
    let in_code: BTreeSet<String> =
        code.split('"').skip(1).step_by(2).filter(|s| s.starts_with("/api/v1")).map(str::to_owned).collect();
    assert!(in_code.len() >= 5, "{in_code:?}");
    let documented: BTreeSet<String> = operations(&document()).into_keys().collect();
    assert_eq!(in_code, documented);
}

#[tokio::test]
async fn every_documented_operation_is_served_and_nothing_else() {
    let app = spawn_app_with(|_| {}).await;
    let merchant = add_merchant(&app.gateway, 1001, |_| {}).await;
    let (_, key) = keys::create_key(&app.gateway.store, &merchant.id, "openapi test").await.unwrap();
    let order = app.gateway.create_order(request(&merchant, "doc-1", "10.00")).await.unwrap();
    let client = reqwest::Client::new();

    let served: Value =
        client.get(format!("{}/api/v1/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(served, document());

    for (path, methods) in operations(&document()) {
        let url = format!("{}{}", app.address, path.replace("{billnumber}", &order.billnumber));
        for method in METHODS {
            let r = client
                .request(method.to_uppercase().parse().unwrap(), &url)
                .bearer_auth(&key)
                .header("Content-Type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let json =
                r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("application/json"));
            if methods.contains(method) {
                assert!(json && status != 405, "{method} {path}: {status} is not a handler's answer");
            } else {
                assert!(!json && (status == 404 || status == 405), "{method} {path} is served but not documented");
            }
        }
    }
}
