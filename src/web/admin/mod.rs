//! The admin area (`/admin`): platform admins sign in with a password and a mandatory TOTP code,
//! then manage enterprises (create, edit, suspend), their merchants and every merchant setting,
//! processing (the settlement schedule, the simulator of test merchants),
//! read and export the audit log, and watch the system.
//!
//! Every handler starts from [`session::signed_in`] and checks the session's CSRF token on every
//! POST; every change writes an audit entry with the fields that changed (old → new), never a
//! secret.

mod audit_log;
mod enterprise_users;
mod enterprises;
mod error;
pub(crate) mod fields;
mod login;
pub(crate) mod merchants;
mod password;
mod processing;
mod rates;
pub mod session;
mod system;
mod users;

use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db::models::MerchantId;
use crate::startup::AppState;
use crate::web::protection::audit::{self, Actor, AuditEvent};

pub use error::AdminError;
pub use fields::Errors;
pub use session::Admin;
pub use system::{count_request, healthz, metrics};

pub(crate) fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

/// A form that carries nothing but its CSRF token (sign out, suspend, settle now, retry…).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf: String,
}

/// `?saved=1` after a form was saved: the page then says so.
#[derive(serde::Deserialize)]
pub struct Saved {
    #[serde(default)]
    pub saved: Option<String>,
}

pub(crate) fn render(t: &impl Template) -> Result<String, AdminError> {
    t.render().map_err(|e| {
        tracing::error!(error = %e, "admin: template");
        AdminError::Internal
    })
}

/// Writes an audit row for an admin's action. `detail` names the enterprise (`"enterprise"`)
/// when the action concerns one, so the log can be searched by it.
pub(crate) async fn audit(
    state: &AppState,
    admin: &Admin,
    merchant: Option<MerchantId>,
    action: &'static str,
    detail: serde_json::Value,
) {
    let event = AuditEvent {
        merchant,
        order: None,
        actor: Actor::Admin(admin.login.clone()),
        action,
        outcome: "ok".into(),
        detail,
        ip: admin.ip.clone(),
    };
    audit::record(&state.gateway.store, event).await;
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .wrap(DefaultHeaders::new().add(("Cache-Control", "no-store")))
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .route("", web::get().to(enterprises::list))
            .route("/login", web::get().to(login::form))
            .route("/login", web::post().to(login::submit))
            .route("/logout", web::post().to(login::logout))
            .route("/login/totp", web::get().to(login::step_form))
            .route("/login/totp", web::post().to(login::step_submit))
            .route("/totp", web::get().to(login::enrol_form))
            .route("/totp", web::post().to(login::enrol_submit))
            .route("/password", web::get().to(password::form))
            .route("/password", web::post().to(password::submit))
            .route("/enterprises", web::get().to(enterprises::list))
            .route("/enterprises", web::post().to(enterprises::create))
            .route("/enterprises/new", web::get().to(enterprises::new_form))
            .route("/enterprises/{id}", web::get().to(enterprises::show))
            .route("/enterprises/{id}", web::post().to(enterprises::save))
            .route("/enterprises/{id}/suspend", web::post().to(enterprises::suspend))
            .route("/enterprises/{id}/resume", web::post().to(enterprises::resume))
            .route("/enterprises/{id}/merchants", web::post().to(merchants::create))
            .route("/enterprises/{id}/users", web::get().to(enterprise_users::list))
            .route("/enterprises/{id}/users", web::post().to(users::create_enterprise_user))
            .route("/enterprises/{id}/users/create", web::post().to(enterprise_users::create))
            .route("/enterprises/{id}/users/require-totp", web::post().to(enterprise_users::require_totp))
            .route("/enterprises/{id}/users/{user}", web::get().to(enterprise_users::edit_form))
            .route("/enterprises/{id}/users/{user}", web::post().to(enterprise_users::edit))
            .route("/enterprises/{id}/users/{user}/{action}", web::post().to(enterprise_users::act))
            .route("/users", web::get().to(users::list))
            .route("/users", web::post().to(users::create_admin))
            .route("/users/{id}/{action}", web::post().to(users::act))
            .route("/merchants/{id}", web::get().to(merchants::show))
            .route("/merchants/{id}", web::post().to(merchants::save))
            .route("/merchants/{id}/secret", web::post().to(merchants::rotate_secret))
            .route("/rates", web::get().to(rates::page))
            .route("/rates", web::post().to(rates::add))
            .route("/rates/import", web::post().to(rates::import))
            .route("/processing", web::get().to(processing::page))
            .route("/processing/schedule", web::post().to(processing::save_schedule))
            .route("/processing/settle", web::post().to(processing::settle_now))
            .route("/processing/merchants/{id}", web::get().to(processing::simulator))
            .route("/processing/merchants/{id}", web::post().to(processing::save_simulator))
            .route("/audit", web::get().to(audit_log::page))
            .route("/audit.csv", web::get().to(audit_log::export))
            .route("/system", web::get().to(system::page))
            .route("/system/outbox/{id}/retry", web::post().to(system::retry)),
    );
}
