//! The one response body type every route returns, and small constructors for the answers
//! the proxy writes itself (JSON errors, health).

use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Bytes;
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
