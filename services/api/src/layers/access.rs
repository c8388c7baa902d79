//! The access log: one line per request — method, path (never its query, which may carry
//! tokens or search text), status, latency to the response head, and the caller's user id
//! (`-` when the request was not authenticated) — so an operator sees load and errors. It is a
//! `tracing` event (target `access`), written like every other log line of the program: JSON
//! under `EPHITUP_LOG_FORMAT=json` (see `ephitup_store::program`).

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Where the `CurrentUser` extractor leaves the caller's id for the log line.
#[derive(Clone, Default)]
pub struct AccessUser(Arc<OnceLock<String>>);

impl AccessUser {
    pub fn set(&self, id: &str) {
        let _ = self.0.set(id.to_string());
    }
}

/// The middleware (`axum::middleware::from_fn`).
pub async fn log(mut request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let user = AccessUser::default();
    request.extensions_mut().insert(user.clone());
    let response = next.run(request).await;
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms = (latency_ms * 100.0).round() / 100.0,
        user = user.0.get().map_or("-", String::as_str),
        "request"
    );
    response
}
