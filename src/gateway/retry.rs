//! Retry: a new attempt (same order number, new billnumber) after a declined or timed-out one,
//! started from the customer's result page.

use super::create_order::{insert_attempt, new_billnumber};
use super::{Gateway, GatewayError};
use crate::db::models::{Merchant, Order, OrderId};
use crate::db::{self, AnyConnection};
use crate::domain::{OrderMoney, OrderState};

impl Gateway {
    /// A new `In Process` attempt with the request of `failed` (already verified when it was
    /// created, so no check value is asked again). Asking twice returns the same open attempt.
    pub async fn retry(&self, failed: &OrderId) -> Result<Order, GatewayError> {
        let id = failed.clone();
        let (order, merchant, accepts) = self
            .store
            .read(move |c| {
                let order = Order::find(c, &id)?;
                let merchant = Merchant::find(c, &order.merchant_id)?;
                let accepts = merchant.accepts_payments(c)?;
                Ok::<_, GatewayError>((order, merchant, accepts))
            })
            .await?;
        if !order.state().is_final_failure() {
            return Err(GatewayError::WrongState(order.state()));
        }
        if !accepts {
            return Err(GatewayError::MerchantInactive);
        }
        for _ in 0..3 {
            let attempt = next_attempt(&order, &merchant);
            match self.store.write(move |c: &mut AnyConnection| insert_attempt(c, attempt)).await {
                Err(GatewayError::Store(e)) if e.is_unique_violation() => continue,
                other => return other,
            }
        }
        Err(GatewayError::OrderNumberInUse)
    }
}

fn next_attempt(failed: &Order, merchant: &Merchant) -> Order {
    let now = db::now();
    let money = OrderMoney::default();
    Order {
        id: OrderId::new(),
        billnumber: new_billnumber(),
        state: OrderState::InProcess.as_str().into(),
        card_brand: None,
        card_last4: None,
        authorized: money.authorized,
        confirmed: 0,
        released: 0,
        voided: 0,
        refunded: 0,
        settled: 0,
        next_seq: 1,
        expires_at: now + time::Duration::seconds(merchant.payment_timeout_secs),
        confirm_deadline: None,
        paid_at: None,
        created_at: now,
        updated_at: now,
        ..failed.clone()
    }
}
