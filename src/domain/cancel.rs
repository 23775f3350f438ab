use super::{OrderMoney, OrderState};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("an order in state {0} cannot be cancelled")]
    WrongState(OrderState),
    #[error("the amount must be positive")]
    NotPositive,
    #[error("the amount exceeds what is left to cancel ({remaining})")]
    ExceedsRemaining { remaining: i64 },
    #[error("a Delayed order is cancelled in full; confirm the part to keep instead")]
    PartialCancelOfDelayed,
    #[error("part of the amount is in a settlement batch awaiting acknowledgement; try again later")]
    SettlementInProgress,
}

/// How a cancel is carried out. Shown to the merchant before they confirm it
/// ("reverse 30.00, refund 70.00"); executed as one write plus processor calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelPlan {
    pub amount: i64,
    /// Authorized but unconfirmed money: reversed at the processor.
    pub release: i64,
    /// Captured money not yet sent for settlement: dropped from the next batch and reversed.
    pub void: i64,
    /// Unconfirmed money captured first so that it can be refunded (Amex is never reversed).
    pub capture: i64,
    /// Refunded. `refund_now` of it is already settled; the rest waits for its settlement.
    pub refund: i64,
    pub refund_now: i64,
    pub money_after: OrderMoney,
    pub state_after: OrderState,
}

impl CancelPlan {
    /// A plan that moves no money (an order left as it is).
    pub fn none(money: OrderMoney, state: OrderState) -> CancelPlan {
        CancelPlan {
            amount: 0,
            release: 0,
            void: 0,
            capture: 0,
            refund: 0,
            refund_now: 0,
            money_after: money,
            state_after: state,
        }
    }

    /// Reversed in the Assist sense (no money moved).
    pub fn reverse(&self) -> i64 {
        self.release + self.void
    }
}

/// Splits a cancel of `amount` (everything left when `None`) into what is reversed and what is
/// refunded. Unsettled money is given back first, since reversing costs nothing; settled money
/// is refunded; Amex money is always refunded. `in_settlement` is money in a batch that was sent
/// and not yet acknowledged: it can neither be dropped nor refunded yet.
pub fn plan_cancel(
    money: &OrderMoney,
    state: OrderState,
    in_settlement: i64,
    amex: bool,
    amount: Option<i64>,
) -> Result<CancelPlan, CancelError> {
    use OrderState::*;
    if !matches!(state, Delayed | Approved | PartialDelayed | PartialCanceled) {
        return Err(CancelError::WrongState(state));
    }
    let remaining = money.remaining();
    let amount = amount.unwrap_or(remaining);
    if amount <= 0 {
        return Err(if remaining == 0 { CancelError::WrongState(state) } else { CancelError::NotPositive });
    }
    if amount > remaining {
        return Err(CancelError::ExceedsRemaining { remaining });
    }
    if state == Delayed && amount != remaining {
        return Err(CancelError::PartialCancelOfDelayed);
    }
    let mut plan = CancelPlan { amount, ..CancelPlan::none(*money, state) };
    let settled_left = (money.settled - money.refunded).max(0);
    if amex {
        plan.refund = amount;
        plan.refund_now = amount.min(settled_left);
        let captured_unrefunded = money.confirmed - money.voided - money.refunded;
        plan.capture = (amount - captured_unrefunded.max(0)).max(0);
    } else {
        plan.release = amount.min(money.held());
        let rest = amount - plan.release;
        let droppable = (money.unsettled() - in_settlement).max(0);
        plan.void = rest.min(droppable);
        let rest = rest - plan.void;
        if rest > settled_left {
            return Err(CancelError::SettlementInProgress);
        }
        plan.refund = rest;
        plan.refund_now = rest;
    }
    plan.money_after = OrderMoney {
        confirmed: money.confirmed + plan.capture,
        released: money.released + plan.release,
        voided: money.voided + plan.void,
        refunded: money.refunded + plan.refund,
        ..*money
    };
    plan.state_after = plan.money_after.paid_state();
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved(amount: i64) -> OrderMoney {
        OrderMoney::authorize(amount, false)
    }

    #[test]
    fn unsettled_money_is_reversed_settled_money_refunded() {
        let mut m = approved(10_000);
        let plan = plan_cancel(&m, OrderState::Approved, 0, false, None).unwrap();
        assert_eq!((plan.void, plan.refund, plan.state_after), (10_000, 0, OrderState::Canceled));

        m.settled = 10_000;
        let plan = plan_cancel(&m, OrderState::Approved, 0, false, Some(3_000)).unwrap();
        assert_eq!((plan.void, plan.refund, plan.state_after), (0, 3_000, OrderState::PartialCanceled));
    }

    #[test]
    fn partially_settled_order_splits_the_cancel() {
        // Two-stage: 100.00 authorized, 70.00 confirmed and settled, 30.00 still held.
        let m =
            OrderMoney { amount: 10_000, authorized: 10_000, confirmed: 7_000, settled: 7_000, ..Default::default() };
        let plan = plan_cancel(&m, OrderState::PartialDelayed, 0, false, None).unwrap();
        assert_eq!((plan.release, plan.void, plan.refund), (3_000, 0, 7_000));
        assert_eq!(plan.reverse(), 3_000);
        assert_eq!(plan.state_after, OrderState::Canceled);
    }

    #[test]
    fn amex_is_always_refunded() {
        let m = OrderMoney::authorize(5_000, true);
        let plan = plan_cancel(&m, OrderState::Delayed, 0, true, None).unwrap();
        assert_eq!((plan.release, plan.void, plan.capture, plan.refund, plan.refund_now), (0, 0, 5_000, 5_000, 0));
        assert!(plan.money_after.holds());
    }

    #[test]
    fn too_much_and_wrong_states_are_refused() {
        let m = approved(1_000);
        assert_eq!(
            plan_cancel(&m, OrderState::Approved, 0, false, Some(1_001)),
            Err(CancelError::ExceedsRemaining { remaining: 1_000 })
        );
        assert_eq!(plan_cancel(&m, OrderState::Approved, 0, false, Some(0)), Err(CancelError::NotPositive));
        assert!(matches!(plan_cancel(&m, OrderState::Declined, 0, false, None), Err(CancelError::WrongState(_))));
        let d = OrderMoney::authorize(1_000, true);
        assert_eq!(plan_cancel(&d, OrderState::Delayed, 0, false, Some(10)), Err(CancelError::PartialCancelOfDelayed));
    }

    #[test]
    fn money_in_a_sent_batch_waits() {
        let m = approved(1_000);
        assert_eq!(plan_cancel(&m, OrderState::Approved, 1_000, false, None), Err(CancelError::SettlementInProgress));
    }
}
