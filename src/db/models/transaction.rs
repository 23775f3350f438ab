use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{BatchId, OperationId, OrderId, TransactionId};
use crate::db::AnyConnection;
use crate::db::schema::transactions;
use crate::domain::{TransactionKind, TransactionState};

/// One message to the processing center.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transactions)]
pub struct Transaction {
    pub id: TransactionId,
    pub order_id: OrderId,
    pub operation_id: OperationId,
    pub kind: String,
    pub state: String,
    pub amount: i64,
    pub currency: String,
    pub parent_id: Option<TransactionId>,
    pub processor_ref: Option<String>,
    pub response_code: Option<String>,
    pub batch_id: Option<BatchId>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

pub type NewTransaction = Transaction;

impl Transaction {
    pub fn new(
        order: &OrderId,
        operation: &OperationId,
        kind: TransactionKind,
        state: TransactionState,
        amount: i64,
        currency: &str,
        now: PrimitiveDateTime,
    ) -> NewTransaction {
        Transaction {
            id: TransactionId::new(),
            order_id: order.clone(),
            operation_id: operation.clone(),
            kind: kind.as_str().into(),
            state: state.as_str().into(),
            amount,
            currency: currency.into(),
            parent_id: None,
            processor_ref: None,
            response_code: None,
            batch_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The transaction this one acts on (the authorization a reversal or refund returns).
    pub fn acting_on(mut self, parent: &TransactionId) -> NewTransaction {
        self.parent_id = Some(parent.clone());
        self
    }

    pub fn kind(&self) -> TransactionKind {
        self.kind.parse().unwrap_or(TransactionKind::Authorization)
    }

    pub fn state(&self) -> TransactionState {
        self.state.parse().unwrap_or(TransactionState::New)
    }

    pub fn insert(&self, conn: &mut AnyConnection) -> QueryResult<()> {
        diesel::insert_into(transactions::table).values(self).execute(conn).map(|_| ())
    }

    pub fn find(conn: &mut AnyConnection, id: &TransactionId) -> QueryResult<Transaction> {
        transactions::table.find(id).select(Transaction::as_select()).first(conn)
    }

    pub fn of_order(conn: &mut AnyConnection, order: &OrderId) -> QueryResult<Vec<Transaction>> {
        transactions::table
            .filter(transactions::order_id.eq(order))
            .order(transactions::created_at.asc())
            .select(Transaction::as_select())
            .load(conn)
    }

    /// Moves a transaction from `from` to `to`, recording the processor's answer. Returns
    /// `false` if it was not in `from` any more.
    pub fn answer(
        conn: &mut AnyConnection,
        id: &TransactionId,
        from: TransactionState,
        to: TransactionState,
        processor_ref: Option<&str>,
        response_code: Option<&str>,
        now: PrimitiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(transactions::table.find(id).filter(transactions::state.eq(from.as_str())))
            .set((
                transactions::state.eq(to.as_str()),
                transactions::processor_ref.eq(processor_ref),
                transactions::response_code.eq(response_code),
                transactions::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}
