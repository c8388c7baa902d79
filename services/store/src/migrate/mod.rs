//! The migration runner: applies `migrations/NNNN_name.surql` in order, each file in one
//! transaction together with its record in `_migration` (version, name, checksum, time), so a
//! file is either applied and recorded or not at all. Running it again is a no-op; a file
//! changed after it was applied is refused by name; two runners at once never apply a file
//! twice (the second one's transaction fails on the existing record, and it then finds the
//! file applied by the first); a failing file is reported with its statement.
//!
//! The namespace and database come from the environment, so the runner defines them (and its
//! own `_migration` table) before the files run.

mod files;
mod runner;

pub use files::{Migration, embedded, load_dir};
pub use runner::{Report, run};

/// Why migrating stopped. Nothing after the failing file was applied.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error(
        "{file} was changed after it was applied (applied checksum {applied}, file now {now}); add a new migration instead"
    )]
    Tampered { file: String, applied: String, now: String },
    #[error("the database has migration {version} (`{name}`) that this build does not know: is this an older build?")]
    Unknown { version: u32, name: String },
    #[error("{file} failed at statement {index}: `{statement}`: {message}")]
    Failed { file: String, index: usize, statement: String, message: String },
    #[error("{context}: {message}")]
    Database { context: String, message: String },
}
