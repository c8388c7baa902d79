//! Overload is shed, not queued without end: at most `API_MAX_IN_FLIGHT` requests run at once;
//! one more waits at most `API_QUEUE_TIMEOUT_MS` for room, then gets `503` with `Retry-After`.
//! While the database is known to be down (the cached check), requests get the same 503 at
//! once. Health and liveness probes pass untouched: they cost nothing, and a full API must
//! still answer them (a liveness restart would turn overload into an outage). Sign-up and
//! sign-in have a queue of their own, the password hashing's (`auth::password`: a few hashes
//! at once, a deadline, then 503), behind per-address limits: they are not counted here, so a
//! burst of them waits its turn there instead of being shed after a second here.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::DbHealth;
use crate::error::ApiError;

/// The bound and what it reads.
#[derive(Clone)]
pub struct Shed {
    room: Arc<Semaphore>,
    queue_timeout: Duration,
    health: DbHealth,
}

impl Shed {
    pub fn new(max_in_flight: usize, queue_timeout: Duration, health: DbHealth) -> Shed {
        Shed { room: Arc::new(Semaphore::new(max_in_flight)), queue_timeout, health }
    }
}

/// Paths that are never shed: the probes.
fn exempt(path: &str) -> bool {
    matches!(path, "/health" | "/api/health" | "/api/live")
}

/// Paths bounded by the password hashing's own queue instead of the room here.
fn own_queue(path: &str) -> bool {
    matches!(path, "/api/auth/register" | "/api/auth/login")
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn limit(State(shed): State<Shed>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    if shed.health.is_down() {
        return ApiError::Unavailable("the database is unavailable; try again shortly".into()).into_response();
    }
    if own_queue(request.uri().path()) {
        return next.run(request).await;
    }
    let permit = match Arc::clone(&shed.room).try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => match tokio::time::timeout(shed.queue_timeout, Arc::clone(&shed.room).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => return ApiError::Unavailable("the API is at capacity; try again shortly".into()).into_response(),
        },
    };
    let response = next.run(request).await;
    drop(permit);
    response
}
