//! The web UI's static files. A URL path becomes a file under the web root (or is refused,
//! see [`crate::paths`]); then:
//!
//! - small files (the UI's, up to [`MAX_CACHED`]) are answered from memory: read once per
//!   version (size and modification time), compressed once per encoding at the best level
//!   (brotli or gzip, as the client accepts), so a request costs a `stat`, never a read or
//!   a compression; larger files are streamed by `tower-http`'s `ServeFile` (ranges, and
//!   compression on the fly);
//! - caching: file names carrying a content hash (`app.3f9a1c2e.js`) are `immutable` for a
//!   year; everything else (index.html, unhashed modules) is `no-cache`, i.e. revalidated on
//!   each use with the weak `ETag` (size and modification time) or `Last-Modified` → 304;
//! - the single-page-app fallback: a missing path without a file extension (`/notebooks/x`)
//!   is the UI's client-side route and gets index.html; a missing `/x.js` is a 404.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::Extensions;
use hyper::{Method, Request, Response, StatusCode, Version};
use tokio::sync::OnceCell;
use tower::{Layer, ServiceExt};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeFile;

use crate::body::{ProxyBody, boxed, full, not_found};
use crate::paths;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";
/// Files up to this size are kept in memory (with their compressed forms).
pub const MAX_CACHED: u64 = 2 << 20;
/// Smaller bodies are not worth compressing.
const MIN_COMPRESS: usize = 256;

/// One version of a small file, in memory.
struct Cached {
    etag: String,
    modified: SystemTime,
    content_type: &'static str,
    identity: Bytes,
    gzip: OnceCell<Option<Bytes>>,
    br: OnceCell<Option<Bytes>>,
}

/// The web root and the files read from it.
pub struct Assets {
    root: PathBuf,
    cache: RwLock<HashMap<PathBuf, Arc<Cached>>>,
}

