//! The simulated e-wallet page: wallet id and the code the wallet sent.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::Texts;
use super::{CheckoutError, Ctx, Shell, client_ip, nonce};
use crate::assist::codes;
use crate::domain::OrderState;
use crate::gateway::{GatewayError, WalletRequest};
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "checkout/wallet.html")]
struct WalletPage {
    t: &'static Texts,
    shell: Shell,
    nonce: String,
    wallet_id: String,
    error: Option<&'static str>,
    other_methods: bool,
}

pub fn render(
    ctx: &Ctx,
    wallet_id: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, CheckoutError> {
    let page = WalletPage {
        t: ctx.lang.texts(),
        shell: ctx.shell(),
        nonce: nonce::issue(&ctx.order, &ctx.merchant),
        wallet_id,
        error,
        other_methods: ctx.order.payment_means.contains(','),
    };
    ctx.page(status, &page)
}

/// Not `Debug`: the code is a secret of the customer's.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WalletForm {
    nonce: String,
    wallet_id: String,
    code: String,
}

/// `POST /pay/<token>/wallet`.
pub async fn pay(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<WalletForm>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let ctx = Ctx::load(&state, &token, &req).await?;
    if ctx.order.state() != OrderState::InProcess {
        return Ok(ctx.see_page());
    }
    let form = form.into_inner();
    let wallet_id: String = form.wallet_id.trim().chars().take(64).collect();
    if wallet_id.is_empty() {
        return render(&ctx, wallet_id, Some(ctx.lang.texts().required), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let Some(nonce) = nonce::verify(&ctx.order, &ctx.merchant, &form.nonce) else {
        return render(&ctx, wallet_id, Some(ctx.lang.texts().bad_form), StatusCode::BAD_REQUEST);
    };
    if !nonce::spend(&state, &ctx.order, nonce).await.map_err(|e| ctx.internal(e.into()))? {
        return Ok(ctx.see_page());
    }
    let request_wallet = wallet_id.clone();
    let request = WalletRequest { wallet_id, code: form.code, client_ip: client_ip(&req) };
    let result = state.gateway.pay_wallet(&ctx.order.id, request).await;
    ctx.audit_payment(&state, "wallet", &result, client_ip(&req)).await;
    match result {
        Ok(_)
        | Err(
            GatewayError::OrderExpired
            | GatewayError::PaymentInProgress
            | GatewayError::AlreadyPaid
            | GatewayError::WrongState(_),
        ) => Ok(ctx.see_page()),
        Err(GatewayError::DailyCapReached) => {
            let message = ctx.lang.decline_message(codes::OPERATION_LIMIT);
            render(&ctx, request_wallet, Some(message), StatusCode::CONFLICT)
        }
        // Suspended or switched off since the page opened: the customer is told so.
        Err(e @ GatewayError::MerchantInactive) => Err(CheckoutError::Entry(ctx.lang, e)),
        Err(e) => Err(ctx.internal(e)),
    }
}
