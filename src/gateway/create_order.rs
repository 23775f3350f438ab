//! Create order: the Assist payment request (`/pay/order.cfm`, `/pay/payrequest.cfm`).

use std::net::IpAddr;
use std::str::FromStr;

use diesel::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Gateway, GatewayError};
use crate::assist::checkvalue::{self, RequestMode};
use crate::assist::signature;
use crate::db::models::{Merchant, NewOrder, Order, OrderId};
use crate::db::schema::exchange_rates;
use crate::db::{self, AnyConnection};
use crate::domain::{OrderMoney, OrderState};
use crate::money::{Currency, Money, convert};

/// The fields of an Assist payment request, exactly as posted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderRequest {
    pub merchant_id: String,
    pub order_number: String,
    pub order_amount: String,
    pub order_currency: Option<String>,
    pub order_comment: Option<String>,
    pub delay: Option<String>,
    pub language: Option<String>,
    pub lastname: Option<String>,
    pub firstname: Option<String>,
    pub middlename: Option<String>,
    pub email: Option<String>,
    pub mobile_phone: Option<String>,
    pub address: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub client_ip: Option<String>,
    pub url_return: Option<String>,
    pub url_return_ok: Option<String>,
    pub url_return_no: Option<String>,
    pub card_payment: Option<String>,
    pub wallet_payment: Option<String>,
    pub order_max_points: Option<String>,
    pub customer_number: Option<String>,
    pub disable_3ds: Option<String>,
    pub prepayment: Option<String>,
    pub checkvalue: Option<String>,
    /// Base64 RSA signature of the same string as the check value (reference §2.3).
    pub signature: Option<String>,
    /// The caller already proved to be the merchant (an API key), so neither a check value nor
    /// a signature is demanded of the request.
    #[serde(skip)]
    pub authenticated: bool,
}

/// Optional text: absent and empty are the same; longer than `max` characters is refused.
fn text(value: &Option<String>, field: &'static str, max: usize) -> Result<Option<String>, GatewayError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => {
            Err(GatewayError::invalid(field, format!("longer than {max} characters")))
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => {
            Err(GatewayError::invalid(field, "contains control characters"))
        }
        Some(v) => Ok(Some(v.to_owned())),
    }
}

fn flag(value: &Option<String>, field: &'static str) -> Result<Option<bool>, GatewayError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("0") => Ok(Some(false)),
        Some("1") => Ok(Some(true)),
        Some(_) => Err(GatewayError::invalid(field, "must be 0 or 1")),
    }
}

fn url(value: &Option<String>, field: &'static str) -> Result<Option<String>, GatewayError> {
    let v = text(value, field, 256)?;
    match &v {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(char::is_whitespace) => {
            Err(GatewayError::invalid(field, "must be an http(s) URL"))
        }
        _ => Ok(v),
    }
}

/// A 16-digit billnumber that does not start with zero and never passes the Luhn check, so
/// it can never be mistaken for (or be) a card number in logs, exports and `kassa check`.
pub(super) fn new_billnumber() -> String {
    let n = 100_000_000_000_000u64 + rand::random::<u64>() % 900_000_000_000_000;
    let body = n.to_string();
    let check = (0..10u8).map(|d| format!("{body}{d}")).find(|candidate| !crate::card::luhn(candidate));
    check.expect("only one of ten check digits passes Luhn")
}

struct Validated {
    order_number: String,
    original: Money,
    comment: Option<String>,
    delay: bool,
    language: String,
    customer: [Option<String>; 9],
    client_ip: Option<String>,
    urls: [Option<String>; 3],
    means: String,
}

