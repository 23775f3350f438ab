//! `payrequest`: the shop's server creates the order and gets the payment-page link to send
//! the customer to (reference §4.2, B.4): `{"URL", "expirationtime", "orderstate"}`, where
//! `orderstate` is `In Process`, or `Decline` with an empty `URL` when the order was refused.
//!
//! The link is Kassa's payment-page entry (`/pay/order.cfm`) with the order's fields and, when
//! the merchant requires one, a check value: opening it lands on the order just created, since
//! a repeated request for an open attempt returns that attempt.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::answer::{self, Format};
use super::codes::ServiceError;
use super::fields::Fields;
use super::{Call, serve};
use crate::assist::checkvalue::{self, RequestMode, Variant};
use crate::db::models::{Merchant, Order};
use crate::gateway::{GatewayError, OrderRequest};
use crate::money::format_minor;
use crate::startup::AppState;
use crate::web::protection::Protection;
use crate::web::protection::audit::{self, Actor, AuditEvent};

pub async fn payrequest(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    // The PHP SDK always sends Format=5; JSON is the default here.
    serve(&req, &body, &state.clone(), &protection, Format::Json, |call| async move {
        let merchant = &call.caller.merchant;
        // Before the order is made, so a missing signing key cannot turn a made order into an error.
        let seal = state.gateway.seal(merchant).await?;
        let request = order_request(&call.fields);
        let result = state.gateway.create_order(request.clone()).await;
        audit::record(
            &state.gateway.store,
            AuditEvent {
                merchant: Some(call.caller.merchant.id.clone()),
                order: result.as_ref().ok().map(|o| o.id.clone()),
                actor: Actor::User(call.caller.login.clone()),
                action: "payrequest",
                outcome: result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()).to_owned(),
                detail: json!({
                    "ordernumber": request.order_number,
                    "orderamount": request.order_amount,
                    "ordercurrency": request.order_currency,
                }),
                ip: call.ip.clone(),
            },
        )
        .await;
        match result {
            Ok(order) => {
                let public_url = state.config.public_url();
                let link = match payment_link(&public_url, &call.caller.merchant, &order) {
                    Some(link) => link,
                    None => format!("{public_url}/pay/{}", crate::web::checkout::page_for(&state, &order).await?),
                };
                let amount = format_minor(order.original_amount, &order.original_currency);
                let mut fields = vec![
                    ("URL", link),
                    ("expirationtime", answer::assist_date(order.expires_at)),
                    ("orderstate", order.state.clone()),
                    ("billnumber", order.billnumber.clone()),
                    ("ordernumber", order.order_number.clone()),
                ];
                fields.extend(seal.fields(
                    merchant.merchant_number,
                    &order.order_number,
                    &amount,
                    &order.original_currency,
                    &order.state,
                ));
                Ok(render(&call, &fields, None))
            }
            Err(e @ (GatewayError::Store(_) | GatewayError::ProcessorUnavailable)) => Err(e.into()),
            Err(e) => {
                let refusal = ServiceError::from(e);
                // Sealed over the request's own values: the order does not exist.
                let mut fields = vec![
                    ("URL", String::new()),
                    ("expirationtime", String::new()),
                    ("orderstate", "Decline".to_owned()),
                    ("billnumber", String::new()),
                    ("ordernumber", request.order_number.clone()),
                ];
                fields.extend(seal.fields(
                    merchant.merchant_number,
                    request.order_number.trim(),
                    request.order_amount.trim(),
                    request.order_currency.as_deref().unwrap_or("").trim(),
                    "Decline",
                ));
                Ok(render(&call, &fields, Some(&refusal)))
            }
        }
    })
    .await
}

