//! `ephitup import supervisord.conf`: a supervisord configuration as `ephitup.toml`.
//!
//! Each `[program:x]` becomes `[services.x]`. What maps: `command`, `directory` (cwd),
//! `environment`, `autorestart` (restart), `startretries` (max_restarts), `startsecs`
//! (backoff.reset_after: a run that lasted this long counts as a good start), `stopsignal`,
//! `stopwaitsecs` (stop_timeout), `priority` (start order: each priority level waits for the
//! one before it to have started), `user`, `numprocs` (replicas) and `stdout_logfile` with its
//! size and backups (log.file; ephitup writes both streams there). Everything else is named
//! in a warning, never dropped silently. Values are written by the `toml` crate, so quoting
//! is always right.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use regex::Regex;

/// The converted file and what could not be carried over.
#[derive(Debug)]
pub struct Converted {
    pub toml: String,
    pub warnings: Vec<String>,
}

struct Program {
    name: String,
    priority: i64,
    /// `key = value` lines, in order, with an optional comment above each.
    lines: Vec<(Option<String>, String, toml::Value)>,
}

pub fn supervisord(path: &Path) -> anyhow::Result<Converted> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    convert(&text, &path.display().to_string())
}

/// Converts supervisord.conf text; `source` names it in the header comment.
pub fn convert(text: &str, source: &str) -> anyhow::Result<Converted> {
    // supervisord reads values as written: quotes and backslashes are the program's business.
    let options = ini::ParseOption { enabled_escape: false, enabled_quote: false, ..Default::default() };
    let conf = ini::Ini::load_from_str_opt(text, options).context("not a valid INI file")?;
    let mut warnings = Vec::new();
    let mut programs = Vec::new();
    for (section, props) in conf.iter() {
        let Some(section) = section else {
            if props.iter().next().is_some() {
                warnings.push("keys outside any section are ignored".to_string());
            }
            continue;
        };
        let Some(name) = section.strip_prefix("program:") else {
            if !matches!(section, "supervisord" | "supervisorctl" | "unix_http_server" | "inet_http_server")
                && !section.starts_with("rpcinterface:")
            {
                warnings.push(format!("[{section}]: not a program, ignored"));
            }
            continue;
        };
        let name = service_name(name);
        let mut p = Program { name: name.clone(), priority: 999, lines: Vec::new() };
        let mut log = toml::Table::new();
        let mut backoff = toml::Table::new();
        let mut warn = |key: &str, why: &str| warnings.push(format!("[program:{name}] {key}: {why}"));
        let mut stderr_file = None;
        let mut stdout_file = None;
        for (key, value) in props.iter() {
            let value = value.trim();
            match key {
                "command" => {
                    let command = expand(value, &mut |w| warn(key, w));
                    p.lines.push((None, "command".into(), toml::Value::String(command)));
                }
                "directory" => {
                    p.lines.push((None, "cwd".into(), toml::Value::String(expand(value, &mut |w| warn(key, w)))))
                }
                "environment" => {
                    let mut env = toml::Table::new();
                    for (k, v) in environment(value) {
                        env.insert(k, toml::Value::String(expand(&v, &mut |w| warn(key, w))));
                    }
                    p.lines.push((None, "env".into(), toml::Value::Table(env)));
                }
                "autorestart" => {
                    let restart = match value.to_ascii_lowercase().as_str() {
                        "true" => "always",
                        "false" => "never",
                        "unexpected" => "on-failure",
                        other => {
                            warn(key, &format!("unknown value `{other}`, left out"));
                            continue;
                        }
                    };
                    p.lines.push((None, "restart".into(), toml::Value::String(restart.into())));
                }
                "startretries" => match value.parse::<i64>() {
                    Ok(n) => p.lines.push((
                        Some("supervisord's startretries: restarts allowed within restart_window".into()),
                        "max_restarts".into(),
                        toml::Value::Integer(n),
                    )),
                    Err(_) => warn(key, "not a number, left out"),
                },
                "startsecs" => match value.parse::<u64>() {
                    Ok(n) => {
                        backoff.insert("reset_after".into(), toml::Value::String(format!("{n}s")));
                    }
                    Err(_) => warn(key, "not a number, left out"),
                },
                "stopsignal" => {
                    let signal = value.to_ascii_uppercase();
                    let signal = if signal.starts_with("SIG") { signal } else { format!("SIG{signal}") };
                    p.lines.push((None, "stop_signal".into(), toml::Value::String(signal)));
                }
                "stopwaitsecs" => match value.parse::<u64>() {
                    Ok(n) => p.lines.push((None, "stop_timeout".into(), toml::Value::String(format!("{n}s")))),
                    Err(_) => warn(key, "not a number, left out"),
                },
                "priority" => match value.parse::<i64>() {
                    Ok(n) => p.priority = n,
                    Err(_) => warn(key, "not a number, left out"),
                },
                "user" => p.lines.push((None, "user".into(), toml::Value::String(value.to_string()))),
                "numprocs" => match value.parse::<i64>() {
                    Ok(n) => p.lines.push((None, "replicas".into(), toml::Value::Integer(n))),
                    Err(_) => warn(key, "not a number, left out"),
                },
                "stdout_logfile" => stdout_file = log_file(value),
                "stderr_logfile" => stderr_file = log_file(value),
                "stdout_logfile_maxbytes" => {
                    log.insert("max_size".into(), toml::Value::String(value.to_string()));
                }
                "stdout_logfile_backups" => match value.parse::<i64>() {
                    Ok(n) => {
                        log.insert("max_files".into(), toml::Value::Integer(n));
                    }
                    Err(_) => warn(key, "not a number, left out"),
                },
                // Both streams are always relayed; nothing to carry over.
                "redirect_stderr" | "process_name" | "stdout_logfile_maxbytes_default" => {}
                "stderr_logfile_maxbytes" | "stderr_logfile_backups" => {
                    warn(key, "ephitup writes both streams to one log.file; sized by stdout's settings")
                }
                "autostart" if value.eq_ignore_ascii_case("true") => {}
                "autostart" => warn(key, "ephitup starts every service; stop it with `ephitup stop` instead"),
                other => warn(other, "no ephitup equivalent, left out"),
            }
        }
        match (stdout_file, stderr_file) {
            (Some(out), Some(err)) if out != err => {
                log.insert("file".into(), toml::Value::String(out));
                warn("stderr_logfile", "ephitup writes both streams to log.file (the stdout_logfile)");
            }
            (Some(file), _) | (None, Some(file)) => {
                log.insert("file".into(), toml::Value::String(file));
            }
            (None, None) => {}
        }
        if !log.contains_key("file") {
            // Sizes of a file that is not written (the output goes to the console).
            log.clear();
        } else if log.get("max_size").and_then(|v| v.as_str()) == Some("0") {
            log.remove("max_size");
            warn("stdout_logfile_maxbytes", "0 (never rotate) has no equivalent; log.max_size applies");
        }
        if !backoff.is_empty() {
            p.lines.push((
                Some("supervisord's startsecs: a run this long counts as a good start".into()),
                "backoff".into(),
                toml::Value::Table(backoff),
            ));
        }
        if !log.is_empty() {
            p.lines.push((None, "log".into(), toml::Value::Table(log)));
        }
        programs.push(p);
    }
    Ok(Converted { toml: render(&mut programs, source), warnings })
}

