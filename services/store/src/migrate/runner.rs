//! Applying migrations to a database. See the module above for the guarantees.

use std::collections::BTreeMap;
use std::time::Instant;

use surrealdb::types::SurrealValue;

use super::{MigrateError, Migration};
use crate::connect::Db;
use crate::settings::DbSettings;

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Files this run applied, in order.
    pub applied: Vec<String>,
    /// Files found applied already (by earlier runs, or by a runner running at the same time).
    pub up_to_date: Vec<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct Applied {
    version: u32,
    name: String,
    checksum: String,
}

/// Applies every pending migration of `migrations` (ordered by version) to the database of
/// `settings`, on a root connection.
pub async fn run(db: &Db, settings: &DbSettings, migrations: &[Migration]) -> Result<Report, MigrateError> {
    bootstrap(db, settings).await?;
    let mut report = Report::default();
    let applied = applied(db).await?;
    verify(&applied, migrations)?;
    for m in migrations {
        if applied.contains_key(&m.version) {
            report.up_to_date.push(m.name.clone());
            continue;
        }
        let started = Instant::now();
        match apply(db, m).await {
            Ok(()) => {
                tracing::info!(migration = %m.name, "applied {} in {} ms", m.name, started.elapsed().as_millis());
                report.applied.push(m.name.clone());
            }
            Err(failure) => {
                // A runner started at the same time may have applied it first: our
                // transaction then failed on its record, and the file is not ours to apply.
                let now = self::applied(db).await?;
                match now.get(&m.version) {
                    Some(a) if a.checksum == m.checksum => {
                        tracing::info!(migration = %m.name, "{} was applied by another runner", m.name);
                        report.up_to_date.push(m.name.clone());
                    }
                    Some(a) => {
                        return Err(MigrateError::Tampered {
                            file: m.name.clone(),
                            applied: a.checksum.clone(),
                            now: m.checksum.clone(),
                        });
                    }
                    None => return Err(failure),
                }
            }
        }
    }
    Ok(report)
}

/// Names are interpolated into DEFINE/USE statements, so only plain identifiers are allowed.
fn identifier(what: &str, name: &str) -> Result<String, MigrateError> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name.to_string())
    } else {
        Err(MigrateError::Database {
            context: what.to_string(),
            message: format!("`{name}` must be letters, digits and `_`"),
        })
    }
}

async fn bootstrap(db: &Db, settings: &DbSettings) -> Result<(), MigrateError> {
    let ns = identifier("SURREAL_NAMESPACE", &settings.namespace)?;
    let database = identifier("SURREAL_DATABASE", &settings.database)?;
    let db_error = |context: &str| {
        let context = context.to_string();
        move |e: surrealdb::Error| MigrateError::Database { context, message: e.to_string() }
    };
    // Two runners may define the same things at once; one of them may see a conflict.
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = async {
            db.query(format!("DEFINE NAMESPACE IF NOT EXISTS {ns};")).await?.check()?;
            db.use_ns(&ns).await?;
            db.query(format!("DEFINE DATABASE IF NOT EXISTS {database};")).await?.check()?;
            db.use_ns(&ns).use_db(&database).await?;
            db.query(
                "DEFINE TABLE IF NOT EXISTS _migration SCHEMAFULL;
                 DEFINE FIELD IF NOT EXISTS version ON _migration TYPE int;
                 DEFINE FIELD IF NOT EXISTS name ON _migration TYPE string;
                 DEFINE FIELD IF NOT EXISTS checksum ON _migration TYPE string;
                 DEFINE FIELD IF NOT EXISTS applied_at ON _migration TYPE datetime;",
            )
            .await?
            .check()?;
            Ok::<(), surrealdb::Error>(())
        }
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 5 => tracing::debug!("bootstrap attempt {attempt} failed: {e}"),
            Err(e) => return Err(db_error("defining the namespace, database and _migration table")(e)),
        }
    }
}

async fn applied(db: &Db) -> Result<BTreeMap<u32, Applied>, MigrateError> {
    let rows: Vec<Applied> = db
        .query("SELECT version, name, checksum FROM _migration ORDER BY version")
        .await
        .and_then(|mut r| r.take(0))
        .map_err(|e| MigrateError::Database { context: "reading applied migrations".into(), message: e.to_string() })?;
    Ok(rows.into_iter().map(|a| (a.version, a)).collect())
}

fn verify(applied: &BTreeMap<u32, Applied>, migrations: &[Migration]) -> Result<(), MigrateError> {
    for a in applied.values() {
        match migrations.iter().find(|m| m.version == a.version) {
            None => return Err(MigrateError::Unknown { version: a.version, name: a.name.clone() }),
            Some(m) if m.checksum != a.checksum => {
                return Err(MigrateError::Tampered {
                    file: m.name.clone(),
                    applied: a.checksum.clone(),
                    now: m.checksum.clone(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The file and its record, in one transaction.
async fn apply(db: &Db, m: &Migration) -> Result<(), MigrateError> {
    let query = format!(
        "BEGIN TRANSACTION;\n{}\n;\nCREATE type::record('_migration', $version) CONTENT {{ version: $version, name: $name, checksum: $checksum, applied_at: time::now() }};\nCOMMIT TRANSACTION;",
        m.sql
    );
    let mut response = db
        .query(query)
        .bind(("version", m.version))
        .bind(("name", m.name.clone()))
        .bind(("checksum", m.checksum.clone()))
        .await
        .map_err(|e| MigrateError::Database { context: format!("sending {}", m.name), message: e.to_string() })?;
    // The response has a slot for BEGIN (and COMMIT) when the server reports them: the
    // file's statements start after it.
    let leading = usize::from(response.num_statements() >= m.statements.len() + 3);
    let errors = response.take_errors();
    if errors.is_empty() {
        return Ok(());
    }
    // Every statement of a failed transaction reports an error; the cause is the first one
    // that is not the generic "not executed" notice.
    let mut errors: Vec<(usize, String)> = errors.into_iter().map(|(i, e)| (i, e.to_string())).collect();
    errors.sort_by_key(|(i, _)| *i);
    let (index, message) = errors
        .iter()
        .find(|(_, e)| !e.contains("not executed due to a failed transaction"))
        .or(errors.first())
        .cloned()
        .unwrap_or_default();
    let position = index.saturating_sub(leading);
    let statement = m.statements.get(position).cloned().unwrap_or_else(|| "(recording the migration)".into());
    Err(MigrateError::Failed { file: m.name.clone(), index: position + 1, statement, message })
}
