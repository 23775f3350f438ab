//! The hosted checkout over HTTP: entry errors, the customer's pages, each test card, 3-D
//! Secure, the e-wallet, double «Charge», expiry, retry, return URLs, escaping and headers.

mod common;

use common::checkout::*;
use common::*;
use kassa::domain::OrderState;

#[tokio::test]
async fn entry_errors_name_the_field_with_status_400_and_create_nothing() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |m| m.checkvalue_mode = "delimited".into()).await;
    let one_stage_only = add_merchant(&app.gateway, 1002, |m| m.two_stage_allowed = false).await;
    let base = order_fields(&m, "E-1", "100.00");
    let plain = order_fields(&one_stage_only, "E-2", "100.00");
    let cases: Vec<(Vec<(String, String)>, &str)> = vec![
        (with(plain.clone(), "Merchant_ID", "999999"), "Merchant_ID"),
        (with(plain.clone(), "Merchant_ID", "abc"), "Merchant_ID"),
        (without(plain.clone(), "OrderNumber"), "OrderNumber"),
        (with(plain.clone(), "OrderAmount", "12.345"), "OrderAmount"),
        (without(plain.clone(), "OrderAmount"), "OrderAmount"),
        (with(plain.clone(), "OrderCurrency", "XYZ"), "OrderCurrency"),
        (with(plain.clone(), "OrderCurrency", "KZT"), "OrderCurrency"),
        (with(plain.clone(), "Delay", "1"), "Delay"),
        (with(with(plain.clone(), "CardPayment", "0"), "WalletPayment", "0"), "CardPayment"),
        (with(with(plain.clone(), "CardPayment", "0"), "YMPayment", "0"), "CardPayment"),
        (with(with(plain.clone(), "YMPayment", "0"), "ApplePayPayment", "0"), "CardPayment"),
        (with(plain.clone(), "Email", "not-an-address"), "Email"),
        (with(plain.clone(), "URL_RETURN_OK", "javascript:alert(1)"), "URL_RETURN_OK"),
        (base.clone(), "Checkvalue"),
        (with(base.clone(), "Checkvalue", "0123456789ABCDEF0123456789ABCDEF"), "Checkvalue"),
    ];
    for (fields, field) in cases {
        let p = app.post("/pay/order.cfm", &fields).await;
        assert_eq!(p.status, 400, "{field}: {}", p.body);
        assert!(p.body.contains(field), "the page names {field}: {}", p.body);
        assert!(p.body.contains("cannot be accepted"), "English as asked: {}", p.body);
    }
    assert_eq!(order_count(&app).await, 0, "an error creates nothing");
    // A flag of a means Kassa lacks is accepted and ignored.
    assert_eq!(app.post("/pay/order.cfm", &with(plain.clone(), "YMPayment", "1")).await.status, 303);

    // Russian by default; the browser's language when the request names none.
    let p = app.post("/pay/order.cfm", &without(with(plain.clone(), "OrderAmount", "x"), "Language")).await;
    assert!(p.body.contains("Поле OrderAmount"), "{}", p.body);
    let r = client()
        .post(format!("{}/pay/order.cfm", app.address))
        .header("Accept-Language", "en-GB,en;q=0.8")
        .form(&without(with(plain, "OrderAmount", "x"), "Language"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("The field OrderAmount"));
}

