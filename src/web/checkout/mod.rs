//! The hosted checkout: the Assist payment-page entry (`/pay/order.cfm`), the customer's pages
//! under `/pay/<token>`, its stylesheet, and the demo shop that sends customers here.

mod assets;
mod card;
mod challenge;
mod customer;
mod demo_shop;
mod entry;
mod error;
pub mod i18n;
mod nonce;
mod page;
mod result;
mod wallet;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::db::models::{CheckoutPage, Merchant, Order, valid_frame_ancestors};
use crate::gateway::GatewayError;
use crate::startup::AppState;
pub use entry::page_for;
pub use error::CheckoutError;
use i18n::{Lang, format_amount};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::stylesheet)
        .service(web::scope("/demo-shop").wrap(checkout_headers()).configure(demo_shop::routes))
        .service(
            web::scope("/pay")
                .wrap(checkout_headers())
                .app_data(form_config())
                .app_data(query_config())
                .service(
                    web::resource("/order.cfm").route(web::post().to(entry::post)).route(web::get().to(entry::get)),
                )
                .service(web::resource("/{token}").route(web::get().to(page::show)))
                .service(web::resource("/{token}/customer").route(web::post().to(customer::save)))
                .service(web::resource("/{token}/card").route(web::post().to(card::charge)))
                .service(web::resource("/{token}/challenge").route(web::post().to(challenge::answer)))
                .service(web::resource("/{token}/wallet").route(web::post().to(wallet::pay)))
                .service(web::resource("/{token}/retry").route(web::post().to(result::retry))),
        );
}

/// A form or query that cannot be read gets the checkout's own error page, not a bare 400.
fn form_config() -> web::FormConfig {
    // Room for a long OrderComment and the fields Kassa ignores (receipt lines and the like).
    web::FormConfig::default()
        .limit(64 * 1024)
        .error_handler(|_, req| CheckoutError::BadForm(Lang::from_browser(req)).into())
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_, req| CheckoutError::BadForm(Lang::from_browser(req)).into())
}

/// No script, no third party, and no framing unless the merchant allows origins.
const CSP_BASE: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'";
const CSP_NO_FRAMING: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The checkout's own headers. They are set before the site-wide ones, which then leave them
/// alone: nothing of a payment page may be cached, framed by another site or leak a referrer,
/// and only Kassa's own stylesheet may load (there is no script at all).
fn checkout_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .add((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .add((header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP_NO_FRAMING)))
        .add((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .add((header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .add((header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// An order's payment page as loaded for one request.
pub struct Ctx {
    pub token: String,
    pub order: Order,
    pub merchant: Merchant,
    pub lang: Lang,
    /// The origins this merchant lets frame its payment pages, if any.
    pub frame_ancestors: Option<String>,
}

/// Page tokens are 64 hex characters; anything else is not looked up.
fn plausible_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new unguessable page token (256 random bits).
fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

impl Ctx {
    pub async fn load(state: &AppState, token: &str, req: &actix_web::HttpRequest) -> Result<Ctx, CheckoutError> {
        let fallback = Lang::from_browser(req);
        if !plausible_token(token) {
            return Err(CheckoutError::NotFound(fallback));
        }
        let t = token.to_owned();
        let found = state
            .gateway
            .store
            .read(move |c| CheckoutPage::load(c, &t).map_err(GatewayError::from))
            .await
            .map_err(|e| CheckoutError::Internal(fallback, e))?;
        let (order, merchant, setting) = found.ok_or(CheckoutError::NotFound(fallback))?;
        let lang = Lang::from_assist(&order.language).unwrap_or(fallback);
        let frame_ancestors =
            setting.map(|s| valid_frame_ancestors(&s).join(" ")).filter(|origins| !origins.is_empty());
        Ok(Ctx { token: token.to_owned(), order, merchant, lang, frame_ancestors })
    }

    /// Reads the order again (after a use case changed it).
    pub async fn reload(&mut self, state: &AppState) -> Result<(), CheckoutError> {
        let id = self.order.id.clone();
        self.order = state
            .gateway
            .store
            .read(move |c| Order::find(c, &id).map_err(GatewayError::from))
            .await
            .map_err(|e| self.internal(e))?;
        Ok(())
    }

    pub fn internal(&self, e: GatewayError) -> CheckoutError {
        CheckoutError::Internal(self.lang, e)
    }

    /// The frame every page shares.
    pub fn shell(&self) -> Shell {
        let (o, lang) = (&self.order, self.lang);
        let charged = (o.currency != o.original_currency).then(|| format_amount(lang, o.amount, &o.currency));
        Shell {
            token: self.token.clone(),
            merchant: self.merchant.name.clone(),
            order_number: o.order_number.clone(),
            billnumber: o.billnumber.clone(),
            amount: format_amount(lang, o.original_amount, &o.original_currency),
            charged,
            comment: o.comment.clone(),
            test_mode: o.test_mode,
        }
    }

    /// Renders one of this order's pages, framable by the merchant's allowed origins only.
    pub fn page(&self, status: StatusCode, page: &impl Template) -> Result<HttpResponse, CheckoutError> {
        let mut response = html(status, page, self.lang)?;
        if let Some(origins) = &self.frame_ancestors {
            // Valid origins only (checked on load), so the value is a valid header. Browsers
            // ignore the X-Frame-Options DENY beside a CSP that has frame-ancestors.
            let csp = format!("{CSP_BASE}; frame-ancestors {origins}");
            if let Ok(value) = HeaderValue::from_str(&csp) {
                response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
            }
        }
        Ok(response)
    }

    /// Back to the page itself: after a POST, so reload and back never post again.
    /// The customer's «Charge» (card or wallet) in the audit log: amount, means and the order's
    /// state after it, or the refusal's code. Never card data.
    pub async fn audit_payment(
        &self,
        state: &AppState,
        means: &str,
        result: &Result<crate::gateway::PayOutcome, GatewayError>,
        ip: Option<String>,
    ) {
        let event = crate::web::protection::audit::AuditEvent {
            merchant: Some(self.merchant.id.clone()),
            order: Some(self.order.id.clone()),
            actor: crate::web::protection::audit::Actor::Customer,
            action: "checkout.pay",
            outcome: result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()).to_owned(),
            detail: serde_json::json!({
                "amount": crate::money::format_minor(self.order.amount, &self.order.currency),
                "currency": self.order.currency,
                "means": means,
                "state": result.as_ref().ok().map(|o| o.order.state.clone()),
            }),
            ip,
        };
        crate::web::protection::audit::record(&state.gateway.store, event).await;
    }

    pub fn see_page(&self) -> HttpResponse {
        see_other(&format!("/pay/{}", self.token))
    }
}

/// The order summary and texts around every checkout page.
pub struct Shell {
    pub token: String,
    pub merchant: String,
    pub order_number: String,
    pub billnumber: String,
    pub amount: String,
    pub charged: Option<String>,
    pub comment: Option<String>,
    pub test_mode: bool,
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

/// Renders a page with a status.
pub fn html(status: StatusCode, page: &impl Template, lang: Lang) -> Result<HttpResponse, CheckoutError> {
    let body = page.render().map_err(|e| CheckoutError::Render(lang, e.to_string()))?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

/// The customer's address, for the payment records (never a forwarded header: it can be forged).
pub fn client_ip(req: &actix_web::HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}
