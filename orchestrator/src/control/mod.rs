//! The control API of a running `ephitup up`: HTTP/JSON on a Unix socket in `data_dir`
//! (mode 0600: whoever may use it may stop services), and the optional HTTP listener
//! (`settings.http`) that serves only what is safe to show: `/healthz`, `/readyz`, status and
//! the status page ([`page`]). The CLI side (`ephitup status`, `logs`, ...) is [`client`].
//!
//! Both serve `GET /metrics` (Prometheus, [`metrics`]).
//!
//! Socket routes: `GET /status`, `GET /history`, `GET /logs?service=&lines=&follow=`,
//! `POST /services/{name}/{start|stop|restart}`, `POST /reload`, `GET /healthz`, `GET /readyz`.

pub mod client;
mod metrics;
mod page;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use crate::board::{ExitRecord, State as RunState};
use crate::config::ServiceKind;
use crate::handle::{Handle, Request};
use crate::history::{Entry, now_ms};

/// The socket's file name in `data_dir`.
pub const SOCKET_NAME: &str = "ephitup.sock";

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Refuses to start when another `ephitup up` answers on this socket (same data_dir).
pub fn refuse_if_running(path: &Path) -> anyhow::Result<()> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        anyhow::bail!(
            "another ephitup is running with control socket {} (stop it, or give this one --socket)",
            path.display()
        );
    }
    Ok(())
}

/// Binds the control socket and serves it. A socket left by an `ephitup` that died (nobody
/// answers on it) is replaced.
pub fn serve_socket(path: &Path, handle: Handle) -> anyhow::Result<JoinHandle<()>> {
    if path.exists() {
        std::fs::remove_file(path)
            .map_err(|e| anyhow::anyhow!("cannot remove stale socket {}: {e}", path.display()))?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    let listener = tokio::net::UnixListener::bind(path)
        .map_err(|e| anyhow::anyhow!("cannot listen on control socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", path.display()))?;
    let app = control_routes().layer(axum::middleware::from_fn(touched)).with_state(handle);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("control socket stopped: {e}");
        }
    }))
}

/// Removes the socket at exit, so the CLI says "not running" rather than "cannot connect".
pub fn remove_socket(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// Serves the read-only routes on TCP (`settings.http`).
pub async fn serve_http(addr: std::net::SocketAddr, handle: Handle) -> anyhow::Result<JoinHandle<()>> {
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    tracing::info!("status page on http://{}/", listener.local_addr().unwrap_or(addr));
    let app =
        public_routes().layer(axum::Extension(Public)).layer(axum::middleware::from_fn(touched)).with_state(handle);
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("HTTP listener stopped: {e}");
        }
    }))
}

/// Marks a request as a busy moment: the pages it read in are given back once quiet
/// (`process::trim`).
async fn touched(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    crate::process::trim::touched();
    next.run(request).await
}

fn public_routes() -> Router<Handle> {
    Router::new()
        .route("/", get(status_page))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/history", get(history))
        .route("/metrics", get(metrics_text))
}

fn control_routes() -> Router<Handle> {
    public_routes()
        .route("/logs", get(logs))
        .route("/services/{name}/{action}", post(action))
        .route("/reload", post(reload))
}

