//! One run of a probe: an HTTP GET answering 2xx, a TCP connection that opens, or a program
//! that exits 0, each within the probe's timeout.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::config::Check;
use crate::process::{CommandSpec, Output, ProcessTable};

pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build_http()
}

/// What a probe needs from its surroundings.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    pub http: HttpClient,
    pub processes: Arc<ProcessTable>,
    /// For exec probes: the service's directory and environment.
    pub cwd: std::path::PathBuf,
    pub env: Vec<(String, String)>,
    /// Where failed runs are counted (for `/metrics`), when someone counts them.
    pub failures: Option<Arc<crate::counters::InstanceCounters>>,
}

/// Runs `check` once. `Err` says why it failed, for the log.
pub async fn run_check(check: &Check, timeout: Duration, ctx: &ProbeContext) -> Result<(), String> {
    match check {
        Check::Http(uri) => {
            let response = tokio::time::timeout(timeout, ctx.http.get(uri.clone()))
                .await
                .map_err(|_| format!("GET {uri}: no answer within {}", humantime::format_duration(timeout)))?
                .map_err(|e| format!("GET {uri}: {}", error_chain(&e)))?;
            if response.status().is_success() { Ok(()) } else { Err(format!("GET {uri}: {}", response.status())) }
        }
        Check::Tcp(addr) => tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr.as_str()))
            .await
            .map_err(|_| format!("connect {addr}: no answer within {}", humantime::format_duration(timeout)))?
            .map(drop)
            .map_err(|e| format!("connect {addr}: {e}")),
        Check::Exec(argv) => {
            let spec = CommandSpec {
                argv: argv.clone(),
                cwd: ctx.cwd.clone(),
                env: ctx.env.clone(),
                user: None,
                stdout: Output::Null,
                stderr: Output::Null,
                cgroup: None,
            };
            let spawned = ctx.processes.spawn(&spec).map_err(|e| format!("exec {}: {e}", argv[0]))?;
            match tokio::time::timeout(timeout, spawned.exit).await {
                Ok(Ok(status)) if status.success() => Ok(()),
                Ok(Ok(status)) => Err(format!("exec {}: {status}", argv[0])),
                Ok(Err(_)) => Err(format!("exec {}: exit status lost", argv[0])),
                Err(_) => {
                    let _ = crate::process::signal_group(spawned.pid, nix::sys::signal::Signal::SIGKILL);
                    Err(format!("exec {}: still running after {}", argv[0], humantime::format_duration(timeout)))
                }
            }
        }
        Check::Log(_) => Err("log probes are not polled".into()),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
