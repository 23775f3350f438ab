//! Background jobs: recovery of unanswered transactions, expiry of unpaid orders and
//! settlement, run on a fixed interval.

use std::time::Duration;

use crate::gateway::Gateway;

/// Runs the jobs every `interval` until the process stops. Errors are logged and retried at
/// the next run: every job is safe to repeat.
pub async fn run(gateway: Gateway, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        run_once(&gateway).await;
    }
}

pub async fn run_once(gateway: &Gateway) {
    // Anything `sent` for twice the processor timeout lost its answer.
    match gateway.recover(gateway.processor_timeout * 2).await {
        Ok(r) if r == Default::default() => {}
        Ok(r) => tracing::info!(?r, "recovered transactions"),
        Err(e) => tracing::error!(error = %e, "recovery failed"),
    }
    match gateway.expire().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(orders = n, "expired unpaid orders"),
        Err(e) => tracing::error!(error = %e, "expiry failed"),
    }
    match gateway.settle().await {
        Ok(r) if r.batches == 0 && r.refunds_sent == 0 => {}
        Ok(r) => tracing::info!(?r, "settlement run"),
        Err(e) => tracing::error!(error = %e, "settlement failed"),
    }
}
