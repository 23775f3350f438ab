//! A processing center that misbehaves on purpose: every call may time out, fail, answer slowly,
//! answer late (after the caller gave up, the work done) or be delivered twice, as a seeded
//! random draw decides. It wraps the simulator, whose journal stays the truth of what the
//! processing center did.
//!
//! [`MerchantFaults`] is the same for one test merchant's authorizations, as a platform admin
//! set them (`/admin/processing`), plus declines and an added latency.

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
    /// Only for authorizations of a test merchant: the processing center declines.
    Decline,
}

/// Runs `call` (twice for a duplicate) under `fault`.
async fn run<T, F, Fut>(fault: Fault, slow: Duration, call: F) -> Result<T, ProcessorError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProcessorError>>,
{
    match fault {
        Fault::None | Fault::Decline => call().await,
        Fault::LostRequest => std::future::pending().await,
        Fault::LostAnswer => {
            let _ = call().await;
            std::future::pending().await
        }
        Fault::Error => Err(ProcessorError::Unavailable("injected fault".into())),
        Fault::Slow => {
            tokio::time::sleep(slow).await;
            call().await
        }
        Fault::Duplicate => {
            let _ = call().await;
            call().await
        }
    }
}

/// The simulator's behaviour for one test merchant, set by a platform admin at
/// `/admin/processing` and read at each payment: latency added to every authorization call,
/// and the percent of authorizations that meet each fault (at most 100 together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MerchantFaults {
    pub latency: Duration,
    /// The request never reaches the processing center: Kassa times out and reverses.
    pub timeout_pct: u8,
    /// The authorization is made but its answer comes after Kassa gave up (never, here): Kassa
    /// times out and reverses it.
    pub late_answer_pct: u8,
    /// The processing center answers with an error (unavailable) before doing anything.
    pub error_pct: u8,
    /// The processing center declines (`AS100`) whatever the card.
    pub decline_pct: u8,
    /// The request is delivered twice; the processing center must answer the same.
    pub duplicate_pct: u8,
}

impl MerchantFaults {
    /// Whether it changes anything at all.
    pub fn is_calm(&self) -> bool {
        *self == MerchantFaults::default()
    }

    /// The fault for a draw `x` in `0..100`.
    fn fault(&self, x: u8) -> Fault {
        let mut edge = 0u16;
        for (pct, fault) in [
            (self.timeout_pct, Fault::LostRequest),
            (self.late_answer_pct, Fault::LostAnswer),
            (self.error_pct, Fault::Error),
            (self.decline_pct, Fault::Decline),
            (self.duplicate_pct, Fault::Duplicate),
        ] {
            edge += u16::from(pct);
            if u16::from(x) < edge {
                return fault;
            }
        }
        Fault::None
    }

    fn draw(&self) -> Fault {
        self.fault(rand::random_range(0..100))
    }

    async fn delay(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }

    /// An authorization through `processor` under these options.
    pub async fn authorize(
        &self,
        processor: &dyn Processor,
        request: AuthRequest<'_>,
    ) -> Result<AuthAnswer, ProcessorError> {
        self.delay().await;
        let r = &request;
        match self.draw() {
            Fault::Decline => Ok(AuthAnswer::Declined { code: crate::assist::codes::DECLINED.into() }),
            fault => run(fault, Duration::ZERO, || processor.authorize(AuthRequest { ..*r })).await,
        }
    }

    /// The end of a 3-D Secure challenge through `processor` under these options.
    pub async fn complete_challenge(
        &self,
        processor: &dyn Processor,
        reference: &str,
        passed: bool,
    ) -> Result<AuthAnswer, ProcessorError> {
        self.delay().await;
        match self.draw() {
            Fault::Decline => Ok(AuthAnswer::Declined { code: crate::assist::codes::DECLINED.into() }),
            fault => run(fault, Duration::ZERO, || processor.complete_challenge(reference, passed)).await,
        }
    }
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
        run(self.draw(), self.slow, call).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_split_the_draws() {
        let f = MerchantFaults { timeout_pct: 10, error_pct: 20, decline_pct: 70, ..MerchantFaults::default() };
        assert_eq!(f.fault(0), Fault::LostRequest);
        assert_eq!(f.fault(9), Fault::LostRequest);
        assert_eq!(f.fault(10), Fault::Error);
        assert_eq!(f.fault(30), Fault::Decline);
        assert_eq!(f.fault(99), Fault::Decline);
        let none = MerchantFaults::default();
        assert!((0..100).all(|x| none.fault(x) == Fault::None));
        let all = MerchantFaults { error_pct: 100, ..MerchantFaults::default() };
        assert!((0..100).all(|x| all.fault(x) == Fault::Error));
    }
}
