//! Recover: messages to the processing center left `sent` by a crash or a lost answer.
//!
//! Every request carries Kassa's transaction id, so asking again is safe: an authorization is
//! looked up (and applied, or declined if the processor never received it); a reversal or
//! refund is sent again and the processor answers with its first answer.

use std::time::Duration;

use diesel::prelude::*;

use super::{Gateway, GatewayError};
use crate::assist::codes;
use crate::db::models::{Operation, Transaction};
use crate::db::schema::transactions;
use crate::db::{self, AnyConnection};
use crate::domain::{OperationKind, TransactionKind, TransactionState};
use crate::processing::AuthAnswer;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RecoverReport {
    pub authorizations: usize,
    pub reversals: usize,
    pub refunds: usize,
    /// Still without an answer; tried again at the next run.
    pub unresolved: usize,
}

impl Gateway {
    /// Resolves transactions that have been `sent` for longer than `older_than`.
    pub async fn recover(&self, older_than: Duration) -> Result<RecoverReport, GatewayError> {
        let cutoff = db::now() - time::Duration::try_from(older_than).unwrap_or(time::Duration::MINUTE);
        let stuck = self.store.read(move |c| stuck(c, cutoff)).await?;
        let mut report = RecoverReport::default();
        for txn in stuck {
            let resolved = match txn.kind() {
                TransactionKind::Authorization => {
                    let answer = match self.with_timeout(self.processor.authorization_status(&txn.id.0)).await {
                        Some(Ok(Some(answer))) => Some(answer),
                        // The processor never received it: nothing is held, the payment failed.
                        Some(Ok(None)) => Some(AuthAnswer::Declined { code: codes::SYSTEM_ERROR.into() }),
                        _ => None,
                    };
                    match answer {
                        Some(answer) => {
                            self.record_authorization(
                                &txn.order_id,
                                &txn.operation_id,
                                &txn.id,
                                TransactionState::Sent,
                                Some(Ok(answer)),
                            )
                            .await?;
                            report.authorizations += 1;
                            true
                        }
                        None => false,
                    }
                }
                TransactionKind::Reversal | TransactionKind::Refund if txn.parent_id.is_none() => {
                    tracing::error!(transaction = %txn.id, "return without its authorization");
                    false
                }
                TransactionKind::Reversal => {
                    let parent = txn.parent_id.clone().expect("checked above");
                    // A reversal made by a payment (not a cancel) undoes a lost authorization.
                    let technical = self
                        .store
                        .read({
                            let op = txn.operation_id.clone();
                            move |c| Ok::<_, GatewayError>(Operation::find(c, &op)?.kind() == OperationKind::Payment)
                        })
                        .await?;
                    let done = self.send_reversal(&txn, &parent, technical).await?.is_some();
                    report.reversals += usize::from(done);
                    done
                }
                TransactionKind::Refund => {
                    let parent = txn.parent_id.clone().expect("checked above");
                    match self.send_refund(&txn, &parent).await {
                        Some(answer) => {
                            self.store
                                .write(move |c| super::settle::record_refund(c, &txn, Some(answer), db::now()))
                                .await?;
                            report.refunds += 1;
                            true
                        }
                        None => false,
                    }
                }
                // Financial transactions travel in batches; `settle` resolves those.
                TransactionKind::Financial => true,
            };
            report.unresolved += usize::from(!resolved);
        }
        Ok(report)
    }
}

fn stuck(c: &mut AnyConnection, cutoff: time::PrimitiveDateTime) -> Result<Vec<Transaction>, GatewayError> {
    Ok(transactions::table
        .filter(transactions::state.eq(TransactionState::Sent.as_str()))
        .filter(transactions::kind.ne(TransactionKind::Financial.as_str()))
        .filter(transactions::updated_at.lt(cutoff))
        .order(transactions::updated_at.asc())
        .limit(1_000)
        .select(Transaction::as_select())
        .load(c)?)
}
