//! The admin area in headless Chromium: a new admin signs in and enrols TOTP (the code computed
//! from the key the page shows), creates an enterprise and a merchant, requires signed payment
//! requests, generates the merchant's secret word, and a customer pays an order for that merchant
//! through the checkout, signed with it. The pages have no JavaScript; the browser only fills
//! and clicks.

mod common;

use common::admin::{ADMIN_PASSWORD, add_admin, unix_now};
use common::browser::{self, Browser};
use common::*;
use kassa::assist::checkvalue::{self, RequestMode, Variant};

#[tokio::test]
async fn admin_area_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    let b = std::sync::Arc::new(b);
    // Run apart so that a failure still closes the browser session, then report it.
    let outcome = tokio::spawn(scenario(b.clone())).await;
    b.client.clone().close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn wait_for_url(b: &Browser, part: &str) -> String {
    let mut url = b.url().await;
    for _ in 0..100 {
        if url.contains(part) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        url = b.url().await;
    }
    assert!(url.contains(part), "expected {part} in {url}");
    url
}

async fn scenario(b: std::sync::Arc<Browser>) {
    let app = spawn_app().await;
    add_admin(&app, "platform").await;

    // Sign in; the first time leads to TOTP enrolment with a QR code drawn on the server.
    b.client.goto(&format!("{}/admin", app.address)).await.unwrap();
    b.fill("input[name=login]", "platform").await;
    b.fill("input[name=password]", ADMIN_PASSWORD).await;
    b.click("form[action='/admin/login'] button[type=submit]").await;
    b.element("figure.qr svg").await;
    let secret = b.text("#totp-secret").await;
    let code = kassa::web::totp::code_at(&secret, unix_now()).unwrap();
    b.fill("form[action='/admin/totp'] input[name=code]", &code).await;
    b.click("form[action='/admin/totp'] button[type=submit]").await;
    b.element("table#enterprises").await;

    // A new enterprise.
    b.click("#new-enterprise").await;
    b.fill("input[name=name]", "Browser Goods").await;
    b.fill("input[name=legal_name]", "Browser Goods LLC").await;
    b.fill("input[name=contact_email]", "ops@browser-goods.example").await;
    b.fill("input[name=time_zone]", "Europe/Berlin").await;
    b.click("form[action='/admin/enterprises'] button[type=submit]").await;
    b.element("#new-merchant").await;

    // Its merchant, then signed requests and a fresh secret word.
    b.fill("#new-merchant input[name=number]", "880001").await;
    b.fill("#new-merchant input[name=name]", "Browser Goods Online").await;
    b.click("#new-merchant button[type=submit]").await;
    let first = b.text("#shown-secret").await;
    assert_eq!(first.len(), 24);
    b.click("select[name=checkvalue_mode] option[value=delimited]").await;
    b.click("form#settings button[type=submit]").await;
    wait_for_url(&b, "saved=1").await;
    assert!(b.text("p.notice").await.contains("Saved"));
    b.click("#rotate-secret").await;
    let secret_word = b.text("#shown-secret").await;
    assert_ne!(secret_word, first);
    let shot = b.client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/admin-merchant-page.png");
    std::fs::write(&path, shot).unwrap();
    eprintln!("screenshot of the merchant page: {}", path.display());

    // A shop's page posts the signed payment request; the customer pays with a card.
    let x = checkvalue::request_string(RequestMode::Delimited, ["880001", "browser-1", "25.00", "RUB"], &[]);
    let value = checkvalue::compute(&checkvalue::md5_hex(&secret_word), &x, Variant::B);
    let shop = format!(
        "<form method=post action='{}/pay/order.cfm'>\
         <input type=hidden name=Merchant_ID value=880001><input type=hidden name=OrderNumber value=browser-1>\
         <input type=hidden name=OrderAmount value=25.00><input type=hidden name=OrderCurrency value=RUB>\
         <input type=hidden name=Language value=EN><input type=hidden name=Lastname value=Petrov>\
         <input type=hidden name=Firstname value=Ivan><input type=hidden name=Email value=ivan@example.com>\
         <input type=hidden name=Checkvalue value={value}><button id=pay>Pay</button></form>",
        app.address
    );
    let data =
        format!("data:text/html,{}", percent_encoding::utf8_percent_encode(&shop, percent_encoding::NON_ALPHANUMERIC));
    b.client.goto(&data).await.unwrap();
    b.click("#pay").await;
    b.fill("#number", "4111 1111 1111 1111").await;
    b.fill("#holder", "IVAN PETROV").await;
    b.fill("#month", "12").await;
    b.fill("#year", "30").await;
    b.fill("#cvc", "123").await;
    b.click("#charge").await;
    assert!(b.text("#result-heading").await.contains("Payment successful"));
    let merchant = app.gateway.merchant_by_number(880001).await.unwrap();
    let orders = common::checkout::attempts(&app, &merchant, "browser-1").await;
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].state, "Approved");
}
