//! Which exported variables are secrets, and the names they are referred to by. A secret's
//! value is never written into an exported file: the formats write a reference instead
//! (Kubernetes `secretKeyRef`, compose `${NAME}`, Render `sync: false`/`generateValue`).
//!
//! The rule: a variable is secret when its name contains `PASSWORD`, `SECRET`, `KEY` or
//! `TOKEN` (any case), unless `[export] secret` in `ephitup.toml` says otherwise for that
//! name (`true` or `false`). A variable that repeats a secret's value (e.g. `SURREAL_PASS`
//! holding `SURREAL_PASSWORD`'s) is secret too, unless marked `false`; for this, values
//! shorter than [`MIN_MATCH`] are not compared (too likely to match by chance: mark such
//! variables by name). A command or probe that holds a secret's value cannot be exported
//! without writing it out, so it is an error.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::bail;

use super::environment;
use crate::config::{Check, Config};

/// Name fragments that make a variable secret.
const SECRET_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "KEY", "TOKEN"];
/// Shorter secret values are not looked for in other values, commands or probes.
pub const MIN_MATCH: usize = 8;

/// The secret variables of a configuration's services.
pub struct Secrets {
    /// (service, variable) → the name of its reference.
    refs: BTreeMap<(String, String), String>,
}

fn secret_by_name(config: &Config, name: &str) -> Option<bool> {
    if let Some(marked) = config.export_secret.get(name) {
        return Some(*marked);
    }
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| upper.contains(w)).then_some(true)
}

impl Secrets {
    pub fn of(config: &Config) -> anyhow::Result<Secrets> {
        let envs: Vec<(String, Vec<(String, String)>)> =
            config.services.iter().map(|s| (s.name.clone(), environment(config, s))).collect();
        let values: BTreeSet<&str> = envs
            .iter()
            .flat_map(|(_, env)| env)
            .filter(|(k, v)| secret_by_name(config, k) == Some(true) && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect();
        let long: Vec<&str> = values.iter().copied().filter(|v| v.chars().count() >= MIN_MATCH).collect();
        let repeats = |value: &str| long.iter().any(|s| value.contains(s));
        let mut secret: Vec<(&str, &str, &str)> = Vec::new();
        for (service, env) in &envs {
            for (k, v) in env {
                let is = match secret_by_name(config, k) {
                    Some(marked) => marked,
                    None => repeats(v),
                };
                if is {
                    secret.push((service.as_str(), k.as_str(), v.as_str()));
                }
            }
        }
        // A name with one value everywhere is referred to by that name; with several, each
        // service's gets a name of its own.
        let mut by_name: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for &(_, k, v) in &secret {
            by_name.entry(k).or_default().insert(v);
        }
        let refs = secret
            .iter()
            .map(|&(service, k, _)| {
                let name = if by_name[k].len() == 1 {
                    k.to_string()
                } else {
                    format!("{}_{k}", service.to_ascii_uppercase().replace('-', "_"))
                };
                ((service.to_string(), k.to_string()), name)
            })
            .collect();
        for spec in &config.services {
            let mut written: Vec<String> = spec.command.clone();
            for probe in [&spec.health, &spec.liveness].into_iter().flatten() {
                match &probe.check {
                    Check::Http(uri) => written.push(uri.to_string()),
                    Check::Tcp(addr) => written.push(addr.clone()),
                    Check::Exec(argv) => written.extend(argv.iter().cloned()),
                    Check::Log(_) => {}
                }
            }
            if written.iter().any(|w| repeats(w)) {
                bail!(
                    "{}: its command or a probe holds a secret's value, which an export would write out; \
                     pass the secret through `env` instead",
                    spec.name
                );
            }
        }
        Ok(Secrets { refs })
    }

    /// The reference name of `service`'s variable `var`, if it is secret.
    pub fn reference(&self, service: &str, var: &str) -> Option<&str> {
        self.refs.get(&(service.to_string(), var.to_string())).map(String::as_str)
    }

    /// Every reference name, sorted, once each.
    pub fn names(&self) -> BTreeSet<&str> {
        self.refs.values().map(String::as_str).collect()
    }

    /// How many places refer to `name` (Render generates a value only for one place).
    pub fn uses(&self, name: &str) -> usize {
        self.refs.values().filter(|n| *n == name).count()
    }
}

/// Whether a secret's value may be generated at random (a password or secret of our own),
/// rather than given by someone else (an API key or token of another service).
pub fn generated(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    (upper.contains("PASSWORD") || upper.contains("SECRET")) && !upper.contains("KEY") && !upper.contains("TOKEN")
}
