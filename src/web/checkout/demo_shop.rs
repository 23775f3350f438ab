//! `/demo-shop`: a merchant's web shop played by Kassa itself (with `kassa demo`), so a newcomer
//! sees the whole flow: «Buy» posts a signed form to `/pay/order.cfm`, and the return pages
//! show the order's state as the shop would fetch it, server-side.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::{Lang, format_amount};
use super::{CheckoutError, html};
use crate::assist::checkvalue::{self, RequestMode, Variant};
use crate::db::models::Merchant;
use crate::gateway::setup::DEMO_MERCHANT_NUMBER;
use crate::gateway::{Gateway, GatewayError};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(shop)).route("/return/{outcome}", web::get().to(back));
}

/// (name RU, name EN, price, comment)
const PRODUCTS: &[(&str, &str, &str, &str)] = &[
    ("Блокнот «Касса»", "«Kassa» notebook", "350.00", "A5, dotted, 96 pages"),
    ("Кружка с логотипом", "Logo mug", "790.00", "Ceramic, 330 ml"),
    ("Футболка", "T-shirt", "1500.00", "Cotton, size M"),
];

struct Product {
    name: &'static str,
    price: String,
    order_number: String,
    amount: &'static str,
    comment: &'static str,
    checkvalue: String,
}

#[derive(Template)]
#[template(path = "checkout/demo_shop.html")]
struct ShopPage {
    ru: bool,
    merchant_id: i64,
    two_stage: bool,
    products: Vec<Product>,
    url_ok: String,
    url_no: String,
}

#[derive(Template)]
#[template(path = "checkout/demo_missing.html")]
struct MissingPage {
    ru: bool,
}

#[derive(Deserialize)]
pub struct ShopQuery {
    lang: Option<String>,
}

fn shop_lang(query: Option<&str>, req: &HttpRequest) -> Lang {
    query.and_then(Lang::from_assist).unwrap_or_else(|| Lang::from_browser(req))
}

async fn demo_merchant(gateway: &Gateway, lang: Lang) -> Result<Option<Merchant>, CheckoutError> {
    match gateway.merchant_by_number(DEMO_MERCHANT_NUMBER).await {
        Ok(m) => Ok(Some(m)),
        Err(GatewayError::UnknownMerchant) => Ok(None),
        Err(e) => Err(CheckoutError::Internal(lang, e)),
    }
}

fn missing(lang: Lang) -> Result<HttpResponse, CheckoutError> {
    html(StatusCode::NOT_FOUND, &MissingPage { ru: lang == Lang::Ru }, lang)
}

async fn shop(
    state: web::Data<AppState>,
    query: web::Query<ShopQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let lang = shop_lang(query.lang.as_deref(), &req);
    let Some(merchant) = demo_merchant(&state.gateway, lang).await? else { return missing(lang) };
    let info = req.connection_info();
    let base = format!("{}://{}/demo-shop/return", info.scheme(), info.host());
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let products = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, (ru, en, amount, comment))| {
            let order_number = format!("shop-{stamp}-{}-{i}", hex::encode(rand::random::<[u8; 3]>()));
            let number = merchant.merchant_number.to_string();
            // What a real shop does on its server: sign the request with its secret word.
            let x = checkvalue::request_string(RequestMode::Delimited, [&number, &order_number, amount, "RUB"], &[]);
            Product {
                name: if lang == Lang::Ru { ru } else { en },
                price: format_amount(lang, amount.replace('.', "").parse().unwrap_or_default(), "RUB"),
                checkvalue: checkvalue::compute(&merchant.secret_md5, &x, Variant::B),
                order_number,
                amount,
                comment,
            }
        })
        .collect();
    let page = ShopPage {
        ru: lang == Lang::Ru,
        merchant_id: merchant.merchant_number,
        two_stage: merchant.two_stage_allowed,
        products,
        // The shop remembers the customer's language in its own return URLs.
        url_ok: format!("{base}/ok?lang={}", lang.assist()),
        url_no: format!("{base}/no?lang={}", lang.assist()),
    };
    html(StatusCode::OK, &page, lang)
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    billnumber: Option<String>,
    ordernumber: Option<String>,
    lang: Option<String>,
}

struct Seen {
    order_number: String,
    billnumber: String,
    state: String,
    amount: String,
    paid: bool,
}

#[derive(Template)]
#[template(path = "checkout/demo_return.html")]
struct ReturnPage {
    ru: bool,
    ok: bool,
    ordernumber: String,
    seen: Option<Seen>,
}

/// `GET /demo-shop/return/{ok|no}`: never trusts the browser's word, asks Kassa.
async fn back(
    state: web::Data<AppState>,
    outcome: web::Path<String>,
    query: web::Query<ReturnQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let lang = shop_lang(query.lang.as_deref(), &req);
    let Some(merchant) = demo_merchant(&state.gateway, lang).await? else { return missing(lang) };
    let seen = match query.billnumber.as_deref() {
        Some(b) if !b.is_empty() => match state.gateway.order(&merchant.id, b).await {
            Ok(o) => Some(Seen {
                paid: o.state().is_paid(),
                amount: format_amount(lang, o.original_amount, &o.original_currency),
                state: o.state,
                order_number: o.order_number,
                billnumber: o.billnumber,
            }),
            Err(GatewayError::OrderNotFound) => None,
            Err(e) => return Err(CheckoutError::Internal(lang, e)),
        },
        _ => None,
    };
    let page = ReturnPage {
        ru: lang == Lang::Ru,
        ok: outcome.as_str() == "ok",
        ordernumber: query.ordernumber.clone().unwrap_or_default(),
        seen,
    };
    html(StatusCode::OK, &page, lang)
}
