//! Russian and English for every checkout text. The language is the request's `Language`,
//! else the browser's `Accept-Language`, else Russian (the merchants' default).

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT_LANGUAGE;

use crate::gateway::GatewayError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

impl Lang {
    /// The Assist `Language` value (`RU`, `EN`, any case).
    pub fn from_assist(value: &str) -> Option<Lang> {
        match value.trim().to_ascii_uppercase().as_str() {
            "RU" => Some(Lang::Ru),
            "EN" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn assist(self) -> &'static str {
        match self {
            Lang::Ru => "RU",
            Lang::En => "EN",
        }
    }

    /// The first of Russian or English the browser lists (ignoring q-values' order, as browsers
    /// already send their preferences best first), else Russian.
    pub fn from_browser(req: &HttpRequest) -> Lang {
        let header = req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        for part in header.split(',') {
            let tag = part.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            match tag.split('-').next() {
                Some("ru") => return Lang::Ru,
                Some("en") => return Lang::En,
                _ => {}
            }
        }
        Lang::Ru
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }

    /// The customer's message for a response code (the reference's AS codes).
    pub fn decline_message(self, code: &str) -> &'static str {
        let (ru, en) = match code {
            "AS101" => (
                "Неверные данные карты. Проверьте номер, срок действия и CVC.",
                "Wrong card data. Check the number, expiry date and CVC.",
            ),
            "AS102" => ("Недостаточно средств на карте.", "Insufficient funds on the card."),
            "AS104" => ("Истёк срок действия карты.", "The card has expired."),
            "AS105" => ("Превышен лимит по карте.", "The card limit is exceeded."),
            "AS109" => (
                "Магазин сегодня больше не принимает платежи (AS109). Деньги не списаны, заказ не оплачен: его можно оплатить позже.",
                "The shop has reached its payment limit for today (AS109). Nothing was charged and the order is not paid; you can pay it later.",
            ),
            "AS108" => (
                "Банк отклонил платёж по соображениям безопасности.",
                "The bank declined the payment for security reasons.",
            ),
            "AS110" => ("Требуется подтверждение 3-D Secure.", "3-D Secure authentication is required."),
            "AS998" | "AS999" => (
                "Ошибка при обработке платежа. Попробуйте позже.",
                "The payment could not be processed. Please try later.",
            ),
            _ => ("Банк отклонил платёж. Попробуйте другую карту.", "The bank declined the payment. Try another card."),
        };
        if self == Lang::Ru { ru } else { en }
    }

    /// Why a payment request was refused, naming the field at fault.
    pub fn entry_error(self, error: &GatewayError) -> String {
        let ru = self == Lang::Ru;
        let field = error.field().unwrap_or("");
        match error {
            GatewayError::InvalidField { reason, .. } if ru => format!("Поле {field} заполнено неверно ({reason})."),
            GatewayError::InvalidField { reason, .. } => format!("The field {field} is not valid: {reason}."),
            GatewayError::UnknownMerchant if ru => "Магазин с таким Merchant_ID не найден.".into(),
            GatewayError::UnknownMerchant => "There is no shop with this Merchant_ID.".into(),
            GatewayError::MerchantInactive if ru => "Магазин (Merchant_ID) сейчас не принимает платежи.".into(),
            GatewayError::MerchantInactive => "This shop (Merchant_ID) does not accept payments now.".into(),
            GatewayError::CurrencyNotAllowed(c) if ru => format!("Магазин не принимает валюту {c} (OrderCurrency)."),
            GatewayError::CurrencyNotAllowed(c) => {
                format!("The shop does not accept the currency {c} (OrderCurrency).")
            }
            GatewayError::NoExchangeRate { from, to } if ru => {
                format!("Нет курса пересчёта {from} → {to} (OrderCurrency).")
            }
            GatewayError::NoExchangeRate { from, to } => {
                format!("There is no exchange rate {from} → {to} (OrderCurrency).")
            }
            GatewayError::BadCheckValue if ru => "Контрольное значение запроса (Checkvalue) не совпадает.".into(),
            GatewayError::BadCheckValue => "The request's check value (Checkvalue) does not match.".into(),
            GatewayError::BadSignature if ru => "Подпись запроса (Signature) не совпадает.".into(),
            GatewayError::BadSignature => "The request's signature (Signature) does not match.".into(),
            GatewayError::TwoStageNotAllowed if ru => {
                "Двухстадийная оплата (Delay=1) не разрешена этому магазину.".into()
            }
            GatewayError::TwoStageNotAllowed => "Two-stage payment (Delay=1) is not enabled for this shop.".into(),
            GatewayError::MeansNotAllowed if ru => {
                "Ни один из запрошенных способов оплаты (CardPayment, WalletPayment) не доступен.".into()
            }
            GatewayError::MeansNotAllowed => {
                "None of the requested payment means (CardPayment, WalletPayment) is available.".into()
            }
            GatewayError::OrderNumberPaid if ru => "Заказ с этим номером (OrderNumber) уже оплачен.".into(),
            GatewayError::OrderNumberPaid => "The order with this number (OrderNumber) is already paid.".into(),
            GatewayError::OrderNumberInUse if ru => {
                "Заказ с этим номером (OrderNumber) уже ожидает оплаты с другой суммой.".into()
            }
            GatewayError::OrderNumberInUse => {
                "An order with this number (OrderNumber) already awaits payment with another amount.".into()
            }
            _ if ru => "Внутренняя ошибка. Попробуйте позже.".into(),
            _ => "Internal error. Please try later.".into(),
        }
    }
}

