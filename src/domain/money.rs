/// The money of one order, in minor units of its payment currency.
///
/// `confirmed` counts captured money (one-stage orders are captured at payment); `released` is
/// authorized money given back before capture; `voided` is captured money taken out of
/// settlement before it was sent; `refunded` is money returned after capture (reserved when the
/// refund is started, given back if the processor refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderMoney {
    pub amount: i64,
    pub authorized: i64,
    pub confirmed: i64,
    pub released: i64,
    pub voided: i64,
    pub refunded: i64,
    pub settled: i64,
}

impl OrderMoney {
    /// Authorized, neither captured nor released.
    pub fn held(&self) -> i64 {
        self.authorized - self.confirmed - self.released
    }

    /// Reversed in the Assist sense: released before capture or voided before settlement.
    pub fn reversed(&self) -> i64 {
        self.released + self.voided
    }

    /// Everything given back to the customer (or being given back).
    pub fn returned(&self) -> i64 {
        self.released + self.voided + self.refunded
    }

    /// What a cancel can still give back.
    pub fn remaining(&self) -> i64 {
        self.authorized - self.returned()
    }

    /// Captured, not voided, not yet settled (including what sits in a sent batch).
    pub fn unsettled(&self) -> i64 {
        self.confirmed - self.voided - self.settled
    }

    /// The rules of ARCHITECTURE.md §2; the database CHECKs say the same.
    pub fn holds(&self) -> bool {
        let non_negative = [self.authorized, self.confirmed, self.released, self.voided, self.refunded, self.settled]
            .iter()
            .all(|v| *v >= 0);
        non_negative
            && self.authorized <= self.amount
            && self.confirmed + self.released <= self.authorized
            && self.voided + self.refunded <= self.confirmed
            && self.settled + self.voided <= self.confirmed
            && self.returned() <= self.authorized
    }

    /// The money of a successful payment: one-stage orders are captured at once.
    pub fn authorize(amount: i64, two_stage: bool) -> OrderMoney {
        OrderMoney {
            amount,
            authorized: amount,
            confirmed: if two_stage { 0 } else { amount },
            ..OrderMoney::default()
        }
    }

    /// The state of a paid order follows from its money.
    pub fn paid_state(&self) -> super::OrderState {
        use super::OrderState::*;
        if self.returned() >= self.authorized {
            Canceled
        } else if self.returned() > 0 {
            PartialCanceled
        } else if self.confirmed == 0 {
            Delayed
        } else if self.confirmed == self.authorized {
            Approved
        } else {
            PartialDelayed
        }
    }
}
