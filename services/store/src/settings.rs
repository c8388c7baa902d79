//! Database settings from the environment (`SURREAL_*`), with the defaults of a local run.

use std::time::Duration;

/// Where and as whom to connect, and which namespace and database to use.
#[derive(Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// `SURREAL_URL`, e.g. `ws://127.0.0.1:8000` (a trailing `/rpc` is accepted).
    pub url: String,
    /// `SURREAL_USER`
    pub user: String,
    /// `SURREAL_PASSWORD`
    pub password: String,
    /// `SURREAL_NAMESPACE`
    pub namespace: String,
    /// `SURREAL_DATABASE`
    pub database: String,
    /// `SURREAL_CONNECT_TIMEOUT`: how long to keep retrying while the database starts.
    pub connect_timeout: Duration,
    /// `SURREAL_POOL_SIZE` (default 4): connections of a program's pool ([`crate::Db`]).
    pub pool_size: usize,
    /// `SURREAL_POOL_IN_FLIGHT` (default 8): queries in flight on one connection at most.
    pub pool_in_flight: usize,
}

impl std::fmt::Debug for DbSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSettings")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("namespace", &self.namespace)
            .field("database", &self.database)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_size", &self.pool_size)
            .field("pool_in_flight", &self.pool_in_flight)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct SettingsError {
    pub name: &'static str,
    pub message: String,
}

impl DbSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `NAME=value` pairs, e.g. the environment a test gives the programs it starts.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, SettingsError> {
        Self::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get =
            |name: &str, default: &str| lookup(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_string());
        let connect_timeout = match lookup("SURREAL_CONNECT_TIMEOUT").filter(|v| !v.is_empty()) {
            Some(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| SettingsError {
                name: "SURREAL_CONNECT_TIMEOUT",
                message: format!("`{v}` is not a number of seconds"),
            })?,
            None => Duration::from_secs(60),
        };
        let count = |name: &'static str, default: usize| match lookup(name).filter(|v| !v.is_empty()) {
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=256).contains(&n) => Ok(n),
                _ => Err(SettingsError { name, message: format!("`{v}` is not a number from 1 to 256") }),
            },
            None => Ok(default),
        };
        let pool_size = count("SURREAL_POOL_SIZE", 4)?;
        let pool_in_flight = count("SURREAL_POOL_IN_FLIGHT", 8)?;
        let url = get("SURREAL_URL", "ws://127.0.0.1:8000");
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(SettingsError {
                name: "SURREAL_URL",
                message: format!("`{url}` is not a ws:// or wss:// URL"),
            });
        }
        Ok(Self {
            url,
            user: get("SURREAL_USER", "root"),
            password: get("SURREAL_PASSWORD", "root"),
            namespace: get("SURREAL_NAMESPACE", "open_notebook"),
            database: get("SURREAL_DATABASE", "production"),
            connect_timeout,
            pool_size,
            pool_in_flight,
        })
    }

    /// The endpoint the SDK expects: the seed's `ws://host:port/rpc` form works as well.
    pub fn endpoint(&self) -> &str {
        self.url.trim_end_matches('/').trim_end_matches("/rpc")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_a_local_run_and_secrets_are_not_printed() {
        let s = DbSettings::from_lookup(|_| None).expect("defaults");
        assert_eq!(s.endpoint(), "ws://127.0.0.1:8000");
        assert_eq!((s.namespace.as_str(), s.database.as_str()), ("open_notebook", "production"));
        assert_eq!((s.user.as_str(), s.password.as_str()), ("root", "root"));
        let s = DbSettings::from_lookup(|n| (n == "SURREAL_PASSWORD").then(|| "hunter2".into())).expect("ok");
        assert_eq!(s.password, "hunter2");
        assert!(!format!("{s:?}").contains("hunter2"), "{s:?}");
    }

    #[test]
    fn the_seeds_rpc_url_and_bad_values() {
        let s =
            DbSettings::from_lookup(|n| (n == "SURREAL_URL").then(|| "ws://localhost:8000/rpc".into())).expect("ok");
        assert_eq!(s.endpoint(), "ws://localhost:8000");
        let e = DbSettings::from_lookup(|n| (n == "SURREAL_URL").then(|| "http://x".into())).expect_err("refused");
        assert_eq!(e.name, "SURREAL_URL");
        let e =
            DbSettings::from_lookup(|n| (n == "SURREAL_CONNECT_TIMEOUT").then(|| "soon".into())).expect_err("refused");
        assert_eq!(e.name, "SURREAL_CONNECT_TIMEOUT");
        let e = DbSettings::from_lookup(|n| (n == "SURREAL_POOL_SIZE").then(|| "0".into())).expect_err("refused");
        assert_eq!(e.name, "SURREAL_POOL_SIZE");
        let s = DbSettings::from_lookup(|n| (n == "SURREAL_POOL_IN_FLIGHT").then(|| "3".into())).expect("ok");
        assert_eq!((s.pool_size, s.pool_in_flight), (4, 3));
    }
}
