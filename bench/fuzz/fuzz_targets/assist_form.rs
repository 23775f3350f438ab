//! The web services' form parser (`Fields`) and what every call reads from it first: the
//! `Format`, numbers, required fields. Any body: no panic.
#![no_main]

use kassa::web::services::answer::Format;
use kassa::web::services::fields::Fields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(fields) = Fields::parse(body) else { return };
    let _ = Format::of(&fields, Format::Xml);
    for name in ["Merchant_ID", "Login", "Password", "OrderNumber", "Billnumber", "Amount", "Currency", "Format"] {
        let (value, raw) = (fields.get(name), fields.raw(name));
        if let Some(v) = value {
            assert!(!v.is_empty() && v == v.trim());
            assert!(raw.as_deref().is_some_and(|r| r.contains(v)));
        }
        let _ = fields.required("OrderNumber");
    }
    if let Ok(Some(n)) = fields.number("CancelReason", 1..=3) {
        assert!((1..=3).contains(&n));
    }
});
