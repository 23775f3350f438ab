//! Builds Kassa from a [`Config`]: the one path `main` and every integration test take.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};

use crate::assist::gateway_key::GatewayKey;
use crate::config::Config;
use crate::db::{Store, StoreOptions};
use crate::gateway::Gateway;
use crate::processing::{Simulator, SimulatorOptions};

/// Shared by every handler.
pub struct AppState {
    pub config: Config,
    pub gateway: Gateway,
}

pub struct Application {
    port: u16,
    server: Server,
    pub gateway: Gateway,
}

/// Opens the database (applying migrations) and the processing center.
pub fn open_gateway(config: &Config) -> anyhow::Result<Gateway> {
    let options = StoreOptions { pool_size: config.pool_size, ..StoreOptions::default() };
    let store = Store::open(&config.database_url, options)?;
    std::fs::create_dir_all(&config.data_dir)?;
    let simulator = Simulator::new(SimulatorOptions {
        journal: Some(config.data_dir.join("simulator.journal")),
        ..SimulatorOptions::default()
    })?;
    let gateway = Gateway::new(store, Arc::new(simulator), Duration::from_secs(config.processor_timeout_secs));
    match &config.signing_key_file {
        None => Ok(gateway),
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read signing_key_file {}: {e}", path.display()))?;
            let key =
                GatewayKey::from_pem(&pem).map_err(|e| anyhow::anyhow!("signing_key_file {}: {e}", path.display()))?;
            Ok(gateway.with_signing_key(key))
        }
    }
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and builds the server; nothing runs until
    /// [`Application::run_until_stopped`].
    pub fn build(config: Config, gateway: Gateway) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&config.listen)?;
        let port = listener.local_addr()?.port();
        // One set of rate-limit buckets for all workers.
        let protection = web::Data::new(crate::web::protection::Protection::new(config.rate_limit_per_minute));
        let state = web::Data::new(AppState { config, gateway: gateway.clone() });
        let server = HttpServer::new(move || {
            App::new().app_data(state.clone()).app_data(protection.clone()).configure(crate::web::routes)
        })
        .listen(listener)?
        .run();
        Ok(Application { port, server, gateway })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
