//! `GET /pay/<token>`: what the customer sees now follows from the order alone (result,
//! 3-D Secure challenge, payment in flight, missing details, method choice, payment form), so
//! reload and back are always harmless.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::i18n::Texts;
use super::{CheckoutError, Ctx, Shell, card, challenge, customer, result, wallet};
use crate::db::models::{Operation, Transaction};
use crate::domain::{OperationKind, OperationState, OrderState, TransactionKind, TransactionState};
use crate::gateway::GatewayError;
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct PageQuery {
    method: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<PageQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, CheckoutError> {
    let mut ctx = Ctx::load(&state, &token, &req).await?;
    current(&state, &mut ctx, query.method.as_deref()).await
}

#[derive(Template)]
#[template(path = "checkout/methods.html")]
struct MethodsPage {
    t: &'static Texts,
    shell: Shell,
    card: bool,
    wallet: bool,
}

#[derive(Template)]
#[template(path = "checkout/processing.html")]
struct ProcessingPage {
    t: &'static Texts,
    shell: Shell,
}

/// Where a started payment stands.
enum Started {
    Challenge,
    InFlight,
    None,
}

async fn started(state: &AppState, ctx: &Ctx) -> Result<Started, CheckoutError> {
    if ctx.order.next_seq <= 1 {
        // No operation was ever taken on this order: nothing to look up.
        return Ok(Started::None);
    }
    let id = ctx.order.id.clone();
    state
        .gateway
        .store
        .read(move |c| {
            let challenge = Transaction::of_order(c, &id)?
                .iter()
                .any(|t| t.kind() == TransactionKind::Authorization && t.state() == TransactionState::Challenge);
            if challenge {
                return Ok(Started::Challenge);
            }
            let in_flight = Operation::of_order(c, &id)?
                .iter()
                .any(|o| o.kind == OperationKind::Payment.as_str() && o.state == OperationState::InProcess.as_str());
            Ok::<_, GatewayError>(if in_flight { Started::InFlight } else { Started::None })
        })
        .await
        .map_err(|e| ctx.internal(e))
}

/// Renders the step the order is at. `method` is the customer's choice among several means.
pub async fn current(state: &AppState, ctx: &mut Ctx, method: Option<&str>) -> Result<HttpResponse, CheckoutError> {
    if ctx.order.state() == OrderState::InProcess && ctx.order.expires_at <= crate::db::now() {
        // The worker expires orders on its own schedule; the customer must not wait for it.
        state.gateway.expire().await.map_err(|e| ctx.internal(e))?;
        ctx.reload(state).await?;
    }
    if ctx.order.state() != OrderState::InProcess {
        return result::render(state, ctx).await;
    }
    match started(state, ctx).await? {
        Started::Challenge => return challenge::render(ctx),
        Started::InFlight => {
            let page = ProcessingPage { t: ctx.lang.texts(), shell: ctx.shell() };
            return ctx.page(StatusCode::OK, &page);
        }
        Started::None => {}
    }
    let o = &ctx.order;
    if o.lastname.is_none() || o.firstname.is_none() || o.email.is_none() {
        return customer::render(ctx, Default::default(), Default::default(), StatusCode::OK);
    }
    let means: Vec<&str> = o.payment_means.split(',').filter(|m| !m.is_empty()).collect();
    let chosen = match method {
        Some(m) if means.contains(&m) => Some(m),
        _ if means.len() == 1 => Some(means[0]),
        _ => None,
    };
    match chosen {
        Some("card") => card::render(ctx, Default::default(), Default::default(), StatusCode::OK),
        Some("wallet") => wallet::render(ctx, String::new(), None, StatusCode::OK),
        _ => {
            let page = MethodsPage {
                t: ctx.lang.texts(),
                shell: ctx.shell(),
                card: means.contains(&"card"),
                wallet: means.contains(&"wallet"),
            };
            ctx.page(StatusCode::OK, &page)
        }
    }
}