/// What `GET /status` answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub config: String,
    pub uptime_ms: u64,
    /// Every critical service is ready.
    pub ready: bool,
    pub services: Vec<ServiceStatus>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub name: String,
    pub kind: String,
    pub critical: bool,
    /// The readiness probe, described; none when the service has none.
    pub health: Option<String>,
    /// A one-shot's schedule, described (`every 1day`, `cron 0 3 * * * (UTC)`).
    #[serde(default)]
    pub schedule: Option<String>,
    /// Its memory limit, in bytes.
    #[serde(default)]
    pub memory_limit: Option<u64>,
    pub instances: Vec<InstanceReport>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InstanceReport {
    pub label: String,
    pub state: String,
    pub pid: Option<i32>,
    /// Since the current process was spawned (none when not running).
    pub uptime_ms: Option<u64>,
    pub restarts: u32,
    pub ready: bool,
    pub last_exit: Option<String>,
    /// How its last process ended, with its last lines of output (crash forensics).
    #[serde(default)]
    pub exit: Option<ExitRecord>,
    /// Resident memory of its process group, in bytes (none without a process).
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    /// CPU time of its current process group, in seconds (none without a process).
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
    /// Failed probe runs since ephitup started.
    #[serde(default)]
    pub probe_failures: u64,
    /// A scheduled one-shot's next run, in ms since the Unix epoch.
    #[serde(default)]
    pub next_run_ms: Option<u64>,
    /// How a scheduled one-shot's last run ended (true: completed); none before the first.
    #[serde(default)]
    pub last_run_ok: Option<bool>,
}

pub fn status_of(handle: &Handle) -> Status {
    let config = handle.config.borrow().clone();
    let board = handle.board.borrow().clone();
    let now = now_ms();
    let leaders: Vec<i32> = board.values().flatten().filter_map(|i| i.pid).collect();
    let groups = crate::process::usage::of_groups(&leaders);
    let services = config
        .services
        .iter()
        .map(|s| {
            let instances = board
                .get(&s.name)
                .map(|v| {
                    v.iter()
                        .enumerate()
                        .map(|(r, i)| InstanceReport {
                            label: if s.replicas > 1 { format!("{}.{r}", s.name) } else { s.name.clone() },
                            state: i.state.as_str().to_string(),
                            pid: i.pid,
                            uptime_ms: i.pid.and(i.since_ms).map(|t| now.saturating_sub(t)),
                            restarts: i.restarts,
                            ready: i.ready,
                            last_exit: i.last_exit.clone(),
                            exit: i.exit.as_deref().cloned(),
                            memory_bytes: i.pid.map(|p| groups.get(&p).map_or(0, |u| u.rss_bytes)),
                            cpu_seconds: i.pid.map(|p| groups.get(&p).map_or(0.0, |u| u.cpu_seconds)),
                            probe_failures: handle.counters.of(&s.name, r as u32).probe_failures(),
                            next_run_ms: i.next_run_ms,
                            last_run_ok: i.last_run_ok,
                        })
                        .collect()
                })
                .unwrap_or_default();
            ServiceStatus {
                name: s.name.clone(),
                kind: match s.kind {
                    ServiceKind::Daemon => "daemon".into(),
                    ServiceKind::Oneshot => "oneshot".into(),
                },
                critical: s.critical,
                health: s.health.as_ref().map(|p| p.check.describe()),
                schedule: s.schedule.as_ref().map(|x| x.describe()),
                memory_limit: s.limits.memory,
                instances,
            }
        })
        .collect();
    Status {
        pid: std::process::id(),
        config: config.path.display().to_string(),
        uptime_ms: now.saturating_sub(handle.started_ms),
        ready: handle.ready(),
        services,
    }
}

/// Marks a request that came through the public listener: services' output stays on the
/// socket (logs are never public), so exits are shown there without their lines.
#[derive(Debug, Clone, Copy)]
struct Public;

/// The status as the asker may see it.
fn status_for(handle: &Handle, public: Option<axum::Extension<Public>>) -> Status {
    let mut status = status_of(handle);
    if public.is_some() {
        for exit in status.services.iter_mut().flat_map(|s| s.instances.iter_mut()).filter_map(|i| i.exit.as_mut()) {
            exit.output.clear();
        }
    }
    status
}

async fn status(State(handle): State<Handle>, public: Option<axum::Extension<Public>>) -> impl IntoResponse {
    axum::Json(status_for(&handle, public))
}

#[derive(Debug, Serialize)]
struct ServiceHistory {
    name: String,
    entries: Vec<Entry>,
}

