//! What every handler shares.

use std::sync::Arc;

use ephitup_store::{AudioStore, Db, SecretBox};

use crate::auth::rate::LoginLimiter;
use crate::auth::token::Keys;
use crate::layers::DbHealth;
use crate::settings::ApiSettings;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<ApiSettings>,
    pub keys: Arc<Keys>,
    pub login_limiter: Arc<LoginLimiter>,
    /// Encrypts provider secrets at rest (`FERNET_SECRET_KEY` or the kept key file).
    pub secrets: Arc<SecretBox>,
    /// Where podcast audio is kept (files under `DATA_PATH`, or S3).
    pub audio: Arc<AudioStore>,
    /// How many migrations this build knows: the database is current when it has them all.
    pub migrations: usize,
    /// The database's health as the background check last saw it.
    pub health: DbHealth,
}
