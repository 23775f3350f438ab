//! The account dashboard over HTTP: its numbers against orders made through the gateway, its
//! SVG charts, the orders waiting for confirmation, enterprise isolation, and the enterprise's
//! time zone (days of the dashboard and the monitor's date filter are local days).

mod common;

use common::account::{add_account_user, client, get, paid_order, signed_in};
use common::{TestApp, add_merchant, card, request, spawn_app};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::{Merchant, Order};
use kassa::db::schema::{enterprises, orders};
use kassa::gateway::{CancelRequest, PayRequest};
use time::macros::datetime;
use time::{Date, PrimitiveDateTime};

async fn declined_order(app: &TestApp, merchant: &Merchant, number: &str, amount: &str, card_number: &str) -> Order {
    let order = app.gateway.create_order(request(merchant, number, amount)).await.expect("create order");
    let out = app.gateway.pay(&order.id, PayRequest { card: card(card_number), client_ip: None }).await.expect("pay");
    assert_eq!(out.order.state, "Declined");
    out.order
}

async fn set_created(app: &TestApp, order: &Order, at: PrimitiveDateTime) {
    let id = order.id.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::update(orders::table.find(id)).set(orders::created_at.eq(at)).execute(c).map_err(StoreError::from)
        })
        .await
        .unwrap();
}

async fn set_zone(app: &TestApp, merchant: &Merchant, zone: &str) {
    let (id, zone) = (merchant.enterprise_id.clone(), zone.to_owned());
    app.gateway
        .store
        .write(move |c| {
            diesel::update(enterprises::table.find(id))
                .set(enterprises::time_zone.eq(zone))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
}

/// The text of the element with this id (`<dd id="total-orders">7</dd>` → `7`).
fn by_id<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in {html}")) + marker.len();
    &html[start..start + html[start..].find('<').unwrap()]
}

/// The `<svg>…</svg>` elements of a page.
fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg").map(|(i, _)| &html[i..i + html[i..].find("</svg>").expect("closed svg") + 6]).collect()
}

/// The `<title>` texts of the marks (bars, dots) of a chart, after its own title.
fn mark_titles(svg: &str) -> Vec<String> {
    svg.split("<title>").skip(1).map(|t| t.split("</title>").next().unwrap().to_owned()).collect()
}

/// A strict little XML check: every tag closes in order, attributes are quoted, entities are
/// the five XML ones or numeric.
fn assert_well_formed(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("tag ends") + lt;
        let tag = &rest[lt + 1..gt];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing </{name}> in {xml}");
        } else {
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name = body.split_whitespace().next().expect("tag name");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "tag name {name}");
            let attrs = &body[name.len()..];
            assert_eq!(attrs.matches('"').count() % 2, 0, "quotes of <{tag}>");
            for pair in attrs.split('"').step_by(2).map(str::trim).filter(|s| !s.is_empty()) {
                assert!(pair.ends_with('='), "attribute {pair:?} of <{name}> has a quoted value");
            }
            check_text(&attrs.split('"').skip(1).step_by(2).collect::<Vec<_>>().join(" "));
            if !self_closing {
                stack.push(name.to_owned());
            }
        }
        rest = &rest[gt + 1..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "unclosed {stack:?}");
}

fn check_text(text: &str) {
    assert!(!text.contains('<') && !text.contains('>'), "{text}");
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..i + text[i..].find(';').expect("entity ends")];
        let ok = ["&amp", "&lt", "&gt", "&quot", "&apos"].contains(&entity) || entity.starts_with("&#");
        assert!(ok, "entity {entity}");
    }
}

