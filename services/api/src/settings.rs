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
    /// `TRUSTED_PROXIES`, default loopback: peers whose `X-Forwarded-For` is read.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `ALLOW_PRIVATE_PROVIDER_URLS`, default false: provider base URLs may name private hosts.
    pub allow_private_provider_urls: bool,
    /// `PASSWORD_HASH_CONCURRENCY`, default 2: argon2id hashes computed at once (19 MiB each).
    pub password_hash_concurrency: usize,
    /// `PASSWORD_HASH_WAIT_SECONDS`, default 30: how long a sign-in waits for its turn to hash.
    pub password_hash_wait: std::time::Duration,
    /// `ADMIN_EMAILS` (comma-separated, compared case-insensitively): the admins. A user's
    /// `is_admin` follows it at register and login.
    pub admin_emails: Vec<String>,
    /// `API_MAX_IN_FLIGHT`, default 64: requests handled at once (more wait, then get 503).
    pub max_in_flight: usize,
    /// `API_QUEUE_TIMEOUT_MS`, default 1000: how long a request waits for room before its 503.
    pub queue_timeout: std::time::Duration,
    /// `API_MAX_STREAMS`, default 16: answers written at once, streamed or whole (chat, ask);
    /// more get 503.
    pub max_streams: usize,
    /// `API_MAX_SEARCHES`, default 4: searches run in the database at once (also those of an
    /// ask); one more waits up to `API_QUEUE_TIMEOUT_MS`, then gets 503.
    pub max_searches: usize,
}

impl ApiSettings {
    /// Whether `email` is listed in `ADMIN_EMAILS`.
    pub fn is_admin_email(&self, email: &str) -> bool {
        let email = email.trim().to_ascii_lowercase();
        self.admin_emails.contains(&email)
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
            .field("trusted_proxies", &self.trusted_proxies)
            .field("allow_private_provider_urls", &self.allow_private_provider_urls)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("password_hash_wait", &self.password_hash_wait)
            .field("admin_emails", &self.admin_emails)
            .field("max_in_flight", &self.max_in_flight)
            .field("queue_timeout", &self.queue_timeout)
            .field("max_streams", &self.max_streams)
            .field("max_searches", &self.max_searches)
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
        let allow_registration = flag("ALLOW_REGISTRATION", true)?;
        let allow_private_provider_urls = flag("ALLOW_PRIVATE_PROVIDER_URLS", false)?;
        let trusted_proxies = match var("TRUSTED_PROXIES") {
            Some(v) => crate::client::parse_trusted(&v)
                .map_err(|message| SettingsError { name: "TRUSTED_PROXIES", message })?,
            None => crate::client::default_trusted(),
        };
        let password_hash_concurrency = match var("PASSWORD_HASH_CONCURRENCY") {
            Some(v) => v.parse::<usize>().ok().filter(|n| (1..=64).contains(n)).ok_or_else(|| SettingsError {
                name: "PASSWORD_HASH_CONCURRENCY",
                message: format!("`{v}` is not a number from 1 to 64"),
            })?,
            // 2 × 19 MiB: the hashing stays under 40 MiB however many sign in at once, and two
            // hashes already keep two cores busy (more at once only wait for the CPU).
            None => 2,
        };
        let password_hash_wait = match var("PASSWORD_HASH_WAIT_SECONDS") {
            Some(v) => v.parse::<u64>().map(std::time::Duration::from_secs).map_err(|_| SettingsError {
                name: "PASSWORD_HASH_WAIT_SECONDS",
                message: format!("`{v}` is not a number of seconds"),
            })?,
            None => std::time::Duration::from_secs(30),
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
        let max_streams = number("API_MAX_STREAMS", 16, 1..=10_000)? as usize;
        let max_searches = number("API_MAX_SEARCHES", 4, 1..=10_000)? as usize;
        Ok(Self {
            admin_emails,
            bind,
            max_in_flight,
            queue_timeout,
            max_streams,
            max_searches,
            jwt_secret,
            jwt_expires_minutes,
            allow_registration,
            data_path,
            openai_fallback,
            upload_max_bytes,
            trusted_proxies,
            allow_private_provider_urls,
            password_hash_concurrency,
            password_hash_wait,
        })
    }
}

/// A true/false environment variable (`true`/`1`/`yes`, `false`/`0`/`no`), `default` when unset.
fn flag(name: &'static str, default: bool) -> Result<bool, SettingsError> {
    let value = std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| v.to_ascii_lowercase());
    match value.as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(v) => Err(SettingsError { name, message: format!("`{v}` is not true or false") }),
    }
}
