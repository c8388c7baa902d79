//! Backups of the app's database: `ephitup-api backup` exports it into
//! `DATA_PATH/backups/` and keeps the newest `BACKUP_KEEP`; `ephitup-api restore` imports one
//! into an empty database (a non-empty one only with `--force`, which replaces its content).
//!
//! The export and import are the SurrealDB server's own (`ephitup-db export` / `import`,
//! over HTTP: the SDK's export needs an HTTP or local engine, and the app's programs connect
//! over WebSocket). The credentials reach it through its environment (`SURREAL_USER`,
//! `SURREAL_PASS`), never its command line.
//!
//! A backup is written aside (`.partial-<name>`), synced, then renamed: a crash mid-backup
//! leaves a partial file that is never counted as a backup, and the next run removes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::connect::connect;
use crate::settings::{DbSettings, SettingsError};

/// Backups are named `backup-<UTC time>.surql`: by name is by age.
const PREFIX: &str = "backup-";
const SUFFIX: &str = ".surql";
const PARTIAL: &str = ".partial-";

/// Where backups go and how many are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSettings {
    /// `DATA_PATH/backups`.
    pub dir: PathBuf,
    /// `BACKUP_KEEP`, default 7.
    pub keep: usize,
}

impl BackupSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let data = lookup("DATA_PATH").filter(|v| !v.is_empty()).unwrap_or_else(|| "./data".into());
        let keep = match lookup("BACKUP_KEEP").filter(|v| !v.is_empty()) {
            None => 7,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(SettingsError {
                        name: "BACKUP_KEEP",
                        message: format!("`{v}` is not a number of backups to keep (1 or more)"),
                    });
                }
            },
        };
        Ok(Self { dir: Path::new(&data).join("backups"), keep })
    }
}

/// The backups in `dir`, oldest first (partial files are not backups).
pub fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) && entry.file_type()?.is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// What one backup did.
#[derive(Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    /// Older backups removed to keep `keep`.
    pub removed: Vec<PathBuf>,
}

/// Exports the database into a new backup, then keeps the newest `settings.keep`.
pub async fn backup(db: &DbSettings, settings: &BackupSettings) -> anyhow::Result<BackupReport> {
    let dir = &settings.dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Left by a backup that was killed: never counted, removed now (runs never overlap).
    for stale in partials(dir)? {
        tracing::info!("removing {} (a backup that did not finish)", stale.display());
        std::fs::remove_file(&stale).with_context(|| format!("cannot remove {}", stale.display()))?;
    }
    let name = new_name(dir);
    let partial = dir.join(format!("{PARTIAL}{name}"));
    let file = dir.join(&name);
    run_db_tool("export", db, &partial).await?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", partial.display()))?;
    if let Some(marker) = std::env::var_os("EPHITUP_BACKUP_TEST_PAUSE") {
        // Tests only: hold here, the export written but not yet a backup, to be killed.
        std::fs::write(&marker, b"").with_context(|| "cannot write the test pause marker".to_string())?;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    std::fs::rename(&partial, &file).with_context(|| format!("cannot rename into {}", file.display()))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync {}", dir.display()))?;
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let all = list(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut removed = Vec::new();
    for old in all.iter().take(all.len().saturating_sub(settings.keep)) {
        std::fs::remove_file(old).with_context(|| format!("cannot remove old backup {}", old.display()))?;
        removed.push(old.clone());
    }
    Ok(BackupReport { file, bytes, removed })
}

/// Imports `file` into the database: refused when it is not empty, unless `force`, which
/// removes the database first.
pub async fn restore(db: &DbSettings, file: &Path, force: bool) -> anyhow::Result<()> {
    let meta = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", file.display());
    }
    let ns = identifier("SURREAL_NAMESPACE", &db.namespace)?;
    let database = identifier("SURREAL_DATABASE", &db.database)?;
    let conn = connect(db).await?;
    let tables = tables(&conn, &ns, &database).await?;
    if !tables.is_empty() {
        if !force {
            bail!(
                "database {ns}/{database} is not empty ({} tables: {}); restore fills only an empty database \
                 (pass --force to replace its content with the backup)",
                tables.len(),
                shorten(&tables)
            );
        }
        tracing::warn!("--force: removing database {ns}/{database} ({} tables) before the restore", tables.len());
        conn.use_ns(&ns).await?;
        conn.query(format!("REMOVE DATABASE {database};")).await?.check()?;
    }
    conn.query(format!("DEFINE NAMESPACE IF NOT EXISTS {ns};")).await?.check()?;
    conn.use_ns(&ns).await?;
    conn.query(format!("DEFINE DATABASE IF NOT EXISTS {database};")).await?.check()?;
    run_db_tool("import", db, file).await
}

/// The tables of the database (none when the namespace or the database does not exist).
async fn tables(conn: &crate::Db, ns: &str, database: &str) -> anyhow::Result<Vec<String>> {
    conn.use_ns(ns).use_db(database).await?;
    let listed = async {
        let names: Vec<String> = conn.query("RETURN object::keys((INFO FOR DB).tables)").await?.take(0)?;
        Ok::<_, surrealdb::Error>(names)
    };
    match listed.await {
        Ok(names) => Ok(names),
        Err(e) if e.to_string().contains("does not exist") => Ok(Vec::new()),
        Err(e) => Err(e).context("listing the tables of the database"),
    }
}

/// Runs `ephitup-db export|import --endpoint http://... FILE` with the credentials in its
/// environment.
async fn run_db_tool(verb: &'static str, db: &DbSettings, file: &Path) -> anyhow::Result<()> {
    let program = sibling("ephitup-db");
    let endpoint = http_endpoint(db.endpoint());
    let mut command = Command::new(&program);
    command
        .args([verb, "--endpoint", &endpoint])
        .arg(file)
        .env("SURREAL_USER", &db.user)
        .env("SURREAL_PASS", &db.password)
        .env("SURREAL_NAMESPACE", &db.namespace)
        .env("SURREAL_DATABASE", &db.database)
        .env("SURREAL_NO_BANNER", "true")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .context("waiting for ephitup-db")?
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let last = text.lines().filter(|l| !l.trim().is_empty()).rev().take(3).collect::<Vec<_>>();
        let last: Vec<&str> = last.into_iter().rev().collect();
        bail!("ephitup-db {verb} of {} failed ({}): {}", file.display(), output.status, last.join(" | "));
    }
    Ok(())
}

