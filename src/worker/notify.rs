//! The Assist payment notification (`reference/assist-protocol.md` §5): a form POST to the
//! merchant's notification URL, sealed (check value, or Kassa's signature in signature mode)
//! over the operation's amount and currency, acknowledged by `<pushpaymentresult firstcode="0" secondcode="0">`; or, for a
//! merchant that chose SOAP, the same fields in a `<ws:PushPaymentResult>` call.

use time::PrimitiveDateTime;

use crate::assist::codes;
use crate::assist::seal::Seal;
use crate::db::models::{Merchant, Operation, Order};
use crate::money::format_minor;

/// Assist dates: `DD.MM.YYYY HH:MM:SS`, GMT.
pub fn assist_date(t: PrimitiveDateTime) -> String {
    format!(
        "{:02}.{:02}.{:04} {:02}:{:02}:{:02}",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The form fields of the notification, in the reference's order and spelling.
pub fn fields(
    merchant: &Merchant,
    seal: &Seal,
    order: &Order,
    operation: &Operation,
    processing: &str,
    now: PrimitiveDateTime,
) -> Vec<(&'static str, String)> {
    let amount = format_minor(operation.amount, &operation.currency);
    let [signature, checkvalue] =
        seal.fields(merchant.merchant_number, &order.order_number, &amount, &operation.currency, &order.state);
    let code = operation.response_code.clone().unwrap_or_default();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("merchant_id", merchant.merchant_number.to_string()),
        ("ordernumber", order.order_number.clone()),
        ("billnumber", format!("{}.{}", order.billnumber, operation.seq)),
        ("testmode", u8::from(order.test_mode).to_string()),
        ("ordercomment", opt(&order.comment)),
        ("orderamount", format_minor(order.original_amount, &order.original_currency)),
        ("ordercurrency", order.original_currency.clone()),
        ("amount", amount),
        ("currency", operation.currency.clone()),
        ("rate", order.rate.clone()),
        ("firstname", opt(&order.firstname)),
        ("lastname", opt(&order.lastname)),
        ("middlename", opt(&order.middlename)),
        ("email", opt(&order.email)),
        ("clientip", opt(&operation.client_ip)),
        ("meantypename", opt(&operation.card_brand)),
        ("meannumber", opt(&operation.card_mask)),
        ("cardholder", opt(&operation.cardholder)),
        ("cardexpirationdate", opt(&operation.card_expiry)),
        ("orderdate", assist_date(order.created_at)),
        ("orderstate", order.state.clone()),
        ("responsecode", code.clone()),
        ("message", opt(&operation.message)),
        ("customermessage", codes::message(&code).to_owned()),
        ("approvalcode", opt(&operation.approval_code)),
        ("protocoltypename", "NET".into()),
        ("processingname", processing.to_owned()),
        ("operationtype", operation.kind().assist_type().to_string()),
        ("operationdate", assist_date(operation.updated_at)),
        ("packetdate", assist_date(now)),
        signature,
        checkvalue,
    ]
}

/// How the merchant answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    /// An answer with non-zero codes: final, never retried.
    Refused {
        firstcode: String,
        secondcode: String,
    },
    /// A SOAP fault: final, never retried.
    Fault(String),
    /// Not a `pushpaymentresult`: treated as no answer.
    Unreadable,
}

/// Reads `<pushpaymentresult firstcode=".." secondcode="..">` from the merchant's reply.
pub fn read_answer(body: &str) -> Answer {
    let Some(start) = body.find("<pushpaymentresult") else { return Answer::Unreadable };
    let tag = &body[start..body[start..].find('>').map_or(body.len(), |e| start + e)];
    let attr = |name: &str| {
        let at = tag.find(&format!("{name}="))? + name.len() + 1;
        let quote = tag[at..].chars().next()?;
        let rest = &tag[at + 1..];
        Some(rest[..rest.find(quote)?].trim().to_owned())
    };
    match (attr("firstcode"), attr("secondcode")) {
        (Some(f), Some(s)) if f == "0" && s == "0" => Answer::Accepted,
        (Some(firstcode), Some(secondcode)) => Answer::Refused { firstcode, secondcode },
        _ => Answer::Unreadable,
    }
}

/// How the merchant's server takes the notification (reference §5: HTTP POST or SOAP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// A form POST, answered with `<pushpaymentresult>`.
    Post,
    /// The same fields in a SOAP 1.1 `<ws:PushPaymentResult>` call.
    Soap,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "post" => Some(Protocol::Post),
            "soap" => Some(Protocol::Soap),
            _ => None,
        }
    }
}

/// The namespace of the Assist web services (reference §4).
const WS_NAMESPACE: &str = "http://www.paysecure.ru/ws/";

/// The SOAP body of the notification: the form's fields, same names and order, as elements of
/// `<ws:PushPaymentResult>`.
pub fn soap_envelope(fields: &[(&'static str, String)]) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope \
         xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ws=\"{WS_NAMESPACE}\">\
         <soapenv:Header/><soapenv:Body><ws:PushPaymentResult>"
    );
    for (name, value) in fields {
        xml.push_str(&format!("<{name}>{}</{name}>", crate::web::services::answer::escape(value)));
    }
    xml.push_str("</ws:PushPaymentResult></soapenv:Body></soapenv:Envelope>");
    xml
}

/// Reads the SOAP reply: a `Fault` is a refusal; otherwise the `pushpaymentresult` element,
/// with or without a namespace prefix, as in the form reply.
pub fn read_soap_answer(body: &str) -> Answer {
    let lower = body.to_ascii_lowercase();
    if lower.contains(":fault>") || lower.contains("<fault>") {
        let code = lower
            .split("faultcode")
            .nth(1)
            .and_then(|rest| rest.split_once('>'))
            .map(|(_, rest)| rest.split('<').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        return Answer::Fault(code);
    }
    lower
        .match_indices("pushpaymentresult")
        .filter(|(i, _)| *i > 0 && matches!(lower.as_bytes()[i - 1], b'<' | b':'))
        .map(|(i, _)| read_answer(&format!("<{}", &lower[i..])))
        .find(|a| *a != Answer::Unreadable)
        .unwrap_or(Answer::Unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_merchant_answer() {
        let ok = r#"<?xml version="1.0"?><pushpaymentresult firstcode="0" secondcode="0"><order><billnumber>1.1</billnumber></order></pushpaymentresult>"#;
        assert_eq!(read_answer(ok), Answer::Accepted);
        assert_eq!(read_answer("<pushpaymentresult firstcode='0' secondcode='0'/>"), Answer::Accepted);
        let refused = r#"<pushpaymentresult firstcode="5" secondcode="108"></pushpaymentresult>"#;
        assert_eq!(read_answer(refused), Answer::Refused { firstcode: "5".into(), secondcode: "108".into() });
        assert_eq!(read_answer("OK"), Answer::Unreadable);
        assert_eq!(read_answer("<pushpaymentresult>"), Answer::Unreadable);
    }

    #[test]
    fn dates_are_assist_formatted() {
        let t = time::macros::datetime!(2026-12-03 07:05:09);
        assert_eq!(assist_date(t), "03.12.2026 07:05:09");
    }
}
