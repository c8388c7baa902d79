//! Repositories: every query the app runs, in one place, each scoped to its owner. A row of
//! another user is reported exactly like a missing one ([`StoreError::NotFound`]).

pub mod episode_profiles;
pub mod jobs;
pub mod models;
pub mod notebooks;
pub mod notes;
pub mod podcasts;
mod profiles;
pub mod provider_secrets;
pub mod sources;
pub mod speaker_profiles;
pub mod users;

use serde::de::DeserializeOwned;

use crate::connect::Db;
use crate::error::StoreError;

/// The key of the owner's user record (`user:…`); an id of anything else owns nothing.
pub(crate) fn owner_key(owner: &str) -> Result<crate::ids::RecordKey, StoreError> {
    crate::ids::RecordKey::parse("user", owner).ok_or(StoreError::NotFound)
}

/// Sets `fields` on one of the owner's rows of `table` (a null value leaves its field as it
/// is) and bumps `updated`; [`StoreError::NotFound`] when the row is not the owner's.
pub(crate) async fn update_owned(
    db: &Db,
    table: &'static str,
    owner: &str,
    id: &str,
    fields: Vec<(&'static str, serde_json::Value)>,
) -> Result<(), StoreError> {
    let owner = owner_key(owner)?;
    let key = crate::ids::RecordKey::parse(table, id).ok_or(StoreError::NotFound)?;
    let mut sets = vec!["updated = time::now()".to_string()];
    let mut binds = vec![("key", serde_json::json!(key.as_str())), ("owner", serde_json::json!(owner.as_str()))];
    for (name, value) in fields.into_iter().filter(|(_, v)| !v.is_null()) {
        sets.push(format!("{name} = ${name}"));
        binds.push((name, value));
    }
    let updated: Vec<serde_json::Value> = rows(
        db,
        &format!(
            "UPDATE type::record('{table}', $key) SET {} WHERE owner = type::record('user', $owner) RETURN VALUE <string> id",
            sets.join(", ")
        ),
        binds,
    )
    .await?;
    if updated.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes one of the owner's rows of `table`; [`StoreError::NotFound`] when it is not theirs.
pub(crate) async fn delete_owned(db: &Db, table: &'static str, owner: &str, id: &str) -> Result<(), StoreError> {
    let owner = owner_key(owner)?;
    let key = crate::ids::RecordKey::parse(table, id).ok_or(StoreError::NotFound)?;
    let deleted: Vec<serde_json::Value> = rows(
        db,
        &format!("DELETE type::record('{table}', $key) WHERE owner = type::record('user', $owner) RETURN BEFORE"),
        vec![("key", serde_json::json!(key.as_str())), ("owner", serde_json::json!(owner.as_str()))],
    )
    .await?;
    if deleted.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Runs `query` with `binds` and returns the rows of its last statement.
pub(crate) async fn rows<T: DeserializeOwned>(
    db: &Db,
    query: &str,
    binds: Vec<(&'static str, serde_json::Value)>,
) -> Result<Vec<T>, StoreError> {
    let mut q = db.query(query);
    // A null is left unbound: an unbound parameter is NONE, which is what `option<…>` fields
    // accept (they refuse NULL).
    for (name, value) in binds.into_iter().filter(|(_, v)| !v.is_null()) {
        q = q.bind((name, value));
    }
    let mut response = q.await?;
    let last = response.num_statements().saturating_sub(1);
    if let Some(e) = response.take_errors().into_values().next() {
        return Err(e.into());
    }
    let values: Vec<serde_json::Value> = response.take(last)?;
    values.into_iter().map(|v| serde_json::from_value(v).map_err(StoreError::from)).collect()
}

/// The single row of `query`, or [`StoreError::NotFound`].
pub(crate) async fn one<T: DeserializeOwned>(
    db: &Db,
    query: &str,
    binds: Vec<(&'static str, serde_json::Value)>,
) -> Result<T, StoreError> {
    rows(db, query, binds).await?.into_iter().next().ok_or(StoreError::NotFound)
}
