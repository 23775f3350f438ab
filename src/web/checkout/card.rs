//! The card form: server-side checks with a message beside each field (the values are kept,
//! except the CVC), then one payment per rendered form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::{CheckoutError, Ctx, Shell, client_ip, nonce};
use crate::assist::codes;
use crate::card::{Brand, Card, CardError, CardNumber, Cvc, Expiry};
use crate::domain::OrderState;
use crate::gateway::{GatewayError, PayRequest};
use crate::startup::AppState;

/// The posted form. Deliberately not `Debug`: it holds the card number and the CVC.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CardForm {
    nonce: String,
    number: String,
    holder: String,
    month: String,
    year: String,
    cvc: String,
}

/// What the form shows again after an error (never the CVC).
#[derive(Default)]
pub struct CardValues {
    number: String,
    holder: String,
    month: String,
    year: String,
}

#[derive(Default)]
pub struct CardErrors {
    form: Option<&'static str>,
    number: Option<&'static str>,
    holder: Option<&'static str>,
    expiry: Option<&'static str>,
    cvc: Option<&'static str>,
}

impl CardErrors {
    fn any(&self) -> bool {
        self.form.is_some()
            || self.number.is_some()
            || self.holder.is_some()
            || self.expiry.is_some()
            || self.cvc.is_some()
    }
}

#[derive(Template)]
#[template(path = "checkout/card.html")]
struct CardPage {
    t: &'static Texts,
    shell: Shell,
    nonce: String,
    values: CardValues,
    errors: CardErrors,
    other_methods: bool,
}

pub fn render(
    ctx: &Ctx,
    values: CardValues,
    errors: CardErrors,
    status: StatusCode,
) -> Result<HttpResponse, CheckoutError> {
    let page = CardPage {
        t: ctx.lang.texts(),
        shell: ctx.shell(),
        nonce: nonce::issue(&ctx.order, &ctx.merchant),
        values,
        errors,
        other_methods: ctx.order.payment_means.contains(','),
    };
    ctx.page(status, &page)
}

/// The card, or a message for each wrong field.
fn validate(form: &CardForm, lang: Lang, today: time::Date) -> Result<Card, CardErrors> {
    let t = lang.texts();
    let mut errors = CardErrors::default();
    let number = CardNumber::parse(&form.number).map_err(|_| errors.number = Some(t.err_number)).ok();
    let expiry = match Expiry::parse(&form.month, &form.year) {
        Ok(e) => e.check_not_expired(today).map_err(|_| errors.expiry = Some(t.err_expired)).ok(),
        Err(_) => {
            errors.expiry = Some(t.err_expiry);
            None
        }
    };
    // Without a valid number the brand is unknown: either CVC length is accepted for now.
    let brand = number.as_ref().map(CardNumber::brand);
    let cvc = match brand {
        Some(b) => Cvc::parse(&form.cvc, b).ok(),
        None => Cvc::parse(&form.cvc, Brand::Visa).or_else(|_| Cvc::parse(&form.cvc, Brand::Amex)).ok(),
    };
    if cvc.is_none() {
        errors.cvc = Some(t.err_cvc);
    }
    let holder = form.holder.trim().to_ascii_uppercase();
    let holder_ok = !holder.is_empty()
        && holder.chars().count() <= 64
        && holder.chars().all(|c| c.is_ascii_alphabetic() || " .-'".contains(c));
    if !holder_ok {
        errors.holder = Some(t.err_holder);
    }
    match (number, expiry, cvc) {
        (Some(number), Some(expiry), Some(cvc)) if !errors.any() => Ok(Card { number, expiry, cvc, holder }),
        _ => Err(errors),
    }
}

fn kept(form: &CardForm) -> CardValues {
    CardValues {
        number: form.number.chars().take(23).collect(),
        holder: form.holder.chars().take(64).collect(),
        month: form.month.chars().take(2).collect(),
        year: form.year.chars().take(4).collect(),
    }
}

/// `POST /pay/<token>/card`: «Charge».
pub async fn charge(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<CardForm>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let ctx = Ctx::load(&state, &token, &req).await?;
    if ctx.order.state() != OrderState::InProcess {
        return Ok(ctx.see_page());
    }
    let form = form.into_inner();
    let card = match validate(&form, ctx.lang, crate::db::now().date()) {
        Ok(card) => card,
        Err(errors) => return render(&ctx, kept(&form), errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let Some(nonce) = nonce::verify(&ctx.order, &ctx.merchant, &form.nonce) else {
        let errors = CardErrors { form: Some(ctx.lang.texts().bad_form), ..CardErrors::default() };
        return render(&ctx, kept(&form), errors, StatusCode::BAD_REQUEST);
    };
    if !nonce::spend(&state, &ctx.order, nonce).await.map_err(|e| ctx.internal(e.into()))? {
        // Sent before (double click, second tab, replay): show where that payment stands.
        return Ok(ctx.see_page());
    }
    let result = state.gateway.pay(&ctx.order.id, PayRequest { card, client_ip: client_ip(&req) }).await;
    ctx.audit_payment(&state, "card", &result, client_ip(&req)).await;
    match result {
        Ok(_) => Ok(ctx.see_page()),
        Err(GatewayError::Card(CardError::Expired)) => {
            let errors = CardErrors { expiry: Some(ctx.lang.texts().err_expired), ..CardErrors::default() };
            render(&ctx, kept(&form), errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(
            GatewayError::OrderExpired
            | GatewayError::PaymentInProgress
            | GatewayError::AlreadyPaid
            | GatewayError::WrongState(_),
        ) => Ok(ctx.see_page()),
        // Nothing was written: the order stays payable, the customer is told why and may come back.
        Err(GatewayError::DailyCapReached) => {
            let message = ctx.lang.decline_message(codes::OPERATION_LIMIT);
            let errors = CardErrors { form: Some(message), ..CardErrors::default() };
            render(&ctx, kept(&form), errors, StatusCode::CONFLICT)
        }
        // Suspended or switched off since the page opened: the customer is told so.
        Err(e @ GatewayError::MerchantInactive) => Err(CheckoutError::Entry(ctx.lang, e)),
        Err(e) => Err(ctx.internal(e)),
    }
}
