//! From [`RawConfig`] to [`Config`]: interpolation, defaults, parsing of durations, sizes,
//! signals, commands and probes, and the cross-service checks (unknown or cyclic dependencies,
//! conditions that cannot hold). Problems are collected, not stopped at, so one run of
//! `ephitup check` shows all of them.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use nix::sys::signal::Signal;
use toml::Spanned;

use super::diagnostic::{Diagnostic, clip, clip_to};
use super::interpolate::interpolate;
use super::model::*;
use super::raw::{RawBackoff, RawConfig, RawProbe, RawService, RawServiceLog, Text};
use crate::graph::Graph;

mod ops;

pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The longest duration any key takes: longer is surely a typo, and every deadline computed
/// from one (now + stop_timeout, ...) must stay far from overflowing.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The largest log file before rotation.
pub const MAX_LOG_SIZE: u64 = 1 << 40;
/// The longest line relayed in one piece (a partial line is held in memory up to this).
pub const MAX_LINE: u64 = 64 << 20;
/// Most replicas of one service, and most rotated log files kept.
pub const MAX_REPLICAS: u32 = 1000;
pub const MAX_LOG_FILES: u32 = 1000;
/// The largest env file read.
pub const MAX_ENV_FILE: u64 = 1 << 20;
/// Service names an "unknown service" error lists at most.
const NAMES_LISTED: usize = 10;

pub fn resolve(path: &Path, raw: RawConfig, lookup: Lookup) -> Result<Config, Vec<Diagnostic>> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let base = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    let mut r = Resolver { lookup, base, diagnostics: Vec::new() };
    let settings = r.settings(&raw);
    let global_env = r.env_table("env", &raw.env);

    // Declaration order: the position of each name in the file.
    let mut entries: Vec<_> = raw.services.iter().collect();
    entries.sort_by_key(|(_, service)| service.span().start);

    let mut services = Vec::new();
    let mut dep_spans: HashMap<(String, String), Range<usize>> = HashMap::new();
    for (name, service) in entries {
        let key = format!("services.{name}");
        if !valid_name(name) {
            r.error(
                &key,
                service.span(),
                "service names use letters, digits, `-` and `_`, starting with a letter or digit",
            );
            continue;
        }
        if let Some(spec) = r.service(name, &key, service.get_ref(), &global_env, &settings.user, &mut dep_spans) {
            services.push(spec);
        }
    }
    r.check_dependencies(&services, &raw, &dep_spans);

    if r.diagnostics.is_empty() {
        Ok(Config { path: path.to_path_buf(), settings, services, export_secret: raw.export.secret })
    } else {
        Err(r.diagnostics)
    }
}

/// A chain of names for a message, its middle left out when long (the message stays short
/// however many services a file declares).
fn short_chain(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    if names.len() <= SHOWN + 2 {
        return names.join(" → ");
    }
    let left = names.len() - SHOWN - 1;
    format!("{} → … {left} more … → {}", names[..SHOWN].join(" → "), names[names.len() - 1])
}

/// A path for a message (clipped only when far longer than a real one).
fn shown(path: &Path) -> String {
    clip_to(&path.display().to_string(), 300)
}

/// A port number as written: digits only (no sign), 1–65535.
fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0)
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

