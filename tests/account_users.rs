//! The account's users over HTTP: per-merchant roles, operators' amount limits, the users page
//! (create, edit, reset password, lock, unlock, delete), TOTP two-factor sign-in (set up, the
//! code step, replay, lockout, required by a manager), and what the order page shows of who did
//! what (operations, timeline, operations CSV), sorting by amount and the means filter.

mod common;

use common::account::{
    PASSWORD, add_account_user, add_sibling_merchant, by_id, client, get, hidden, paid_order, post, sign_in, signed_in,
};
use common::{add_merchant, spawn_app, user_id};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::models::Order;
use kassa::db::schema::{account_sessions, audit_events};
use kassa::web::totp;

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn reload(app: &common::TestApp, order: &Order) -> Order {
    let id = order.id.clone();
    app.gateway.store.read(move |c| Order::find(c, &id).map_err(StoreError::from)).await.unwrap()
}

/// Audit rows of an action: (actor, detail).
async fn audits(app: &common::TestApp, action: &'static str) -> Vec<(String, String)> {
    app.gateway
        .store
        .read(move |c| {
            audit_events::table
                .filter(audit_events::action.eq(action))
                .order(audit_events::created_at.asc())
                .select((audit_events::actor, audit_events::detail))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

/// A manager-made user: the access fields of the form plus the CSRF token.
async fn save_user(c: &reqwest::Client, url: &str, csrf: &str, fields: &[(&str, &str)]) -> common::account::Page {
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    post(c, url, &all).await
}

#[tokio::test]
async fn roles_per_merchant_limit_what_a_user_sees_and_does() {
    let app = spawn_app().await;
    let a = add_merchant(&app.gateway, 3001, |_| {}).await;
    let b = add_sibling_merchant(&app, &a, 3002).await;
    let c3 = add_sibling_merchant(&app, &a, 3003).await;
    add_account_user(&app, &a, "boss", "manager").await;
    let on_a = paid_order(&app, &a, "a-1", "10.00", true).await;
    let on_b = paid_order(&app, &b, "b-1", "20.00", true).await;
    let on_c = paid_order(&app, &c3, "c-1", "30.00", true).await;

    // The manager makes a user who operates merchant A, views merchant B and has no role on C.
    let boss = signed_in(&app, "boss").await;
    let users_page = get(&boss, &format!("{}/account/users", app.address)).await;
    assert_eq!(users_page.status, 200);
    let csrf = hidden(&users_page.body, "csrf").unwrap();
    let created = save_user(
        &boss,
        &format!("{}/account/users", app.address),
        &csrf,
        &[("login", "mixed"), ("scope", "listed"), ("grant_3001", "operator"), ("grant_3002", "viewer")],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let temporary = by_id(&created.body, "temporary-password").unwrap();
    // First sign-in: a new password before anything else.
    let u = client();
    let first = sign_in(&u, &app.address, "mixed", &temporary).await;
    assert_eq!(first.location.as_deref(), Some("/account/password"));
    let blocked = get(&u, &format!("{}/account/orders", app.address)).await;
    assert_eq!((blocked.status, blocked.location.as_deref()), (303, Some("/account/password")));
    let form = get(&u, &format!("{}/account/password", app.address)).await;
    assert!(form.body.contains("Your password was reset"));
    let changed = post(
        &u,
        &format!("{}/account/password", app.address),
        &[
            ("csrf", &hidden(&form.body, "csrf").unwrap()),
            ("current", &temporary),
            ("new", PASSWORD),
            ("repeat", PASSWORD),
        ],
    )
    .await;
    assert_eq!(changed.location.as_deref(), Some("/account"), "{}", changed.body);

    let dashboard = get(&u, &format!("{}/account", app.address)).await.body;
    assert!(dashboard.contains(&on_b.billnumber) && !dashboard.contains(&on_c.billnumber), "waiting list");
    let list = get(&u, &format!("{}/account/orders", app.address)).await.body;
    assert!(list.contains(&on_a.billnumber) && list.contains(&on_b.billnumber));
    assert!(!list.contains(&on_c.billnumber), "no role on merchant 3003");
    assert_eq!(get(&u, &format!("{}/account/orders/{}", app.address, on_c.billnumber)).await.status, 404);
    let csv = get(&u, &format!("{}/account/orders.csv", app.address)).await.body;
    assert!(!csv.contains(&on_c.billnumber) && csv.contains(&on_a.billnumber));
    assert!(!csv.contains(&on_c.billnumber));
    let ops = get(&u, &format!("{}/account/orders/{}/operations.csv", app.address, on_c.billnumber)).await;
    assert_eq!(ops.status, 404);

    // Operator on A: confirms. Viewer on B: no form, and a forged post is refused.
    let page_a = get(&u, &format!("{}/account/orders/{}", app.address, on_a.billnumber)).await.body;
    let nonce = hidden(&page_a, "nonce").expect("confirm form on A");
    let csrf_u = hidden(&page_a, "csrf").unwrap();
    let done = post(
        &u,
        &format!("{}/account/orders/{}/confirm", app.address, on_a.billnumber),
        &[("csrf", &csrf_u), ("nonce", &nonce), ("amount", "")],
    )
    .await;
    assert_eq!(done.status, 303);
    assert_eq!(reload(&app, &on_a).await.state, "Approved");
    let page_b = get(&u, &format!("{}/account/orders/{}", app.address, on_b.billnumber)).await.body;
    assert!(hidden(&page_b, "nonce").is_none());
    let forged = post(
        &u,
        &format!("{}/account/orders/{}/confirm", app.address, on_b.billnumber),
        &[("csrf", &csrf_u), ("nonce", &nonce), ("amount", "")],
    )
    .await;
    assert_eq!(forged.status, 403);
    assert_eq!(reload(&app, &on_b).await.state, "Delayed");
    // Not a manager of every merchant: no users page.
    assert_eq!(get(&u, &format!("{}/account/users", app.address)).await.status, 403);
    // The settlement report holds A's settled payment, not C's.
    let settled_a = paid_order(&app, &a, "a-2", "11.00", false).await;
    let settled_c = paid_order(&app, &c3, "c-2", "31.00", false).await;
    app.gateway.settle().await.unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let report = get(&u, &format!("{}/account/settlement.csv?date={today}", app.address)).await.body;
    assert!(report.contains(&format!("{}.1", settled_a.billnumber)), "{report}");
    assert!(!report.contains(&settled_c.billnumber), "no role on merchant 3003: {report}");
    let totals = get(&u, &format!("{}/account/settlement.csv?date={today}&totals=1", app.address)).await.body;
    assert!(totals.contains(",RUB,2,21.00,"), "A's confirmed 10.00 and 11.00 only: {totals}");

    // Who did it: on the operation, in the timeline, in the operations CSV.
    let details = get(&boss, &format!("{}/account/orders/{}", app.address, on_a.billnumber)).await.body;
    assert!(details.contains("account:mixed"), "operation shows who confirmed");
    assert!(details.contains("account_user mixed") && details.contains("account.confirm: ok"), "timeline");
    let ops = get(&boss, &format!("{}/account/orders/{}/operations.csv", app.address, on_a.billnumber)).await.body;
    let mut lines = ops.split("\r\n").filter(|l| !l.is_empty());
    assert!(lines.next().unwrap().starts_with("operation,type,state,amount,currency,response_code"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{ops}");
    assert!(rows[0].starts_with(&format!("{}.1,payment,Success,10.00,RUB", on_a.billnumber)), "{}", rows[0]);
    assert!(rows[0].contains(",customer,"));
    assert!(rows[1].contains(",account:mixed,"), "{}", rows[1]);

    // The audit log has the creation with the access given, and no password.
    let created = audits(&app, "account.user_create").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, "boss");
    assert!(created[0].1.contains("3001: operator, 3002: viewer"), "{}", created[0].1);
    assert!(!created[0].1.contains(&temporary));
}

#[tokio::test]
async fn an_operators_limit_stops_larger_confirms_and_cancels() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3011, |_| {}).await;
    add_account_user(&app, &m, "boss", "manager").await;
    add_account_user(&app, &m, "clerk", "operator").await;
    let big = paid_order(&app, &m, "big", "500.00", true).await;
    let small = paid_order(&app, &m, "small", "50.00", true).await;

    let boss = signed_in(&app, "boss").await;
    let id = user_id(&app, "clerk").await;
    let edit_url = format!("{}/account/users/{id}", app.address);
    let edit = get(&boss, &edit_url).await;
    assert_eq!(edit.status, 200);
    let csrf = hidden(&edit.body, "csrf").unwrap();
    let bad = save_user(
        &boss,
        &edit_url,
        &csrf,
        &[("scope", "all"), ("role", "operator"), ("limit", "abc"), ("limit_currency", "RUB")],
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("The amount limit is not a valid amount."));
    let saved = save_user(
        &boss,
        &edit_url,
        &csrf,
        &[("scope", "all"), ("role", "operator"), ("limit", "100.00"), ("limit_currency", "RUB")],
    )
    .await;
    assert_eq!(saved.location.as_deref(), Some(format!("/account/users/{id}?done=saved").as_str()));
    let update = audits(&app, "account.user_update").await;
    assert!(update[0].1.contains(r#""limit":["","100.00 RUB"]"#), "{}", update[0].1);

    let clerk = signed_in(&app, "clerk").await;
    let page = get(&clerk, &format!("{}/account/orders/{}", app.address, big.billnumber)).await.body;
    let (csrf, nonce) = (hidden(&page, "csrf").unwrap(), hidden(&page, "nonce").unwrap());
    let refused = post(
        &clerk,
        &format!("{}/account/orders/{}/confirm", app.address, big.billnumber),
        &[("csrf", &csrf), ("nonce", &nonce), ("amount", "")],
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("beyond your limit of 100.00 RUB"), "{}", refused.body);
    assert_eq!(reload(&app, &big).await.state, "Delayed");
    // A partial confirm within the limit is allowed.
    let partial = post(
        &clerk,
        &format!("{}/account/orders/{}/confirm", app.address, big.billnumber),
        &[("csrf", &csrf), ("nonce", &nonce), ("amount", "80.00")],
    )
    .await;
    assert_eq!(partial.status, 303);
    assert_eq!(reload(&app, &big).await.confirmed, 8_000);
    // The cancel plan of the rest (80.00) is within; of the small order, too; the default
    // cancel of a larger order is refused before the plan is shown.
    let plan = get(&clerk, &format!("{}/account/orders/{}/cancel?amount=", app.address, small.billnumber)).await;
    assert_eq!(plan.status, 200);
    let huge = paid_order(&app, &m, "huge", "1000.00", false).await;
    let plan = get(&clerk, &format!("{}/account/orders/{}/cancel", app.address, huge.billnumber)).await;
    assert_eq!(plan.status, 403);
    assert!(plan.body.contains("Ask a manager"));
    // The manager has no limit.
    let page = get(&boss, &format!("{}/account/orders/{}/cancel", app.address, huge.billnumber)).await;
    assert_eq!(page.status, 200);
}

#[tokio::test]
async fn managers_lock_unlock_reset_and_delete_users_but_not_themselves() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3021, |_| {}).await;
    let other = add_merchant(&app.gateway, 3022, |_| {}).await;
    add_account_user(&app, &m, "boss", "manager").await;
    add_account_user(&app, &m, "worker", "operator").await;
    add_account_user(&app, &other, "stranger", "viewer").await;
    let boss = signed_in(&app, "boss").await;
    let worker = signed_in(&app, "worker").await;
    let id = user_id(&app, "worker").await;
    let me = user_id(&app, "boss").await;
    let stranger = user_id(&app, "stranger").await;
    let csrf = hidden(&get(&boss, &format!("{}/account/users", app.address)).await.body, "csrf").unwrap();
    let act = |who: &str, what: &str| format!("{}/account/users/{who}/{what}", app.address);

    // Not an operator's business, and not another enterprise's user.
    let csrf_w = hidden(&get(&worker, &format!("{}/account/orders", app.address)).await.body, "csrf").unwrap();
    assert_eq!(post(&worker, &act(&me, "lock"), &[("csrf", &csrf_w)]).await.status, 403);
    assert_eq!(get(&boss, &format!("{}/account/users/{stranger}", app.address)).await.status, 404);
    assert_eq!(post(&boss, &act(&stranger, "lock"), &[("csrf", &csrf)]).await.status, 404);
    assert_eq!(post(&boss, &act(&id, "lock"), &[("csrf", "forged")]).await.status, 403);
    let myself = post(&boss, &act(&me, "lock"), &[("csrf", &csrf)]).await;
    assert_eq!(myself.status, 400);
    assert!(myself.body.contains("your own user"));

    // Lock: the user's session ends and sign-in is refused; unlock: back in.
    assert_eq!(post(&boss, &act(&id, "lock"), &[("csrf", &csrf)]).await.status, 303);
    let gone = get(&worker, &format!("{}/account/orders", app.address)).await;
    assert_eq!(gone.location.as_deref(), Some("/account/login"));
    assert_eq!(sign_in(&client(), &app.address, "worker", PASSWORD).await.status, 401);
    let edit = get(&boss, &format!("{}/account/users/{id}", app.address)).await;
    assert_eq!(by_id(&edit.body, "user-state").as_deref(), Some("locked"));
    assert_eq!(post(&boss, &act(&id, "unlock"), &[("csrf", &csrf)]).await.status, 303);
    let _ = signed_in(&app, "worker").await;

    // Reset: a temporary password shown once, the old one stops working, sessions end.
    let reset = post(&boss, &act(&id, "reset-password"), &[("csrf", &csrf)]).await;
    assert_eq!(reset.status, 200);
    let temporary = by_id(&reset.body, "temporary-password").unwrap();
    assert!(temporary.len() >= 12);
    assert_eq!(sign_in(&client(), &app.address, "worker", PASSWORD).await.status, 401);
    let again = sign_in(&client(), &app.address, "worker", &temporary).await;
    assert_eq!(again.location.as_deref(), Some("/account/password"));

    // Delete: gone from the list, no sign-in, no sessions.
    assert_eq!(
        post(&boss, &act(&id, "delete"), &[("csrf", &csrf)]).await.location.as_deref(),
        Some("/account/users?done=deleted")
    );
    let list = get(&boss, &format!("{}/account/users", app.address)).await.body;
    assert!(!list.contains(">worker<"));
    assert_eq!(sign_in(&client(), &app.address, "worker", &temporary).await.status, 401);
    assert_eq!(get(&boss, &format!("{}/account/users/{id}", app.address)).await.status, 404);
    let uid = id.clone();
    let sessions: i64 = app
        .gateway
        .store
        .read(move |c| {
            account_sessions::table
                .filter(account_sessions::user_id.eq(uid))
                .count()
                .get_result(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    for action in ["account.user_lock", "account.user_unlock", "account.user_reset_password", "account.user_delete"] {
        let rows = audits(&app, action).await;
        assert_eq!(rows.len(), 1, "{action}");
        assert_eq!(rows[0].0, "boss");
        assert!(rows[0].1.contains(r#""user":"worker""#));
    }
    // The duplicate login is refused with a sentence.
    let dup = save_user(
        &boss,
        &format!("{}/account/users", app.address),
        &csrf,
        &[("login", "boss"), ("scope", "all"), ("role", "viewer")],
    )
    .await;
    assert_eq!(dup.status, 400);
    assert!(dup.body.contains("This login is taken."));
}

/// Turns TOTP on for the signed-in client; answers the secret.
async fn enable_totp(app: &common::TestApp, c: &reqwest::Client) -> String {
    let setup = get(c, &format!("{}/account/totp", app.address)).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(setup.body.contains("<svg"), "QR code rendered on the server");
    let secret = by_id(&setup.body, "totp-secret").unwrap();
    let csrf = hidden(&setup.body, "csrf").unwrap();
    let wrong = post(c, &format!("{}/account/totp", app.address), &[("csrf", &csrf), ("code", "000000")]).await;
    // (A one-in-a-million chance that 000000 is right; then the next assert says so.)
    assert_eq!(wrong.status, 400);
    let code = totp::code_at(&secret, unix_now()).unwrap();
    let on = post(c, &format!("{}/account/totp", app.address), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(on.status, 200, "{}", on.body);
    assert!(on.body.contains("Two-factor sign-in is on."));
    secret
}

#[tokio::test]
async fn totp_sign_in_asks_for_a_code_once_and_refuses_replays() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3031, |_| {}).await;
    add_account_user(&app, &m, "careful", "viewer").await;
    let c = signed_in(&app, "careful").await;
    let secret = enable_totp(&app, &c).await;

    let u = client();
    let step = sign_in(&u, &app.address, "careful", PASSWORD).await;
    assert_eq!(step.location.as_deref(), Some("/account/login/totp"));
    // Half signed in: nothing of the account yet.
    let blocked = get(&u, &format!("{}/account/orders", app.address)).await;
    assert_eq!(blocked.location.as_deref(), Some("/account/login/totp"));
    let form = get(&u, &format!("{}/account/login/totp", app.address)).await;
    let csrf = hidden(&form.body, "csrf").unwrap();
    let wrong = post(&u, &format!("{}/account/login/totp", app.address), &[("csrf", &csrf), ("code", "12345")]).await;
    assert_eq!(wrong.status, 401);
    // The next step's code: inside the window, and newer than the code used to turn TOTP on.
    let code = totp::code_at(&secret, unix_now() + totp::STEP_SECS).unwrap();
    let ok = post(&u, &format!("{}/account/login/totp", app.address), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(ok.location.as_deref(), Some("/account"));
    assert_eq!(get(&u, &format!("{}/account/orders", app.address)).await.status, 200);

    // The same code again, in another sign-in: refused.
    let v = client();
    sign_in(&v, &app.address, "careful", PASSWORD).await;
    let form = get(&v, &format!("{}/account/login/totp", app.address)).await;
    let csrf = hidden(&form.body, "csrf").unwrap();
    let replay = post(&v, &format!("{}/account/login/totp", app.address), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(replay.status, 401);

    // Ten wrong codes lock the login: the half-open session ends and the password alone is
    // refused too.
    for _ in 0..9 {
        let r = post(&v, &format!("{}/account/login/totp", app.address), &[("csrf", &csrf), ("code", "99999x")]).await;
        assert_eq!(r.status, 401);
    }
    let locked = post(&v, &format!("{}/account/login/totp", app.address), &[("csrf", &csrf), ("code", "000001")]).await;
    assert_eq!(locked.location.as_deref(), Some("/account/login"));
    assert_eq!(sign_in(&client(), &app.address, "careful", PASSWORD).await.status, 401);
    assert!(!audits(&app, "account.totp_enable").await.is_empty());
}

#[tokio::test]
async fn a_manager_can_require_totp_for_the_enterprise() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3041, |_| {}).await;
    add_account_user(&app, &m, "boss", "manager").await;
    add_account_user(&app, &m, "plain", "viewer").await;
    let boss = signed_in(&app, "boss").await;
    let csrf = hidden(&get(&boss, &format!("{}/account/users", app.address)).await.body, "csrf").unwrap();
    let r =
        post(&boss, &format!("{}/account/users/require-totp", app.address), &[("csrf", &csrf), ("require", "1")]).await;
    assert_eq!(r.location.as_deref(), Some("/account/users?done=required"));
    assert!(audits(&app, "account.require_totp").await[0].1.contains("[false,true]"));

    // A user without TOTP must set it up before anything else.
    let u = client();
    let first = sign_in(&u, &app.address, "plain", PASSWORD).await;
    assert_eq!(first.location.as_deref(), Some("/account/totp"));
    assert_eq!(get(&u, &format!("{}/account/orders", app.address)).await.location.as_deref(), Some("/account/totp"));
    let setup = get(&u, &format!("{}/account/totp", app.address)).await;
    assert!(setup.body.contains("Your enterprise requires two-factor sign-in."));
    let secret = by_id(&setup.body, "totp-secret").unwrap();
    let code = totp::code_at(&secret, unix_now()).unwrap();
    let csrf = hidden(&setup.body, "csrf").unwrap();
    let done = post(&u, &format!("{}/account/totp", app.address), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(done.location.as_deref(), Some("/account"));
    assert_eq!(get(&u, &format!("{}/account/orders", app.address)).await.status, 200);
    // Required: it cannot be turned off.
    let page = get(&u, &format!("{}/account/totp", app.address)).await.body;
    assert!(page.contains("cannot be turned off"));
    let off = post(&u, &format!("{}/account/totp/disable", app.address), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!(off.status, 400);

    // The manager resets a lost authenticator: the next sign-in enrols again.
    let id = user_id(&app, "plain").await;
    let reset = post(
        &boss,
        &format!("{}/account/users/{id}/reset-totp", app.address),
        &[("csrf", &hidden(&get(&boss, &format!("{}/account/users", app.address)).await.body, "csrf").unwrap())],
    )
    .await;
    assert_eq!(reset.status, 303);
    let again = sign_in(&client(), &app.address, "plain", PASSWORD).await;
    assert_eq!(again.location.as_deref(), Some("/account/totp"));
}

#[tokio::test]
async fn sorting_by_amount_pages_by_keyset_and_the_means_filter() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3051, |m| m.payment_means = "card,wallet".into()).await;
    add_account_user(&app, &m, "viewer", "viewer").await;
    let mut expected = Vec::new();
    for i in 0..57 {
        // Some equal amounts, so the id breaks ties across page boundaries.
        let amount = format!("{}.00", 10 + (i * 7) % 23);
        let o = paid_order(&app, &m, &format!("s-{i}"), &amount, false).await;
        expected.push((o.amount, o.id.0.clone(), o.billnumber.clone()));
    }
    let declined = {
        let o = app.gateway.create_order(common::request(&m, "declined", "5.00")).await.unwrap();
        let _ = app
            .gateway
            .pay(&o.id, kassa::gateway::PayRequest { card: common::card("4000000000000002"), client_ip: None })
            .await;
        reload(&app, &o).await
    };
    let c = signed_in(&app, "viewer").await;

    // Largest first, ties by id descending: the pages put together are exactly that order.
    expected.push((declined.amount, declined.id.0.clone(), declined.billnumber.clone()));
    expected.sort_by(|x, y| (y.0, &y.1).cmp(&(x.0, &x.1)));
    let mut seen = Vec::new();
    let mut url = format!("{}/account/orders?sort=amount", app.address);
    for _ in 0..10 {
        let body = get(&c, &url).await.body;
        seen.extend(body.match_indices("/account/orders/").filter_map(|(i, _)| {
            let rest = &body[i + "/account/orders/".len()..];
            let end = rest.find('"')?;
            rest[..end].bytes().all(|b| b.is_ascii_digit()).then(|| rest[..end].to_owned())
        }));
        match body.find("rel=\"next\" href=\"") {
            Some(i) => {
                let rest = &body[i + "rel=\"next\" href=\"".len()..];
                url = format!(
                    "{}{}",
                    app.address,
                    rest[..rest.find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&")
                );
            }
            None => break,
        }
    }
    let want: Vec<String> = expected.iter().map(|e| e.2.clone()).collect();
    assert_eq!(seen, want);

    // The response code column shows the decline; the means filter finds cards by brand.
    let view = get(&c, &format!("{}/account/orders?billnumber={}", app.address, declined.billnumber)).await.body;
    let code = app.gateway.store.read({
        let id = declined.id.clone();
        move |c| {
            kassa::db::schema::operations::table
                .filter(kassa::db::schema::operations::order_id.eq(id))
                .select(kassa::db::schema::operations::response_code)
                .first::<Option<String>>(c)
                .map_err(StoreError::from)
        }
    });
    let code = code.await.unwrap().expect("a declined payment has a response code");
    assert!(view.contains(&format!("<td>{code}</td>")), "{view}");
    let visa = get(&c, &format!("{}/account/orders?means=VISA&sort=amount", app.address)).await.body;
    assert!(visa.contains(&expected[0].2));
    let wallets = get(&c, &format!("{}/account/orders?means=wallet", app.address)).await.body;
    assert!(wallets.contains("No orders match."));
    let bad = get(&c, &format!("{}/account/orders?sort=sideways", app.address)).await;
    assert_eq!(bad.status, 400);
    let bad = get(&c, &format!("{}/account/orders?sort=amount&after=notanumber_x", app.address)).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn the_sweep_removes_ended_sessions_and_stale_failure_counts_only() {
    use kassa::db::schema::{account_nonces, account_sign_ins};
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 3061, |_| {}).await;
    add_account_user(&app, &m, "sleepy", "viewer").await;
    let live = signed_in(&app, "sleepy").await;
    let _ended = signed_in(&app, "sleepy").await;
    assert_eq!(sign_in(&client(), &app.address, "nobody-here", "wrong-password-1").await.status, 401);
    assert_eq!(sign_in(&client(), &app.address, "someone-else", "wrong-password-1").await.status, 401);
    // Age one session past the idle end, one failure count past a day, and a nonce.
    let now = kassa::db::now();
    app.gateway
        .store
        .write(move |c| {
            let old: String = account_sessions::table
                .select(account_sessions::id_hash)
                .order(account_sessions::created_at.desc())
                .first(c)?;
            diesel::update(account_sessions::table.find(old))
                .set(account_sessions::last_seen_at.eq(now - time::Duration::minutes(16)))
                .execute(c)?;
            diesel::update(account_sign_ins::table.find("nobody-here"))
                .set(account_sign_ins::updated_at.eq(now - time::Duration::hours(25)))
                .execute(c)?;
            diesel::insert_into(account_nonces::table)
                .values((
                    account_nonces::nonce.eq("n".repeat(64)),
                    account_nonces::session_hash.eq("x"),
                    account_nonces::created_at.eq(now - time::Duration::hours(13)),
                ))
                .execute(c)?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    let swept = kassa::web::account::sweep(&app.gateway.store).await.unwrap();
    assert_eq!(swept, kassa::web::account::Swept { sessions: 1, nonces: 1, sign_ins: 1 });
    assert_eq!(get(&live, &format!("{}/account/orders", app.address)).await.status, 200);
    let left: Vec<String> = app
        .gateway
        .store
        .read(|c| account_sign_ins::table.select(account_sign_ins::login).load(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(left, vec!["someone-else".to_owned()]);
    assert_eq!(kassa::web::account::sweep(&app.gateway.store).await.unwrap(), Default::default());
}