fn day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[tokio::test]
async fn the_numbers_match_the_orders() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3001, |_| {}).await;
    let usd_shop = add_merchant(&app.gateway, 3002, |x| {
        x.enterprise_id = m.enterprise_id.clone();
        x.payment_currency = "USD".into();
    })
    .await;
    add_account_user(&app, &m, "dash_viewer", "viewer").await;

    let anonymous = get(&client(), &format!("{}/account", app.address)).await;
    assert_eq!((anonymous.status, anonymous.location.as_deref()), (303, Some("/account/login")));

    // RUB: two approved 100.00 (one then refunded by 30.00), one Delayed 50.00, one Delayed
    // 40.00 cancelled in full, three declines, one never paid.
    let a1 = paid_order(&app, &m, "a1", "100.00", false).await;
    let a2 = paid_order(&app, &m, "a2", "100.00", false).await;
    let delayed = paid_order(&app, &m, "d1", "50.00", true).await;
    let cancelled = paid_order(&app, &m, "d2", "40.00", true).await;
    assert_eq!((a1.state.as_str(), delayed.state.as_str()), ("Approved", "Delayed"));
    app.gateway.cancel(&a2.id, CancelRequest { amount: Some(3_000), ..CancelRequest::default() }).await.unwrap();
    app.gateway.cancel(&cancelled.id, CancelRequest::default()).await.unwrap();
    declined_order(&app, &m, "x1", "10.00", "4000000000000002").await;
    declined_order(&app, &m, "x2", "20.00", "4000000000009995").await;
    declined_order(&app, &m, "x3", "30.00", "4000000000009995").await;
    let unpaid = app.gateway.create_order(request(&m, "u1", "5.00")).await.unwrap();
    // USD: one approved order.
    let mut r = request(&usd_shop, "usd-1", "75.50");
    r.order_currency = Some("USD".into());
    let usd = app.gateway.create_order(r).await.unwrap();
    app.gateway.pay(&usd.id, PayRequest { card: card("5555555555554444"), client_ip: None }).await.unwrap();

    let c = signed_in(&app, "dash_viewer").await;
    let page = get(&c, &format!("{}/account", app.address)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = page.body;
    assert!(html.contains("<a href=\"/account\">Dashboard</a>"), "the nav links the dashboard");
    // RUB has more orders than USD: it is the default.
    assert!(html.contains("<option value=\"RUB\" selected>RUB</option>"), "{html}");
    assert!(html.contains("<option value=\"USD\">USD</option>"));
    assert_eq!(by_id(&html, "total-orders"), "8");
    // 100 + (100 - 30) + 50 + (40 - 40) = 220.00
    assert_eq!(by_id(&html, "total-turnover"), "220.00 RUB");
    // 4 approved of 7 answered payment attempts.
    assert_eq!(by_id(&html, "total-approval"), "57.1%");
    for row in [
        "<tr><td>Approved</td><td>1</td><td>100.00 RUB</td><td>100.00 RUB</td></tr>",
        "<tr><td>PartialCanceled</td><td>1</td><td>100.00 RUB</td><td>70.00 RUB</td></tr>",
        "<tr><td>Delayed</td><td>1</td><td>50.00 RUB</td><td>50.00 RUB</td></tr>",
        "<tr><td>Canceled</td><td>1</td><td>40.00 RUB</td><td>0.00 RUB</td></tr>",
        "<tr><td>Declined</td><td>3</td><td>60.00 RUB</td><td>0.00 RUB</td></tr>",
        "<tr><td>In Process</td><td>1</td><td>5.00 RUB</td><td>0.00 RUB</td></tr>",
        "<tr><td>card (VISA)</td><td>4</td><td>290.00 RUB</td><td>220.00 RUB</td></tr>",
        "<tr><td>not paid</td><td>4</td><td>65.00 RUB</td><td>0.00 RUB</td></tr>",
    ] {
        assert!(html.contains(row), "{row} in {html}");
    }
    // Declines by count, with the message of the code.
    let declines = &html[html.find("class=\"declines\"").unwrap()..];
    let as102 = declines.find("<td>AS102</td>").expect("AS102 listed");
    let as100 = declines.find("<td>AS100</td>").expect("AS100 listed");
    assert!(as102 < as100, "the most frequent code first");
    assert!(declines[as102..].starts_with("<td>AS102</td><td>"));
    let message = &declines[as102 + "<td>AS102</td><td>".len()..];
    assert!(!message.starts_with('<'), "AS102 has its message");
    assert!(declines[as102..as100].contains("<td>2</td>"));

    // Today's bar and dot say the same numbers (days are UTC days for this enterprise).
    let today = day(a1.created_at.date());
    let charts = svgs(&html);
    assert_eq!(charts.len(), 2);
    let bars = mark_titles(charts[0]);
    assert_eq!(bars.len(), 14, "a bar per day: {bars:?}");
    assert!(bars.contains(&format!("{today}: 220.00 RUB, 8 orders")), "{bars:?}");
    let dots = mark_titles(charts[1]);
    assert!(dots.contains(&format!("{today}: 57.1% (4 of 7 answered)")), "{dots:?}");

    // The other currency, chosen.
    let usd_page = get(&c, &format!("{}/account?currency=USD", app.address)).await.body;
    assert_eq!(by_id(&usd_page, "total-orders"), "1");
    assert_eq!(by_id(&usd_page, "total-turnover"), "75.50 USD");
    assert!(usd_page.contains("<tr><td>card (MasterCard)</td><td>1</td><td>75.50 USD</td><td>75.50 USD</td></tr>"));

    // A period without the orders counts none of them.
    let empty = get(&c, &format!("{}/account?from=2020-01-01&to=2020-01-31&currency=RUB", app.address)).await.body;
    assert_eq!(by_id(&empty, "total-orders"), "0");
    assert_eq!(by_id(&empty, "total-approval"), "—");
    assert_eq!(mark_titles(svgs(&empty)[0]).len(), 31);
    for bad in ["from=2026-13-01", "from=2026-12-05&to=2026-12-01", "currency=XXX1", "colour=red"] {
        assert_eq!(get(&c, &format!("{}/account?{bad}", app.address)).await.status, 400, "{bad}");
    }
    assert!(!unpaid.billnumber.is_empty());
}

