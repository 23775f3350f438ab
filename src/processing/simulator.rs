//! The built-in processing-center simulator. Outcomes follow the card number exactly as
//! `reference/test-cards.md` lists them. It remembers what it was told (in memory, and in an
//! append-only journal file when given one) so that repeated requests get the first answer
//! and refunds and settlements work across Kassa restarts.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::*;
use crate::assist::codes;
use crate::card::Brand;

/// What a test card does (`reference/test-cards.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Behaviour {
    Approve,
    /// The numeric part of the `AS` response code.
    Decline(u16),
    ThreeDs {
        approve_after: bool,
    },
    NoAnswer,
    RejectInSettlement,
    RefundFails,
    Slow,
}

fn behaviour(pan: &str) -> Behaviour {
    match pan {
        "4000000000000002" => Behaviour::Decline(100),
        "4000000000009995" => Behaviour::Decline(102),
        "4000000000000069" => Behaviour::Decline(104),
        "4000000000000127" => Behaviour::Decline(101),
        "4000000000000077" => Behaviour::Decline(108),
        "4000000000000119" => Behaviour::Decline(998),
        "4000000000003220" => Behaviour::ThreeDs { approve_after: true },
        "4000008400001629" => Behaviour::ThreeDs { approve_after: false },
        "4000000000000341" => Behaviour::NoAnswer,
        "4000000000000259" => Behaviour::RejectInSettlement,
        "4000000000005126" => Behaviour::RefundFails,
        "4000000000007775" => Behaviour::Slow,
        _ => Behaviour::Approve,
    }
}

#[derive(Debug, Clone)]
pub struct SimulatorOptions {
    /// Append-only journal; `None` keeps everything in memory only.
    pub journal: Option<PathBuf>,
    /// Added to every call, to model a remote processing center.
    pub latency: Duration,
    /// How long the slow test card takes.
    pub slow_card_delay: Duration,
}

impl Default for SimulatorOptions {
    fn default() -> Self {
        SimulatorOptions { journal: None, latency: Duration::ZERO, slow_card_delay: Duration::from_secs(2) }
    }
}

/// One journal line; replayed in order at start.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Entry {
    Authorization {
        transaction_id: String,
        reference: String,
        behaviour: Behaviour,
        brand: String,
        outcome: Outcome,
        #[serde(default)]
        amount: i64,
    },
    Challenge {
        reference: String,
        outcome: Outcome,
    },
    Return {
        transaction_id: String,
        reference: String,
        approved: bool,
        #[serde(default)]
        authorization: String,
        #[serde(default)]
        amount: i64,
        #[serde(default)]
        refund: bool,
    },
    /// `items` lets an audit see that no transaction was ever settled twice.
    Batch {
        batch_id: String,
        reference: String,
        rejected: Vec<String>,
        #[serde(default)]
        items: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Outcome {
    Approved,
    Declined(u16),
    ChallengePending,
}

#[derive(Debug, Clone)]
struct Authorization {
    transaction_id: String,
    amount: i64,
    reversed: i64,
    refunded: i64,
    behaviour: Behaviour,
    brand: String,
    outcome: Outcome,
}

#[derive(Default)]
struct State {
    by_transaction: HashMap<String, String>,
    authorizations: HashMap<String, Authorization>,
    returns: HashMap<String, ReturnAnswer>,
    batches: HashMap<String, BatchAck>,
    journal: Option<File>,
}

impl State {
    fn apply(&mut self, entry: &Entry) {
        match entry {
            Entry::Authorization { transaction_id, reference, behaviour, brand, outcome, amount } => {
                self.by_transaction.insert(transaction_id.clone(), reference.clone());
                let auth = Authorization {
                    transaction_id: transaction_id.clone(),
                    amount: *amount,
                    reversed: 0,
                    refunded: 0,
                    behaviour: *behaviour,
                    brand: brand.clone(),
                    outcome: *outcome,
                };
                self.authorizations.insert(reference.clone(), auth);
            }
            Entry::Challenge { reference, outcome } => {
                if let Some(a) = self.authorizations.get_mut(reference) {
                    a.outcome = *outcome;
                }
            }
            Entry::Return { transaction_id, reference, approved, authorization, amount, refund } => {
                let auth = self.by_transaction.get(authorization).and_then(|r| self.authorizations.get_mut(r));
                if let (true, Some(auth)) = (*approved, auth) {
                    if *refund {
                        auth.refunded += amount;
                    } else {
                        auth.reversed += amount;
                    }
                }
                let answer = if *approved {
                    ReturnAnswer::Approved { reference: reference.clone() }
                } else {
                    ReturnAnswer::Declined { code: codes::DECLINED.into() }
                };
                self.returns.insert(transaction_id.clone(), answer);
            }
            Entry::Batch { batch_id, reference, rejected, .. } => {
                self.batches
                    .insert(batch_id.clone(), BatchAck { reference: reference.clone(), rejected: rejected.clone() });
            }
        }
    }

    fn record(&mut self, entry: Entry) -> Result<(), ProcessorError> {
        if let Some(file) = &mut self.journal {
            let mut line = serde_json::to_string(&entry).map_err(|e| ProcessorError::Unavailable(e.to_string()))?;
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|_| file.sync_data())
                .map_err(|e| ProcessorError::Unavailable(format!("simulator journal: {e}")))?;
        }
        self.apply(&entry);
        Ok(())
    }
}

