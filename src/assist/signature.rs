//! The RSA `Signature` of a payment request (`reference/assist-protocol.md` §2.3): the same
//! string X as the check value, hashed with MD5 and signed with the merchant's private key,
//! RSA PKCS#1 v1.5 padding, sent in base64. Kassa keeps only the public key, uploaded in the
//! admin area. The answers and notifications Kassa signs itself in signature mode (§4.3, §5)
//! use the same scheme with Kassa's own key ([`super::gateway_key`]).

use base64::Engine;
use md5::{Digest, Md5};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

/// Shorter keys are refused: 1024-bit RSA (the reference's sample) is no longer safe.
pub const MIN_BITS: usize = 2048;

/// Reads a PEM public key, SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) or PKCS#1
/// (`BEGIN RSA PUBLIC KEY`), of at least [`MIN_BITS`]; the error is a sentence for the admin.
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, String> {
    let pem = pem.trim();
    let key = RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| "Not an RSA public key in PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY).".to_owned())?;
    let bits = key.size() * 8;
    if bits < MIN_BITS {
        return Err(format!("The key has {bits} bits; at least {MIN_BITS} are required."));
    }
    Ok(key)
}

/// The key as Kassa stores it: SubjectPublicKeyInfo PEM.
pub fn to_pem(key: &RsaPublicKey) -> String {
    key.to_public_key_pem(LineEnding::LF).unwrap_or_default()
}

/// `SHA256:<hex>` of the key's DER, what the admin page and the audit log show of a key.
pub fn fingerprint(key: &RsaPublicKey) -> String {
    let der = key.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
    format!("SHA256:{}", hex::encode(Sha256::digest(der)))
}

/// Whether `signature` (base64) signs `x` under the stored key `pem`.
pub fn verify(pem: &str, x: &str, signature: &str) -> bool {
    let Ok(key) = parse_public_key(pem) else { return false };
    let compact: String = signature.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(compact) else { return false };
    key.verify(Pkcs1v15Sign::new::<Md5>(), &Md5::digest(x.as_bytes()), &raw).is_ok()
}

/// The base64 signature of `x` under `key`: the scheme [`verify`] checks, from the signer's side.
/// Blinded with the OS random generator, so the time it takes tells nothing about the key.
pub fn sign(key: &RsaPrivateKey, x: &str) -> Result<String, rsa::Error> {
    let digest = Md5::digest(x.as_bytes());
    let raw = key.sign_with_rng(&mut rsa::rand_core::OsRng, Pkcs1v15Sign::new::<Md5>(), &digest)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

#[cfg(test)]
mod tests {
    use rsa::pkcs1::EncodeRsaPublicKey;

    use super::*;

    const X: &str = "679471;sdk-20261126180735-5f9fa7-1;100.00;RUB";

    #[test]
    fn verifies_md5_pkcs1_signatures_with_either_pem_form() {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let public = private.to_public_key();
        let signature = sign(&private, X).unwrap();
        for pem in [to_pem(&public), public.to_pkcs1_pem(LineEnding::CRLF).unwrap()] {
            let stored = to_pem(&parse_public_key(&pem).unwrap());
            assert!(verify(&stored, X, &signature));
            assert!(!verify(&stored, "679471;sdk-20261126180735-5f9fa7-1;100.01;RUB", &signature));
            assert!(!verify(&stored, X, "not base64!"));
        }
    }

    #[test]
    fn short_and_malformed_keys_are_refused() {
        let small = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap().to_public_key();
        assert_eq!(
            parse_public_key(&to_pem(&small)).unwrap_err(),
            "The key has 1024 bits; at least 2048 are required."
        );
        assert!(parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    }
}
