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

/// A user's provider secret as listed: never the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
