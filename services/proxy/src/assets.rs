//! The web UI's static files. A URL path becomes a file under the web root (or is refused,
//! see [`crate::paths`]); `tower-http`'s `ServeFile` sends it (content type from the
//! extension, `Last-Modified`/`If-Modified-Since`, ranges) through its compression layer
//! (gzip or brotli, as the client accepts). On top of that:
//!
//! - caching: file names carrying a content hash (`app.3f9a1c2e.js`) are `immutable` for a
//!   year; everything else (index.html, unhashed modules) is `no-cache`, i.e. revalidated on
//!   each use with a weak `ETag` (size and modification time) or `Last-Modified`;
//! - the single-page-app fallback: a missing path without a file extension (`/notebooks/x`)
//!   is the UI's client-side route and gets index.html; a missing `/x.js` is a 404.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tower::{Layer, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeFile;

use crate::body::{ProxyBody, boxed, full, not_found};
use crate::paths;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The web root and how to answer from it.
#[derive(Clone, Debug)]
pub struct Assets {
    root: PathBuf,
}

impl Assets {
    pub fn new(root: PathBuf) -> Assets {
        Assets { root }
    }

    /// Answers a request for a static file (GET or HEAD only).
    pub async fn serve(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            let mut response = Response::new(full("Method Not Allowed"));
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let Some(relative) = paths::relative(request.uri().path()) else {
            return not_found();
        };
        let file = match self.locate(&relative) {
            Some(file) => file,
            None if relative.extension().is_none() => self.root.join("index.html"),
            None => return not_found(),
        };
        let Ok(meta) = std::fs::metadata(&file) else {
            return not_found();
        };
        let etag = etag(&meta);
        let cache = if is_hashed(&file) { IMMUTABLE } else { REVALIDATE };
        let (mut parts, body) = request.into_parts();
        if let Some(tag) = &etag {
            let inm = parts.headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
            if let Some(inm) = inm {
                if matches_etag(inm, tag) {
                    return not_modified(tag, cache);
                }
                // RFC 9110 §13.2.2: If-None-Match decides; If-Modified-Since is then ignored.
                parts.headers.remove(header::IF_MODIFIED_SINCE);
            }
        }
        let request = Request::from_parts(parts, body);
        let service = CompressionLayer::new().layer(ServeFile::new(&file));
        let response = match service.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let (mut parts, body) = response.into_parts();
        if parts.status.is_success() || parts.status == StatusCode::NOT_MODIFIED {
            parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            if let Some(tag) = etag.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
                parts.headers.insert(header::ETAG, tag);
            }
        }
        Response::from_parts(parts, boxed(body))
    }

    /// The existing file a relative path names; a directory means its index.html.
    fn locate(&self, relative: &Path) -> Option<PathBuf> {
        let path = paths::within(&self.root, relative)?;
        if path.is_dir() {
            let index = path.join("index.html");
            return index.is_file().then_some(index);
        }
        path.is_file().then_some(path)
    }
}

/// A weak validator from the size and modification time (no need to read the file).
fn etag(meta: &std::fs::Metadata) -> Option<String> {
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("W/\"{:x}-{:x}\"", meta.len(), modified.as_nanos()))
}

/// Does an `If-None-Match` value (`*` or a list of tags) match our weak tag?
fn matches_etag(if_none_match: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = bare(tag);
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == ours)
}

fn not_modified(tag: &str, cache: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(full(""));
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    if let Ok(value) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `name.<8+ hex digits>.ext`: the name changes whenever the content does.
fn is_hashed(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|p| p.len() >= 8 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed(Path::new("/w/app.3f9a1c2e.js")));
        assert!(is_hashed(Path::new("/w/style.0123456789abcdef.css")));
        assert!(!is_hashed(Path::new("/w/app.js")));
        assert!(!is_hashed(Path::new("/w/index.html")));
        assert!(!is_hashed(Path::new("/w/deadbeef.js")));
    }

    #[test]
    fn if_none_match_lists_and_weakness() {
        assert!(matches_etag("W/\"a-b\"", "W/\"a-b\""));
        assert!(matches_etag("\"x\", W/\"a-b\"", "W/\"a-b\""));
        assert!(matches_etag("*", "W/\"a-b\""));
        assert!(!matches_etag("W/\"a-c\"", "W/\"a-b\""));
    }
}
