//! Security headers on every response: a strict Content-Security-Policy (no third-party
//! scripts), no framing, no MIME sniffing, no referrer leaks.

use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;

pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}
