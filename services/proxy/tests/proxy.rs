//! The real `ephitup-proxy` binary: streaming both ways (first bytes cross before the other
//! side has finished), header handling (a client's `X-Forwarded-For` never reaches the real
//! API's login limit), malformed requests (no `Host`, broken chunking) refused with 400, the
//! API down and back, traversal refused, the UI's files with their headers (security headers
//! among them), the single-page-app fallback, and a clean stop on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ephitup_proxy::body::{ProxyBody, boxed, full};
use ephitup_testkit::{TestApi, free_port};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::{Proxy, channel, raw};
use tokio::sync::{Notify, mpsc};

const CHUNK: usize = 1 << 20;
const CHUNKS: usize = 64; // 64 MiB each way
const WAIT: Duration = Duration::from_secs(15);

/// A stand-in API on a free port, answering with `handler`.
async fn upstream<F, Fut>(handler: F) -> u16
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<ProxyBody>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, std::convert::Infallible>(handler(req).await) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    port
}

fn client() -> Client<hyper_util::client::legacy::connect::HttpConnector, ProxyBody> {
    Client::builder(TokioExecutor::new()).build_http()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_reaches_the_api_while_the_client_is_still_sending() {
    let (first_tx, mut first_rx) = mpsc::channel::<usize>(1);
    let port = upstream(move |req: Request<Incoming>| {
        let first_tx = first_tx.clone();
        async move {
            let mut body = req.into_body();
            let mut total = 0usize;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.unwrap().into_data() {
                    if total == 0 {
                        first_tx.send(data.len()).await.unwrap();
                    }
                    total += data.len();
                }
            }
            Response::new(full(total.to_string()))
        }
    })
    .await;
    let proxy = Proxy::start(&format!("http://127.0.0.1:{port}"));
    let (tx, body) = channel();
    let request = Request::post(proxy.url("/api/upload")).body(boxed(body)).unwrap();
    let answer = tokio::spawn(client().request(request));
    tx.send(Bytes::from(vec![7u8; CHUNK])).await.unwrap();
    // The API sees the first MiB while 63 more are still to come: nothing buffers the whole.
    let first = tokio::time::timeout(WAIT, first_rx.recv()).await.expect("first bytes reached the API").unwrap();
    assert!(first > 0);
    for _ in 1..CHUNKS {
        tx.send(Bytes::from(vec![7u8; CHUNK])).await.unwrap();
    }
    drop(tx);
    let response = answer.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let text = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(String::from_utf8_lossy(&text), (CHUNK * CHUNKS).to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_reaches_the_client_while_the_api_is_still_sending() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let port = upstream(move |_req: Request<Incoming>| {
        let gate = gate.clone();
        async move {
            let (tx, body) = channel();
            tokio::spawn(async move {
                tx.send(Bytes::from(vec![1u8; CHUNK])).await.unwrap();
                gate.notified().await; // the rest only once the client has the first MiB
                for _ in 1..CHUNKS {
                    tx.send(Bytes::from(vec![1u8; CHUNK])).await.unwrap();
                }
            });
            let mut response = Response::new(boxed(body));
            response.headers_mut().insert("content-type", "audio/mpeg".parse().unwrap());
            response
        }
    })
    .await;
    let proxy = Proxy::start(&format!("http://127.0.0.1:{port}"));
    let request = Request::get(proxy.url("/api/podcasts/episodes/e/audio")).body(full("")).unwrap();
    let response = tokio::time::timeout(WAIT, client().request(request)).await.expect("headers").unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    let mut body = response.into_body();
    let mut total = 0usize;
    let first = tokio::time::timeout(WAIT, body.frame()).await.expect("first bytes reached the client");
    total += first.unwrap().unwrap().into_data().unwrap().len();
    release.notify_one();
    while let Some(frame) = tokio::time::timeout(WAIT, body.frame()).await.expect("more bytes") {
        total += frame.unwrap().into_data().map(|d| d.len()).unwrap_or(0);
    }
    assert_eq!(total, CHUNK * CHUNKS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_headers_stay_behind_and_forwarded_headers_are_set() {
    let port = upstream(|req: Request<Incoming>| async move {
        let seen: serde_json::Map<String, serde_json::Value> =
            req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").into())).collect();
        let mut response = Response::new(full(serde_json::Value::Object(seen).to_string()));
        let h = response.headers_mut();
        h.insert("connection", "X-Upstream-Hop".parse().unwrap());
        h.insert("x-upstream-hop", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-kept", "1".parse().unwrap());
        response
    })
    .await;
    let proxy = Proxy::start(&format!("http://127.0.0.1:{port}"));
    let answer = tokio::task::spawn_blocking(move || {
        raw(
            proxy.port,
            "GET /api/echo?q=1 HTTP/1.1\nHost: front.example\nConnection: X-Client-Hop\nX-Client-Hop: secret\n\
             Keep-Alive: timeout=5\nProxy-Authorization: Basic Zm9vOmJhcg==\nTE: trailers\n\
             X-Forwarded-For: 203.0.113.9\nX-End-To-End: kept",
            b"",
        )
    })
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
    let seen: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    for gone in ["x-client-hop", "keep-alive", "proxy-authorization", "te", "connection"] {
        assert!(seen.get(gone).is_none(), "{gone} reached the API: {seen}");
    }
    assert_eq!(seen["x-end-to-end"], "kept");
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1", "the peer we saw, not what the client claimed");
    assert_eq!(seen["x-forwarded-proto"], "http");
    assert_eq!(seen["x-forwarded-host"], "front.example");
    assert_eq!(seen["host"], format!("127.0.0.1:{port}"));
    assert_eq!(answer.header("x-kept"), Some("1"));
    assert_eq!(answer.header("x-upstream-hop"), None);
    assert_eq!(answer.header("keep-alive"), None);
}

/// The real API: absent (502 JSON), then started on the port the proxy points at (the proxy
/// recovers without a restart), used through the proxy, then killed (502 again).
#[test]
fn api_down_answers_502_json_and_recovery_needs_no_restart() {
    let api_port = free_port();
    let proxy = Proxy::start(&format!("http://127.0.0.1:{api_port}"));
    let down = raw(proxy.port, "GET /api/health HTTP/1.1\nHost: x", b"");
    assert_eq!(down.status, 502);
    assert_eq!(down.header("content-type"), Some("application/json"));
    let detail: serde_json::Value = serde_json::from_slice(&down.body).unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("not reachable"), "{detail}");

    let mut api = TestApi::start_on(api_port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while raw(proxy.port, "GET /api/health HTTP/1.1\nHost: x", b"").status != 200 {
        assert!(Instant::now() < deadline, "the proxy did not recover:\n{}", proxy.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = br#"{"email":"proxy@example.com","password":"Str0ng!pass","display_name":"P"}"#;
    let registered = raw(
        proxy.port,
        &format!(
            "POST /api/auth/register HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: {}",
            body.len()
        ),
        body,
    );
    assert_eq!(registered.status, 201, "{}", registered.text());
    let token: serde_json::Value = serde_json::from_slice(&registered.body).unwrap();
    let me = raw(
        proxy.port,
        &format!(
            "GET /api/auth/me HTTP/1.1\nHost: x\nAuthorization: Bearer {}",
            token["access_token"].as_str().unwrap()
        ),
        b"",
    );
    assert_eq!(me.status, 200, "{}", me.text());
    assert!(me.text().contains("proxy@example.com"));

    api.kill();
    let again = raw(proxy.port, "GET /api/health HTTP/1.1\nHost: x", b"");
    assert_eq!(again.status, 502, "{}", again.text());
}

#[test]
fn traversal_attempts_answer_404_in_every_encoding() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    for path in [
        "/../secret.txt",
        "/js/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/..%2fsecret.txt",
        "/js/..%2f..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/%252e%252e%252fsecret.txt",
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "/js/%00../secret.txt",
        "/.env",
        "/.git/config",
    ] {
        let answer = raw(proxy.port, &format!("GET {path} HTTP/1.1\nHost: x"), b"");
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert!(!answer.text().contains("TOP-SECRET"), "{path} leaked the file");
    }
    // A raw backslash is not even a valid request target: the HTTP parser refuses it.
    let answer = raw(proxy.port, "GET /..\\secret.txt HTTP/1.1\nHost: x", b"");
    assert!(matches!(answer.status, 400 | 404), "backslash: {}", answer.status);
    assert!(!answer.text().contains("TOP-SECRET"));
}

#[test]
fn unknown_paths_get_the_ui_and_missing_assets_404() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    for route in ["/", "/notebooks", "/notebooks/notebook:abc", "/settings/keys"] {
        let answer = raw(proxy.port, &format!("GET {route} HTTP/1.1\nHost: x"), b"");
        assert_eq!(answer.status, 200, "{route}");
        assert!(answer.header("content-type").unwrap().starts_with("text/html"), "{route}");
        assert!(answer.text().contains("ephitup UI"), "{route}");
    }
    assert_eq!(raw(proxy.port, "GET /js/missing.js HTTP/1.1\nHost: x", b"").status, 404);
    let post = raw(proxy.port, "POST /notebooks HTTP/1.1\nHost: x\nContent-Length: 0", b"");
    assert_eq!(post.status, 405);
    let health = raw(proxy.port, "GET /healthz HTTP/1.1\nHost: x", b"");
    assert_eq!((health.status, health.text().as_str()), (200, r#"{"status":"ok"}"#));
}

#[test]
fn assets_carry_types_validators_cache_rules_and_compression() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    let get = |head: &str| raw(proxy.port, head, b"");

    let module = get("GET /js/app.js HTTP/1.1\nHost: x");
    assert_eq!(module.status, 200);
    assert!(module.header("content-type").unwrap().contains("javascript"));
    assert_eq!(module.header("cache-control"), Some("no-cache"));
    let etag = module.header("etag").expect("etag").to_string();
    let modified = module.header("last-modified").expect("last-modified").to_string();

    let by_tag = get(&format!("GET /js/app.js HTTP/1.1\nHost: x\nIf-None-Match: {etag}"));
    assert_eq!(by_tag.status, 304);
    assert!(by_tag.body.is_empty());
    let by_date = get(&format!("GET /js/app.js HTTP/1.1\nHost: x\nIf-Modified-Since: {modified}"));
    assert_eq!(by_date.status, 304);
    let changed = get("GET /js/app.js HTTP/1.1\nHost: x\nIf-None-Match: W/\"other\"");
    assert_eq!(changed.status, 200);

    let hashed = get("GET /js/app.0123abcd.js HTTP/1.1\nHost: x");
    assert_eq!(hashed.header("cache-control"), Some("public, max-age=31536000, immutable"));

    let css = get("GET /style.css HTTP/1.1\nHost: x");
    assert!(css.header("content-type").unwrap().starts_with("text/css"));

    let gzip = get("GET /js/app.js HTTP/1.1\nHost: x\nAccept-Encoding: gzip");
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.header("vary").unwrap().to_ascii_lowercase().contains("accept-encoding"));
    assert!(gzip.body.len() < module.body.len(), "compressed {} vs {}", gzip.body.len(), module.body.len());
    let brotli = get("GET /js/app.js HTTP/1.1\nHost: x\nAccept-Encoding: gzip, br");
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    let refused = get("GET /js/app.js HTTP/1.1\nHost: x\nAccept-Encoding: br;q=0, identity");
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.body, module.body);
    let head = get("HEAD /js/app.js HTTP/1.1\nHost: x");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some(module.body.len().to_string().as_str()));
    assert!(head.body.is_empty());
}

#[test]
fn a_changed_file_is_served_fresh_and_large_files_stream_with_ranges() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    let public = proxy.web.path().join("public");
    let first = raw(proxy.port, "GET /style.css HTTP/1.1\nHost: x", b"");
    std::fs::write(public.join("style.css"), "body { margin: 1px; color: red }\n").unwrap();
    let second = raw(proxy.port, "GET /style.css HTTP/1.1\nHost: x", b"");
    assert_eq!(second.text(), "body { margin: 1px; color: red }\n");
    assert_ne!(first.header("etag"), second.header("etag"));

    // Past the in-memory limit: streamed from disk, ranges honoured.
    let big: Vec<u8> = (0..3 * CHUNK).map(|i| (i % 251) as u8).collect();
    std::fs::write(public.join("big.bin"), &big).unwrap();
    let whole = raw(proxy.port, "GET /big.bin HTTP/1.1\nHost: x", b"");
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, big);
    let part = raw(proxy.port, "GET /big.bin HTTP/1.1\nHost: x\nRange: bytes=1000-1999", b"");
    assert_eq!(part.status, 206);
    assert_eq!(part.body, big[1000..2000]);
}

