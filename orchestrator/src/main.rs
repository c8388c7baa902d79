//! The `ephitup` binary: parse the command line, load the configuration, and hand over to
//! the library. Everything that can be tested lives in the library.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ephitup::cli::{Cli, Command};
use ephitup::config::{self, LogColor};
use ephitup::logs::{LogSink, Palette};
use ephitup::process::{self, ProcessTable, guardian::Guardian};

/// Exit code for a configuration that does not load.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file } => match config::load(&file.path) {
            Ok(cfg) => {
                print!("{}", ephitup::plan::render(&cfg));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Up { file } => {
            let cfg = match config::load(&file.path) {
                Ok(cfg) => cfg,
                Err(e) => {
                    eprint!("{e}");
                    eprintln!("ephitup: nothing was started");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match up(cfg) {
                Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                Err(e) => {
                    eprintln!("ephitup: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn up(cfg: config::Config) -> anyhow::Result<i32> {
    use std::io::IsTerminal;
    let pid1 = std::process::id() == 1;
    // Forked while still single-threaded; not needed as PID 1 (the kernel cleans up then).
    let guardian = if pid1 { None } else { Some(Guardian::start()?) };
    if !pid1 {
        process::become_subreaper()?;
    }
    let sink = LogSink::start()?;
    let palette = Palette {
        enabled: match cfg.settings.log_color {
            LogColor::Always => true,
            LogColor::Never => false,
            LogColor::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
    };
    let width =
        cfg.services.iter().map(|s| s.name.len() + if s.replicas > 1 { 3 } else { 0 }).chain([7]).max().unwrap_or(7);
    ephitup::events::init(sink.clone(), cfg.settings.log_format, palette, width);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let code = runtime.block_on(async {
        let processes = ProcessTable::new(guardian);
        let _reaper = processes.start_reaper()?;
        ephitup::supervisor::run(cfg, processes, sink.clone(), palette).await
    });
    if let Ok(code) = &code {
        tracing::info!("exiting with code {code}");
    }
    drop(runtime);
    sink.close(Duration::from_secs(2));
    code
}
