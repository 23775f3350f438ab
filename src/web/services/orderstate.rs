//! `orderstate` and `orderresult`: the state of an order (every attempt of an `OrderNumber` in
//! the date window, or one `Billnumber`), orderresult with the operations.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::answer::{self, Format, OrderView};
use super::codes::ServiceError;
use super::window::window;
use super::{Call, billnumber, serve};
use crate::db::models::{Operation, Order};
use crate::db::{self, StoreError};
use crate::startup::AppState;
use crate::web::protection::Protection;

pub async fn orderstate(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    serve(&req, &body, &state.clone(), &protection, Format::Xml, |call| async move {
        let views = find(&state, &call, false).await?;
        Ok(match call.format {
            Format::Xml => answer::ok(Format::Xml, answer::xml_orders(&views, false)),
            Format::Csv => csv(&views, false),
            // B.4: one object; with several attempts, the latest.
            Format::Json => {
                let latest = views.last().ok_or_else(ServiceError::internal)?;
                let mut o = answer::object(&latest.order);
                o.insert("checkdata".into(), Value::Object(answer::object(&latest.check)));
                answer::ok_json(json!({ "orderstate": o }))
            }
        })
    })
    .await
}

pub async fn orderresult(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    protection: web::Data<Protection>,
) -> HttpResponse {
    serve(&req, &body, &state.clone(), &protection, Format::Xml, |call| async move {
        let views = find(&state, &call, true).await?;
        Ok(match call.format {
            Format::Xml => answer::ok(Format::Xml, answer::xml_orders(&views, true)),
            Format::Csv => csv(&views, true),
            Format::Json => {
                let orders: Vec<Value> = views.iter().map(|v| answer::json_order(v, true)).collect();
                answer::ok_json(json!({ "orderresult": { "orders": orders } }))
            }
        })
    })
    .await
}

fn csv(views: &[OrderView], with_operations: bool) -> HttpResponse {
    let rows: Vec<_> = views.iter().flat_map(|v| answer::csv_rows(v, with_operations)).collect();
    let header = answer::header_of(&rows, &["billnumber", "ordernumber", "orderstate"]);
    answer::ok(Format::Csv, answer::csv(&rows, &header))
}

/// By `Billnumber` (any date), else by `Ordernumber` within the window (default: the last
/// three days). Oldest attempt first.
async fn find(state: &AppState, call: &Call, with_operations: bool) -> Result<Vec<OrderView>, ServiceError> {
    let merchant = call.caller.merchant.clone();
    let now = db::now();
    let orders: Vec<Order> = if call.fields.get("Billnumber").is_some() {
        let b = billnumber(&call.fields)?;
        vec![state.gateway.order(&merchant.id, b).await.map_err(|_| ServiceError::not_found("Billnumber"))?]
    } else {
        let number = call.fields.required("OrderNumber")?.to_owned();
        if number.chars().count() > 128 {
            return Err(ServiceError::field("OrderNumber", "longer than 128 characters"));
        }
        let w = window(&call.fields, now, time::Duration::days(3), None)?;
        let id = merchant.id.clone();
        let all = state
            .gateway
            .store
            .read(move |c| Order::attempts(c, &id, &number).map_err(StoreError::from))
            .await
            .map_err(|_| ServiceError::internal())?;
        all.into_iter().filter(|o| o.created_at >= w.start && o.created_at <= w.end).collect()
    };
    if orders.is_empty() {
        return Err(ServiceError::not_found("OrderNumber"));
    }
    let ids: Vec<_> = orders.iter().map(|o| o.id.clone()).collect();
    let operations = if with_operations {
        state
            .gateway
            .store
            .read(move |c| {
                ids.iter().map(|id| Operation::of_order(c, id)).collect::<Result<Vec<_>, _>>().map_err(StoreError::from)
            })
            .await
            .map_err(|_| ServiceError::internal())?
    } else {
        vec![Vec::new(); orders.len()]
    };
    let packetdate = answer::assist_date(now);
    let seal = state.gateway.seal(&merchant).await?;
    Ok(orders
        .iter()
        .zip(&operations)
        .map(|(o, ops)| answer::order_view(&merchant, &seal, o, ops, &packetdate))
        .collect())
}
