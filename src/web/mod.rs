//! The web layer. This foundation serves the front page and a health check; the checkout,
//! the merchant account, the admin area and the web services build on it.

pub mod account;
pub mod admin;
pub mod api;
pub mod checkout;
mod headers;
pub mod machine;
pub mod protection;
pub mod services;
pub mod totp;
pub mod users;

use actix_web::{HttpResponse, get, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(headers::security_headers())
            .wrap(actix_web::middleware::from_fn(count_requests))
            .service(index)
            .service(stylesheet)
            .service(health)
            .service(signing_key)
            .configure(machine::routes)
            .configure(checkout::routes)
            .configure(account::routes)
            .configure(admin::routes)
            .route("/healthz", web::get().to(admin::healthz))
            .route("/metrics", web::get().to(admin::metrics)),
    );
}

/// Counts every answered request for `/metrics`.
async fn count_requests(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let res = next.call(req).await?;
    admin::count_request(res.status().as_u16());
    Ok(res)
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    public_url: String,
}

#[get("/")]
async fn index(state: web::Data<AppState>) -> IndexPage {
    IndexPage { public_url: state.config.public_url() }
}

/// Liveness and readiness: answers 200 only when the database answers.
#[get("/health")]
async fn health(state: web::Data<AppState>) -> HttpResponse {
    use diesel::RunQueryDsl;
    let store = state.gateway.store.clone();
    let backend = format!("{:?}", store.backend()).to_lowercase();
    let ok =
        store.read(|c| diesel::sql_query("SELECT 1").execute(c).map_err(crate::db::StoreError::from)).await.is_ok();
    let body = serde_json::json!({ "status": if ok { "ok" } else { "unavailable" }, "database": backend });
    if ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

/// Kassa's public signing key (PEM), which verifies the `signature` of the answers and
/// notifications sent to merchants in signature mode. Public by nature: merchants and their
/// developers fetch it without signing in.
#[get("/.well-known/kassa-signing-key.pem")]
async fn signing_key(state: web::Data<AppState>) -> HttpResponse {
    match state.gateway.signing_key().await {
        Ok(key) => HttpResponse::Ok()
            .content_type("application/x-pem-file")
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"kassa-signing-key.pem\"",
            ))
            .body(key.public_pem().to_owned()),
        Err(e) => {
            tracing::error!(error = %e, "no signing key to publish");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

/// The stylesheet of Kassa's own pages, compiled into the binary; the version in the name lets
/// browsers keep it for a year (change it whenever the CSS changes).
#[get("/static/css/kassa-2.css")]
async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(include_str!("../../static/css/kassa.css"))
}
