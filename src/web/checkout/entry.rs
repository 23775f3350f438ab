//! The entry: `POST /pay/order.cfm` (and `GET` with the same query) from the shop's «Buy»
//! button. A valid request creates the order and sends the customer to the order's own page;
//! anything wrong gives a page naming the field, status 400, and creates nothing.

use actix_web::{HttpRequest, HttpResponse, web};

use super::i18n::Lang;
use super::{CheckoutError, new_token, see_other};
use crate::db::models::{CheckoutPage, Order};
use crate::gateway::{GatewayError, OrderRequest};
use crate::startup::AppState;

pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, CheckoutError> {
    create(&state, &req, form.into_inner()).await
}

pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, CheckoutError> {
    create(&state, &req, query.into_inner()).await
}

async fn create(
    state: &AppState,
    req: &HttpRequest,
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, CheckoutError> {
    let mut request = order_request(fields);
    let browser = Lang::from_browser(req);
    let lang = request.language.as_deref().and_then(Lang::from_assist).unwrap_or(browser);
    if request.language.as_deref().is_none_or(|l| l.trim().is_empty()) {
        // Not sent: the pages speak the browser's language (the check value does not cover it).
        request.language = Some(browser.assist().to_owned());
    }
    let order = state.gateway.create_order(request).await.map_err(|e| CheckoutError::Entry(lang, e))?;
    let token = page_for(state, &order).await.map_err(|e| CheckoutError::Internal(lang, e))?;
    Ok(see_other(&format!("/pay/{token}")))
}

/// The token of the order's page (`/pay/<token>`), made on first use; also for other entry
/// channels (such as `/pay/payrequest.cfm`) that hand out a payment page URL.
pub async fn page_for(state: &AppState, order: &Order) -> Result<String, GatewayError> {
    let id = order.id.clone();
    let page = state
        .gateway
        .store
        .write(move |c| CheckoutPage::for_order(c, &id, new_token(), crate::db::now()).map_err(GatewayError::from))
        .await?;
    Ok(page.token)
}

/// Maps the posted fields onto the request, names compared case-insensitively (shops send
/// `Merchant_ID` and `merchant_id` alike). The first value of a repeated field counts; the
/// payment-means flags of means Kassa does not offer are accepted and ignored.
fn order_request(fields: Vec<(String, String)>) -> OrderRequest {
    let mut r = OrderRequest::default();
    let mut seen = std::collections::HashSet::new();
    let mut other_means = Vec::new();
    for (name, value) in fields {
        let name = name.trim().to_ascii_lowercase();
        if !seen.insert(name.clone()) {
            continue;
        }
        let slot = match name.as_str() {
            "merchant_id" => {
                r.merchant_id = value;
                continue;
            }
            "ordernumber" => {
                r.order_number = value;
                continue;
            }
            "orderamount" => {
                r.order_amount = value;
                continue;
            }
            "ordercurrency" => &mut r.order_currency,
            "ordercomment" => &mut r.order_comment,
            "delay" => &mut r.delay,
            "language" => &mut r.language,
            "lastname" => &mut r.lastname,
            "firstname" => &mut r.firstname,
            "middlename" => &mut r.middlename,
            "email" => &mut r.email,
            "mobilephone" => &mut r.mobile_phone,
            "address" => &mut r.address,
            "country" => &mut r.country,
            "city" => &mut r.city,
            "zip" => &mut r.zip,
            "clientip" => &mut r.client_ip,
            "url_return" => &mut r.url_return,
            "url_return_ok" => &mut r.url_return_ok,
            "url_return_no" => &mut r.url_return_no,
            "cardpayment" => &mut r.card_payment,
            "walletpayment" => &mut r.wallet_payment,
            "ordermaxpoints" => &mut r.order_max_points,
            "customernumber" => &mut r.customer_number,
            "disable3ds" => &mut r.disable_3ds,
            "prepayment" => &mut r.prepayment,
            "checkvalue" => &mut r.checkvalue,
            "signature" => &mut r.signature,
            // Other phones stand in for the mobile one when it is not sent.
            "homephone" | "workphone" if r.mobile_phone.is_none() => &mut r.mobile_phone,
            n if OTHER_MEANS.contains(&n) => {
                other_means.push(value);
                continue;
            }
            _ => continue,
        };
        *slot = Some(value);
    }
    // Every flag sent and all of them 0 is an error even when only means Kassa lacks were named.
    let all_zero = !other_means.is_empty() && other_means.iter().all(|v| v.trim() == "0");
    if all_zero && r.card_payment.is_none() && r.wallet_payment.is_none() {
        r.card_payment = Some("0".into());
        r.wallet_payment = Some("0".into());
    }
    r
}

/// Payment-means flags of the protocol that Kassa does not offer (lower case).
const OTHER_MEANS: &[&str] = &[
    "ympayment",
    "wmpayment",
    "qiwipayment",
    "qiwimtspayment",
    "qiwimegafonpayment",
    "qiwibeelinepayment",
    "assistidpayment",
    "fastpaypayment",
    "applepaypayment",
    "googlepaypayment",
    "samsungpaypayment",
    "mirpaypayment",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_case_insensitive_and_the_first_value_counts() {
        let fields = [("MERCHANT_ID", "5"), ("orderNumber", "A-1"), ("OrderAmount", "10.00"), ("ordernumber", "B-2")];
        let r = order_request(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        assert_eq!((r.merchant_id.as_str(), r.order_number.as_str(), r.order_amount.as_str()), ("5", "A-1", "10.00"));
    }
}
