//! Assist check values (`reference/assist-protocol.md` §2.3, §4.3, §5).
//!
//! Two formulas exist in the wild; both start from `MD5(secret)`, which is all Kassa stores:
//! - B: `UPPER(MD5(UPPER(MD5(secret) + MD5(X))))`, the official SDK's;
//! - A: `UPPER(MD5(UPPER(MD5(secret)) + MD5(X)))`, Bitrix `check()`'s.
//!
//! `MD5` is the lower-case hex digest. Requests are accepted in either variant; answers are
//! signed with the merchant's chosen one (B by default).

use md5::{Digest, Md5};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    A,
    B,
}

impl Variant {
    pub fn parse(s: &str) -> Variant {
        if s == "A" { Variant::A } else { Variant::B }
    }
}

/// How the merchant's payment requests must be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestMode {
    /// No check value required (one is still verified if sent).
    Off,
    /// `Merchant_ID;OrderNumber;OrderAmount;OrderCurrency[;optional…]`, the current rule.
    Delimited,
    /// The same four values with no delimiter, the legacy rule.
    Concatenated,
}

impl RequestMode {
    pub fn parse(s: &str) -> Option<RequestMode> {
        match s {
            "off" => Some(RequestMode::Off),
            "delimited" => Some(RequestMode::Delimited),
            "concatenated" => Some(RequestMode::Concatenated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequestMode::Off => "off",
            RequestMode::Delimited => "delimited",
            RequestMode::Concatenated => "concatenated",
        }
    }
}

/// Lower-case hex MD5, as PHP's `md5()`.
pub fn md5_hex(data: &str) -> String {
    hex::encode(Md5::digest(data.as_bytes()))
}

/// The check value of string `x` for a merchant whose secret's MD5 is `secret_md5`.
pub fn compute(secret_md5: &str, x: &str, variant: Variant) -> String {
    let secret = secret_md5.to_ascii_lowercase();
    let inner = match variant {
        Variant::B => format!("{secret}{}", md5_hex(x)).to_ascii_uppercase(),
        Variant::A => format!("{}{}", secret.to_ascii_uppercase(), md5_hex(x)),
    };
    md5_hex(&inner).to_ascii_uppercase()
}

/// The string X of a payment request. `optional` are `CustomerNumber`, `Disable3DS`,
/// `Prepayment` (in that order, after `OrderMaxPoints`); each is appended only if sent and
/// non-zero, and only in the delimited mode.
pub fn request_string(mode: RequestMode, fields: [&str; 4], optional: &[&str]) -> String {
    match mode {
        RequestMode::Concatenated => fields.concat(),
        RequestMode::Delimited | RequestMode::Off => {
            let mut parts: Vec<&str> = fields.to_vec();
            parts.extend(optional.iter().copied().filter(|v| !v.is_empty() && *v != "0"));
            parts.join(";")
        }
    }
}

/// Verifies a request check value in either variant, in constant time over the candidates.
pub fn verify(secret_md5: &str, x: &str, given: &str) -> bool {
    let given = given.trim().to_ascii_uppercase();
    let mut ok = false;
    for variant in [Variant::A, Variant::B] {
        ok |= constant_time_eq(compute(secret_md5, x, variant).as_bytes(), given.as_bytes());
    }
    ok
}

/// The check value of an answer or notification: `merchant_id + ordernumber + amount + currency
/// + orderstate`, no delimiters.
pub fn response(
    secret_md5: &str,
    variant: Variant,
    merchant_id: i64,
    order_number: &str,
    amount: &str,
    currency: &str,
    state: &str,
) -> String {
    compute(secret_md5, &response_string(merchant_id, order_number, amount, currency, state), variant)
}

/// The string X of an answer or notification, which the RSA `signature` signs as well.
pub fn response_string(merchant_id: i64, order_number: &str, amount: &str, currency: &str, state: &str) -> String {
    format!("{merchant_id}{order_number}{amount}{currency}{state}")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: &str = "679471;sdk-20261126180735-5f9fa7-1;100.00;RUB";

    #[test]
    fn reference_vectors() {
        let secret = md5_hex("s3cret-word");
        assert_eq!(compute(&secret, X, Variant::B), "B11AAF5BE5EB7D25971053A6678E5D62");
        assert_eq!(compute(&secret, X, Variant::A), "722B9AAF6E513FB0718599659D64C5ED");
        assert!(verify(&secret, X, "b11aaf5be5eb7d25971053a6678e5d62"));
        assert!(verify(&secret, X, "722B9AAF6E513FB0718599659D64C5ED"));
        assert!(!verify(&secret, X, "722B9AAF6E513FB0718599659D64C5EE"));
        assert!(!verify(&md5_hex("other"), X, "B11AAF5BE5EB7D25971053A6678E5D62"));
    }

    #[test]
    fn request_strings_in_both_modes() {
        let f = ["679471", "sdk-20261126180735-5f9fa7-1", "100.00", "RUB"];
        assert_eq!(request_string(RequestMode::Delimited, f, &[]), X);
        assert_eq!(request_string(RequestMode::Delimited, f, &["", "1", "0"]), format!("{X};1"));
        assert_eq!(request_string(RequestMode::Concatenated, f, &["1"]), "679471sdk-20261126180735-5f9fa7-1100.00RUB");
    }

    #[test]
    fn response_string_has_no_delimiters() {
        let secret = md5_hex("s3cret-word");
        let expected = compute(&secret, "679471order-1100.00RUBApproved", Variant::B);
        assert_eq!(response(&secret, Variant::B, 679471, "order-1", "100.00", "RUB", "Approved"), expected);
        // Independently computed: MD5(UPPER(MD5(secret) + MD5(X))).
        let manual =
            md5_hex(&format!("{}{}", secret, md5_hex("679471order-1100.00RUBApproved")).to_uppercase()).to_uppercase();
        assert_eq!(expected, manual);
    }
}
