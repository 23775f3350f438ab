//! The merchant account in headless Chromium: sign in as the demo manager, find an order
//! through the Order Monitor's filters, confirm it, cancel it after reading the plan, and see
//! the new states on the page. The pages have no JavaScript; the browser only fills and clicks.

mod common;

use common::account::paid_order;
use common::browser::{self, Browser};
use common::*;

#[tokio::test]
async fn account_in_a_real_browser() {
    let Some(b) = browser::start().await else { return };
    let b = std::sync::Arc::new(b);
    // Run apart so that a failure still closes the browser session, then report it.
    let outcome = tokio::spawn(scenario(b.clone())).await;
    b.client.clone().close().await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn scenario(b: std::sync::Arc<Browser>) {
    let app = spawn_app().await;
    let demo = kassa::gateway::setup::demo(&app.gateway.store).await.unwrap();
    let (login, password) = kassa::gateway::setup::DEMO_MANAGER;
    // A few orders, so that the filter has something to leave out.
    for i in 0..5 {
        paid_order(&app, &demo.merchant, &format!("noise-{i}"), "15.00", true).await;
    }
    let order = paid_order(&app, &demo.merchant, "browser-order-42", "120.00", true).await;

    b.client.goto(&format!("{}/account/orders", app.address)).await.unwrap();
    // Not signed in: the sign-in page.
    b.fill("input[name=login]", login).await;
    b.fill("input[name=password]", password).await;
    b.click("form[action='/account/login'] button[type=submit]").await;
    b.element("nav.account-nav").await;

    b.client.goto(&format!("{}/account/orders", app.address)).await.unwrap();
    b.fill("input[name=order_number]", "browser-%").await;
    b.click("input[name=state][value=Delayed]").await;
    b.click("form.filters button[type=submit]").await;
    // The page before has the same table: wait for the new address instead.
    let mut url = b.url().await;
    for _ in 0..100 {
        if url.contains("order_number=") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        url = b.url().await;
    }
    assert!(url.contains("order_number=browser-%25") && url.contains("state=Delayed"), "filters in the URL: {url}");
    let rows = b.client.find_all(fantoccini::Locator::Css("table.orders tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1, "only the one order matches");
    b.click(&format!("table.orders a[href='/account/orders/{}']", order.billnumber)).await;
    assert_eq!(b.text("#state").await, "Delayed");

    // Confirm 100.00 of the 120.00.
    b.fill("form.confirm input[name=amount]", "100.00").await;
    b.click("form.confirm button[type=submit]").await;
    assert!(b.text("p.notice").await.contains("Done: confirm"));
    // Confirmed in part: the other 20.00 stays held until it is cancelled or released.
    assert_eq!(b.text("#state").await, "PartialDelayed");

    // Cancel 30.00: the plan first, then the cancel itself.
    b.fill("form.cancel input[name=amount]", "30.00").await;
    b.click("form.cancel button[type=submit]").await;
    assert_eq!(b.text("#total").await, "30.00 RUB");
    assert_eq!(b.text("#reverse").await, "30.00 RUB", "not settled yet: a reversal");
    assert_eq!(b.text("#refund").await, "0.00 RUB");
    b.click("form[action$='/cancel'] button[type=submit]").await;
    assert!(b.text("p.notice").await.contains("Done: cancel"));
    assert_eq!(b.text("#state").await, "PartialCanceled");
    let shot = b.client.screenshot().await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/account-order-page.png");
    std::fs::write(&path, shot).unwrap();
    eprintln!("screenshot of the order page: {}", path.display());

    // The monitor shows the new state.
    b.client.goto(&format!("{}/account/orders?billnumber={}", app.address, order.billnumber)).await.unwrap();
    assert!(b.text("table.orders tbody").await.contains("PartialCanceled"));
}