#[tokio::test]
async fn a_signed_request_with_any_name_case_opens_an_opaque_page_by_post_or_get() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |m| m.checkvalue_mode = "delimited".into()).await;
    let x = kassa::assist::checkvalue::request_string(
        kassa::assist::checkvalue::RequestMode::Delimited,
        ["1001", "C-1", "150.00", "RUB"],
        &[],
    );
    let cv = kassa::assist::checkvalue::compute(&m.secret_md5, &x, kassa::assist::checkvalue::Variant::B);
    let query = format!("merchant_id=1001&ORDERNUMBER=C-1&orderamount=150.00&OrderCurrency=RUB&checkvalue={cv}");
    let p = app.get(&format!("/pay/order.cfm?{query}")).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let path = p.location();
    let token = path.strip_prefix("/pay/").unwrap();
    assert_eq!(token.len(), 64);
    let order = attempts(&app, &m, "C-1").await.remove(0);
    assert!(!path.contains(&order.id.0) && !path.contains(&order.billnumber));
    assert_eq!(order.state(), OrderState::InProcess);
    // The same request again (reload, back) lands on the same page and the same attempt.
    assert_eq!(app.get(&format!("/pay/order.cfm?{query}")).await.location(), path);
    assert_eq!(attempts(&app, &m, "C-1").await.len(), 1);
    // An unknown or malformed token is a 404 page.
    assert_eq!(app.get(&format!("/pay/{}", "0".repeat(64))).await.status, 404);
    assert_eq!(app.get("/pay/nothing").await.status, 404);
}

#[tokio::test]
async fn one_stage_and_two_stage_happy_paths_return_to_the_shop() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    for (number, delay, state, text) in
        [("H-1", "0", OrderState::Approved, "Payment successful"), ("H-2", "1", OrderState::Delayed, "held")]
    {
        let fields = with(order_fields(&m, number, "1500.00"), "Delay", delay);
        let fields = with(fields, "URL_RETURN_OK", "https://shop.example/ok?from=kassa");
        let fields = with(fields, "URL_RETURN_NO", "https://shop.example/no");
        let path = app.open(&fields).await;
        let form = app.get(&path).await;
        assert!(form.body.contains("1,500.00"), "amount in the currency's format: {}", form.body);
        let charged = app.charge(&path, "4111 1111 1111 1111").await;
        assert_eq!(charged.status, 303);
        assert_eq!(charged.location(), path);
        let result = app.get(&path).await;
        assert!(result.body.contains(text), "{}", result.body);
        assert!(!result.body.contains("4111"), "no card number after the form");
        let order = attempts(&app, &m, number).await.remove(0);
        assert_eq!(order.state(), state);
        let back = format!("https://shop.example/ok?from=kassa&billnumber={}&ordernumber={number}", order.billnumber);
        assert!(unescape(&result.body).contains(&back), "return link {back} in {}", result.body);
    }
}

#[tokio::test]
async fn each_test_card_through_the_pages() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let rows = [
        ("4242 4242 4242 4242", OrderState::Approved, "Payment successful"),
        ("5555 5555 5555 4444", OrderState::Approved, "Payment successful"),
        ("2200 0000 0000 0004", OrderState::Approved, "Payment successful"),
        ("4000 0000 0000 0002", OrderState::Declined, "The bank declined the payment"),
        ("4000 0000 0000 9995", OrderState::Declined, "Insufficient funds"),
        ("4000 0000 0000 0069", OrderState::Declined, "The card has expired"),
        ("4000 0000 0000 0127", OrderState::Declined, "Wrong card data"),
        ("4000 0000 0000 0077", OrderState::Declined, "security reasons"),
        ("4000 0000 0000 0119", OrderState::Declined, "could not be processed"),
        ("4000 0000 0000 0341", OrderState::Declined, "could not be processed"),
        ("4000 0000 0000 7775", OrderState::Approved, "Payment successful"),
    ];
    for (i, (card, state, text)) in rows.iter().enumerate() {
        let number = format!("T-{i}");
        let path = app.open(&order_fields(&m, &number, "10.00")).await;
        assert_eq!(app.charge(&path, card).await.status, 303, "{card}");
        let result = app.get(&path).await;
        assert!(result.body.contains(text), "{card}: {}", result.body);
        assert_eq!(attempts(&app, &m, &number).await[0].state(), *state, "{card}");
    }
    // Amex: a 4-digit CVC.
    let path = app.open(&order_fields(&m, "T-amex", "10.00")).await;
    let form = app.get(&path).await;
    let p = app.post_card(&path, &form.input("nonce"), "3782 822463 10005", "12", "2030", "1234").await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(attempts(&app, &m, "T-amex").await[0].state(), OrderState::Approved);
}

