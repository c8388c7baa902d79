//! Errors in `ephitup.toml`, located: file, line, column and the dotted key at fault, with the
//! offending source line underneath, the way a compiler reports them. Every check in
//! [`super::resolve`] and every serde error from the TOML parser ends up here.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One problem found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Dotted path of the key at fault, e.g. `services.api.depends_on.db`.
    pub key: String,
    pub message: String,
    /// Byte range in the file's text, when known.
    pub span: Option<Range<usize>>,
}

impl Diagnostic {
    pub fn new(key: impl Into<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into(), span }
    }
}

/// Why a configuration could not be loaded. Nothing is started when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", file.display())]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{}", render(file, text, diagnostics))]
    Invalid { file: PathBuf, text: String, diagnostics: Vec<Diagnostic> },
}

impl ConfigError {
    /// The located problems, empty for a read error.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { diagnostics, .. } => diagnostics,
        }
    }
}

/// 1-based line and column of a byte offset (column counted in characters).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn render(file: &std::path::Path, text: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_one(&mut out, file, text, d).ok();
    }
    out
}

fn render_one(out: &mut String, file: &std::path::Path, text: &str, d: &Diagnostic) -> fmt::Result {
    use fmt::Write;
    let key = if d.key.is_empty() { String::new() } else { format!("`{}`: ", d.key) };
    let Some(span) = d.span.clone() else {
        return writeln!(out, "error: {}: {key}{}", file.display(), d.message);
    };
    let (line, col) = line_col(text, span.start);
    writeln!(out, "error: {}:{line}:{col}: {key}{}", file.display(), d.message)?;
    let source_line = text.lines().nth(line - 1).unwrap_or("");
    let gutter = line.to_string().len();
    // Underline the span on its first line only; multi-line values get a single caret run.
    let width = text
        [floor_char_boundary(text, span.start.min(text.len()))..floor_char_boundary(text, span.end.min(text.len()))]
        .lines()
        .next()
        .map_or(1, |s| s.chars().count().max(1));
    let width = width.min(source_line.chars().count().saturating_sub(col - 1).max(1));
    writeln!(out, "{:gutter$} |", "")?;
    writeln!(out, "{line} | {source_line}")?;
    writeln!(out, "{:gutter$} | {:pad$}{}", "", "", "^".repeat(width), pad = col - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 4));
    }

    #[test]
    fn rendering_names_file_line_column_and_key() {
        let err = ConfigError::Invalid {
            file: "ephitup.toml".into(),
            text: "[services.a]\ncommand = []\n".into(),
            diagnostics: vec![Diagnostic::new("services.a.command", Some(23..25), "command is empty")],
        };
        let shown = err.to_string();
        assert!(shown.starts_with("error: ephitup.toml:2:11: `services.a.command`: command is empty"), "{shown}");
        assert!(shown.contains("2 | command = []"), "{shown}");
        assert!(shown.contains("^^"), "{shown}");
    }
}
