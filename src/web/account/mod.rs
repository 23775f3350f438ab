//! The merchant personal account (`/account`): sign-in with server-side sessions, the dashboard,
//! the Order Monitor with its CSV export, order details, and confirm/cancel from the details page.
//!
//! Every handler starts from [`session::signed_in`], which loads the session row named by the
//! cookie; every query is scoped to the user's enterprise through [`Account::enterprise`].

mod actions;
mod chart;
mod common_info;
mod dashboard;
mod details;
mod error;
mod filter;
pub(crate) mod lockout;
pub(crate) mod login;
mod monitor;
pub(crate) mod session;
mod settings;
mod signing_key;
mod stats;
pub(crate) mod two_factor;
mod users;
mod zone;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

use crate::db::models::{MerchantId, OrderId};
use crate::startup::AppState;
use crate::web::protection::audit::{self, Actor, AuditEvent};

pub use error::AccountError;
pub use session::{Access, Account, Stage, Swept, constant_eq, sweep};
pub use zone::Zone;

/// Writes an audit row for an action of the signed-in user; `merchant` is `None` for what
/// concerns the whole enterprise (its users, its settings).
async fn audit(
    state: &AppState,
    account: &Account,
    merchant: Option<MerchantId>,
    order: Option<OrderId>,
    action: &'static str,
    outcome: &str,
    detail: serde_json::Value,
) {
    let mut detail = detail;
    if let serde_json::Value::Object(map) = &mut detail {
        map.insert("enterprise".into(), account.enterprise.0.clone().into());
    }
    let event = AuditEvent {
        merchant,
        order,
        actor: Actor::AccountUser(account.login.clone()),
        action,
        outcome: outcome.to_owned(),
        detail,
        ip: account.ip.clone(),
    };
    audit::record(&state.gateway.store, event).await;
}

/// A role of a user in the account, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Monitor, details, exports.
    Viewer,
    /// Plus confirm and cancel.
    Operator,
    /// Plus users and merchant settings.
    Manager,
}

impl Role {
    pub fn parse(s: &str) -> Role {
        match s {
            "manager" => Role::Manager,
            "operator" => Role::Operator,
            // Unknown text never grants more than viewing.
            _ => Role::Viewer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Manager => "manager",
        }
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/account")
            // Account pages hold order and customer data: no cache may keep them.
            .wrap(DefaultHeaders::new().add(("Cache-Control", "no-store")))
            .app_data(web::FormConfig::default().limit(16 * 1024))
            .route("", web::get().to(dashboard::page))
            .route("/login", web::get().to(login::form))
            .route("/login", web::post().to(login::submit))
            .route("/logout", web::post().to(login::logout))
            .route("/password", web::get().to(login::password_form))
            .route("/password", web::post().to(login::password_submit))
            .route("/login/totp", web::get().to(two_factor::step_form))
            .route("/login/totp", web::post().to(two_factor::step_submit))
            .route("/totp", web::get().to(two_factor::setup_form))
            .route("/totp", web::post().to(two_factor::setup_submit))
            .route("/totp/disable", web::post().to(two_factor::disable))
            .route("/signing-key", web::get().to(signing_key::page))
            .route("/settings", web::get().to(settings::index))
            .route("/settings/{number}", web::get().to(settings::show))
            .route("/settings/{number}", web::post().to(settings::save))
            .route("/users", web::get().to(users::list))
            .route("/users", web::post().to(users::create))
            .route("/users/require-totp", web::post().to(users::require_totp))
            .route("/users/{id}", web::get().to(users::edit_form))
            .route("/users/{id}", web::post().to(users::edit))
            .route("/users/{id}/{action}", web::post().to(users::act))
            .route("/orders", web::get().to(monitor::page))
            .route("/orders.csv", web::get().to(monitor::export))
            .route("/settlement.csv", web::get().to(monitor::settlement))
            .route("/orders/{billnumber}", web::get().to(details::page))
            .route("/orders/{billnumber}/operations.csv", web::get().to(details::operations_csv))
            .route("/orders/{billnumber}/confirm", web::post().to(actions::confirm))
            .route("/orders/{billnumber}/cancel", web::get().to(actions::cancel_plan))
            .route("/orders/{billnumber}/cancel", web::post().to(actions::cancel))
            .route("/orders/{billnumber}/deliveries/{message}/resend", web::post().to(actions::resend)),
    );
}
