//! Kassa's own RSA key pair. In signature mode ("PGP" in the reference, §4.3 and §5) Assist
//! signs what it sends a merchant with its private key, and the merchant verifies with the
//! public one; Kassa does the same with this key. The private half never leaves this type
//! except as the PEM the database keeps: no `Debug`, log line, audit entry or page shows it.

use rsa::RsaPrivateKey;
use rsa::pkcs8::der::zeroize::Zeroizing;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;

use super::signature;

/// The size of a generated key; loaded keys must have at least [`signature::MIN_BITS`].
pub const BITS: usize = 2048;

pub struct GatewayKey {
    private: RsaPrivateKey,
    public_pem: String,
    fingerprint: String,
}

impl GatewayKey {
    /// A new random key pair. Takes a noticeable fraction of a second: run it off the async
    /// threads.
    pub fn generate() -> Result<GatewayKey, rsa::Error> {
        Ok(GatewayKey::from_private(RsaPrivateKey::new(&mut rsa::rand_core::OsRng, BITS)?))
    }

    /// Reads the stored PKCS#8 PEM; the error never repeats the key.
    pub fn from_pem(pem: &str) -> Result<GatewayKey, String> {
        let private =
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|_| "not an RSA private key in PKCS#8 PEM".to_owned())?;
        if private.size() * 8 < signature::MIN_BITS {
            return Err(format!(
                "the key has {} bits; at least {} are required",
                private.size() * 8,
                signature::MIN_BITS
            ));
        }
        Ok(GatewayKey::from_private(private))
    }

    fn from_private(private: RsaPrivateKey) -> GatewayKey {
        let public = private.to_public_key();
        let public_pem = signature::to_pem(&public);
        let fingerprint = signature::fingerprint(&public);
        GatewayKey { private, public_pem, fingerprint }
    }

    /// The private key as the database stores it (PKCS#8 PEM), wiped from memory when dropped.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, rsa::pkcs8::Error> {
        self.private.to_pkcs8_pem(LineEnding::LF)
    }

    /// The public key (SubjectPublicKeyInfo PEM) merchants download to verify Kassa.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// `SHA256:<hex>` of the public key, as the pages show merchants' keys.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The base64 `signature` of `x`: RSA PKCS#1 v1.5 over MD5(X), the scheme Kassa verifies
    /// merchants' requests with. It cannot fail: the key has at least 2048 bits, far more than
    /// the 34 bytes of an MD5 DigestInfo need.
    pub fn sign(&self, x: &str) -> String {
        signature::sign(&self.private, x).expect("a key of at least 2048 bits signs an MD5 digest")
    }
}

/// Shows only the fingerprint, so a stray `{:?}` cannot print the private key.
impl std::fmt::Debug for GatewayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayKey").field("fingerprint", &self.fingerprint).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_what_the_published_key_verifies_and_survives_its_pem() {
        let key = GatewayKey::generate().unwrap();
        let x = "679471order-1100.00RUBApproved";
        let signature = key.sign(x);
        assert!(signature::verify(key.public_pem(), x, &signature));
        assert!(!signature::verify(key.public_pem(), "679471order-1100.01RUBApproved", &signature));

        let reloaded = GatewayKey::from_pem(&key.to_pem().unwrap()).unwrap();
        assert_eq!(reloaded.fingerprint(), key.fingerprint());
        assert!(signature::verify(key.public_pem(), x, &reloaded.sign(x)));
        assert!(!format!("{reloaded:?}").contains("PRIVATE"));
        assert!(GatewayKey::from_pem(key.public_pem()).is_err());
    }
}
