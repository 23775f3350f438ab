//! Customer details entered on the payment page: Assist requires first name, last name and
//! e-mail, either sent by the shop or typed by the customer.

use diesel::prelude::*;

use super::{Gateway, GatewayError};
use crate::db::models::{Order, OrderId};
use crate::db::schema::orders;
use crate::db::{self, AnyConnection};
use crate::domain::OrderState;

/// The details the customer typed; only the ones the shop did not send are applied.
#[derive(Debug, Clone, Default)]
pub struct CustomerDetails {
    pub lastname: Option<String>,
    pub firstname: Option<String>,
    pub email: Option<String>,
}

fn name(value: &Option<String>, field: &'static str) -> Result<Option<String>, GatewayError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Err(GatewayError::invalid(field, "is required")),
        Some(v) if v.chars().count() > 70 => Err(GatewayError::invalid(field, "longer than 70 characters")),
        Some(v) if v.chars().any(char::is_control) => Err(GatewayError::invalid(field, "contains control characters")),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

fn email(value: &Option<String>) -> Result<Option<String>, GatewayError> {
    let v = value.as_deref().map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(GatewayError::invalid("Email", "is required"));
    }
    // The same rule as the payment request.
    let valid = v.chars().count() <= 128
        && !v.contains(char::is_whitespace)
        && v.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.ends_with('.'));
    if valid { Ok(Some(v.to_owned())) } else { Err(GatewayError::invalid("Email", "is not an e-mail address")) }
}

impl Gateway {
    /// Fills the customer details the order lacks. Returns every invalid field, or the order.
    pub async fn set_customer(&self, order: &OrderId, details: CustomerDetails) -> Result<Order, Vec<GatewayError>> {
        let id = order.clone();
        let current =
            self.store.read(move |c| Order::find(c, &id).map_err(GatewayError::from)).await.map_err(|e| vec![e])?;
        let mut problems = Vec::new();
        let mut checked = |r: Result<Option<String>, GatewayError>, present: bool| match r {
            _ if present => None,
            Ok(v) => v,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        let lastname = checked(name(&details.lastname, "Lastname"), current.lastname.is_some());
        let firstname = checked(name(&details.firstname, "Firstname"), current.firstname.is_some());
        let email = checked(email(&details.email), current.email.is_some());
        if !problems.is_empty() {
            return Err(problems);
        }
        let id = order.clone();
        self.store
            .write(move |c: &mut AnyConnection| {
                let order = Order::lock(c, &id)?;
                if order.state() != OrderState::InProcess {
                    return Err(GatewayError::WrongState(order.state()));
                }
                diesel::update(orders::table.find(&id))
                    .set((
                        orders::lastname.eq(order.lastname.or(lastname)),
                        orders::firstname.eq(order.firstname.or(firstname)),
                        orders::email.eq(order.email.or(email)),
                        orders::updated_at.eq(db::now()),
                    ))
                    .execute(c)?;
                Ok(Order::find(c, &id)?)
            })
            .await
            .map_err(|e| vec![e])
    }
}
