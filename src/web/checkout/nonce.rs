//! The one-time nonce of a rendered payment form. It is signed, so only Kassa issues it, and it
//! is spent (recorded) when the form is posted: a second «Charge», a second tab or a replayed
//! POST finds it spent and starts no second payment. Rendering writes nothing, so the page
//! itself stays a pure read.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::models::{Merchant, Order};

type HmacSha256 = Hmac<Sha256>;

fn mac(order: &Order, merchant: &Merchant, nonce: &str) -> HmacSha256 {
    // The merchant's secret never leaves the server, and the order id is never shown, so a
    // nonce of one order cannot be forged for another.
    let mut mac = HmacSha256::new_from_slice(merchant.secret_md5.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"kassa-checkout-nonce\0");
    mac.update(order.id.0.as_bytes());
    mac.update(b"\0");
    mac.update(nonce.as_bytes());
    mac
}

/// A fresh `<random>.<signature>` for a form.
pub fn issue(order: &Order, merchant: &Merchant) -> String {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let sig = hex::encode(mac(order, merchant, &nonce).finalize().into_bytes());
    format!("{nonce}.{sig}")
}

/// The random part of a genuine form nonce, or `None`.
pub fn verify<'a>(order: &Order, merchant: &Merchant, posted: &'a str) -> Option<&'a str> {
    let (nonce, sig) = posted.split_once('.')?;
    let sig = hex::decode(sig).ok()?;
    mac(order, merchant, nonce).verify_slice(&sig).ok()?;
    Some(nonce)
}

/// Spends a verified nonce; false when it was spent already.
pub async fn spend(
    state: &crate::startup::AppState,
    order: &Order,
    nonce: &str,
) -> Result<bool, crate::db::StoreError> {
    let (nonce, id) = (nonce.to_owned(), order.id.clone());
    let spent = state
        .gateway
        .store
        .write(move |c| {
            crate::db::models::spend_nonce(c, &nonce, &id, crate::db::now()).map_err(crate::db::StoreError::from)
        })
        .await;
    match spent {
        // Two concurrent posts on PostgreSQL: the loser hits the primary key.
        Err(e) if e.is_unique_violation() => Ok(false),
        other => other,
    }
}
