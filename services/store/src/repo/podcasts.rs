//! Podcast submissions, episodes and jobs of one owner. Submitting writes the episode and the
//! `generate_podcast` job together, so an episode exists from the start and a job never lacks
//! its episode.

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::{Episode, Job};

/// The app name on job rows, as the original app wrote it.
pub const APP: &str = "open_notebook";
pub const GENERATE_PODCAST: &str = "generate_podcast";

const JOB_FIELDS: &str = "<string> id AS job_id, status, result, error_message, progress, \
     <string> created AS created, <string> updated AS updated";
const EPISODE_FIELDS: &str = "<string> id AS id, name, episode_profile, speaker_profile, briefing, audio_file, \
     transcript, outline, <string> created AS created, <string> command AS job_id, command.status AS job_status";

/// A profile by name as the owner sees it: their own first, else the shared default.
pub async fn profile_by_name(db: &Db, owner: &str, table: &'static str, name: &str) -> Result<Value, StoreError> {
    let owner = owner_key(owner)?;
    one(
        db,
        &format!(
            "SELECT * OMIT id, owner, created, updated FROM {table} \
             WHERE name = $name AND (owner = type::record('user', $owner) OR owner = NONE) \
             ORDER BY owner DESC LIMIT 1"
        ),
        vec![("name", json!(name)), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// What a submission needs.
#[derive(Debug, Clone)]
pub struct Submission {
    pub episode_name: String,
    pub episode_profile: Value,
    pub speaker_profile: Value,
    pub briefing: String,
    pub content: String,
}

/// Writes the episode and its job in one transaction; returns the job id.
pub async fn submit(db: &Db, owner: &str, s: Submission) -> Result<String, StoreError> {
    let owner = owner_key(owner)?;
    let ids: Vec<Value> = rows(
        db,
        "{
            LET $owner_rec = type::record('user', $owner);
            LET $episode = (CREATE ONLY episode SET name = $name, episode_profile = $episode_profile,
                            speaker_profile = $speaker_profile, briefing = $briefing, content = $content,
                            owner = $owner_rec).id;
            LET $job = (CREATE ONLY command SET app = $app, name = $job_name, status = 'new', owner = $owner_rec,
                        args = { episode_id: <string> $episode, episode_name: $name }).id;
            UPDATE $episode SET command = $job;
            RETURN [<string> $job];
        }",
        vec![
            ("owner", json!(owner.as_str())),
            ("name", json!(s.episode_name)),
            ("episode_profile", s.episode_profile),
            ("speaker_profile", s.speaker_profile),
            ("briefing", json!(s.briefing)),
            ("content", json!(s.content)),
            ("app", json!(APP)),
            ("job_name", json!(GENERATE_PODCAST)),
        ],
    )
    .await?;
    ids.first().and_then(Value::as_str).map(str::to_string).ok_or_else(|| StoreError::Shape("no job id".into()))
}

pub async fn job(db: &Db, owner: &str, id: &str) -> Result<Job, StoreError> {
    let (owner, key) = (owner_key(owner)?, RecordKey::parse("command", id).ok_or(StoreError::NotFound)?);
    one(
        db,
        &format!("SELECT {JOB_FIELDS} FROM type::record('command', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn episodes(db: &Db, owner: &str) -> Result<Vec<Episode>, StoreError> {
    let owner = owner_key(owner)?;
    rows(
        db,
        &format!(
            "SELECT {EPISODE_FIELDS} FROM episode WHERE owner = type::record('user', $owner) ORDER BY created DESC"
        ),
        vec![("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn episode(db: &Db, owner: &str, id: &str) -> Result<Episode, StoreError> {
    let (owner, key) = (owner_key(owner)?, RecordKey::parse("episode", id).ok_or(StoreError::NotFound)?);
    one(
        db,
        &format!(
            "SELECT {EPISODE_FIELDS} FROM type::record('episode', $key) WHERE owner = type::record('user', $owner)"
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Deletes the episode (its job row stays, as history); returns it as it was.
pub async fn delete_episode(db: &Db, owner: &str, id: &str) -> Result<Episode, StoreError> {
    let episode = self::episode(db, owner, id).await?;
    super::delete_owned(db, "episode", owner, id).await?;
    Ok(episode)
}

/// The text of a notebook's notes and sources, for a podcast's content.
pub async fn notebook_text(db: &Db, owner: &str, notebook_id: &str) -> Result<String, StoreError> {
    let nb = RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?;
    super::notebooks::check(db, owner, nb.as_str()).await?;
    let owner = owner_key(owner)?;
    let parts: Vec<String> = rows(
        db,
        &format!(
            "LET $o = type::record('user', $owner);
             {}
             {}
             RETURN array::concat(
                 (SELECT VALUE content FROM $sources.map(|$s| type::record('source_text', record::id($s))) WHERE owner = $o),
                 (SELECT VALUE content FROM $notes WHERE owner = $o)
             );",
            super::linked("sources", "reference", "source"),
            super::linked("notes", "artifact", "note")
        ),
        vec![("nb", json!(nb.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await?;
    Ok(parts.join("\n\n"))
}

/// What the worker reads to generate an episode.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EpisodeWork {
    pub name: String,
    pub episode_profile: Value,
    pub speaker_profile: Value,
    pub briefing: String,
    pub content: Option<String>,
}

/// The episode a `generate_podcast` job of `owner` works on.
pub async fn episode_work(db: &Db, owner: &str, id: &str) -> Result<EpisodeWork, StoreError> {
    let (owner, key) = (owner_key(owner)?, RecordKey::parse("episode", id).ok_or(StoreError::NotFound)?);
    one(
        db,
        "SELECT name, episode_profile, speaker_profile, briefing, content FROM type::record('episode', $key) \
         WHERE owner = type::record('user', $owner)",
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Saves what generation produced so far: any of `outline`, `transcript`, `audio_file` (a null
/// leaves the field as it is).
pub async fn save_episode(
    db: &Db,
    owner: &str,
    id: &str,
    outline: Value,
    transcript: Value,
    audio_file: Value,
) -> Result<(), StoreError> {
    super::update_owned(
        db,
        "episode",
        owner,
        id,
        vec![("outline", outline), ("transcript", transcript), ("audio_file", audio_file)],
    )
    .await
}
