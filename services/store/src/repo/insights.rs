//! Insights of one owner's sources (`source_insight`: the output of a transformation on a
//! source), and the `run_transformation` jobs that make them. An insight made by a job is
//! keyed by that job, so a job run again after its worker died overwrites its own insight
//! instead of adding a second one.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::{Insight, Note};

pub const RUN_TRANSFORMATION: &str = "run_transformation";

const FIELDS: &str = "<string> id AS id, <string> source AS source_id, insight_type, content, \
     <string> created AS created, <string> updated AS updated";

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("source_insight", id).ok_or(StoreError::NotFound)
}

/// The key of the job that runs transformation `transformation_id` for processing job
/// `job_key`: the same pair always names the same job (24 hex digits of a SHA-256).
pub fn job_key(job_key: &str, transformation_id: &str) -> String {
    let digest = Sha256::digest(format!("{job_key}/{transformation_id}").as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The insights of one of the owner's sources, oldest first.
pub async fn list(db: &Db, owner: &str, source_id: &str) -> Result<Vec<Insight>, StoreError> {
    super::sources::get(db, owner, source_id).await?;
    let (owner, source) = (owner_key(owner)?, RecordKey::parse("source", source_id).ok_or(StoreError::NotFound)?);
    rows(
        db,
        &format!(
            "SELECT {FIELDS} FROM source_insight WHERE source = type::record('source', $source) \
             AND owner = type::record('user', $owner) ORDER BY created ASC"
        ),
        vec![("source", json!(source.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Insight, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        &format!(
            "SELECT {FIELDS} FROM type::record('source_insight', $key) WHERE owner = type::record('user', $owner)"
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    super::delete_owned(db, "source_insight", owner, id).await
}

/// Queues a `run_transformation` job of `transformation_id` (visible to the owner) on one of
/// the owner's sources, with `model_id` or else the owner's default transformation model;
/// returns the job's id.
pub async fn queue(
    db: &Db,
    owner: &str,
    source_id: &str,
    transformation_id: &str,
    model_id: Option<&str>,
) -> Result<String, StoreError> {
    let source = super::sources::get(db, owner, source_id).await?;
    let transformation = super::transformations::get(db, owner, transformation_id).await?;
    let args = json!({"source_id": source.id, "transformation_id": transformation.id, "model_id": model_id});
    super::jobs::enqueue(db, owner, RUN_TRANSFORMATION, args).await
}

/// Saves the output of job `job_id` as an insight of the owner's source (the same job always
/// writes the same insight); returns its id.
pub async fn save(
    db: &Db,
    owner: &str,
    job_id: &str,
    source_id: &str,
    insight_type: &str,
    content: &str,
) -> Result<String, StoreError> {
    let owner_k = owner_key(owner)?;
    let job = RecordKey::parse("command", job_id).ok_or(StoreError::NotFound)?;
    let source = RecordKey::parse("source", source_id).ok_or(StoreError::NotFound)?;
    let saved: Vec<String> = rows(
        db,
        "{
            LET $o = type::record('user', $owner);
            LET $s = (SELECT VALUE id FROM type::record('source', $source) WHERE owner = $o);
            IF !$s { RETURN []; };
            UPSERT type::record('source_insight', $job) SET source = $s[0], insight_type = $insight_type,
                content = $content, owner = $o;
            RETURN [<string> type::record('source_insight', $job)];
        }",
        vec![
            ("owner", json!(owner_k.as_str())),
            ("job", json!(job.as_str())),
            ("source", json!(source.as_str())),
            ("insight_type", json!(insight_type)),
            ("content", json!(content)),
        ],
    )
    .await?;
    saved.into_iter().next().ok_or(StoreError::NotFound)
}

/// What a `run_transformation` job reads: the source's text and title.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceText {
    pub title: Option<String>,
    pub full_text: Option<String>,
}

pub async fn source_text(db: &Db, owner: &str, source_id: &str) -> Result<SourceText, StoreError> {
    let (owner, source) = (owner_key(owner)?, RecordKey::parse("source", source_id).ok_or(StoreError::NotFound)?);
    one(
        db,
        &format!(
            "SELECT title, {} AS full_text FROM type::record('source', $source) WHERE owner = type::record('user', $owner)",
            super::SOURCE_TEXT
        ),
        vec![("source", json!(source.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Copies an insight into a new `ai` note of the owner's (in the notebook, when given).
pub async fn save_as_note(db: &Db, owner: &str, id: &str, notebook_id: Option<&str>) -> Result<Note, StoreError> {
    let insight = get(db, owner, id).await?;
    let source = source_text(db, owner, &insight.source_id).await?;
    let title = match source.title.filter(|t| !t.trim().is_empty()) {
        Some(t) => format!("{} from source {t}", insight.insight_type),
        None => insight.insight_type.clone(),
    };
    let new = super::notes::NewNote {
        title: Some(title),
        content: insight.content,
        note_type: "ai".into(),
        notebook_id: notebook_id.map(str::to_string),
    };
    super::notes::create(db, owner, new).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_and_transformation_always_name_the_same_job() {
        let a = job_key("abc", "transformation:summary");
        assert_eq!(a, job_key("abc", "transformation:summary"));
        assert_ne!(a, job_key("abd", "transformation:summary"));
        assert_eq!(a.len(), 24);
        assert!(RecordKey::parse("command", &a).is_some());
    }
}
