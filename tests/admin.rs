//! The admin area over HTTP: sign-in with mandatory TOTP, who may not enter, enterprises (create,
//! edit, search, suspend), merchant settings and what each changes in the checkout, secret word
//! rotation, the audit log (entries, search, CSV, append-only), `/healthz` and `/metrics`.

mod common;

use common::account::{PASSWORD, add_account_user, by_id, client, get, hidden, post, sign_in as account_sign_in};
use common::admin::*;
use common::checkout::{order_fields, with};
use common::{add_merchant, spawn_app};
use diesel::prelude::*;
use kassa::assist::checkvalue::{self, RequestMode, Variant};
use kassa::db::StoreError;
use kassa::db::models::Merchant;
use kassa::db::schema::audit_events;
use kassa::web::totp;

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

async fn merchant(app: &common::TestApp, number: i64) -> Merchant {
    app.gateway.merchant_by_number(number).await.unwrap()
}

#[tokio::test]
async fn admin_sign_in_requires_totp_enrolment_then_a_code_every_time() {
    let app = spawn_app().await;
    add_admin(&app, "root").await;
    let c = client();
    // Without a session every page leads to the sign-in form.
    let p = get(&c, &format!("{}/admin/enterprises", app.address)).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")));
    // A wrong password is refused with the shared text.
    let p = sign_in(&c, &app.address, "root", "wrong-password-here").await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("Sign-in failed"), "{}", p.body);

    // The first sign-in must enrol TOTP before anything else opens.
    let p = sign_in(&c, &app.address, "root", ADMIN_PASSWORD).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/totp")), "{}", p.body);
    let p = get(&c, &format!("{}/admin/enterprises", app.address)).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/totp")));
    let page = get(&c, &format!("{}/admin/totp", app.address)).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let wrong = post(&c, &format!("{}/admin/totp", app.address), &[("csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("The code is wrong"), "{}", wrong.body);
    let secret = enrol(&c, &app.address).await;
    let p = get(&c, &format!("{}/admin", app.address)).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("Enterprises"));
    assert_eq!(audits(&app, "admin.totp_enable").await.len(), 1);

    // Sign out; the next sign-in asks for a code (a replayed one is refused).
    let csrf = hidden(&p.body, "csrf").unwrap();
    let out = post(&c, &format!("{}/admin/logout", app.address), &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/admin/login")));
    assert_eq!(get(&c, &format!("{}/admin", app.address)).await.status, 303);
    let p = sign_in(&c, &app.address, "root", ADMIN_PASSWORD).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login/totp")));
    let step = get(&c, &format!("{}/admin/login/totp", app.address)).await;
    let csrf = hidden(&step.body, "csrf").unwrap();
    let used = totp::code_at(&secret, unix_now()).unwrap();
    let replay = post(&c, &format!("{}/admin/login/totp", app.address), &[("csrf", &csrf), ("code", &used)]).await;
    let next = totp::code_at(&secret, unix_now() + 30).unwrap();
    if next != used {
        assert_eq!(replay.status, 401, "the enrolment's code is used up");
        let ok = post(&c, &format!("{}/admin/login/totp", app.address), &[("csrf", &csrf), ("code", &next)]).await;
        assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/admin")), "{}", ok.body);
    }
    assert_eq!(get(&c, &format!("{}/admin/system", app.address)).await.status, 200);
    assert_eq!(audits(&app, "admin.sign_in").await.len(), 1);

    // An admin is not a merchant user: the account refuses the same credentials.
    let other = client();
    let p = account_sign_in(&other, &app.address, "root", ADMIN_PASSWORD).await;
    assert_eq!(p.status, 401);
}

#[tokio::test]
async fn merchant_users_cannot_reach_the_admin_area_and_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 5001, |_| {}).await;
    add_account_user(&app, &m, "boss", "manager").await;
    // A merchant user's password does not open the admin area.
    let c = client();
    let p = sign_in(&c, &app.address, "boss", PASSWORD).await;
    assert_eq!(p.status, 401);
    // Nor does the merchant account's session.
    let p = account_sign_in(&c, &app.address, "boss", PASSWORD).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/account")));
    for path in ["/admin", "/admin/enterprises", "/admin/audit", "/admin/system", "/admin/audit.csv"] {
        let p = get(&c, &format!("{}{path}", app.address)).await;
        assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")), "{path}");
    }
    let p = post(&c, &format!("{}/admin/enterprises", app.address), &[("name", "Evil"), ("time_zone", "UTC")]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/login")));

    // A signed-in admin's form without its token is refused and changes nothing.
    let (admin, _) = admin_client(&app, "root").await;
    let p = post(&admin, &format!("{}/admin/enterprises", app.address), &enterprise_fields("forged", &[])).await;
    assert_eq!(p.status, 403);
    let list = get(&admin, &format!("{}/admin/enterprises?q=acme", app.address)).await;
    assert!(!list.body.contains("Acme Trading"), "{}", list.body);
    // The admin's session does not open the merchant account.
    let p = get(&admin, &format!("{}/account", app.address)).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/account/login")));
}

#[tokio::test]
async fn enterprises_are_created_searched_edited_and_validated_beside_each_field() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let url = format!("{}/admin/enterprises", app.address);

    let bad = post(
        &c,
        &url,
        &enterprise_fields(
            &csrf,
            &[
                ("name", " "),
                ("time_zone", "Mars/Olympus"),
                ("contact_email", "not-an-email"),
                ("contact_phone", "call me"),
            ],
        ),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(by_id(&bad.body, "error-name").as_deref(), Some("Required."));
    assert!(by_id(&bad.body, "error-time_zone").unwrap().contains("tz database"), "{}", bad.body);
    assert!(by_id(&bad.body, "error-contact_email").is_some());
    assert!(by_id(&bad.body, "error-contact_phone").is_some());
    assert!(bad.body.contains("value=\"Mars/Olympus\""), "the form keeps what was typed");

    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    create_enterprise(&c, &app.address, &csrf, "Bolt Retail").await;
    let found = get(&c, &format!("{url}?q=acme")).await;
    assert!(found.body.contains("Acme Trading") && !found.body.contains("Bolt Retail"), "{}", found.body);
    let by_tax = get(&c, &format!("{url}?q=7701234567")).await;
    assert!(by_tax.body.contains("Acme Trading") && by_tax.body.contains("Bolt Retail"));
    let none = get(&c, &format!("{url}?q=zzz%25")).await;
    assert!(none.body.contains("No enterprise matches"));

    let saved = post(
        &c,
        &format!("{url}/{id}"),
        &enterprise_fields(&csrf, &[("contact_email", "ops@acme.example"), ("time_zone", "Asia/Yekaterinburg")]),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = get(&c, &format!("{url}/{id}")).await;
    assert!(page.body.contains("value=\"ops@acme.example\"") && page.body.contains("Asia/Yekaterinburg"));

    let created = audits(&app, "admin.enterprise_create").await;
    assert_eq!(created.len(), 2);
    let updated = audits(&app, "admin.enterprise_update").await;
    assert_eq!(updated.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&updated[0].1).unwrap();
    assert_eq!(updated[0].0, "root");
    assert_eq!(detail["enterprise"], id.as_str());
    assert_eq!(detail["changes"]["contact_email"]["old"], "anna@acme.example");
    assert_eq!(detail["changes"]["contact_email"]["new"], "ops@acme.example");
    assert_eq!(detail["changes"]["time_zone"]["old"], "Europe/Moscow");
    assert!(detail["changes"].get("name").is_none(), "unchanged fields are not listed");
}

#[tokio::test]
async fn suspending_an_enterprise_stops_its_payments_with_a_clear_page_and_resuming_restores_them() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    create_merchant(&c, &app.address, &csrf, &id, "7001").await;
    let m = merchant(&app, 7001).await;
    // An order opened before the suspension.
    let before = app.open(&order_fields(&m, "before", "10.00")).await;

    let p = post(&c, &format!("{}/admin/enterprises/{id}/suspend", app.address), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    let page = get(&c, &format!("{}/admin/enterprises/{id}", app.address)).await;
    assert!(page.body.contains("id=\"suspended\""));

    let refused = app.post("/pay/order.cfm", &order_fields(&m, "during", "10.00")).await;
    assert_ne!(refused.status, 303);
    assert!(refused.body.contains("does not accept payments now"), "{}", refused.body);
    let charged = app.charge(&before, "4111111111111111").await;
    assert!(charged.body.contains("does not accept payments now"), "{} {}", charged.status, charged.body);
    let order = &common::checkout::attempts(&app, &m, "before").await[0];
    assert_eq!(order.state, "In Process", "nothing was authorized");
    // Nothing else changed: the merchant is still active and keeps its settings.
    assert!(merchant(&app, 7001).await.active);

    let p = post(&c, &format!("{}/admin/enterprises/{id}/resume", app.address), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    let path = app.open(&order_fields(&m, "after", "10.00")).await;
    let paid = app.charge(&path, "4111111111111111").await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(audits(&app, "admin.enterprise_suspend").await.len(), 1);
    assert_eq!(audits(&app, "admin.enterprise_resume").await.len(), 1);
}

#[tokio::test]
async fn merchant_settings_are_validated_and_change_what_the_checkout_does() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, _) = create_merchant(&c, &app.address, &csrf, &id, "7002").await;
    // A taken Merchant_ID is refused beside its field.
    let dup = post(
        &c,
        &format!("{}/admin/enterprises/{id}/merchants", app.address),
        &[("csrf", &csrf), ("number", "7002"), ("name", "Again")],
    )
    .await;
    assert_eq!(dup.status, 400);
    assert!(by_id(&dup.body, "error-number").unwrap().contains("Merchant_ID"));

    // Every bad value gets its own message; nothing is saved.
    let bad = save_settings(
        &c,
        &app.address,
        &path,
        &[
            ("means_card", None),
            ("currencies", Some("RUB,XYZ")),
            ("payment_currency", Some("ABC")),
            ("payment_timeout_minutes", Some("0")),
            ("confirm_window_hours", Some("many")),
            ("url_return_ok", Some("javascript:alert(1)")),
            ("notification_url", Some("shop.example/notify")),
            ("tech_email", Some("nobody")),
            ("frame_ancestors", Some("https://shop.example/path")),
            ("checkvalue_mode", Some("sometimes")),
        ],
    )
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    for f in [
        "means",
        "currencies",
        "payment_currency",
        "payment_timeout_minutes",
        "confirm_window_hours",
        "url_return_ok",
        "notification_url",
        "tech_email",
        "frame_ancestors",
        "checkvalue_mode",
    ] {
        assert!(by_id(&bad.body, &format!("error-{f}")).is_some(), "no message beside {f}: {}", bad.body);
    }
    assert!(merchant(&app, 7002).await.accepts_means("card"));

    // Card off, wallet on: the checkout offers no card form.
    let p = save_settings(&c, &app.address, &path, &[("means_card", None), ("means_wallet", Some("on"))]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let m = merchant(&app, 7002).await;
    assert_eq!(m.payment_means, "wallet");
    let page_path = app.open(&order_fields(&m, "w-1", "10.00")).await;
    let page = app.get(&page_path).await;
    assert!(!page.body.contains("name=\"number\"") && !page.body.contains("method=card"), "{}", page.body);
    let card = app.get(&format!("{page_path}?method=card")).await;
    assert!(!card.body.contains("name=\"number\""), "{}", card.body);

    // Only USD and EUR: an order in roubles is refused at the entry.
    let p =
        save_settings(&c, &app.address, &path, &[("means_card", Some("on")), ("currencies", Some("usd, EUR"))]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(merchant(&app, 7002).await.currencies, "USD,EUR");
    let refused = app.post("/pay/order.cfm", &order_fields(&m, "rub-1", "10.00")).await;
    assert_ne!(refused.status, 303);
    assert!(common::checkout::attempts(&app, &m, "rub-1").await.is_empty());

    // Two-stage off: a Delay=1 request is refused; the timeout and frame ancestors apply.
    let p = save_settings(
        &c,
        &app.address,
        &path,
        &[
            ("currencies", Some("RUB")),
            ("two_stage_allowed", None),
            ("payment_timeout_minutes", Some("5")),
            ("frame_ancestors", Some("https://shop.example")),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let m = merchant(&app, 7002).await;
    assert_eq!((m.two_stage_allowed, m.payment_timeout_secs), (false, 300));
    let delayed = app.post("/pay/order.cfm", &with(order_fields(&m, "d-0", "10.00"), "Delay", "1")).await;
    assert_ne!(delayed.status, 303, "two-stage is off");
    let page_path = app.open(&order_fields(&m, "d-1", "10.00")).await;
    let order = &common::checkout::attempts(&app, &m, "d-1").await[0];
    assert_eq!((order.expires_at - order.created_at).whole_seconds(), 300);
    let page = app.get(&format!("{page_path}?method=card")).await;
    assert!(
        page.header("content-security-policy").contains("frame-ancestors https://shop.example"),
        "{:?}",
        page.headers
    );

    // Every change is in the audit log as old → new.
    let updates = audits(&app, "admin.merchant_update").await;
    assert_eq!(updates.len(), 3);
    let first: serde_json::Value = serde_json::from_str(&updates[0].1).unwrap();
    assert_eq!(first["changes"]["means_card"]["old"], "true");
    assert_eq!(first["changes"]["means_card"]["new"], "false");
    assert_eq!(first["merchant_number"], 7002);
    let last: serde_json::Value = serde_json::from_str(&updates[2].1).unwrap();
    assert_eq!(last["changes"]["payment_timeout_minutes"]["old"], "20");
    assert_eq!(last["changes"]["payment_timeout_minutes"]["new"], "5");
}

fn signed(fields: Vec<(String, String)>, secret: &str) -> Vec<(String, String)> {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let x = checkvalue::request_string(
        RequestMode::Delimited,
        [&get("Merchant_ID"), &get("OrderNumber"), &get("OrderAmount"), &get("OrderCurrency")],
        &[],
    );
    let value = checkvalue::compute(&checkvalue::md5_hex(secret), &x, Variant::B);
    with(fields, "Checkvalue", &value)
}

#[tokio::test]
async fn a_rotated_secret_word_signs_and_the_old_one_no_longer_does() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, old_secret) = create_merchant(&c, &app.address, &csrf, &id, "7003").await;
    let p = save_settings(&c, &app.address, &path, &[("checkvalue_mode", Some("delimited"))]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let m = merchant(&app, 7003).await;
    // The page never shows the secret again.
    let page = get(&c, &format!("{}{path}", app.address)).await;
    assert!(!page.body.contains(&old_secret));

    assert_eq!(app.post("/pay/order.cfm", &order_fields(&m, "n-0", "10.00")).await.status, 400, "unsigned");
    assert_eq!(app.post("/pay/order.cfm", &signed(order_fields(&m, "n-1", "10.00"), &old_secret)).await.status, 303);

    let rotated = post(&c, &format!("{}{path}/secret", app.address), &[("csrf", &csrf), ("kind", "secret_word")]).await;
    assert_eq!(rotated.status, 200);
    let new_secret = by_id(&rotated.body, "shown-secret").unwrap();
    assert_ne!(new_secret, old_secret);
    let old = app.post("/pay/order.cfm", &signed(order_fields(&m, "n-2", "10.00"), &old_secret)).await;
    assert_ne!(old.status, 303, "the old secret word fails");
    let new = app.post("/pay/order.cfm", &signed(order_fields(&m, "n-3", "10.00"), &new_secret)).await;
    assert_eq!(new.status, 303, "{}", new.body);

    // Webhook secrets: a new one signs beside the previous until that is retired.
    let w1 = post(&c, &format!("{}{path}/secret", app.address), &[("csrf", &csrf), ("kind", "webhook_secret")]).await;
    let w2 = post(&c, &format!("{}{path}/secret", app.address), &[("csrf", &csrf), ("kind", "webhook_secret")]).await;
    let (s1, s2) = (by_id(&w1.body, "shown-webhook-secret").unwrap(), by_id(&w2.body, "shown-webhook-secret").unwrap());
    assert_eq!(merchant(&app, 7003).await.webhook_secrets, Some(format!("{s2} {s1}")));
    let r = post(&c, &format!("{}{path}/secret", app.address), &[("csrf", &csrf), ("kind", "webhook_retire")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(merchant(&app, 7003).await.webhook_secrets, Some(s2.clone()));

    // The audit log says the secrets changed, never what they are.
    let all: Vec<String> = app
        .gateway
        .store
        .read(|c| audit_events::table.select(audit_events::detail).load(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(audits(&app, "admin.merchant_secret_rotate").await.len(), 1);
    assert_eq!(audits(&app, "admin.webhook_secret_rotate").await.len(), 2);
    for d in &all {
        for s in [&old_secret, &new_secret, &s1, &s2] {
            assert!(!d.contains(s.as_str()), "a secret in the audit log: {d}");
        }
    }
}

#[tokio::test]
async fn the_first_webhook_url_comes_with_its_secret_shown_once() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, _) = create_merchant(&c, &app.address, &csrf, &id, "7004").await;
    assert_eq!(merchant(&app, 7004).await.webhook_secrets, None);

    // Without a secret the worker would refuse every delivery: saving the URL makes one.
    let url = "https://shop.example/kassa-webhook";
    let p = save_settings(&c, &app.address, &path, &[("webhook_url", Some(url))]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let secret = by_id(&p.body, "shown-webhook-secret").expect("the new webhook secret is shown");
    let m = merchant(&app, 7004).await;
    assert_eq!((m.webhook_url.as_deref(), m.webhook_secrets.as_deref()), (Some(url), Some(secret.as_str())));

    // Saved again, or moved to another URL, it keeps the secret and never shows it again.
    let again = save_settings(&c, &app.address, &path, &[("webhook_url", Some("https://shop.example/v2"))]).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(merchant(&app, 7004).await.webhook_secrets, Some(secret.clone()));
    assert!(!get(&c, &format!("{}{path}", app.address)).await.body.contains(&secret));

    let made = audits(&app, "admin.webhook_secret_create").await;
    assert_eq!(made.len(), 1);
    assert!(!made[0].1.contains(&secret), "the secret is never in the audit log");

    // Several endpoints, space- or line-separated, a repeat kept once; a bad one or a sixth is
    // refused beside the field and nothing changes.
    let several = "https://shop.example/v2\nhttps://crm.example/hooks  https://shop.example/v2";
    let p = save_settings(&c, &app.address, &path, &[("webhook_url", Some(several))]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let m = merchant(&app, 7004).await;
    assert_eq!(m.webhook_endpoints(), ["https://shop.example/v2", "https://crm.example/hooks"]);
    let six = (1..=6).map(|n| format!("https://hooks{n}.example/")).collect::<Vec<_>>().join(" ");
    for bad in [six.as_str(), "https://shop.example/v2 ftp://files.example/"] {
        let p = save_settings(&c, &app.address, &path, &[("webhook_url", Some(bad))]).await;
        assert_eq!(p.status, 400, "{bad}");
        assert!(p.body.contains("id=\"error-webhook_url\""), "{}", p.body);
    }
    assert_eq!(merchant(&app, 7004).await.webhook_url, m.webhook_url);
}

#[tokio::test]
async fn the_audit_log_is_searchable_exported_as_csv_and_append_only() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let acme = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let bolt = create_enterprise(&c, &app.address, &csrf, "Bolt Retail").await;
    create_merchant(&c, &app.address, &csrf, &bolt, "7004").await;
    post(&c, &format!("{}/admin/enterprises/{acme}", app.address), &enterprise_fields(&csrf, &[("tax_id", "1234-56")]))
        .await;

    let page = get(&c, &format!("{}/admin/audit?enterprise={acme}", app.address)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("admin.enterprise_update") && page.body.contains("tax_id: 7701234567 → 1234-56"));
    assert!(!page.body.contains("admin.merchant_create"), "{}", page.body);
    let page = get(&c, &format!("{}/admin/audit?action=merchant_create&actor=roo", app.address)).await;
    assert!(page.body.contains("admin.merchant_create") && !page.body.contains("admin.enterprise_update"));
    let today = time::OffsetDateTime::now_utc().date();
    let page = get(&c, &format!("{}/admin/audit?from={today}&to={today}", app.address)).await;
    assert!(page.body.contains("admin.enterprise_create"));
    let page = get(&c, &format!("{}/admin/audit?from=2020-01-01&to=2020-01-02", app.address)).await;
    assert!(page.body.contains("No entry matches"));
    let bad = get(&c, &format!("{}/admin/audit?from=yesterday", app.address)).await;
    assert_eq!(bad.status, 400);
    assert_eq!(by_id(&bad.body, "error-from").as_deref(), Some("A day as YYYY-MM-DD."));

    let csv = client().get(format!("{}/admin/audit.csv?enterprise={bolt}", app.address)).send().await.unwrap();
    assert_eq!(csv.status(), 303, "the export needs a session");
    let csv = c.get(format!("{}/admin/audit.csv?enterprise={bolt}", app.address)).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("time_utc,actor_kind,actor,action"));
    assert_eq!(lines.len(), 3, "bolt's creation and its merchant's: {text}");
    assert!(text.contains("\"admin.merchant_create\"") && text.contains("\"root\""));

    // The database refuses to change or remove an entry.
    let changed = app
        .gateway
        .store
        .write(|c| {
            diesel::update(audit_events::table)
                .set(audit_events::actor.eq("someone"))
                .execute(c)
                .map_err(StoreError::from)
        })
        .await;
    assert!(changed.is_err());
    let deleted =
        app.gateway.store.write(|c| diesel::delete(audit_events::table).execute(c).map_err(StoreError::from)).await;
    assert!(deleted.is_err());
    assert!(!audits(&app, "admin.merchant_create").await.is_empty());
}

#[tokio::test]
async fn healthz_metrics_and_the_system_page() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 7005, |_| {}).await;
    common::account::paid_order(&app, &m, "m-1", "10.00", true).await;
    let h = reqwest::get(format!("{}/healthz", app.address)).await.unwrap();
    assert_eq!(h.status(), 200);
    let body: serde_json::Value = h.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let r = reqwest::get(format!("{}/metrics", app.address)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    // Prometheus text: every line a comment (HELP/TYPE) or `name{labels} value`, every sample's
    // family declared by a TYPE line before it.
    let mut typed = std::collections::HashSet::new();
    let mut samples = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        value.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
            for pair in labels[1..labels.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label in {line}"));
                assert!(!k.is_empty() && !v.contains('\n'), "{line}");
            }
        }
        assert!(typed.contains(name), "{name} sampled before its TYPE");
        samples.insert(series.to_owned(), value.to_owned());
    }
    assert_eq!(samples.get("kassa_orders{state=\"Delayed\",mode=\"test\"}").map(String::as_str), Some("1"), "{text}");
    assert!(samples.keys().any(|k| k.starts_with("kassa_http_requests_total{class=\"2xx\"}")));
    for family in ["kassa_outbox_oldest_pending_seconds", "kassa_notification_failed_messages"] {
        assert!(samples.contains_key(family), "{family} in {text}");
    }

    let (c, _) = admin_client(&app, "root").await;
    let page = get(&c, &format!("{}/admin/system", app.address)).await;
    assert_eq!(page.status, 200);
    let backend = if app.db.is_postgres() { "postgres" } else { "sqlite" };
    assert!(by_id(&page.body, "backend").unwrap().starts_with(backend), "{}", page.body);
    assert_eq!(by_id(&page.body, "version").as_deref(), Some(env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn a_failed_message_is_retried_from_the_system_page() {
    use kassa::db::models::NewOutboxMessage;
    use kassa::db::schema::outbox;
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 7006, |_| {}).await;
    let mut message = NewOutboxMessage::new("webhook", &m.id, None, &serde_json::json!({}), kassa::db::now());
    message.state = "failed".into();
    message.attempts = 9;
    let id = message.id.clone();
    app.gateway
        .store
        .write(move |c| diesel::insert_into(outbox::table).values(&message).execute(c).map_err(StoreError::from))
        .await
        .unwrap();
    let (c, _) = admin_client(&app, "root").await;
    let page = get(&c, &format!("{}/admin/system", app.address)).await;
    assert!(page.body.contains(&format!("/admin/system/outbox/{id}/retry")), "{}", page.body);
    let csrf = hidden(&page.body, "csrf").unwrap();
    let forged = post(&c, &format!("{}/admin/system/outbox/{id}/retry", app.address), &[("csrf", "x")]).await;
    assert_eq!(forged.status, 403);
    let done = post(&c, &format!("{}/admin/system/outbox/{id}/retry", app.address), &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("queued again"));
    let target = id.clone();
    let state: String = app
        .gateway
        .store
        .read(move |c| outbox::table.find(target).select(outbox::state).first(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(state, "pending");
    assert_eq!(audits(&app, "admin.outbox_retry").await.len(), 1);
}

#[test]
fn kassa_user_add_admin_creates_an_admin_from_the_command_line() {
    let db = common::TestDb::new();
    // The password comes on standard input, as an operator would type or pipe it.
    let run = |args: &[&str], password: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kassa"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KASSA_DATABASE_URL", &db.url)
            .env("KASSA_DATA_DIR", db.dir())
            .env("KASSA_LOG", "warn")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["user", "add", "ops-admin", "--admin"], "a-long-admin-password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin ops-admin"));
    let again = run(&["user", "add", "ops-admin", "--admin"], "a-long-admin-password");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already taken"));
    let short = run(&["user", "add", "other-admin", "--admin"], "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let orphan = run(&["user", "add", "shop-boss"], "a-long-admin-password");
    assert!(String::from_utf8_lossy(&orphan.stderr).contains("--enterprise"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let gateway = common::gateway_on(&db);
        let (role, enterprise): (String, Option<String>) = gateway
            .store
            .read(|c| {
                kassa::db::schema::users::table
                    .filter(kassa::db::schema::users::login.eq("ops-admin"))
                    .select((kassa::db::schema::users::role, kassa::db::schema::users::enterprise_id))
                    .first(c)
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert_eq!((role.as_str(), enterprise), ("admin", None));
        let logged: i64 = gateway
            .store
            .read(|c| {
                audit_events::table
                    .filter(audit_events::action.eq("cli.user_add"))
                    .count()
                    .get_result(c)
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        assert_eq!(logged, 1);
    });
}

#[tokio::test]
async fn exchange_rates_entered_or_imported_convert_orders_and_keep_their_history() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 7007, |m| m.currencies = "RUB,USD,EUR".into()).await;
    let usd = |n: &str| with(order_fields(&m, n, "10.00"), "OrderCurrency", "USD");
    // No rate yet: a dollar order cannot be converted.
    assert_ne!(app.post("/pay/order.cfm", &usd("u-0")).await.status, 303);

    let (c, _) = admin_client(&app, "root").await;
    let url = format!("{}/admin/rates", app.address);
    let page = get(&c, &url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let bad =
        post(&c, &url, &[("csrf", &csrf), ("from", "USD"), ("to", "RUB"), ("rate", "-3"), ("valid_from", "")]).await;
    assert_eq!(bad.status, 400);
    assert!(by_id(&bad.body, "error-rate").is_some(), "{}", bad.body);
    let same =
        post(&c, &url, &[("csrf", &csrf), ("from", "USD"), ("to", "usd"), ("rate", "1"), ("valid_from", "")]).await;
    assert!(by_id(&same.body, "error-to").is_some());
    let ok =
        post(&c, &url, &[("csrf", &csrf), ("from", "usd"), ("to", "RUB"), ("rate", "90.5"), ("valid_from", "")]).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    app.open(&usd("u-1")).await;
    let order = &common::checkout::attempts(&app, &m, "u-1").await[0];
    assert_eq!((order.amount, order.currency.as_str(), order.original_amount), (90500, "RUB", 1000));

    // An import with one bad line imports nothing and names the line.
    let csv = "from,to,rate,valid_from\nUSD,RUB,91\nEUR,RUB,abc\n";
    let refused = post(&c, &format!("{url}/import"), &[("csrf", &csrf), ("csv", csv)]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Line 3: A decimal number"), "{}", refused.body);
    let csv = "USD,RUB,91\nEUR,RUB,99.25\nUSD,RUB,95,2099-01-01 00:00\n";
    let imported = post(&c, &format!("{url}/import"), &[("csrf", &csrf), ("csv", csv)]).await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    assert!(imported.body.contains("Imported 3 rate(s)."));
    app.open(&usd("u-2")).await;
    let order = &common::checkout::attempts(&app, &m, "u-2").await[0];
    assert_eq!(order.amount, 91000, "the newest rate in force, not the future one");
    // The history keeps every rate, the old one too.
    let page = get(&c, &url).await;
    assert!(
        page.body.contains("90.5") && page.body.contains("99.25") && page.body.contains("2099-01-01"),
        "{}",
        page.body
    );
    assert_eq!(audits(&app, "admin.rate_add").await.len(), 1);
    let imports = audits(&app, "admin.rate_import").await;
    assert_eq!(imports.len(), 1);
    assert!(imports[0].1.contains("\"count\":3"));
}

#[tokio::test]
async fn admins_manage_admin_users_and_an_enterprises_account_users() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let url = format!("{}/admin/users", app.address);
    let page = get(&c, &url).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let new_admin = |login: &'static str, password: &'static str, repeat: &'static str| {
        vec![("csrf", csrf.clone()), ("login", login.into()), ("password", password.into()), ("repeat", repeat.into())]
    };
    let p = post(&c, &url, &borrow(&new_admin("second", "long-enough-password", "different-password!"))).await;
    assert_eq!(p.status, 400);
    assert!(by_id(&p.body, "error-repeat").is_some(), "{}", p.body);
    let p = post(&c, &url, &borrow(&new_admin("second", "short", "short"))).await;
    assert!(by_id(&p.body, "error-password").unwrap().contains("12 characters"));
    let p = post(&c, &url, &borrow(&new_admin("root", "long-enough-password", "long-enough-password"))).await;
    assert!(by_id(&p.body, "error-login").unwrap().contains("taken"), "{}", p.body);
    let p = post(&c, &url, &borrow(&new_admin("second", "long-enough-password", "long-enough-password"))).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<td>second</td>"));
    assert!(!p.body.contains("long-enough-password"), "passwords are never sent back");

    // The new admin signs in (and must enrol); locked, the password no longer opens anything.
    let second = client();
    let s = sign_in(&second, &app.address, "second", "long-enough-password").await;
    assert_eq!(s.location.as_deref(), Some("/admin/totp"));
    let id: String = app
        .gateway
        .store
        .read(|c| {
            kassa::db::schema::users::table
                .filter(kassa::db::schema::users::login.eq("second"))
                .select(kassa::db::schema::users::id)
                .first(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let p = post(&c, &format!("{url}/{id}/lock"), &[("csrf", &csrf)]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/users")));
    assert_eq!(get(&second, &format!("{}/admin/totp", app.address)).await.location.as_deref(), Some("/admin/login"));
    assert_eq!(sign_in(&client(), &app.address, "second", "long-enough-password").await.status, 401);
    let p = post(&c, &format!("{url}/{id}/unlock"), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert_eq!(sign_in(&client(), &app.address, "second", "long-enough-password").await.status, 303);

    // An enterprise's manager, made here, signs in to the account; locked, no more.
    let e = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let eurl = format!("{}/admin/enterprises/{e}/users", app.address);
    let p = post(
        &c,
        &eurl,
        &[
            ("csrf", csrf.as_str()),
            ("login", "acme-boss"),
            ("password", "acme-boss-password"),
            ("repeat", "acme-boss-password"),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let shop = client();
    let s = account_sign_in(&shop, &app.address, "acme-boss", "acme-boss-password").await;
    assert_eq!(s.location.as_deref(), Some("/account"));
    let page = get(&c, &format!("{}/admin/enterprises/{e}", app.address)).await;
    assert!(page.body.contains("<td>acme-boss</td><td>manager</td>"), "{}", page.body);
    let lock = page.body.split("/lock\">").next().unwrap().rsplit("/admin/users/").next().unwrap().to_owned();
    let p = post(&c, &format!("{url}/{lock}/lock"), &[("csrf", &csrf)]).await;
    assert_eq!(p.location, Some(format!("/admin/enterprises/{e}?saved=1")));
    assert_eq!(get(&shop, &format!("{}/account", app.address)).await.location.as_deref(), Some("/account/login"));

    // Every change is audited; an admin cannot lock themself.
    for action in ["admin.admin_create", "admin.user_create", "admin.user_lock", "admin.user_unlock"] {
        assert!(!audits(&app, action).await.is_empty(), "{action}");
    }
    let me: String = app
        .gateway
        .store
        .read(|c| {
            kassa::db::schema::users::table
                .filter(kassa::db::schema::users::login.eq("root"))
                .select(kassa::db::schema::users::id)
                .first(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(post(&c, &format!("{url}/{me}/lock"), &[("csrf", &csrf)]).await.status, 400);
}

fn borrow<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn order_limits_and_the_redirect_after_payment() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let csrf = csrf(&c, &app.address).await;
    let id = create_enterprise(&c, &app.address, &csrf, "Acme Trading").await;
    let (path, _) = create_merchant(&c, &app.address, &csrf, &id, "7008").await;

    let bad = save_settings(
        &c,
        &app.address,
        &path,
        &[
            ("min_amount", Some("abc")),
            ("max_amount", Some("5.00")),
            ("daily_cap", Some("1.001")),
            ("after_payment", Some("redirect")),
        ],
    )
    .await;
    assert_eq!(bad.status, 400);
    for f in ["min_amount", "daily_cap", "after_payment"] {
        assert!(by_id(&bad.body, &format!("error-{f}")).is_some(), "no message beside {f}: {}", bad.body);
    }
    let bad = save_settings(&c, &app.address, &path, &[("min_amount", Some("50")), ("max_amount", Some("10"))]).await;
    assert_eq!(by_id(&bad.body, "error-max_amount").as_deref(), Some("The maximum is below the minimum."));

    let p = save_settings(
        &c,
        &app.address,
        &path,
        &[
            ("min_amount", Some("5")),
            ("max_amount", Some("100.00")),
            ("daily_cap", Some("150")),
            ("after_payment", Some("redirect")),
            ("url_return_ok", Some("https://shop.example/thanks")),
        ],
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let m = merchant(&app, 7008).await;
    assert_eq!((m.min_amount, m.max_amount, m.daily_cap), (Some(500), Some(10000), Some(15000)));

    let small = app.post("/pay/order.cfm", &order_fields(&m, "s-1", "4.99")).await;
    assert!(small.status != 303 && small.body.contains("minimum of 5.00 RUB"), "{}", small.body);
    let big = app.post("/pay/order.cfm", &order_fields(&m, "b-1", "100.01")).await;
    assert!(big.status != 303 && big.body.contains("maximum of 100.00 RUB"), "{}", big.body);

    // Paid at 100.00: back to the shop at once, no result page.
    let page = app.open(&order_fields(&m, "ok-1", "100.00")).await;
    let paid = app.charge(&page, "4111111111111111").await;
    assert_eq!(paid.status, 303);
    let result = app.get(&paid.location()).await;
    assert_eq!(result.status, 303, "{}", result.body);
    assert!(result.location().starts_with("https://shop.example/thanks?billnumber="), "{}", result.location());

    // 100.00 of the 150.00 a day are used: 60.00 more is refused, 50.00 fits.
    let over = app.post("/pay/order.cfm", &order_fields(&m, "cap-1", "60.00")).await;
    assert!(over.status != 303 && over.body.contains("daily limit"), "{}", over.body);
    assert_eq!(app.post("/pay/order.cfm", &order_fields(&m, "cap-2", "50.00")).await.status, 303);

    let updates = audits(&app, "admin.merchant_update").await;
    let detail: serde_json::Value = serde_json::from_str(&updates.last().unwrap().1).unwrap();
    assert_eq!(detail["changes"]["max_amount"]["new"], "100.00");
    assert_eq!(detail["changes"]["after_payment"]["old"], "result");
}

/// With `metrics_token` set, `/metrics` answers only the scraper that sends it.
#[tokio::test]
async fn a_metrics_token_keeps_the_figures_to_the_scraper() {
    let app = common::webservices::spawn_app_with(|c| c.metrics_token = Some("scrape-token-2026".into())).await;
    let url = format!("{}/metrics", app.address);
    let client = reqwest::Client::new();
    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(client.get(&url).bearer_auth("scrape-token-2025").send().await.unwrap().status(), 401);
    let ok = client.get(&url).bearer_auth("scrape-token-2026").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("# TYPE "));
    assert_eq!(client.get(format!("{}/healthz", app.address)).send().await.unwrap().status(), 200, "health stays open");
}