fn order_request(f: &Fields) -> OrderRequest {
    OrderRequest {
        merchant_id: f.raw("Merchant_ID").unwrap_or_default(),
        order_number: f.raw("OrderNumber").unwrap_or_default(),
        order_amount: f.raw("OrderAmount").unwrap_or_default(),
        order_currency: f.raw("OrderCurrency"),
        order_comment: f.raw("OrderComment"),
        delay: f.raw("Delay"),
        language: f.raw("Language"),
        lastname: f.raw("Lastname"),
        firstname: f.raw("Firstname"),
        middlename: f.raw("Middlename"),
        email: f.raw("Email"),
        mobile_phone: f.raw("MobilePhone"),
        address: f.raw("Address"),
        country: f.raw("Country"),
        city: f.raw("City"),
        zip: f.raw("Zip"),
        client_ip: f.raw("ClientIP"),
        url_return: f.raw("URL_RETURN"),
        url_return_ok: f.raw("URL_RETURN_OK"),
        url_return_no: f.raw("URL_RETURN_NO"),
        card_payment: f.raw("CardPayment"),
        wallet_payment: f.raw("WalletPayment"),
        order_max_points: f.raw("OrderMaxPoints"),
        customer_number: f.raw("CustomerNumber"),
        disable_3ds: f.raw("Disable3DS"),
        prepayment: f.raw("Prepayment"),
        checkvalue: f.raw("Checkvalue"),
        signature: f.raw("Signature"),
        authenticated: false,
    }
}

/// `<public_url>/pay/order.cfm?Merchant_ID=…&OrderNumber=…&OrderAmount=…&OrderCurrency=…`
/// (+ `Checkvalue` in the merchant's request mode, + `Delay=1` for two-stage orders).
/// `None` for a merchant that signs its requests with RSA: Kassa cannot sign for it, so the
/// caller hands out the order's own page (`/pay/<token>`) instead.
pub fn payment_link(public_url: &str, merchant: &Merchant, order: &Order) -> Option<String> {
    if merchant.signature_required {
        return None;
    }
    let amount = format_minor(order.original_amount, &order.original_currency);
    let number = merchant.merchant_number.to_string();
    let mut pairs = vec![
        ("Merchant_ID", number.clone()),
        ("OrderNumber", order.order_number.clone()),
        ("OrderAmount", amount.clone()),
        ("OrderCurrency", order.original_currency.clone()),
    ];
    if order.delay {
        pairs.push(("Delay", "1".into()));
    }
    match RequestMode::parse(&merchant.checkvalue_mode) {
        Some(RequestMode::Off) | None => {}
        Some(mode) => {
            let x = checkvalue::request_string(
                mode,
                [&number, &order.order_number, &amount, &order.original_currency],
                &[],
            );
            pairs.push(("Checkvalue", checkvalue::compute(&merchant.secret_md5, &x, Variant::B)));
        }
    }
    Some(format!("{public_url}/pay/order.cfm?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default()))
}

/// A refused order still answers 200 (B.1: the SDK treats anything else as a transport failure
/// and retries), with `orderstate` `Decline` and the request-level codes beside it.
fn render(call: &Call, fields: &[(&'static str, String)], refusal: Option<&ServiceError>) -> HttpResponse {
    let (first, second) = refusal.map(|e| (e.firstcode, e.secondcode)).unwrap_or((0, 0));
    let mut row: Vec<(&'static str, String)> = fields.to_vec();
    if let Some(e) = refusal {
        row.push(("code", e.code.to_owned()));
        row.push(("message", e.message.clone()));
    }
    match call.format {
        Format::Json => {
            let mut o = answer::object(&row);
            o.insert("firstcode".into(), first.to_string().into());
            o.insert("secondcode".into(), second.to_string().into());
            answer::ok_json(serde_json::Value::Object(o))
        }
        Format::Xml => {
            let body = answer::xml_records("order", std::slice::from_ref(&row)).replacen(
                "firstcode=\"0\" secondcode=\"0\"",
                &format!("firstcode=\"{first}\" secondcode=\"{second}\""),
                1,
            );
            answer::ok(Format::Xml, body)
        }
        Format::Csv => {
            let header = answer::header_of(std::slice::from_ref(&row), &[]);
            answer::ok(Format::Csv, answer::csv(std::slice::from_ref(&row), &header))
        }
    }
}
