//! Shared test set-up: a fresh database per test (a SQLite file, or a new PostgreSQL database
//! when `KASSA_TEST_DATABASE_URL` is set), built through the same code as `main`.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use kassa::card::{Card, CardNumber, Cvc, Expiry};
use kassa::config::Config;
use kassa::db::models::{Enterprise, EnterpriseId, Merchant, Order};
use kassa::db::schema::{enterprises, merchants, orders};
use kassa::db::{Store, StoreOptions};
use kassa::gateway::{Gateway, OrderRequest, PayOutcome, PayRequest, setup};
use kassa::processing::{Simulator, SimulatorOptions};
use kassa::startup::Application;

pub const SECRET: &str = "test-secret-word";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match std::env::var("KASSA_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => {
                let name = format!("kassa_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&base).expect("connect to KASSA_TEST_DATABASE_URL");
                diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).expect("create database");
                // Keep the query (e.g. `?sslmode=disable`) and replace only the database name.
                let (address, query) = base.split_once('?').map_or((base.as_str(), ""), |(a, q)| (a, q));
                let (prefix, _) = address.rsplit_once('/').expect("database url with a database name");
                let query = if query.is_empty() { String::new() } else { format!("?{query}") };
                TestDb { url: format!("{prefix}/{name}{query}"), _dir: dir, pg: Some((base, name)) }
            }
            _ => {
                let url = format!("sqlite://{}", dir.path().join("kassa.db").display());
                TestDb { url, _dir: dir, pg: None }
            }
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg
            && let Ok(mut admin) = PgConnection::establish(base)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

pub struct TestGateway {
    pub gateway: Gateway,
    pub merchant: Merchant,
    pub db: TestDb,
}

/// The processor timeout tests use: longer than the slow card's 2 s, so it is approved.
pub const PROCESSOR_TIMEOUT: Duration = Duration::from_secs(3);

pub fn gateway_on(db: &TestDb) -> Gateway {
    let store = Store::open(&db.url, StoreOptions { pool_size: 8, ..StoreOptions::default() }).expect("open store");
    let simulator = Simulator::new(SimulatorOptions {
        journal: Some(db.dir().join("simulator.journal")),
        ..SimulatorOptions::default()
    })
    .expect("simulator");
    Gateway::new(store, Arc::new(simulator), PROCESSOR_TIMEOUT)
}

/// A gateway on a fresh database with one test-mode merchant (number 1001).
pub async fn spawn_gateway() -> TestGateway {
    let db = TestDb::new();
    let gateway = gateway_on(&db);
    let merchant = add_merchant(&gateway, 1001, |_| {}).await;
    TestGateway { gateway, merchant, db }
}

