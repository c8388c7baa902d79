//! The rows the app works with, as the API returns them (ids and times as strings). Queries
//! select exactly these fields; serde checks the shape on the way out of the database. The
//! ones clients see derive `ToSchema`: the API's OpenAPI document describes them from here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub is_active: bool,
    pub is_admin: bool,
    pub has_completed_onboarding: bool,
}

/// A user with the password hash, for sign-in only; never serialized to clients.
#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub id: String,
    pub password_hash: String,
    pub is_active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notebook {
    pub id: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub created: String,
    pub updated: String,
    pub source_count: i64,
    pub note_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    pub id: String,
    pub title: Option<String>,
    pub content: String,
    pub note_type: String,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Model {
    pub id: String,
    pub name: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub model_type: String,
    pub created: String,
    pub updated: String,
}

/// A user's default models (ids of their `model` rows), each unset until chosen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultModels {
    pub default_chat_model: Option<String>,
    pub default_transformation_model: Option<String>,
    pub large_context_model: Option<String>,
    pub default_text_to_speech_model: Option<String>,
    pub default_speech_to_text_model: Option<String>,
    pub default_embedding_model: Option<String>,
    pub default_tools_model: Option<String>,
}

impl DefaultModels {
    pub const FIELDS: [&'static str; 7] = [
        "default_chat_model",
        "default_transformation_model",
        "large_context_model",
        "default_text_to_speech_model",
        "default_speech_to_text_model",
        "default_embedding_model",
        "default_tools_model",
    ];

    /// Each field with its value, in `FIELDS` order.
    pub fn entries(&self) -> [(&'static str, Option<&str>); 7] {
        [
            (Self::FIELDS[0], self.default_chat_model.as_deref()),
            (Self::FIELDS[1], self.default_transformation_model.as_deref()),
            (Self::FIELDS[2], self.large_context_model.as_deref()),
            (Self::FIELDS[3], self.default_text_to_speech_model.as_deref()),
            (Self::FIELDS[4], self.default_speech_to_text_model.as_deref()),
            (Self::FIELDS[5], self.default_embedding_model.as_deref()),
            (Self::FIELDS[6], self.default_tools_model.as_deref()),
        ]
    }
}

/// A job of the queue (`command`), as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub job_id: String,
    pub status: String,
    pub result: Option<serde_json::Value>,
    pub error_message: Option<String>,
    pub progress: Option<serde_json::Value>,
    pub created: String,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Episode {
    pub id: String,
    pub name: String,
    pub episode_profile: serde_json::Value,
    pub speaker_profile: serde_json::Value,
    pub briefing: String,
    pub audio_file: Option<String>,
    pub transcript: Option<serde_json::Value>,
    pub outline: Option<serde_json::Value>,
    pub created: String,
    pub job_id: Option<String>,
    pub job_status: Option<String>,
}

/// Where a source's content comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub url: Option<String>,
    /// Relative to `DATA_PATH`.
    pub file_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    pub id: String,
    pub title: Option<String>,
    pub topics: Vec<String>,
    pub asset: Option<Asset>,
    pub embedded: bool,
    pub embedded_chunks: i64,
    pub insights_count: i64,
    pub created: String,
    pub updated: String,
    pub command_id: Option<String>,
    pub status: Option<String>,
}

/// A source with its text and links, for the detail view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceDetail {
    #[serde(flatten)]
    pub source: Source,
    pub full_text: Option<String>,
    pub notebooks: Vec<String>,
    pub error_message: Option<String>,
}

/// An episode profile: how a podcast is outlined and written. `speaker_config` names a
/// speaker profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EpisodeProfile {
    pub id: String,
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

/// One voice of a speaker profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Speaker {
    pub name: String,
    pub voice_id: String,
    #[serde(default)]
    pub backstory: String,
    #[serde(default)]
    pub personality: String,
}

/// A speaker profile: the voices of a podcast (1 to 4) and the TTS model that speaks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpeakerProfile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tts_provider: String,
    pub tts_model: String,
    pub speakers: Vec<Speaker>,
}

