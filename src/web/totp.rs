//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30-second steps, six
//! digits, the form every authenticator app reads from an `otpauth://` QR code.
//!
//! A code is accepted for the current step and one step either side (clock drift), and never
//! twice: the caller keeps the last accepted step and passes it back.

use hmac::{Hmac, Mac};
use qrcode::QrCode;
use qrcode::render::svg;
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
/// 160 bits, the size RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret, base32 without padding (how apps expect to see it typed).
pub fn new_secret() -> String {
    base32_encode(&rand::random::<[u8; SECRET_BYTES]>())
}

pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(BASE32[((bits >> (35 - i * 5)) & 31) as usize] as char);
        }
    }
    out
}

/// Decodes base32, ignoring case, spaces and padding; `None` for any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b' ' | b'=')) {
        let v = BASE32.iter().position(|&b| b == c.to_ascii_uppercase())? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The HOTP value of `counter` (RFC 4226 §5.3).
pub fn hotp(key: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

/// The step a unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The six-digit code of `secret` at `unix_secs`, zero-padded.
pub fn code_at(secret: &str, unix_secs: i64) -> Option<String> {
    let key = base32_decode(secret)?;
    Some(format!("{:06}", hotp(&key, step_of(unix_secs) as u64)))
}

/// Checks `code` against `secret` at `unix_secs`. Answers the step it matched, which the caller
/// stores so the same code (or an older one) is refused next time; `None` when it is wrong,
/// malformed or already used.
pub fn verify(secret: &str, code: &str, unix_secs: i64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret)?;
    let now = step_of(unix_secs);
    let mut matched = None;
    // All three are computed whatever matches, so timing does not tell which step it was.
    for step in [now - 1, now, now + 1] {
        let expected = format!("{:06}", hotp(&key, step as u64));
        if crate::web::account::constant_eq(expected.as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_step.is_none_or(|last| *step > last))
}

/// The `otpauth://` URI an authenticator app imports (the Key Uri Format).
pub fn uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The URI as an SVG QR code, rendered on the server (no script, allowed by the CSP).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(code.render::<svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (eight digits there; the last six here).
    #[test]
    fn rfc6238_vectors() {
        let secret = base32_encode(b"12345678901234567890");
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(&secret, t).unwrap(), eight[2..], "t={t}");
        }
    }

    #[test]
    fn base32_round_trip() {
        for len in 0..42 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi==").unwrap(), b"foobar");
        assert!(base32_decode("MZ1W").is_none());
    }

    #[test]
    fn window_and_replay() {
        let secret = new_secret();
        let t = 1_700_000_000;
        let code = code_at(&secret, t).unwrap();
        let step = verify(&secret, &code, t, None).unwrap();
        assert_eq!(step, step_of(t));
        // One step late or early still passes; two do not.
        assert!(verify(&secret, &code, t + STEP_SECS, None).is_some());
        assert!(verify(&secret, &code, t - STEP_SECS, None).is_some());
        assert!(verify(&secret, &code, t + 2 * STEP_SECS + STEP_SECS, None).is_none());
        // Used once: refused again.
        assert!(verify(&secret, &code, t, Some(step)).is_none());
        assert!(verify(&secret, "12345", t, None).is_none());
        assert!(verify(&secret, "abcdef", t, None).is_none());
    }

    #[test]
    fn uri_and_qr() {
        let u = uri("Kassa", "shop manager", "JBSWY3DPEHPK3PXP");
        assert!(u.starts_with("otpauth://totp/Kassa:shop%20manager?secret=JBSWY3DPEHPK3PXP&issuer=Kassa"));
        let svg = qr_svg(&u).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
