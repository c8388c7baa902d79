//! Streams stored podcast audio over HTTP, whichever [`AudioStore`] backend holds it: browsers'
//! players seek with `Range`, and revalidate with `If-None-Match` / `If-Modified-Since`.
//! Ranges are parsed by `http-range-header` (as tower-http does for files); one range is
//! answered with 206, several with the whole file (RFC 9110 lets a server ignore them).

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use ephitup_store::AudioStore;
use ephitup_store::audio::{AudioError, AudioMeta};

use crate::error::{ApiError, ApiResult};

/// The response to a GET of the audio at `reference`.
pub async fn serve(store: &AudioStore, reference: &str, request: &HeaderMap) -> ApiResult<Response> {
    let meta = store.meta(reference).await.map_err(audio_error)?;
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "audio/mpeg")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "private, no-cache");
    if let Some(etag) = meta.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        response = response.header(header::ETAG, etag);
    }
    if let Some(modified) = meta.modified {
        response = response.header(header::LAST_MODIFIED, httpdate::fmt_http_date(modified));
    }
    if not_modified(&meta, request) {
        return build(response.status(StatusCode::NOT_MODIFIED), Body::empty());
    }

    let range = match request.get(header::RANGE).and_then(|r| r.to_str().ok()) {
        None => None,
        Some(value) => match http_range_header::parse_range_header(value).and_then(|r| r.validate(meta.size)) {
            Ok(ranges) if ranges.len() == 1 => Some(ranges[0].clone()),
            Ok(_) => None,
            Err(_) => {
                let unsatisfiable = response
                    .status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .header(header::CONTENT_RANGE, format!("bytes */{}", meta.size));
                return build(unsatisfiable, Body::empty());
            }
        },
    };
    let (status, bytes) = match range {
        Some(r) => {
            response = response.header(header::CONTENT_RANGE, format!("bytes {}-{}/{}", r.start(), r.end(), meta.size));
            (StatusCode::PARTIAL_CONTENT, *r.start()..*r.end() + 1)
        }
        None => (StatusCode::OK, 0..meta.size),
    };
    let length = bytes.end - bytes.start;
    let body = if length == 0 {
        Body::empty()
    } else {
        Body::from_stream(store.read(reference, bytes).await.map_err(audio_error)?)
    };
    build(response.status(status).header(header::CONTENT_LENGTH, length), body)
}

/// `If-None-Match` decides when present; else `If-Modified-Since` (to the second, as HTTP dates go).
fn not_modified(meta: &AudioMeta, request: &HeaderMap) -> bool {
    if let Some(wanted) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let Some(etag) = meta.etag.as_deref() else { return false };
        return wanted.split(',').map(str::trim).any(|w| w == "*" || w.trim_start_matches("W/") == etag);
    }
    let since = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match (since, meta.modified) {
        (Some(since), Some(modified)) => whole_seconds(modified) <= whole_seconds(since),
        _ => false,
    }
}

fn whole_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn build(response: axum::http::response::Builder, body: Body) -> ApiResult<Response> {
    response.body(body).map_err(|e| ApiError::Internal(format!("audio response: {e}")))
}

/// Missing audio is a 404; audio kept where this process cannot reach, or a failing storage, a 503.
fn audio_error(e: AudioError) -> ApiError {
    match e {
        AudioError::NotFound => ApiError::not_found("Audio"),
        e @ (AudioError::Unreachable { .. } | AudioError::Storage { .. }) => {
            tracing::error!("audio storage: {e}");
            ApiError::Unavailable("the audio storage is not reachable".into())
        }
    }
}
