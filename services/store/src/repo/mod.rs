//! Repositories: every query the app runs, in one place, each scoped to its owner. A row of
//! another user is reported exactly like a missing one ([`StoreError::NotFound`]).

pub mod admin;
pub mod chat;
pub mod chunks;
pub mod context;
pub mod episode_profiles;
pub mod insights;
pub mod jobs;
pub mod models;
pub mod notebooks;
pub mod notes;
pub mod podcasts;
mod profiles;
pub mod provider_secrets;
pub mod sources;
pub mod speaker_profiles;
pub mod transformations;
pub mod user_settings;
pub mod users;

use serde::de::DeserializeOwned;

use crate::connect::Db;
use crate::error::StoreError;

/// A source's full text, in a `SELECT` of sources: it is a record of its own (`source_text`,
/// the source's key), so a source's other fields are read without it (migration 0007).
pub(crate) const SOURCE_TEXT: &str = "type::record('source_text', record::id(id)).content";

/// The key of the owner's user record (`user:…`); an id of anything else owns nothing.
pub(crate) fn owner_key(owner: &str) -> Result<crate::ids::RecordKey, StoreError> {
    crate::ids::RecordKey::parse("user", owner).ok_or(StoreError::NotFound)
}

/// Sets `fields` on one of the owner's rows of `table` (a null value leaves its field as it
/// is) and bumps `updated`; [`StoreError::NotFound`] when the row is not the owner's. A note's
/// or a source's links to notebooks take the new `updated` too, in the same transaction: the
/// pages of a notebook are read in that order from the links' index ([`linked_page`]).
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
    let links = match table {
        "note" => "FOR $r IN $rows { UPDATE $r.id->artifact SET updated = $r.updated; };",
        "source" => "FOR $r IN $rows { UPDATE $r.id->reference SET updated = $r.updated; };",
        _ => "",
    };
    let updated: Vec<serde_json::Value> = rows(
        db,
        &format!(
            "{{
                LET $rows = (UPDATE type::record('{table}', $key) SET {} WHERE owner = type::record('user', $owner) RETURN id, updated);
                {links}
                RETURN (SELECT VALUE <string> id FROM $rows);
            }}",
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

/// How often a query that lost a write conflict is run again before the conflict is an error.
const CONFLICT_RETRIES: u32 = 10;

/// The longest a query may take, the wait for room on a connection included. A query sent
/// while the SDK reconnects waits in its channel (see `crate::connect`); past this it fails
/// ([`StoreError::Timeout`], a 503 from the API) instead of hanging its request.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A statement `LET $<var> = …;` binding the ids of the rows of `table` linked to the notebook
/// `$nb` by `edge` (`reference`: source → notebook, `artifact`: note → notebook), walking the
/// graph from the notebook. Queries then read `FROM $<var> WHERE owner = …`.
///
/// Not `FROM table WHERE owner = $o AND $nb IN ->edge->notebook`: SurrealDB 3.3.5 answers that
/// combination (the `owner` index with the graph condition) with only part of the rows once the
/// server has been restarted after a crash, while each condition alone is right (found by
/// `scripts/fault-test`: acknowledged notes missing from their notebook's list).
pub(crate) fn linked(var: &str, edge: &str, table: &str) -> String {
    format!("LET ${var} = (SELECT VALUE <-{edge}<-{table} FROM ONLY type::record('notebook', $nb));")
}

/// Statements binding `$page` to the ids of one page of the rows linked to the notebook `$nb`
/// by `edge`, newest `updated` first (`$limit`, `$offset`). They read the links' index on
/// `(out, updated)` (migration 0004): a page costs the same whatever the notebook holds, where
/// [`linked`] reads every link. The rows are then read `FROM $page`.
pub(crate) fn linked_page(edge: &str) -> String {
    format!(
        "LET $page = (SELECT in, updated FROM {edge} WHERE out = type::record('notebook', $nb) \
         ORDER BY updated DESC LIMIT $limit START $offset).in;"
    )
}

/// A page of a list: at most `limit` rows after the first `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub offset: u32,
}

/// Runs `query` with `binds` and returns the rows of its last statement.
///
/// Concurrent writes of the same record make all but one transaction fail with a conflict
/// (RocksDB's optimistic transactions); nothing of a failed one was committed, so it is run
/// again after a short, jittered, growing pause.
pub(crate) async fn rows<T: DeserializeOwned>(
    db: &Db,
    query: &str,
    binds: Vec<(&'static str, serde_json::Value)>,
) -> Result<Vec<T>, StoreError> {
    // A null is left unbound: an unbound parameter is NONE, which is what `option<…>` fields
    // accept (they refuse NULL).
    let binds: Vec<_> = binds.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let mut attempt = 0;
    loop {
        match run_once(db, query, &binds).await {
            Err(StoreError::Retryable(message)) => {
                attempt += 1;
                if attempt > CONFLICT_RETRIES {
                    return Err(StoreError::Database(message));
                }
                let pause_ms = fastrand::u64(1..=(2u64 << attempt.min(7)));
                tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
            }
            other => return other,
        }
    }
}

async fn run_once<T: DeserializeOwned>(
    db: &Db,
    query: &str,
    binds: &[(&'static str, serde_json::Value)],
) -> Result<Vec<T>, StoreError> {
    // The wait for room on a connection counts against the same deadline as the query.
    let answer = async {
        let (client, _room) =
            db.acquire().await.ok_or_else(|| StoreError::Unavailable("the connection pool is closed".into()))?;
        let mut q = client.query(query);
        for (name, value) in binds {
            q = q.bind((*name, value.clone()));
        }
        Ok::<_, StoreError>(q.await?)
    };
    let mut response =
        tokio::time::timeout(QUERY_TIMEOUT, answer).await.map_err(|_| StoreError::Timeout(QUERY_TIMEOUT))??;
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
