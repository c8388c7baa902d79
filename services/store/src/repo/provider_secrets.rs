//! AI provider secrets of one owner: one row per owner and provider (a unique index), the
//! value stored already encrypted (see [`crate::crypto::SecretBox`]).

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::{ProviderSecret, ProviderSecretSummary};

const SUMMARY_FIELDS: &str = "provider, display_name, <string> created AS created, <string> updated AS updated";
const FIELDS: &str = "provider, display_name, base_url, encrypted_value, <string> created AS created, \
     <string> updated AS updated";

/// What an upsert writes; `display_name` and `base_url` are replaced (`None` clears them).
#[derive(Clone)]
pub struct NewProviderSecret<'a> {
    pub provider: &'a str,
    pub encrypted_value: &'a str,
    pub display_name: Option<&'a str>,
    pub base_url: Option<&'a str>,
}

pub async fn list(db: &Db, owner: &str) -> Result<Vec<ProviderSecretSummary>, StoreError> {
    let owner = owner_key(owner)?;
    rows(
        db,
        &format!(
            "SELECT {SUMMARY_FIELDS} FROM user_provider_secret WHERE owner = type::record('user', $owner) \
             ORDER BY provider ASC"
        ),
        vec![("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn get(db: &Db, owner: &str, provider: &str) -> Result<ProviderSecret, StoreError> {
    let owner = owner_key(owner)?;
    one(
        db,
        &format!(
            "SELECT {FIELDS} FROM user_provider_secret WHERE owner = type::record('user', $owner) \
             AND provider = $provider LIMIT 1"
        ),
        vec![("owner", json!(owner.as_str())), ("provider", json!(provider))],
    )
    .await
}

/// Creates the owner's row for the provider, or replaces its value, name and URL.
pub async fn upsert(db: &Db, owner: &str, secret: NewProviderSecret<'_>) -> Result<ProviderSecret, StoreError> {
    let owner_k = owner_key(owner)?;
    let binds = || {
        vec![
            ("owner", json!(owner_k.as_str())),
            ("provider", json!(secret.provider)),
            ("value", json!(secret.encrypted_value)),
            ("display_name", json!(secret.display_name)),
            ("base_url", json!(secret.base_url)),
        ]
    };
    let update = "UPDATE user_provider_secret SET encrypted_value = $value, display_name = $display_name, \
         base_url = $base_url, updated = time::now() \
         WHERE owner = type::record('user', $owner) AND provider = $provider RETURN VALUE <string> id";
    let create = "CREATE user_provider_secret SET owner = type::record('user', $owner), provider = $provider, \
         encrypted_value = $value, display_name = $display_name, base_url = $base_url RETURN VALUE <string> id";
    // Update first; create when there is nothing to update. Two first writes racing meet the
    // unique index: the loser updates the winner's row.
    let mut written: Vec<Value> = rows(db, update, binds()).await?;
    if written.is_empty() {
        written = match rows(db, create, binds()).await {
            Err(StoreError::Conflict) => rows(db, update, binds()).await?,
            other => other?,
        };
    }
    if written.is_empty() {
        return Err(StoreError::Shape("upsert wrote no row".into()));
    }
    get(db, owner, secret.provider).await
}

pub async fn delete(db: &Db, owner: &str, provider: &str) -> Result<(), StoreError> {
    let owner = owner_key(owner)?;
    let deleted: Vec<Value> = rows(
        db,
        "DELETE user_provider_secret WHERE owner = type::record('user', $owner) AND provider = $provider RETURN BEFORE",
        vec![("owner", json!(owner.as_str())), ("provider", json!(provider))],
    )
    .await?;
    if deleted.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}
