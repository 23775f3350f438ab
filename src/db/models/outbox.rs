use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{MerchantId, OrderId};
use crate::db::AnyConnection;
use crate::db::schema::outbox;

/// A message to deliver after commit (merchant notification, e-mail), written in the same
/// transaction as the change it announces.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxMessage {
    pub id: String,
    pub topic: String,
    pub merchant_id: MerchantId,
    pub order_id: Option<OrderId>,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub available_at: PrimitiveDateTime,
    pub created_at: PrimitiveDateTime,
    pub delivered_at: Option<PrimitiveDateTime>,
}

impl NewOutboxMessage {
    pub fn new(
        topic: &str,
        merchant: &MerchantId,
        order: Option<&OrderId>,
        payload: &serde_json::Value,
        now: PrimitiveDateTime,
    ) -> Self {
        NewOutboxMessage {
            id: crate::db::new_id(),
            topic: topic.into(),
            merchant_id: merchant.clone(),
            order_id: order.cloned(),
            payload: payload.to_string(),
            state: "pending".into(),
            attempts: 0,
            available_at: now,
            created_at: now,
            delivered_at: None,
        }
    }

    pub fn insert(&self, conn: &mut AnyConnection) -> QueryResult<()> {
        diesel::insert_into(outbox::table).values(self).execute(conn).map(|_| ())
    }
}