#[test]
fn sigterm_stops_the_proxy_cleanly() {
    let mut proxy = Proxy::start("http://127.0.0.1:9");
    let status = proxy.terminate();
    assert!(status.success(), "{status:?}\n{}", proxy.log());
}

/// Logins for 25 different accounts, each claiming another address in `X-Forwarded-For`,
/// through the proxy to the real API: the proxy forwards the address it saw, so the API's
/// per-address limit (10, then one every 6 s) still stops them.
#[test]
fn a_rotated_forwarded_for_does_not_dodge_the_login_limit() {
    let api_port = free_port();
    let _api = TestApi::start_on(api_port);
    let proxy = Proxy::start(&format!("http://127.0.0.1:{api_port}"));
    // All at once, so no allowance comes back in between, however slow the machine is.
    let port = proxy.port;
    let attempts: Vec<_> = (0..25)
        .map(|i| {
            std::thread::spawn(move || {
                let body = format!(r#"{{"email":"user{i}@example.com","password":"Wrong!pass1"}}"#);
                let head = format!(
                    "POST /api/auth/login HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: {}\n\
                     X-Forwarded-For: 203.0.113.{i}",
                    body.len()
                );
                raw(port, &head, body.as_bytes()).status
            })
        })
        .collect();
    let mut statuses: Vec<u16> = attempts.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    // Ten for the one address the proxy saw; the rest refused (none were before: 25 × 401).
    assert_eq!(statuses, [vec![401; 10], vec![429; 15]].concat(), "{}", proxy.log());
}

#[test]
fn a_request_without_one_host_is_400() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    for head in ["GET / HTTP/1.1", "GET /api/health HTTP/1.1", "GET / HTTP/1.1\nHost: a\nHost: b"] {
        let answer = raw(proxy.port, head, b"");
        assert_eq!(answer.status, 400, "{head}: {}", answer.text());
        assert!(answer.text().contains("Host"), "{}", answer.text());
    }
    // HTTP/1.0 has no Host requirement.
    assert_eq!(raw(proxy.port, "GET / HTTP/1.0", b"").status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_chunked_body_is_400_not_502() {
    let port = upstream(|req: Request<Incoming>| async move {
        let read = req.into_body().collect().await;
        Response::new(full(if read.is_ok() { "read" } else { "broken" }))
    })
    .await;
    let proxy = Proxy::start(&format!("http://127.0.0.1:{port}"));
    let proxy_port = proxy.port;
    let answer = tokio::task::spawn_blocking(move || {
        raw(
            proxy_port,
            "POST /api/upload HTTP/1.1\nHost: x\nContent-Type: text/plain\nTransfer-Encoding: chunked",
            b"5\r\nhello\r\nzz-not-a-size\r\nmore\r\n0\r\n\r\n",
        )
    })
    .await
    .unwrap();
    assert_eq!(answer.status, 400, "{}\n{}", answer.text(), proxy.log());
    let detail: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(detail["detail"].as_str().unwrap().contains("body"), "{detail}");
}

#[test]
fn the_ui_is_served_with_security_headers() {
    let proxy = Proxy::start("http://127.0.0.1:9");
    for path in ["/", "/notebooks/x", "/js/app.js", "/js/missing.js"] {
        let answer = raw(proxy.port, &format!("GET {path} HTTP/1.1\nHost: x"), b"");
        let csp = answer.header("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
        for directive in ["default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(directive), "{path}: {directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
    }
}

/// The policy forbids inline scripts, inline styles and handler attributes: the real UI's
/// files use none (the browser test, `scripts/browser-test`, runs them under the policy).
#[test]
fn the_ui_files_need_nothing_the_policy_forbids() {
    let public = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../web/public");
    let mut files = vec![public.join("index.html")];
    let mut dirs = vec![public.join("js")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 3, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap().to_ascii_lowercase();
        let name = file.display();
        if file.extension().is_some_and(|e| e == "html") {
            for (at, _) in text.match_indices("<script") {
                let tag = &text[at..at + text[at..].find('>').unwrap()];
                assert!(tag.contains(" src="), "{name}: an inline script: {tag}");
            }
            assert!(!text.contains("<style") && !text.contains(" style="), "{name}: an inline style");
            let handler = text.split(|c: char| c.is_whitespace()).any(|word| {
                word.starts_with("on")
                    && word.contains('=')
                    && word[2..word.find('=').unwrap()].chars().all(|c| c.is_ascii_alphabetic())
            });
            assert!(!handler, "{name}: an inline event handler attribute");
        } else {
            for forbidden in ["eval(", "new function", "setattribute(\"style", "\"style\":", "style:"] {
                assert!(!text.contains(forbidden), "{name} uses `{forbidden}`, which the policy blocks or we avoid");
            }
        }
    }
}
