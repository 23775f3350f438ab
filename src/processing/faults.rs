//! A processing center that misbehaves on purpose: every call may time out, fail, answer slowly,
//! answer late (after the caller gave up, the work done) or be delivered twice, as a seeded
//! random draw decides. It wraps the simulator, whose journal stays the truth of what the
//! processing center did.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

#[derive(Debug, Clone, Copy)]
pub struct FaultRates {
    /// The request never arrives; the caller times out.
    pub lost_request: f64,
    /// The request is processed but the answer never arrives.
    pub lost_answer: f64,
    /// The processor answers with an error before doing anything.
    pub error: f64,
    /// The answer takes `slow` (within the caller's timeout).
    pub slow: f64,
    /// The request is delivered twice (the processor must answer the same).
    pub duplicate: f64,
}

impl FaultRates {
    pub fn uniform(rate: f64) -> FaultRates {
        FaultRates { lost_request: rate, lost_answer: rate, error: rate, slow: rate, duplicate: rate }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    LostRequest,
    LostAnswer,
    Error,
    Slow,
    Duplicate,
}

pub struct Faulty<P> {
    inner: P,
    rates: FaultRates,
    slow: Duration,
    rng: Mutex<StdRng>,
    calm: std::sync::atomic::AtomicBool,
}

impl<P: Processor> Faulty<P> {
    pub fn new(inner: P, rates: FaultRates, slow: Duration, seed: u64) -> Faulty<P> {
        Faulty { inner, rates, slow, rng: Mutex::new(StdRng::seed_from_u64(seed)), calm: false.into() }
    }

    /// From now on, behave (to let recovery finish).
    pub fn calm_down(&self) {
        self.calm.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    fn draw(&self) -> Fault {
        if self.calm.load(std::sync::atomic::Ordering::SeqCst) {
            return Fault::None;
        }
        let x: f64 = self.rng.lock().unwrap_or_else(|p| p.into_inner()).random();
        let r = self.rates;
        let mut edge = 0.0;
        for (rate, fault) in [
            (r.lost_request, Fault::LostRequest),
            (r.lost_answer, Fault::LostAnswer),
            (r.error, Fault::Error),
            (r.slow, Fault::Slow),
            (r.duplicate, Fault::Duplicate),
        ] {
            edge += rate;
            if x < edge {
                return fault;
            }
        }
        Fault::None
    }

    /// Runs `call` (twice for a duplicate) under the drawn fault.
    async fn with_fault<T, F, Fut>(&self, call: F) -> Result<T, ProcessorError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ProcessorError>>,
    {
        match self.draw() {
            Fault::None => call().await,
            Fault::LostRequest => std::future::pending().await,
            Fault::LostAnswer => {
                let _ = call().await;
                std::future::pending().await
            }
            Fault::Error => Err(ProcessorError::Unavailable("injected fault".into())),
            Fault::Slow => {
                tokio::time::sleep(self.slow).await;
                call().await
            }
            Fault::Duplicate => {
                let _ = call().await;
                call().await
            }
        }
    }
}

#[async_trait]
impl<P: Processor> Processor for Faulty<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn authorize(&self, request: AuthRequest<'_>) -> Result<AuthAnswer, ProcessorError> {
        let r = &request;
        self.with_fault(|| self.inner.authorize(AuthRequest { ..*r })).await
    }

    async fn complete_challenge(&self, reference: &str, passed: bool) -> Result<AuthAnswer, ProcessorError> {
        self.with_fault(|| self.inner.complete_challenge(reference, passed)).await
    }

    async fn authorization_status(&self, transaction_id: &str) -> Result<Option<AuthAnswer>, ProcessorError> {
        self.with_fault(|| self.inner.authorization_status(transaction_id)).await
    }

    async fn reverse(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        let r = &request;
        self.with_fault(|| self.inner.reverse(ReturnRequest { ..*r })).await
    }

    async fn refund(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        let r = &request;
        self.with_fault(|| self.inner.refund(ReturnRequest { ..*r })).await
    }

    async fn settle(&self, batch: &BatchRequest) -> Result<BatchAck, ProcessorError> {
        self.with_fault(|| self.inner.settle(batch)).await
    }

    async fn batch_status(&self, batch_id: &str) -> Result<Option<BatchAck>, ProcessorError> {
        self.with_fault(|| self.inner.batch_status(batch_id)).await
    }
}
