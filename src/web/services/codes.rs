//! Request-level errors of the Assist web services: `firstcode` / `secondcode`.
//!
//! No official table exists (reference §4.4). Kassa uses the codes the reference found in shop
//! modules and extends them in the same spirit: `firstcode` says what kind of failure it is,
//! `secondcode` names the faulty parameter by its number. The same table is in
//! `docs/webservices.md`; both must change together.
//!
//! | firstcode | secondcode | HTTP | Meaning |
//! |---|---|---|---|
//! | 0 | 0 | 200 | Success. |
//! | 1 | 0 | 500 | Internal error; nothing to fix in the request, try again later. |
//! | 1 | 1 | 503 | The processing center did not answer; the operation is left for recovery. |
//! | 5 | 100 | 401 | Authentication refused: unknown `Merchant_ID`, wrong `Login`/`Password`, a user without the web-services right, or a merchant of another enterprise. One answer for all, so nothing is learned from it. |
//! | 5 | 104 | 400 | A date field (`Start…`/`End…`, `DateTimeMode`) is wrong, or the window is longer than allowed. |
//! | 5 | 105 | 400 | Currency: unknown, not accepted by the merchant, not the order's, or `Currency` without `Amount`. |
//! | 5 | 106 | 400 | Card data. |
//! | 5 | 107 | 400 / 404 | `OrderNumber` malformed (400) or no order with it in the window (404). |
//! | 5 | 108 | 400 | Amount malformed, not positive, too many decimals, or `Amount` without `Currency`. |
//! | 5 | 110 | 400 | `OrderComment`. |
//! | 5 | 116 | 400 | `ClientIP`. |
//! | 5 | 117 / 118 / 119 / 120 | 400 | `Lastname` / `Firstname` / `Middlename` / `Email`. |
//! | 5 | 128 | 400 | `Country`. |
//! | 5 | 143 | 400 / 404 | `Billnumber` malformed (400) or unknown for this merchant (404). |
//! | 5 | 158 | 400 | `Checkvalue` does not match. |
//! | 5 | 159 | 400 | `Signature` missing (the merchant requires one) or does not match. |
//! | 5 | 201 | 400 | `Format` not supported (Kassa answers 1 CSV, 3 XML, 5 JSON), or the body is not a form. |
//! | 5 | 202 | 400 | `CancelReason` is not 1, 2 or 3. |
//! | 5 | 203 | 400 | `Externalrefundid` is not 10–100 characters of `A-Z a-z 0-9 _ -`. |
//! | 5 | 204 | 400 | `Operationstate` is not one of N, P, S, F, T. |
//! | 5 | 205 | 400 | `Operationtype` is not one of A, C, R. |
//! | 5 | 206 | 400 | `TestMode` is not 0 or 1. |
//! | 5 | 207 | 400 | `Language` is not RU or EN. |
//! | 5 | 208 | 400 | `Delay`: not 0/1, or two-stage payment is not enabled for the merchant. |
//! | 5 | 209 | 400 | Payment-means flags: not 0/1, all zero, or none the merchant accepts. |
//! | 5 | 210 | 400 | A return URL (`URL_RETURN`, `URL_RETURN_OK`, `URL_RETURN_NO`). |
//! | 5 | 211 | 400 | Another customer field (`MobilePhone`, `Address`, `City`, `Zip`). |
//! | 5 | 212 | 400 | `OrderMaxPoints`, `CustomerNumber`, `Disable3DS` or `Prepayment`. |
//! | 5 | 299 | 400 | Any other field. |
//! | 6 | 107 | 409 | The order number is already paid, or an unpaid attempt with another amount is open. |
//! | 6 | 108 | 409 | The amount conflicts with the order: more than is left to cancel, or a second confirmation with another amount. |
//! | 6 | 143 | 409 | The order's state does not allow the operation (not paid, not two-stage, expired, confirmation deadline passed, settlement in progress, partial cancel of a `Delayed` order…). |
//! | 6 | 203 | 409 | `Externalrefundid` was already used in this order for another amount. |
//!
//! `message` (JSON) and the `message` attribute (XML) carry a text and the stable machine code
//! of [`crate::gateway::GatewayError::code`] for logs; clients should branch on the numbers.

use actix_web::http::StatusCode;

use crate::domain::{CancelError, ConfirmError};
use crate::gateway::{GatewayError, SigningKeyError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub firstcode: u16,
    pub secondcode: u16,
    pub status: StatusCode,
    /// Stable machine code (`GatewayError::code` where there is one).
    pub code: &'static str,
    pub message: String,
}

