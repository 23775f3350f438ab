//! `Idempotency-Key` on every POST of the JSON API (Stripe semantics, IETF draft): the first
//! request with a key runs and its answer is stored; a retry with the same key and body gets
//! the stored answer; the same key with another body is 422; a retry while the first still
//! runs is 409. Keys are scoped per merchant and kept 48 hours (at least the promised 24).
//!
//! Answers with a 5xx status are not stored: the claim is released so that a retry runs again
//! (the use cases are themselves safe to repeat: confirm answers the earlier confirmation, a
//! cancel with the same external id the earlier cancel).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use super::error::ApiError;
use crate::db::models::MerchantId;
use crate::db::schema::idempotency_keys;
use crate::db::{self, AnyConnection, Store, StoreError};

const KEEP: time::Duration = time::Duration::hours(48);
/// A claim older than this whose request never finished (the process died) may be taken over.
const STALE: time::Duration = time::Duration::minutes(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request runs; call [`finish`] with its answer.
    New,
    /// The stored answer of the first request.
    Replay { status: u16, body: String },
    /// Another body was sent with this key.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// SHA-256 of method, path and body: what "the same request" means.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    hex::encode(h.finalize())
}

pub fn validate_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err(ApiError::invalid("Idempotency-Key", "1 to 255 visible ASCII characters"));
    }
    Ok(())
}

type Row = (String, String, Option<i32>, Option<String>, PrimitiveDateTime);

fn find(c: &mut AnyConnection, merchant: &MerchantId, key: &str) -> QueryResult<Option<Row>> {
    idempotency_keys::table
        .find((merchant, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::state,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
            idempotency_keys::created_at,
        ))
        .first(c)
        .optional()
}

fn decide(row: &Row, hash: &str, now: PrimitiveDateTime) -> Option<Claim> {
    let (stored_hash, state, status, body, created_at) = row;
    if stored_hash != hash {
        return Some(Claim::Mismatch);
    }
    match (state.as_str(), status, body) {
        ("done", Some(status), Some(body)) => Some(Claim::Replay { status: *status as u16, body: body.clone() }),
        _ if now - *created_at > STALE => None,
        _ => Some(Claim::InProgress),
    }
}

pub async fn claim(store: &Store, merchant: &MerchantId, key: &str, hash: &str) -> Result<Claim, StoreError> {
    let (m, k, h) = (merchant.clone(), key.to_owned(), hash.to_owned());
    let result = store
        .write(move |c| {
            let now = db::now();
            if rand::random::<u8>() == 0 {
                diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - KEEP)))
                    .execute(c)?;
            }
            if let Some(row) = find(c, &m, &k)? {
                match decide(&row, &h, now) {
                    Some(claim) => return Ok(claim),
                    // A stale claim: its request died; this one takes over.
                    None => {
                        diesel::delete(idempotency_keys::table.find((&m, &k))).execute(c)?;
                    }
                }
            }
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::merchant_id.eq(&m),
                    idempotency_keys::idempotency_key.eq(&k),
                    idempotency_keys::request_hash.eq(&h),
                    idempotency_keys::state.eq("in_progress"),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(c)?;
            Ok::<_, StoreError>(Claim::New)
        })
        .await;
    match result {
        // PostgreSQL: a concurrent first request inserted the key between our read and insert.
        Err(e) if e.is_unique_violation() => {
            let (m, k, h) = (merchant.clone(), key.to_owned(), hash.to_owned());
            let row = store.read(move |c| find(c, &m, &k).map_err(StoreError::from)).await?;
            Ok(row.and_then(|r| decide(&r, &h, db::now())).unwrap_or(Claim::InProgress))
        }
        other => other,
    }
}

/// Stores the answer of a claimed request (or releases the claim for a 5xx answer).
pub async fn finish(store: &Store, merchant: &MerchantId, key: &str, status: StatusCode, body: &str) {
    let (m, k, b) = (merchant.clone(), key.to_owned(), body.to_owned());
    let code = status.as_u16();
    let result = store
        .write(move |c| {
            let target = idempotency_keys::table.find((&m, &k));
            if code >= 500 {
                diesel::delete(target).execute(c)?;
            } else {
                diesel::update(target)
                    .set((
                        idempotency_keys::state.eq("done"),
                        idempotency_keys::response_status.eq(Some(i32::from(code))),
                        idempotency_keys::response_body.eq(Some(b)),
                    ))
                    .execute(c)?;
            }
            Ok::<_, StoreError>(())
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "idempotency key not finished");
    }
}

pub fn replay(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .insert_header(("Idempotent-Replayed", "true"))
        .content_type("application/json")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_mismatch_in_progress_and_stale() {
        let now = db::now();
        let row = |state: &str, at| -> Row { ("h1".into(), state.into(), Some(201), Some("{}".into()), at) };
        assert_eq!(decide(&row("done", now), "h1", now), Some(Claim::Replay { status: 201, body: "{}".into() }));
        assert_eq!(decide(&row("done", now), "h2", now), Some(Claim::Mismatch));
        assert_eq!(decide(&row("in_progress", now), "h1", now), Some(Claim::InProgress));
        assert_eq!(decide(&row("in_progress", now - time::Duration::minutes(11)), "h1", now), None);
        assert_ne!(request_hash("POST", "/a", b"{}"), request_hash("POST", "/b", b"{}"));
        assert!(validate_key("abc-123").is_ok());
        assert!(validate_key("with space").is_err() && validate_key("").is_err());
        assert!(validate_key(&"k".repeat(256)).is_err());
    }
}