/// Every text of the pages, one field each.
pub struct Texts {
    pub html_lang: &'static str,
    pub title: &'static str,
    pub shop: &'static str,
    pub order_number: &'static str,
    pub amount: &'static str,
    pub charged_as: &'static str,
    pub comment: &'static str,
    pub billnumber: &'static str,
    pub test_mode: &'static str,
    pub secure_note: &'static str,
    pub customer_heading: &'static str,
    pub lastname: &'static str,
    pub firstname: &'static str,
    pub email: &'static str,
    pub continue_: &'static str,
    pub required: &'static str,
    pub email_invalid: &'static str,
    pub too_long: &'static str,
    pub choose_method: &'static str,
    pub method_card: &'static str,
    pub method_wallet: &'static str,
    pub other_method: &'static str,
    pub card_heading: &'static str,
    pub card_number: &'static str,
    pub holder: &'static str,
    pub expiry: &'static str,
    pub month: &'static str,
    pub year: &'static str,
    pub cvc: &'static str,
    pub charge: &'static str,
    pub err_number: &'static str,
    pub err_expiry: &'static str,
    pub err_expired: &'static str,
    pub err_cvc: &'static str,
    pub err_holder: &'static str,
    pub form_spent: &'static str,
    pub challenge_heading: &'static str,
    pub challenge_text: &'static str,
    pub challenge_pass: &'static str,
    pub challenge_fail: &'static str,
    pub challenge_abandon: &'static str,
    pub wallet_heading: &'static str,
    pub wallet_id: &'static str,
    pub wallet_code: &'static str,
    pub wallet_hint: &'static str,
    pub wallet_pay: &'static str,
    pub processing_heading: &'static str,
    pub processing_text: &'static str,
    pub refresh: &'static str,
    pub paid_heading: &'static str,
    pub paid_text: &'static str,
    pub held_text: &'static str,
    pub declined_heading: &'static str,
    pub expired_heading: &'static str,
    pub expired_text: &'static str,
    pub retry: &'static str,
    pub back_to_shop: &'static str,
    pub auto_return: &'static str,
    pub error_heading: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub bad_form: &'static str,
    pub internal_error: &'static str,
}

pub static RU: Texts = Texts {
    html_lang: "ru",
    title: "Оплата заказа",
    shop: "Магазин",
    order_number: "Номер заказа",
    amount: "Сумма",
    charged_as: "К списанию",
    comment: "Комментарий",
    billnumber: "Номер платежа",
    test_mode: "Тестовый режим: деньги не списываются.",
    secure_note: "Данные карты передаются по защищённому соединению и не сохраняются.",
    customer_heading: "Ваши данные",
    lastname: "Фамилия",
    firstname: "Имя",
    email: "Электронная почта",
    continue_: "Продолжить",
    required: "Обязательное поле.",
    email_invalid: "Это не адрес электронной почты.",
    too_long: "Слишком длинное значение.",
    choose_method: "Выберите способ оплаты",
    method_card: "Банковская карта",
    method_wallet: "Электронный кошелёк",
    other_method: "Другой способ оплаты",
    card_heading: "Данные карты",
    card_number: "Номер карты",
    holder: "Имя владельца (как на карте)",
    expiry: "Срок действия",
    month: "Месяц",
    year: "Год",
    cvc: "CVC / CVV",
    charge: "Оплатить",
    err_number: "Неверный номер карты.",
    err_expiry: "Неверный срок действия.",
    err_expired: "Срок действия карты истёк.",
    err_cvc: "CVC — 3 цифры (4 для American Express).",
    err_holder: "Укажите имя владельца латиницей, как на карте.",
    form_spent: "Эта форма уже отправлена. Ниже — текущее состояние платежа.",
    challenge_heading: "Подтверждение 3-D Secure",
    challenge_text: "Банк просит подтвердить платёж. Это страница-симулятор банка: выберите результат проверки.",
    challenge_pass: "Подтвердить платёж",
    challenge_fail: "Проверка не пройдена",
    challenge_abandon: "Отказаться",
    wallet_heading: "Оплата электронным кошельком",
    wallet_id: "Номер кошелька",
    wallet_code: "Код подтверждения",
    wallet_hint: "Тестовый кошелёк: demo-wallet, код 0000.",
    wallet_pay: "Оплатить кошельком",
    processing_heading: "Платёж обрабатывается",
    processing_text: "Банк ещё не ответил. Обновите страницу через несколько секунд.",
    refresh: "Обновить",
    paid_heading: "Оплата прошла успешно",
    paid_text: "Спасибо! Магазин получит подтверждение оплаты.",
    held_text: "Сумма заблокирована на вашем счёте; магазин спишет её, когда подтвердит заказ.",
    declined_heading: "Платёж отклонён",
    expired_heading: "Время оплаты истекло",
    expired_text: "Заказ не был оплачен вовремя. Деньги не списаны.",
    retry: "Попробовать ещё раз",
    back_to_shop: "Вернуться в магазин",
    auto_return: "Через несколько секунд вы вернётесь в магазин.",
    error_heading: "Платёж не может быть принят",
    not_found: "Страница оплаты не найдена",
    not_found_text: "Ссылка неверна или устарела. Вернитесь в магазин и начните оплату заново.",
    bad_form: "Форма заполнена неверно. Вернитесь назад и попробуйте ещё раз.",
    internal_error: "Внутренняя ошибка. Попробуйте позже.",
};