/// The number of a request field (secondcode), from the shop modules' table and Kassa's extension.
pub fn field_number(field: &str) -> u16 {
    match field.to_ascii_lowercase().as_str() {
        "merchant_id" | "login" | "password" => 100,
        f if f.starts_with("start") || f.starts_with("end") || f == "datetimemode" => 104,
        "ordercurrency" | "currency" => 105,
        "card" | "cardnumber" => 106,
        "ordernumber" => 107,
        "orderamount" | "amount" => 108,
        "ordercomment" => 110,
        "clientip" => 116,
        "lastname" => 117,
        "firstname" => 118,
        "middlename" => 119,
        "email" => 120,
        "country" => 128,
        "billnumber" => 143,
        "checkvalue" => 158,
        "signature" => 159,
        "format" => 201,
        "cancelreason" => 202,
        "externalrefundid" => 203,
        "operationstate" => 204,
        "operationtype" => 205,
        "testmode" => 206,
        "language" => 207,
        "delay" => 208,
        "cardpayment" | "walletpayment" => 209,
        "url_return" | "url_return_ok" | "url_return_no" => 210,
        "mobilephone" | "address" | "city" | "zip" => 211,
        "ordermaxpoints" | "customernumber" | "disable3ds" | "prepayment" => 212,
        _ => 299,
    }
}

impl ServiceError {
    /// A malformed or missing field: 5 / the field's number.
    pub fn field(field: &str, reason: impl std::fmt::Display) -> ServiceError {
        ServiceError {
            firstcode: 5,
            secondcode: field_number(field),
            status: StatusCode::BAD_REQUEST,
            code: "invalid_field",
            message: format!("{field}: {reason}"),
        }
    }

    /// Every authentication failure looks the same.
    pub fn denied() -> ServiceError {
        ServiceError {
            firstcode: 5,
            secondcode: 100,
            status: StatusCode::UNAUTHORIZED,
            code: "access_denied",
            message: "Merchant_ID, Login or Password is wrong, or the user may not use web services".into(),
        }
    }

    pub fn not_found(field: &str) -> ServiceError {
        ServiceError {
            firstcode: 5,
            secondcode: field_number(field),
            status: StatusCode::NOT_FOUND,
            code: "order_not_found",
            message: format!("no order with this {field}"),
        }
    }

    pub fn internal() -> ServiceError {
        ServiceError {
            firstcode: 1,
            secondcode: 0,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "internal error".into(),
        }
    }

    fn refused(secondcode: u16, e: &GatewayError) -> ServiceError {
        ServiceError { firstcode: 6, secondcode, status: StatusCode::CONFLICT, code: e.code(), message: e.to_string() }
    }
}

impl From<GatewayError> for ServiceError {
    fn from(e: GatewayError) -> ServiceError {
        use GatewayError::*;
        let with_code = |mut s: ServiceError, e: &GatewayError| {
            s.code = e.code();
            s.message = e.to_string();
            s
        };
        match &e {
            InvalidField { field, reason } => ServiceError::field(field, reason),
            UnknownMerchant | MerchantInactive => ServiceError::denied(),
            CurrencyNotAllowed(_) | NoExchangeRate { .. } => with_code(ServiceError::field("Currency", ""), &e),
            BadCheckValue => with_code(ServiceError::field("Checkvalue", ""), &e),
            BadSignature => with_code(ServiceError::field("Signature", ""), &e),
            TwoStageNotAllowed => with_code(ServiceError::field("Delay", ""), &e),
            MeansNotAllowed => with_code(ServiceError::field("CardPayment", ""), &e),
            Card(_) => with_code(ServiceError::field("Card", ""), &e),
            Confirm(ConfirmError::WrongState(_) | ConfirmError::NotTwoStage) => ServiceError::refused(143, &e),
            Confirm(_) | Cancel(CancelError::NotPositive) => with_code(ServiceError::field("Amount", ""), &e),
            OrderNumberPaid | OrderNumberInUse => ServiceError::refused(107, &e),
            AlreadyConfirmed { .. } | Cancel(CancelError::ExceedsRemaining { .. }) => ServiceError::refused(108, &e),
            ExternalRefundIdReused => ServiceError::refused(203, &e),
            OrderNotFound => ServiceError::not_found("Billnumber"),
            OrderExpired
            | WrongState(_)
            | PaymentInProgress
            | AlreadyPaid
            | DailyCapReached
            | NoChallenge
            | ConfirmDeadlinePassed
            | PlanChanged
            | Cancel(_) => ServiceError::refused(143, &e),
            ProcessorUnavailable => ServiceError {
                firstcode: 1,
                secondcode: 1,
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: e.code(),
                message: e.to_string(),
            },
            Store(err) => {
                tracing::error!(error = %err, "web service failed");
                ServiceError::internal()
            }
        }
    }
}

/// Kassa could not load or make its signing key: the merchant can do nothing about it.
impl From<SigningKeyError> for ServiceError {
    fn from(e: SigningKeyError) -> ServiceError {
        tracing::error!(error = %e, "web service cannot sign its answer");
        ServiceError::internal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_doc_table_matches_the_code() {
        let doc = include_str!("../../../docs/webservices.md");
        for (field, second) in [("Merchant_ID", 100), ("Billnumber", 143), ("Checkvalue", 158), ("Amount", 108)] {
            assert_eq!(field_number(field), second);
            assert!(doc.contains(&format!("| 5 | {second} |")), "docs/webservices.md lacks 5/{second}");
        }
        assert_eq!(ServiceError::from(GatewayError::OrderNotFound).secondcode, 143);
        assert_eq!(ServiceError::from(GatewayError::UnknownMerchant), ServiceError::denied());
    }
}
