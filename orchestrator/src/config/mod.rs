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

use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::path::Path;

pub use diagnostic::{ConfigError, Diagnostic, line_col};
pub use interpolate::interpolate;
pub use model::*;

/// Reads and validates a configuration file, interpolating from the process environment.
///
/// A panic while validating (a bug: the loader is fuzzed so that none is known) is caught and
/// becomes an error like any other: this runs inside PID 1 at every live reload, and a broken
/// file must never end the running set.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = read(path).map_err(|source| ConfigError::Read { file: path.to_path_buf(), source })?;
    let lookup = |name: &str| std::env::var(name).ok();
    match std::panic::catch_unwind(AssertUnwindSafe(|| parse_bytes(path, &bytes, &lookup))) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(ConfigError::Invalid {
                file: path.to_path_buf(),
                text: String::from_utf8_lossy(&bytes).into_owned(),
                diagnostics: vec![Diagnostic::new(
                    "",
                    Some(0..0),
                    format!("internal error while validating this file ({what}); nothing was loaded: please report it"),
                )],
            })
        }
    }
}

/// The largest configuration file read.
pub const MAX_FILE: u64 = 16 << 20;

/// The file's bytes, if it is a regular file of at most [`MAX_FILE`]: a FIFO or a device put in
/// its place must not block a reload (the coordinator would wait on it).
fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(std::io::Error::other(format!("larger than {} MiB", MAX_FILE >> 20)));
    }
    Ok(bytes)
}

/// Validates a file's bytes. Text that is not UTF-8 is refused at its first bad byte.
pub fn parse_bytes(path: &Path, bytes: &[u8], lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(path, text, lookup),
        Err(e) => {
            let at = e.valid_up_to();
            // The lossy text is the same as the file up to the bad byte, so `at` locates it.
            Err(ConfigError::Invalid {
                file: path.to_path_buf(),
                text: String::from_utf8_lossy(bytes).into_owned(),
                diagnostics: vec![Diagnostic::new(
                    "",
                    Some(at..at + 1),
                    format!("not UTF-8 text (byte 0x{:02x}); ephitup.toml must be saved as UTF-8", bytes[at]),
                )],
            })
        }
    }
}

/// Validates configuration text; `path` locates errors and anchors relative paths.
pub fn parse(path: &Path, text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let invalid = |diagnostics| ConfigError::Invalid { file: path.to_path_buf(), text: text.to_string(), diagnostics };
    let located = |span: Option<Range<usize>>, message: &str| span.or_else(|| Some(unlocated(text, message)));
    let deserializer = toml::Deserializer::parse(text)
        .map_err(|e| invalid(vec![Diagnostic::new("", located(e.span(), e.message()), e.message())]))?;
    let raw: raw::RawConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = key_path(e.path());
        let inner = e.into_inner();
        let message = recursion_hint(inner.message());
        invalid(vec![Diagnostic::new(key, located(inner.span(), inner.message()), message)])
    })?;
    resolve::resolve(path, raw, lookup).map_err(invalid)
}

/// Where to point when the TOML parser gives no place: for its recursion limit, the line
/// nested deepest (most `[`, `{` and `.`: tables, arrays and dotted keys); else the start.
fn unlocated(text: &str, message: &str) -> Range<usize> {
    if !message.contains("recursion") {
        return 0..0;
    }
    let mut best = (0usize, 0usize);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let depth = line.bytes().filter(|b| matches!(b, b'[' | b'{' | b'.')).count();
        if depth > best.0 {
            let first = line.bytes().position(|b| matches!(b, b'[' | b'{' | b'.')).unwrap_or(0);
            best = (depth, offset + first);
        }
        offset += line.len();
    }
    best.1..best.1 + 1
}

fn recursion_hint(message: &str) -> String {
    if message == "recursion limit" {
        "nested too deeply (the TOML parser's recursion limit: too many levels of tables, arrays or dotted keys)".into()
    } else {
        message.to_string()
    }
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
