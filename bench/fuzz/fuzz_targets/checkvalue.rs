//! The check-value verifier: never panics, accepts what `compute` makes in either variant (in
//! any letter case, with surrounding spaces), and rejects a changed string X.
#![no_main]

use kassa::assist::checkvalue::{RequestMode, Variant, compute, md5_hex, request_string, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, [&str; 4])| {
    let (secret, x, given, fields) = input;
    let secret_md5 = md5_hex(secret);
    let _ = verify(&secret_md5, x, given);
    let _ = verify(secret, x, given);
    for variant in [Variant::A, Variant::B] {
        let value = compute(&secret_md5, x, variant);
        assert!(verify(&secret_md5, x, &value));
        assert!(verify(&secret_md5, x, &format!(" {} ", value.to_ascii_lowercase())));
        assert!(!verify(&secret_md5, &format!("{x}1"), &value), "a changed X still verifies");
    }
    for mode in [RequestMode::Delimited, RequestMode::Concatenated, RequestMode::Off] {
        let s = request_string(mode, fields, &[given, "0", ""]);
        assert!(s.starts_with(fields[0]));
    }
});
