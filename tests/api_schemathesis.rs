//! Schemathesis against the live OpenAPI document: generated requests (valid and invalid) must
//! never get a 5xx and must conform to the document. Runs when `KASSA_PYTHON` points to a
//! Python with `schemathesis` installed (`pip install schemathesis`); skipped otherwise.

mod common;

use common::webservices::spawn_app_with;
use common::*;
use kassa::web::api::keys;

/// Examples per operation: enough to find crashes, bounded for CI time.
const MAX_EXAMPLES: &str = "30";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error() {
    let Some(python) = std::env::var("KASSA_PYTHON").ok().filter(|p| !p.is_empty()) else {
        eprintln!("skipped: set KASSA_PYTHON to a python with schemathesis installed to run it");
        return;
    };
    // No rate limit: schemathesis sends bursts, and 429 is not what is under test here.
    let app = spawn_app_with(|c| c.rate_limit_per_minute = 0).await;
    let merchant = add_merchant(&app.gateway, 1001, |_| {}).await;
    let (_, key) = keys::create_key(&app.gateway.store, &merchant.id, "schemathesis").await.unwrap();
    // Some orders to find, in several states, so that path operations reach their handlers.
    for i in 0..3 {
        let order =
            app.gateway.create_order(two_stage(request(&merchant, &format!("st-{i}"), "100.00"))).await.unwrap();
        if i > 0 {
            app.gateway
                .pay(&order.id, kassa::gateway::PayRequest { card: card("4111111111111111"), client_ip: None })
                .await
                .unwrap();
        }
    }
    let schema = format!("{}/api/v1/openapi.json", app.address);
    let report = app.db.dir().join("schemathesis.xml");
    let args = vec![
        "-c".to_owned(),
        "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())"
            .to_owned(),
        "run".into(),
        schema,
        "--header".into(),
        format!("Authorization: Bearer {key}"),
        "--checks".into(),
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--phases".into(),
        "examples,coverage,fuzzing,stateful".into(),
        "--generation-database".into(),
        "none".into(),
        "--seed".into(),
        "20261203".into(),
        "--no-color".into(),
        "--report".into(),
        "junit".into(),
        "--report-junit-path".into(),
        report.display().to_string(),
    ];
    // Schemathesis keeps a cache in its working directory: keep it out of the repository.
    let cwd = app.db.dir().to_path_buf();
    let output =
        tokio::task::spawn_blocking(move || std::process::Command::new(python).args(args).current_dir(cwd).output())
            .await
            .unwrap()
            .expect("run KASSA_PYTHON");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    assert!(output.status.success(), "schemathesis failed:\n{stdout}\n{stderr}");
}