#[tokio::test]
async fn three_d_secure_pass_fail_and_abandon() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    for (i, (card, choice, state)) in [
        ("4000 0000 0000 3220", "pass", OrderState::Approved),
        ("4000 0000 0000 3220", "fail", OrderState::Declined),
        ("4000 0000 0000 3220", "abandon", OrderState::Declined),
        ("4000 0084 0000 1629", "pass", OrderState::Declined),
    ]
    .into_iter()
    .enumerate()
    {
        let number = format!("S-{i}");
        let path = app.open(&order_fields(&m, &number, "10.00")).await;
        assert_eq!(app.charge(&path, card).await.location(), path);
        let challenge = app.get(&path).await;
        assert!(challenge.body.contains("3-D Secure"), "{}", challenge.body);
        let p = app.post(&format!("{path}/challenge"), &[field("result", choice)]).await;
        assert_eq!(p.status, 303);
        assert_eq!(attempts(&app, &m, &number).await[0].state(), state, "{card} {choice}");
        // Answering again changes nothing.
        assert_eq!(app.post(&format!("{path}/challenge"), &[field("result", "pass")]).await.status, 303);
        assert_eq!(attempts(&app, &m, &number).await[0].state(), state);
    }
}

#[tokio::test]
async fn double_charge_and_replay_make_one_payment_operation() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&order_fields(&m, "D-1", "10.00")).await;
    let form = app.get(&path).await;
    let nonce = form.input("nonce");
    // Two presses at once, then a replay of the same POST.
    let (a, b) = tokio::join!(
        app.post_card(&path, &nonce, "4111111111111111", "12", "2030", "123"),
        app.post_card(&path, &nonce, "4111111111111111", "12", "2030", "123"),
    );
    assert_eq!((a.status, b.status), (303, 303));
    let replay = app.post_card(&path, &nonce, "4111111111111111", "12", "2030", "123").await;
    assert_eq!(replay.status, 303);
    // A second tab with its own fresh form: the order is paid, so nothing more happens.
    let second_tab = app.post_card(&path, &form.input("nonce"), "4242424242424242", "12", "2030", "123").await;
    assert_eq!(second_tab.status, 303);
    let order = attempts(&app, &m, "D-1").await.remove(0);
    assert_eq!(order.state(), OrderState::Approved);
    assert_eq!(operations(&app, &order).await.len(), 1);
    // In the audit log once: the replays spent no nonce and the second tab found the order paid,
    // so neither tried to pay. Never card data.
    let audited: Vec<_> = audit_entries(&app.gateway.store, "checkout.pay")
        .await
        .into_iter()
        .filter(|e| e.order_id.as_deref() == Some(order.id.0.as_str()))
        .collect();
    assert_eq!(audited.len(), 1, "{audited:?}");
    let paid = &audited[0];
    assert_eq!(paid.outcome, "ok");
    assert_eq!((paid.actor_kind.as_str(), paid.ip.as_deref()), ("customer", Some("127.0.0.1")));
    assert_eq!(paid.detail["state"], "Approved");
    assert_eq!((paid.detail["amount"].as_str(), paid.detail["means"].as_str()), (Some("10.00"), Some("card")));
    assert!(!paid.detail.to_string().contains("4111"));

    // Two tabs rendered before either pays: the second finds the payment done.
    let path = app.open(&order_fields(&m, "D-2", "10.00")).await;
    let (tab1, tab2) = (app.get(&path).await.input("nonce"), app.get(&path).await.input("nonce"));
    assert_ne!(tab1, tab2, "a nonce per rendered form");
    app.post_card(&path, &tab1, "4111111111111111", "12", "2030", "123").await;
    app.post_card(&path, &tab2, "4111111111111111", "12", "2030", "123").await;
    let order = attempts(&app, &m, "D-2").await.remove(0);
    assert_eq!(operations(&app, &order).await.len(), 1);

    // A forged nonce is refused without a payment.
    let path = app.open(&order_fields(&m, "D-3", "10.00")).await;
    let p = app.post_card(&path, "00.00", "4111111111111111", "12", "2030", "123").await;
    assert_eq!(p.status, 400);
    assert!(operations(&app, &attempts(&app, &m, "D-3").await[0]).await.is_empty());
}