pub static EN: Texts = Texts {
    html_lang: "en",
    title: "Order payment",
    shop: "Shop",
    order_number: "Order number",
    amount: "Amount",
    charged_as: "Charged as",
    comment: "Comment",
    billnumber: "Payment number",
    test_mode: "Test mode: no real money is charged.",
    secure_note: "Your card details travel over a secure connection and are not stored.",
    customer_heading: "Your details",
    lastname: "Last name",
    firstname: "First name",
    email: "E-mail",
    continue_: "Continue",
    required: "This field is required.",
    email_invalid: "This is not an e-mail address.",
    too_long: "This value is too long.",
    choose_method: "Choose how to pay",
    method_card: "Bank card",
    method_wallet: "E-wallet",
    other_method: "Another payment method",
    card_heading: "Card details",
    card_number: "Card number",
    holder: "Cardholder name (as on the card)",
    expiry: "Expiry date",
    month: "Month",
    year: "Year",
    cvc: "CVC / CVV",
    charge: "Pay",
    err_number: "The card number is not valid.",
    err_expiry: "The expiry date is not valid.",
    err_expired: "The card has expired.",
    err_cvc: "The CVC is 3 digits (4 for American Express).",
    err_holder: "Enter the cardholder name in Latin letters, as on the card.",
    form_spent: "This form was already sent. Below is the payment's current state.",
    challenge_heading: "3-D Secure verification",
    challenge_text: "Your bank asks you to confirm the payment. This is the simulated bank page: choose the result.",
    challenge_pass: "Confirm the payment",
    challenge_fail: "Fail the verification",
    challenge_abandon: "Cancel",
    wallet_heading: "Pay with an e-wallet",
    wallet_id: "Wallet id",
    wallet_code: "Confirmation code",
    wallet_hint: "Test wallet: demo-wallet, code 0000.",
    wallet_pay: "Pay with the wallet",
    processing_heading: "The payment is being processed",
    processing_text: "The bank has not answered yet. Refresh this page in a few seconds.",
    refresh: "Refresh",
    paid_heading: "Payment successful",
    paid_text: "Thank you! The shop will be told about your payment.",
    held_text: "The amount is held on your account; the shop will charge it when it confirms the order.",
    declined_heading: "Payment declined",
    expired_heading: "The payment time has run out",
    expired_text: "The order was not paid in time. No money was charged.",
    retry: "Try again",
    back_to_shop: "Back to the shop",
    auto_return: "You will be taken back to the shop in a few seconds.",
    error_heading: "The payment cannot be accepted",
    not_found: "Payment page not found",
    not_found_text: "The link is wrong or out of date. Go back to the shop and start the payment again.",
    bad_form: "The form is not filled in correctly. Go back and try again.",
    internal_error: "Internal error. Please try later.",
};

/// An amount as customers read it: `1 500,00 ₽` in Russian, `₽1,500.00` in English.
pub fn format_amount(lang: Lang, minor: i64, currency: &str) -> String {
    let plain = crate::money::format_minor(minor, currency);
    let (sign, plain) = plain.strip_prefix('-').map(|p| ("-", p)).unwrap_or(("", plain.as_str()));
    let (int, frac) = plain.split_once('.').map(|(i, f)| (i, Some(f))).unwrap_or((plain, None));
    let (group, point) = if lang == Lang::Ru { ('\u{202f}', ',') } else { (',', '.') };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(ch);
    }
    let number = match frac {
        Some(f) => format!("{sign}{grouped}{point}{f}"),
        None => format!("{sign}{grouped}"),
    };
    let symbol = match currency {
        "RUB" => "₽",
        "USD" => "$",
        "EUR" => "€",
        other => other,
    };
    if lang == Lang::Ru { format!("{number}\u{a0}{symbol}") } else { format!("{symbol}{number}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_language() {
        assert_eq!(format_amount(Lang::Ru, 150_000, "RUB"), "1\u{202f}500,00\u{a0}₽");
        assert_eq!(format_amount(Lang::En, 123_456_789, "USD"), "$1,234,567.89");
        assert_eq!(format_amount(Lang::En, 5, "EUR"), "€0.05");
    }
}
