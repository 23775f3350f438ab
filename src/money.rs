//! Currencies, amounts as Assist shops send them, formatting and conversion.
//!
//! Amounts live as `i64` minor units beside their currency; `rust_decimal` parses, prints and
//! converts them at the edges, never `f64`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::*;

/// An ISO 4217 currency Kassa knows, with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

const CURRENCIES: &[Currency] = &[
    Currency { code: "RUB", exponent: 2 },
    Currency { code: "USD", exponent: 2 },
    Currency { code: "EUR", exponent: 2 },
    Currency { code: "BYN", exponent: 2 },
    Currency { code: "KZT", exponent: 2 },
    Currency { code: "UAH", exponent: 2 },
    Currency { code: "GBP", exponent: 2 },
    Currency { code: "CNY", exponent: 2 },
    Currency { code: "CHF", exponent: 2 },
    Currency { code: "JPY", exponent: 0 },
    Currency { code: "KWD", exponent: 3 },
    Currency { code: "BHD", exponent: 3 },
];

impl Currency {
    pub fn code(self) -> &'static str {
        self.code
    }

    pub fn exponent(self) -> u32 {
        self.exponent
    }
}

impl FromStr for Currency {
    type Err = AmountError;

    /// Exact upper-case ISO code; `rub` is accepted too, as shops send it.
    fn from_str(s: &str) -> Result<Currency, AmountError> {
        CURRENCIES
            .iter()
            .copied()
            .find(|c| c.code.eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| AmountError::UnknownCurrency(s.chars().take(8).collect()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("not an amount")]
    Malformed,
    #[error("more than 15 digits")]
    TooManyDigits,
    #[error("{currency} has {allowed} decimal places at most")]
    TooManyDecimals { currency: &'static str, allowed: u32 },
    #[error("must be greater than zero")]
    NotPositive,
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
}

/// A positive amount in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses an amount the way Assist shops send it: `10.34`, `10,34` or `10`. At most 15
    /// digits, typed and as printed with the currency's decimals, never more decimals than the
    /// currency has, never zero or negative, no signs,
    /// spaces, exponents or thousands separators.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, AmountError> {
        let normalized = text.replacen(',', ".", 1);
        let (int, frac) = match normalized.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (normalized.as_str(), None),
        };
        let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits_only(int) || frac.is_some_and(|f| !digits_only(f)) {
            return Err(AmountError::Malformed);
        }
        let frac = frac.unwrap_or("");
        if int.len() + frac.len() > 15 {
            return Err(AmountError::TooManyDigits);
        }
        if frac.len() as u32 > currency.exponent {
            return Err(AmountError::TooManyDecimals { currency: currency.code, allowed: currency.exponent });
        }
        let value = Decimal::from_str(&format!("{int}.{}", if frac.is_empty() { "0" } else { frac }))
            .map_err(|_| AmountError::Malformed)?;
        let minor = (value * Decimal::from(10i64.pow(currency.exponent))).to_i64().ok_or(AmountError::TooManyDigits)?;
        if minor <= 0 {
            return Err(AmountError::NotPositive);
        }
        // 15 digits as Kassa prints the amount back (with all the currency's decimals), not
        // only as typed: `6200000626002` KWD was accepted and printed `6200000626002.000`, which
        // Kassa then refused to read back (found by `bench/fuzz` `amount`).
        if minor >= 10i64.pow(15) {
            return Err(AmountError::TooManyDigits);
        }
        Ok(Money { minor, currency })
    }

    pub fn as_decimal(&self) -> Decimal {
        Decimal::new(self.minor, self.currency.exponent)
    }
}

impl fmt::Display for Money {
    /// `10.34` for RUB, `1000` for JPY, `1.500` for KWD: the form Assist answers carry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_decimal())
    }
}

/// Formats minor units of a currency code, falling back to two decimals for an unknown code.
pub fn format_minor(minor: i64, currency: &str) -> String {
    let exponent = Currency::from_str(currency).map(|c| c.exponent).unwrap_or(2);
    Decimal::new(minor, exponent).to_string()
}

