//! Confirm and cancel from the details page. Each rendered form carries a one-time nonce: a
//! second submit of the same form (double click, reload, back button) changes nothing. Every
//! attempt goes to the audit log with the user's login and IP.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::AccountError;
use super::details::find;
use super::login::{html, render};
use super::session::{Account, issue_nonce, signed_in, take_nonce};
use crate::db::models::{Merchant, Order};
use crate::domain::CancelPlan;
use crate::gateway::{CancelRequest, GatewayError};
use crate::money::{Currency, Money, format_minor};
use crate::startup::AppState;

/// A decimal amount in the order's currency; empty means "the default".
fn amount(order: &Order, text: &str) -> Result<Option<i64>, AccountError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let currency: Currency = order.currency.parse().map_err(|_| AccountError::Internal)?;
    Money::parse(text, currency)
        .map(|m| Some(m.minor))
        .map_err(|_| AccountError::BadRequest("The amount is not valid.".into()))
}

fn back(order: &Order, result: Result<&str, &GatewayError>) -> HttpResponse {
    let q = match result {
        Ok(what) => format!("done={what}"),
        Err(e) => format!("error={}", e.code()),
    };
    HttpResponse::SeeOther().insert_header(("Location", format!("/account/orders/{}?{q}", order.billnumber))).finish()
}

/// `ok`, or the stable code of the refusal.
fn outcome<T>(result: &Result<T, GatewayError>) -> &'static str {
    result.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code())
}

async fn audit(
    state: &AppState,
    account: &Account,
    merchant: &Merchant,
    order: &Order,
    action: &'static str,
    outcome: &str,
    detail: serde_json::Value,
) {
    super::audit(state, account, Some(merchant.id.clone()), Some(order.id.clone()), action, outcome, detail).await;
}

/// The role on the order's merchant and the amount limit, the CSRF token and the nonce, in that
/// order; `Ok(false)` for a repeated submit.
async fn admit(
    state: &AppState,
    account: &Account,
    order: &Order,
    amount: i64,
    csrf: &str,
    nonce: &str,
) -> Result<bool, AccountError> {
    account.check_action(&order.merchant_id, amount, &order.currency)?;
    account.check_csrf(csrf)?;
    take_nonce(state, account, nonce).await
}

/// `account:<login>`, kept on the operations the user carries out.
fn actor(account: &Account) -> Option<String> {
    Some(format!("account:{}", account.login))
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
    nonce: String,
    #[serde(default)]
    amount: String,
}

pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (order, merchant) = find(&state, &account, &path).await?;
    let minor = amount(&order, &form.amount)?;
    let checked = minor.unwrap_or_else(|| order.money().held());
    if !admit(&state, &account, &order, checked, &form.csrf, &form.nonce).await? {
        return Ok(back(&order, Ok("repeated")));
    }
    let result = state.gateway.confirm_as(&order.id, minor, actor(&account)).await;
    let detail = json!({ "amount": minor, "currency": order.currency });
    audit(&state, &account, &merchant, &order, "account.confirm", outcome(&result), detail).await;
    Ok(back(&order, result.as_ref().map(|_| "confirm")))
}

#[derive(Deserialize)]
pub struct CancelQuery {
    #[serde(default)]
    amount: String,
    reason: Option<i32>,
}

#[derive(Template)]
#[template(path = "account/cancel.html")]
struct PlanPage {
    account: Account,
    order: Order,
    /// Minor units, sent back with the form so the cancel is exactly the plan shown.
    amount_minor: i64,
    reverse_minor: i64,
    refund_minor: i64,
    reason: i32,
    nonce: String,
    total: String,
    reverse: String,
    refund: String,
    state_after: String,
}

fn plan_text(order: &Order, plan: &CancelPlan) -> (String, String, String) {
    let f = |m| format!("{} {}", format_minor(m, &order.currency), order.currency);
    (f(plan.amount), f(plan.reverse()), f(plan.refund))
}