#[tokio::test]
async fn the_page_expires_into_timeout() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&order_fields(&m, "X-1", "10.00")).await;
    let nonce = app.get(&path).await.input("nonce");
    // The payment time (at least a minute) runs out while the form is open.
    let id = attempts(&app, &m, "X-1").await[0].id.clone();
    app.gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            use kassa::db::schema::orders;
            let past = kassa::db::now() - time::Duration::seconds(1);
            diesel::update(orders::table.find(&id)).set(orders::expires_at.eq(past)).execute(c)?;
            Ok::<_, kassa::db::StoreError>(())
        })
        .await
        .unwrap();
    let p = app.post_card(&path, &nonce, "4111111111111111", "12", "2030", "123").await;
    assert_eq!(p.status, 303);
    let page = app.get(&path).await;
    assert!(page.body.contains("payment time has run out"), "{}", page.body);
    let order = attempts(&app, &m, "X-1").await.remove(0);
    assert_eq!(order.state(), OrderState::Timeout);
    assert!(operations(&app, &order).await.is_empty());
}

#[tokio::test]
async fn a_declined_order_is_retried_with_a_new_billnumber() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&order_fields(&m, "R-1", "10.00")).await;
    app.charge(&path, "4000 0000 0000 0002").await;
    let result = app.get(&path).await;
    assert!(result.body.contains("/retry"), "{}", result.body);
    let p = app.post(&format!("{path}/retry"), &[]).await;
    assert_eq!(p.status, 303);
    let second = p.location();
    assert_ne!(second, path);
    // Pressing again (back button) gives the same new attempt.
    assert_eq!(app.post(&format!("{path}/retry"), &[]).await.location(), second);
    app.charge(&second, "4111 1111 1111 1111").await;
    let all = attempts(&app, &m, "R-1").await;
    assert_eq!(all.len(), 2);
    assert_eq!((all[0].state(), all[1].state()), (OrderState::Declined, OrderState::Approved));
    assert_ne!(all[0].billnumber, all[1].billnumber);
    // A paid attempt offers no retry.
    assert!(!app.get(&second).await.body.contains("/retry"));
    assert_eq!(app.post(&format!("{second}/retry"), &[]).await.location(), second);
}

#[tokio::test]
async fn return_urls_follow_the_request_then_the_merchant() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |m| {
        m.url_return_ok = Some("https://stored.example/ok".into());
        m.url_return = Some("https://stored.example/any".into());
    })
    .await;
    // Request's URL_RETURN for a failure; merchant's stored OK URL for a success.
    let fields = with(order_fields(&m, "U 1/2", "10.00"), "URL_RETURN", "https://req.example/back");
    let path = app.open(&fields).await;
    app.charge(&path, "4000 0000 0000 0002").await;
    let bill = attempts(&app, &m, "U 1/2").await[0].billnumber.clone();
    let body = unescape(&app.get(&path).await.body);
    assert!(body.contains(&format!("https://req.example/back?billnumber={bill}&ordernumber=U%201%2F2")), "{body}");

    let path = app.open(&order_fields(&m, "U-2", "10.00")).await;
    app.charge(&path, "4111 1111 1111 1111").await;
    let bill = attempts(&app, &m, "U-2").await[0].billnumber.clone();
    let body = unescape(&app.get(&path).await.body);
    assert!(body.contains(&format!("https://stored.example/ok?billnumber={bill}&ordernumber=U-2")), "{body}");

    // Without any URL the result page stays, with no link away.
    let bare = add_merchant(&app.gateway, 1002, |_| {}).await;
    let path = app.open(&order_fields(&bare, "U-3", "10.00")).await;
    app.charge(&path, "4111 1111 1111 1111").await;
    assert!(!app.get(&path).await.body.contains("back-to-shop"));
}

