//! A crash between "authorization sent" and "answer recorded" loses nothing: recovery asks the
//! processing center and applies what it says.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use kassa::domain::{OrderState, TransactionKind, TransactionState};
use kassa::gateway::{Gateway, PayRequest};
use kassa::processing::*;

/// The simulator, except that the first authorization "crashes" Kassa right after the
/// processor approved it: the pay call never gets the answer.
struct CrashAfterAuthorize {
    inner: Simulator,
    crashed: AtomicBool,
}

#[async_trait]
impl Processor for CrashAfterAuthorize {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn authorize(&self, request: AuthRequest<'_>) -> Result<AuthAnswer, ProcessorError> {
        let answer = self.inner.authorize(request).await;
        if !self.crashed.swap(true, Ordering::SeqCst) {
            panic!("simulated crash after the processor approved");
        }
        answer
    }
    async fn complete_challenge(&self, r: &str, passed: bool) -> Result<AuthAnswer, ProcessorError> {
        self.inner.complete_challenge(r, passed).await
    }
    async fn authorization_status(&self, id: &str) -> Result<Option<AuthAnswer>, ProcessorError> {
        self.inner.authorization_status(id).await
    }
    async fn reverse(&self, r: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        self.inner.reverse(r).await
    }
    async fn refund(&self, r: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        self.inner.refund(r).await
    }
    async fn settle(&self, b: &BatchRequest) -> Result<BatchAck, ProcessorError> {
        self.inner.settle(b).await
    }
    async fn batch_status(&self, id: &str) -> Result<Option<BatchAck>, ProcessorError> {
        self.inner.batch_status(id).await
    }
}

#[tokio::test]
async fn an_approval_lost_in_a_crash_is_recovered() {
    let t = spawn_gateway().await;
    let processor = CrashAfterAuthorize {
        inner: Simulator::new(SimulatorOptions::default()).unwrap(),
        crashed: AtomicBool::new(false),
    };
    let crashing = Gateway::new(t.gateway.store.clone(), Arc::new(processor), PROCESSOR_TIMEOUT);
    let order = t.create("crash-1", "42.00", true).await;
    let id = order.id.clone();
    let g = crashing.clone();
    let crashed =
        tokio::spawn(async move { g.pay(&id, PayRequest { card: card("4111111111111111"), client_ip: None }).await })
            .await;
    assert!(crashed.is_err(), "the pay task died");
    let stuck = t.reload(&order).await;
    assert_eq!(stuck.state(), OrderState::InProcess);
    let auth = t.transactions(&order).await.into_iter().find(|t| t.kind() == TransactionKind::Authorization).unwrap();
    assert_eq!(auth.state(), TransactionState::Sent);
    // While it is in flight, a second payment is refused and expiry leaves it alone.
    let again = crashing.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await;
    assert_eq!(again.unwrap_err().code(), "payment_in_progress");

    let report = crashing.recover(Duration::ZERO).await.unwrap();
    assert_eq!(report.authorizations, 1);
    let order = t.reload(&order).await;
    assert_eq!((order.state(), order.authorized), (OrderState::Delayed, 4_200));
    assert_eq!(crashing.recover(Duration::ZERO).await.unwrap(), Default::default(), "nothing left to recover");
}

#[tokio::test]
async fn an_authorization_the_processor_never_got_is_declined() {
    let t = spawn_gateway().await;
    let order = t.create("crash-2", "10.00", false).await;
    // Record "sent" exactly as pay does, then die before calling the processor.
    let processor = CrashBeforeAuthorize;
    let crashing = Gateway::new(t.gateway.store.clone(), Arc::new(processor), PROCESSOR_TIMEOUT);
    let id = order.id.clone();
    let g = crashing.clone();
    let _ =
        tokio::spawn(async move { g.pay(&id, PayRequest { card: card("4111111111111111"), client_ip: None }).await })
            .await;
    let report = t.gateway.recover(Duration::ZERO).await.unwrap();
    assert_eq!(report.authorizations, 1);
    let order = t.reload(&order).await;
    assert_eq!(order.state(), OrderState::Declined);
    // The order number can be paid in a new attempt.
    let retry = t.create("crash-2", "10.00", false).await;
    assert_eq!(t.pay(&retry, "4111111111111111").await.order.state(), OrderState::Approved);
}

struct CrashBeforeAuthorize;

#[async_trait]
impl Processor for CrashBeforeAuthorize {
    fn name(&self) -> &str {
        "crash"
    }
    async fn authorize(&self, _: AuthRequest<'_>) -> Result<AuthAnswer, ProcessorError> {
        panic!("simulated crash before the request left")
    }
    async fn complete_challenge(&self, _: &str, _: bool) -> Result<AuthAnswer, ProcessorError> {
        unreachable!()
    }
    async fn authorization_status(&self, _: &str) -> Result<Option<AuthAnswer>, ProcessorError> {
        Ok(None)
    }
    async fn reverse(&self, _: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        unreachable!()
    }
    async fn refund(&self, _: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        unreachable!()
    }
    async fn settle(&self, _: &BatchRequest) -> Result<BatchAck, ProcessorError> {
        unreachable!()
    }
    async fn batch_status(&self, _: &str) -> Result<Option<BatchAck>, ProcessorError> {
        unreachable!()
    }
}