/// Approved payments out of the attempts that got an answer: a 3-D Secure page still open is
/// no answer yet; one left open until the order timed out is a decline (AS100).
#[tokio::test]
async fn the_approval_rate_counts_answered_attempts_only() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3051, |_| {}).await;
    add_account_user(&app, &m, "rate_viewer", "viewer").await;
    paid_order(&app, &m, "r1", "10.00", false).await;
    declined_order(&app, &m, "r2", "10.00", "4000000000000069").await;
    let open = app.gateway.create_order(request(&m, "r3", "10.00")).await.unwrap();
    let challenge = || PayRequest { card: card("4000000000003220"), client_ip: None };
    assert!(app.gateway.pay(&open.id, challenge()).await.unwrap().challenge.is_some());
    let abandoned = app.gateway.create_order(request(&m, "r4", "10.00")).await.unwrap();
    assert!(app.gateway.pay(&abandoned.id, challenge()).await.unwrap().challenge.is_some());
    let id = abandoned.id.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::update(orders::table.find(id))
                .set(orders::expires_at.eq(kassa::db::now() - time::Duration::minutes(1)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(app.gateway.expire().await.unwrap(), 1);

    let c = signed_in(&app, "rate_viewer").await;
    let html = get(&c, &format!("{}/account", app.address)).await.body;
    assert_eq!(by_id(&html, "total-orders"), "4");
    assert_eq!(by_id(&html, "total-approval"), "33.3%", "1 approved of 3 answered");
    assert!(html.contains("<tr><td>Timeout</td><td>1</td><td>10.00 RUB</td><td>0.00 RUB</td></tr>"));
    assert!(html.contains("<tr><td>In Process</td><td>1</td><td>10.00 RUB</td><td>0.00 RUB</td></tr>"));
    let declines = &html[html.find("class=\"declines\"").unwrap()..];
    assert!(declines.contains("<tr><td>AS100</td><td>Authorization declined</td><td>1</td></tr>"), "{declines}");
    assert!(declines.contains("<tr><td>AS104</td><td>Declined: wrong expiry date</td><td>1</td></tr>"));
}

#[tokio::test]
async fn the_charts_are_well_formed_accessible_svg_under_the_csp() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3101, |_| {}).await;
    add_account_user(&app, &m, "svg_viewer", "viewer").await;
    paid_order(&app, &m, "s1", "12.34", false).await;
    declined_order(&app, &m, "s2", "1.00", "4000000000000069").await;
    let c = signed_in(&app, "svg_viewer").await;
    let r = c.get(format!("{}/account", app.address)).send().await.unwrap();
    let csp = r.headers().get("Content-Security-Policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("style-src 'self'") && !csp.contains("unsafe"));
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script"), "no script needed");
    let charts = svgs(&html);
    assert_eq!(charts.len(), 2);
    for (svg, id) in charts.iter().zip(["turnover-chart", "approval-chart"]) {
        assert_well_formed(svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
        assert!(svg.contains(&format!("role=\"img\" aria-labelledby=\"{id}-title {id}-desc\"")), "{svg}");
        assert!(
            svg.contains(&format!("<title id=\"{id}-title\">")) && svg.contains(&format!("<desc id=\"{id}-desc\">"))
        );
        assert!(!svg.contains("style=") && !svg.contains("<style") && !svg.contains(" on"), "CSP-safe: {svg}");
        assert!(svg.contains("class=\"x-axis\"") && svg.contains("class=\"y-axis\""), "axis titles");
    }
    assert_eq!(charts[0].matches("<rect ").count(), 14, "a bar per day");
    assert!(charts[0].contains(">RUB</text>"), "the y axis names the currency");
    assert!(charts[1].contains(">100%</text>") && charts[1].contains(">0%</text>"));
    assert_eq!(charts[1].matches("<circle ").count(), 1, "a dot for the one day with answers");
    let dot = mark_titles(charts[1]).into_iter().find(|t| t.contains('%')).unwrap();
    assert!(dot.ends_with("50.0% (1 of 2 answered)"), "{dot}");
}

#[tokio::test]
async fn the_waiting_list_shows_delayed_orders_nearest_deadline_first() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3201, |_| {}).await;
    add_account_user(&app, &m, "wait_viewer", "viewer").await;
    set_zone(&app, &m, "Europe/Moscow").await;
    let later = paid_order(&app, &m, "w1", "10.00", true).await;
    let sooner = paid_order(&app, &m, "w2", "20.00", true).await;
    paid_order(&app, &m, "w3", "30.00", false).await;
    // The first order's deadline moves far out: the second one is now the nearest.
    let deadline = datetime!(2030-01-01 9:15);
    let id = later.id.clone();
    app.gateway
        .store
        .write(move |c| {
            diesel::update(orders::table.find(id))
                .set(orders::confirm_deadline.eq(Some(deadline)))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    // An old Delayed order outside the period still waits.
    set_created(&app, &later, datetime!(2020-01-01 12:00)).await;
    let c = signed_in(&app, "wait_viewer").await;
    let html = get(&c, &format!("{}/account", app.address)).await.body;
    let waiting = &html[html.find("<table class=\"waiting\">").unwrap()..];
    let waiting = &waiting[..waiting.find("</table>").unwrap()];
    assert!(waiting.contains("<th>Confirm by (Europe/Moscow)</th>"));
    let row = format!(
        "<tr><td>2030-01-01 12:15:00 +03:00</td><td><a href=\"/account/orders/{b}\">{b}</a></td><td>3201</td><td>w1</td><td>10.00 RUB</td></tr>",
        b = later.billnumber
    );
    assert!(waiting.contains(&row), "{waiting}");
    let sooner_deadline = moscow(sooner.confirm_deadline.expect("a Delayed order has a deadline"));
    let row = format!(
        "<tr><td>{sooner_deadline}</td><td><a href=\"/account/orders/{b}\">{b}</a></td><td>3201</td><td>w2</td><td>20.00 RUB</td></tr>",
        b = sooner.billnumber
    );
    assert!(waiting.contains(&row), "{row} in {waiting}");
    let (s, l) = (waiting.find(&sooner.billnumber).unwrap(), waiting.find(&later.billnumber).unwrap());
    assert!(s < l, "nearest deadline first");
    assert_eq!(waiting.matches("<tr><td>").count(), 2, "only Delayed orders");
    assert!(html.contains("All Delayed orders (2)"));
    // The link opens the order, whose deadline shows in the same zone.
    let details = get(&c, &format!("{}/account/orders/{}", app.address, later.billnumber)).await.body;
    assert!(details.contains("<dt>Confirm by</dt><dd>2030-01-01 12:15:00 +03:00</dd>"), "{details}");
}

/// A UTC time as the account shows it in Moscow (UTC+3 all year, no DST since 2014).
fn moscow(t: PrimitiveDateTime) -> String {
    let local = t + time::Duration::hours(3);
    format!("{} {:02}:{:02}:{:02} +03:00", day(local.date()), local.hour(), local.minute(), local.second())
}

#[tokio::test]
async fn another_enterprise_never_counts() {
    let app = spawn_app().await;
    let mine = add_merchant(&app.gateway, 3301, |_| {}).await;
    let theirs = add_merchant(&app.gateway, 3302, |_| {}).await;
    add_account_user(&app, &mine, "mine_viewer", "viewer").await;
    paid_order(&app, &mine, "m1", "10.00", false).await;
    for i in 0..3 {
        paid_order(&app, &theirs, &format!("t{i}"), "1000.00", i == 0).await;
    }
    let their_delayed = paid_order(&app, &theirs, "t-delayed", "7.00", true).await;
    declined_order(&app, &theirs, "t-declined", "5.00", "4000000000000077").await;
    let c = signed_in(&app, "mine_viewer").await;
    let html = get(&c, &format!("{}/account", app.address)).await.body;
    assert_eq!(by_id(&html, "total-orders"), "1");
    assert_eq!(by_id(&html, "total-turnover"), "10.00 RUB");
    assert_eq!(by_id(&html, "total-approval"), "100.0%");
    assert!(!html.contains("AS108"), "their decline codes are not mine");
    assert!(!html.contains(&their_delayed.billnumber));
    assert!(html.contains("No order is waiting for confirmation."));
}

#[tokio::test]
async fn days_are_local_days_of_the_enterprise_zone() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3401, |_| {}).await;
    add_account_user(&app, &m, "tz_viewer", "viewer").await;
    set_zone(&app, &m, "Europe/Moscow").await;
    // 22:30 UTC on 30 November is 01:30 on 1 December in Moscow; 20:59 UTC is still 23:59 on
    // 30 November there.
    let late = paid_order(&app, &m, "late", "100.00", false).await;
    set_created(&app, &late, datetime!(2026-11-30 22:30)).await;
    let evening = paid_order(&app, &m, "evening", "7.00", false).await;
    set_created(&app, &evening, datetime!(2026-11-30 20:59)).await;
    let c = signed_in(&app, "tz_viewer").await;

    let period = "from=2026-11-30&to=2026-12-01&currency=RUB";
    let html = get(&c, &format!("{}/account?{period}", app.address)).await.body;
    assert!(html.contains("Days are local days in Europe/Moscow."));
    let bars = mark_titles(svgs(&html)[0]);
    assert!(bars.contains(&"2026-11-30: 7.00 RUB, 1 orders".to_owned()), "{bars:?}");
    assert!(bars.contains(&"2026-12-01: 100.00 RUB, 1 orders".to_owned()), "{bars:?}");
    let dots = mark_titles(svgs(&html)[1]);
    assert!(dots.contains(&"2026-12-01: 100.0% (1 of 1 answered)".to_owned()), "{dots:?}");
    let only_first = get(&c, &format!("{}/account?from=2026-12-01&to=2026-12-01", app.address)).await.body;
    assert_eq!(by_id(&only_first, "total-turnover"), "100.00 RUB");

    // The monitor's from/to are the same local days.
    let monitor = |q: &'static str| {
        let (c, address) = (c.clone(), app.address.clone());
        async move { get(&c, &format!("{address}/account/orders?{q}")).await.body }
    };
    let dec1 = monitor("from=2026-12-01&to=2026-12-01").await;
    assert!(dec1.contains(&late.billnumber) && !dec1.contains(&evening.billnumber), "{dec1}");
    assert!(dec1.contains("<th>Date (Europe/Moscow)</th>"));
    assert!(dec1.contains("<td>2026-12-01 01:30:00 +03:00</td>"), "{dec1}");
    let nov30 = monitor("from=2026-11-30&to=2026-11-30").await;
    assert!(nov30.contains(&evening.billnumber) && !nov30.contains(&late.billnumber), "{nov30}");
    assert!(nov30.contains("<td>2026-11-30 23:59:00 +03:00</td>"), "{nov30}");
    // The export keeps UTC.
    let csv = monitor_csv(&c, &app.address, "from=2026-12-01&to=2026-12-01").await;
    assert!(csv.contains("2026-11-30T22:30:00Z"), "{csv}");
    // The details page shows local time too.
    let details = get(&c, &format!("{}/account/orders/{}", app.address, late.billnumber)).await.body;
    assert!(details.contains("<dt>Created</dt><dd>2026-12-01 01:30:00 +03:00</dd>"), "{details}");
    assert!(details.contains("<th>Time (Europe/Moscow)</th>"));

    // The same orders in a UTC enterprise fall on 30 November.
    set_zone(&app, &m, "UTC").await;
    let utc = get(&c, &format!("{}/account?{period}", app.address)).await.body;
    let bars = mark_titles(svgs(&utc)[0]);
    assert!(bars.contains(&"2026-11-30: 107.00 RUB, 2 orders".to_owned()), "{bars:?}");
    let nov30 = monitor("from=2026-11-30&to=2026-11-30").await;
    assert!(nov30.contains(&late.billnumber) && nov30.contains(&evening.billnumber));
}

async fn monitor_csv(c: &reqwest::Client, address: &str, query: &str) -> String {
    get(c, &format!("{address}/account/orders.csv?{query}")).await.body
}
