//! The customer details the shop did not send: last name, first name and e-mail are required
//! before paying.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::{CheckoutError, Ctx, Shell};
use crate::domain::OrderState;
use crate::gateway::{CustomerDetails, GatewayError};
use crate::startup::AppState;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct CustomerForm {
    lastname: String,
    firstname: String,
    email: String,
}

#[derive(Default)]
pub struct CustomerErrors {
    lastname: Option<&'static str>,
    firstname: Option<&'static str>,
    email: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "checkout/customer.html")]
struct CustomerPage {
    t: &'static Texts,
    shell: Shell,
    need_lastname: bool,
    need_firstname: bool,
    need_email: bool,
    values: CustomerForm,
    errors: CustomerErrors,
}

pub fn render(
    ctx: &Ctx,
    values: CustomerForm,
    errors: CustomerErrors,
    status: StatusCode,
) -> Result<HttpResponse, CheckoutError> {
    let page = CustomerPage {
        t: ctx.lang.texts(),
        shell: ctx.shell(),
        need_lastname: ctx.order.lastname.is_none(),
        need_firstname: ctx.order.firstname.is_none(),
        need_email: ctx.order.email.is_none(),
        values,
        errors,
    };
    ctx.page(status, &page)
}

fn message(lang: Lang, field: &str, reason: &str) -> &'static str {
    let t = lang.texts();
    match (field, reason) {
        (_, "is required") => t.required,
        ("Email", _) => t.email_invalid,
        _ => t.too_long,
    }
}

/// `POST /pay/<token>/customer`.
pub async fn save(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<CustomerForm>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let ctx = Ctx::load(&state, &token, &req).await?;
    if ctx.order.state() != OrderState::InProcess {
        return Ok(ctx.see_page());
    }
    let form = form.into_inner();
    let details = CustomerDetails {
        lastname: Some(form.lastname.clone()),
        firstname: Some(form.firstname.clone()),
        email: Some(form.email.clone()),
    };
    match state.gateway.set_customer(&ctx.order.id, details).await {
        Ok(_) => Ok(ctx.see_page()),
        Err(problems) => {
            let mut errors = CustomerErrors::default();
            for problem in problems {
                let GatewayError::InvalidField { field, reason } = &problem else {
                    return match problem {
                        GatewayError::WrongState(_) => Ok(ctx.see_page()),
                        other => Err(ctx.internal(other)),
                    };
                };
                let text = Some(message(ctx.lang, field, reason));
                match *field {
                    "Lastname" => errors.lastname = text,
                    "Firstname" => errors.firstname = text,
                    _ => errors.email = text,
                }
            }
            render(&ctx, form, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
