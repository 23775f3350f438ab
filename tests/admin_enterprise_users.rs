//! A platform admin manages any enterprise's account users from the admin area
//! (`/admin/enterprises/<id>/users`), with the account's own users code: create with a role and
//! merchants, lock, reset the password, delete, require two-factor sign-in; each change audited
//! with the admin as the actor, and nothing of a password in the log.

mod common;

use common::account::{PASSWORD, add_account_user, by_id, client, get, hidden, post, sign_in, signed_in};
use common::admin::{admin_client, create_enterprise, create_merchant, csrf};
use common::{spawn_app, user_id};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::schema::{audit_events, enterprises, users};

/// Audit rows of an action: (actor, enterprise, detail).
async fn audits(app: &common::TestApp, action: &'static str) -> Vec<(String, Option<String>, String)> {
    app.gateway
        .store
        .read(move |c| {
            audit_events::table
                .filter(audit_events::action.eq(action))
                .select((audit_events::actor, audit_events::enterprise_id, audit_events::detail))
                .load(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

/// Signs in with a temporary password and chooses `PASSWORD`.
async fn first_sign_in(app: &common::TestApp, login: &str, temporary: &str) -> reqwest::Client {
    let u = client();
    let first = sign_in(&u, &app.address, login, temporary).await;
    assert_eq!(first.location.as_deref(), Some("/account/password"), "{}", first.body);
    let form = get(&u, &format!("{}/account/password", app.address)).await;
    let changed = post(
        &u,
        &format!("{}/account/password", app.address),
        &[
            ("csrf", &hidden(&form.body, "csrf").unwrap()),
            ("current", temporary),
            ("new", PASSWORD),
            ("repeat", PASSWORD),
        ],
    )
    .await;
    assert_eq!(changed.location.as_deref(), Some("/account"), "{}", changed.body);
    u
}

#[tokio::test]
async fn an_admin_manages_an_enterprises_users_like_its_managers() {
    let app = spawn_app().await;
    let (admin, _) = admin_client(&app, "root").await;
    let token = csrf(&admin, &app.address).await;
    let e = create_enterprise(&admin, &app.address, &token, "Acme Trading").await;
    create_merchant(&admin, &app.address, &token, &e, "7101").await;
    create_merchant(&admin, &app.address, &token, &e, "7102").await;
    let base = format!("{}/admin/enterprises/{e}/users", app.address);

    // The enterprise page leads to the users page, which offers the account's form.
    let page = get(&admin, &format!("{}/admin/enterprises/{e}", app.address)).await;
    assert!(by_id(&page.body, "manage-users").is_some(), "{}", page.body);
    let list = get(&admin, &base).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("Acme Trading") && list.body.contains("name=\"grant_7101\""), "{}", list.body);

    // A bad form is refused beside the form; then a user who operates 7101 only, with a limit.
    let refused =
        post(&admin, &format!("{base}/create"), &[("csrf", &token), ("login", "x"), ("role", "viewer")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("3 to 64"), "{}", refused.body);
    let created = post(
        &admin,
        &format!("{base}/create"),
        &[
            ("csrf", &token),
            ("login", "acme-ops"),
            ("scope", "listed"),
            ("grant_7101", "operator"),
            ("limit", "500.00"),
            ("limit_currency", "RUB"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let temporary = by_id(&created.body, "temporary-password").unwrap();
    let list = get(&admin, &base).await.body;
    assert!(list.contains("7101: operator") && list.contains("500.00 RUB"), "{list}");

    // The user signs in to the account with it (and must choose a password first).
    let u = first_sign_in(&app, "acme-ops", &temporary).await;
    assert_eq!(get(&u, &format!("{}/account/orders", app.address)).await.status, 200);

    // Edit: now a manager of every merchant.
    let id = user_id(&app, "acme-ops").await;
    let saved = post(&admin, &format!("{base}/{id}"), &[("csrf", &token), ("scope", "all"), ("role", "manager")]).await;
    assert_eq!(saved.location, Some(format!("/admin/enterprises/{e}/users/{id}?done=saved")));
    assert!(get(&admin, &base).await.body.contains("all merchants: manager"));

    // Lock: signed out, and the password opens nothing; unlock lets them in again.
    let locked = post(&admin, &format!("{base}/{id}/lock"), &[("csrf", &token)]).await;
    assert_eq!(locked.status, 303);
    assert_eq!(get(&u, &format!("{}/account", app.address)).await.location.as_deref(), Some("/account/login"));
    assert_eq!(sign_in(&client(), &app.address, "acme-ops", PASSWORD).await.status, 401);
    assert_eq!(post(&admin, &format!("{base}/{id}/unlock"), &[("csrf", &token)]).await.status, 303);
    let _ = signed_in(&app, "acme-ops").await;

    // Reset: the old password fails, the new one works.
    let reset = post(&admin, &format!("{base}/{id}/reset-password"), &[("csrf", &token)]).await;
    assert_eq!(reset.status, 200);
    let new = by_id(&reset.body, "temporary-password").unwrap();
    assert_eq!(sign_in(&client(), &app.address, "acme-ops", PASSWORD).await.status, 401);
    let _ = first_sign_in(&app, "acme-ops", &new).await;

    // Two-factor sign-in required for the enterprise.
    let required = post(&admin, &format!("{base}/require-totp"), &[("csrf", &token), ("require", "1")]).await;
    assert_eq!(required.status, 303);
    let e2 = e.clone();
    let on: bool = app
        .gateway
        .store
        .read(move |c| enterprises::table.find(e2).select(enterprises::require_totp).first(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert!(on);

    // Delete: gone, and no sign-in.
    let deleted = post(&admin, &format!("{base}/{id}/delete"), &[("csrf", &token)]).await;
    assert_eq!(deleted.location, Some(format!("/admin/enterprises/{e}/users?done=deleted")));
    assert!(!get(&admin, &base).await.body.contains(">acme-ops<"));
    assert_eq!(sign_in(&client(), &app.address, "acme-ops", PASSWORD).await.status, 401);

    // No CSRF token, no change; an unknown enterprise is a 404.
    assert_eq!(post(&admin, &format!("{base}/create"), &[("login", "nocsrf"), ("role", "viewer")]).await.status, 403);
    assert_eq!(get(&admin, &format!("{}/admin/enterprises/nope/users", app.address)).await.status, 404);

    // Every change audited: the admin acts, on this enterprise, and no password is logged.
    for action in [
        "admin.user_create",
        "admin.user_update",
        "admin.user_lock",
        "admin.user_unlock",
        "admin.user_reset_password",
        "admin.require_totp",
        "admin.user_delete",
    ] {
        let rows = audits(&app, action).await;
        assert!(!rows.is_empty(), "{action}");
        for (actor, enterprise, detail) in rows {
            assert!(actor.contains("root"), "{action}: {actor}");
            assert_eq!(enterprise.as_deref(), Some(e.as_str()), "{action}");
            for secret in [&temporary, &new, &PASSWORD.to_string(), &"$argon2".to_string()] {
                assert!(!detail.contains(secret.as_str()), "{action}: {detail}");
            }
        }
    }
}

#[tokio::test]
async fn merchant_users_cannot_reach_the_admin_users_pages() {
    let app = spawn_app().await;
    let m = common::add_merchant(&app.gateway, 7201, |_| {}).await;
    add_account_user(&app, &m, "shop-boss", "manager").await;
    let boss = signed_in(&app, "shop-boss").await;
    let e = m.enterprise_id.0.clone();
    let page = get(&boss, &format!("{}/admin/enterprises/{e}/users", app.address)).await;
    assert_eq!((page.status, page.location.as_deref()), (303, Some("/admin/login")));
    let account = get(&boss, &format!("{}/account/users", app.address)).await;
    let token = hidden(&account.body, "csrf").unwrap();
    let made = post(
        &boss,
        &format!("{}/admin/enterprises/{e}/users/create", app.address),
        &[("csrf", &token), ("login", "sneaky"), ("role", "manager")],
    )
    .await;
    assert_eq!((made.status, made.location.as_deref()), (303, Some("/admin/login")));
    let id = user_id(&app, "shop-boss").await;
    let lock =
        post(&boss, &format!("{}/admin/enterprises/{e}/users/{id}/lock", app.address), &[("csrf", &token)]).await;
    assert_eq!(lock.status, 303);
    assert_eq!(get(&boss, &format!("{}/account", app.address)).await.status, 200, "still signed in, not locked");
    let sneaky: i64 = app
        .gateway
        .store
        .read(|c| users::table.filter(users::login.eq("sneaky")).count().get_result(c).map_err(StoreError::from))
        .await
        .unwrap();
    assert_eq!(sneaky, 0);
}
