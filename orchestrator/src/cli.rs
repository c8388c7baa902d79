//! The command line: `up` and `check` run from the file; `status`, `logs`, `start`, `stop`,
//! `restart`, `reload` and `health` talk to a running `up` over its control socket; `export`
//! and `import` convert to and from other engines' formats.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ephitup",
    version,
    about = "Run the services declared in ephitup.toml: in dependency order, health-checked, restarted, logged, stopped cleanly."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start every service and supervise them in the foreground.
    Up {
        #[command(flatten)]
        file: ConfigFile,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Validate the configuration and print the startup plan.
    Check {
        #[command(flatten)]
        file: ConfigFile,
    },
    /// Show each service of the running set: state, pid, uptime, restarts, health, last exit.
    Status {
        #[command(flatten)]
        file: ConfigFile,
        #[command(flatten)]
        socket: SocketArg,
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the recent output of one service (or all), and with -f every new line.
    Logs {
        /// The configuration file (`-f` means follow here).
        #[arg(
            short = 'c',
            long = "file",
            visible_alias = "config",
            env = "EPHITUP_CONFIG",
            default_value = "ephitup.toml"
        )]
        path: PathBuf,
        #[command(flatten)]
        socket: SocketArg,
        /// Keep printing new lines until interrupted.
        #[arg(short = 'f', long)]
        follow: bool,
        /// How many recent lines to print first.
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
        /// The service (all services when left out).
        service: Option<String>,
    },
    /// Start a stopped service.
    Start(ServiceArgs),
    /// Stop a service (it stays stopped until started again).
    Stop(ServiceArgs),
    /// Stop and start a service.
    Restart(ServiceArgs),
    /// Read the configuration again and apply the difference (also SIGHUP, or saving the file).
    Reload {
        #[command(flatten)]
        file: ConfigFile,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Exit 0 when every critical service of the running set is ready (for HEALTHCHECK).
    Health {
        #[command(flatten)]
        file: ConfigFile,
        #[command(flatten)]
        socket: SocketArg,
    },
    /// Run one HTTP or TCP check, exit 0 when it passes (for container health checks without
    /// curl; exported manifests use it).
    Probe {
        /// GET this URL; a 2xx answer passes.
        #[arg(long, required_unless_present = "tcp", conflicts_with = "tcp")]
        http: Option<String>,
        /// Open a TCP connection to this `host:port`.
        #[arg(long)]
        tcp: Option<String>,
        /// Retry every second until the check passes.
        #[arg(long)]
        wait: bool,
        /// Time allowed for one check.
        #[arg(long, default_value = "2s")]
        timeout: humantime::Duration,
    },
    /// Print the set as a deployment for another engine.
    Export {
        #[command(flatten)]
        file: ConfigFile,
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Container image for every service (default: `ephitup:latest`).
        #[arg(long, default_value = "ephitup:latest")]
        image: String,
    },
    /// Convert a supervisord configuration to ephitup.toml (printed on stdout).
    Import {
        /// The supervisord.conf to read.
        path: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A docker compose file.
    Compose,
    /// Kubernetes manifests (a Deployment or Job per service, Services for probed ports).
    Kubernetes,
    /// A Render blueprint (render.yaml).
    Render,
}

#[derive(Debug, clap::Args)]
pub struct ConfigFile {
    /// The configuration file (`-c` too, as in `logs`, where `-f` means follow).
    #[arg(
        short = 'f',
        long = "file",
        visible_alias = "config",
        visible_short_alias = 'c',
        env = "EPHITUP_CONFIG",
        default_value = "ephitup.toml"
    )]
    pub path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct SocketArg {
    /// The control socket (default: `ephitup.sock` in the file's `data_dir`).
    #[arg(long = "socket", env = "EPHITUP_SOCKET")]
    pub socket: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub file: ConfigFile,
    #[command(flatten)]
    pub socket: SocketArg,
    /// The service.
    pub service: String,
}