#[tokio::test]
async fn missing_customer_fields_are_asked_and_checked() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let fields = without(without(order_fields(&m, "P-1", "10.00"), "Email"), "Firstname");
    let path = app.open(&fields).await;
    let page = app.get(&path).await;
    assert!(page.body.contains("name=\"email\"") && page.body.contains("name=\"firstname\""));
    assert!(!page.body.contains("name=\"lastname\""), "the sent last name is not asked again");
    assert!(!page.body.contains("name=\"number\""), "no card form before the details");
    let bad = app.post(&format!("{path}/customer"), &[field("firstname", "Ivan"), field("email", "ivan@")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("This is not an e-mail address."), "{}", bad.body);
    assert_eq!(bad.input("firstname"), "Ivan");
    let good =
        app.post(&format!("{path}/customer"), &[field("firstname", "Ivan"), field("email", "ivan@example.com")]).await;
    assert_eq!(good.status, 303);
    assert!(app.get(&path).await.body.contains("name=\"number\""));
    let order = attempts(&app, &m, "P-1").await.remove(0);
    assert_eq!((order.firstname.as_deref(), order.email.as_deref()), (Some("Ivan"), Some("ivan@example.com")));
}

#[tokio::test]
async fn the_card_form_checks_fields_and_keeps_values_except_the_cvc() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&order_fields(&m, "V-1", "10.00")).await;
    let nonce = app.get(&path).await.input("nonce");
    let p = app.post_card(&path, &nonce, "4111 1111 1111 1112", "01", "2020", "98").await;
    assert_eq!(p.status, 422);
    for message in ["The card number is not valid.", "The card has expired.", "The CVC is 3 digits"] {
        assert!(p.body.contains(message), "{message}: {}", p.body);
    }
    assert_eq!(p.input("number"), "4111 1111 1111 1112");
    assert_eq!((p.input("month"), p.input("year")), ("01".to_owned(), "2020".to_owned()));
    assert_eq!(p.input("cvc"), "", "the CVC is never sent back");
    let p = app.post_card(&path, &p.input("nonce"), "4111 1111 1111 1111", "13", "30", "123").await;
    assert!(p.body.contains("The expiry date is not valid."));
    assert!(operations(&app, &attempts(&app, &m, "V-1").await[0]).await.is_empty());
    // The same form nonce still works once the data is right.
    assert_eq!(app.post_card(&path, &p.input("nonce"), "4111111111111111", "12", "30", "123").await.status, 303);
    assert_eq!(attempts(&app, &m, "V-1").await[0].state(), OrderState::Approved);
}

