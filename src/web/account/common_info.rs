//! The "Common info" of an order's details page, as in Assist's personal account (§7.2 of the
//! protocol reference): what support asks about first. The shop's original amount when Kassa
//! converted it, who paid and with which card, what the processing center answered, and what
//! was given back. Built from the order and its operations alone, with no I/O.

use crate::db::models::{Operation, Order};
use crate::domain::{OperationKind, OperationState};
use crate::money::format_minor;

pub struct CommonInfo {
    /// `one-stage` or `two-stage` (the order's `Delay`).
    pub kind: &'static str,
    /// The amount and currency the shop asked for and the rate, when they differ from the
    /// payment amount (`10.00 USD at rate 92.1234`).
    pub original: Option<String>,
    /// First, middle and last name, as given.
    pub name: String,
    pub phone: Option<String>,
    /// Street address, city, zip and country, the parts that were given.
    pub address: Option<String>,
    /// Of the successful payment operation (none before the order is paid).
    pub card_mask: Option<String>,
    pub cardholder: Option<String>,
    pub approval_code: Option<String>,
    /// The latest payment attempt's answer, code and message (`AS100 Authorization declined`):
    /// why a declined order was declined.
    pub response: Option<String>,
    /// Successful cancel operations, and the money they gave back (released + voided +
    /// refunded) in the payment currency.
    pub cancels: usize,
    pub canceled: String,
}

impl CommonInfo {
    pub fn of(order: &Order, ops: &[Operation]) -> CommonInfo {
        let payments = || ops.iter().filter(|o| o.kind() == OperationKind::Payment);
        let paid = payments().find(|o| o.state() == OperationState::Success);
        let latest = payments().max_by_key(|o| o.seq);
        let converted = order.original_currency != order.currency || order.original_amount != order.amount;
        let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let name = [&order.firstname, &order.middlename, &order.lastname].into_iter().filter_map(present);
        let address: Vec<String> =
            [&order.address, &order.city, &order.zip, &order.country].into_iter().filter_map(present).collect();
        CommonInfo {
            kind: if order.delay { "two-stage" } else { "one-stage" },
            original: converted.then(|| {
                let amount = format_minor(order.original_amount, &order.original_currency);
                format!("{amount} {} at rate {}", order.original_currency, order.rate)
            }),
            name: name.collect::<Vec<_>>().join(" "),
            phone: present(&order.phone),
            address: (!address.is_empty()).then(|| address.join(", ")),
            card_mask: paid.and_then(|o| o.card_mask.clone()),
            cardholder: paid.and_then(|o| o.cardholder.clone()),
            approval_code: paid.and_then(|o| o.approval_code.clone()),
            response: latest.and_then(|o| {
                let text: Vec<&str> =
                    [&o.response_code, &o.message].into_iter().flatten().map(String::as_str).collect();
                (!text.is_empty()).then(|| text.join(" "))
            }),
            cancels: ops
                .iter()
                .filter(|o| o.kind() == OperationKind::Cancel && o.state() == OperationState::Success)
                .count(),
            canceled: format_minor(order.released + order.voided + order.refunded, &order.currency),
        }
    }
}
