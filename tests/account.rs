//! The merchant account over HTTP with a cookie-keeping client: sign-in, sessions, lockout,
//! CSRF, enterprise isolation, the Order Monitor's filters and paging, the CSV export, and
//! confirm/cancel with the plan shown first and double submits refused.

mod common;

use common::account::{PASSWORD, add_account_user, by_id, client, get, hidden, paid_order, post, sign_in, signed_in};
use common::{add_merchant, request, spawn_app, two_stage};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::Order;
use kassa::db::schema::{account_sessions, account_sign_ins, audit_events};

const REFUSED: &str = "Sign-in failed: wrong login or password, or too many attempts.";

async fn count_sessions(app: &common::TestApp) -> i64 {
    app.gateway.store.read(|c| account_sessions::table.count().get_result(c).map_err(StoreError::from)).await.unwrap()
}

#[tokio::test]
async fn sign_in_session_cookie_logout_and_expiry() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2001, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;

    let anonymous = get(&client(), &format!("{}/account/orders", app.address)).await;
    assert_eq!((anonymous.status, anonymous.location.as_deref()), (303, Some("/account/login")));

    let c = client();
    let wrong = sign_in(&c, &app.address, "shop_viewer", "wrong-password-123").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains(REFUSED));

    let form = c.get(format!("{}/account/login", app.address)).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&form, "csrf").unwrap();
    let r = c
        .post(format!("{}/account/login", app.address))
        .form(&[("csrf", csrf.as_str()), ("login", "shop_viewer"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = r
        .headers()
        .get_all("Set-Cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("kassa_account="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/account"));
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let token = cookie["kassa_account=".len()..].split(';').next().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    let r = c.get(format!("{}/account/orders", app.address)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers().get("Cache-Control").unwrap(), "no-store");
    let orders = r.text().await.unwrap();
    assert!(orders.contains("shop_viewer"));

    // Signing in again gives a new session id and ends the old one.
    let again = sign_in(&c, &app.address, "shop_viewer", PASSWORD).await;
    assert_eq!(again.status, 303);
    assert_eq!(count_sessions(&app).await, 1);
    let stale = client()
        .get(format!("{}/account/orders", app.address))
        .header("Cookie", format!("kassa_account={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 303, "the pre-sign-in id no longer opens a session");

    // Logout deletes the row: the session is over.
    let page = get(&c, &format!("{}/account/orders", app.address)).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let out = post(&c, &format!("{}/account/logout", app.address), &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/account/login")));
    assert_eq!(count_sessions(&app).await, 0);
    assert_eq!(get(&c, &format!("{}/account/orders", app.address)).await.status, 303);

    // Idle for more than 15 minutes: the next request finds the session gone.
    let c = signed_in(&app, "shop_viewer").await;
    let old = kassa::db::now() - time::Duration::minutes(16);
    app.gateway
        .store
        .write(move |conn| {
            diesel::update(account_sessions::table)
                .set(account_sessions::last_seen_at.eq(old))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(get(&c, &format!("{}/account/orders", app.address)).await.status, 303);
    assert_eq!(count_sessions(&app).await, 0);

    // Twelve hours after sign-in, however active.
    let c = signed_in(&app, "shop_viewer").await;
    let old = kassa::db::now() - time::Duration::hours(12) - time::Duration::minutes(1);
    app.gateway
        .store
        .write(move |conn| {
            diesel::update(account_sessions::table)
                .set(account_sessions::created_at.eq(old))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(get(&c, &format!("{}/account/orders", app.address)).await.status, 303);
}

#[tokio::test]
async fn ten_failures_lock_the_login_and_the_answer_never_tells_whether_it_exists() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2002, |_| {}).await;
    add_account_user(&app, &m, "shop_operator", "operator").await;
    let c = client();
    for i in 0..10 {
        let known = sign_in(&c, &app.address, "shop_operator", "not-the-password").await;
        assert_eq!(known.status, 401);
        if i % 4 != 0 {
            continue;
        }
        let unknown = sign_in(&c, &app.address, "nobody_here", "not-the-password").await;
        assert_eq!(unknown.status, 401);
        // The same page apart from the echoed login and the fresh CSRF token.
        let strip = |b: &str, login: &str| b.replace(login, "").replace(&hidden(b, "csrf").unwrap(), "");
        assert_eq!(strip(&known.body, "shop_operator"), strip(&unknown.body, "nobody_here"));
    }
    let locked = sign_in(&c, &app.address, "shop_operator", PASSWORD).await;
    assert_eq!(locked.status, 401, "the right password does not open a locked login");
    assert!(locked.body.contains(REFUSED));

    // Thirty minutes later the lock is over.
    let past = kassa::db::now() - time::Duration::minutes(1);
    app.gateway
        .store
        .write(move |conn| {
            diesel::update(account_sign_ins::table)
                .set(account_sign_ins::locked_until.eq(Some(past)))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(sign_in(&c, &app.address, "shop_operator", PASSWORD).await.status, 303);
}

#[tokio::test]
async fn thirty_simultaneous_wrong_passwords_lock_the_login_and_lose_no_count() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2009, |_| {}).await;
    add_account_user(&app, &m, "shop_operator", "operator").await;
    // Three client addresses (all loopback), ten attempts each: under the per-IP burst, so
    // every answer comes from the per-login lock, not the rate limiter.
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..30u8 {
        let address = app.address.clone();
        let local = std::net::IpAddr::from([127, 0, 0, 1 + i % 3]);
        attempts.spawn(async move {
            let c = reqwest::Client::builder().cookie_store(true).local_address(local).build().unwrap();
            sign_in(&c, &address, "shop_operator", "not-the-password").await
        });
    }
    while let Some(answer) = attempts.join_next().await {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 401, "{}", answer.body);
        assert!(answer.body.contains(REFUSED));
    }
    // Each attempt is counted before its password is verified and a locked login verifies
    // none: exactly the ten that locked it were judged, and all ten are on record.
    let (failures, locked_until): (i32, Option<time::PrimitiveDateTime>) = app
        .gateway
        .store
        .read(|c| {
            account_sign_ins::table
                .find("shop_operator")
                .select((account_sign_ins::failures, account_sign_ins::locked_until))
                .first(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(failures, 10);
    assert!(locked_until.is_some_and(|t| t > kassa::db::now()), "the login is locked");
    let locked = sign_in(&client(), &app.address, "shop_operator", PASSWORD).await;
    assert_eq!(locked.status, 401, "the right password does not open a locked login");
    assert!(locked.body.contains(REFUSED));
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2003, |_| {}).await;
    add_account_user(&app, &m, "shop_operator", "operator").await;
    let order = paid_order(&app, &m, "csrf-1", "100.00", true).await;

    // The sign-in form's own token comes with a cookie: a post from elsewhere has neither.
    let bare = post(
        &client(),
        &format!("{}/account/login", app.address),
        &[("csrf", "x"), ("login", "shop_operator"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(bare.status, 403);

    let c = signed_in(&app, "shop_operator").await;
    let details = get(&c, &format!("{}/account/orders/{}", app.address, order.billnumber)).await;
    let nonce = hidden(&details.body, "nonce").expect("confirm form");
    let url = format!("{}/account/orders/{}/confirm", app.address, order.billnumber);
    let forged = post(&c, &url, &[("csrf", "0".repeat(64).as_str()), ("nonce", &nonce), ("amount", "")]).await;
    assert_eq!(forged.status, 403);
    let out = post(&c, &format!("{}/account/logout", app.address), &[("csrf", "wrong")]).await;
    assert_eq!(out.status, 403);
    let reloaded = reload(&app, &order).await;
    assert_eq!((reloaded.state.as_str(), reloaded.confirmed), ("Delayed", 0));
    assert_eq!(get(&c, &format!("{}/account/orders", app.address)).await.status, 200, "still signed in");
}

async fn reload(app: &common::TestApp, order: &Order) -> Order {
    let id = order.id.clone();
    app.gateway.store.read(move |c| Order::find(c, &id).map_err(StoreError::from)).await.unwrap()
}

#[tokio::test]
async fn another_enterprises_orders_do_not_exist_for_the_user() {
    let app = spawn_app().await;
    let mine = add_merchant(&app.gateway, 2004, |_| {}).await;
    let theirs = add_merchant(&app.gateway, 2005, |_| {}).await;
    add_account_user(&app, &mine, "shop_manager", "manager").await;
    let own = paid_order(&app, &mine, "mine-1", "10.00", true).await;
    let other = paid_order(&app, &theirs, "secret-order-of-b", "20.00", true).await;
    let c = signed_in(&app, "shop_manager").await;

    let details = get(&c, &format!("{}/account/orders/{}", app.address, other.billnumber)).await;
    assert_eq!(details.status, 404);
    assert!(!details.body.contains("secret-order-of-b"));
    let nonce =
        hidden(&get(&c, &format!("{}/account/orders/{}", app.address, own.billnumber)).await.body, "nonce").unwrap();
    let csrf = hidden(&get(&c, &format!("{}/account/orders", app.address)).await.body, "csrf").unwrap();
    let confirm = post(
        &c,
        &format!("{}/account/orders/{}/confirm", app.address, other.billnumber),
        &[("csrf", &csrf), ("nonce", &nonce), ("amount", "")],
    )
    .await;
    assert_eq!(confirm.status, 404);
    assert_eq!(reload(&app, &other).await.confirmed, 0);
    let plan = get(&c, &format!("{}/account/orders/{}/cancel", app.address, other.billnumber)).await;
    assert_eq!(plan.status, 404);

    let list = get(&c, &format!("{}/account/orders", app.address)).await.body;
    assert!(list.contains(&own.billnumber) && !list.contains(&other.billnumber));
    let filtered = get(&c, &format!("{}/account/orders?billnumber={}", app.address, other.billnumber)).await.body;
    assert!(!filtered.contains("secret-order-of-b"));
    let by_merchant = get(&c, &format!("{}/account/orders?merchant=2005", app.address)).await.body;
    assert!(by_merchant.contains("No orders match."));
    let csv = get(&c, &format!("{}/account/orders.csv", app.address)).await.body;
    assert!(csv.contains(&own.billnumber) && !csv.contains(&other.billnumber));
}

#[tokio::test]
async fn a_viewer_sees_but_cannot_move_money() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2006, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let order = paid_order(&app, &m, "view-1", "100.00", true).await;
    let c = signed_in(&app, "shop_viewer").await;
    let details = get(&c, &format!("{}/account/orders/{}", app.address, order.billnumber)).await;
    assert_eq!(details.status, 200);
    assert!(details.body.contains("view-1"));
    let title = &details.body[details.body.find("<title>").unwrap()..details.body.find("</title>").unwrap()];
    assert_eq!(title, format!("<title>Order {} · Kassa account", order.billnumber), "a short title");
    assert_eq!(details.body.matches("<h2>Timeline</h2>").count(), 1, "the timeline is shown once");
    assert!(hidden(&details.body, "nonce").is_none(), "no confirm form for a viewer");
    assert!(!details.body.contains("Review cancel"));
    let csrf = hidden(&details.body, "csrf").unwrap();
    let url = format!("{}/account/orders/{}/confirm", app.address, order.billnumber);
    assert_eq!(post(&c, &url, &[("csrf", &csrf), ("nonce", &"a".repeat(64)), ("amount", "")]).await.status, 403);
    let plan = get(&c, &format!("{}/account/orders/{}/cancel", app.address, order.billnumber)).await;
    assert_eq!(plan.status, 403);
    assert_eq!(reload(&app, &order).await.state, "Delayed");
}

/// The details page's common info, as in Assist's "Common info" tab: the type, the shop's
/// original amount with the rate, the customer's data, the card, cardholder, approval code and
/// answer of the payment, and what cancels gave back; a declined order shows why.
#[tokio::test]
async fn order_details_show_the_common_info() {
    use kassa::db::schema::exchange_rates as rates;
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2011, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let since = kassa::db::now() - time::Duration::hours(1);
    app.gateway
        .store
        .write(move |c| {
            diesel::insert_into(rates::table)
                .values((
                    rates::id.eq(kassa::db::new_id()),
                    rates::from_currency.eq("USD"),
                    rates::to_currency.eq("RUB"),
                    rates::rate.eq("92.1234"),
                    rates::valid_from.eq(since),
                ))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let mut r = request(&m, "info-1", "10.00");
    r.order_currency = Some("USD".into());
    (r.firstname, r.middlename, r.lastname) = (Some("Ivan".into()), Some("Ivanovich".into()), Some("Petrov".into()));
    r.email = Some("ivan@example.com".into());
    r.mobile_phone = Some("+7 900 123-45-67".into());
    (r.address, r.city, r.zip, r.country) =
        (Some("Tverskaya 1".into()), Some("Moscow".into()), Some("125009".into()), Some("RU".into()));
    let order = app.gateway.create_order(r).await.unwrap();
    let card = common::card("4111111111111111");
    let paid = app.gateway.pay(&order.id, kassa::gateway::PayRequest { card, client_ip: None }).await.unwrap();
    let approval = paid.operation.approval_code.clone().expect("an approval code");
    let cancel = kassa::gateway::CancelRequest {
        amount: Some(2_000),
        reason: Some(1),
        actor: Some("account:shop_operator".into()),
        ..kassa::gateway::CancelRequest::default()
    };
    app.gateway.cancel(&order.id, cancel).await.unwrap();
    let declined = app.gateway.create_order(two_stage(request(&m, "info-2", "5.00"))).await.unwrap();
    let card = common::card("4000000000000002");
    app.gateway.pay(&declined.id, kassa::gateway::PayRequest { card, client_ip: None }).await.unwrap();
    let c = signed_in(&app, "shop_viewer").await;

    let page = get(&c, &format!("{}/account/orders/{}", app.address, order.billnumber)).await.body;
    let field = |id: &str| by_id(&page, id);
    assert_eq!(field("type").as_deref(), Some("one-stage"));
    assert_eq!(field("original").as_deref(), Some("10.00 USD at rate 92.1234"));
    assert_eq!(field("customer").as_deref(), Some("Ivan Ivanovich Petrov &lt;ivan@example.com&gt;"));
    assert_eq!(field("phone").as_deref(), Some("+7 900 123-45-67"));
    assert_eq!(field("address").as_deref(), Some("Tverskaya 1, Moscow, 125009, RU"));
    assert_eq!(field("card").as_deref(), Some("411111******1111"));
    assert_eq!(field("cardholder").as_deref(), Some("IVAN PETROV"));
    assert_eq!(field("approval"), Some(approval));
    assert_eq!(field("response").as_deref(), Some("AS000 Operation successful"));
    assert_eq!(field("cancels").as_deref(), Some("1, 20.00 RUB given back"));

    let page = get(&c, &format!("{}/account/orders/{}", app.address, declined.billnumber)).await.body;
    let field = |id: &str| by_id(&page, id);
    assert_eq!(field("type").as_deref(), Some("two-stage"));
    assert_eq!(field("response").as_deref(), Some("AS100 Authorization declined"));
    assert_eq!(field("cancels").as_deref(), Some("0, 0.00 RUB given back"));
    for absent in ["original", "card", "cardholder", "approval", "phone", "address"] {
        assert_eq!(field(absent), None, "{absent} on a declined order in roubles without customer data");
    }
}

/// Billnumbers of every page of a view, following the "Next page" links.
async fn all_pages(c: &reqwest::Client, address: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = format!("{address}/account/orders?{query}");
    for _ in 0..100 {
        let page = get(c, &url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        out.extend(billnumbers(&page.body));
        match page.body.find("rel=\"next\" href=\"") {
            Some(i) => {
                let rest = &page.body[i + "rel=\"next\" href=\"".len()..];
                url =
                    format!("{address}{}", rest[..rest.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&"));
            }
            None => return out,
        }
    }
    panic!("the pages never end: {url}");
}

/// The monitor's table row (`<tr>…</tr>`) of this billnumber.
fn row_of<'a>(html: &'a str, billnumber: &str) -> &'a str {
    let link = html.find(&format!("<a href=\"/account/orders/{billnumber}\">")).expect("the order's row");
    let start = html[..link].rfind("<tr>").unwrap();
    &html[start..link + html[link..].find("</tr>").unwrap()]
}

fn billnumbers(html: &str) -> Vec<String> {
    html.split("<a href=\"/account/orders/").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect()
}

#[tokio::test]
async fn filters_keyset_paging_and_the_csv_export_agree() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2007, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    // 55 unpaid orders: more than one page of 50.
    let mut created = Vec::new();
    for i in 0..55 {
        let o = app.gateway.create_order(request(&m, &format!("bulk-{i:03}"), "5.00")).await.unwrap();
        created.push(o.billnumber);
    }
    let delayed = paid_order(&app, &m, "special-A", "150.00", true).await;
    let approved = paid_order(&app, &m, "special-B", "250.00", false).await;
    // A second shop of the same enterprise, charging in dollars.
    let m2 = add_merchant(&app.gateway, 2017, |x| {
        x.enterprise_id = m.enterprise_id.clone();
        x.payment_currency = "USD".into();
    })
    .await;
    let mut r = request(&m2, "customer-C", "75.50");
    r.order_currency = Some("USD".into());
    r.email = Some("ivan@example.com".into());
    r.lastname = Some("Petrov".into());
    let usd = app.gateway.create_order(r).await.unwrap();
    let master = app.gateway.create_order(request(&m, "card-D", "33.00")).await.unwrap();
    app.gateway
        .pay(&master.id, kassa::gateway::PayRequest { card: common::card("5555555555554444"), client_ip: None })
        .await
        .unwrap();
    let c = signed_in(&app, "shop_viewer").await;

    let all = all_pages(&c, &app.address, "").await;
    assert_eq!(all.len(), 59, "every order exactly once across the pages");
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 59);
    let first = get(&c, &format!("{}/account/orders", app.address)).await.body;
    assert_eq!(billnumbers(&first).len(), 50);
    // The means column: the brand with the card's masked last four; unpaid orders show none.
    let master_row = row_of(&first, &master.billnumber);
    assert!(master_row.contains("<td>MasterCard ******4444</td>"), "{master_row}");
    assert!(!row_of(&first, &created[54]).contains("******"), "an unpaid order has no card");

    let only = |q: &str, expect: Vec<&str>| {
        let (c, address, q) = (c.clone(), app.address.clone(), q.to_owned());
        let mut expect: Vec<String> = expect.into_iter().map(str::to_owned).collect();
        expect.sort();
        async move {
            let mut got = all_pages(&c, &address, &q).await;
            got.sort();
            assert_eq!(got, expect, "filter {q}");
        }
    };
    only("state=Delayed", vec![&delayed.billnumber]).await;
    only("state=Delayed&state=Approved", vec![&delayed.billnumber, &approved.billnumber, &master.billnumber]).await;
    // Several states are read one query per merchant and state, merged: the pages still walk
    // one date order, in both directions, and cross the page boundary without a gap.
    let unpaid_or_paid = "state=In+Process&state=Delayed&state=Approved";
    assert_eq!(all_pages(&c, &app.address, unpaid_or_paid).await, all);
    let mut oldest_first = all.clone();
    oldest_first.reverse();
    oldest_first.retain(|b| *b != delayed.billnumber);
    assert_eq!(all_pages(&c, &app.address, "state=Approved&state=In+Process&sort=date_asc").await, oldest_first);
    only("order_number=special-B", vec![&approved.billnumber]).await;
    only("order_number=special%25", vec![&delayed.billnumber, &approved.billnumber]).await;
    only(&format!("billnumber={}", usd.billnumber), vec![&usd.billnumber]).await;
    only("amount_min=100&amount_max=200", vec![&delayed.billnumber]).await;
    only("state=Delayed&amount_min=100&amount_max=200", vec![&delayed.billnumber]).await;
    only("state=Approved&amount_min=100&amount_max=200", vec![]).await;
    // An amount range is read off the amount index and sorted by date (on SQLite, when it
    // holds few orders): the pages still walk one date order, in both directions.
    assert_eq!(all_pages(&c, &app.address, "amount_min=0.01").await, all);
    let mut oldest = all.clone();
    oldest.reverse();
    assert_eq!(all_pages(&c, &app.address, "amount_min=0.01&sort=date_asc").await, oldest);
    only("currency=USD", vec![&usd.billnumber]).await;
    only("customer=ivan%40example.com", vec![&usd.billnumber]).await;
    only("customer=Petrov", vec![&usd.billnumber]).await;
    only("card=4444", vec![&master.billnumber]).await;
    only("card=1111", vec![&delayed.billnumber, &approved.billnumber]).await;
    only("mode=live", vec![]).await;
    only("merchant=2017", vec![&usd.billnumber]).await;
    assert_eq!(all_pages(&c, &app.address, "mode=test").await.len(), 59);
    let today = kassa::db::now().date();
    let tomorrow = today.next_day().unwrap();
    let fmt = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    assert_eq!(all_pages(&c, &app.address, &format!("from={}&to={}", fmt(today), fmt(today))).await.len(), 59);
    only(&format!("from={}", fmt(tomorrow)), vec![]).await;
    assert_eq!(get(&c, &format!("{}/account/orders?state=Bogus", app.address)).await.status, 400);

    // The export: exactly the rows of the view, all pages of it, in the same order.
    let csv = get(&c, &format!("{}/account/orders.csv", app.address)).await.body;
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next().unwrap(),
        "created_at,merchant,order_number,billnumber,state,amount,currency,customer,means,card,response_code,test"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let csv_bills: Vec<String> = rows.iter().map(|r| r[3].to_owned()).collect();
    assert_eq!(csv_bills, all);
    let usd_row = rows.iter().find(|r| r[3] == usd.billnumber).unwrap();
    assert_eq!((usd_row[5], usd_row[6]), ("75.50", "USD"));
    assert_eq!((usd_row[8], usd_row[9]), ("", ""), "unpaid: no means, no card");
    let master_row = rows.iter().find(|r| r[3] == master.billnumber).unwrap();
    assert_eq!((master_row[8], master_row[9], master_row[10]), ("MasterCard", "******4444", "AS000"));
    assert!(time::OffsetDateTime::parse(usd_row[0], &time::format_description::well_known::Rfc3339).is_ok());
    let filtered = get(&c, &format!("{}/account/orders.csv?state=Delayed&state=Approved", app.address)).await.body;
    let mut bills: Vec<&str> =
        filtered.split("\r\n").skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').nth(3).unwrap()).collect();
    bills.sort();
    let mut expect = vec![delayed.billnumber.as_str(), approved.billnumber.as_str(), master.billnumber.as_str()];
    expect.sort();
    assert_eq!(bills, expect);
    assert!(created.iter().all(|b| csv.contains(b.as_str())));
}

async fn audit_count(app: &common::TestApp, action: &'static str) -> i64 {
    app.gateway
        .store
        .read(move |c| {
            audit_events::table
                .filter(audit_events::action.eq(action))
                .filter(audit_events::actor.eq("shop_operator"))
                .filter(audit_events::ip.is_not_null())
                .count()
                .get_result(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

/// The plan page's numbers, as shown.
fn plan(body: &str) -> (String, String, String) {
    let span = |id: &str| {
        let marker = format!("<span id=\"{id}\">");
        let i = body.find(&marker).unwrap_or_else(|| panic!("no {id} in {body}")) + marker.len();
        body[i..i + body[i..].find('<').unwrap()].to_owned()
    };
    (span("total"), span("reverse"), span("refund"))
}

#[tokio::test]
async fn confirm_and_cancel_do_what_the_page_showed_once() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2008, |_| {}).await;
    add_account_user(&app, &m, "shop_operator", "operator").await;
    let order = paid_order(&app, &m, "two-stage-1", "100.00", true).await;
    let c = signed_in(&app, "shop_operator").await;
    let details_url = format!("{}/account/orders/{}", app.address, order.billnumber);

    // Partial confirm; the same form submitted twice confirms once.
    let details = get(&c, &details_url).await;
    let (csrf, nonce) = (hidden(&details.body, "csrf").unwrap(), hidden(&details.body, "nonce").unwrap());
    assert_eq!(hidden(&details.body, "amount").as_deref(), Some("100.00"), "full amount by default");
    let url = format!("{details_url}/confirm");
    let fields = [("csrf", csrf.as_str()), ("nonce", nonce.as_str()), ("amount", "60.00")];
    let done = post(&c, &url, &fields).await;
    assert_eq!(done.status, 303);
    assert!(done.location.unwrap().ends_with("?done=confirm"));
    let again = post(&c, &url, &fields).await;
    assert!(again.location.unwrap().ends_with("?done=repeated"));
    let after = reload(&app, &order).await;
    assert_eq!(after.confirmed, 6000);
    assert_eq!(audit_count(&app, "account.confirm").await, 1);
    let shown = get(&c, &format!("{details_url}?done=confirm")).await.body;
    assert!(shown.contains(&format!("The order is now {}", after.state)));
    assert!(shown.contains(&format!("{}.2", order.billnumber)), "the confirmation operation is listed");

    // Partial cancel: the plan shown is what is done.
    let plan_page = get(&c, &format!("{details_url}/cancel?amount=20.00&reason=2")).await;
    assert_eq!(plan_page.status, 200, "{}", plan_page.body);
    let (total, reverse, refund) = plan(&plan_page.body);
    assert_eq!(total, "20.00 RUB");
    let before = reload(&app, &order).await;
    let fields: Vec<(String, String)> = ["csrf", "nonce", "amount_minor", "reverse_minor", "refund_minor", "reason"]
        .iter()
        .map(|k| (k.to_string(), hidden(&plan_page.body, k).unwrap()))
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = post(&c, &format!("{details_url}/cancel"), &fields).await;
    assert!(done.location.unwrap().ends_with("?done=cancel"));
    let again = post(&c, &format!("{details_url}/cancel"), &fields).await;
    assert!(again.location.unwrap().ends_with("?done=repeated"));
    let after = reload(&app, &order).await;
    let reversed = (after.voided + after.released) - (before.voided + before.released);
    let refunded = after.refunded - before.refunded;
    let money = |m: i64| format!("{} RUB", kassa::money::format_minor(m, "RUB"));
    assert_eq!((money(reversed), money(refunded)), (reverse.clone(), refund));
    assert_eq!(reversed + refunded, 2000);
    assert_eq!(audit_count(&app, "account.cancel").await, 1);
    // After it, what was done: the processing center's calls as answered, and the new state.
    let shown = get(&c, &format!("{details_url}?done=cancel")).await.body;
    let result = format!("Done: cancel of 20.00 RUB: reversal {reverse} (approved). The order is now {}.", after.state);
    assert!(shown.contains(&result), "{result} in {shown}");

    // Full cancel of a one-stage order: the default amount is what is left.
    let one = paid_order(&app, &m, "one-stage-1", "80.00", false).await;
    let url = format!("{}/account/orders/{}", app.address, one.billnumber);
    let details = get(&c, &url).await.body;
    assert!(details.contains("value=\"80.00\""), "remaining by default");
    let plan_page = get(&c, &format!("{url}/cancel?amount=&reason=1")).await.body;
    assert_eq!(plan(&plan_page).0, "80.00 RUB");
    let fields: Vec<(String, String)> = ["csrf", "nonce", "amount_minor", "reverse_minor", "refund_minor", "reason"]
        .iter()
        .map(|k| (k.to_string(), hidden(&plan_page, k).unwrap()))
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // Two submits at once: one cancel.
    let cancel_url = format!("{url}/cancel");
    let (a, b) = tokio::join!(post(&c, &cancel_url, &fields), post(&c, &cancel_url, &fields));
    let mut endings = [a.location.unwrap(), b.location.unwrap()].map(|l| l.rsplit('=').next().unwrap().to_owned());
    endings.sort();
    assert_eq!(endings, ["cancel".to_owned(), "repeated".to_owned()]);
    let after = reload(&app, &one).await;
    assert_eq!(after.state, "Canceled");
    assert_eq!(after.voided + after.released + after.refunded, 8000);
    let id = after.id.clone();
    let ops = app
        .gateway
        .store
        .read(move |c| kassa::db::models::Operation::of_order(c, &id).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(ops.iter().filter(|o| o.kind == "cancel").count(), 1);

    // A plan overtaken by a settlement batch is not carried out: the reversal shown would be a
    // refund now. The user is told, and the new plan says so.
    let late = paid_order(&app, &m, "one-stage-2", "30.00", false).await;
    let url = format!("{}/account/orders/{}", app.address, late.billnumber);
    let plan_page = get(&c, &format!("{url}/cancel?amount=&reason=1")).await.body;
    assert_eq!(plan(&plan_page), ("30.00 RUB".into(), "30.00 RUB".into(), "0.00 RUB".into()));
    app.gateway.settle().await.unwrap();
    let fields: Vec<(String, String)> = ["csrf", "nonce", "amount_minor", "reverse_minor", "refund_minor", "reason"]
        .iter()
        .map(|k| (k.to_string(), hidden(&plan_page, k).unwrap()))
        .collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = post(&c, &format!("{url}/cancel"), &fields).await;
    assert!(refused.location.as_deref().unwrap().ends_with("?error=plan_changed"), "{:?}", refused.location);
    let untouched = reload(&app, &late).await;
    assert_eq!((untouched.state.as_str(), untouched.voided + untouched.refunded), ("Approved", 0));
    let told = get(&c, &format!("{url}?error=plan_changed")).await.body;
    assert!(told.contains("look at the new plan"), "{told}");
    let new_plan = get(&c, &format!("{url}/cancel?amount=&reason=1")).await.body;
    assert_eq!(plan(&new_plan), ("30.00 RUB".into(), "0.00 RUB".into(), "30.00 RUB".into()));
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_twelve_characters() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2009, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let c = signed_in(&app, "shop_viewer").await;
    let other = signed_in(&app, "shop_viewer").await;
    let form = get(&c, &format!("{}/account/password", app.address)).await;
    let csrf = hidden(&form.body, "csrf").unwrap();
    let url = format!("{}/account/password", app.address);
    let short =
        post(&c, &url, &[("csrf", &csrf), ("current", PASSWORD), ("new", "short-pass"), ("repeat", "short-pass")])
            .await;
    assert_eq!(short.status, 400);
    let wrong = post(
        &c,
        &url,
        &[
            ("csrf", &csrf),
            ("current", "nope-nope-nope"),
            ("new", "a-new-long-password"),
            ("repeat", "a-new-long-password"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 400);
    let ok = post(
        &c,
        &url,
        &[("csrf", &csrf), ("current", PASSWORD), ("new", "a-new-long-password"), ("repeat", "a-new-long-password")],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(get(&c, &format!("{}/account/orders", app.address)).await.status, 200, "this session stays");
    assert_eq!(get(&other, &format!("{}/account/orders", app.address)).await.status, 303, "others end");
    assert_eq!(sign_in(&client(), &app.address, "shop_viewer", PASSWORD).await.status, 401);
    assert_eq!(sign_in(&client(), &app.address, "shop_viewer", "a-new-long-password").await.status, 303);
}

#[tokio::test]
async fn the_export_neutralises_spreadsheet_formulas_and_quotes_fields() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2010, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let mut r = request(&m, "=HYPERLINK(\"x\",\"y\")", "12.34");
    r.lastname = Some("O,Neil".into());
    app.gateway.create_order(r).await.unwrap();
    let c = signed_in(&app, "shop_viewer").await;
    let csv = get(&c, &format!("{}/account/orders.csv", app.address)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains(",\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\","), "{}", csv.body);
    assert!(csv.body.contains(",12.34,RUB,\"O,Neil\","), "{}", csv.body);
}

/// The delivery log on the order page, and the resend button of a message the worker gave up on.
#[tokio::test]
async fn a_dead_notification_is_shown_and_resent_from_the_order_page() {
    use kassa::db::schema::outbox;
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2101, |m| m.notification_url = Some("http://127.0.0.1:9/notify".into())).await;
    let other = add_merchant(&app.gateway, 2102, |_| {}).await;
    add_account_user(&app, &m, "shop_operator", "operator").await;
    add_account_user(&app, &other, "stranger_op", "operator").await;
    let order = paid_order(&app, &m, "resend-1", "10.00", false).await;
    // The worker gave up on the notification (the shop's server never answered).
    app.gateway
        .store
        .write(move |c| {
            diesel::update(outbox::table).set((outbox::state.eq("failed"), outbox::attempts.eq(8))).execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    let id: String =
        app.gateway.store.read(|c| outbox::table.select(outbox::id).first(c).map_err(StoreError::from)).await.unwrap();
    let url = format!("{}/account/orders/{}", app.address, order.billnumber);
    let resend = format!("{url}/deliveries/{id}/resend");

    // Another enterprise cannot resend it, even knowing both ids.
    let stranger = signed_in(&app, "stranger_op").await;
    let csrf =
        hidden(&get(&stranger, &format!("{}/account/orders", app.address)).await.body, "csrf").unwrap_or_default();
    assert_eq!(post(&stranger, &resend, &[("csrf", &csrf)]).await.status, 404);

    let c = signed_in(&app, "shop_operator").await;
    let page = get(&c, &url).await;
    assert!(page.body.contains("assist.notification") && page.body.contains(">failed<"), "{}", page.body);
    assert!(page.body.contains(&format!("/deliveries/{id}/resend")), "the button is there");
    let csrf = hidden(&page.body, "csrf").unwrap();
    assert_eq!(post(&c, &resend, &[("csrf", "forged")]).await.status, 403);
    let done = post(&c, &resend, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303);
    let row: (String, i32) = app
        .gateway
        .store
        .read(|c| outbox::table.select((outbox::state, outbox::attempts)).first(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(row, ("pending".into(), 0), "back in the worker's queue");
    let again = post(&c, &resend, &[("csrf", &csrf)]).await;
    assert_eq!(again.location.as_deref(), Some(format!("/account/orders/{}?done=repeated", order.billnumber).as_str()));
    let audited: i64 = app
        .gateway
        .store
        .read(|c| {
            audit_events::table
                .filter(audit_events::action.eq("account.resend"))
                .count()
                .get_result(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(audited, 2);
}

/// The day's settlement report for the enterprise's own orders, as CSV.
#[tokio::test]
async fn settlement_report_of_the_enterprise() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2201, |_| {}).await;
    let other = add_merchant(&app.gateway, 2202, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let mine = paid_order(&app, &m, "settle-mine", "12.00", false).await;
    let theirs = paid_order(&app, &other, "settle-theirs", "13.00", false).await;
    app.gateway.settle().await.unwrap();
    let c = signed_in(&app, "shop_viewer").await;
    let today = time::OffsetDateTime::now_utc().date();
    let csv = get(&c, &format!("{}/account/settlement.csv?date={today}", app.address)).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.contains(&format!("{}.1", mine.billnumber)) && csv.body.contains(",12.00,settled"),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains(&theirs.billnumber), "another enterprise's order is not in it");
    let totals = get(&c, &format!("{}/account/settlement.csv?date={today}&totals=1", app.address)).await;
    assert_eq!(totals.body.lines().nth(1), Some(format!("{today},RUB,1,12.00,0,0.00").as_str()));
    assert_eq!(get(&c, &format!("{}/account/settlement.csv?date=03.12.2026", app.address)).await.status, 400);
}

/// A manager keeps up the shop's return URLs, notifications and e-mails; the platform's settings
/// are shown, not changed, even when a forged form sends them; other roles and other
/// enterprises get nothing; every change is audited as old → new.
#[tokio::test]
async fn a_manager_keeps_up_the_shops_settings_and_only_those() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2301, |m| m.max_amount = Some(500_000)).await;
    let theirs = add_merchant(&app.gateway, 2302, |_| {}).await;
    add_account_user(&app, &m, "shop_manager", "manager").await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let c = signed_in(&app, "shop_manager").await;
    let url = format!("{}/account/settings/2301", app.address);

    let index = get(&c, &format!("{}/account/settings", app.address)).await;
    assert_eq!((index.status, index.location.as_deref()), (303, Some("/account/settings/2301")));
    let page = get(&c, &url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Set by the platform") && page.body.contains("5000.00"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();

    // A wrong URL is refused beside its field and nothing is saved.
    let bad =
        post(&c, &url, &[("csrf", &csrf), ("url_return_ok", "shop.example/thanks"), ("after_payment", "result")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("id=\"error-url_return_ok\""), "{}", bad.body);
    assert_eq!(post(&c, &url, &[("csrf", "forged"), ("after_payment", "result")]).await.status, 403);

    let saved = post(
        &c,
        &url,
        &[
            ("csrf", &csrf),
            ("url_return_ok", "https://shop.example/thanks"),
            ("after_payment", "redirect"),
            ("notification_url", "https://shop.example/notify"),
            ("notification_protocol", "post"),
            ("staff_emails", "sales@shop.example"),
            // Not the manager's to change: ignored.
            ("max_amount", "1.00"),
            ("means_wallet", "on"),
        ],
    )
    .await;
    assert_eq!(
        (saved.status, saved.location.as_deref()),
        (303, Some("/account/settings/2301?saved=1")),
        "{}",
        saved.body
    );
    let after = app.gateway.merchant_by_number(2301).await.unwrap();
    assert_eq!(after.url_return_ok.as_deref(), Some("https://shop.example/thanks"));
    assert_eq!(after.after_payment, "redirect");
    assert_eq!(after.notification_url.as_deref(), Some("https://shop.example/notify"));
    assert_eq!(after.staff_emails.as_deref(), Some("sales@shop.example"));
    assert!(!after.customer_emails, "the unticked box switches receipts off");
    assert_eq!(
        (after.max_amount, after.payment_means.as_str(), after.test_mode),
        (Some(500_000), m.payment_means.as_str(), m.test_mode)
    );

    let entries = common::audit_entries(&app.gateway.store, "account.merchant_update").await;
    assert_eq!(entries.len(), 1, "the refused saves are not changes: {entries:?}");
    let changes = &entries[0].detail["changes"];
    assert_eq!(changes["url_return_ok"]["new"], "https://shop.example/thanks");
    assert_eq!(changes["after_payment"], serde_json::json!({"old": "result", "new": "redirect"}));
    assert!(changes.get("max_amount").is_none() && changes.get("means_wallet").is_none(), "{changes}");
    assert_eq!((entries[0].actor_kind.as_str(), entries[0].actor.as_str()), ("account_user", "shop_manager"));

    // Other enterprises' shops do not exist for the user; a viewer has no settings.
    assert_eq!(get(&c, &format!("{}/account/settings/{}", app.address, theirs.merchant_number)).await.status, 404);
    let v = signed_in(&app, "shop_viewer").await;
    assert_eq!(get(&v, &url).await.status, 403);
    assert_eq!(get(&v, &format!("{}/account/settings", app.address)).await.status, 403);
    assert_eq!(post(&v, &url, &[("csrf", "x"), ("after_payment", "result")]).await.status, 403);
    assert!(!get(&v, &format!("{}/account", app.address)).await.body.contains("/account/settings"));
}
