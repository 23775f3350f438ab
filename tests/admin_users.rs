//! Platform admins manage each other (`/admin/users`): reset a password (shown once, changed at
//! the next sign-in), reset two-factor sign-in, delete; never themselves, and never the last
//! active admin. Each change is audited with nothing of a password in the log.

mod common;

use common::account::{by_id, client, get, hidden, post};
use common::admin::{ADMIN_PASSWORD, admin_client, sign_in, unix_now};
use common::{audit_entries, spawn_app, user_id};
use diesel::prelude::*;
use kassa::db::StoreError;
use kassa::db::schema::users;
use kassa::web::totp;

async fn active_admins(app: &common::TestApp) -> i64 {
    app.gateway
        .store
        .read(|c| {
            users::table
                .filter(users::role.eq("admin"))
                .filter(users::active.eq(true))
                .filter(users::deleted_at.is_null())
                .count()
                .get_result(c)
                .map_err(StoreError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_resets_another_admins_password_and_two_factor() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let (second, secret) = admin_client(&app, "second").await;
    let url = format!("{}/admin/users", app.address);
    let csrf = hidden(&get(&c, &url).await.body, "csrf").unwrap();
    let id = user_id(&app, "second").await;
    let me = user_id(&app, "root").await;

    assert_eq!(post(&c, &format!("{url}/{id}/reset-password"), &[("csrf", "forged")]).await.status, 403);
    assert_eq!(post(&c, &format!("{url}/{me}/reset-password"), &[("csrf", &csrf)]).await.status, 400);

    // The temporary password is shown once; the old one and the old sessions stop working.
    let p = post(&c, &format!("{url}/{id}/reset-password"), &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    let temporary = by_id(&p.body, "temporary-password").expect("the temporary password is shown");
    assert!(temporary.len() >= 12);
    assert!(!get(&c, &url).await.body.contains(&temporary), "shown only once");
    assert_eq!(get(&second, &url).await.location.as_deref(), Some("/admin/login"));
    assert_eq!(sign_in(&client(), &app.address, "second", ADMIN_PASSWORD).await.status, 401);

    // After the code, the new password comes before anything else.
    let s = client();
    let p = sign_in(&s, &app.address, "second", &temporary).await;
    assert_eq!(p.location.as_deref(), Some("/admin/login/totp"), "{}", p.body);
    let step = get(&s, &format!("{}/admin/login/totp", app.address)).await;
    let step_csrf = hidden(&step.body, "csrf").unwrap();
    // The next step's code: the enrolment used up the current one.
    let code = totp::code_at(&secret, unix_now() + 30).unwrap();
    let p = post(&s, &format!("{}/admin/login/totp", app.address), &[("csrf", &step_csrf), ("code", &code)]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/password")), "{}", p.body);
    assert_eq!(get(&s, &url).await.location.as_deref(), Some("/admin/password"));
    let form = get(&s, &format!("{}/admin/password", app.address)).await;
    assert!(form.body.contains("Your password was reset"), "{}", form.body);
    let pw_csrf = hidden(&form.body, "csrf").unwrap();
    let change = |new: &'static str| {
        let (s, address, csrf, current) = (s.clone(), app.address.clone(), pw_csrf.clone(), temporary.clone());
        async move {
            let fields = [("csrf", csrf.as_str()), ("current", &current), ("new", new), ("repeat", new)];
            post(&s, &format!("{address}/admin/password"), &fields).await
        }
    };
    assert_eq!(change("too-short").await.status, 400);
    let p = change("second-admin-new-password").await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin")), "{}", p.body);
    assert_eq!(get(&s, &url).await.status, 200);
    let p = sign_in(&client(), &app.address, "second", "second-admin-new-password").await;
    assert_eq!(p.location.as_deref(), Some("/admin/login/totp"));

    // Reset two-factor: signed out, and the next sign-in enrols again.
    let p = post(&c, &format!("{url}/{id}/reset-totp"), &[("csrf", &csrf)]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/users")));
    assert_eq!(get(&s, &url).await.location.as_deref(), Some("/admin/login"));
    let p = sign_in(&client(), &app.address, "second", "second-admin-new-password").await;
    assert_eq!(p.location.as_deref(), Some("/admin/totp"));

    // Audited with the actor and the user, never the password.
    for action in ["admin.user_reset_password", "admin.user_reset_totp"] {
        let rows = audit_entries(&app.gateway.store, action).await;
        assert_eq!(rows.len(), 1, "{action}");
        let detail = rows[0].detail.to_string();
        assert!(rows[0].actor.contains("root") && detail.contains("second"), "{rows:?}");
        assert!(!detail.contains(&temporary), "{rows:?}");
    }
    assert_eq!(audit_entries(&app.gateway.store, "admin.password_change").await.len(), 1);
}

#[tokio::test]
async fn admins_delete_admins_but_never_themselves_nor_the_last_active_one() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let (second, _) = admin_client(&app, "second").await;
    let (third, _) = admin_client(&app, "third").await;
    let url = format!("{}/admin/users", app.address);
    let csrf = hidden(&get(&c, &url).await.body, "csrf").unwrap();
    let (me, id) = (user_id(&app, "root").await, user_id(&app, "second").await);

    assert_eq!(post(&c, &format!("{url}/{id}/delete"), &[("csrf", "forged")]).await.status, 403);
    assert_eq!(post(&c, &format!("{url}/{me}/delete"), &[("csrf", &csrf)]).await.status, 400);
    let p = post(&c, &format!("{url}/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/users")));
    assert_eq!(get(&second, &url).await.location.as_deref(), Some("/admin/login"), "signed out");
    assert_eq!(sign_in(&client(), &app.address, "second", ADMIN_PASSWORD).await.status, 401);
    assert!(!get(&c, &url).await.body.contains("<td>second</td>"));
    assert_eq!(post(&c, &format!("{url}/{id}/delete"), &[("csrf", &csrf)]).await.status, 404);
    let rows = audit_entries(&app.gateway.store, "admin.user_delete").await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].actor.contains("root") && rows[0].detail.to_string().contains("second"), "{rows:?}");

    // The two admins left lock each other at the same moment: one of them stays active.
    let third_csrf = hidden(&get(&third, &url).await.body, "csrf").unwrap();
    let other = user_id(&app, "third").await;
    let (lock_third, lock_root) = (format!("{url}/{other}/lock"), format!("{url}/{me}/lock"));
    let (root_form, third_form) = ([("csrf", csrf.as_str())], [("csrf", third_csrf.as_str())]);
    let (a, b) = tokio::join!(post(&c, &lock_third, &root_form), post(&third, &lock_root, &third_form));
    assert_eq!(active_admins(&app).await, 1, "{} {}", a.body, b.body);
    for answer in [&a, &b] {
        // Locked, or refused as the last one, or already signed out by the other's lock.
        match (answer.status, answer.location.as_deref()) {
            (303, Some("/admin/users" | "/admin/login")) => {}
            (400, _) => assert!(answer.body.contains("last active admin"), "{}", answer.body),
            other => panic!("unexpected answer {other:?}: {}", answer.body),
        }
    }
}

/// The admin sign-in locks a login after ten failures like the account's, with the same answer
/// for a locked, a wrong and an unknown login; an idle admin session ends.
#[tokio::test]
async fn admin_logins_lock_after_ten_failures_and_idle_sessions_end() {
    let app = spawn_app().await;
    let (c, _) = admin_client(&app, "root").await;
    let fresh = client();
    for _ in 0..10 {
        assert_eq!(sign_in(&fresh, &app.address, "root", "not-the-password").await.status, 401);
    }
    let locked = sign_in(&fresh, &app.address, "root", ADMIN_PASSWORD).await;
    let unknown = sign_in(&fresh, &app.address, "nobody", ADMIN_PASSWORD).await;
    assert_eq!((locked.status, unknown.status), (401, 401), "the right password does not open a locked login");
    let strip = |b: &str, login: &str| b.replace(login, "").replace(&hidden(b, "csrf").unwrap(), "");
    assert_eq!(strip(&locked.body, "root"), strip(&unknown.body, "nobody"), "a lock is not told apart");

    // The session signed in before the lock still works until it idles out.
    assert_eq!(get(&c, &format!("{}/admin", app.address)).await.status, 200);
    let idle = kassa::db::now() - time::Duration::minutes(16);
    app.gateway
        .store
        .write(move |conn| {
            diesel::update(kassa::db::schema::account_sessions::table)
                .set(kassa::db::schema::account_sessions::last_seen_at.eq(idle))
                .execute(conn)
                .map_err(StoreError::from)
        })
        .await
        .unwrap();
    let ended = get(&c, &format!("{}/admin", app.address)).await;
    assert_eq!((ended.status, ended.location.as_deref()), (303, Some("/admin/login")));
}
