//! Server-sent events of the streaming endpoints (chat, ask): one JSON object per `data:`
//! line. A handler checks what it can first (so bad requests get their status), then hands its
//! work to [`stream`], which runs it on a task with an [`Events`] sender. When the client goes
//! away the response body is dropped, the channel closes and the work is dropped at once — an
//! upstream model call with it, which closes that connection.
//!
//! A stream outlives the in-flight bound of `layers::shed`, which ends when the response's
//! headers go out, while each holds a prompt of up to a model's window and an upstream
//! connection for as long as the model writes. So streams have a bound of their own
//! (`AppState::streams`, a [`Room`](crate::room::Room) of `API_MAX_STREAMS`): a handler takes a [`Place`] there
//! before its work ([`try_enter`](crate::room::Room::try_enter): at once or not at all), the stream's task holds it to
//! the end, and a stream past the bound is answered `503` with `Retry-After`.

use std::convert::Infallible;
use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::room::Place;

/// Events waiting for a slow client, at most; past this the work waits for it.
const BUFFER: usize = 64;

/// Whether the client asked for a stream (`Accept: text/event-stream`).
pub fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|part| part.trim().starts_with("text/event-stream")))
}

/// Where a streaming task sends its events.
#[derive(Clone)]
pub struct Events(mpsc::Sender<Value>);

impl Events {
    /// Sends one event; false once the client is gone.
    pub async fn send(&self, event: Value) -> bool {
        self.0.send(event).await.is_ok()
    }
}

/// Runs `work` on its own task, holding `place` until it ends, and answers with its events as
/// they come.
pub fn stream<F, Fut>(place: Place, work: F) -> Response
where
    F: FnOnce(Events) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(BUFFER);
    let watch = tx.clone();
    let task = work(Events(tx));
    tokio::spawn(async move {
        let _place = place;
        tokio::select! {
            () = task => {}
            () = watch.closed() => tracing::debug!("stream: the client went away; its work is dropped"),
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|v| (Ok::<_, Infallible>(Event::default().data(v.to_string())), rx))
    });
    let mut response = Sse::new(body).keep_alive(KeepAlive::default()).into_response();
    // Proxies in front (nginx-style buffering at an edge) pass the events on as they come.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_header_decides() {
        let mut h = HeaderMap::new();
        assert!(!wanted(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json, text/event-stream;q=0.9"));
        assert!(wanted(&h));
    }
}