pub async fn add_merchant(gateway: &Gateway, number: i64, adjust: impl FnOnce(&mut Merchant)) -> Merchant {
    let enterprise =
        Enterprise { id: EnterpriseId::new(), name: format!("Enterprise {number}"), created_at: kassa::db::now() };
    let mut merchant = setup::new_merchant(&enterprise.id, number, &format!("Shop {number}"), SECRET);
    adjust(&mut merchant);
    let m = merchant.clone();
    gateway
        .store
        .write(move |c| {
            diesel::insert_into(enterprises::table).values(&enterprise).execute(c)?;
            diesel::insert_into(merchants::table).values(&m).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .expect("insert merchant");
    merchant
}

pub fn request(merchant: &Merchant, order_number: &str, amount: &str) -> OrderRequest {
    OrderRequest {
        merchant_id: merchant.merchant_number.to_string(),
        order_number: order_number.into(),
        order_amount: amount.into(),
        order_currency: Some("RUB".into()),
        ..OrderRequest::default()
    }
}

pub fn two_stage(mut r: OrderRequest) -> OrderRequest {
    r.delay = Some("1".into());
    r
}

pub fn card(number: &str) -> Card {
    let number = CardNumber::parse(number).expect("valid test card");
    let cvc =
        Cvc::parse(if number.brand() == kassa::card::Brand::Amex { "1234" } else { "123" }, number.brand()).unwrap();
    Card { number, expiry: Expiry::parse("12", "2030").unwrap(), cvc, holder: "IVAN PETROV".into() }
}

impl TestGateway {
    pub async fn create(&self, order_number: &str, amount: &str, delay: bool) -> Order {
        let r = request(&self.merchant, order_number, amount);
        let r = if delay { two_stage(r) } else { r };
        self.gateway.create_order(r).await.expect("create order")
    }

    pub async fn pay(&self, order: &Order, number: &str) -> PayOutcome {
        self.gateway.pay(&order.id, PayRequest { card: card(number), client_ip: None }).await.expect("pay")
    }

    /// A paid order: created and approved with a Visa test card.
    pub async fn paid(&self, order_number: &str, amount: &str, delay: bool, number: &str) -> Order {
        let order = self.create(order_number, amount, delay).await;
        self.pay(&order, number).await.order
    }

    pub async fn reload(&self, order: &Order) -> Order {
        let id = order.id.clone();
        self.gateway.store.read(move |c| Order::find(c, &id).map_err(kassa::db::StoreError::from)).await.unwrap()
    }

    pub async fn count_orders(&self) -> i64 {
        self.gateway
            .store
            .read(|c| orders::table.count().get_result::<i64>(c).map_err(kassa::db::StoreError::from))
            .await
            .unwrap()
    }

    pub async fn transactions(&self, order: &Order) -> Vec<kassa::db::models::Transaction> {
        let id = order.id.clone();
        self.gateway
            .store
            .read(move |c| kassa::db::models::Transaction::of_order(c, &id).map_err(kassa::db::StoreError::from))
            .await
            .unwrap()
    }

    pub async fn operations(&self, order: &Order) -> Vec<kassa::db::models::Operation> {
        let id = order.id.clone();
        self.gateway
            .store
            .read(move |c| kassa::db::models::Operation::of_order(c, &id).map_err(kassa::db::StoreError::from))
            .await
            .unwrap()
    }
}

/// The whole application over HTTP on a random port.
pub struct TestApp {
    pub address: String,
    pub gateway: Gateway,
    pub db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new();
    let mut config = Config::load(None, Vec::new()).unwrap();
    config.listen = "127.0.0.1:0".into();
    config.database_url = db.url.clone();
    config.data_dir = db.dir().to_path_buf();
    let gateway = gateway_on(&db);
    let app = Application::build(config, gateway.clone()).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp { address, gateway, db }
}
pub mod account;
pub mod admin;
pub mod browser;
pub mod checkout;
pub mod webservices;

/// Every order and every transaction with the processing center, to hold against the
/// simulator's journal.
pub async fn orders_and_transactions(store: &Store) -> (Vec<Order>, Vec<kassa::db::models::Transaction>) {
    use kassa::db::schema::transactions;
    store
        .read(|c| {
            let o = orders::table.select(Order::as_select()).load(c)?;
            let t = transactions::table.select(kassa::db::models::Transaction::as_select()).load(c)?;
            Ok::<_, kassa::db::StoreError>((o, t))
        })
        .await
        .unwrap()
}

/// The order of each authorization, by the authorization's id (the simulator's `transaction_id`).
pub fn order_of_authorization<'a>(
    orders: &'a [Order],
    txns: &[kassa::db::models::Transaction],
) -> std::collections::HashMap<String, &'a Order> {
    let order_of: std::collections::HashMap<&str, &Order> = orders.iter().map(|o| (o.id.0.as_str(), o)).collect();
    txns.iter()
        .filter(|t| t.kind() == kassa::domain::TransactionKind::Authorization)
        .map(|t| (t.id.0.clone(), order_of[t.order_id.0.as_str()]))
        .collect()
}

/// One entry of the audit log, as a test reads it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_kind: String,
    pub actor: String,
    pub order_id: Option<String>,
    pub outcome: String,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

/// The audit log's entries of `action`, oldest first.
pub async fn audit_entries(store: &Store, action: &'static str) -> Vec<AuditEntry> {
    use kassa::db::schema::audit_events as a;
    type Row = (String, String, Option<String>, String, String, Option<String>);
    let rows: Vec<Row> = store
        .read(move |c| {
            a::table
                .filter(a::action.eq(action))
                .order((a::created_at.asc(), a::id.asc()))
                .select((a::actor_kind, a::actor, a::order_id, a::outcome, a::detail, a::ip))
                .load(c)
                .map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap();
    rows.into_iter()
        .map(|(actor_kind, actor, order_id, outcome, detail, ip)| AuditEntry {
            actor_kind,
            actor,
            order_id,
            outcome,
            detail: serde_json::from_str(&detail).unwrap(),
            ip,
        })
        .collect()
}

/// The id of the user signed in as `login`.
pub async fn user_id(app: &TestApp, login: &str) -> String {
    use kassa::db::schema::users;
    let login = login.to_owned();
    app.gateway
        .store
        .read(move |c| {
            users::table.filter(users::login.eq(login)).select(users::id).first(c).map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap()
}
