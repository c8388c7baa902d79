//! The job queue's side of the `command` table, as the worker uses it: claim, heartbeat,
//! progress, complete, fail, hand back, and retake of jobs whose lease expired.
//!
//! Every write that changes a job's state is one conditional `UPDATE` of one row: a claim only
//! succeeds `WHERE status = 'new'`, and every later write only `WHERE status = 'running' AND
//! lease_owner = $worker`. SurrealDB runs each statement in its own transaction and refuses
//! the second of two conflicting writes to a row, so of several workers racing for a job
//! exactly one sees it come back; the others get nothing (or a conflict, read as "lost").
//! A worker that lost its lease (it was retaken after expiring) can no longer write the job.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::rows;
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;

/// A job a worker has claimed: what it must run, for whom, and which attempt this is.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimedJob {
    /// `command:…`
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub args: Value,
    /// `user:…`: the job runs with this user's keys and writes only this user's rows.
    pub owner: String,
    /// 1 on the first claim; a job retaken after its worker died counts up.
    pub attempts: i64,
}

/// A job whose lease expired, as [`requeue_expired`] left it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Expired {
    pub id: String,
    /// `new` (to be taken again) or `failed` (its attempts ran out).
    pub status: String,
}

const CLAIMED_FIELDS: &str = "<string> id AS id, name, args, <string> owner AS owner, attempts";

/// A duration as SurrealQL reads it (`<duration> "1500ms"`).
fn duration_text(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("command", id).ok_or(StoreError::NotFound)
}

/// A transaction conflict: another writer changed the row first.
fn is_conflict(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(m) if {
        let m = m.to_ascii_lowercase();
        m.contains("conflict") || m.contains("can be retried") || m.contains("resource busy")
    })
}

/// Up to `limit` ids of the oldest `new` jobs (of the given names, when not empty).
pub async fn candidates(db: &Db, names: &[&str], limit: usize) -> Result<Vec<String>, StoreError> {
    rows(
        db,
        "SELECT VALUE <string> id FROM command WHERE status = 'new' AND ($names = [] OR name IN $names) \
         ORDER BY created ASC LIMIT $limit",
        vec![("names", json!(names)), ("limit", json!(limit))],
    )
    .await
}