/// A user's provider secret as listed: never the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProviderSecretSummary {
    pub provider: String,
    pub display_name: Option<String>,
    pub created: String,
    pub updated: String,
}

/// A user's provider secret with its encrypted value, for the API to mask and the worker to
/// decrypt. Not serialized to clients: its `Debug` leaves the token out too.
#[derive(Clone, Deserialize)]
pub struct ProviderSecret {
    pub provider: String,
    pub display_name: Option<String>,
    pub base_url: Option<String>,
    pub encrypted_value: String,
    pub created: String,
    pub updated: String,
}

impl std::fmt::Debug for ProviderSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSecret")
            .field("provider", &self.provider)
            .field("display_name", &self.display_name)
            .field("base_url", &self.base_url)
            .field("encrypted_value", &"<redacted>")
            .field("created", &self.created)
            .field("updated", &self.updated)
            .finish()
    }
}

/// A named prompt applied to a source's text; its output is saved as an insight. Defaults
/// (seeded by migrations, no owner) are read by all and changed by none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transformation {
    pub id: String,
    pub name: String,
    pub title: String,
    pub description: String,
    pub prompt: String,
    pub apply_default: bool,
    pub created: String,
    pub updated: String,
}

/// The output of a transformation on one source (`insight_type` is the transformation's title).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Insight {
    pub id: String,
    pub source_id: String,
    pub insight_type: String,
    pub content: String,
    pub created: String,
    pub updated: String,
}

/// A user's content settings (the original's Settings page), each with the original's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserSettings {
    /// `auto` (default), `docling`, `simple`, ...: how documents are read (only our own
    /// extractors exist; kept for the original client).
    pub default_content_processing_engine_doc: String,
    /// `auto` (default), `firecrawl`, `jina`, `simple`: how links are read (likewise).
    pub default_content_processing_engine_url: String,
    /// `ask` (default: each source says, by its `embed`), `always` or `never`.
    pub default_embedding_option: String,
    /// `yes` (default) or `no`: whether an uploaded file is dropped once its text is kept,
    /// when a new source does not say (`delete_source`).
    pub auto_delete_files: String,
    pub youtube_preferred_languages: Vec<String>,
}

/// One user as an admin sees them, with how much they own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminUserSummary {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub is_active: bool,
    pub is_admin: bool,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub notebook_count: i64,
    pub source_count: i64,
    pub note_count: i64,
    pub episode_count: i64,
}

/// A notebook or episode a user owns, as an admin's listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminNamed {
    pub id: String,
    pub name: String,
    pub created: Option<String>,
    pub updated: Option<String>,
}

/// A source or note a user owns, as an admin's listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminTitled {
    pub id: String,
    pub title: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
}

/// One user as an admin sees them in detail: the summary and what they own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AdminUserDetail {
    #[serde(flatten)]
    pub summary: AdminUserSummary,
    pub notebooks: Vec<AdminNamed>,
    pub sources: Vec<AdminTitled>,
    pub notes: Vec<AdminTitled>,
    pub episodes: Vec<AdminNamed>,
}

/// A source or note an answer cites, with its title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    pub id: String,
    pub title: Option<String>,
}

/// One message of a chat session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatMessage {
    pub id: String,
    /// `human` or `ai`.
    #[serde(rename = "type")]
    pub kind: String,
    pub content: String,
    pub timestamp: String,
    /// The sources and notes an `ai` answer cites (empty for `human`).
    #[serde(default)]
    pub citations: Vec<Citation>,
}

/// A chat session of a notebook (`notebook_id`) or of one source (`source_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatSession {
    pub id: String,
    pub title: String,
    pub notebook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub model_override: Option<String>,
    pub message_count: i64,
    pub created: String,
    pub updated: String,
}

/// One hit of a search: an item (a source, note or insight) with its best score and the
/// passages that matched (text search: with `<mark>`…`</mark>` around the matched words; the
/// text is the user's own, unescaped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub id: String,
    /// The source or note the hit belongs to (an insight's source; else the item itself).
    pub parent_id: String,
    /// `source`, `note` or `insight`.
    pub item_type: String,
    pub title: Option<String>,
    pub score: f64,
    pub matches: Vec<String>,
}
