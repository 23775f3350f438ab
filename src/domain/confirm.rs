use super::{OrderMoney, OrderState};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    #[error("only a two-stage order can be confirmed")]
    NotTwoStage,
    #[error("an order in state {0} cannot be confirmed")]
    WrongState(OrderState),
    #[error("the amount must be positive")]
    NotPositive,
    #[error("the amount exceeds the authorized {authorized}")]
    ExceedsAuthorized { authorized: i64 },
}

/// Confirms (captures) `amount` of a `Delayed` order, the whole authorization when `None`.
/// Returns the new money; its [`OrderMoney::paid_state`] is `Approved` or `PartialDelayed`.
pub fn plan_confirm(
    money: &OrderMoney,
    state: OrderState,
    two_stage: bool,
    amount: Option<i64>,
) -> Result<OrderMoney, ConfirmError> {
    if !two_stage {
        return Err(ConfirmError::NotTwoStage);
    }
    if state != OrderState::Delayed {
        return Err(ConfirmError::WrongState(state));
    }
    let amount = amount.unwrap_or(money.held());
    if amount <= 0 {
        return Err(ConfirmError::NotPositive);
    }
    if amount > money.held() {
        return Err(ConfirmError::ExceedsAuthorized { authorized: money.held() });
    }
    Ok(OrderMoney { confirmed: money.confirmed + amount, ..*money })
}
