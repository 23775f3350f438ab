//! The background worker: delivers the outbox (Assist notifications, webhooks, e-mail),
//! settles after each cut-off of the schedule kept in the database (`schedule`), expires unpaid
//! orders, applies confirmation deadlines and recovers transactions whose answer was lost. Runs
//! inside `kassa serve` or alone as `kassa worker`; several workers may share one PostgreSQL
//! database.

pub mod claim;
mod deadline;
mod deliver;
pub mod guard;
mod lease;
pub mod mail;
pub mod notify;
pub mod schedule;
pub mod webhook;

use std::time::Duration;

use crate::config::Config;
use crate::gateway::Gateway;

pub use deadline::{apply_deadlines, near_deadline};
pub use lease::claim_job;

/// One worker process's jobs and the tools they use.
pub struct Worker {
    pub gateway: Gateway,
    pub config: Config,
    pub id: String,
    client: reqwest::Client,
    mailer: std::sync::Arc<mail::Mailer>,
}

/// How often the outbox is polled: a new message goes out within this time.
const POLL: Duration = Duration::from_millis(500);

impl Worker {
    pub fn new(gateway: Gateway, config: Config) -> anyhow::Result<Worker> {
        let client = guard::client(Duration::from_secs(config.outbound_timeout_secs), config.outbound_allow_internal);
        let mailer = std::sync::Arc::new(mail::Mailer::from_config(&config)?);
        let id = format!("{}-{}", std::process::id(), &crate::db::new_id()[..8]);
        Ok(Worker { gateway, config, id, client, mailer })
    }

    /// Runs until the process stops. Every job is safe to repeat, so errors are logged and the
    /// job simply runs again at its next turn.
    pub async fn run(self) {
        let maintenance = Duration::from_secs(self.config.worker_interval_secs);
        let mut last_maintenance: Option<tokio::time::Instant> = None;
        loop {
            if last_maintenance.is_none_or(|t| t.elapsed() >= maintenance) {
                self.maintain().await;
                last_maintenance = Some(tokio::time::Instant::now());
            }
            match self.deliver_due().await {
                Ok(0) => tokio::time::sleep(POLL).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "outbox delivery failed");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Recovery, expiry, deadlines, and settlement when its cut-off has come.
    pub async fn maintain(&self) {
        let g = &self.gateway;
        // Anything `sent` for twice the processor timeout lost its answer.
        match g.recover(g.processor_timeout * 2).await {
            Ok(r) if r == Default::default() => {}
            Ok(r) => tracing::info!(?r, "recovered transactions"),
            Err(e) => tracing::error!(error = %e, "recovery failed"),
        }
        match g.expire().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "expired unpaid orders"),
            Err(e) => tracing::error!(error = %e, "expiry failed"),
        }
        match apply_deadlines(g).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(orders = n, "applied confirmation deadlines"),
            Err(e) => tracing::error!(error = %e, "confirmation deadlines failed"),
        }
        match crate::web::account::sweep(&g.store).await {
            Ok(s) if s == Default::default() => {}
            Ok(s) => tracing::info!(?s, "swept ended account sessions"),
            Err(e) => tracing::error!(error = %e, "account sweep failed"),
        }
        // The schedule is read from the database at every turn: an admin's change applies at once.
        match schedule::settle_if_due(g, &self.id, crate::db::now(), false).await {
            Ok(Some(r)) => tracing::info!(?r, "settlement run"),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "settlement failed"),
        }
    }
}

/// Runs the worker in the background of `kassa serve`.
pub fn spawn(gateway: Gateway, config: Config) -> anyhow::Result<()> {
    let worker = Worker::new(gateway, config)?;
    tokio::spawn(worker.run());
    Ok(())
}
