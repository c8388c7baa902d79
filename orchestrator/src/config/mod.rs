//! `ephitup.toml`: loading, validation, and the resolved model the supervisor runs.
//!
//! Loading is two passes so that every error points at file, line, column and key: [`raw`]
//! deserializes the TOML (syntax, unknown keys and wrong types are refused there, by serde),
//! then [`resolve`] interpolates `${VAR}`, applies defaults, parses durations, signals,
//! commands and probes, and checks the dependency graph, collecting every problem it finds.
//! A configuration either loads completely or not at all: nothing starts from a broken file.

mod diagnostic;
mod interpolate;
mod model;
mod raw;
mod resolve;

use std::path::Path;

pub use diagnostic::{ConfigError, Diagnostic, line_col};
pub use interpolate::interpolate;
pub use model::*;

/// Reads and validates a configuration file, interpolating from the process environment.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.to_path_buf(), source })?;
    parse(path, &text, &|name| std::env::var(name).ok())
}

/// Validates configuration text; `path` locates errors and anchors relative paths.
pub fn parse(path: &Path, text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let invalid = |diagnostics| ConfigError::Invalid { file: path.to_path_buf(), text: text.to_string(), diagnostics };
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| invalid(vec![Diagnostic::new("", e.span(), e.message())]))?;
    let raw: raw::RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = key_path(e.path());
        let inner = e.into_inner();
        invalid(vec![Diagnostic::new(key, inner.span(), inner.message())])
    })?;
    resolve::resolve(path, raw, lookup).map_err(invalid)
}

/// The `data_dir` a file names, read leniently: for finding the control socket of a running
/// `ephitup` while the file has an error elsewhere (being edited). `None` when even the TOML
/// syntax or that one key is broken.
pub fn data_dir_lenient(path: &Path) -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    match value.get("settings").and_then(|s| s.get("data_dir")) {
        None => Some(base.join("data")),
        Some(v) => {
            let dir = interpolate(v.as_str()?, &|name| std::env::var(name).ok()).ok()?;
            Some(base.join(dir))
        }
    }
}

/// The dotted key of a serde error, without the wrappers `toml::Spanned` adds to the path.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let parts: Vec<String> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Map { key } | Segment::Enum { variant: key } if !key.starts_with("$__serde_spanned") => {
                Some(key.clone())
            }
            Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        })
        .collect();
    parts.join(".")
}

#[cfg(test)]
mod tests;
