//! The rows the app works with, as the API returns them (ids and times as strings). Queries
//! select exactly these fields; serde checks the shape on the way out of the database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub title: Option<String>,
    pub content: String,
    pub note_type: String,
    pub created: String,
    pub updated: String,
}

/// An episode profile: how a podcast is outlined and written. `speaker_config` names a
/// speaker profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    pub name: String,
    pub voice_id: String,
    pub backstory: String,
    pub personality: String,
}

/// A speaker profile: the voices of a podcast (1 to 4) and the TTS model that speaks them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerProfile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tts_provider: String,
    pub tts_model: String,
    pub speakers: Vec<Speaker>,
}
