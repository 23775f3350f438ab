//! The result page (paid, declined with the customer's message, expired), the way back to the
//! shop, and a new attempt after a failure.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::i18n::Texts;
use super::{CheckoutError, Ctx, Shell, entry, see_other};
use crate::db::models::{Merchant, Operation, Order};
use crate::domain::{OperationKind, OrderState};
use crate::gateway::GatewayError;
use crate::startup::AppState;

/// Everything but the URL-unreserved characters is encoded in the appended order number.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

#[derive(Template)]
#[template(path = "checkout/result.html")]
struct ResultPage {
    t: &'static Texts,
    shell: Shell,
    /// `paid`, `declined` or `expired`: the page's look.
    kind: &'static str,
    heading: &'static str,
    text: &'static str,
    return_url: Option<String>,
    /// After a success the browser goes back to the shop by itself (no script needed).
    auto_return: Option<String>,
    can_retry: bool,
}

/// Seconds the success page shows before the browser returns to the shop.
const AUTO_RETURN_SECS: u32 = 5;

pub async fn render(state: &AppState, ctx: &Ctx) -> Result<HttpResponse, CheckoutError> {
    let t = ctx.lang.texts();
    let order_state = ctx.order.state();
    let (kind, heading, text) = match order_state {
        OrderState::Delayed | OrderState::PartialDelayed => ("paid", t.paid_heading, t.held_text),
        s if s.is_paid() => ("paid", t.paid_heading, t.paid_text),
        OrderState::Timeout => ("expired", t.expired_heading, t.expired_text),
        _ => {
            let code = last_payment_code(state, ctx).await?;
            ("declined", t.declined_heading, ctx.lang.decline_message(code.as_deref().unwrap_or_default()))
        }
    };
    // The merchant chose to skip Kassa's result page: straight back to the shop.
    if ctx.merchant.after_payment == "redirect"
        && (order_state.is_paid() || order_state.is_final_failure())
        && let Some(url) = return_url(&ctx.order, &ctx.merchant, order_state.is_paid())
    {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", url)).finish());
    }
    let page = ResultPage {
        t,
        shell: ctx.shell(),
        kind,
        heading,
        text,
        return_url: return_url(&ctx.order, &ctx.merchant, order_state.is_paid()),
        auto_return: order_state.is_paid().then(|| return_url(&ctx.order, &ctx.merchant, true)).flatten(),
        can_retry: order_state.is_final_failure() && ctx.merchant.active,
    };
    ctx.page(StatusCode::OK, &page)
}

async fn last_payment_code(state: &AppState, ctx: &Ctx) -> Result<Option<String>, CheckoutError> {
    let id = ctx.order.id.clone();
    state
        .gateway
        .store
        .read(move |c| {
            let operations = Operation::of_order(c, &id)?;
            Ok::<_, GatewayError>(
                operations
                    .into_iter()
                    .filter(|o| o.kind == OperationKind::Payment.as_str())
                    .max_by_key(|o| o.seq)
                    .and_then(|o| o.response_code),
            )
        })
        .await
        .map_err(|e| ctx.internal(e))
}

/// Where the customer goes back to: the request's `URL_RETURN_OK` / `URL_RETURN_NO` (else its
/// `URL_RETURN`), else the merchant's stored ones, with `billnumber` and `ordernumber` appended.
pub fn return_url(order: &Order, merchant: &Merchant, success: bool) -> Option<String> {
    let pick = |ok: &Option<String>, no: &Option<String>, any: &Option<String>| {
        if success { ok.clone() } else { no.clone() }.or_else(|| any.clone())
    };
    let base = pick(&order.url_return_ok, &order.url_return_no, &order.url_return)
        .or_else(|| pick(&merchant.url_return_ok, &merchant.url_return_no, &merchant.url_return))?;
    let (base, fragment) = match base.split_once('#') {
        Some((b, f)) => (b.to_owned(), format!("#{f}")),
        None => (base, String::new()),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let number = utf8_percent_encode(&order.order_number, QUERY_VALUE);
    Some(format!("{base}{separator}billnumber={}&ordernumber={number}{fragment}", order.billnumber))
}

/// `POST /pay/<token>/retry`: a new attempt (same order number, new billnumber) on its own page.
pub async fn retry(
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let ctx = Ctx::load(&state, &token, &req).await?;
    if !ctx.order.state().is_final_failure() {
        return Ok(ctx.see_page());
    }
    let attempt = match state.gateway.retry(&ctx.order.id).await {
        Ok(order) => order,
        // Paid meanwhile under another attempt, or the shop stopped: the result page explains.
        Err(e @ (GatewayError::OrderNumberPaid | GatewayError::OrderNumberInUse | GatewayError::MerchantInactive)) => {
            return Err(CheckoutError::Entry(ctx.lang, e));
        }
        Err(e) => return Err(ctx.internal(e)),
    };
    let token = entry::page_for(&state, &attempt).await.map_err(|e| ctx.internal(e))?;
    Ok(see_other(&format!("/pay/{token}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::models::EnterpriseId;
    use crate::gateway::setup::new_merchant;

    fn order(url: Option<&str>) -> Order {
        let merchant = new_merchant(&EnterpriseId::new(), 1, "Shop", "s");
        let now = crate::db::now();
        Order {
            id: Default::default(),
            merchant_id: merchant.id,
            order_number: "A 1/ü".into(),
            billnumber: "1234567890123456".into(),
            state: "Declined".into(),
            original_amount: 100,
            original_currency: "RUB".into(),
            amount: 100,
            currency: "RUB".into(),
            rate: "1".into(),
            delay: false,
            test_mode: true,
            comment: None,
            language: "RU".into(),
            lastname: None,
            firstname: None,
            middlename: None,
            email: None,
            phone: None,
            address: None,
            country: None,
            city: None,
            zip: None,
            client_ip: None,
            url_return: url.map(Into::into),
            url_return_ok: None,
            url_return_no: None,
            payment_means: "card".into(),
            card_brand: None,
            card_last4: None,
            authorized: 0,
            confirmed: 0,
            released: 0,
            voided: 0,
            refunded: 0,
            settled: 0,
            next_seq: 1,
            expires_at: now,
            confirm_deadline: None,
            paid_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn parameters_are_appended_to_any_url_shape() {
        let m = new_merchant(&EnterpriseId::new(), 1, "Shop", "s");
        let got = |u: &str| return_url(&order(Some(u)), &m, false).unwrap();
        assert_eq!(
            got("https://s.example/r"),
            "https://s.example/r?billnumber=1234567890123456&ordernumber=A%201%2F%C3%BC"
        );
        assert_eq!(
            got("https://s.example/r?x=1#top"),
            "https://s.example/r?x=1&billnumber=1234567890123456&ordernumber=A%201%2F%C3%BC#top"
        );
        assert_eq!(return_url(&order(None), &m, true), None);
    }
}