/// Priorities become start order: each level depends on the previous level having started.
fn render(programs: &mut [Program], source: &str) -> String {
    let mut levels: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for p in programs.iter() {
        levels.entry(p.priority).or_default().push(p.name.clone());
    }
    let keys: Vec<i64> = levels.keys().copied().collect();
    let previous: BTreeMap<i64, Vec<String>> =
        keys.windows(2).map(|w| (w[1], levels.get(&w[0]).cloned().unwrap_or_default())).collect();
    programs.sort_by_key(|p| p.priority);
    let mut out = format!("# Converted from {source} by `ephitup import`. Check it with `ephitup check`.\n");
    for p in programs.iter() {
        let _ = writeln!(out, "\n[services.{}]", p.name);
        for (comment, key, value) in &p.lines {
            if let Some(c) = comment {
                let _ = writeln!(out, "# {c}");
            }
            let _ = writeln!(out, "{key} = {}", inline(value));
        }
        if let Some(before) = previous.get(&p.priority) {
            let _ = writeln!(
                out,
                "# supervisord priority {}: starts after the programs of the priority before",
                p.priority
            );
            let deps: toml::Value = toml::Value::Array(before.iter().cloned().map(toml::Value::String).collect());
            let _ = writeln!(out, "depends_on = {}", inline(&deps));
        }
    }
    out
}

