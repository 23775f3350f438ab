//! The hosted checkout's own rows: the opaque page token of an order attempt and the one-time
//! form nonces already spent.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{Merchant, MerchantId, Order, OrderId};
use crate::db::AnyConnection;
use crate::db::schema::{checkout_nonces, checkout_pages, checkout_settings, merchants, orders};

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

    /// Everything a payment page shows, in one query (the page is the checkout's hot path): the
    /// order, its merchant, and the origins the merchant lets frame it.
    pub fn load(conn: &mut AnyConnection, token: &str) -> QueryResult<Option<(Order, Merchant, Option<String>)>> {
        checkout_pages::table
            .inner_join(orders::table.inner_join(merchants::table))
            .left_join(checkout_settings::table.on(checkout_settings::merchant_id.eq(merchants::id)))
            .filter(checkout_pages::token.eq(token))
            .select((Order::as_select(), Merchant::as_select(), checkout_settings::frame_ancestors.nullable()))
            .first(conn)
            .optional()
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

/// A merchant's checkout options.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkout_settings)]
pub struct CheckoutSettings {
    pub merchant_id: MerchantId,
    /// Origins allowed to frame the payment pages, space-separated (`https://shop.example`).
    pub frame_ancestors: String,
    pub updated_at: PrimitiveDateTime,
}

impl CheckoutSettings {
    pub fn of_merchant(conn: &mut AnyConnection, merchant: &MerchantId) -> QueryResult<Option<CheckoutSettings>> {
        checkout_settings::table.find(merchant).select(CheckoutSettings::as_select()).first(conn).optional()
    }

    /// Replaces the merchant's options.
    pub fn save(&self, conn: &mut AnyConnection) -> QueryResult<()> {
        diesel::delete(checkout_settings::table.find(&self.merchant_id)).execute(conn)?;
        diesel::insert_into(checkout_settings::table).values(self).execute(conn).map(|_| ())
    }
}

/// The well-formed origins of a `frame_ancestors` setting (`http(s)://host[:port]`, host possibly
/// `*.`-prefixed); anything else is dropped, so a bad setting can never widen or break the header.
pub fn valid_frame_ancestors(setting: &str) -> Vec<&str> {
    setting.split_whitespace().filter(|o| valid_origin(o)).collect()
}

pub fn valid_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")) else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host = host.strip_prefix("*.").unwrap_or(host);
    !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with('.')
        && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::valid_origin;

    #[test]
    fn only_plain_origins_may_frame() {
        for ok in ["https://shop.example", "http://localhost:8080", "https://*.shop.example"] {
            assert!(valid_origin(ok), "{ok}");
        }
        for bad in ["*", "'self'", "https://shop.example/path", "https://a;b", "javascript:x", "https://", "https://x:"]
        {
            assert!(!valid_origin(bad), "{bad}");
        }
    }
}
