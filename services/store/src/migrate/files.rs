//! Migration files: named `NNNN_description.surql`, ordered by their number, identified by a
//! SHA-256 checksum of their text, and parsed (with SurrealDB's own parser) before anything
//! runs, so a syntax error is reported with its file, line and column.

use std::path::Path;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use super::MigrateError;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations");

/// One migration file, checked and split into statements.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: u32,
    /// The file name, e.g. `0001_schema.surql`.
    pub name: String,
    pub sql: String,
    /// Hex SHA-256 of `sql`.
    pub checksum: String,
    /// The statements, as SurrealDB's parser prints them (for error messages).
    pub statements: Vec<String>,
}

impl Migration {
    pub fn new(name: &str, sql: &str) -> Result<Self, MigrateError> {
        let invalid = |message: String| MigrateError::Invalid { file: name.to_string(), message };
        let version = name
            .strip_suffix(".surql")
            .and_then(|stem| stem.split_once('_'))
            .and_then(|(number, rest)| (!rest.is_empty() && number.len() >= 4).then_some(number))
            .and_then(|number| number.parse::<u32>().ok())
            .ok_or_else(|| invalid("migration files are named NNNN_description.surql".into()))?;
        let ast = surrealdb_syn::parse(sql).map_err(|e| invalid(format!("does not parse: {e}")))?;
        let statements = ast.expressions.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        if statements.iter().any(|s| is_transaction_control(s)) {
            return Err(invalid(
                "files must not begin or commit transactions: the runner wraps each file in one".into(),
            ));
        }
        let checksum = Sha256::digest(sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { version, name: name.to_string(), sql: sql.to_string(), checksum, statements })
    }
}

fn is_transaction_control(statement: &str) -> bool {
    let upper = statement.trim_start().to_ascii_uppercase();
    ["BEGIN", "COMMIT", "CANCEL"].iter().any(|k| upper.starts_with(k))
}

/// The migrations built into this binary (the repository's `migrations/`).
pub fn embedded() -> Result<Vec<Migration>, MigrateError> {
    let files = EMBEDDED
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "surql"))
        .map(|f| {
            let name = f.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = f
                .contents_utf8()
                .ok_or_else(|| MigrateError::Invalid { file: name.clone(), message: "not UTF-8".into() })?;
            Migration::new(&name, text)
        })
        .collect::<Result<Vec<_>, _>>()?;
    ordered(files)
}

/// The `*.surql` files of `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let io = |e: std::io::Error| MigrateError::Invalid { file: dir.display().to_string(), message: e.to_string() };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_none_or(|e| e != "surql") {
            continue;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| MigrateError::Invalid { file: name.clone(), message: e.to_string() })?;
        files.push(Migration::new(&name, &text)?);
    }
    ordered(files)
}

fn ordered(mut files: Vec<Migration>) -> Result<Vec<Migration>, MigrateError> {
    files.sort_by_key(|m| m.version);
    if let Some(pair) = files.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(MigrateError::Invalid {
            file: pair[1].name.clone(),
            message: format!("has the same number as {}", pair[0].name),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_checksums() {
        let m = Migration::new("0007_add_things.surql", "DEFINE TABLE thing SCHEMAFULL;").expect("valid");
        assert_eq!(m.version, 7);
        assert_eq!(m.statements.len(), 1);
        assert_eq!(m.checksum.len(), 64);
        assert!(Migration::new("7_x.surql", "").is_err(), "numbers have four digits at least");
        assert!(Migration::new("0007.surql", "").is_err(), "a description is required");
    }

    #[test]
    fn syntax_errors_are_reported_before_anything_runs() {
        let err = Migration::new("0002_bad.surql", "DEFINE TABLE ok;\nDEFINE TABLEX nope;").expect_err("refused");
        let shown = err.to_string();
        assert!(shown.starts_with("0002_bad.surql: does not parse"), "{shown}");
    }

    #[test]
    fn transactions_inside_files_are_refused() {
        assert!(Migration::new("0003_tx.surql", "BEGIN TRANSACTION; DEFINE TABLE a; COMMIT TRANSACTION;").is_err());
    }

    #[test]
    fn the_embedded_migrations_load_in_order() {
        let all = embedded().expect("embedded migrations are valid");
        assert!(!all.is_empty());
        assert!(all.windows(2).all(|w| w[0].version < w[1].version));
    }
}
