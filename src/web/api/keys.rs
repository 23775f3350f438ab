//! Per-merchant API keys. A key is `kassa_` and 64 hex digits (32 random bytes); only its
//! SHA-256 is stored, so the clear key is shown once, when it is created. The account pages
//! create, list and revoke keys through these functions.

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use crate::db::models::{Merchant, MerchantId};
use crate::db::schema::api_keys;
use crate::db::{self, Store, StoreError};
use crate::gateway::GatewayError;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub merchant_id: MerchantId,
    pub name: String,
    pub key_hash: String,
    /// The first characters of the clear key (`kassa_1a2b3c`), to tell keys apart.
    pub prefix: String,
    pub created_at: PrimitiveDateTime,
    pub revoked_at: Option<PrimitiveDateTime>,
    pub last_used_at: Option<PrimitiveDateTime>,
}

const KEY_PREFIX: &str = "kassa_";

fn hash(clear: &str) -> String {
    hex::encode(Sha256::digest(clear.as_bytes()))
}

/// Creates a key named `name` for `merchant`; returns the stored row and the clear key, which
/// is not kept anywhere and cannot be shown again.
pub async fn create_key(store: &Store, merchant: &MerchantId, name: &str) -> Result<(ApiKey, String), GatewayError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(GatewayError::invalid("name", "1 to 100 characters"));
    }
    let secret: [u8; 32] = rand::random();
    let clear = format!("{KEY_PREFIX}{}", hex::encode(secret));
    let key = ApiKey {
        id: db::new_id(),
        merchant_id: merchant.clone(),
        name: name.to_owned(),
        key_hash: hash(&clear),
        prefix: clear[..KEY_PREFIX.len() + 6].to_owned(),
        created_at: db::now(),
        revoked_at: None,
        last_used_at: None,
    };
    let row = key.clone();
    store
        .write(move |c| diesel::insert_into(api_keys::table).values(&row).execute(c).map_err(StoreError::from))
        .await?;
    Ok((key, clear))
}

/// Revokes a key of `merchant`; `false` if it has no such key (or it was revoked already).
pub async fn revoke_key(store: &Store, merchant: &MerchantId, id: &str) -> Result<bool, GatewayError> {
    let (merchant, id) = (merchant.clone(), id.to_owned());
    let n = store
        .write(move |c| {
            diesel::update(
                api_keys::table
                    .filter(api_keys::id.eq(id))
                    .filter(api_keys::merchant_id.eq(merchant))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(Some(db::now())))
            .execute(c)
            .map_err(StoreError::from)
        })
        .await?;
    Ok(n == 1)
}

/// The keys of a merchant, newest first (for the account page).
pub async fn list_keys(store: &Store, merchant: &MerchantId) -> Result<Vec<ApiKey>, GatewayError> {
    let merchant = merchant.clone();
    Ok(store
        .read(move |c| {
            api_keys::table
                .filter(api_keys::merchant_id.eq(merchant))
                .order(api_keys::created_at.desc())
                .select(ApiKey::as_select())
                .load(c)
                .map_err(StoreError::from)
        })
        .await?)
}

/// `last_used_at` is refreshed at most this often, so that reads do not become writes.
const LAST_USED_RESOLUTION: time::Duration = time::Duration::minutes(1);

/// The live key and its active merchant for a clear key, or `None`.
pub async fn authenticate(store: &Store, clear: &str) -> Result<Option<(ApiKey, Merchant)>, StoreError> {
    if !clear.starts_with(KEY_PREFIX) || clear.len() != KEY_PREFIX.len() + 64 {
        return Ok(None);
    }
    let digest = hash(clear);
    let found = store
        .read(move |c| {
            let key: Option<ApiKey> = api_keys::table
                .filter(api_keys::key_hash.eq(digest))
                .filter(api_keys::revoked_at.is_null())
                .select(ApiKey::as_select())
                .first(c)
                .optional()?;
            match key {
                Some(k) => {
                    let m = Merchant::find(c, &k.merchant_id)?;
                    Ok::<_, StoreError>(Some((k, m)))
                }
                None => Ok(None),
            }
        })
        .await?;
    let Some((key, merchant)) = found.filter(|(_, m)| m.active) else { return Ok(None) };
    let now = db::now();
    if key.last_used_at.is_none_or(|t| now - t > LAST_USED_RESOLUTION) {
        let (store, id) = (store.clone(), key.id.clone());
        // Off the request path: a lost update only makes `last_used_at` a minute older.
        tokio::spawn(async move {
            let _ = store
                .write(move |c| {
                    diesel::update(api_keys::table.find(id))
                        .set(api_keys::last_used_at.eq(Some(now)))
                        .execute(c)
                        .map_err(StoreError::from)
                })
                .await;
        });
    }
    Ok(Some((key, merchant)))
}