struct Resolver<'a> {
    lookup: Lookup<'a>,
    /// Directory of the config file: relative paths are relative to it.
    base: PathBuf,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn error(&mut self, key: &str, span: Range<usize>, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::new(key, Some(span), message));
    }

    /// A string with `${VAR}` expanded. A NUL byte is refused: no argument, variable or path
    /// handed to the system can hold one (the spawn would fail, and then again at each restart).
    fn text(&mut self, key: &str, value: &Text) -> Option<String> {
        match interpolate(value.get_ref(), self.lookup) {
            Ok(s) if s.contains('\0') => {
                self.error(
                    key,
                    value.span(),
                    "contains a NUL byte (\\u0000), which no argument, variable or path can hold",
                );
                None
            }
            Ok(s) => Some(s),
            Err(e) => {
                self.error(key, value.span(), e);
                None
            }
        }
    }

    fn path(&mut self, key: &str, value: &Text) -> Option<PathBuf> {
        self.text(key, value).map(|s| self.base.join(s))
    }

    /// A directory that must exist (a service's `cwd`): checked now, not at each spawn.
    fn existing_dir(&mut self, key: &str, value: &Text) -> Option<PathBuf> {
        let path = self.path(key, value)?;
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Some(path),
            Ok(_) => {
                self.error(key, value.span(), format!("{} is not a directory", shown(&path)));
                None
            }
            Err(e) => {
                self.error(key, value.span(), format!("{}: {e}", shown(&path)));
                None
            }
        }
    }

    fn duration(&mut self, key: &str, value: Option<&Text>, default: Duration) -> Duration {
        let Some(value) = value else { return default };
        let Some(s) = self.text(key, value) else { return default };
        match humantime::parse_duration(s.trim()) {
            Ok(d) if d <= MAX_DURATION => d,
            Ok(_) => {
                let max = MAX_DURATION.as_secs() / (24 * 3600);
                self.error(
                    key,
                    value.span(),
                    format!("`{}` is longer than the longest duration allowed, {max} days", clip(&s)),
                );
                default
            }
            Err(e) => {
                self.error(
                    key,
                    value.span(),
                    format!("`{}` is not a duration ({e}; e.g. \"250ms\", \"30s\", \"2m\")", clip(&s)),
                );
                default
            }
        }
    }

    fn size(&mut self, key: &str, value: Option<&Text>, default: u64, max: u64) -> u64 {
        let Some(value) = value else { return default };
        let Some(s) = self.text(key, value) else { return default };
        // bytesize saturates what does not fit in a u64, so u64::MAX means "too large" too.
        match bytesize::ByteSize::from_str(s.trim()) {
            Ok(size) if size.as_u64() > max => {
                let max = bytesize::ByteSize::b(max).display().iec();
                self.error(key, value.span(), format!("`{}` is larger than the largest size allowed, {max}", clip(&s)));
                default
            }
            Ok(size) if size.as_u64() > 0 => size.as_u64(),
            Ok(_) => {
                self.error(key, value.span(), "size must be greater than zero");
                default
            }
            Err(e) => {
                self.error(key, value.span(), format!("`{}` is not a size ({e}; e.g. \"64KiB\", \"10MB\")", clip(&s)));
                default
            }
        }
    }

    /// One of `choices`, by name.
    fn choice<T: Copy>(&mut self, key: &str, value: Option<&Text>, choices: &[(&str, T)], default: T) -> T {
        let Some(value) = value else { return default };
        let Some(s) = self.text(key, value) else { return default };
        if let Some((_, v)) = choices.iter().find(|(name, _)| *name == s) {
            return *v;
        }
        let expected: Vec<String> = choices.iter().map(|(n, _)| format!("`{n}`")).collect();
        self.error(key, value.span(), format!("unknown value `{}`, expected {}", clip(&s), expected.join(" | ")));
        default
    }

    fn signal(&mut self, key: &str, value: Option<&Text>, default: Signal) -> Signal {
        let Some(value) = value else { return default };
        let Some(s) = self.text(key, value) else { return default };
        let upper = s.trim().to_ascii_uppercase();
        let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
        match Signal::from_str(&name) {
            Ok(sig) if sig != Signal::SIGKILL && sig != Signal::SIGSTOP => sig,
            Ok(_) => {
                self.error(
                    key,
                    value.span(),
                    format!("{name} cannot be a stop signal (ephitup sends SIGKILL itself after stop_timeout)"),
                );
                default
            }
            Err(_) => {
                self.error(
                    key,
                    value.span(),
                    format!("`{}` is not a signal name (e.g. \"SIGTERM\", \"SIGINT\", \"SIGQUIT\")", clip(&s)),
                );
                default
            }
        }
    }

    /// A command: a list of strings, or one string split like a shell would.
    fn argv(&mut self, key: &str, value: &Spanned<toml::Value>) -> Option<Vec<String>> {
        let span = value.span();
        let argv = match value.get_ref() {
            toml::Value::String(line) => {
                let line = self.text(key, &Spanned::new(span.clone(), line.clone()))?;
                match shlex::split(&line) {
                    Some(argv) => argv,
                    None => {
                        self.error(key, span, "unbalanced quotes in command string");
                        return None;
                    }
                }
            }
            toml::Value::Array(items) => {
                let mut argv = Vec::with_capacity(items.len());
                for item in items {
                    let toml::Value::String(s) = item else {
                        self.error(key, span, format!("command list items must be strings, found {}", item.type_str()));
                        return None;
                    };
                    argv.push(self.text(key, &Spanned::new(span.clone(), s.clone()))?);
                }
                argv
            }
            other => {
                self.error(key, span, format!("expected a list of strings or a string, found {}", other.type_str()));
                return None;
            }
        };
        if argv.first().is_none_or(|program| program.trim().is_empty()) {
            self.error(key, span, "command is empty");
            return None;
        }
        Some(argv)
    }

    /// An `[env]`-style table: string, integer, float or boolean values.
    fn env_table(
        &mut self,
        prefix: &str,
        table: &std::collections::BTreeMap<String, Spanned<toml::Value>>,
    ) -> Vec<(String, String)> {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(_, v)| v.span().start);
        let mut out = Vec::new();
        for (name, value) in entries {
            let key = format!("{prefix}.{name}");
            let text = match value.get_ref() {
                toml::Value::String(s) => self.text(&key, &Spanned::new(value.span(), s.clone())),
                toml::Value::Integer(i) => Some(i.to_string()),
                toml::Value::Float(f) => Some(f.to_string()),
                toml::Value::Boolean(b) => Some(b.to_string()),
                other => {
                    self.error(
                        &key,
                        value.span(),
                        format!("environment values are strings, numbers or booleans, found {}", other.type_str()),
                    );
                    None
                }
            };
            if name.is_empty() || name.contains('=') || name.contains('\0') {
                self.error(&key, value.span(), "not a valid environment variable name");
                continue;
            }
            if let Some(text) = text {
                out.push((name.clone(), text));
            }
        }
        out
    }

    fn env_files(&mut self, key: &str, value: &Spanned<toml::Value>) -> Vec<(String, String)> {
        let span = value.span();
        let paths: Vec<String> = match value.get_ref() {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => {
                items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()
            }
            other => {
                self.error(key, span, format!("expected a path or a list of paths, found {}", other.type_str()));
                return Vec::new();
            }
        };
        let mut vars = Vec::new();
        for p in paths {
            let Some(path) = self.path(key, &Spanned::new(span.clone(), p)) else { continue };
            // Only a regular file of a sane size: `/dev/zero` or a FIFO would hang the load
            // (at a reload, inside PID 1).
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() && m.len() <= MAX_ENV_FILE => {}
                Ok(m) if m.is_file() => {
                    let what = format!("env file {} is larger than {} KiB", shown(&path), MAX_ENV_FILE >> 10);
                    self.error(key, span.clone(), what);
                    continue;
                }
                Ok(_) => {
                    self.error(key, span.clone(), format!("env file {} is not a regular file", shown(&path)));
                    continue;
                }
                Err(e) => {
                    self.error(key, span.clone(), format!("cannot read env file {}: {e}", shown(&path)));
                    continue;
                }
            }
            let entries = dotenvy::from_path_iter(&path).and_then(|iter| iter.collect::<Result<Vec<_>, _>>());
            match entries {
                Ok(entries) => {
                    for (name, value) in entries {
                        if name.is_empty() || name.contains(['=', '\0']) || value.contains('\0') {
                            let what = format!("env file {}: `{}`", shown(&path), clip(&name));
                            self.error(
                                key,
                                span.clone(),
                                format!("{what} is not a valid variable (NUL byte or bad name)"),
                            );
                        } else {
                            vars.push((name, value));
                        }
                    }
                }
                Err(e) => self.error(key, span.clone(), format!("cannot read env file {}: {e}", shown(&path))),
            }
        }
        vars
    }

    fn settings(&mut self, raw: &RawConfig) -> Settings {
        let s = &raw.settings;
        let data_dir = s
            .data_dir
            .as_ref()
            .and_then(|v| self.path("settings.data_dir", v))
            .unwrap_or_else(|| self.base.join("data"));
        // Created at `up` when missing; something else in its place is refused now.
        if let Ok(meta) = std::fs::metadata(&data_dir) {
            if !meta.is_dir() {
                let span = s.data_dir.as_ref().map_or(0..0, |v| v.span());
                self.error("settings.data_dir", span, format!("{} exists and is not a directory", shown(&data_dir)));
            }
        }
        Settings {
            data_dir,
            log_format: self.choice(
                "settings.log_format",
                s.log_format.as_ref(),
                &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
                LogFormat::Pretty,
            ),
            log_color: self.choice(
                "settings.log_color",
                s.log_color.as_ref(),
                &[("auto", LogColor::Auto), ("always", LogColor::Always), ("never", LogColor::Never)],
                LogColor::Auto,
            ),
            shutdown_timeout: self.duration(
                "settings.shutdown_timeout",
                s.shutdown_timeout.as_ref(),
                Duration::from_secs(30),
            ),
            http: s.http.as_ref().and_then(|v| {
                let text = self.text("settings.http", v)?;
                match text.parse() {
                    Ok(addr) => Some(addr),
                    Err(_) => {
                        self.error(
                            "settings.http",
                            v.span(),
                            format!("`{}` is not an address like 127.0.0.1:9000", clip(&text)),
                        );
                        None
                    }
                }
            }),
            reload: s.reload.unwrap_or(true),
            user: s.user.as_ref().and_then(|u| self.user("settings.user", u)),
        }
    }

    fn service(
        &mut self,
        name: &str,
        key: &str,
        raw: &RawService,
        global_env: &[(String, String)],
        default_user: &Option<RunAs>,
        dep_spans: &mut HashMap<(String, String), Range<usize>>,
    ) -> Option<ServiceSpec> {
        let k = |field: &str| format!("{key}.{field}");
        let command = self.argv(&k("command"), &raw.command);
        let kind = self.choice(
            &k("kind"),
            raw.kind.as_ref(),
            &[("daemon", ServiceKind::Daemon), ("oneshot", ServiceKind::Oneshot)],
            ServiceKind::Daemon,
        );
        let cwd = match &raw.cwd {
            Some(cwd) => self.existing_dir(&k("cwd"), cwd).unwrap_or_default(),
            None => self.base.clone(),
        };
        let mut env = global_env.to_vec();
        if let Some(files) = &raw.env_file {
            env.extend(self.env_files(&k("env_file"), files));
        }
        env.extend(self.env_table(&k("env"), &raw.env));

        let depends_on = raw
            .depends_on
            .as_ref()
            .map(|d| self.dependencies(name, &k("depends_on"), d, dep_spans))
            .unwrap_or_default();

        let default_restart = match kind {
            ServiceKind::Daemon => RestartPolicy::Always,
            ServiceKind::Oneshot => RestartPolicy::Never,
        };
        let restart = self.choice(
            &k("restart"),
            raw.restart.as_ref(),
            &[
                ("always", RestartPolicy::Always),
                ("on-failure", RestartPolicy::OnFailure),
                ("never", RestartPolicy::Never),
            ],
            default_restart,
        );
        if kind == ServiceKind::Oneshot && restart == RestartPolicy::Always {
            if let Some(r) = &raw.restart {
                self.error(
                    &k("restart"),
                    r.span(),
                    "a oneshot cannot restart `always` (it would run again after completing); use `on-failure`",
                );
            }
        }
        let backoff = self.backoff(&k("backoff"), raw.backoff.as_ref().map(Spanned::get_ref));
        let max_restarts = raw.max_restarts.as_ref().map_or(10, |v| *v.get_ref());
        let restart_window = self.duration(&k("restart_window"), raw.restart_window.as_ref(), Duration::from_secs(60));
        let stop_signal = self.signal(&k("stop_signal"), raw.stop_signal.as_ref(), Signal::SIGTERM);
        let stop_timeout = self.duration(&k("stop_timeout"), raw.stop_timeout.as_ref(), Duration::from_secs(10));

        let health = raw.health.as_ref().and_then(|p| self.probe(&k("health"), p, true));
        let liveness = raw.liveness.as_ref().and_then(|p| self.probe(&k("liveness"), p, false));
        if let (ServiceKind::Oneshot, Some(l)) = (kind, &raw.liveness) {
            self.error(&k("liveness"), l.span(), "a oneshot has no liveness probe (it is expected to exit)");
        }
        let replicas = match &raw.replicas {
            Some(r) if *r.get_ref() == 0 => {
                self.error(&k("replicas"), r.span(), "replicas must be at least 1");
                1
            }
            Some(r) if *r.get_ref() > MAX_REPLICAS => {
                self.error(&k("replicas"), r.span(), format!("replicas must be at most {MAX_REPLICAS}"));
                1
            }
            Some(r) => *r.get_ref(),
            None => 1,
        };
        let user = match raw.user.as_ref() {
            Some(u) => self.user(&k("user"), u),
            None => default_user.clone(),
        };
        let log = self.service_log(&k("log"), raw.log.as_ref());
        let on_dependency_restart = self.choice(
            &k("on_dependency_restart"),
            raw.on_dependency_restart.as_ref(),
            &[
                ("ignore", OnDependencyRestart::Ignore),
                ("restart", OnDependencyRestart::Restart),
                ("wait", OnDependencyRestart::Wait),
            ],
            OnDependencyRestart::Ignore,
        );
        let watch = raw
            .watch
            .as_ref()
            .map(|list| {
                list.get_ref()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| self.path(&format!("{}.{i}", k("watch")), p))
                    .collect()
            })
            .unwrap_or_default();
        let limits = self.limits(&k("limits"), raw.limits.as_ref());
        let schedule = self.schedule(&k("schedule"), raw.schedule.as_ref(), kind);

        Some(ServiceSpec {
            name: name.to_string(),
            command: command?,
            cwd,
            env,
            kind,
            depends_on,
            restart,
            backoff,
            max_restarts,
            restart_window,
            critical: raw.critical.unwrap_or(false),
            stop_signal,
            stop_timeout,
            health,
            liveness,
            replicas,
            user,
            log,
            on_dependency_restart,
            watch,
            limits,
            schedule,
        })
    }

    fn dependencies(
        &mut self,
        name: &str,
        key: &str,
        value: &Spanned<toml::Value>,
        dep_spans: &mut HashMap<(String, String), Range<usize>>,
    ) -> Vec<Dependency> {
        let span = value.span();
        let pairs: Vec<(String, Condition)> = match value.get_ref() {
            toml::Value::Array(items) => {
                let mut pairs = Vec::new();
                for item in items {
                    match item.as_str() {
                        Some(dep) => pairs.push((dep.to_string(), Condition::Started)),
                        None => self.error(
                            key,
                            span.clone(),
                            format!("dependency names are strings, found {}", item.type_str()),
                        ),
                    }
                }
                pairs
            }
            toml::Value::Table(table) => {
                let mut pairs = Vec::new();
                for (dep, cond) in table {
                    let cond_key = format!("{key}.{dep}");
                    let condition = match cond.as_str() {
                        Some("started") => Condition::Started,
                        Some("healthy") => Condition::Healthy,
                        Some("completed") => Condition::Completed,
                        _ => {
                            self.error(
                                &cond_key,
                                span.clone(),
                                format!(
                                    "unknown condition {}, expected `started` | `healthy` | `completed`",
                                    clip(&cond.to_string())
                                ),
                            );
                            continue;
                        }
                    };
                    pairs.push((dep.clone(), condition));
                }
                pairs
            }
            other => {
                self.error(
                    key,
                    span,
                    format!(
                        "expected a table {{ name = \"condition\" }} or a list of names, found {}",
                        other.type_str()
                    ),
                );
                return Vec::new();
            }
        };
        pairs
            .into_iter()
            .map(|(service, condition)| {
                dep_spans.insert((name.to_string(), service.clone()), span.clone());
                Dependency { service, condition }
            })
            .collect()
    }

    fn backoff(&mut self, key: &str, raw: Option<&RawBackoff>) -> Backoff {
        let initial =
            self.duration(&format!("{key}.initial"), raw.and_then(|b| b.initial.as_ref()), Duration::from_millis(100));
        let max = self.duration(&format!("{key}.max"), raw.and_then(|b| b.max.as_ref()), Duration::from_secs(30));
        let reset_after = self.duration(
            &format!("{key}.reset_after"),
            raw.and_then(|b| b.reset_after.as_ref()),
            Duration::from_secs(30),
        );
        let jitter = match raw.and_then(|b| b.jitter.as_ref()) {
            Some(j) if (0.0..=1.0).contains(j.get_ref()) => *j.get_ref(),
            Some(j) => {
                self.error(&format!("{key}.jitter"), j.span(), "jitter is a fraction between 0.0 and 1.0");
                0.0
            }
            None => 0.1,
        };
        if max < initial {
            if let Some(m) = raw.and_then(|b| b.max.as_ref()) {
                self.error(&format!("{key}.max"), m.span(), "max is shorter than initial");
            }
        }
        Backoff { initial, max: max.max(initial), jitter, reset_after }
    }

    fn probe(&mut self, key: &str, raw: &Spanned<RawProbe>, readiness: bool) -> Option<Probe> {
        let p = raw.get_ref();
        let given =
            [p.http.is_some(), p.tcp.is_some(), p.exec.is_some(), p.log.is_some()].iter().filter(|x| **x).count();
        if given != 1 {
            self.error(key, raw.span(), "a probe has exactly one of `http`, `tcp`, `exec`, `log`");
            return None;
        }
        let check = if let Some(url) = &p.http {
            let k = format!("{key}.http");
            let s = self.text(&k, url)?;
            match s.parse::<hyper::Uri>() {
                Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some_and(|h| !h.is_empty()) => {
                    // A port given must be 1–65535 (the URL type takes 0, and some spellings
                    // of larger numbers).
                    let port = uri.authority().and_then(|a| a.as_str().rsplit_once(':')).map(|(_, p)| p);
                    let port_ok = match port {
                        None => true,
                        Some(p) if p.ends_with(']') => true, // an IPv6 host without a port
                        Some(p) => valid_port(p),
                    };
                    if !port_ok {
                        self.error(&k, url.span(), format!("`{}`: the port must be 1–65535", clip(&s)));
                        return None;
                    }
                    Check::Http(uri)
                }
                Ok(_) => {
                    self.error(&k, url.span(), format!("`{}` is not an http:// URL with a host", clip(&s)));
                    return None;
                }
                Err(e) => {
                    self.error(&k, url.span(), format!("`{}` is not a URL ({e})", clip(&s)));
                    return None;
                }
            }
        } else if let Some(addr) = &p.tcp {
            let k = format!("{key}.tcp");
            let s = self.text(&k, addr)?;
            let port_ok = s.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && valid_port(port));
            if !port_ok {
                self.error(&k, addr.span(), format!("`{}` is not host:port with a port 1–65535", clip(&s)));
                return None;
            }
            Check::Tcp(s)
        } else if let Some(exec) = &p.exec {
            Check::Exec(self.argv(&format!("{key}.exec"), exec)?)
        } else if let Some(pattern) = &p.log {
            let k = format!("{key}.log");
            if !readiness {
                self.error(&k, pattern.span(), "a log-line probe can only be a readiness (`health`) probe");
                return None;
            }
            let s = self.text(&k, pattern)?;
            match regex::bytes::Regex::new(&s) {
                Ok(re) => Check::Log(re),
                Err(e) => {
                    self.error(&k, pattern.span(), format!("invalid regex: {e}"));
                    return None;
                }
            }
        } else {
            return None;
        };
        let retries = match &p.retries {
            Some(r) if *r.get_ref() == 0 => {
                self.error(&format!("{key}.retries"), r.span(), "retries must be at least 1");
                1
            }
            Some(r) => *r.get_ref(),
            None => 3,
        };
        let interval = self.duration(&format!("{key}.interval"), p.interval.as_ref(), Duration::from_secs(1));
        if interval.is_zero() {
            if let Some(i) = &p.interval {
                self.error(&format!("{key}.interval"), i.span(), "interval must be greater than zero");
            }
        }
        Some(Probe {
            check,
            interval: interval.max(Duration::from_millis(1)),
            timeout: self.duration(&format!("{key}.timeout"), p.timeout.as_ref(), Duration::from_secs(2)),
            retries,
            start_period: self.duration(&format!("{key}.start_period"), p.start_period.as_ref(), Duration::ZERO),
        })
    }

    /// A user by name; an empty name (e.g. an unset `${VAR:-}`) means no switch.
    fn user(&mut self, key: &str, value: &Text) -> Option<RunAs> {
        let name = self.text(key, value).filter(|n| !n.is_empty())?;
        match nix::unistd::User::from_name(&name) {
            Ok(Some(u)) => Some(RunAs { name, uid: u.uid.as_raw(), gid: u.gid.as_raw(), home: u.dir }),
            Ok(None) => {
                self.error(key, value.span(), format!("no such user `{}`", clip(&name)));
                None
            }
            Err(e) => {
                self.error(key, value.span(), format!("cannot look up user `{}`: {e}", clip(&name)));
                None
            }
        }
    }

    fn service_log(&mut self, key: &str, raw: Option<&RawServiceLog>) -> ServiceLog {
        let file = raw.and_then(|l| l.file.as_ref()).and_then(|f| self.path(&format!("{key}.file"), f));
        let max_size = self.size(
            &format!("{key}.max_size"),
            raw.and_then(|l| l.max_size.as_ref()),
            10 * 1024 * 1024,
            MAX_LOG_SIZE,
        );
        let max_files = match raw.and_then(|l| l.max_files.as_ref()) {
            Some(v) if *v.get_ref() > MAX_LOG_FILES => {
                self.error(&format!("{key}.max_files"), v.span(), format!("max_files must be at most {MAX_LOG_FILES}"));
                5
            }
            Some(v) => *v.get_ref(),
            None => 5,
        };
        let max_line =
            self.size(&format!("{key}.max_line"), raw.and_then(|l| l.max_line.as_ref()), 64 * 1024, MAX_LINE);
        ServiceLog { file, max_size, max_files, max_line: usize::try_from(max_line).unwrap_or(usize::MAX) }
    }

    /// Unknown targets, self-dependencies, conditions that cannot hold, and cycles.
    fn check_dependencies(
        &mut self,
        services: &[ServiceSpec],
        raw: &RawConfig,
        dep_spans: &HashMap<(String, String), Range<usize>>,
    ) {
        let by_name: HashMap<&str, &ServiceSpec> = services.iter().map(|s| (s.name.as_str(), s)).collect();
        let declared: HashSet<&str> = raw.services.keys().map(String::as_str).collect();
        // A few names for the message, not all of them: the cost stays linear in the file.
        let listed = {
            let mut names: Vec<&str> = raw.services.keys().take(NAMES_LISTED).map(String::as_str).collect();
            if declared.len() > NAMES_LISTED {
                names.push("…");
            }
            names.join(", ")
        };
        for s in services {
            for dep in &s.depends_on {
                let key = format!("services.{}.depends_on.{}", s.name, dep.service);
                let span = dep_spans.get(&(s.name.clone(), dep.service.clone())).cloned().unwrap_or(0..0);
                if dep.service == s.name {
                    self.error(&key, span, "a service cannot depend on itself");
                    continue;
                }
                let Some(target) = by_name.get(dep.service.as_str()) else {
                    if !declared.contains(dep.service.as_str()) {
                        let key = format!("services.{}.depends_on.{}", s.name, clip(&dep.service));
                        let (name, n) = (clip(&dep.service), declared.len());
                        self.error(&key, span, format!("unknown service `{name}` ({n} declared: {listed})"));
                    }
                    continue;
                };
                match dep.condition {
                    Condition::Completed if target.kind == ServiceKind::Daemon => self.error(
                        &key,
                        span,
                        format!(
                            "`{}` is a daemon and never completes; `completed` needs kind = \"oneshot\"",
                            dep.service
                        ),
                    ),
                    Condition::Healthy if target.health.is_none() => self.error(
                        &key,
                        span,
                        format!(
                            "`{}` has no `health` probe, so it is never `healthy`; add one or wait for `started`",
                            dep.service
                        ),
                    ),
                    _ => {}
                }
            }
        }
        let graph =
            Graph::new(services.iter().map(|s| (s.name.as_str(), s.depends_on.iter().map(|d| d.service.as_str()))));
        if let Some(cycle) = graph.find_cycle() {
            let (first, second) = (cycle[0].to_string(), cycle[1].to_string());
            let span = dep_spans.get(&(first.clone(), second)).cloned().unwrap_or(0..0);
            self.error(
                &format!("services.{first}.depends_on"),
                span,
                format!("dependency cycle: {}", short_chain(&cycle)),
            );
        }
    }
}
