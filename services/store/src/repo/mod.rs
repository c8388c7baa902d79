//! Repositories: every query the app runs, in one place, each scoped to its owner. A row of
//! another user is reported exactly like a missing one ([`StoreError::NotFound`]).

pub mod models;
pub mod notebooks;
pub mod notes;
pub mod podcasts;
pub mod provider_secrets;
pub mod sources;
pub mod users;

use serde::de::DeserializeOwned;

use crate::connect::Db;
use crate::error::StoreError;

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