fn validate(req: &OrderRequest, merchant: &Merchant) -> Result<Validated, GatewayError> {
    let order_number = req.order_number.trim();
    if order_number.is_empty() {
        return Err(GatewayError::invalid("OrderNumber", "is required"));
    }
    let order_number = text(&Some(order_number.to_owned()), "OrderNumber", 128)?.unwrap_or_default();
    let currency_text = req.order_currency.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let currency = match currency_text {
        Some(c) => Currency::from_str(c).map_err(|e| GatewayError::invalid("OrderCurrency", e.to_string()))?,
        None => Currency::from_str(&merchant.payment_currency)
            .map_err(|e| GatewayError::invalid("OrderCurrency", e.to_string()))?,
    };
    if !merchant.accepts_currency(currency.code()) {
        return Err(GatewayError::CurrencyNotAllowed(currency.code().into()));
    }
    let original = Money::parse(req.order_amount.trim(), currency)
        .map_err(|e| GatewayError::invalid("OrderAmount", e.to_string()))?;
    let comment = text(&req.order_comment, "OrderComment", 4000)?;
    let delay = flag(&req.delay, "Delay")?.unwrap_or(false);
    if delay && !merchant.two_stage_allowed {
        return Err(GatewayError::TwoStageNotAllowed);
    }
    let language = match req.language.as_deref().map(|l| l.trim().to_ascii_uppercase()) {
        None => "RU".to_owned(),
        Some(l) if l.is_empty() => "RU".to_owned(),
        Some(l) if l == "RU" || l == "EN" => l,
        Some(_) => return Err(GatewayError::invalid("Language", "must be RU or EN")),
    };
    let email = text(&req.email, "Email", 128)?;
    if let Some(e) = &email {
        let valid = e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !e.contains(' '));
        if !valid {
            return Err(GatewayError::invalid("Email", "is not an e-mail address"));
        }
    }
    let customer = [
        text(&req.lastname, "Lastname", 70)?,
        text(&req.firstname, "Firstname", 70)?,
        text(&req.middlename, "Middlename", 70)?,
        email,
        text(&req.mobile_phone, "MobilePhone", 64)?,
        text(&req.address, "Address", 256)?,
        text(&req.country, "Country", 3)?,
        text(&req.city, "City", 70)?,
        text(&req.zip, "Zip", 25)?,
    ];
    let client_ip = text(&req.client_ip, "ClientIP", 45)?;
    if let Some(ip) = &client_ip {
        IpAddr::from_str(ip).map_err(|_| GatewayError::invalid("ClientIP", "is not an IP address"))?;
    }
    let urls = [
        url(&req.url_return, "URL_RETURN")?,
        url(&req.url_return_ok, "URL_RETURN_OK")?,
        url(&req.url_return_no, "URL_RETURN_NO")?,
    ];
    let asked =
        [("card", flag(&req.card_payment, "CardPayment")?), ("wallet", flag(&req.wallet_payment, "WalletPayment")?)];
    let any_asked = asked.iter().any(|(_, f)| f.is_some());
    if any_asked && asked.iter().all(|(_, f)| *f != Some(true)) {
        return Err(GatewayError::invalid("CardPayment", "at least one payment means must be allowed"));
    }
    let means: Vec<&str> = asked
        .iter()
        .filter(|(m, f)| merchant.accepts_means(m) && (!any_asked || *f == Some(true)))
        .map(|(m, _)| *m)
        .collect();
    if means.is_empty() {
        return Err(GatewayError::MeansNotAllowed);
    }
    for (value, field) in [(&req.order_max_points, "OrderMaxPoints"), (&req.disable_3ds, "Disable3DS")] {
        text(value, field, 32)?;
    }
    text(&req.customer_number, "CustomerNumber", 128)?;
    text(&req.prepayment, "Prepayment", 32)?;
    Ok(Validated {
        order_number,
        original,
        comment,
        delay,
        language,
        customer,
        client_ip,
        urls,
        means: means.join(","),
    })
}

/// The request strings X the merchant may have hashed: the values exactly as posted, in the
/// merchant's mode, or in both modes when the check is off.
fn request_strings(req: &OrderRequest, mode: RequestMode) -> Vec<String> {
    let fields = [
        req.merchant_id.as_str(),
        req.order_number.as_str(),
        req.order_amount.as_str(),
        req.order_currency.as_deref().unwrap_or(""),
    ];
    let optional = [
        req.order_max_points.as_deref().unwrap_or(""),
        req.customer_number.as_deref().unwrap_or(""),
        req.disable_3ds.as_deref().unwrap_or(""),
        req.prepayment.as_deref().unwrap_or(""),
    ];
    let modes: &[RequestMode] = match mode {
        RequestMode::Off => &[RequestMode::Delimited, RequestMode::Concatenated],
        m => &[m][..],
    };
    modes.iter().map(|m| checkvalue::request_string(*m, fields, &optional)).collect()
}

