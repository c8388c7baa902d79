//! Episode profiles: the shared defaults (no owner) and each user's own.

use serde::Serialize;
use serde_json::json;

use super::profiles::Table;
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::EpisodeProfile;

const TABLE: Table = Table {
    name: "episode_profile",
    fields: "<string> id AS id, name, description, speaker_config, outline_provider, outline_model, \
             transcript_provider, transcript_model, default_briefing, num_segments",
};

/// The columns of a new profile (checked by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct EpisodeProfileData {
    pub name: String,
    pub description: String,
    pub speaker_config: String,
    pub outline_provider: String,
    pub outline_model: String,
    pub transcript_provider: String,
    pub transcript_model: String,
    pub default_briefing: String,
    pub num_segments: i64,
}

impl From<EpisodeProfile> for EpisodeProfileData {
    fn from(p: EpisodeProfile) -> Self {
        EpisodeProfileData {
            name: p.name,
            description: p.description,
            speaker_config: p.speaker_config,
            outline_provider: p.outline_provider,
            outline_model: p.outline_model,
            transcript_provider: p.transcript_provider,
            transcript_model: p.transcript_model,
            default_briefing: p.default_briefing,
            num_segments: p.num_segments,
        }
    }
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EpisodeProfileChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker_config: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outline_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outline_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_briefing: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_segments: Option<i64>,
}

/// The defaults and the caller's own, by name.
pub async fn list(db: &Db, owner: &str) -> Result<Vec<EpisodeProfile>, StoreError> {
    TABLE.list(db, owner).await
}

/// A default or one of the caller's, by id.
pub async fn get(db: &Db, owner: &str, id: &str) -> Result<EpisodeProfile, StoreError> {
    TABLE.get(db, owner, id).await
}

/// By name: the caller's own first, else the default of that name.
pub async fn by_name(db: &Db, owner: &str, name: &str) -> Result<EpisodeProfile, StoreError> {
    TABLE.by_name(db, owner, name).await
}

pub async fn create(db: &Db, owner: &str, data: EpisodeProfileData) -> Result<EpisodeProfile, StoreError> {
    let id = TABLE.create(db, owner, json!(data)).await?;
    get(db, owner, &id).await
}

/// Only the caller's own: a default is [`StoreError::ReadOnly`].
pub async fn update(
    db: &Db,
    owner: &str,
    id: &str,
    changes: EpisodeProfileChanges,
) -> Result<EpisodeProfile, StoreError> {
    TABLE.update(db, owner, id, json!(changes)).await?;
    get(db, owner, id).await
}

/// Only the caller's own: a default is [`StoreError::ReadOnly`].
pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    TABLE.delete(db, owner, id).await
}

/// Copies a visible profile (a default or the caller's) into a new one of the caller's,
/// named "<name> (copy)" (then " 2", " 3", ... while taken).
pub async fn duplicate(db: &Db, owner: &str, id: &str) -> Result<EpisodeProfile, StoreError> {
    let original = get(db, owner, id).await?;
    let id = TABLE.duplicate(db, owner, json!(EpisodeProfileData::from(original))).await?;
    get(db, owner, &id).await
}
