//! Harness for the proxy's tests: the real `ephitup-proxy` binary on a free port, a web root
//! fixture, a stand-in upstream (a small hyper server playing the API, for what the real API
//! cannot show: bodies held back on purpose, odd headers), and raw HTTP/1.1 over TCP for
//! requests a client library would normalise.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::pin::Pin;
use std::task::{Context, Poll};

use ephitup_testkit::{free_port, http_ok};
use hyper::body::{Body, Bytes, Frame};
use tokio::sync::mpsc;

/// A running `ephitup-proxy`.
pub struct Proxy {
    pub port: u16,
    pub web: tempfile::TempDir,
    child: Child,
    log: std::path::PathBuf,
}

impl Proxy {
    /// Starts the proxy in front of `api_url`, serving a fresh fixture web root.
    pub fn start(api_url: &str) -> Proxy {
        let web = web_fixture();
        let port = free_port();
        let log = web.path().join("proxy.log");
        // The binary beside this test's build (where CARGO_BIN_EXE points in a plain run).
        let child = Command::new(ephitup_testkit::workspace_bin("ephitup-proxy"))
            .env("PROXY_BIND", format!("127.0.0.1:{port}"))
            .env("INTERNAL_API_URL", api_url)
            .env("WEB_ROOT", web.path().join("public"))
            .env("PROXY_CONNECT_TIMEOUT", "1s")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn ephitup-proxy");
        let mut proxy = Proxy { port, web, child, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !http_ok(port, "/healthz") {
            assert!(proxy.child.try_wait().expect("try_wait").is_none(), "proxy exited:\n{}", proxy.log());
            assert!(Instant::now() < deadline, "proxy not ready:\n{}", proxy.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        proxy
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "proxy did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tmp/public` (the web root: index.html, a plain and a hashed module, a stylesheet) next to
/// `tmp/secret.txt`, which no request may reach.
pub fn web_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let public = dir.path().join("public");
    std::fs::create_dir_all(public.join("js")).expect("mkdir");
    let write = |path: &Path, text: &str| std::fs::write(path, text).expect("write fixture");
    write(&public.join("index.html"), "<!doctype html><title>ephitup UI</title><div id=app></div>");
    let module = format!("export const answer = 42;\n{}", "// padding so the file is worth compressing\n".repeat(50));
    write(&public.join("js/app.js"), &module);
    write(&public.join("js/app.0123abcd.js"), &module);
    write(&public.join("style.css"), "body { margin: 0 }\n");
    write(&dir.path().join("secret.txt"), "TOP-SECRET");
    dir
}

/// A raw response.
#[derive(Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `head` (request line and headers, without the final blank line; `Connection: close`
/// is added) and `body` as is, and reads the whole answer.
pub fn raw(port: u16, head: &str, body: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut request = head.trim_end().replace('\n', "\r\n").replace("\r\r", "\r");
    request.push_str("\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    stream.write_all(body).expect("write body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    parse(&answer)
}

fn parse(answer: &[u8]) -> Raw {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head");
    let head = String::from_utf8_lossy(&answer[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let mut headers = HashMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let rest = &answer[end + 4..];
    let body = if headers.get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Raw { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else { return out };
        let size_text = String::from_utf8_lossy(&data[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).expect("chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// A body fed chunk by chunk by the test (ends when the sender is dropped).
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

/// A sender and the body it feeds (two chunks of room: the sender waits for the reader).
pub fn channel() -> (mpsc::Sender<Bytes>, ephitup_proxy::body::ProxyBody) {
    let (tx, rx) = mpsc::channel(2);
    (tx, ephitup_proxy::body::boxed(ChannelBody(rx)))
}