/// A merchant in signature mode must sign every request; otherwise the check value is checked
/// as its mode says.
fn verify_request(req: &OrderRequest, merchant: &Merchant) -> Result<(), GatewayError> {
    if req.authenticated {
        return Ok(());
    }
    let mode = RequestMode::parse(&merchant.checkvalue_mode).unwrap_or(RequestMode::Delimited);
    if merchant.signature_required {
        let given = req.signature.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let Some(given) = given else {
            return Err(GatewayError::invalid("Signature", "is required for this merchant"));
        };
        let key = merchant.rsa_public_key.as_deref().unwrap_or_default();
        let ok = request_strings(req, mode).iter().any(|x| signature::verify(key, x, given));
        return if ok { Ok(()) } else { Err(GatewayError::BadSignature) };
    }
    let given = req.checkvalue.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let given = match (given, mode) {
        (None, RequestMode::Off) => return Ok(()),
        (None, _) => return Err(GatewayError::invalid("Checkvalue", "is required for this merchant")),
        (Some(v), _) => v,
    };
    let ok = request_strings(req, mode).iter().any(|x| checkvalue::verify(&merchant.secret_md5, x, given));
    if ok { Ok(()) } else { Err(GatewayError::BadCheckValue) }
}

/// The merchant's limits set in the admin area, on the amount in the payment currency: the
/// smallest and largest order, and the day's turnover cap (checked when the order is made).
async fn check_limits(gateway: &Gateway, merchant: &Merchant, amount: Money) -> Result<(), GatewayError> {
    let show = |minor: i64| crate::money::format_minor(minor, amount.currency.code());
    let code = amount.currency.code();
    if let Some(min) = merchant.min_amount.filter(|min| amount.minor < *min) {
        return Err(GatewayError::invalid("OrderAmount", format!("below the shop's minimum of {} {code}", show(min))));
    }
    if let Some(max) = merchant.max_amount.filter(|max| amount.minor > *max) {
        return Err(GatewayError::invalid("OrderAmount", format!("above the shop's maximum of {} {code}", show(max))));
    }
    if let Some(cap) = merchant.daily_cap {
        let m = merchant.clone();
        let today = gateway.store.read(move |c| m.turnover_today(c).map_err(GatewayError::from)).await?;
        if today.saturating_add(amount.minor) > cap {
            return Err(GatewayError::invalid("OrderAmount", "beyond the shop's daily limit; try again tomorrow"));
        }
    }
    Ok(())
}

/// The newest rate from `from` to `to` in force now.
fn rate(conn: &mut AnyConnection, from: &str, to: &str) -> Result<Option<Decimal>, GatewayError> {
    let text: Option<String> = exchange_rates::table
        .filter(exchange_rates::from_currency.eq(from))
        .filter(exchange_rates::to_currency.eq(to))
        .filter(exchange_rates::valid_from.le(db::now()))
        .order(exchange_rates::valid_from.desc())
        .select(exchange_rates::rate)
        .first(conn)
        .optional()?;
    Ok(text.and_then(|t| Decimal::from_str(&t).ok()))
}

