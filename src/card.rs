//! Card data. The full number and the CVC never leave these types in clear: `Debug` and
//! `Display` print a mask; the CVC is never stored and never printed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the card number is not valid")]
    Number,
    #[error("the expiry date is not valid")]
    Expiry,
    #[error("the card has expired")]
    Expired,
    #[error("the security code is not valid")]
    Cvc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    Visa,
    Mastercard,
    Mir,
    Amex,
    Other,
}

impl Brand {
    /// The Assist `meantypename`.
    pub fn name(self) -> &'static str {
        match self {
            Brand::Visa => "VISA",
            Brand::Mastercard => "MasterCard",
            Brand::Mir => "MIR",
            Brand::Amex => "AMEX",
            Brand::Other => "CARD",
        }
    }

    pub fn from_name(name: &str) -> Brand {
        [Brand::Visa, Brand::Mastercard, Brand::Mir, Brand::Amex]
            .into_iter()
            .find(|b| b.name() == name)
            .unwrap_or(Brand::Other)
    }

    fn of(digits: &str) -> Brand {
        let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
        match (prefix(1), prefix(2), prefix(4)) {
            (_, _, 2200..=2204) => Brand::Mir,
            (_, _, 2221..=2720) | (_, 51..=55, _) => Brand::Mastercard,
            (_, 34 | 37, _) => Brand::Amex,
            (4, _, _) => Brand::Visa,
            _ => Brand::Other,
        }
    }
}

/// A card number (PAN) that passed the Luhn check.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    /// Accepts 12–19 digits, with spaces or dashes between groups, that pass Luhn.
    pub fn parse(text: &str) -> Result<CardNumber, CardError> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if !(12..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || !luhn(&digits) {
            return Err(CardError::Number);
        }
        Ok(CardNumber(digits))
    }

    pub fn brand(&self) -> Brand {
        Brand::of(&self.0)
    }

    /// First six and last four digits, the rest as `*`: `411111******1111`. PCI DSS 3.4.1.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}{}{}", &self.0[..6], "*".repeat(n - 10), &self.0[n - 4..])
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// The digits, for the processing center only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

pub fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card expiry month and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u8,
    pub year: u16,
}

impl Expiry {
    /// `MM/YY`, `MM/YYYY` or month and year apart.
    pub fn parse(month: &str, year: &str) -> Result<Expiry, CardError> {
        let month: u8 = month.trim().parse().map_err(|_| CardError::Expiry)?;
        let year_text = year.trim();
        let year: u16 = year_text.parse().map_err(|_| CardError::Expiry)?;
        let year = match year_text.len() {
            2 => 2000 + year,
            4 => year,
            _ => return Err(CardError::Expiry),
        };
        if !(1..=12).contains(&month) {
            return Err(CardError::Expiry);
        }
        Ok(Expiry { month, year })
    }

    /// A card is valid through the last day of its expiry month.
    pub fn check_not_expired(self, today: time::Date) -> Result<Expiry, CardError> {
        let (y, m) = (today.year(), u8::from(today.month()));
        if i32::from(self.year) < y || (i32::from(self.year) == y && self.month < m) {
            return Err(CardError::Expired);
        }
        Ok(self)
    }

    /// The Assist `cardexpirationdate` form, `MM/YY`.
    pub fn assist(self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }
}

/// The card security code. Checked for shape and passed to the processor; never stored,
/// never printed.
#[derive(Clone)]
pub struct Cvc(String);

impl Cvc {
    /// Three digits, four for Amex.
    pub fn parse(text: &str, brand: Brand) -> Result<Cvc, CardError> {
        let want = if brand == Brand::Amex { 4 } else { 3 };
        let t = text.trim();
        if t.len() != want || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CardError::Cvc);
        }
        Ok(Cvc(t.to_owned()))
    }

    /// The digits, for the processing center only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

/// What the customer typed on the card form, validated.
#[derive(Debug, Clone)]
pub struct Card {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvc: Cvc,
    pub holder: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_pass_luhn_and_get_their_brand() {
        for (n, brand) in [
            ("4111 1111 1111 1111", Brand::Visa),
            ("5555 5555 5555 4444", Brand::Mastercard),
            ("2200 0000 0000 0004", Brand::Mir),
            ("3782 822463 10005", Brand::Amex),
            ("2221000000000009", Brand::Mastercard),
        ] {
            assert_eq!(CardNumber::parse(n).unwrap().brand(), brand, "{n}");
        }
        assert_eq!(CardNumber::parse("4111 1111 1111 1112"), Err(CardError::Number));
        assert_eq!(CardNumber::parse("4111"), Err(CardError::Number));
    }

    #[test]
    fn the_number_never_prints_in_clear() {
        let n = CardNumber::parse("4111111111111111").unwrap();
        assert_eq!(n.to_string(), "411111******1111");
        assert_eq!(format!("{n:?}"), "CardNumber(411111******1111)");
        let card = Card {
            number: n,
            expiry: Expiry::parse("12", "30").unwrap(),
            cvc: Cvc::parse("123", Brand::Visa).unwrap(),
            holder: "IVAN PETROV".into(),
        };
        let debug = format!("{card:?}");
        assert!(!debug.contains("4111111111111111") && !debug.contains("123"), "{debug}");
    }

    #[test]
    fn expiry_and_cvc() {
        let today = time::macros::date!(2026 - 12 - 03);
        assert!(Expiry::parse("12", "26").unwrap().check_not_expired(today).is_ok());
        assert_eq!(Expiry::parse("11", "2026").unwrap().check_not_expired(today), Err(CardError::Expired));
        assert_eq!(Expiry::parse("13", "30"), Err(CardError::Expiry));
        assert!(Cvc::parse("1234", Brand::Amex).is_ok());
        assert!(Cvc::parse("123", Brand::Amex).is_err());
        assert!(Cvc::parse("12a", Brand::Visa).is_err());
    }
}
