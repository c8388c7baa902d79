//! The API's settings from the environment. Secrets are read here and never printed.

use std::net::SocketAddr;
use std::path::PathBuf;

use ephitup_store::crypto::stored_secret;

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

#[derive(Clone)]
pub struct ApiSettings {
    /// `API_BIND`, default `127.0.0.1:5055`.
    pub bind: SocketAddr,
    /// `JWT_SECRET`, or a secret generated once into `DATA_PATH/.secrets/jwt_secret`.
    pub jwt_secret: Vec<u8>,
    /// `JWT_EXPIRES_MINUTES`, default 1440.
    pub jwt_expires_minutes: u64,
    /// `ALLOW_REGISTRATION`, default true.
    pub allow_registration: bool,
    /// `DATA_PATH`, default `./data`.
    pub data_path: PathBuf,
    /// Whether `OPENAI_API_KEY` is set: a deployment-wide key for users without their own.
    pub openai_fallback: bool,
    /// `UPLOAD_MAX_BYTES`, default 50 MiB: the largest uploaded file.
    pub upload_max_bytes: usize,
    /// `API_MAX_IN_FLIGHT`, default 64: requests handled at once (more wait, then get 503).
    pub max_in_flight: usize,
    /// `API_QUEUE_TIMEOUT_MS`, default 1000: how long a request waits for room before its 503.
    pub queue_timeout: std::time::Duration,
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("bind", &self.bind)
            .field("jwt_secret", &"<redacted>")
            .field("jwt_expires_minutes", &self.jwt_expires_minutes)
            .field("allow_registration", &self.allow_registration)
            .field("data_path", &self.data_path)
            .field("openai_fallback", &self.openai_fallback)
            .field("upload_max_bytes", &self.upload_max_bytes)
            .field("max_in_flight", &self.max_in_flight)
            .field("queue_timeout", &self.queue_timeout)
            .finish()
    }
}

impl ApiSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let bind = match var("API_BIND") {
            Some(v) => {
                v.parse().map_err(|_| SettingsError { name: "API_BIND", message: format!("`{v}` is not host:port") })?
            }
            None => SocketAddr::from(([127, 0, 0, 1], 5055)),
        };
        let jwt_expires_minutes = match var("JWT_EXPIRES_MINUTES") {
            Some(v) => v.parse().map_err(|_| SettingsError {
                name: "JWT_EXPIRES_MINUTES",
                message: format!("`{v}` is not a number"),
            })?,
            None => 1440,
        };
        let allow_registration = match var("ALLOW_REGISTRATION").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(v) => {
                return Err(SettingsError {
                    name: "ALLOW_REGISTRATION",
                    message: format!("`{v}` is not true or false"),
                });
            }
        };
        let data_path = PathBuf::from(var("DATA_PATH").unwrap_or_else(|| "./data".into()));
        let jwt_secret = match var("JWT_SECRET") {
            Some(s) => s.into_bytes(),
            None => stored_secret(&data_path, "jwt_secret").map_err(|e| SettingsError {
                name: "JWT_SECRET",
                message: format!("not set, and no secret could be kept in {}: {e}", data_path.display()),
            })?,
        };
        if jwt_secret.len() < 16 {
            return Err(SettingsError { name: "JWT_SECRET", message: "must be at least 16 bytes".into() });
        }
        let openai_fallback = var("OPENAI_API_KEY").is_some();
        let upload_max_bytes = match var("UPLOAD_MAX_BYTES") {
            Some(v) => v.parse().map_err(|_| SettingsError {
                name: "UPLOAD_MAX_BYTES",
                message: format!("`{v}` is not a number of bytes"),
            })?,
            None => 50 << 20,
        };
        let number = |name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>| match var(name) {
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(SettingsError {
                    name,
                    message: format!("`{v}` is not a number from {} to {}", range.start(), range.end()),
                }),
            },
            None => Ok(default),
        };
        let max_in_flight = number("API_MAX_IN_FLIGHT", 64, 1..=100_000)? as usize;
        let queue_timeout = std::time::Duration::from_millis(number("API_QUEUE_TIMEOUT_MS", 1000, 0..=600_000)?);
        Ok(Self {
            bind,
            max_in_flight,
            queue_timeout,
            jwt_secret,
            jwt_expires_minutes,
            allow_registration,
            data_path,
            openai_fallback,
            upload_max_bytes,
        })
    }
}
