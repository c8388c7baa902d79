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
    /// `ADMIN_EMAILS` (comma-separated, compared case-insensitively): the admins. A user's
    /// `is_admin` follows it at register and login.
    pub admin_emails: Vec<String>,
}

impl ApiSettings {
    /// Whether `email` is listed in `ADMIN_EMAILS`.
    pub fn is_admin_email(&self, email: &str) -> bool {
        let email = email.trim().to_ascii_lowercase();
        self.admin_emails.iter().any(|a| *a == email)
    }
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
            .field("admin_emails", &self.admin_emails)
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
        let admin_emails = var("ADMIN_EMAILS")
            .unwrap_or_default()
            .split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        Ok(Self {
            admin_emails,
            bind,
            jwt_secret,
            jwt_expires_minutes,
            allow_registration,
            data_path,
            openai_fallback,
            upload_max_bytes,
        })
    }
}
