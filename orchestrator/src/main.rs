//! The `ephitup` binary: parse the command line, load the configuration, and hand over to
//! the library. Everything that can be tested lives in the library.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use ephitup::cli::{Cli, Command};
use ephitup::config::{self, LogColor};
use ephitup::control::client::Client;
use ephitup::logs::{LogSink, Palette};
use ephitup::process::{self, ProcessTable, guardian::Guardian};
use ephitup::supervisor::RunOptions;

/// Exit code for a configuration that does not load.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { file } => match config::load(&file.path) {
            Ok(cfg) => {
                print!("{}", ephitup::plan::render(&cfg));
                for w in ephitup::plan::warnings(&cfg) {
                    eprintln!("warning: {w}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Up { file, socket } => {
            let cfg = match config::load(&file.path) {
                Ok(cfg) => cfg,
                Err(e) => {
                    eprint!("{e}");
                    eprintln!("ephitup: nothing was started");
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match up(cfg, RunOptions { socket: socket.socket }) {
                Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                Err(e) => {
                    eprintln!("ephitup: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Export { file, format, image } => match config::load(&file.path) {
            Ok(cfg) => match ephitup::export::render(&cfg, format, &image) {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ephitup: {e:#}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                eprint!("{e}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Import { path } => match ephitup::import::supervisord(&path) {
            Ok(converted) => {
                for w in &converted.warnings {
                    eprintln!("warning: {w}");
                }
                print!("{}", converted.toml);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ephitup: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Probe { http, tcp, wait, timeout } => probe(http, tcp, wait, timeout.into()),
        command => control(command),
    }
}

/// `ephitup probe`: one check (or, with `wait`, until one passes).
fn probe(http: Option<String>, tcp: Option<String>, wait: bool, timeout: Duration) -> ExitCode {
    use ephitup::health::check::{ProbeContext, http_client, run_check};
    let check = match (http, tcp) {
        (Some(url), _) => match url.parse() {
            Ok(uri) => config::Check::Http(uri),
            Err(e) => {
                eprintln!("ephitup: `{url}` is not a URL: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        (None, Some(addr)) => config::Check::Tcp(addr),
        (None, None) => return ExitCode::from(EXIT_CONFIG),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ephitup: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let ctx = ProbeContext {
            http: http_client(),
            processes: ProcessTable::new(None),
            cwd: std::path::PathBuf::from("."),
            env: Vec::new(),
            failures: None,
        };
        loop {
            match run_check(&check, timeout, &ctx).await {
                Ok(()) => return ExitCode::SUCCESS,
                Err(e) if wait => {
                    eprintln!("ephitup probe: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => {
                    eprintln!("ephitup probe: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    })
}

/// The verbs that talk to a running `ephitup up`.
fn control(command: Command) -> ExitCode {
    let (file, socket) = match &command {
        Command::Status { file, socket, .. } | Command::Reload { file, socket } | Command::Health { file, socket } => {
            (file.path.clone(), socket.socket.clone())
        }
        Command::Logs { path, socket, .. } => (path.clone(), socket.socket.clone()),
        Command::Start(a) | Command::Stop(a) | Command::Restart(a) => (a.file.path.clone(), a.socket.socket.clone()),
        _ => return ExitCode::FAILURE,
    };
    let socket = match socket {
        Some(s) => s,
        None => match config::load(&file) {
            Ok(cfg) => ephitup::control::socket_path(&cfg.settings.data_dir),
            // The file may be mid-edit: the running set is still there to ask (and `reload`
            // reports the file's errors itself).
            Err(_) if config::data_dir_lenient(&file).is_some() => {
                ephitup::control::socket_path(&config::data_dir_lenient(&file).unwrap_or_default())
            }
            Err(e) => {
                eprint!("{e}");
                eprintln!("ephitup: the control socket is found from the file's data_dir (or give --socket)");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
    };
    let client = Client::new(socket, &file);
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ephitup: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<ExitCode> = runtime.block_on(async {
        let answered = |answer: Result<String, String>| match answer {
            Ok(m) => {
                println!("{m}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ephitup: {e}");
                ExitCode::FAILURE
            }
        };
        Ok(match command {
            Command::Status { json, .. } => {
                let status = client.status().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&status)?);
                } else {
                    print!("{}", ephitup::control::client::render_status(&status));
                }
                ExitCode::SUCCESS
            }
            Command::Logs { follow, lines, service, .. } => {
                client.logs(service.as_deref(), lines, follow, &mut std::io::stdout()).await?;
                ExitCode::SUCCESS
            }
            Command::Start(a) => answered(client.action(&a.service, "start").await?),
            Command::Stop(a) => answered(client.action(&a.service, "stop").await?),
            Command::Restart(a) => answered(client.action(&a.service, "restart").await?),
            Command::Reload { .. } => answered(client.reload().await?),
            Command::Health { .. } => {
                let (ready, text) = client.ready().await?;
                print!("{text}");
                if ready { ExitCode::SUCCESS } else { ExitCode::FAILURE }
            }
            _ => ExitCode::FAILURE,
        })
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ephitup: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn up(cfg: config::Config, options: RunOptions) -> anyhow::Result<i32> {
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
        ephitup::supervisor::run(cfg, processes, sink.clone(), palette, options).await
    });
    if let Ok(code) = &code {
        tracing::info!("exiting with code {code}");
    }
    drop(runtime);
    sink.close(Duration::from_secs(2));
    code
}
