//! Assist response codes (`responsecode`, §3.4 of the protocol reference).

/// Authorization or operation successful.
pub const SUCCESS: &str = "AS000";
/// Declined (generic).
pub const DECLINED: &str = "AS100";
pub const WRONG_CARD_DATA: &str = "AS101";
pub const INSUFFICIENT_FUNDS: &str = "AS102";
pub const WRONG_EXPIRY: &str = "AS104";
pub const FRAUD_SUSPECTED: &str = "AS108";
/// Declined: Assist operation limit exceeded. Kassa answers it when a payment would take the
/// merchant beyond its daily turnover cap.
pub const OPERATION_LIMIT: &str = "AS109";
/// Operation in progress.
pub const IN_PROGRESS: &str = "AS300";
/// No payment with such parameters.
pub const NO_SUCH_PAYMENT: &str = "AS400";
/// System error.
pub const SYSTEM_ERROR: &str = "AS998";

/// The message Kassa stores beside a code; shown to merchants in answers and the monitor.
pub fn message(code: &str) -> &'static str {
    match code {
        SUCCESS => "Operation successful",
        DECLINED => "Authorization declined",
        WRONG_CARD_DATA => "Declined: wrong card number or card data",
        INSUFFICIENT_FUNDS => "Declined: insufficient funds",
        WRONG_EXPIRY => "Declined: wrong expiry date",
        "AS105" => "Declined: card limit exceeded",
        "AS107" => "Declined: data reception error",
        FRAUD_SUSPECTED => "Declined: fraud suspected",
        OPERATION_LIMIT => "Declined: operation limit exceeded",
        "AS110" => "Declined: 3-D Secure authentication required",
        IN_PROGRESS => "Operation in progress",
        NO_SUCH_PAYMENT => "No payment with such parameters",
        SYSTEM_ERROR => "System error",
        _ => "Declined",
    }
}
