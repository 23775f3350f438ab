//! The Order Monitor's CSV export over more rows than one read of the database: the export
//! reads the view 1,000 rows at a time along the keyset, and every row must come out once.

mod common;

use common::account::{add_account_user, bulk_orders, get, signed_in};
use common::{add_merchant, request, spawn_app};

/// The billnumbers of an export, in its order, after checking its header.
fn exported(csv: &str) -> Vec<String> {
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert_eq!(header[3], "billnumber", "{header:?}");
    lines.map(|l| l.split(',').nth(3).expect("a billnumber").to_owned()).collect()
}

/// Exactly `expect`, each once.
fn assert_once_each(got: &[String], expect: &[String], what: &str) {
    assert_eq!(got.len(), expect.len(), "{what}: as many rows as orders");
    let (mut got, mut expect) = (got.to_vec(), expect.to_vec());
    got.sort();
    got.dedup();
    assert_eq!(got.len(), expect.len(), "{what}: a billnumber exported twice");
    expect.sort();
    assert_eq!(got, expect, "{what}: the same billnumbers");
}

#[tokio::test]
async fn the_export_crosses_its_chunks_without_a_gap_or_a_repeat() {
    let app = spawn_app().await;
    let m = add_merchant(&app.gateway, 2401, |_| {}).await;
    add_account_user(&app, &m, "shop_viewer", "viewer").await;
    let template = app.gateway.create_order(request(&m, "template", "5.00")).await.unwrap();
    // Two orders a second, so equal times fall on the chunk boundaries too and the keyset's
    // tie-break by id is what keeps the rows apart; two in three approved with a card.
    let bulk = bulk_orders(&app, &template, 2_300, |i, o| {
        o.created_at = template.created_at - time::Duration::seconds(1 + i as i64 / 2);
        o.updated_at = o.created_at;
        if i % 3 == 0 {
            o.state = "Declined".into();
        } else {
            o.state = "Approved".into();
            o.card_brand = Some("VISA".into());
            o.card_last4 = Some(format!("{:04}", i % 10_000));
        }
    })
    .await;
    let c = signed_in(&app, "shop_viewer").await;

    // 2,301 rows: two full chunks and a part.
    let all = exported(&get(&c, &format!("{}/account/orders.csv", app.address)).await.body);
    let mut expect: Vec<String> = bulk.iter().map(|o| o.billnumber.clone()).collect();
    expect.push(template.billnumber.clone());
    assert_once_each(&all, &expect, "unfiltered");
    assert_eq!(all.first(), Some(&template.billnumber), "newest first");

    // 1,533 rows: one full chunk and a part, read off the state index.
    let approved = exported(&get(&c, &format!("{}/account/orders.csv?state=Approved", app.address)).await.body);
    let expect: Vec<String> = bulk.iter().filter(|o| o.state == "Approved").map(|o| o.billnumber.clone()).collect();
    assert_eq!(expect.len(), 1_533);
    assert_once_each(&approved, &expect, "state=Approved");
    // Oldest first, the other direction of the same keyset.
    let mut oldest = exported(&get(&c, &format!("{}/account/orders.csv?sort=date_asc", app.address)).await.body);
    oldest.reverse();
    assert_eq!(oldest, all, "the same rows in the other direction");
}
