//! The machine-facing endpoints: the Assist web services and the JSON API, with their shared
//! protection (body size, rate limits, audit).

use actix_web::web;

/// Largest request body the services and the API read. An Assist request with a full fiscal
/// receipt stays well below it.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn body_limit() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_BODY_BYTES)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    super::services::routes(cfg);
    super::api::routes(cfg);
}
