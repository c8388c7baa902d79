//! The one response body type every route returns, small constructors for the answers the
//! proxy writes itself (JSON errors, health), and [`Watched`], a relayed body that remembers
//! whether it failed (so a client's malformed body is told apart from the API's failure).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::{Response, StatusCode, header};

/// Errors of any body the proxy relays (upstream, files, compression).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed body of any origin.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// Boxes any body into [`ProxyBody`].
pub fn boxed<B>(body: B) -> ProxyBody
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// A complete body from bytes.
pub fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    boxed(Full::new(bytes.into()))
}

/// `{"detail": message}` with `status`, the error shape of the API, so clients handle the
/// proxy's own errors like the API's.
pub fn json_error(status: StatusCode, message: &str) -> Response<ProxyBody> {
    json(status, &serde_json::json!({ "detail": message }))
}

/// A JSON answer written by the proxy itself (never cached).
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<ProxyBody> {
    let mut response = Response::new(full(value.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// A plain 404 for refused or missing files.
pub fn not_found() -> Response<ProxyBody> {
    let mut response = Response::new(full("Not Found"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// A body that sets its flag when reading it fails (for a client's request body: a broken
/// chunked encoding, a connection cut mid-body).
pub struct Watched<B> {
    inner: B,
    failed: Arc<AtomicBool>,
}

impl<B> Watched<B> {
    /// The body and the flag that tells, later, whether it failed.
    pub fn new(inner: B) -> (Watched<B>, Arc<AtomicBool>) {
        let failed = Arc::new(AtomicBool::new(false));
        (Watched { inner, failed: failed.clone() }, failed)
    }
}

impl<B: Body + Unpin> Body for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Err(_))) = &polled {
            self.failed.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
