//! `Money::parse`, the amount parser of every Assist form: never panics, accepts only positive
//! amounts, and what it accepts prints back to the same money.
#![no_main]

use std::str::FromStr;

use kassa::money::{Currency, Money};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for code in ["RUB", "USD", "JPY", "KWD"] {
        let currency = Currency::from_str(code).unwrap();
        if let Ok(m) = Money::parse(text, currency) {
            assert!(m.minor > 0, "{text:?} parsed to {}", m.minor);
            let again = Money::parse(&m.to_string(), currency).expect("a printed amount parses");
            assert_eq!(again.minor, m.minor, "{text:?} → {m} → {}", again.minor);
            let _ = kassa::money::format_minor(m.minor, code);
        }
    }
});
