//! Helpers for the admin area tests: admins made through the same code as `kassa user add
//! --admin`, and a full sign-in (password, TOTP enrolment or code) computed with
//! `kassa::web::totp::code_at`.

use kassa::gateway::setup;

use super::TestApp;
use super::account::{Page, by_id, client, get, hidden, post};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub async fn add_admin(app: &TestApp, login: &str) {
    let new = setup::AddUser { login: login.into(), password: ADMIN_PASSWORD.into(), admin: true, enterprise: None };
    setup::add_user(&app.gateway.store, new).await.expect("add admin");
}

/// Opens the admin sign-in form and submits it.
pub async fn sign_in(c: &reqwest::Client, address: &str, login: &str, password: &str) -> Page {
    let form = get(c, &format!("{address}/admin/login")).await;
    let csrf = hidden(&form.body, "csrf").expect("admin sign-in form has a CSRF token");
    post(c, &format!("{address}/admin/login"), &[("csrf", &csrf), ("login", login), ("password", password)]).await
}

/// Enrols TOTP on the page the first sign-in leads to; answers the secret.
pub async fn enrol(c: &reqwest::Client, address: &str) -> String {
    let page = get(c, &format!("{address}/admin/totp")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "the QR code is drawn on the server");
    let secret = by_id(&page.body, "totp-secret").expect("the key is shown");
    let csrf = hidden(&page.body, "csrf").unwrap();
    let code = kassa::web::totp::code_at(&secret, unix_now()).unwrap();
    let done = post(c, &format!("{address}/admin/totp"), &[("csrf", &csrf), ("code", &code)]).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/admin")), "{}", done.body);
    secret
}

/// A client of a new admin, signed in and enrolled; answers it with the TOTP secret.
pub async fn admin_client(app: &TestApp, login: &str) -> (reqwest::Client, String) {
    add_admin(app, login).await;
    let c = client();
    let p = sign_in(&c, &app.address, login, ADMIN_PASSWORD).await;
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/admin/totp")), "{}", p.body);
    let secret = enrol(&c, &app.address).await;
    (c, secret)
}

/// The CSRF token of an admin page.
pub async fn csrf(c: &reqwest::Client, address: &str) -> String {
    let page = get(c, &format!("{address}/admin/enterprises")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    hidden(&page.body, "csrf").unwrap()
}

/// The enterprise form's fields, with `changes` applied.
pub fn enterprise_fields<'a>(csrf: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("csrf", csrf),
        ("name", "Acme Trading"),
        ("legal_name", "Acme Trading LLC"),
        ("tax_id", "7701234567"),
        ("address", "Moscow, Tverskaya 1"),
        ("contact_name", "Anna Petrova"),
        ("contact_email", "anna@acme.example"),
        ("contact_phone", "+7 495 123-45-67"),
        ("time_zone", "Europe/Moscow"),
    ];
    for (k, v) in changes {
        f.retain(|(name, _)| name != k);
        f.push((k, v));
    }
    f
}

/// Creates an enterprise through the admin area; answers its id.
pub async fn create_enterprise(c: &reqwest::Client, address: &str, csrf: &str, name: &str) -> String {
    let legal = format!("{name} LLC");
    let p = post(
        c,
        &format!("{address}/admin/enterprises"),
        &enterprise_fields(csrf, &[("name", name), ("legal_name", &legal)]),
    )
    .await;
    assert_eq!(p.status, 303, "{}", p.body);
    p.location.unwrap().rsplit('/').next().unwrap().to_owned()
}

/// Creates a merchant through the admin area; answers its admin page path and secret word.
pub async fn create_merchant(
    c: &reqwest::Client,
    address: &str,
    csrf: &str,
    enterprise: &str,
    number: &str,
) -> (String, String) {
    let p = post(
        c,
        &format!("{address}/admin/enterprises/{enterprise}/merchants"),
        &[("csrf", csrf), ("number", number), ("name", &format!("Shop {number}"))],
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let secret = by_id(&p.body, "shown-secret").expect("the new secret word is shown once");
    let path = p.body.split("action=\"/admin/merchants/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (format!("/admin/merchants/{path}"), secret)
}

/// The merchant settings form as it stands on its page (every field, checkboxes when ticked).
pub fn settings_of(body: &str) -> Vec<(String, String)> {
    let form = body.split("id=\"settings\"").nth(1).unwrap().split("</form>").next().unwrap();
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        let tag = input.split('>').next().unwrap();
        let attr = |name: &str| {
            let marker = format!("{name}=\"");
            tag.find(&marker).map(|i| tag[i + marker.len()..].split('"').next().unwrap().to_owned())
        };
        let Some(name) = attr("name") else { continue };
        if tag.contains("type=\"checkbox\"") && !tag.contains(" checked") {
            continue;
        }
        fields.push((name, attr("value").unwrap_or_default()));
    }
    for area in form.split("<textarea").skip(1) {
        let name = area.split("name=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let text = area.split_once('>').unwrap().1.split("</textarea>").next().unwrap();
        fields.push((name, super::checkout::unescape(text)));
    }
    for select in form.split("<select").skip(1) {
        let name = select.split("name=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let body = select.split("</select>").next().unwrap();
        let chosen = body
            .split("<option")
            .skip(1)
            .find(|o| o.contains(" selected"))
            .or_else(|| body.split("<option").nth(1))
            .unwrap();
        let value = chosen.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        fields.push((name, value));
    }
    fields
}

/// Posts the merchant's settings with `changes` (a value of `None` unticks a checkbox).
pub async fn save_settings(c: &reqwest::Client, address: &str, path: &str, changes: &[(&str, Option<&str>)]) -> Page {
    let page = get(c, &format!("{address}{path}")).await;
    let mut fields = settings_of(&page.body);
    for (name, value) in changes {
        fields.retain(|(k, _)| k != name);
        if let Some(v) = value {
            fields.push(((*name).to_owned(), (*v).to_owned()));
        }
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post(c, &format!("{address}{path}"), &fields).await
}
