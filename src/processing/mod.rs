//! The processing center: the [`Processor`] trait and the built-in simulator.
//!
//! Kassa never calls a processor inside a database transaction: it records "sent", calls, then
//! records the answer. Every request carries Kassa's transaction id, so a processor can answer
//! a repeated request with the first answer.

pub mod faults;
mod simulator;

pub use simulator::{AuthorizationAudit, Simulator, SimulatorOptions};

use async_trait::async_trait;

use crate::card::Card;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthAnswer {
    Approved {
        reference: String,
        approval_code: String,
    },
    Declined {
        code: String,
    },
    /// 3-D Secure: the customer must pass a challenge first; `reference` identifies it.
    Challenge {
        reference: String,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    pub transaction_id: &'a str,
    pub card: &'a Card,
    pub amount: i64,
    pub currency: &'a str,
}

/// A reversal or refund of an earlier authorization.
#[derive(Debug, Clone, Copy)]
pub struct ReturnRequest<'a> {
    pub transaction_id: &'a str,
    /// Kassa's id of the authorization transaction (known even when its answer was lost).
    pub authorization: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    /// A technical reversal: the authorization's answer never reached Kassa. Card schemes accept
    /// these for every brand, Amex included, unlike a merchant's cancel.
    pub technical: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnAnswer {
    Approved { reference: String },
    Declined { code: String },
}

#[derive(Debug, Clone)]
pub struct BatchItem {
    pub transaction_id: String,
    /// Kassa's id of the authorization transaction the money was authorized by.
    pub authorization: String,
    pub amount: i64,
}

#[derive(Debug, Clone)]
pub struct BatchRequest {
    pub batch_id: String,
    pub currency: String,
    pub items: Vec<BatchItem>,
}

/// The processing center's acknowledgement of a settlement batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchAck {
    pub reference: String,
    /// Transaction ids of the items it did not accept; every other item is settled.
    pub rejected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessorError {
    #[error("the processing center is unavailable: {0}")]
    Unavailable(String),
    #[error("the processing center refused the request: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Processor: Send + Sync {
    /// The Assist `processingname` shown for orders it processed.
    fn name(&self) -> &str;

    /// May never return (a processor that does not answer): callers bound it with a timeout.
    async fn authorize(&self, request: AuthRequest<'_>) -> Result<AuthAnswer, ProcessorError>;

    /// The result of the 3-D Secure challenge `reference`.
    async fn complete_challenge(&self, reference: &str, passed: bool) -> Result<AuthAnswer, ProcessorError>;

    /// What became of an authorization whose answer Kassa never got.
    async fn authorization_status(&self, transaction_id: &str) -> Result<Option<AuthAnswer>, ProcessorError>;

    async fn reverse(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError>;

    async fn refund(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError>;

    /// Submits a batch. Repeating a batch id returns the first acknowledgement.
    async fn settle(&self, batch: &BatchRequest) -> Result<BatchAck, ProcessorError>;

    /// The acknowledgement of a batch submitted earlier, if the processor received it.
    async fn batch_status(&self, batch_id: &str) -> Result<Option<BatchAck>, ProcessorError>;
}
