use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{OperationId, OrderId};
use crate::db::AnyConnection;
use crate::db::schema::operations;
use crate::domain::{OperationKind, OperationState};

/// One action inside an order, known to the merchant as `billnumber.seq`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = operations)]
pub struct Operation {
    pub id: OperationId,
    pub order_id: OrderId,
    pub seq: i32,
    pub kind: String,
    pub state: String,
    pub amount: i64,
    pub currency: String,
    pub response_code: Option<String>,
    pub message: Option<String>,
    pub approval_code: Option<String>,
    pub card_mask: Option<String>,
    pub card_brand: Option<String>,
    pub cardholder: Option<String>,
    pub card_expiry: Option<String>,
    pub client_ip: Option<String>,
    pub cancel_reason: Option<i32>,
    pub external_refund_id: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    /// Who carried it out: `customer`, `account:<login>`, `api:<key>`, `webservices:<login>`,
    /// `worker`.
    pub actor: Option<String>,
}

pub type NewOperation = Operation;

impl Operation {
    pub fn kind(&self) -> OperationKind {
        self.kind.parse().unwrap_or(OperationKind::Payment)
    }

    pub fn state(&self) -> OperationState {
        self.state.parse().unwrap_or(OperationState::InProcess)
    }

    pub fn find(conn: &mut AnyConnection, id: &OperationId) -> QueryResult<Operation> {
        operations::table.find(id).select(Operation::as_select()).first(conn)
    }

    pub fn of_order(conn: &mut AnyConnection, order: &OrderId) -> QueryResult<Vec<Operation>> {
        operations::table
            .filter(operations::order_id.eq(order))
            .order(operations::seq.asc())
            .select(Operation::as_select())
            .load(conn)
    }

    /// Finishes an operation that is still in process. Returns `false` if it was not.
    pub fn finish(
        conn: &mut AnyConnection,
        id: &OperationId,
        state: OperationState,
        response_code: &str,
        message: &str,
        approval_code: Option<&str>,
        now: PrimitiveDateTime,
    ) -> QueryResult<bool> {
        let n =
            diesel::update(operations::table.find(id).filter(operations::state.eq(OperationState::InProcess.as_str())))
                .set((
                    operations::state.eq(state.as_str()),
                    operations::response_code.eq(response_code),
                    operations::message.eq(message),
                    operations::approval_code.eq(approval_code),
                    operations::updated_at.eq(now),
                ))
                .execute(conn)?;
        if n == 1 && state != OperationState::Success {
            // A payment that did not go through gives back its part of the day's turnover.
            super::turnover::release_payment(conn, id)?;
        }
        Ok(n == 1)
    }
}
