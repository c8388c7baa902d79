//! AI model configurations of one owner, their default choices, and which providers they have
//! keys for.

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::{DefaultModels, Model};

const FIELDS: &str =
    "<string> id AS id, name, provider, type, <string> created AS created, <string> updated AS updated";

pub async fn list(db: &Db, owner: &str, model_type: Option<&str>) -> Result<Vec<Model>, StoreError> {
    let owner = owner_key(owner)?;
    let filter = if model_type.is_some() { " AND type = $type" } else { "" };
    rows(
        db,
        &format!(
            "SELECT {FIELDS} FROM model WHERE owner = type::record('user', $owner){filter} ORDER BY provider, name"
        ),
        vec![("owner", json!(owner.as_str())), ("type", json!(model_type))],
    )
    .await
}

/// [`StoreError::Conflict`] when the owner already has this provider + name.
pub async fn create(db: &Db, owner: &str, name: &str, provider: &str, model_type: &str) -> Result<Model, StoreError> {
    let owner = owner_key(owner)?;
    one(
        db,
        &format!(
            "CREATE model SET name = $name, provider = $provider, type = $type, owner = type::record('user', $owner) RETURN {FIELDS}"
        ),
        vec![("name", json!(name)), ("provider", json!(provider)), ("type", json!(model_type)), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Model, StoreError> {
    let owner = owner_key(owner)?;
    let key = RecordKey::parse("model", id).ok_or(StoreError::NotFound)?;
    one(
        db,
        &format!("SELECT {FIELDS} FROM type::record('model', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Deletes a model, and unsets it wherever it was a default.
pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    let model = get(db, owner, id).await?;
    let (owner, key) = (owner_key(owner)?, RecordKey::parse("model", id).ok_or(StoreError::NotFound)?);
    let unset: Vec<String> =
        DefaultModels::FIELDS.iter().map(|f| format!("{f} = IF {f} = $model THEN NONE ELSE {f} END")).collect();
    let _: Vec<Value> = rows(
        db,
        &format!(
            "{{
                DELETE type::record('model', $key) WHERE owner = type::record('user', $owner);
                UPDATE type::record('default_models', $owner) SET {};
                RETURN [];
            }}",
            unset.join(", ")
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str())), ("model", json!(model.id))],
    )
    .await?;
    Ok(())
}

pub async fn defaults(db: &Db, owner: &str) -> Result<DefaultModels, StoreError> {
    let owner = owner_key(owner)?;
    let found: Vec<DefaultModels> = rows(
        db,
        &format!("SELECT {} FROM type::record('default_models', $owner)", DefaultModels::FIELDS.join(", ")),
        vec![("owner", json!(owner.as_str()))],
    )
    .await?;
    Ok(found.into_iter().next().unwrap_or_default())
}

/// Changes some of the owner's defaults (the caller checks the ids are the owner's models):
/// each `(field, Some(id))` sets one, each `(field, None)` clears one; fields not named keep
/// their values. `field` must be one of [`DefaultModels::FIELDS`].
pub async fn merge_defaults(
    db: &Db,
    owner: &str,
    changes: &[(&'static str, Option<String>)],
) -> Result<DefaultModels, StoreError> {
    let owner_k = owner_key(owner)?;
    let mut sets = vec!["owner = type::record('user', $owner)".to_string()];
    let mut binds = vec![("owner", json!(owner_k.as_str()))];
    for (field, value) in changes {
        if !DefaultModels::FIELDS.contains(field) {
            return Err(StoreError::Shape(format!("`{field}` is not a default model field")));
        }
        match value {
            Some(id) => {
                sets.push(format!("{field} = ${field}"));
                binds.push((field, json!(id)));
            }
            None => sets.push(format!("{field} = NONE")),
        }
    }
    let _: Vec<Value> =
        rows(db, &format!("UPSERT type::record('default_models', $owner) SET {} RETURN NONE", sets.join(", ")), binds)
            .await?;
    self::defaults(db, owner).await
}

/// Providers the owner has stored a key for.
pub async fn providers_with_keys(db: &Db, owner: &str) -> Result<Vec<String>, StoreError> {
    let owner = owner_key(owner)?;
    rows(
        db,
        "SELECT VALUE provider FROM user_provider_secret WHERE owner = type::record('user', $owner)",
        vec![("owner", json!(owner.as_str()))],
    )
    .await
}
