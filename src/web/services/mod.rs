//! The Assist-compatible web services (reference §4 and Appendix B), so that a shop's existing
//! Assist integration works when only the host changes. Every call is a form POST carrying
//! `Merchant_ID`, `Login`, `Password` and `Format`; the request-level error codes are in
//! [`codes`].

pub mod answer;
mod auth;
mod cancel;
mod charge;
pub mod codes;
pub mod fields;
mod orderstate;
mod payrequest;
mod resultbydate;
mod window;

use std::future::Future;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::startup::AppState;
use crate::web::protection::Protection;
use answer::Format;
pub use codes::ServiceError;
use fields::Fields;
pub use payrequest::payment_link;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let post = |path: &str| web::resource(path.to_owned()).app_data(crate::web::machine::body_limit());
    cfg.service(post("/pay/payrequest.cfm").route(web::post().to(payrequest::payrequest)))
        .service(post("/orderstate/orderstate.cfm").route(web::post().to(orderstate::orderstate)))
        .service(post("/orderresult/orderresult.cfm").route(web::post().to(orderstate::orderresult)))
        .service(post("/resultbydate/resultbydate.cfm").route(web::post().to(resultbydate::resultbydate)))
        .service(post("/charge/charge.cfm").route(web::post().to(charge::charge)))
        .service(post("/cancel/wscancel.cfm").route(web::post().to(cancel::cancel)))
        .service(post("/cancel/cancel.cfm").route(web::post().to(cancel::cancel)));
}

/// What a service gets once the call is authenticated.
pub struct Call {
    pub fields: Fields,
    pub format: Format,
    pub caller: auth::Caller,
    pub ip: Option<String>,
}

/// The common part of every service: IP rate limit, fields, format, authentication, then
/// `service`; any refusal is answered in the caller's format.
pub async fn serve<F, Fut>(
    req: &HttpRequest,
    body: &[u8],
    state: &AppState,
    protection: &Protection,
    default_format: Format,
    service: F,
) -> HttpResponse
where
    F: FnOnce(Call) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ServiceError>>,
{
    let fields = Fields::parse(body);
    let format = fields.as_ref().ok().and_then(|f| Format::of(f, default_format).ok()).unwrap_or(default_format);
    if let Err(limited) = protection.check_ip(req) {
        return limited.response("text/plain", "too many requests".into());
    }
    let fields = match fields {
        Ok(f) => f,
        Err(e) => return answer::error(format, &e),
    };
    if let Err(e) = Format::of(&fields, default_format) {
        return answer::error(format, &e);
    }
    // Answers are not localised, but a wrong Language is still a wrong request.
    if fields.get("Language").is_some_and(|l| !["RU", "EN"].contains(&l.to_ascii_uppercase().as_str())) {
        return answer::error(format, &ServiceError::field("Language", "must be RU or EN"));
    }
    let caller = match auth::authenticate(&state.gateway, protection, &fields).await {
        Ok(c) => c,
        Err(auth::AuthError::Limited(limited)) => return limited.response("text/plain", "too many requests".into()),
        Err(auth::AuthError::Denied(e)) => return answer::error(format, &e),
    };
    let call = Call { fields, format, caller, ip: crate::web::protection::client_ip(req) };
    match service(call).await {
        Ok(response) => response,
        Err(e) => answer::error(format, &e),
    }
}

/// `Billnumber`, plain (`1234…`) or extended (`1234….2`).
fn billnumber(fields: &Fields) -> Result<&str, ServiceError> {
    let b = fields.required("Billnumber")?;
    let (plain, seq) = match b.split_once('.') {
        Some((p, s)) => (p, Some(s)),
        None => (b, None),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(plain) || seq.is_some_and(|s| !digits(s)) {
        return Err(ServiceError::field("Billnumber", "must be digits, optionally followed by .N"));
    }
    Ok(b)
}