async fn history(State(handle): State<Handle>) -> impl IntoResponse {
    let names: Vec<String> = handle.config.borrow().services.iter().map(|s| s.name.clone()).collect();
    let all: Vec<ServiceHistory> =
        names.into_iter().map(|name| ServiceHistory { entries: handle.history.of(&name), name }).collect();
    axum::Json(all)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(handle): State<Handle>) -> Response {
    if handle.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let status = status_of(&handle);
        let waiting: Vec<String> = status
            .services
            .iter()
            .filter(|s| s.critical || !status.services.iter().any(|s| s.critical))
            .flat_map(|s| s.instances.iter())
            .filter(|i| {
                !(i.ready && i.state == RunState::Running.as_str()) && i.state != "completed" && i.state != "scheduled"
            })
            .map(|i| format!("{} {}", i.label, i.state))
            .collect();
        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {}\n", waiting.join(", "))).into_response()
    }
}

async fn metrics_text(State(handle): State<Handle>) -> Response {
    match metrics::render(&handle) {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("cannot encode the metrics: {e}\n")).into_response(),
    }
}

async fn status_page(State(handle): State<Handle>, public: Option<axum::Extension<Public>>) -> Html<String> {
    Html(page::render(&status_for(&handle, public), &handle))
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    service: Option<String>,
    lines: Option<usize>,
    #[serde(default)]
    follow: bool,
}

async fn logs(State(handle): State<Handle>, Query(q): Query<LogQuery>) -> Response {
    if let Some(name) = &q.service {
        if handle.config.borrow().service(name).is_none() {
            return (StatusCode::NOT_FOUND, format!("no service named `{name}`\n")).into_response();
        }
    }
    // Subscribed before the tail is read, so no line falls between the two.
    let feed = q.follow.then(|| handle.recent.follow());
    let tail = handle.recent.tail(q.service.as_deref(), q.lines.unwrap_or(100));
    let Some(feed) = feed else {
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], tail).into_response();
    };
    let service = q.service.clone();
    let first = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(tail) });
    let rest = futures_util::stream::unfold((feed, service), |(mut feed, service)| async move {
        loop {
            match feed.recv().await {
                Ok(chunk) => {
                    if service.as_deref().is_some_and(|s| s != &*chunk.service) {
                        continue;
                    }
                    let mut text = String::new();
                    chunk.render(&mut text);
                    return Some((Ok(text), (feed, service)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    let text = format!("ephitup | ({n} chunks of output skipped: this reader is too slow)\n");
                    return Some((Ok(text), (feed, service)));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    use futures_util::StreamExt;
    let body = Body::from_stream(first.chain(rest));
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// The answer to a request: `{"message": ...}` or `{"error": ...}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Answer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn answer(result: Result<String, String>, refused: StatusCode) -> Response {
    match result {
        Ok(message) => (StatusCode::OK, axum::Json(Answer { message: Some(message), error: None })).into_response(),
        Err(error) => (refused, axum::Json(Answer { message: None, error: Some(error) })).into_response(),
    }
}

async fn action(State(handle): State<Handle>, UrlPath((name, action)): UrlPath<(String, String)>) -> Response {
    let request = match action.as_str() {
        "start" => Request::Start(name.clone()),
        "stop" => Request::Stop(name.clone()),
        "restart" => Request::Restart(name.clone()),
        other => {
            return answer(Err(format!("unknown action `{other}` (start, stop, restart)")), StatusCode::NOT_FOUND);
        }
    };
    if handle.config.borrow().service(&name).is_none() {
        return answer(Err(format!("no service named `{name}`")), StatusCode::NOT_FOUND);
    }
    answer(handle.call(request).await, StatusCode::CONFLICT)
}

async fn reload(State(handle): State<Handle>) -> Response {
    answer(handle.call(Request::Reload).await, StatusCode::UNPROCESSABLE_ENTITY)
}