/// A value on one line (tables inline).
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(t) => {
            let parts: Vec<String> = t.iter().map(|(k, v)| format!("{} = {}", key(k), inline(v))).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// A key, quoted when it is not a bare key.
fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

/// Service names are letters, digits, `-` and `_`.
fn service_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// supervisord's `%(ENV_X)s` becomes `${X}`; other expansions are left as they are, noted.
fn expand(value: &str, warn: &mut dyn FnMut(&str)) -> String {
    static ENV: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let Some(re) = ENV.get_or_init(|| Regex::new(r"%\(ENV_([A-Za-z_][A-Za-z0-9_]*)\)s").ok()) else {
        return value.to_string();
    };
    let out = re.replace_all(value, "$${$1}").into_owned();
    if out.contains("%(") {
        warn("an expansion other than %(ENV_X)s is left as written");
    }
    out
}

/// `KEY="value",KEY2=value2` (values may be quoted, and quoted values may hold commas).
fn environment(value: &str) -> Vec<(String, String)> {
    static PAIR: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let Some(re) = PAIR.get_or_init(|| {
        Regex::new(r#"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^,]*))\s*(?:,|$)"#).ok()
    }) else {
        return Vec::new();
    };
    re.captures_iter(value)
        .map(|c| {
            let v = c.get(2).or(c.get(3)).or(c.get(4)).map_or("", |m| m.as_str());
            (c[1].to_string(), v.trim().to_string())
        })
        .collect()
}

/// A log file path, or none for supervisord's special values (ephitup's own output is the
/// console already).
fn log_file(value: &str) -> Option<String> {
    match value {
        "" | "AUTO" | "NONE" | "/dev/stdout" | "/dev/stderr" | "/dev/fd/1" | "/dev/fd/2" => None,
        path => Some(path.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keys_and_warns_about_the_rest() {
        let text = r#"
[supervisord]
nodaemon=true

[program:web]
command=/usr/bin/web --port %(ENV_PORT)s
environment=A="1,2",B=plain, C='x y'
autorestart=unexpected
startsecs=5
startretries=3
stopsignal=INT
stopwaitsecs=15
priority=20
user=www-data
stdout_logfile=/var/log/web.log
stderr_logfile=/var/log/web.err
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=4
exitcodes=0,2

[program:db]
command=db
priority=10

[group:all]
programs=web,db
"#;
        let c = convert(text, "test.conf").unwrap();
        let t: toml::Table = toml::from_str(&c.toml).unwrap();
        let web = &t["services"]["web"];
        assert_eq!(web["command"].as_str(), Some("/usr/bin/web --port ${PORT}"));
        assert_eq!(web["env"]["A"].as_str(), Some("1,2"));
        assert_eq!(web["env"]["B"].as_str(), Some("plain"));
        assert_eq!(web["env"]["C"].as_str(), Some("x y"));
        assert_eq!(web["restart"].as_str(), Some("on-failure"));
        assert_eq!(web["max_restarts"].as_integer(), Some(3));
        assert_eq!(web["backoff"]["reset_after"].as_str(), Some("5s"));
        assert_eq!(web["stop_signal"].as_str(), Some("SIGINT"));
        assert_eq!(web["stop_timeout"].as_str(), Some("15s"));
        assert_eq!(web["user"].as_str(), Some("www-data"));
        assert_eq!(web["log"]["file"].as_str(), Some("/var/log/web.log"));
        assert_eq!(web["log"]["max_files"].as_integer(), Some(4));
        assert_eq!(web["depends_on"].as_array().unwrap()[0].as_str(), Some("db"));
        assert!(t["services"]["db"].get("depends_on").is_none());
        // db (priority 10) comes first.
        assert!(c.toml.find("[services.db]") < c.toml.find("[services.web]"));
        let joined = c.warnings.join("\n");
        assert!(joined.contains("exitcodes"), "{joined}");
        assert!(joined.contains("stderr_logfile"), "{joined}");
        assert!(joined.contains("[group:all]"), "{joined}");
    }
}