impl Gateway {
    /// Creates an order (state `In Process`) for an Assist payment request.
    ///
    /// An order number whose earlier attempts were `Declined` or timed out gets a new attempt with
    /// a new billnumber; a paid order number is refused. Sending the same request again while its
    /// attempt is still open returns that attempt.
    pub async fn create_order(&self, req: OrderRequest) -> Result<Order, GatewayError> {
        let number: i64 = req
            .merchant_id
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| GatewayError::invalid("Merchant_ID", "must be a positive integer"))?;
        let merchant = self.merchant_by_number(number).await?;
        let m = merchant.clone();
        if !self.store.read(move |c| m.accepts_payments(c).map_err(GatewayError::from)).await? {
            return Err(GatewayError::MerchantInactive);
        }
        let v = validate(&req, &merchant)?;
        verify_request(&req, &merchant)?;
        let pay_currency = Currency::from_str(&merchant.payment_currency)
            .map_err(|e| GatewayError::invalid("OrderCurrency", e.to_string()))?;
        let (amount, rate_text) = if pay_currency == v.original.currency {
            (v.original, "1".to_owned())
        } else {
            let (from, to) = (v.original.currency.code(), pay_currency.code());
            let r = self
                .store
                .read(move |c| rate(c, from, to))
                .await?
                .ok_or_else(|| GatewayError::NoExchangeRate { from: from.into(), to: to.into() })?;
            let converted = convert(v.original, r, pay_currency)
                .ok_or_else(|| GatewayError::invalid("OrderAmount", "too small to convert"))?;
            (converted, r.normalize().to_string())
        };
        check_limits(self, &merchant, amount).await?;
        let now = db::now();
        let [lastname, firstname, middlename, email, phone, address, country, city, zip] = v.customer;
        let [url_return, url_return_ok, url_return_no] = v.urls;
        let mut new = NewOrder {
            id: OrderId::new(),
            merchant_id: merchant.id.clone(),
            order_number: v.order_number,
            billnumber: new_billnumber(),
            state: OrderState::InProcess.as_str().into(),
            original_amount: v.original.minor,
            original_currency: v.original.currency.code().into(),
            amount: amount.minor,
            currency: amount.currency.code().into(),
            rate: rate_text,
            delay: v.delay,
            test_mode: merchant.test_mode,
            comment: v.comment,
            language: v.language,
            lastname,
            firstname,
            middlename,
            email,
            phone,
            address,
            country,
            city,
            zip,
            client_ip: v.client_ip,
            url_return,
            url_return_ok,
            url_return_no,
            payment_means: v.means,
            card_brand: None,
            card_last4: None,
            authorized: OrderMoney::default().authorized,
            confirmed: 0,
            released: 0,
            voided: 0,
            refunded: 0,
            settled: 0,
            next_seq: 1,
            expires_at: now + time::Duration::seconds(merchant.payment_timeout_secs),
            confirm_deadline: None,
            paid_at: None,
            created_at: now,
            updated_at: now,
        };
        // A unique violation (a concurrent attempt with the same order number, or a billnumber
        // collision) aborts a PostgreSQL transaction, so the whole write is retried: the next
        // round sees the committed attempt.
        for _ in 0..3 {
            let attempt = new.clone();
            match self.store.write(move |c| insert_attempt(c, attempt)).await {
                Err(GatewayError::Store(e)) if e.is_unique_violation() => new.billnumber = new_billnumber(),
                other => return other,
            }
        }
        Err(GatewayError::OrderNumberInUse)
    }
}

pub(super) fn insert_attempt(conn: &mut AnyConnection, new: NewOrder) -> Result<Order, GatewayError> {
    use crate::db::schema::orders;
    if let Some(open) =
        Order::attempts(conn, &new.merchant_id, &new.order_number)?.into_iter().find(|o| !o.state().is_final_failure())
    {
        let same = open.original_amount == new.original_amount && open.original_currency == new.original_currency;
        return match open.state() {
            OrderState::InProcess if same => Ok(open),
            OrderState::InProcess => Err(GatewayError::OrderNumberInUse),
            _ => Err(GatewayError::OrderNumberPaid),
        };
    }
    diesel::insert_into(orders::table).values(&new).execute(conn)?;
    Ok(Order::find(conn, &new.id)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn billnumbers_are_sixteen_digits_and_never_luhn_valid() {
        for _ in 0..1_000 {
            let b = super::new_billnumber();
            assert!(b.len() == 16 && !b.starts_with('0') && !crate::card::luhn(&b), "{b}");
        }
    }
}
