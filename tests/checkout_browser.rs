//! The checkout in headless Chromium: the demo shop's «Buy» to «Charge» and back, 3-D Secure,
//! a declined card, Russian texts. JavaScript plays no part: the pages have none.

mod common;

use common::browser::{self, Browser};
use common::*;

/// Demo shop → Buy (first product, the one-stage choice) → bank card.
async fn buy(b: &Browser, app: &TestApp, lang: &str) {
    b.client.goto(&format!("{}/demo-shop?lang={lang}", app.address)).await.unwrap();
    b.click("#buy-1 button[type=submit]").await;
    b.click("#method-card").await;
    b.element("#number").await;
}

async fn fill_card(b: &Browser, number: &str) {
    b.fill("#number", number).await;
    b.fill("#holder", "IVAN PETROV").await;
    b.fill("#month", "12").await;
    b.fill("#year", "30").await;
    b.fill("#cvc", "123").await;
}

#[tokio::test]
async fn checkout_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    let b = std::sync::Arc::new(b);
    // Run apart so that a failure still closes the browser session (else Chromium outlives
    // the test), then report it.
    let outcome = tokio::spawn(scenarios(b.clone())).await;
    b.client.clone().close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn scenarios(b: std::sync::Arc<Browser>) {
    let app = spawn_app().await;
    kassa::gateway::setup::demo(&app.gateway.store).await.unwrap();

    // The approved card, back at the shop that shows the paid order.
    buy(&b, &app, "EN").await;
    fill_card(&b, "4111 1111 1111 1111").await;
    let shot = b.client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/checkout-payment-page.png");
    std::fs::write(&path, shot).unwrap();
    eprintln!("screenshot of the payment page: {}", path.display());
    b.click("#charge").await;
    assert!(b.text("#result-heading").await.contains("Payment successful"));
    assert!(!b.client.source().await.unwrap().contains("4111 1111"), "no card number after the form");
    b.click("#back-to-shop").await;
    assert_eq!(b.text("#shop-state").await, "Approved");
    assert!(b.url().await.contains("/demo-shop/return/ok?"), "{}", b.url().await);

    // 3-D Secure, passed.
    buy(&b, &app, "EN").await;
    fill_card(&b, "4000 0000 0000 3220").await;
    b.click("#charge").await;
    b.click("#challenge-pass").await;
    assert!(b.text("#result-heading").await.contains("Payment successful"));

    // A declined card shows its message, and the shop hears «not paid».
    buy(&b, &app, "EN").await;
    fill_card(&b, "4000 0000 0000 9995").await;
    b.click("#charge").await;
    assert_eq!(b.text("#result-heading").await, "Payment declined");
    assert!(b.text("#message").await.contains("Insufficient funds"));
    b.click("#back-to-shop").await;
    assert_eq!(b.text("#shop-state").await, "Declined");

    // Russian with Language=RU, including a message beside a wrong field.
    buy(&b, &app, "RU").await;
    assert!(b.client.source().await.unwrap().contains("Данные карты"));
    fill_card(&b, "4111 1111 1111 1112").await;
    b.click("#charge").await;
    assert_eq!(b.text("#number-error").await, "Неверный номер карты.");
    assert_eq!(b.element("#cvc").await.prop("value").await.unwrap().unwrap_or_default(), "", "the CVC is not kept");
    assert_eq!(b.element("#number").await.prop("value").await.unwrap().unwrap_or_default(), "4111 1111 1111 1112");
    b.fill("#number", "4111 1111 1111 1111").await;
    b.fill("#cvc", "123").await;
    b.click("#charge").await;
    assert_eq!(b.text("#result-heading").await, "Оплата прошла успешно");
}