impl Assets {
    pub fn new(root: PathBuf) -> Assets {
        Assets { root, cache: RwLock::new(HashMap::new()) }
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
        let (Some(etag), Ok(modified)) = (etag(&meta), meta.modified()) else {
            return stream_file(&file, request).await;
        };
        if meta.len() > MAX_CACHED {
            return stream_file(&file, request).await;
        }
        let cached = match self.cached(&file, &etag, modified) {
            Some(cached) => cached,
            None => match self.load(&file, etag, modified) {
                Ok(cached) => cached,
                Err(e) => {
                    tracing::warn!("reading {}: {e}", file.display());
                    return not_found();
                }
            },
        };
        respond(&cached, request.method() == Method::HEAD, request.headers(), cache_rule(&file)).await
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

    fn cached(&self, file: &Path, etag: &str, modified: SystemTime) -> Option<Arc<Cached>> {
        let cache = self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.get(file).filter(|c| c.etag == etag && c.modified == modified).cloned()
    }

    fn load(&self, file: &Path, etag: String, modified: SystemTime) -> std::io::Result<Arc<Cached>> {
        let identity = Bytes::from(std::fs::read(file)?);
        let cached = Arc::new(Cached {
            etag,
            modified,
            content_type: content_type(file),
            identity,
            gzip: OnceCell::new(),
            br: OnceCell::new(),
        });
        let mut cache = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.insert(file.to_path_buf(), cached.clone());
        Ok(cached)
    }
}

/// The answer from memory: 304 when the client's copy is current, else the best encoding.
async fn respond(cached: &Cached, head: bool, request: &HeaderMap, cache: &'static str) -> Response<ProxyBody> {
    let fresh = match request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        // RFC 9110 §13.2.2: If-None-Match decides; If-Modified-Since is then ignored.
        Some(inm) => matches_etag(inm, &cached.etag),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| whole_seconds(cached.modified) <= whole_seconds(since)),
    };
    let mut response = Response::new(full(Bytes::new()));
    let headers = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(&cached.etag) {
        headers.insert(header::ETAG, tag);
    }
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(cached.modified)) {
        headers.insert(header::LAST_MODIFIED, date);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    let compressible = is_compressible(cached.content_type) && cached.identity.len() >= MIN_COMPRESS;
    if compressible {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if fresh {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    let (encoding, body) = if compressible { encoded(cached, request).await } else { (None, cached.identity.clone()) };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(cached.content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if !head {
        *response.body_mut() = full(body);
    }
    response
}

/// The smallest form the client accepts: brotli, then gzip, then the file as is.
async fn encoded(cached: &Cached, request: &HeaderMap) -> (Option<&'static str>, Bytes) {
    let accepted = |name: &str| {
        request.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
            |item| {
                let mut parts = item.split(';');
                let token = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                (token.eq_ignore_ascii_case(name) || token == "*") && !refused
            },
        )
    };
    let identity = cached.identity.clone();
    if accepted("br") {
        if let Some(bytes) = cached.br.get_or_init(|| compress(identity.clone(), "br")).await {
            return (Some("br"), bytes.clone());
        }
    }
    if accepted("gzip") {
        if let Some(bytes) = cached.gzip.get_or_init(|| compress(identity.clone(), "gzip")).await {
            return (Some("gzip"), bytes.clone());
        }
    }
    (None, identity)
}

/// `bytes` compressed once, at the best level, with tower-http's encoder; `None` when that
/// does not make them smaller.
async fn compress(bytes: Bytes, encoding: &'static str) -> Option<Bytes> {
    let original = bytes.len();
    let always = |_: StatusCode, _: Version, _: &HeaderMap, _: &Extensions| true;
    let service = CompressionLayer::new().quality(CompressionLevel::Best).compress_when(always).layer(
        tower::service_fn(move |_: Request<()>| {
            let bytes = bytes.clone();
            async move { Ok::<_, Infallible>(Response::new(Full::new(bytes))) }
        }),
    );
    let request = Request::builder().header(header::ACCEPT_ENCODING, encoding).body(()).ok()?;
    let response = service.oneshot(request).await.ok()?;
    let applied = response.headers().get(header::CONTENT_ENCODING).is_some_and(|v| v == encoding);
    let compressed = response.into_body().collect().await.ok()?.to_bytes();
    (applied && compressed.len() < original).then_some(compressed)
}

/// A large file, streamed from disk (ranges, `If-Modified-Since`, compression on the fly).
async fn stream_file(file: &Path, request: Request<Incoming>) -> Response<ProxyBody> {
    let cache = cache_rule(file);
    let service = CompressionLayer::new().layer(ServeFile::new(file));
    let response = match service.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (mut parts, body) = response.into_parts();
    if parts.status.is_success() || parts.status == StatusCode::NOT_MODIFIED {
        parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    Response::from_parts(parts, boxed(body))
}

fn cache_rule(file: &Path) -> &'static str {
    if is_hashed(file) { IMMUTABLE } else { REVALIDATE }
}

/// A weak validator from the size and modification time (no need to read the file).
fn etag(meta: &std::fs::Metadata) -> Option<String> {
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(format!("W/\"{:x}-{:x}\"", meta.len(), modified.as_nanos()))
}

fn whole_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Does an `If-None-Match` value (`*` or a list of tags) match our weak tag?
fn matches_etag(if_none_match: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let ours = bare(tag);
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == ours)
}

/// `name.<8+ hex digits>.ext`: the name changes whenever the content does.
fn is_hashed(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|p| p.len() >= 8 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The types a web UI ships; anything else is `application/octet-stream`.
fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        "mp3" => "audio/mpeg",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || ["javascript", "json", "xml", "svg", "wasm"].iter().any(|kind| content_type.contains(kind))
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

    #[test]
    fn types_of_the_ui_files() {
        assert_eq!(content_type(Path::new("a/app.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("index.HTML")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
        assert!(is_compressible("image/svg+xml") && !is_compressible("image/png"));
    }
}
