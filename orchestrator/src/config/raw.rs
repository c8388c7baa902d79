//! The file as written: serde types mirroring `ephitup.toml` key for key. Unknown keys and
//! wrong types are refused here (with their span, by the TOML deserializer). Scalars that
//! allow `${VAR}` stay strings, with their spans, until [`super::resolve`] interprets them.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub services: BTreeMap<String, Spanned<RawService>>,
    #[serde(default)]
    pub export: RawExport,
}

/// `[export]`: what `ephitup export` needs beyond the process set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExport {
    /// Per variable name: exported as a reference (`true`) or as its value (`false`),
    /// overriding the rule on names (PASSWORD, SECRET, KEY, TOKEN).
    #[serde(default)]
    pub secret: BTreeMap<String, bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub data_dir: Option<Text>,
    pub log_format: Option<Text>,
    pub log_color: Option<Text>,
    pub shutdown_timeout: Option<Text>,
    /// `host:port` of the optional HTTP listener (health endpoints and status page).
    pub http: Option<Text>,
    /// Watch the file and apply valid edits while running (default true).
    pub reload: Option<bool>,
    /// The user every service runs as unless it names its own (empty: ephitup's own user).
    pub user: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// An argv list, or a string split like a shell would (no shell is run).
    pub command: Spanned<toml::Value>,
    pub kind: Option<Text>,
    pub cwd: Option<Text>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<toml::Value>>,
    /// One path or a list of paths to dotenv files.
    pub env_file: Option<Spanned<toml::Value>>,
    /// `{ name = "condition" }`, or a list of names (each meaning `started`).
    pub depends_on: Option<Spanned<toml::Value>>,
    pub restart: Option<Text>,
    pub backoff: Option<Spanned<RawBackoff>>,
    pub max_restarts: Option<Spanned<u32>>,
    pub restart_window: Option<Text>,
    pub critical: Option<bool>,
    pub stop_signal: Option<Text>,
    pub stop_timeout: Option<Text>,
    pub health: Option<Spanned<RawProbe>>,
    pub liveness: Option<Spanned<RawProbe>>,
    pub replicas: Option<Spanned<u32>>,
    pub user: Option<Text>,
    pub log: Option<RawServiceLog>,
    /// What this service does when one of its dependencies restarts.
    pub on_dependency_restart: Option<Text>,
    /// Paths whose changes restart this service (dev watch).
    pub watch: Option<Spanned<Vec<Text>>>,
    /// Resources the service may use (`{ memory = "256MiB" }`).
    pub limits: Option<Spanned<RawLimits>>,
    /// When a one-shot runs (`{ every = "24h" }` or `{ cron = "0 3 * * *" }`).
    pub schedule: Option<Spanned<RawSchedule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub memory: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub every: Option<Text>,
    pub cron: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackoff {
    pub initial: Option<Text>,
    pub max: Option<Text>,
    pub jitter: Option<Spanned<f64>>,
    pub reset_after: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub http: Option<Text>,
    pub tcp: Option<Text>,
    pub exec: Option<Spanned<toml::Value>>,
    pub log: Option<Text>,
    pub interval: Option<Text>,
    pub timeout: Option<Text>,
    pub retries: Option<Spanned<u32>>,
    pub start_period: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServiceLog {
    /// Also write this service's lines to this file, rotated by size.
    pub file: Option<Text>,
    pub max_size: Option<Text>,
    pub max_files: Option<Spanned<u32>>,
    /// Lines longer than this are relayed in pieces.
    pub max_line: Option<Text>,
}
