//! `ephitup-api`: the app's API server (`serve`), the database migrations (`migrate`) and its
//! backups (`backup`, `restore`), in one binary so the container ships one program for all.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ephitup_store::{DbSettings, connect, migrate};

#[derive(Debug, Parser)]
#[command(name = "ephitup-api", version, about = "The ephitup app's API service and database migrations.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API (`API_BIND`, default 127.0.0.1:5055) until SIGTERM/SIGINT.
    Serve,
    /// Apply pending database migrations, then exit (0 when the database is up to date).
    Migrate {
        /// Read migrations from this directory instead of those built into the binary.
        #[arg(long, env = "MIGRATIONS_DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the OpenAPI document (what `GET /api/openapi.json` serves) and exit.
    Openapi,
    /// Export the database into `DATA_PATH/backups/` (written aside, then renamed) and keep
    /// the newest `BACKUP_KEEP` (default 7) backups.
    Backup,
    /// Import a backup into the database, which must be empty (no table) unless `--force`.
    Restore {
        /// A backup file (`DATA_PATH/backups/backup-*.surql`).
        file: PathBuf,
        /// Replace the content of a database that is not empty.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ephitup_store::program::run("ephitup-api", async {
        match cli.command {
            Command::Serve => ephitup_api::serve().await,
            Command::Migrate { dir } => run_migrate(dir).await,
            Command::Backup => run_backup().await,
            Command::Restore { file, force } => {
                let settings = DbSettings::from_env()?;
                ephitup_store::backup::restore(&settings, &file, force).await?;
                tracing::info!("restored {} into {}/{}", file.display(), settings.namespace, settings.database);
                Ok(())
            }
            Command::Openapi => {
                println!("{}", ephitup_api::routes::openapi().to_pretty_json()?);
                Ok(())
            }
        }
    })
}

async fn run_backup() -> anyhow::Result<()> {
    let settings = DbSettings::from_env()?;
    let backups = ephitup_store::backup::BackupSettings::from_env()?;
    let report = ephitup_store::backup::backup(&settings, &backups).await?;
    tracing::info!(
        "backup {} written ({} bytes); {} older removed, keeping {}",
        report.file.display(),
        report.bytes,
        report.removed.len(),
        backups.keep
    );
    Ok(())
}

async fn run_migrate(dir: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = DbSettings::from_env()?;
    let migrations = match &dir {
        Some(dir) => migrate::load_dir(dir)?,
        None => migrate::embedded()?,
    };
    let db = connect(&settings).await?;
    let report = migrate::run(&db, &settings, &migrations).await?;
    tracing::info!(
        "database {}/{} is up to date: {} applied now, {} already",
        settings.namespace,
        settings.database,
        report.applied.len(),
        report.up_to_date.len()
    );
    Ok(())
}
