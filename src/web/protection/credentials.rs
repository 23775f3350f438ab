//! Remembers recently verified passwords so that a busy web-service client does not pay an
//! argon2 verification (tens of milliseconds, 19 MiB) on every call.
//!
//! An entry is a keyed SHA-256 of login, password and the stored hash under a random key made
//! at start: a changed password (new hash) misses the cache, and a memory dump does not give
//! fast-to-brute-force password hashes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 10_000;

pub struct CredentialCache {
    key: [u8; 32],
    entries: Mutex<HashMap<[u8; 32], Instant>>,
}

impl Default for CredentialCache {
    fn default() -> Self {
        CredentialCache { key: rand::random(), entries: Mutex::new(HashMap::new()) }
    }
}

impl CredentialCache {
    fn fingerprint(&self, login: &str, password: &str, hash: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        for part in [login, password, hash] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize().into()
    }

    pub fn knows(&self, login: &str, password: &str, hash: &str) -> bool {
        let fp = self.fingerprint(login, password, hash);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&fp).is_some_and(|at| at.elapsed() < TTL)
    }

    pub fn remember(&self, login: &str, password: &str, hash: &str) {
        let fp = self.fingerprint(login, password, hash);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, at| at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(fp, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_login_password_and_hash_hit() {
        let cache = CredentialCache::default();
        cache.remember("shop", "password-1", "$argon2id$a");
        assert!(cache.knows("shop", "password-1", "$argon2id$a"));
        assert!(!cache.knows("shop", "password-2", "$argon2id$a"));
        assert!(!cache.knows("shop", "password-1", "$argon2id$b"));
        assert!(!cache.knows("shop2", "password-1", "$argon2id$a"));
    }
}
