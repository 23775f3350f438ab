//! Helpers for the merchant account tests: users with an account role, a cookie-keeping client
//! that does not follow redirects, sign-in, and reading hidden fields out of pages.

use diesel::prelude::*;
use kassa::db::models::{Merchant, NewUser, Order, UserId};
use kassa::db::schema::users;
use kassa::gateway::{PayRequest, setup};

use super::{TestApp, card, request, two_stage};

pub const PASSWORD: &str = "correct-horse-battery";

/// A merchant user of `merchant`'s enterprise with this account role.
pub async fn add_account_user(app: &TestApp, merchant: &Merchant, login: &str, role: &str) {
    let user = NewUser {
        id: UserId::new(),
        enterprise_id: Some(merchant.enterprise_id.clone()),
        login: login.into(),
        password_hash: setup::hash_password(PASSWORD).unwrap(),
        role: "merchant".into(),
        webservices: false,
        active: true,
        created_at: kassa::db::now(),
    };
    let (role, login) = (role.to_owned(), login.to_owned());
    app.gateway
        .store
        .write(move |c| {
            diesel::insert_into(users::table).values(&user).execute(c)?;
            diesel::update(users::table.filter(users::login.eq(login))).set(users::account_role.eq(role)).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .unwrap();
}

/// A browser-like client: keeps cookies, shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of the first `<input … name="name" value="…">` of a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r.headers().get("Location").map(|v| v.to_str().unwrap().to_owned());
    Page { status, location, body: r.text().await.unwrap() }
}

pub async fn get(client: &reqwest::Client, url: &str) -> Page {
    page(client.get(url).send().await.expect("request")).await
}

pub async fn post(client: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> Page {
    page(client.post(url).form(fields).send().await.expect("request")).await
}

/// Opens the sign-in form and submits it; answers the submit's page.
pub async fn sign_in(client: &reqwest::Client, address: &str, login: &str, password: &str) -> Page {
    let form = get(client, &format!("{address}/account/login")).await;
    let csrf = hidden(&form.body, "csrf").expect("sign-in form has a CSRF token");
    post(client, &format!("{address}/account/login"), &[("csrf", &csrf), ("login", login), ("password", password)])
        .await
}

/// A signed-in client.
pub async fn signed_in(app: &TestApp, login: &str) -> reqwest::Client {
    let c = client();
    let p = sign_in(&c, &app.address, login, PASSWORD).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/account")), "{}", p.body);
    c
}

/// An order paid with the approved Visa test card (two-stage when `delay`).
pub async fn paid_order(app: &TestApp, merchant: &Merchant, number: &str, amount: &str, delay: bool) -> Order {
    let r = request(merchant, number, amount);
    let r = if delay { two_stage(r) } else { r };
    let order = app.gateway.create_order(r).await.expect("create order");
    app.gateway.pay(&order.id, PayRequest { card: card("4111111111111111"), client_ip: None }).await.expect("pay").order
}

/// Another merchant of `sibling`'s enterprise.
pub async fn add_sibling_merchant(app: &TestApp, sibling: &Merchant, number: i64) -> Merchant {
    let merchant = setup::new_merchant(&sibling.enterprise_id, number, &format!("Shop {number}"), super::SECRET);
    let m = merchant.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::insert_into(kassa::db::schema::merchants::table).values(&m).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .expect("insert merchant");
    merchant
}

/// The text of the element with this id (`<… id="id">text</…>`), tags inside removed.
pub fn by_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find("</")?;
    Some(html[start..start + end].to_owned())
}

/// `n` copies of `template`, each with its own id, billnumber (`8…`, sixteen digits) and order
/// number (`bulk-00000`…), changed by `shape(i, order)` and written straight to the database:
/// thousands of orders in a second or two, where creating them through the gateway would take a
/// minute. Returned in the order of `i`.
pub async fn bulk_orders(app: &TestApp, template: &Order, n: usize, shape: impl Fn(usize, &mut Order)) -> Vec<Order> {
    use kassa::db::AnyConnection;
    use kassa::db::models::OrderId;
    use kassa::db::schema::orders;
    let rows: Vec<Order> = (0..n)
        .map(|i| {
            let mut o = template.clone();
            o.id = OrderId::new();
            o.billnumber = format!("8{i:015}");
            o.order_number = format!("bulk-{i:05}");
            shape(i, &mut o);
            o
        })
        .collect();
    let written = rows.clone();
    app.gateway
        .store
        .write(move |c| {
            match c {
                // One statement per row on SQLite: diesel's multi-row insert there would open a
                // transaction inside the writer's.
                AnyConnection::Sqlite(s) => {
                    for o in &written {
                        diesel::insert_into(orders::table).values(o).execute(s)?;
                    }
                }
                AnyConnection::Postgresql(p) => {
                    for chunk in written.chunks(500) {
                        diesel::insert_into(orders::table).values(chunk).execute(p)?;
                    }
                }
            }
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .expect("insert orders");
    rows
}
