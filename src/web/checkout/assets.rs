//! The checkout's stylesheet, compiled into the binary. The file name carries a version, so
//! browsers may keep it for a year; change the number whenever the CSS changes.

use actix_web::http::header;
use actix_web::{HttpResponse, get};

const CSS: &str = include_str!("../../../static/checkout/checkout.css");

#[get("/static/checkout/checkout-1.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(CSS)
}
