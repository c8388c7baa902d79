//! `ephitup-api`: the app's API server (`serve`) and the database migrations (`migrate`), in
//! one binary so the container ships one program for both.

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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ephitup-api: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => ephitup_api::serve().await,
            Command::Migrate { dir } => run_migrate(dir).await,
            Command::Openapi => {
                println!("{}", ephitup_api::routes::openapi().to_pretty_json()?);
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ephitup-api: {e:#}");
            ExitCode::FAILURE
        }
    }
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