/// Step one: the plan Kassa will carry out, and the form that carries it out.
pub async fn cancel_plan(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<CancelQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (order, _) = find(&state, &account, &path).await?;
    if !account.may_act_on(&order.merchant_id) {
        return Err(AccountError::Forbidden);
    }
    let reason = query.reason.unwrap_or(1);
    if !(1..=3).contains(&reason) {
        return Err(AccountError::BadRequest("The reason is not valid.".into()));
    }
    let minor = amount(&order, &query.amount)?;
    let plan = match state.gateway.preview_cancel(&order.id, minor).await {
        Ok(plan) => plan,
        Err(e) => return Ok(back(&order, Err(&e))),
    };
    // Beyond the limit is said before the plan, not after the click.
    account.check_action(&order.merchant_id, plan.amount, &order.currency)?;
    let nonce = issue_nonce(&state, &account).await?;
    let (total, reverse, refund) = plan_text(&order, &plan);
    let state_after = plan.state_after.as_str().to_owned();
    Ok(html(render(&PlanPage {
        account,
        order,
        amount_minor: plan.amount,
        reverse_minor: plan.reverse(),
        refund_minor: plan.refund,
        reason,
        nonce,
        total,
        reverse,
        refund,
        state_after,
    })?))
}

#[derive(Deserialize)]
pub struct CancelForm {
    csrf: String,
    nonce: String,
    amount_minor: i64,
    reverse_minor: i64,
    refund_minor: i64,
    reason: i32,
}

/// Step two. The nonce doubles as the cancel's `Externalrefundid`, so even a submit racing
/// past the nonce check could not cancel twice.
pub async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (order, merchant) = find(&state, &account, &path).await?;
    if !admit(&state, &account, &order, form.amount_minor, &form.csrf, &form.nonce).await? {
        return Ok(back(&order, Ok("repeated")));
    }
    let request = CancelRequest {
        amount: Some(form.amount_minor),
        reason: Some(form.reason),
        external_refund_id: Some(form.nonce.clone()),
        actor: actor(&account),
        shown_plan: Some((form.reverse_minor, form.refund_minor)),
    };
    let result = state.gateway.cancel(&order.id, request).await;
    let detail = json!({
        "amount": form.amount_minor,
        "currency": order.currency,
        "reason": form.reason,
        "reverse": result.as_ref().ok().map(|o| o.plan.reverse()),
        "refund": result.as_ref().ok().map(|o| o.plan.refund),
    });
    audit(&state, &account, &merchant, &order, "account.cancel", outcome(&result), detail).await;
    Ok(back(&order, result.as_ref().map(|_| "cancel")))
}

#[derive(Deserialize)]
pub struct ResendForm {
    csrf: String,
}

/// Puts a delivered or given-up message of the order (notification, webhook, e-mail) back in
/// the worker's queue. Repeating it while the message is pending changes nothing.
pub async fn resend(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
    form: web::Form<ResendForm>,
) -> Result<HttpResponse, AccountError> {
    let account = signed_in(&req, &state).await?;
    let (billnumber, message) = path.into_inner();
    let (order, merchant) = find(&state, &account, &billnumber).await?;
    if !account.may_act_on(&order.merchant_id) {
        return Err(AccountError::Forbidden);
    }
    account.check_csrf(&form.csrf)?;
    let (order_id, id) = (order.id.clone(), message.clone());
    let resent = state
        .gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            // Only a message of this order: the id in the URL proves nothing by itself.
            let ours: i64 = crate::db::schema::outbox::table
                .filter(crate::db::schema::outbox::id.eq(&id))
                .filter(crate::db::schema::outbox::order_id.eq(&order_id))
                .count()
                .get_result(c)?;
            if ours == 0 {
                return Ok(None);
            }
            Ok::<_, crate::db::StoreError>(Some(crate::worker::claim::resend(c, &id, crate::db::now())?))
        })
        .await
        .map_err(|_| AccountError::Internal)?;
    let Some(resent) = resent else { return Err(AccountError::NotFound) };
    let result = if resent { "ok" } else { "already_pending" };
    audit(&state, &account, &merchant, &order, "account.resend", result, json!({ "message": message })).await;
    let done = if resent { "resend" } else { "repeated" };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/account/orders/{}?done={done}", order.billnumber)))
        .finish())
}
