//! Kassa's signing key as the use cases and pages get it: read from the database, or made and
//! stored there by the first process that needs it (see [`crate::db::models::signing_key`]),
//! then kept for the life of the [`Gateway`]. Made on first use rather than at start-up: a
//! 2048-bit key takes a noticeable moment, and a Kassa whose merchants all use MD5 never needs
//! one.

use std::sync::Arc;

use super::Gateway;
use crate::assist::gateway_key::GatewayKey;
use crate::assist::seal::Seal;
use crate::db::models::{Merchant, signing_key};
use crate::db::{Store, StoreError};

/// Why Kassa has no signing key to use; the messages never contain the key.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot generate the signing key: {0}")]
    Generate(String),
    #[error("the stored signing key is unusable: {0}")]
    Unreadable(String),
}

impl Gateway {
    /// Kassa's signing key, the same for every process on this database.
    pub async fn signing_key(&self) -> Result<Arc<GatewayKey>, SigningKeyError> {
        self.signing_key.get_or_try_init(|| load_or_create(&self.store)).await.cloned()
    }

    /// What seals `merchant`'s answers and notifications: Kassa's signature in signature mode,
    /// the merchant's check value otherwise.
    pub async fn seal(&self, merchant: &Merchant) -> Result<Seal, SigningKeyError> {
        if merchant.signature_required {
            Ok(Seal::Signature(self.signing_key().await?))
        } else {
            Ok(Seal::check_value(merchant))
        }
    }
}

async fn load_or_create(store: &Store) -> Result<Arc<GatewayKey>, SigningKeyError> {
    let pem = match store.read(|c| Ok::<_, StoreError>(signing_key::stored(c)?)).await? {
        Some(pem) => pem,
        None => {
            let candidate = tokio::task::spawn_blocking(|| {
                let key = GatewayKey::generate().map_err(|e| SigningKeyError::Generate(e.to_string()))?;
                let pem = key.to_pem().map_err(|e| SigningKeyError::Generate(e.to_string()))?;
                Ok::<_, SigningKeyError>(pem.to_string())
            })
            .await
            .map_err(|_| SigningKeyError::Generate("the generator panicked".into()))??;
            store.write(move |c| Ok::<_, StoreError>(signing_key::store_or_keep(c, &candidate)?)).await?
        }
    };
    let key = GatewayKey::from_pem(&pem).map_err(SigningKeyError::Unreadable)?;
    tracing::info!(fingerprint = key.fingerprint(), "gateway signing key loaded");
    Ok(Arc::new(key))
}
