//! Answers of the Assist services in the three formats Kassa speaks: `Format=1` CSV, `3` XML,
//! `5` JSON (reference §4.1, §4.3 and Appendix B.4).
//!
//! Every answer is built from [`OrderView`]s: the order's fields, its customer, its check data
//! and, for the services that list them, its operations. XML and CSV are generic over them;
//! the JSON shapes differ per service (B.4) and are built by each service from the same views.

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::codes::ServiceError;
use super::fields::Fields;

use crate::assist::seal::Seal;
use crate::db::models::{Merchant, Operation, Order};
use crate::money::format_minor;

/// Field names and values, in answer order.
pub type Row = Vec<(&'static str, String)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xml,
    Json,
}

impl Format {
    /// The `Format` field; `default` when it is absent (the reference leaves the default open,
    /// so clients should always send it).
    pub fn of(fields: &Fields, default: Format) -> Result<Format, ServiceError> {
        match fields.get("Format") {
            None => Ok(default),
            Some("1") => Ok(Format::Csv),
            Some("3") => Ok(Format::Xml),
            Some("5") => Ok(Format::Json),
            Some(_) => Err(ServiceError::field("Format", "Kassa answers Format 1 (CSV), 3 (XML) or 5 (JSON)")),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xml => "application/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// `DD.MM.YYYY HH:MM:SS`, GMT (Kassa stores UTC).
pub fn assist_date(t: PrimitiveDateTime) -> String {
    t.format(format_description!("[day].[month].[year] [hour]:[minute]:[second]")).unwrap_or_default()
}

/// One order block of an answer.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub order: Row,
    pub customer: Row,
    /// `packetdate`, `signature`, `checkvalue` (one of the two filled, see [`Seal`]).
    pub check: Row,
    pub operations: Vec<Row>,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The order block; `seal` fills `signature` or `checkvalue` over the order's amount and currency
/// (reference §4.3), the same string as the MD5 check value.
pub fn order_view(
    merchant: &Merchant,
    seal: &Seal,
    order: &Order,
    operations: &[Operation],
    packetdate: &str,
) -> OrderView {
    let amount = format_minor(order.original_amount, &order.original_currency);
    let order_row: Row = vec![
        ("billnumber", order.billnumber.clone()),
        ("ordernumber", order.order_number.clone()),
        ("testmode", if order.test_mode { "1" } else { "0" }.into()),
        ("ordercomment", text(&order.comment)),
        ("orderamount", amount.clone()),
        ("ordercurrency", order.original_currency.clone()),
        ("rate", order.rate.clone()),
        ("orderdate", assist_date(order.created_at)),
        ("orderstate", order.state.clone()),
    ];
    let customer = vec![
        ("firstname", text(&order.firstname)),
        ("lastname", text(&order.lastname)),
        ("middlename", text(&order.middlename)),
        ("email", text(&order.email)),
        ("ipaddress", text(&order.client_ip)),
    ];
    let [signature, checkvalue] =
        seal.fields(merchant.merchant_number, &order.order_number, &amount, &order.original_currency, &order.state);
    let check = vec![("packetdate", packetdate.to_owned()), signature, checkvalue];
    let operations = operations.iter().map(|op| operation_row(order, op)).collect();
    OrderView { order: order_row, customer, check, operations }
}

pub fn operation_row(order: &Order, op: &Operation) -> Row {
    let code = op.response_code.clone().unwrap_or_default();
    let message = op.message.clone().unwrap_or_default();
    vec![
        ("billnumber", format!("{}.{}", order.billnumber, op.seq)),
        ("operationtype", op.kind().assist_type().to_string()),
        ("operationstate", op.state.clone()),
        ("amount", format_minor(op.amount, &op.currency)),
        ("currency", op.currency.clone()),
        ("clientip", text(&op.client_ip)),
        ("ipaddress", text(&op.client_ip)),
        ("meantypename", text(&op.card_brand)),
        ("meansubtype", String::new()),
        ("meannumber", text(&op.card_mask)),
        ("cardholder", text(&op.cardholder)),
        ("cardexpirationdate", text(&op.card_expiry)),
        ("issuebank", String::new()),
        ("bankcountry", String::new()),
        ("responsecode", code),
        ("message", message.clone()),
        ("customermessage", message),
        ("recommendation", String::new()),
        ("approvalcode", text(&op.approval_code)),
        ("protocoltypename", "NET".into()),
        ("processingname", "Kassa".into()),
        ("operationdate", assist_date(op.updated_at)),
        ("slipno", String::new()),
    ]
}

pub fn object(row: &Row) -> Map<String, Value> {
    row.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect()
}

/// The B.4 `Order` object: order fields, nested `customer` and `checkdata`, `operations`.
pub fn json_order(view: &OrderView, with_operations: bool) -> Value {
    let mut o = object(&view.order);
    o.insert("customer".into(), Value::Object(object(&view.customer)));
    o.insert("checkdata".into(), Value::Object(object(&view.check)));
    if with_operations {
        o.insert("operations".into(), Value::Array(view.operations.iter().map(|r| Value::Object(object(r))).collect()));
    }
    Value::Object(o)
}

/// Text for an XML element or attribute. Characters XML 1.0 cannot carry at all (most control
/// characters, U+FFFE, U+FFFF: a comment or name may hold them) become U+FFFD, so the answer
/// always parses; a carriage return is written as a reference so that it reaches the merchant
/// instead of being normalised to a line feed by the reader (found by `bench/fuzz` `writers`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn xml_fields(out: &mut String, row: &Row) {
    for (k, v) in row {
        out.push_str(&format!("<{k}>{}</{k}>", escape(v)));
    }
}

/// `<result firstcode="0" secondcode="0" count="n">` with one `<order>` per view (operations as
/// repeated `<operation>` inside when `with_operations`).
pub fn xml_orders(views: &[OrderView], with_operations: bool) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<result firstcode=\"0\" secondcode=\"0\" count=\"{}\">",
        views.len()
    );
    for view in views {
        out.push_str("<order>");
        xml_fields(&mut out, &view.order);
        xml_fields(&mut out, &view.customer);
        xml_fields(&mut out, &view.check);
        if with_operations {
            for op in &view.operations {
                out.push_str("<operation>");
                xml_fields(&mut out, op);
                out.push_str("</operation>");
            }
        }
        out.push_str("</order>");
    }
    out.push_str("</result>\n");
    out
}

