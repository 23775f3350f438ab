//! The simulator's 3-D Secure challenge: the customer passes, fails or abandons it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::Texts;
use super::{CheckoutError, Ctx, Shell};
use crate::gateway::GatewayError;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "checkout/challenge.html")]
struct ChallengePage {
    t: &'static Texts,
    shell: Shell,
}

pub fn render(ctx: &Ctx) -> Result<HttpResponse, CheckoutError> {
    ctx.page(StatusCode::OK, &ChallengePage { t: ctx.lang.texts(), shell: ctx.shell() })
}

#[derive(Deserialize)]
pub struct ChallengeForm {
    result: String,
}

/// `POST /pay/<token>/challenge`.
pub async fn answer(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ChallengeForm>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let ctx = Ctx::load(&state, &token, &req).await?;
    let passed = match form.result.as_str() {
        "pass" => true,
        // Abandoning is a failed challenge for the bank: the payment is declined.
        "fail" | "abandon" => false,
        _ => return Err(CheckoutError::BadForm(ctx.lang)),
    };
    match state.gateway.complete_challenge(&ctx.order.id, passed).await {
        // Answered before (a second click): the page shows the outcome either way.
        Ok(_) | Err(GatewayError::NoChallenge) => Ok(ctx.see_page()),
        Err(e) => Err(ctx.internal(e)),
    }
}
