//! Transformations: the shared defaults (no owner, seeded by migrations: read by all, changed
//! by none) and each user's own, through the same [`Table`] the podcast profiles use.

use serde::Serialize;
use serde_json::json;

use super::profiles::Table;
use super::{owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::Transformation;

const TABLE: Table = Table {
    name: "transformation",
    fields: "<string> id AS id, name, title, description, prompt, apply_default, \
             <string> created AS created, <string> updated AS updated",
};

/// The columns of a new transformation (checked by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct TransformationData {
    pub name: String,
    pub title: String,
    pub description: String,
    pub prompt: String,
    pub apply_default: bool,
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TransformationChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_default: Option<bool>,
}

/// The defaults and the caller's own, by name.
pub async fn list(db: &Db, owner: &str) -> Result<Vec<Transformation>, StoreError> {
    TABLE.list(db, owner).await
}

/// A default or one of the caller's, by id.
pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Transformation, StoreError> {
    TABLE.get(db, owner, id).await
}

/// [`StoreError::Conflict`] when the caller already has one of that name.
pub async fn create(db: &Db, owner: &str, data: TransformationData) -> Result<Transformation, StoreError> {
    let id = TABLE.create(db, owner, json!(data)).await?;
    get(db, owner, &id).await
}

/// Only the caller's own: a default is [`StoreError::ReadOnly`].
pub async fn update(
    db: &Db,
    owner: &str,
    id: &str,
    changes: TransformationChanges,
) -> Result<Transformation, StoreError> {
    TABLE.update(db, owner, id, json!(changes)).await?;
    get(db, owner, id).await
}

/// Only the caller's own: a default is [`StoreError::ReadOnly`].
pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    TABLE.delete(db, owner, id).await
}

/// Ids of the visible transformations that run on every new source of the owner.
pub async fn applied_by_default(db: &Db, owner: &str) -> Result<Vec<String>, StoreError> {
    let owner = owner_key(owner)?;
    rows(
        db,
        "SELECT VALUE <string> id FROM transformation \
         WHERE apply_default = true AND (owner IS NONE OR owner = type::record('user', $owner)) ORDER BY name",
        vec![("owner", json!(owner.as_str()))],
    )
    .await
}