/// `<result firstcode="0" secondcode="0" count="n">` with flat records under `element`.
pub fn xml_records(element: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<result firstcode=\"0\" secondcode=\"0\" count=\"{}\">",
        rows.len()
    );
    for row in rows {
        out.push_str(&format!("<{element}>"));
        xml_fields(&mut out, row);
        out.push_str(&format!("</{element}>"));
    }
    out.push_str("</result>\n");
    out
}

fn csv_cell(v: &str) -> String {
    if v.contains([';', '"', '\n', '\r']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.to_owned() }
}

/// `;`-separated, a header line with the field names, then one line per row.
pub fn csv(rows: &[Row], header: &[&'static str]) -> String {
    let mut out = header.join(";");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|(_, v)| csv_cell(v)).collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// The rows of a view for CSV: the order alone, or one line per operation with the order's
/// fields first (the operation's extended billnumber is its own column, `operationbillnumber`).
pub fn csv_rows(view: &OrderView, with_operations: bool) -> Vec<Row> {
    let base: Row = view.order.iter().chain(&view.customer).chain(&view.check).cloned().collect();
    if !with_operations {
        return vec![base];
    }
    view.operations
        .iter()
        .map(|op| {
            let mut row = base.clone();
            for (k, v) in op {
                row.push((if *k == "billnumber" { "operationbillnumber" } else { k }, v.clone()));
            }
            row
        })
        .collect()
}

pub fn header_of(rows: &[Row], fallback: &[&'static str]) -> Vec<&'static str> {
    rows.first().map(|r| r.iter().map(|(k, _)| *k).collect()).unwrap_or_else(|| fallback.to_vec())
}

pub fn ok(format: Format, body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(format.content_type()).body(body)
}

pub fn ok_json(value: Value) -> HttpResponse {
    ok(Format::Json, value.to_string())
}

/// A request-level error in the caller's format: non-zero `firstcode`/`secondcode`.
pub fn error(format: Format, e: &ServiceError) -> HttpResponse {
    let body = error_body(format, e);
    HttpResponse::build(e.status).content_type(format.content_type()).body(body)
}

pub fn error_body(format: Format, e: &ServiceError) -> String {
    match format {
        Format::Xml => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<result firstcode=\"{}\" secondcode=\"{}\" code=\"{}\" message=\"{}\"></result>\n",
            e.firstcode,
            e.secondcode,
            e.code,
            escape(&e.message)
        ),
        Format::Csv => {
            format!(
                "firstcode;secondcode;code;message\r\n{};{};{};{}\r\n",
                e.firstcode,
                e.secondcode,
                e.code,
                csv_cell(&e.message)
            )
        }
        Format::Json => json!({
            "firstcode": e.firstcode.to_string(),
            "secondcode": e.secondcode.to_string(),
            "code": e.code,
            "message": e.message,
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_and_csv_escape_what_they_must() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(escape("a\u{1}b\u{FFFF}\r\n\tc"), "a\u{FFFD}b\u{FFFD}&#13;\n\tc");
        assert_eq!(csv_cell("x;y"), "\"x;y\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        let e = ServiceError::denied();
        assert!(error_body(Format::Xml, &e).contains("firstcode=\"5\" secondcode=\"100\""));
    }

    #[test]
    fn dates_are_assist_formatted() {
        let t = time::macros::datetime!(2026-12-03 07:05:09);
        assert_eq!(assist_date(t), "03.12.2026 07:05:09");
    }
}
