//! The rules of Kassa, with no I/O: states with their exact Assist strings, the transitions
//! between them, the money totals of an order, and how a cancel is split.

mod cancel;
mod confirm;
mod money;
mod states;

pub use cancel::{CancelError, CancelPlan, plan_cancel};
pub use confirm::{ConfirmError, plan_confirm};
pub use money::OrderMoney;
pub use states::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState, UnknownState};

#[cfg(test)]
mod properties;
