//! Per-user settings: the original client's Settings page (`GET/PUT /settings`) and the text
//! put before every transformation prompt (`/transformations/default-prompt`). One record per
//! user, keyed by the user's own key; until a user saves anything, the defaults apply (the
//! same values the schema gives a new record).

use serde_json::{Value, json};

use super::{owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::UserSettings;

const FIELDS: &str = "default_content_processing_engine_doc, default_content_processing_engine_url, \
     default_embedding_option, auto_delete_files, youtube_preferred_languages";

/// The defaults of `migrations/0003_*.surql`, for a user without a record.
pub fn defaults() -> UserSettings {
    UserSettings {
        default_content_processing_engine_doc: "auto".into(),
        default_content_processing_engine_url: "auto".into(),
        default_embedding_option: "ask".into(),
        auto_delete_files: "yes".into(),
        youtube_preferred_languages: ["en", "pt", "es", "de", "nl", "en-GB", "fr", "hi", "ja"]
            .map(String::from)
            .to_vec(),
    }
}

/// The instructions put before every transformation prompt until a user writes their own.
pub const DEFAULT_INSTRUCTIONS: &str = "# INSTRUCTIONS\n\n\
You help me study and process material I am working with, so that I can draw insights from it.\n\n\
- Answer with the requested output only: no greeting, no restating of the task, no closing remarks.\n\
- The text is mine to work with; do not add warnings about copyright.\n\
- Complete the task in one go without asking questions back.\n";

/// The changes of an update; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct SettingsChanges {
    pub default_content_processing_engine_doc: Option<String>,
    pub default_content_processing_engine_url: Option<String>,
    pub default_embedding_option: Option<String>,
    pub auto_delete_files: Option<String>,
    pub youtube_preferred_languages: Option<Vec<String>>,
}

pub async fn get(db: &Db, owner: &str) -> Result<UserSettings, StoreError> {
    let owner = owner_key(owner)?;
    let found: Vec<UserSettings> = rows(
        db,
        &format!("SELECT {FIELDS} FROM type::record('user_settings', $owner)"),
        vec![("owner", json!(owner.as_str()))],
    )
    .await?;
    Ok(found.into_iter().next().unwrap_or_else(defaults))
}

/// Sets the given fields (the others keep their values, or get their defaults on a new record).
pub async fn update(db: &Db, owner: &str, changes: SettingsChanges) -> Result<UserSettings, StoreError> {
    let fields = vec![
        ("default_content_processing_engine_doc", json!(changes.default_content_processing_engine_doc)),
        ("default_content_processing_engine_url", json!(changes.default_content_processing_engine_url)),
        ("default_embedding_option", json!(changes.default_embedding_option)),
        ("auto_delete_files", json!(changes.auto_delete_files)),
        ("youtube_preferred_languages", json!(changes.youtube_preferred_languages)),
    ];
    upsert(db, owner, fields).await?;
    get(db, owner).await
}

/// The user's transformation instructions, or [`DEFAULT_INSTRUCTIONS`].
pub async fn transformation_instructions(db: &Db, owner: &str) -> Result<String, StoreError> {
    let owner = owner_key(owner)?;
    let found: Vec<Option<String>> = rows(
        db,
        "SELECT VALUE transformation_instructions FROM type::record('user_settings', $owner)",
        vec![("owner", json!(owner.as_str()))],
    )
    .await?;
    Ok(found.into_iter().flatten().next().unwrap_or_else(|| DEFAULT_INSTRUCTIONS.to_string()))
}

pub async fn set_transformation_instructions(db: &Db, owner: &str, text: &str) -> Result<String, StoreError> {
    upsert(db, owner, vec![("transformation_instructions", json!(text))]).await?;
    transformation_instructions(db, owner).await
}

/// `UPSERT` of the owner's record with the non-null `fields` (names from this module only).
async fn upsert(db: &Db, owner: &str, fields: Vec<(&'static str, Value)>) -> Result<(), StoreError> {
    let owner_k = owner_key(owner)?;
    let mut sets = vec!["owner = type::record('user', $owner)".to_string()];
    let mut binds = vec![("owner", json!(owner_k.as_str()))];
    for (name, value) in fields.into_iter().filter(|(_, v)| !v.is_null()) {
        sets.push(format!("{name} = ${name}"));
        binds.push((name, value));
    }
    let _: Vec<Value> =
        rows(db, &format!("UPSERT type::record('user_settings', $owner) SET {} RETURN NONE", sets.join(", ")), binds)
            .await?;
    Ok(())
}