/// `ephitup-db` beside this program (as installed), else from `PATH`.
fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(name))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// `ws://host:port` → `http://host:port` (the export and import endpoints are HTTP).
fn http_endpoint(ws: &str) -> String {
    if let Some(rest) = ws.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = ws.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        ws.to_string()
    }
}

fn partials(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(PARTIAL)) {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// `backup-20261202T030000.123Z.surql`, unused in `dir`.
fn new_name(dir: &Path) -> String {
    let stamp: String = humantime::format_rfc3339_millis(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let mut name = format!("{PREFIX}{stamp}{SUFFIX}");
    let mut n = 1;
    while dir.join(&name).exists() {
        name = format!("{PREFIX}{stamp}-{n}{SUFFIX}");
        n += 1;
    }
    name
}

/// Names go into statements, so only plain identifiers.
fn identifier(what: &str, name: &str) -> anyhow::Result<String> {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !plain {
        bail!("{what} `{name}` is not a plain identifier (letters, digits, `_`)");
    }
    Ok(name.to_string())
}

fn shorten(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = names.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(", … {} more", names.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_names() {
        let s = BackupSettings::from_lookup(|_| None).unwrap();
        assert_eq!(s, BackupSettings { dir: PathBuf::from("./data/backups"), keep: 7 });
        let s = BackupSettings::from_lookup(|n| match n {
            "DATA_PATH" => Some("/d".into()),
            "BACKUP_KEEP" => Some("2".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s, BackupSettings { dir: PathBuf::from("/d/backups"), keep: 2 });
        for bad in ["0", "-1", "many"] {
            let e = BackupSettings::from_lookup(|n| (n == "BACKUP_KEEP").then(|| bad.into())).unwrap_err();
            assert_eq!(e.name, "BACKUP_KEEP");
        }
        assert_eq!(http_endpoint("ws://127.0.0.1:8000"), "http://127.0.0.1:8000");
        assert_eq!(http_endpoint("wss://db.example"), "https://db.example");
        let dir = tempfile::tempdir().unwrap();
        let name = new_name(dir.path());
        assert!(name.starts_with(PREFIX) && name.ends_with(SUFFIX) && !name.contains(':'), "{name}");
        std::fs::write(dir.path().join(&name), "").unwrap();
        std::fs::write(dir.path().join(format!("{PARTIAL}{name}")), "").unwrap();
        assert_ne!(new_name(dir.path()), name);
        assert_eq!(list(dir.path()).unwrap(), [dir.path().join(&name)]);
        assert!(identifier("x", "a;b").is_err() && identifier("x", "open_notebook").is_ok());
    }
}
