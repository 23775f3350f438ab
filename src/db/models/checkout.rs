//! The hosted checkout's own rows: the opaque page token of an order attempt and the one-time
//! form nonces already spent.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::OrderId;
use crate::db::AnyConnection;
use crate::db::schema::{checkout_nonces, checkout_pages};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkout_pages)]
pub struct CheckoutPage {
    pub token: String,
    pub order_id: OrderId,
    pub created_at: PrimitiveDateTime,
}

impl CheckoutPage {
    pub fn by_token(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<CheckoutPage>> {
        checkout_pages::table.find(token).select(CheckoutPage::as_select()).first(conn).optional()
    }

    /// The page of an order, made with `new_token` if it has none yet (a resent request returns
    /// the open attempt, which keeps its page).
    pub fn for_order(
        conn: &mut AnyConnection,
        order: &OrderId,
        new_token: String,
        now: PrimitiveDateTime,
    ) -> QueryResult<CheckoutPage> {
        let existing = checkout_pages::table
            .filter(checkout_pages::order_id.eq(order))
            .select(CheckoutPage::as_select())
            .first(conn)
            .optional()?;
        if let Some(page) = existing {
            return Ok(page);
        }
        let page = CheckoutPage { token: new_token, order_id: order.clone(), created_at: now };
        diesel::insert_into(checkout_pages::table).values(&page).execute(conn)?;
        Ok(page)
    }
}

/// Marks a form nonce as spent. Returns false when it was spent before (a second «Charge»,
/// a second tab, a replayed POST).
pub fn spend_nonce(
    conn: &mut AnyConnection,
    nonce: &str,
    order: &OrderId,
    now: PrimitiveDateTime,
) -> QueryResult<bool> {
    let spent: i64 = checkout_nonces::table.filter(checkout_nonces::nonce.eq(nonce)).count().get_result(conn)?;
    if spent > 0 {
        return Ok(false);
    }
    diesel::insert_into(checkout_nonces::table)
        .values((
            checkout_nonces::nonce.eq(nonce),
            checkout_nonces::order_id.eq(order),
            checkout_nonces::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}
