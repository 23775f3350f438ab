//! Rate limits: one token bucket per merchant and one per client IP, in memory.
//!
//! In memory is enough for one Kassa process; several processes behind a balancer each allow
//! the configured rate, which errs on the side of serving merchants.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    /// Tokens a bucket holds: ten seconds' worth, so short bursts pass.
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The request was over the limit; retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited(pub Duration);

impl Limited {
    pub fn retry_after_secs(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }

    /// `429` with `Retry-After`; the body in the caller's format is the caller's business.
    pub fn response(self, content_type: &str, body: String) -> HttpResponse {
        HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
            .insert_header(("Retry-After", self.retry_after_secs().to_string()))
            .content_type(content_type)
            .body(body)
    }
}

/// Buckets are forgotten once this many exist and they are full again.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// `per_minute` requests a minute per key; 0 turns the limit off.
    pub fn new(per_minute: u32) -> RateLimiter {
        let per_second = f64::from(per_minute) / 60.0;
        RateLimiter { capacity: (per_second * 10.0).max(1.0), per_second, buckets: Mutex::new(HashMap::new()) }
    }

    pub fn check(&self, key: &str) -> Result<(), Limited> {
        if self.per_second == 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: self.capacity, at: now });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Limited(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_bucket_refuses_with_a_wait() {
        let limiter = RateLimiter::new(60);
        for _ in 0..10 {
            limiter.check("ip:1").unwrap();
        }
        let limited = limiter.check("ip:1").unwrap_err();
        assert!(limited.retry_after_secs() >= 1);
        limiter.check("ip:2").expect("other keys have their own bucket");
        assert!(RateLimiter::new(0).check("x").is_ok());
    }
}
