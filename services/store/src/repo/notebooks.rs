//! Notebooks of one owner.

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::Notebook;

const FIELDS: &str = "<string> id AS id, name, description, archived, <string> created AS created, \
     <string> updated AS updated, count(<-reference) AS source_count, count(<-artifact) AS note_count";

/// How a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    Updated,
    Created,
    Name,
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NotebookChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub archived: Option<bool>,
}

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("notebook", id).ok_or(StoreError::NotFound)
}

pub async fn list(
    db: &Db,
    owner: &str,
    archived: Option<bool>,
    order: OrderBy,
    descending: bool,
) -> Result<Vec<Notebook>, StoreError> {
    let owner = owner_key(owner)?;
    let field = match order {
        OrderBy::Updated => "updated",
        OrderBy::Created => "created",
        OrderBy::Name => "name",
    };
    let direction = if descending { "DESC" } else { "ASC" };
    let filter = if archived.is_some() { " AND archived = $archived" } else { "" };
    rows(
        db,
        &format!("SELECT {FIELDS} FROM notebook WHERE owner = type::record('user', $owner){filter} ORDER BY {field} {direction}"),
        vec![("owner", json!(owner.as_str())), ("archived", json!(archived))],
    )
    .await
}

pub async fn create(db: &Db, owner: &str, name: &str, description: &str) -> Result<Notebook, StoreError> {
    let owner = owner_key(owner)?;
    let created: Vec<Value> = rows(
        db,
        "CREATE notebook SET name = $name, description = $description, owner = type::record('user', $owner) RETURN VALUE <string> id",
        vec![("name", json!(name)), ("description", json!(description)), ("owner", json!(owner.as_str()))],
    )
    .await?;
    let id =
        created.first().and_then(Value::as_str).ok_or_else(|| StoreError::Shape("CREATE returned no id".into()))?;
    get(db, &format!("user:{}", owner.as_str()), id).await
}

pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Notebook, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        &format!("SELECT {FIELDS} FROM type::record('notebook', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Whether the notebook is the owner's ([`StoreError::NotFound`] if not): one read of the row
/// by its id, without counting what it holds (what [`get`] does).
pub async fn check(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    let found: Vec<Value> = rows(
        db,
        "SELECT VALUE true FROM type::record('notebook', $key) WHERE owner = type::record('user', $owner)",
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await?;
    if found.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn update(db: &Db, owner: &str, id: &str, changes: NotebookChanges) -> Result<Notebook, StoreError> {
    let fields = vec![
        ("name", json!(changes.name)),
        ("description", json!(changes.description)),
        ("archived", json!(changes.archived)),
    ];
    super::update_owned(db, "notebook", owner, id, fields).await?;
    get(db, owner, id).await
}

pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    super::delete_owned(db, "notebook", owner, id).await
}
