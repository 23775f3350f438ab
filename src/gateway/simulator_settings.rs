//! The simulator's latency and fault injection per test merchant (`simulator_settings`), set at
//! `/admin/processing` and read at every payment, so a change applies to the next one. A live
//! merchant never has them applied: they are refused when set, and ignored when the merchant
//! (or the order) is not in test mode when the payment is made.

use std::time::Duration;

use diesel::prelude::*;
use time::PrimitiveDateTime;

use crate::db::AnyConnection;
use crate::db::models::{MerchantId, Order, OrderId};
use crate::db::schema::{merchants, simulator_settings};
use crate::processing::faults::MerchantFaults;

/// The most latency an admin may add, in milliseconds.
pub const MAX_LATENCY_MS: i32 = 30_000;

/// One merchant's row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = simulator_settings)]
pub struct SimulatorSettings {
    pub merchant_id: MerchantId,
    pub latency_ms: i32,
    pub timeout_pct: i32,
    pub late_answer_pct: i32,
    pub error_pct: i32,
    pub decline_pct: i32,
    pub duplicate_pct: i32,
    pub updated_at: PrimitiveDateTime,
}

/// Why settings cannot be stored.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The merchant is live (or gone): only test merchants get simulated latency and faults.
    NotTestMode,
}

impl SimulatorSettings {
    /// No latency, no fault: what a merchant without a row gets.
    pub fn calm(merchant: &MerchantId, now: PrimitiveDateTime) -> SimulatorSettings {
        SimulatorSettings {
            merchant_id: merchant.clone(),
            latency_ms: 0,
            timeout_pct: 0,
            late_answer_pct: 0,
            error_pct: 0,
            decline_pct: 0,
            duplicate_pct: 0,
            updated_at: now,
        }
    }

    pub fn of_merchant(c: &mut AnyConnection, merchant: &MerchantId) -> QueryResult<Option<SimulatorSettings>> {
        simulator_settings::table.find(merchant).select(SimulatorSettings::as_select()).first(c).optional()
    }

    /// Stores the settings if the merchant is in test mode. The merchant's row is locked by a
    /// conditional no-op update, so a concurrent switch to live waits for this and vice versa.
    pub fn save(&self, c: &mut AnyConnection) -> QueryResult<Result<(), Refusal>> {
        let test = diesel::update(merchants::table.find(&self.merchant_id).filter(merchants::test_mode.eq(true)))
            .set(merchants::test_mode.eq(true))
            .execute(c)?;
        if test == 0 {
            return Ok(Err(Refusal::NotTestMode));
        }
        let n = diesel::update(simulator_settings::table.find(&self.merchant_id)).set(self).execute(c)?;
        if n == 0 {
            diesel::insert_into(simulator_settings::table).values(self).execute(c)?;
        }
        Ok(Ok(()))
    }

    pub fn faults(&self) -> MerchantFaults {
        let pct = |v: i32| v.clamp(0, 100) as u8;
        MerchantFaults {
            latency: Duration::from_millis(self.latency_ms.clamp(0, MAX_LATENCY_MS) as u64),
            timeout_pct: pct(self.timeout_pct),
            late_answer_pct: pct(self.late_answer_pct),
            error_pct: pct(self.error_pct),
            decline_pct: pct(self.decline_pct),
            duplicate_pct: pct(self.duplicate_pct),
        }
    }
}

/// What the simulator does to a payment of `order` now: its merchant's settings if both the
/// order and the merchant are in test mode, otherwise nothing.
pub fn for_order(c: &mut AnyConnection, order: &OrderId) -> QueryResult<MerchantFaults> {
    let order = Order::find(c, order)?;
    if !order.test_mode {
        return Ok(MerchantFaults::default());
    }
    let test: bool = merchants::table.find(&order.merchant_id).select(merchants::test_mode).first(c)?;
    if !test {
        return Ok(MerchantFaults::default());
    }
    Ok(SimulatorSettings::of_merchant(c, &order.merchant_id)?.map(|s| s.faults()).unwrap_or_default())
}
