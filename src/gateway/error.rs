use crate::card::CardError;
use crate::db::StoreError;
use crate::domain::{CancelError, ConfirmError, OrderState};

/// Everything a use case can refuse, each with a stable machine code (see [`GatewayError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("unknown merchant")]
    UnknownMerchant,
    #[error("the merchant is not active")]
    MerchantInactive,
    #[error("the merchant does not accept currency {0}")]
    CurrencyNotAllowed(String),
    #[error("no exchange rate from {from} to {to}")]
    NoExchangeRate { from: String, to: String },
    #[error("the check value does not match")]
    BadCheckValue,
    #[error("the signature does not match")]
    BadSignature,
    #[error("two-stage payment is not enabled for this merchant")]
    TwoStageNotAllowed,
    #[error("this payment means is not enabled")]
    MeansNotAllowed,
    #[error("this order number is already paid")]
    OrderNumberPaid,
    #[error("an unpaid attempt with this order number and a different amount is open")]
    OrderNumberInUse,
    #[error("order not found")]
    OrderNotFound,
    #[error("the payment time of this order has run out")]
    OrderExpired,
    #[error("the order is {0}")]
    WrongState(OrderState),
    #[error("a payment of this order is already in progress")]
    PaymentInProgress,
    #[error("the order is already paid")]
    AlreadyPaid,
    /// The merchant's turnover of the day would go beyond its `daily_cap`; the order stays
    /// unpaid and may be paid later. Assist code [`crate::assist::codes::OPERATION_LIMIT`].
    #[error("the shop's daily turnover limit is reached; the order is not paid")]
    DailyCapReached,
    #[error("no 3-D Secure challenge is pending for this order")]
    NoChallenge,
    #[error("the order was already confirmed for {amount}")]
    AlreadyConfirmed { amount: i64 },
    #[error("the confirmation deadline has passed")]
    ConfirmDeadlinePassed,
    #[error("Externalrefundid was already used for another amount")]
    ExternalRefundIdReused,
    #[error("the cancel would no longer be carried out as it was shown; look at the plan again")]
    PlanChanged,
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
    #[error(transparent)]
    Cancel(#[from] CancelError),
    #[error(transparent)]
    Card(#[from] CardError),
    #[error("the processing center is unavailable")]
    ProcessorUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for GatewayError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => GatewayError::OrderNotFound,
            e => GatewayError::Store(StoreError::Database(e)),
        }
    }
}

impl GatewayError {
    /// A stable code for machines (JSON `code`, logs); never changes once published.
    pub fn code(&self) -> &'static str {
        use GatewayError::*;
        match self {
            InvalidField { .. } => "invalid_field",
            UnknownMerchant => "unknown_merchant",
            MerchantInactive => "merchant_inactive",
            CurrencyNotAllowed(_) => "currency_not_allowed",
            NoExchangeRate { .. } => "no_exchange_rate",
            BadCheckValue => "bad_checkvalue",
            BadSignature => "bad_signature",
            TwoStageNotAllowed => "two_stage_not_allowed",
            MeansNotAllowed => "means_not_allowed",
            OrderNumberPaid => "order_number_paid",
            OrderNumberInUse => "order_number_in_use",
            OrderNotFound => "order_not_found",
            OrderExpired => "order_expired",
            WrongState(_) => "wrong_state",
            PaymentInProgress => "payment_in_progress",
            AlreadyPaid => "already_paid",
            DailyCapReached => "daily_cap_reached",
            NoChallenge => "no_challenge",
            AlreadyConfirmed { .. } => "already_confirmed",
            ConfirmDeadlinePassed => "confirm_deadline_passed",
            ExternalRefundIdReused => "external_refund_id_reused",
            PlanChanged => "plan_changed",
            Confirm(ConfirmError::NotTwoStage) => "not_two_stage",
            Confirm(ConfirmError::WrongState(_)) => "wrong_state",
            Confirm(_) => "invalid_amount",
            Cancel(CancelError::ExceedsRemaining { .. }) => "exceeds_remaining",
            Cancel(CancelError::WrongState(_)) => "wrong_state",
            Cancel(CancelError::PartialCancelOfDelayed) => "partial_cancel_of_delayed",
            Cancel(CancelError::SettlementInProgress) => "settlement_in_progress",
            Cancel(CancelError::NotPositive) => "invalid_amount",
            Card(_) => "invalid_card",
            ProcessorUnavailable => "processor_unavailable",
            Store(_) => "internal_error",
        }
    }

    /// The request field at fault, in Assist spelling, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            GatewayError::InvalidField { field, .. } => Some(field),
            GatewayError::UnknownMerchant | GatewayError::MerchantInactive => Some("Merchant_ID"),
            GatewayError::CurrencyNotAllowed(_) | GatewayError::NoExchangeRate { .. } => Some("OrderCurrency"),
            GatewayError::BadCheckValue => Some("Checkvalue"),
            GatewayError::BadSignature => Some("Signature"),
            GatewayError::TwoStageNotAllowed => Some("Delay"),
            GatewayError::OrderNumberPaid | GatewayError::OrderNumberInUse => Some("OrderNumber"),
            GatewayError::Confirm(_) | GatewayError::Cancel(CancelError::ExceedsRemaining { .. }) => Some("Amount"),
            _ => None,
        }
    }

    pub fn invalid(field: &'static str, reason: impl Into<String>) -> GatewayError {
        GatewayError::InvalidField { field, reason: reason.into() }
    }
}
