//! What every handler shares.

use std::sync::Arc;

use ephitup_store::ai::{Clients, Fallback};
use ephitup_store::{AudioStore, Db, SecretBox};

use crate::auth::known::KnownUsers;
use crate::auth::password::Passwords;
use crate::auth::rate::Limits;
use crate::auth::token::Keys;
use crate::layers::DbHealth;
use crate::settings::ApiSettings;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<ApiSettings>,
    pub keys: Arc<Keys>,
    /// Login and registration limits per address and account.
    pub limits: Arc<Limits>,
    /// Password hashing, a few at a time.
    pub passwords: Arc<Passwords>,
    /// Encrypts provider secrets at rest (`FERNET_SECRET_KEY` or the kept key file).
    pub secrets: Arc<SecretBox>,
    /// Where podcast audio is kept (files under `DATA_PATH`, or S3).
    pub audio: Arc<AudioStore>,
    /// Calls to AI providers made by the API itself (transformations run now): the operator's
    /// client, and the one for users' own base URLs (public addresses only).
    pub ai_clients: Clients,
    /// `OPENAI_API_KEY` / `OPENAI_BASE_URL`: the operator's key for users without their own.
    pub ai_fallback: Arc<Fallback>,
    /// How many migrations this build knows: the database is current when it has them all.
    pub migrations: usize,
    /// The database's health as the background check last saw it.
    pub health: DbHealth,
    /// Users read recently, for the bearer check of every request.
    pub users: Arc<KnownUsers>,
    /// Room for answers streamed as server-sent events (`API_MAX_STREAMS`).
    pub streams: crate::room::Room,
    /// Room for searches in the database (`API_MAX_SEARCHES`).
    pub searches: crate::room::Room,
}