/// Tries to claim one `new` job for `worker`, holding it for `lease`. `Ok(None)` when another
/// worker took it first (or it is no longer `new`).
pub async fn claim(db: &Db, id: &str, worker: &str, lease: Duration) -> Result<Option<ClaimedJob>, StoreError> {
    let key = key(id)?;
    let claimed: Result<Vec<ClaimedJob>, StoreError> = rows(
        db,
        &format!(
            "UPDATE type::record('command', $key) SET status = 'running', attempts += 1, updated = time::now(), lease_owner = $worker, \
             lease_expires = time::now() + <duration> $lease, heartbeat = time::now(), error_message = NONE \
             WHERE status = 'new' RETURN {CLAIMED_FIELDS}"
        ),
        vec![("key", json!(key.as_str())), ("worker", json!(worker)), ("lease", json!(duration_text(lease)))],
    )
    .await;
    match claimed {
        Ok(mut rows) => Ok(rows.pop()),
        Err(e) if is_conflict(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Claims the oldest `new` job it can win among a few candidates (tried in random order, so
/// workers racing for the same head of the queue spread out).
pub async fn claim_next(
    db: &Db,
    names: &[&str],
    worker: &str,
    lease: Duration,
) -> Result<Option<ClaimedJob>, StoreError> {
    let mut ids = candidates(db, names, 8).await?;
    // Workers racing for the same head of the queue would all lose the same race over and
    // over; a shuffle of the few oldest spreads them out.
    fastrand::shuffle(&mut ids);
    for id in ids {
        if let Some(job) = claim(db, &id, worker, lease).await? {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

/// Runs `query` on the job only while `worker` holds it; `Ok(false)` when it does not any more.
async fn while_held(
    db: &Db,
    id: &str,
    worker: &str,
    set: &str,
    mut binds: Vec<(&'static str, Value)>,
) -> Result<bool, StoreError> {
    let key = key(id)?;
    binds.push(("key", json!(key.as_str())));
    binds.push(("worker", json!(worker)));
    let updated: Vec<Value> = rows(
        db,
        &format!(
            "UPDATE type::record('command', $key) SET {set}, updated = time::now() \
             WHERE status = 'running' AND lease_owner = $worker RETURN VALUE <string> id"
        ),
        binds,
    )
    .await?;
    Ok(!updated.is_empty())
}

/// Renews the lease; `Ok(false)` when the job is no longer this worker's (it was retaken).
pub async fn heartbeat(db: &Db, id: &str, worker: &str, lease: Duration) -> Result<bool, StoreError> {
    while_held(
        db,
        id,
        worker,
        "heartbeat = time::now(), lease_expires = time::now() + <duration> $lease",
        vec![("lease", json!(duration_text(lease)))],
    )
    .await
}

/// Where a running job is: `{stage, done, total}`.
pub async fn progress(db: &Db, id: &str, worker: &str, stage: &str, done: u64, total: u64) -> Result<bool, StoreError> {
    while_held(
        db,
        id,
        worker,
        "progress = { stage: $stage, done: $done, total: $total }",
        vec![("stage", json!(stage)), ("done", json!(done)), ("total", json!(total))],
    )
    .await
}

/// Ends the job as `completed` with its result.
pub async fn complete(db: &Db, id: &str, worker: &str, result: Value) -> Result<bool, StoreError> {
    let result = if result.is_object() { result } else { json!({ "value": result }) };
    while_held(
        db,
        id,
        worker,
        "status = 'completed', result = $result, lease_owner = NONE, lease_expires = NONE",
        vec![("result", result)],
    )
    .await
}

/// Ends the job as `failed` with the reason.
pub async fn fail(db: &Db, id: &str, worker: &str, message: &str) -> Result<bool, StoreError> {
    while_held(
        db,
        id,
        worker,
        "status = 'failed', error_message = $message, lease_owner = NONE, lease_expires = NONE",
        vec![("message", json!(message))],
    )
    .await
}

/// Gives a job this worker will not finish back to the queue as `new` (on shutdown). Its
/// `attempts` stays counted: a job that keeps being handed back still runs out.
pub async fn hand_back(db: &Db, id: &str, worker: &str) -> Result<bool, StoreError> {
    while_held(
        db,
        id,
        worker,
        "status = 'new', lease_owner = NONE, lease_expires = NONE, heartbeat = NONE, progress = NONE",
        vec![],
    )
    .await
}

/// Jobs whose lease expired (their worker died or hung) go back to `new`, or to `failed` when
/// they have been taken `max_attempts` times already. Safe to run from every worker at once.
pub async fn requeue_expired(db: &Db, max_attempts: u32) -> Result<Vec<Expired>, StoreError> {
    let expired: Result<Vec<Expired>, StoreError> = rows(
        db,
        "UPDATE command SET
             status = IF attempts >= $max THEN 'failed' ELSE 'new' END,
             error_message = IF attempts >= $max
                 THEN 'the worker running this job stopped responding (lease expired) ' + <string> attempts + ' times'
                 ELSE error_message END,
             lease_owner = NONE, lease_expires = NONE, progress = NONE, updated = time::now()
         WHERE status = 'running' AND lease_expires != NONE AND lease_expires < time::now()
         RETURN <string> id AS id, status",
        vec![("max", json!(max_attempts))],
    )
    .await;
    match expired {
        Err(e) if is_conflict(&e) => Ok(Vec::new()),
        other => other,
    }
}

/// A job's status, attempts and result, for tests and tools (not owner-scoped: the worker's
/// view of the queue).
pub async fn inspect(db: &Db, id: &str) -> Result<Value, StoreError> {
    let key = key(id)?;
    rows(
        db,
        "SELECT <string> id AS id, name, status, attempts, result, error_message, progress, lease_owner \
         FROM type::record('command', $key)",
        vec![("key", json!(key.as_str()))],
    )
    .await?
    .into_iter()
    .next()
    .ok_or(StoreError::NotFound)
}

/// Queues a job of `name` for `owner` (used by tests and the benchmark; the API queues its
/// jobs together with their rows in `podcasts::submit` and `sources::create`).
pub async fn enqueue(db: &Db, owner: &str, name: &str, args: Value) -> Result<String, StoreError> {
    let owner = super::owner_key(owner)?;
    let ids: Vec<String> = rows(
        db,
        "{
            LET $job = (CREATE ONLY command SET app = $app, name = $name, status = 'new', args = $args,
                        owner = type::record('user', $owner)).id;
            RETURN [<string> $job];
        }",
        vec![
            ("app", json!(super::podcasts::APP)),
            ("name", json!(name)),
            ("args", args),
            ("owner", json!(owner.as_str())),
        ],
    )
    .await?;
    ids.into_iter().next().ok_or_else(|| StoreError::Shape("no job id".into()))
}