#[tokio::test]
async fn method_choice_and_the_e_wallet() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |m| m.payment_means = "card,wallet".into()).await;
    let path = app.open(&order_fields(&m, "W-1", "10.00")).await;
    let choice = app.get(&path).await;
    assert!(choice.body.contains("?method=card") && choice.body.contains("?method=wallet"), "{}", choice.body);
    // The request's flags narrow the choice: card only skips the choice.
    let only_card = app.open(&with(order_fields(&m, "W-0", "10.00"), "CardPayment", "1")).await;
    assert!(app.get(&only_card).await.body.contains("name=\"number\""));

    let wallet = app.get(&format!("{path}?method=wallet")).await;
    let p = app
        .post(
            &format!("{path}/wallet"),
            &[field("nonce", &wallet.input("nonce")), field("wallet_id", "demo-wallet"), field("code", "1111")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert!(app.get(&path).await.body.contains("The bank declined the payment"));
    assert_eq!(attempts(&app, &m, "W-1").await[0].state(), OrderState::Declined);

    let path = app.open(&order_fields(&m, "W-2", "10.00")).await;
    let wallet = app.get(&format!("{path}?method=wallet")).await;
    let fields = [field("nonce", &wallet.input("nonce")), field("wallet_id", "demo-wallet"), field("code", "0000")];
    assert_eq!(app.post(&format!("{path}/wallet"), &fields).await.status, 303);
    assert_eq!(app.post(&format!("{path}/wallet"), &fields).await.status, 303, "replay");
    let order = attempts(&app, &m, "W-2").await.remove(0);
    assert_eq!(order.state(), OrderState::Approved);
    assert_eq!(operations(&app, &order).await.len(), 1);
}

#[tokio::test]
async fn html_in_the_comment_and_customer_fields_is_escaped() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let fields = with(order_fields(&m, "<b>N</b>", "10.00"), "OrderComment", "<script>alert('x')</script> & \"q\"");
    let fields = without(with(fields, "Lastname", "<img src=x onerror=alert(1)>"), "Email");
    let path = app.open(&fields).await;
    let page = app.get(&path).await;
    assert!(!page.body.contains("<script>alert") && !page.body.contains("<b>N</b>"), "{}", page.body);
    assert!(page.body.contains("&#60;script&#62;") && page.body.contains("&#60;b&#62;N&#60;/b&#62;"), "{}", page.body);
    let bad = app.post(&format!("{path}/customer"), &[field("email", "\"><script>alert(1)</script>")]).await;
    assert!(!bad.body.contains("<script>alert(1)"), "{}", bad.body);
}

#[tokio::test]
async fn security_headers_on_every_checkout_response() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let entry_error = app.post("/pay/order.cfm", &with(order_fields(&m, "Z-1", "x"), "Language", "EN")).await;
    let redirect = app.post("/pay/order.cfm", &order_fields(&m, "Z-2", "10.00")).await;
    let page = app.get(&redirect.location()).await;
    let result = app.charge(&redirect.location(), "4000 0000 0000 0002").await;
    let missing = app.get(&format!("/pay/{}", "a".repeat(64))).await;
    for p in [&entry_error, &redirect, &page, &result, &missing] {
        assert_eq!(p.header("cache-control"), "no-store");
        let csp = p.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("http:") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(p.header("referrer-policy"), "no-referrer");
        assert_eq!(p.header("x-content-type-options"), "nosniff");
    }
    assert!(page.body.contains("/static/checkout/checkout-1.css") && !page.body.contains("<script"));
    // An unreadable form gets the checkout's page and headers too.
    let r = client()
        .post(format!("{}/pay/order.cfm", app.address))
        .header("content-type", "text/plain")
        .header("Accept-Language", "en")
        .body("Merchant_ID=1001")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.text().await.unwrap().contains("The form is not filled in correctly"));
    let css = app.get("/static/checkout/checkout-1.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.header("cache-control").contains("max-age="));
}

#[tokio::test]
async fn pages_speak_the_requested_or_the_browsers_language() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&with(order_fields(&m, "L-1", "1500.00"), "Language", "RU")).await;
    let ru = app.get_lang(&path, "en").await;
    assert!(ru.body.contains("Данные карты") && ru.body.contains("1\u{202f}500,00\u{a0}₽"), "{}", ru.body);
    let r = client()
        .post(format!("{}/pay/order.cfm", app.address))
        .header("Accept-Language", "en-US,en;q=0.9,ru;q=0.5")
        .form(&without(order_fields(&m, "L-2", "10.00"), "Language"))
        .send()
        .await
        .unwrap();
    let path = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(app.get(&path).await.body.contains("Card details"));
    let path = app.open(&without(order_fields(&m, "L-3", "10.00"), "Language")).await;
    assert!(app.get(&path).await.body.contains("Данные карты"), "Russian without any preference");
}