pub struct Simulator {
    options: SimulatorOptions,
    state: Mutex<State>,
}

impl Simulator {
    pub fn new(options: SimulatorOptions) -> std::io::Result<Simulator> {
        let mut state = State::default();
        if let Some(path) = &options.journal {
            let mut torn = false;
            if let Ok(file) = File::open(path) {
                for line in BufReader::new(file).split(b'\n') {
                    let line = line?;
                    // A torn last line (killed mid-write) was never acknowledged: skip it.
                    match serde_json::from_slice::<Entry>(&line) {
                        Ok(entry) => {
                            state.apply(&entry);
                            torn = false;
                        }
                        Err(_) => torn = !line.is_empty(),
                    }
                }
            }
            let mut file = OpenOptions::new().create(true).append(true).open(path)?;
            if torn {
                // End the torn line, so that the next entry starts a line of its own.
                file.write_all(b"\n")?;
            }
            state.journal = Some(file);
        }
        Ok(Simulator { options, state: Mutex::new(state) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn latency(&self) {
        if !self.options.latency.is_zero() {
            tokio::time::sleep(self.options.latency).await;
        }
    }

    fn answer(reference: &str, outcome: Outcome) -> AuthAnswer {
        match outcome {
            Outcome::Approved => {
                AuthAnswer::Approved { reference: reference.to_owned(), approval_code: approval_code(reference) }
            }
            Outcome::Declined(code) => AuthAnswer::Declined { code: format!("AS{code:03}") },
            Outcome::ChallengePending => AuthAnswer::Challenge { reference: reference.to_owned() },
        }
    }

    fn do_return(&self, request: ReturnRequest<'_>, refund: bool) -> Result<ReturnAnswer, ProcessorError> {
        let mut state = self.state();
        if let Some(answer) = state.returns.get(request.transaction_id) {
            return Ok(answer.clone());
        }
        let auth = state
            .by_transaction
            .get(request.authorization)
            .and_then(|reference| state.authorizations.get(reference))
            .cloned()
            .ok_or_else(|| ProcessorError::Refused(format!("unknown authorization {}", request.authorization)))?;
        let approved = auth.outcome == Outcome::Approved
            && if refund {
                auth.behaviour != Behaviour::RefundFails
            } else {
                // A merchant's cancel of Amex is never a reversal, only a refund.
                request.technical || auth.brand != Brand::Amex.name()
            };
        let reference = new_reference();
        state.record(Entry::Return {
            transaction_id: request.transaction_id.into(),
            reference,
            approved,
            authorization: request.authorization.into(),
            amount: request.amount,
            refund,
        })?;
        Ok(state.returns[request.transaction_id].clone())
    }
}

/// What the processing center holds for one authorization: the auditor's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationAudit {
    /// Kassa's id of the authorization transaction.
    pub transaction_id: String,
    pub approved: bool,
    pub amount: i64,
    pub reversed: i64,
    pub refunded: i64,
}

impl Simulator {
    /// Every authorization the simulator received, with what was given back.
    pub fn audit(&self) -> Vec<AuthorizationAudit> {
        self.state()
            .authorizations
            .values()
            .map(|a| AuthorizationAudit {
                transaction_id: a.transaction_id.clone(),
                approved: a.outcome == Outcome::Approved,
                amount: a.amount,
                reversed: a.reversed,
                refunded: a.refunded,
            })
            .collect()
    }
}

fn new_reference() -> String {
    // Twelve digits, like an RRN.
    format!("{:012}", rand::random::<u64>() % 1_000_000_000_000)
}

fn approval_code(reference: &str) -> String {
    format!("A{}", &reference[reference.len().saturating_sub(5)..])
}

#[async_trait]
impl Processor for Simulator {
    fn name(&self) -> &str {
        "Simulator"
    }

    async fn authorize(&self, request: AuthRequest<'_>) -> Result<AuthAnswer, ProcessorError> {
        self.latency().await;
        let pan = request.card.number.expose();
        let behaviour = behaviour(pan);
        let (reference, outcome) = {
            let mut state = self.state();
            if let Some(reference) = state.by_transaction.get(request.transaction_id).cloned() {
                let outcome = state.authorizations[&reference].outcome;
                (reference, outcome)
            } else {
                let outcome = match behaviour {
                    Behaviour::Decline(code) => Outcome::Declined(code),
                    Behaviour::ThreeDs { .. } => Outcome::ChallengePending,
                    _ => Outcome::Approved,
                };
                let reference = new_reference();
                state.record(Entry::Authorization {
                    transaction_id: request.transaction_id.into(),
                    reference: reference.clone(),
                    behaviour,
                    brand: request.card.number.brand().name().into(),
                    outcome,
                    amount: request.amount,
                })?;
                (reference, outcome)
            }
        };
        match behaviour {
            // The authorization is approved and the funds held, but the answer never comes.
            Behaviour::NoAnswer => std::future::pending().await,
            Behaviour::Slow => tokio::time::sleep(self.options.slow_card_delay).await,
            _ => {}
        }
        Ok(Self::answer(&reference, outcome))
    }

    async fn complete_challenge(&self, reference: &str, passed: bool) -> Result<AuthAnswer, ProcessorError> {
        self.latency().await;
        let mut state = self.state();
        let auth = state
            .authorizations
            .get(reference)
            .cloned()
            .ok_or_else(|| ProcessorError::Refused(format!("unknown challenge {reference}")))?;
        if auth.outcome != Outcome::ChallengePending {
            return Ok(Self::answer(reference, auth.outcome));
        }
        let outcome = match auth.behaviour {
            Behaviour::ThreeDs { approve_after: true } if passed => Outcome::Approved,
            _ => Outcome::Declined(100),
        };
        state.record(Entry::Challenge { reference: reference.into(), outcome })?;
        Ok(Self::answer(reference, outcome))
    }

    async fn authorization_status(&self, transaction_id: &str) -> Result<Option<AuthAnswer>, ProcessorError> {
        self.latency().await;
        let state = self.state();
        Ok(state
            .by_transaction
            .get(transaction_id)
            .map(|reference| Self::answer(reference, state.authorizations[reference].outcome)))
    }

    async fn reverse(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        self.latency().await;
        self.do_return(request, false)
    }

    async fn refund(&self, request: ReturnRequest<'_>) -> Result<ReturnAnswer, ProcessorError> {
        self.latency().await;
        self.do_return(request, true)
    }

    async fn settle(&self, batch: &BatchRequest) -> Result<BatchAck, ProcessorError> {
        self.latency().await;
        let mut state = self.state();
        if let Some(ack) = state.batches.get(&batch.batch_id) {
            return Ok(ack.clone());
        }
        let rejected = batch
            .items
            .iter()
            .filter(|item| {
                match state.by_transaction.get(&item.authorization).and_then(|r| state.authorizations.get(r)) {
                    Some(auth) => auth.behaviour == Behaviour::RejectInSettlement || auth.outcome != Outcome::Approved,
                    None => true,
                }
            })
            .map(|item| item.transaction_id.clone())
            .collect();
        let items = batch.items.iter().map(|i| i.transaction_id.clone()).collect();
        state.record(Entry::Batch { batch_id: batch.batch_id.clone(), reference: new_reference(), rejected, items })?;
        Ok(state.batches[&batch.batch_id].clone())
    }

    async fn batch_status(&self, batch_id: &str) -> Result<Option<BatchAck>, ProcessorError> {
        self.latency().await;
        Ok(self.state().batches.get(batch_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{CardNumber, Cvc, Expiry};

    fn card() -> Card {
        let number = CardNumber::parse("4111111111111111").unwrap();
        Card {
            number,
            expiry: Expiry::parse("12", "30").unwrap(),
            cvc: Cvc::parse("123", Brand::Visa).unwrap(),
            holder: String::new(),
        }
    }

    async fn authorize(sim: &Simulator, id: &str) -> AuthAnswer {
        sim.authorize(AuthRequest { transaction_id: id, card: &card(), amount: 100, currency: "RUB" }).await.unwrap()
    }

    #[tokio::test]
    async fn the_journal_survives_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let options = SimulatorOptions { journal: Some(dir.path().join("journal")), ..SimulatorOptions::default() };
        let first = authorize(&Simulator::new(options.clone()).unwrap(), "t1").await;
        // A process killed in the middle of writing its next entry.
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("journal"))
            .unwrap()
            .write_all(b"{\"Authori")
            .unwrap();
        let sim = Simulator::new(options.clone()).unwrap();
        assert_eq!(authorize(&sim, "t1").await, first, "a repeated request gets the first answer");
        authorize(&sim, "t2").await;
        let reopened = Simulator::new(options).unwrap();
        assert_eq!(reopened.audit().len(), 2, "the entry after the torn line was kept");
    }
}
