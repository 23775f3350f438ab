//! Protection of the machine-facing endpoints (Assist services, JSON API): rate limits, the
//! credential cache and the audit log. Body sizes are limited where the routes are registered.

pub mod audit;
mod credentials;
mod limits;

pub use credentials::CredentialCache;
pub use limits::{Limited, RateLimiter};

/// Shared by all workers of one server (registered once in [`crate::startup`]).
pub struct Protection {
    pub limits: RateLimiter,
    pub credentials: CredentialCache,
    /// Password verifications running at once. Each argon2 check takes 19 MiB and a core for
    /// tens of milliseconds; a burst of logins waits here instead of exhausting memory.
    pub verifications: tokio::sync::Semaphore,
    /// Account sign-in attempts per client IP, whatever the login (besides the per-login lock).
    pub sign_ins: RateLimiter,
}

const CONCURRENT_VERIFICATIONS: usize = 4;
/// Two a second with a burst of twenty: enough for people, far too few for guessing.
const SIGN_INS_PER_MINUTE: u32 = 120;

impl Protection {
    pub fn new(rate_limit_per_minute: u32) -> Protection {
        Protection {
            limits: RateLimiter::new(rate_limit_per_minute),
            credentials: CredentialCache::default(),
            verifications: tokio::sync::Semaphore::new(CONCURRENT_VERIFICATIONS),
            sign_ins: RateLimiter::new(SIGN_INS_PER_MINUTE),
        }
    }

    pub fn check_ip(&self, req: &actix_web::HttpRequest) -> Result<(), Limited> {
        match req.peer_addr() {
            Some(addr) => self.limits.check(&format!("ip:{}", addr.ip())),
            None => Ok(()),
        }
    }

    pub fn check_merchant(&self, merchant_number: i64) -> Result<(), Limited> {
        self.limits.check(&format!("merchant:{merchant_number}"))
    }
}

/// The client's address as Kassa saw it (no proxy headers: they can be forged).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}