#[tokio::test]
async fn the_demo_shop_buys_and_shows_the_state_from_kassa() {
    let app = spawn_app().await;
    let demo = kassa::gateway::setup::demo(&app.gateway.store).await.unwrap();
    let shop = app.get("/demo-shop?lang=EN").await;
    assert_eq!(shop.status, 200);
    // The first product's form, as the browser would post it (one-stage).
    let start = shop.body.find("id=\"buy-1\"").unwrap();
    let form = &shop.body[start..start + shop.body[start..].find("</form>").unwrap()];
    let mut fields = Vec::new();
    for part in form.split("<input type=\"hidden\" ").skip(1) {
        let name = part.split("name=\"").nth(1).unwrap().split('"').next().unwrap();
        let value = part.split("value=\"").nth(1).unwrap().split('"').next().unwrap();
        fields.push(field(name, value));
    }
    assert!(fields.iter().any(|(k, v)| k == "Checkvalue" && v.len() == 32));
    fields.push(field("Delay", "0"));
    let path = app.open(&fields).await;
    let path = format!("{path}?method=card");
    let form = app.get(&path).await;
    let base = path.split('?').next().unwrap();
    let paid = app.post_card(base, &form.input("nonce"), "4111 1111 1111 1111", "12", "2030", "123").await;
    assert_eq!(paid.status, 303);
    let result = app.get(base).await;
    let href = result.body.split("id=\"back-to-shop\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    let href = unescape(href);
    assert!(href.starts_with(&format!("{}/demo-shop/return/ok?lang=EN&billnumber=", app.address)), "{href}");
    let back = app.get(href.strip_prefix(&app.address).unwrap()).await;
    assert!(back.body.contains("Approved") && back.body.contains("Thank you"), "{}", back.body);
    let order_number = &fields.iter().find(|(k, _)| k == "OrderNumber").unwrap().1;
    assert_eq!(attempts(&app, &demo.merchant, order_number).await[0].state(), OrderState::Approved);
}

#[tokio::test]
async fn a_merchant_may_allow_origins_to_frame_its_pages() {
    let app = spawn_app().await;
    let framed = add_merchant(&app.gateway, 1001, |_| {}).await;
    let plain = add_merchant(&app.gateway, 1002, |_| {}).await;
    let settings = kassa::db::models::CheckoutSettings {
        merchant_id: framed.id.clone(),
        frame_ancestors: "https://shop.example 'unsafe-inline' https://*.cdn.example:8443".into(),
        updated_at: kassa::db::now(),
    };
    app.gateway.store.write(move |c| settings.save(c).map_err(kassa::db::StoreError::from)).await.unwrap();
    let path = app.open(&order_fields(&framed, "F-1", "10.00")).await;
    let csp = app.get(&path).await.header("content-security-policy");
    assert!(csp.ends_with("frame-ancestors https://shop.example https://*.cdn.example:8443"), "{csp}");
    let path = app.open(&order_fields(&plain, "F-2", "10.00")).await;
    assert!(app.get(&path).await.header("content-security-policy").contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn the_success_page_returns_to_the_shop_by_itself() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 1001, |_| {}).await;
    let path = app.open(&with(order_fields(&m, "A-1", "10.00"), "URL_RETURN", "https://shop.example/r")).await;
    app.charge(&path, "4111 1111 1111 1111").await;
    let body = unescape(&app.get(&path).await.body);
    assert!(body.contains("<meta http-equiv=\"refresh\" content=\"5;url=https://shop.example/r?billnumber="), "{body}");
    // A declined payment stays, so the customer can try again.
    let path = app.open(&with(order_fields(&m, "A-2", "10.00"), "URL_RETURN", "https://shop.example/r")).await;
    app.charge(&path, "4000 0000 0000 0002").await;
    assert!(!app.get(&path).await.body.contains("http-equiv"));
}
