use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::{MerchantId, OrderId};
use crate::db::AnyConnection;
use crate::db::schema::orders;
use crate::domain::{OrderMoney, OrderState};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: OrderId,
    pub merchant_id: MerchantId,
    pub order_number: String,
    pub billnumber: String,
    pub state: String,
    pub original_amount: i64,
    pub original_currency: String,
    pub amount: i64,
    pub currency: String,
    pub rate: String,
    pub delay: bool,
    pub test_mode: bool,
    pub comment: Option<String>,
    pub language: String,
    pub lastname: Option<String>,
    pub firstname: Option<String>,
    pub middlename: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub client_ip: Option<String>,
    pub url_return: Option<String>,
    pub url_return_ok: Option<String>,
    pub url_return_no: Option<String>,
    pub payment_means: String,
    pub card_brand: Option<String>,
    pub authorized: i64,
    pub confirmed: i64,
    pub released: i64,
    pub voided: i64,
    pub refunded: i64,
    pub settled: i64,
    pub next_seq: i32,
    pub expires_at: PrimitiveDateTime,
    pub confirm_deadline: Option<PrimitiveDateTime>,
    pub paid_at: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    /// The last four digits of the card of the latest payment attempt (the Order Monitor's card
    /// filter reads it off the orders' indexes).
    pub card_last4: Option<String>,
}

pub type NewOrder = Order;

impl Order {
    pub fn state(&self) -> OrderState {
        self.state.parse().unwrap_or(OrderState::InProcess)
    }

    pub fn money(&self) -> OrderMoney {
        OrderMoney {
            amount: self.amount,
            authorized: self.authorized,
            confirmed: self.confirmed,
            released: self.released,
            voided: self.voided,
            refunded: self.refunded,
            settled: self.settled,
        }
    }

    pub fn find(conn: &mut AnyConnection, id: &OrderId) -> QueryResult<Order> {
        orders::table.find(id).select(Order::as_select()).first(conn)
    }

    pub fn by_billnumber(
        conn: &mut AnyConnection,
        merchant: &MerchantId,
        billnumber: &str,
    ) -> QueryResult<Option<Order>> {
        orders::table
            .filter(orders::merchant_id.eq(merchant))
            .filter(orders::billnumber.eq(billnumber))
            .select(Order::as_select())
            .first(conn)
            .optional()
    }

    /// Every attempt (billnumber) of one shop order number, oldest first.
    ///
    /// Sorted here, not in SQL: with `ORDER BY created_at` SQLite's planner walks the merchant's
    /// `(merchant_id, created_at, id)` index and filters every order of the merchant for the
    /// number, which made each new order cost a scan of all the merchant's orders (about 1 s
    /// per payment request at a million orders, inside the single writer). Without it, the
    /// `(merchant_id, order_number)` index finds the few attempts directly.
    pub fn attempts(conn: &mut AnyConnection, merchant: &MerchantId, order_number: &str) -> QueryResult<Vec<Order>> {
        let mut attempts: Vec<Order> = orders::table
            .filter(orders::merchant_id.eq(merchant))
            .filter(orders::order_number.eq(order_number))
            .select(Order::as_select())
            .load(conn)?;
        attempts.sort_by(|a, b| (a.created_at, &a.id.0).cmp(&(b.created_at, &b.id.0)));
        Ok(attempts)
    }

    /// Locks the order row for the rest of the write transaction and returns it fresh.
    ///
    /// The no-op update takes PostgreSQL's row lock (and is harmless on SQLite, whose single
    /// writer serialises everything anyway). Every order-changing write calls this first, so two
    /// transactions on one order always queue up in the same order and never deadlock.
    pub fn lock(conn: &mut AnyConnection, id: &OrderId) -> QueryResult<Order> {
        let n = diesel::update(orders::table.find(id)).set(orders::next_seq.eq(orders::next_seq)).execute(conn)?;
        if n == 0 {
            return Err(diesel::result::Error::NotFound);
        }
        Order::find(conn, id)
    }

    /// Takes the next operation number of the order (`billnumber.N`).
    pub fn take_seq(conn: &mut AnyConnection, id: &OrderId) -> QueryResult<i32> {
        let seq: i32 = orders::table.find(id).select(orders::next_seq).first(conn)?;
        diesel::update(orders::table.find(id).filter(orders::next_seq.eq(seq)))
            .set(orders::next_seq.eq(seq + 1))
            .execute(conn)?;
        Ok(seq)
    }

    /// Moves the order from `from` to `to` with its new totals. Conditional on the state it was
    /// read in: returns `false` (and changes nothing) if another writer moved it first.
    pub fn transition(
        conn: &mut AnyConnection,
        id: &OrderId,
        from: OrderState,
        to: OrderState,
        money: &OrderMoney,
        now: PrimitiveDateTime,
    ) -> QueryResult<bool> {
        let n = diesel::update(orders::table.find(id).filter(orders::state.eq(from.as_str())))
            .set((
                orders::state.eq(to.as_str()),
                orders::authorized.eq(money.authorized),
                orders::confirmed.eq(money.confirmed),
                orders::released.eq(money.released),
                orders::voided.eq(money.voided),
                orders::refunded.eq(money.refunded),
                orders::settled.eq(money.settled),
                orders::updated_at.eq(now),
            ))
            .execute(conn)?;
        Ok(n == 1)
    }
}