/// Converts `amount` into `to` at `rate` (units of `to` per unit of the amount's currency).
///
/// Rounding rule: the exact product is rounded to the target currency's minor unit, half away
/// from zero (0.005 → 0.01), the rule card schemes and most banks use for conversion. Returns
/// `None` if the result is zero or does not fit.
pub fn convert(amount: Money, rate: Decimal, to: Currency) -> Option<Money> {
    if rate <= Decimal::ZERO {
        return None;
    }
    let exact = amount.as_decimal().checked_mul(rate)?;
    let rounded = exact.round_dp_with_strategy(to.exponent, RoundingStrategy::MidpointAwayFromZero);
    let minor = rounded.checked_mul(Decimal::from(10i64.pow(to.exponent)))?.to_i64()?;
    (minor > 0).then_some(Money { minor, currency: to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        code.parse().unwrap()
    }

    #[test]
    fn parses_what_shops_send() {
        assert_eq!(Money::parse("10.34", cur("RUB")).unwrap().minor, 1034);
        assert_eq!(Money::parse("10,34", cur("RUB")).unwrap().minor, 1034);
        assert_eq!(Money::parse("10", cur("RUB")).unwrap().minor, 1000);
        assert_eq!(Money::parse("10.5", cur("USD")).unwrap().minor, 1050);
        assert_eq!(Money::parse("1000", cur("JPY")).unwrap().minor, 1000);
        assert_eq!(Money::parse("1.234", cur("KWD")).unwrap().minor, 1234);
        assert_eq!(Money::parse("237.40", cur("RUB")).unwrap().to_string(), "237.40");
        assert_eq!(Money::parse("999999999999999", cur("JPY")).unwrap().minor, 999_999_999_999_999);
    }

    #[test]
    fn refuses_bad_amounts() {
        let rub = cur("RUB");
        assert_eq!(Money::parse("10.345", rub), Err(AmountError::TooManyDecimals { currency: "RUB", allowed: 2 }));
        assert_eq!(Money::parse("0", rub), Err(AmountError::NotPositive));
        assert_eq!(Money::parse("0.00", rub), Err(AmountError::NotPositive));
        assert_eq!(Money::parse("1234567890123456", rub), Err(AmountError::TooManyDigits));
        assert_eq!(Money::parse("12345678901234.56", rub), Err(AmountError::TooManyDigits));
        assert_eq!(Money::parse("6200000626002", cur("KWD")), Err(AmountError::TooManyDigits));
        assert_eq!(Money::parse("99999999999999", rub), Err(AmountError::TooManyDigits));
        let most = Money::parse("9999999999999", rub).unwrap();
        assert_eq!(Money::parse(&most.to_string(), rub), Ok(most), "what Kassa prints it reads back");
        for bad in ["-1", "+1", "1e3", " 1", "1 000", "1.2.3", "", ".5", "5.", "abc", "1,000.00", "١٢"] {
            assert_eq!(Money::parse(bad, rub), Err(AmountError::Malformed), "{bad:?}");
        }
        assert!(matches!(Money::parse("10.5", cur("JPY")), Err(AmountError::TooManyDecimals { .. })));
        assert!(matches!(Money::parse("10.340", rub), Err(AmountError::TooManyDecimals { .. })));
        assert!("XXX".parse::<Currency>().is_err());
    }

    #[test]
    fn converts_half_away_from_zero() {
        let usd = Money::parse("10.00", cur("USD")).unwrap();
        let rub = convert(usd, Decimal::from_str("92.1234").unwrap(), cur("RUB")).unwrap();
        assert_eq!(rub.minor, 92_123); // 921.234 → 921.23
        let half = Money::parse("0.01", cur("USD")).unwrap();
        assert_eq!(convert(half, Decimal::from_str("0.5").unwrap(), cur("EUR")).unwrap().minor, 1); // 0.005 → 0.01
        assert_eq!(convert(half, Decimal::from_str("0.4").unwrap(), cur("EUR")), None);
        let eur = Money::parse("1.00", cur("EUR")).unwrap();
        assert_eq!(convert(eur, Decimal::from_str("161.505").unwrap(), cur("JPY")).unwrap().minor, 162);
    }
}
