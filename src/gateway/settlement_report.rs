//! The settlement report: per day and currency, every settled or rejected item, as CSV. Admins
//! see all merchants; a merchant sees its own orders.

use std::collections::BTreeMap;
use std::fmt::Write;

use diesel::prelude::*;

use super::{Gateway, GatewayError};
use crate::db::models::{EnterpriseId, MerchantId};
use crate::db::schema::{merchants, operations, orders, settlement_batches, transactions};
use crate::money::format_minor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportItem {
    pub currency: String,
    pub batch: String,
    pub billnumber: String,
    pub order_number: String,
    pub merchant_number: i64,
    pub amount: i64,
    pub state: String,
}

#[derive(Debug, Clone, Default)]
pub struct SettlementReport {
    pub day: Option<time::Date>,
    pub items: Vec<ReportItem>,
}

/// currency, batch, billnumber, seq, order number, Merchant_ID, amount, state.
type ItemRow = (String, String, String, i32, String, i64, i64, String);

/// Per currency: (items settled, amount settled, items rejected, amount rejected).
pub type Totals = BTreeMap<String, (usize, i64, usize, i64)>;

impl SettlementReport {
    /// One line per item: `date,currency,batch,billnumber,ordernumber,merchant_id,amount,state`.
    pub fn items_csv(&self) -> String {
        let day = self.day.map(|d| d.to_string()).unwrap_or_default();
        let mut out = String::from("date,currency,batch,billnumber,ordernumber,merchant_id,amount,state\n");
        for i in &self.items {
            let _ = writeln!(
                out,
                "{day},{},{},{},{},{},{},{}",
                i.currency,
                i.batch,
                i.billnumber,
                csv_field(&i.order_number),
                i.merchant_number,
                format_minor(i.amount, &i.currency),
                i.state
            );
        }
        out
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::new();
        for i in &self.items {
            let t = totals.entry(i.currency.clone()).or_default();
            if i.state == "settled" {
                t.0 += 1;
                t.1 += i.amount;
            } else {
                t.2 += 1;
                t.3 += i.amount;
            }
        }
        totals
    }

    /// One line per currency: `date,currency,settled_items,settled_amount,rejected_items,rejected_amount`.
    pub fn totals_csv(&self) -> String {
        let day = self.day.map(|d| d.to_string()).unwrap_or_default();
        let mut out = String::from("date,currency,settled_items,settled_amount,rejected_items,rejected_amount\n");
        for (currency, (n, amount, rn, rejected)) in self.totals() {
            let _ = writeln!(
                out,
                "{day},{currency},{n},{},{rn},{}",
                format_minor(amount, &currency),
                format_minor(rejected, &currency)
            );
        }
        out
    }
}

/// Quotes a field that holds a delimiter, a quote or a line break; neutralises spreadsheet
/// formulas (a shop's order number is untrusted text).
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// Whose items a report holds.
#[derive(Debug, Clone)]
pub enum ReportScope {
    /// Every merchant (admins, the CLI).
    All,
    Merchant(MerchantId),
    /// Merchants of one enterprise (its staff in the account): all of them, or only those listed
    /// (a user granted a role on some).
    Enterprise(EnterpriseId, Option<Vec<MerchantId>>),
}

impl Gateway {
    /// The items acknowledged on `day` (UTC) within `scope`.
    pub async fn settlement_report(
        &self,
        day: time::Date,
        scope: ReportScope,
    ) -> Result<SettlementReport, GatewayError> {
        let start = time::PrimitiveDateTime::new(day, time::Time::MIDNIGHT);
        let end = start + time::Duration::days(1);
        let rows: Vec<ItemRow> = self
            .store
            .read(move |c| {
                let mut q = transactions::table
                    .inner_join(settlement_batches::table)
                    .inner_join(operations::table.inner_join(orders::table.inner_join(merchants::table)))
                    .filter(settlement_batches::acknowledged_at.ge(start))
                    .filter(settlement_batches::acknowledged_at.lt(end))
                    .into_boxed();
                match scope {
                    ReportScope::All => {}
                    ReportScope::Merchant(m) => q = q.filter(orders::merchant_id.eq(m)),
                    ReportScope::Enterprise(e, listed) => {
                        q = q.filter(merchants::enterprise_id.eq(e));
                        if let Some(listed) = listed {
                            q = q.filter(orders::merchant_id.eq_any(listed));
                        }
                    }
                }
                q.order((transactions::currency.asc(), settlement_batches::id.asc(), orders::billnumber.asc()))
                    .select((
                        transactions::currency,
                        settlement_batches::id,
                        orders::billnumber,
                        operations::seq,
                        orders::order_number,
                        merchants::merchant_number,
                        transactions::amount,
                        transactions::state,
                    ))
                    .load(c)
                    .map_err(GatewayError::from)
            })
            .await?;
        let items = rows
            .into_iter()
            .map(|(currency, batch, billnumber, seq, order_number, merchant_number, amount, state)| ReportItem {
                currency,
                batch,
                billnumber: format!("{billnumber}.{seq}"),
                order_number,
                merchant_number,
                amount,
                state,
            })
            .collect();
        Ok(SettlementReport { day: Some(day), items })
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("A-1"), "A-1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
