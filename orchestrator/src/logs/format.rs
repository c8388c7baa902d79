//! How one line looks on `ephitup`'s output: `name | line` (the name padded to line up, and
//! coloured on a terminal) or a JSON object `{"timestamp", "service", "stream", "message"}`.

use std::io::Write;

use super::sink::Stream;
use crate::config::LogFormat;

/// ANSI colours given to services in turn.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub enabled: bool,
}

const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];
const RESET: &str = "\x1b[0m";

impl Palette {
    /// The coloured (or plain) `name | ` prefix, padded to `width`.
    pub fn prefix(&self, name: &str, width: usize, index: usize) -> Vec<u8> {
        if self.enabled {
            format!("\x1b[{}m{name:<width$} |{RESET} ", COLOURS[index % COLOURS.len()]).into_bytes()
        } else {
            format!("{name:<width$} | ").into_bytes()
        }
    }
}

/// The formatting of one stream of one service instance.
#[derive(Debug, Clone)]
pub enum LineFormat {
    Pretty { prefix: Vec<u8> },
    Json { service: String, stream: Stream },
}

impl LineFormat {
    pub fn new(format: LogFormat, name: &str, stream: Stream, prefix: Vec<u8>) -> Self {
        match format {
            LogFormat::Pretty => LineFormat::Pretty { prefix },
            LogFormat::Json => LineFormat::Json { service: name.to_string(), stream },
        }
    }

    /// Appends one formatted line (without its newline in `line`) to `out`. `timestamp` is
    /// formatted once per batch by the caller; `partial` marks a piece of a longer line.
    pub fn push(&self, out: &mut Vec<u8>, line: &[u8], timestamp: &str, partial: bool) {
        match self {
            LineFormat::Pretty { prefix } => {
                out.extend_from_slice(prefix);
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            LineFormat::Json { service, stream } => {
                let record = JsonLine {
                    timestamp,
                    service,
                    stream: stream.as_str(),
                    message: &String::from_utf8_lossy(line),
                    partial: partial.then_some(true),
                };
                // Serializing plain strings into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, &record);
                let _ = out.write_all(b"\n");
            }
        }
    }
}

#[derive(serde::Serialize)]
struct JsonLine<'a> {
    timestamp: &'a str,
    service: &'a str,
    stream: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    partial: Option<bool>,
}

/// Now, as RFC 3339 with microseconds in UTC.
pub fn timestamp() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_lines_carry_the_padded_prefix() {
        let prefix = Palette { enabled: false }.prefix("db", 6, 0);
        let f = LineFormat::new(LogFormat::Pretty, "db", Stream::Stdout, prefix);
        let mut out = Vec::new();
        f.push(&mut out, b"ready", "t", false);
        assert_eq!(out, b"db     | ready\n");
    }

    #[test]
    fn json_lines_escape_and_mark_pieces() {
        let f = LineFormat::new(LogFormat::Json, "api", Stream::Stderr, Vec::new());
        let mut out = Vec::new();
        f.push(&mut out, b"say \"hi\"\t\xff", "2026-01-01T00:00:00Z", true);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["service"], "api");
        assert_eq!(v["stream"], "stderr");
        assert_eq!(v["message"], "say \"hi\"\t\u{fffd}");
        assert_eq!(v["partial"], true);
    }
}
