//! Bad input to create order: a typed error naming the field, and no row written.

mod common;

use common::*;
use kassa::assist::checkvalue::{self, RequestMode, Variant};
use kassa::gateway::OrderRequest;

async fn refused(t: &TestGateway, r: OrderRequest, code: &str, field: Option<&str>) {
    let before = t.count_orders().await;
    let err = t.gateway.create_order(r.clone()).await.expect_err("must be refused");
    assert_eq!((err.code(), err.field()), (code, field), "{r:?}: {err}");
    assert_eq!(t.count_orders().await, before, "no row written for {r:?}");
}

#[tokio::test]
async fn each_malformed_field_is_named() {
    let t = spawn_gateway().await;
    let ok = request(&t.merchant, "v-1", "10.00");
    let with = |f: &dyn Fn(&mut OrderRequest)| {
        let mut r = ok.clone();
        f(&mut r);
        r
    };
    let invalid = "invalid_field";
    let cases: Vec<(OrderRequest, &str, Option<&str>)> = vec![
        (with(&|r| r.merchant_id = "abc".into()), invalid, Some("Merchant_ID")),
        (with(&|r| r.merchant_id = "-5".into()), invalid, Some("Merchant_ID")),
        (with(&|r| r.merchant_id = "999999".into()), "unknown_merchant", Some("Merchant_ID")),
        (with(&|r| r.order_number = "".into()), invalid, Some("OrderNumber")),
        (with(&|r| r.order_number = "x".repeat(129)), invalid, Some("OrderNumber")),
        (with(&|r| r.order_number = "a\u{0}b".into()), invalid, Some("OrderNumber")),
        (with(&|r| r.order_amount = "ten".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "10.345".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "0".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "0.00".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "-10.00".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "1234567890123456".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_amount = "".into()), invalid, Some("OrderAmount")),
        (with(&|r| r.order_currency = Some("XYZ".into())), invalid, Some("OrderCurrency")),
        (with(&|r| r.order_currency = Some("JPY".into())), "currency_not_allowed", Some("OrderCurrency")),
        (with(&|r| r.order_comment = Some("x".repeat(10 * 1024))), invalid, Some("OrderComment")),
        (with(&|r| r.delay = Some("2".into())), invalid, Some("Delay")),
        (with(&|r| r.language = Some("DE".into())), invalid, Some("Language")),
        (with(&|r| r.email = Some("not-an-email".into())), invalid, Some("Email")),
        (with(&|r| r.lastname = Some("L".repeat(71))), invalid, Some("Lastname")),
        (with(&|r| r.client_ip = Some("300.1.1.1".into())), invalid, Some("ClientIP")),
        (with(&|r| r.url_return_ok = Some("javascript:alert(1)".into())), invalid, Some("URL_RETURN_OK")),
        (with(&|r| r.card_payment = Some("0".into())), invalid, Some("CardPayment")),
        (with(&|r| r.wallet_payment = Some("1".into())), "means_not_allowed", None),
    ];
    for (r, code, field) in cases {
        refused(&t, r, code, field).await;
    }
    assert_eq!(t.count_orders().await, 0);
    t.gateway.create_order(ok).await.expect("the unmodified request is fine");
    assert_eq!(t.count_orders().await, 1);
}

#[tokio::test]
async fn merchant_settings_are_enforced() {
    let t = spawn_gateway().await;
    let one_stage_only = add_merchant(&t.gateway, 2002, |m| m.two_stage_allowed = false).await;
    refused(&t, two_stage(request(&one_stage_only, "d-1", "10.00")), "two_stage_not_allowed", Some("Delay")).await;
    let inactive = add_merchant(&t.gateway, 2003, |m| m.active = false).await;
    refused(&t, request(&inactive, "i-1", "10.00"), "merchant_inactive", Some("Merchant_ID")).await;
    // 3 decimals are fine for KWD, not for RUB.
    let kwd = add_merchant(&t.gateway, 2004, |m| {
        m.currencies = "KWD".into();
        m.payment_currency = "KWD".into();
    })
    .await;
    let mut r = request(&kwd, "k-1", "1.234");
    r.order_currency = Some("KWD".into());
    assert_eq!(t.gateway.create_order(r).await.unwrap().amount, 1_234);
}

#[tokio::test]
async fn order_currency_is_converted_with_the_rate() {
    let t = spawn_gateway().await;
    let (ts, id) = (kassa::db::now() - time::Duration::hours(1), kassa::db::new_id());
    t.gateway
        .store
        .write(move |c| {
            use diesel::prelude::*;
            use kassa::db::schema::exchange_rates as r;
            diesel::insert_into(r::table)
                .values((
                    r::id.eq(id),
                    r::from_currency.eq("USD"),
                    r::to_currency.eq("RUB"),
                    r::rate.eq("92.1234"),
                    r::valid_from.eq(ts),
                ))
                .execute(c)
                .map_err(kassa::db::StoreError::from)
        })
        .await
        .unwrap();
    let mut r = request(&t.merchant, "usd-1", "10.00");
    r.order_currency = Some("USD".into());
    let order = t.gateway.create_order(r).await.unwrap();
    assert_eq!((order.original_amount, order.original_currency.as_str()), (1_000, "USD"));
    assert_eq!((order.amount, order.currency.as_str(), order.rate.as_str()), (92_123, "RUB", "92.1234"));
    let mut r = request(&t.merchant, "eur-1", "10.00");
    r.order_currency = Some("EUR".into());
    refused(&t, r, "no_exchange_rate", Some("OrderCurrency")).await;
}

#[tokio::test]
async fn check_values_in_both_request_modes() {
    let t = spawn_gateway().await;
    for (number, mode) in [(3001, RequestMode::Delimited), (3002, RequestMode::Concatenated)] {
        let m = add_merchant(&t.gateway, number, |m| m.checkvalue_mode = mode.as_str().into()).await;
        let mut r = request(&m, &format!("cv-{number}"), "100.00");
        refused(&t, r.clone(), "invalid_field", Some("Checkvalue")).await;
        let x = checkvalue::request_string(mode, [&r.merchant_id, &r.order_number, &r.order_amount, "RUB"], &[]);
        let secret = checkvalue::md5_hex(SECRET);
        r.checkvalue = Some("0".repeat(32));
        refused(&t, r.clone(), "bad_checkvalue", Some("Checkvalue")).await;
        // Signed for another amount.
        r.checkvalue = Some(checkvalue::compute(&secret, &x.replace("100.00", "1.00"), Variant::B));
        refused(&t, r.clone(), "bad_checkvalue", Some("Checkvalue")).await;
        for variant in [Variant::A, Variant::B] {
            let mut signed = r.clone();
            signed.order_number = format!("cv-{number}-{variant:?}");
            let x = checkvalue::request_string(mode, [&signed.merchant_id, &signed.order_number, "100.00", "RUB"], &[]);
            signed.checkvalue = Some(checkvalue::compute(&secret, &x, variant));
            t.gateway.create_order(signed).await.unwrap_or_else(|e| panic!("{mode:?} {variant:?}: {e}"));
        }
    }
}
