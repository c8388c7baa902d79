//! Speaker profiles: the shared defaults (no owner) and each user's own.

use serde::Serialize;
use serde_json::json;

use super::profiles::Table;
use super::{owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::{Speaker, SpeakerProfile};

const TABLE: Table = Table {
    name: "speaker_profile",
    fields: "<string> id AS id, name, description, tts_provider, tts_model, speakers",
};

/// The columns of a new profile (checked by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct SpeakerProfileData {
    pub name: String,
    pub description: String,
    pub tts_provider: String,
    pub tts_model: String,
    pub speakers: Vec<Speaker>,
}

impl From<SpeakerProfile> for SpeakerProfileData {
    fn from(p: SpeakerProfile) -> Self {
        SpeakerProfileData {
            name: p.name,
            description: p.description,
            tts_provider: p.tts_provider,
            tts_model: p.tts_model,
            speakers: p.speakers,
        }
    }
}

/// The changes of an update; `None` leaves a field as it is (`speakers` is replaced whole).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SpeakerProfileChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tts_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tts_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speakers: Option<Vec<Speaker>>,
}

/// The defaults and the caller's own, by name.
pub async fn list(db: &Db, owner: &str) -> Result<Vec<SpeakerProfile>, StoreError> {
    TABLE.list(db, owner).await
}

/// A default or one of the caller's, by id.
pub async fn get(db: &Db, owner: &str, id: &str) -> Result<SpeakerProfile, StoreError> {
    TABLE.get(db, owner, id).await
}

/// By name: the caller's own first, else the default of that name.
pub async fn by_name(db: &Db, owner: &str, name: &str) -> Result<SpeakerProfile, StoreError> {
    TABLE.by_name(db, owner, name).await
}

pub async fn create(db: &Db, owner: &str, data: SpeakerProfileData) -> Result<SpeakerProfile, StoreError> {
    let id = TABLE.create(db, owner, json!(data)).await?;
    get(db, owner, &id).await
}

/// Only the caller's own: a default is [`StoreError::ReadOnly`].
pub async fn update(
    db: &Db,
    owner: &str,
    id: &str,
    changes: SpeakerProfileChanges,
) -> Result<SpeakerProfile, StoreError> {
    TABLE.update(db, owner, id, json!(changes)).await?;
    get(db, owner, id).await
}

/// Only the caller's own (a default is [`StoreError::ReadOnly`]), and not while one of the
/// caller's episode profiles names it with no default of that name to fall back on
/// ([`StoreError::InUse`]): their podcasts could no longer be generated.
pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    let profile = get(db, owner, id).await?;
    let owner_k = owner_key(owner)?;
    let users: Vec<String> = rows(
        db,
        "IF (SELECT VALUE true FROM speaker_profile WHERE owner IS NONE AND name = $name) = [] \
         { RETURN SELECT VALUE name FROM episode_profile \
             WHERE owner = type::record('user', $owner) AND speaker_config = $name ORDER BY name } \
         ELSE { RETURN [] }",
        vec![("owner", json!(owner_k.as_str())), ("name", json!(profile.name))],
    )
    .await?;
    if !users.is_empty() {
        return Err(StoreError::InUse(format!("episode profiles: {}", users.join(", "))));
    }
    TABLE.delete(db, owner, id).await
}

/// Copies a visible profile (a default or the caller's) into a new one of the caller's,
/// named "<name> (copy)" (then " 2", " 3", ... while taken).
pub async fn duplicate(db: &Db, owner: &str, id: &str) -> Result<SpeakerProfile, StoreError> {
    let original = get(db, owner, id).await?;
    let id = TABLE.duplicate(db, owner, json!(SpeakerProfileData::from(original))).await?;
    get(db, owner, &id).await
}
