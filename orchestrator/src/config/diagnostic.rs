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

/// At most this many problems are shown; the rest are counted (a generated file with
/// thousands of errors gets a readable answer, and rendering stays cheap).
pub const MAX_SHOWN: usize = 50;

/// How much of a source line is shown around the error (a 1 MiB line is not printed whole).
const BEFORE: usize = 40;
const AFTER: usize = 80;

/// `s` for a message: whole when short, else its start and a count.
pub fn clip(s: &str) -> String {
    clip_to(s, 60)
}

/// [`clip`] keeping up to `keep` characters.
pub fn clip_to(s: &str, keep: usize) -> String {
    match s.char_indices().nth(keep) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes)", &s[..cut], s.len()),
    }
}

fn render(file: &std::path::Path, text: &str, diagnostics: &[Diagnostic]) -> String {
    // Line starts, once: locating each problem is then a binary search, not a scan.
    let starts: Vec<usize> =
        std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect();
    let mut out = String::new();
    for (i, d) in diagnostics.iter().take(MAX_SHOWN).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_one(&mut out, file, text, &starts, d).ok();
    }
    if diagnostics.len() > MAX_SHOWN {
        use fmt::Write;
        let more = diagnostics.len() - MAX_SHOWN;
        let _ = writeln!(
            out,
            "\nerror: {}: {more} more problem{} not shown",
            file.display(),
            if more == 1 { "" } else { "s" }
        );
    }
    out
}

fn render_one(out: &mut String, file: &std::path::Path, text: &str, starts: &[usize], d: &Diagnostic) -> fmt::Result {
    use fmt::Write;
    let key = if d.key.is_empty() { String::new() } else { format!("`{}`: ", clip(&d.key)) };
    let Some(span) = d.span.clone() else {
        return writeln!(out, "error: {}: {key}{}", file.display(), d.message);
    };
    let offset = floor_char_boundary(text, span.start.min(text.len()));
    let line_index = starts.partition_point(|&s| s <= offset).saturating_sub(1);
    let line_start = starts.get(line_index).copied().unwrap_or(0);
    let line_end = starts.get(line_index + 1).map_or(text.len(), |&next| next - 1);
    let line_end = if text[line_start..line_end].ends_with('\r') { line_end - 1 } else { line_end };
    let (line, col) = (line_index + 1, text[line_start..offset].chars().count() + 1);
    writeln!(out, "error: {}:{line}:{col}: {key}{}", file.display(), d.message)?;

    // A window of the line around the error.
    let from = floor_char_boundary(text, offset.saturating_sub(BEFORE).max(line_start));
    let to = ceil_char_boundary(text, (offset + AFTER).min(line_end));
    let (lead, tail) = (if from > line_start { "…" } else { "" }, if to < line_end { "…" } else { "" });
    let shown = &text[from..to];
    let pad = lead.chars().count() + text[from..offset].chars().count();
    // Underline the span on its first line only; multi-line values get a single caret run.
    let end = floor_char_boundary(text, span.end.min(to).max(offset));
    let width = text[offset..end].lines().next().map_or(1, |s| s.chars().count().max(1));
    let gutter = line.to_string().len();
    writeln!(out, "{:gutter$} |", "")?;
    writeln!(out, "{line} | {lead}{shown}{tail}")?;
    writeln!(out, "{:gutter$} | {:pad$}{}", "", "", "^".repeat(width))
}

fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
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

    #[test]
    fn long_lines_are_shown_around_the_error_and_many_problems_are_counted() {
        let text = format!("a = \"{}\" # {}\n", "x".repeat(1_000_000), "y".repeat(1000));
        let at = text.find(" #").unwrap_or(0);
        let many: Vec<Diagnostic> = (0..10_000).map(|_| Diagnostic::new("a", Some(at..at + 2), "bad")).collect();
        let shown = ConfigError::Invalid { file: "f.toml".into(), text: text.clone(), diagnostics: many }.to_string();
        assert!(shown.starts_with(&format!("error: f.toml:1:{}: `a`: bad", at + 1)), "{}", &shown[..200]);
        assert!(shown.len() < 20_000, "{} bytes", shown.len());
        assert!(shown.contains("error: f.toml: 9950 more problems not shown"), "{}", &shown[shown.len() - 200..]);
        let first = shown.lines().nth(2).unwrap_or("");
        assert!(first.starts_with("1 | …xxx") && first.ends_with("yyy…"), "{first}");
        let caret = shown.lines().nth(3).unwrap_or("");
        let under = first.find(" #").map(|i| first[..i].chars().count());
        assert_eq!(caret.find('^'), under, "the caret is under the error:\n{first}\n{caret}");
    }
}
