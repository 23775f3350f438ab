use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::BatchId;
use crate::db::schema::settlement_batches;

/// Financial transactions sent to the processing center together.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = settlement_batches)]
pub struct SettlementBatch {
    pub id: BatchId,
    pub currency: String,
    /// `sent` until the processing center's acknowledgement is applied, then `acknowledged`.
    pub state: String,
    pub item_count: i32,
    pub total: i64,
    pub accepted_total: i64,
    pub rejected_count: i32,
    pub processor_ref: Option<String>,
    pub created_at: PrimitiveDateTime,
    pub acknowledged_at: Option<PrimitiveDateTime>,
}
