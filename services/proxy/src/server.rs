//! Accepting connections and routing requests: `/healthz` is answered here, `/api` and
//! `/api/*` go to [`Upstream`], everything else to [`Assets`] (with the browser's security
//! headers). An HTTP/1.1 request without exactly one `Host` is refused (400, RFC 9112 §3.2). HTTP/1.1 with keep-alive (the
//! public edge terminates TLS and speaks HTTP/1.1 to us). On SIGTERM/SIGINT the listener
//! closes, open connections finish their current request (graceful shutdown), and after
//! `drain_timeout` the rest are dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::assets::Assets;
use crate::body::{ProxyBody, json, json_error};
use crate::forward::Upstream;
use crate::headers::add_security;
use crate::settings::Settings;

/// Everything a request needs, shared by all connections.
pub struct Front {
    upstream: Upstream,
    assets: Assets,
}

impl Front {
    pub fn new(settings: &Settings) -> Front {
        Front { upstream: Upstream::new(settings), assets: Assets::new(settings.web_root.clone()) }
    }

    /// Routes one request.
    pub async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<ProxyBody> {
        let hosts = request.headers().get_all(hyper::header::HOST).iter().count();
        if hosts > 1 || (hosts == 0 && request.version() == hyper::Version::HTTP_11) {
            return json_error(StatusCode::BAD_REQUEST, "An HTTP/1.1 request needs exactly one Host header");
        }
        let path = request.uri().path();
        if path == "/healthz" {
            return json(StatusCode::OK, &serde_json::json!({ "status": "ok" }));
        }
        if path == "/api" || path.starts_with("/api/") {
            return self.upstream.forward(request, peer.ip()).await;
        }
        let mut response = self.assets.serve(request).await;
        add_security(response.headers_mut());
        response
    }
}

/// Binds and serves until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind)
        .await
        .with_context(|| format!("binding {} (PORT/PROXY_BIND)", settings.bind))?;
    tracing::info!(
        "listening on {}, forwarding /api/* to {}, serving {}",
        listener.local_addr().unwrap_or(settings.bind),
        settings.api,
        settings.web_root.display()
    );
    serve(listener, settings, shutdown_signal()).await
}

/// Resolves on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Serves `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let front = Arc::new(Front::new(&settings));
    let tracker = TaskTracker::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the open connections.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        let mut stop = stop_rx.clone();
        let idle = settings.idle_timeout;
        tracker.spawn(async move {
            let service = service_fn(move |request| {
                let front = front.clone();
                async move { Ok::<_, Infallible>(front.handle(request, peer).await) }
            });
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(idle).keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let stopping = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            tokio::select! {
                result = conn.as_mut() => return log_connection_end(result),
                () = stopping => {}
            }
            conn.as_mut().graceful_shutdown();
            log_connection_end(conn.await);
        });
    }
    drop(listener);
    tracing::info!("shutting down: draining {} connection(s)", tracker.len());
    let _ = stop_tx.send(true);
    tracker.close();
    if tokio::time::timeout(settings.drain_timeout, tracker.wait()).await.is_err() {
        tracing::warn!("{} connection(s) still open after {:?}: closing them", tracker.len(), settings.drain_timeout);
    }
    Ok(())
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        // Clients going away mid-response are routine; log them quietly.
        tracing::debug!("connection ended: {e}");
    }
}
