//! Reads one output pipe of one service instance and turns it into whole lines for the sink.
//!
//! Reads are large (the pipe is also enlarged) and each read becomes one chunk of formatted
//! lines, so the cost per line is a `memchr` and a copy. A line longer than `max_line` is
//! relayed in pieces; a partial last line is held until its newline arrives, the pipe closes,
//! or it has waited `PARTIAL_FLUSH`, so a prompt without a newline still shows.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::bytes::Regex;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::file::RotatingFile;
use super::format::{LineFormat, timestamp};
use super::lines::{for_each_line, prefix_lines};
use super::recent::RecentLogs;
use super::sink::{Chunk, LogSink, Stream};

const READ_SIZE: usize = 256 * 1024;
const PIPE_SIZE: i32 = 1 << 20;
const PARTIAL_FLUSH: Duration = Duration::from_millis(200);

/// A log-line readiness probe: set to true the first time a line matches.
#[derive(Debug, Clone)]
pub struct LineWatch {
    pub pattern: Regex,
    pub matched: watch::Sender<bool>,
}

/// Where the lines of one stream go and how they look.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    pub sink: Arc<LogSink>,
    pub format: LineFormat,
    pub stream: Stream,
    pub file: Option<Arc<Mutex<RotatingFile>>>,
    pub max_line: usize,
    pub watch: Option<LineWatch>,
    /// Also keep the plain lines in memory for `ephitup logs`.
    pub recent: Option<RecentTarget>,
}

/// Where a relay keeps its plain lines for `ephitup logs`.
#[derive(Debug, Clone)]
pub struct RecentTarget {
    pub logs: Arc<RecentLogs>,
    pub service: Arc<str>,
    pub label: Arc<str>,
}

/// Relays until the pipe closes (the service and everything holding its output exited).
pub async fn relay(fd: OwnedFd, target: RelayTarget) {
    enlarge_pipe(&fd);
    let mut pipe = match tokio::net::unix::pipe::Receiver::from_owned_fd(fd) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("cannot read service output: {e}");
            return;
        }
    };
    let mut lines = LineBuffer::new(target);
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let read = if lines.has_partial() {
            match tokio::time::timeout(PARTIAL_FLUSH, pipe.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => {
                    lines.flush_partial().await;
                    continue;
                }
            }
        } else {
            pipe.read(&mut buf).await
        };
        match read {
            Ok(0) => break,
            Ok(n) => lines.feed(&buf[..n]).await,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!("reading service output: {e}");
                break;
            }
        }
    }
    lines.flush_partial().await;
}

#[cfg(target_os = "linux")]
fn enlarge_pipe(fd: &OwnedFd) {
    // Best effort: a bigger pipe means fewer wake-ups; the default still works.
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
}

#[cfg(not(target_os = "linux"))]
fn enlarge_pipe(_fd: &OwnedFd) {}

/// Cuts bytes into lines and hands formatted batches to the sink.
struct LineBuffer {
    target: RelayTarget,
    /// Bytes of a line whose newline has not arrived yet.
    partial: Vec<u8>,
}

impl LineBuffer {
    fn new(target: RelayTarget) -> Self {
        Self { target, partial: Vec::new() }
    }

    fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }

    async fn feed(&mut self, bytes: &[u8]) {
        let ts = match self.target.format {
            LineFormat::Json { .. } => timestamp(),
            LineFormat::Pretty { .. } => String::new(),
        };
        let mut console = self.target.sink.buffer();
        console.reserve(bytes.len() * 2 + 256);
        let mut file = self.target.file.as_ref().map(|_| Vec::with_capacity(bytes.len()));
        let mut rest = bytes;
        // The plain lines for `ephitup logs`: one copy per read, no per-line work.
        let mut recent = self.target.recent.as_ref().map(|_| Vec::with_capacity(bytes.len()));
        // First, the end of a line begun in an earlier read.
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(nl) => {
                    let mut whole = std::mem::take(&mut self.partial);
                    whole.extend_from_slice(&rest[..nl]);
                    if let Some(r) = recent.as_mut() {
                        r.extend_from_slice(&whole);
                        r.push(b'\n');
                    }
                    self.emit(&mut console, file.as_mut(), &whole, &ts);
                    rest = &rest[nl + 1..];
                }
                None => {
                    self.partial.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        let complete = memchr::memrchr(b'\n', rest).map_or(0, |last| last + 1);
        let (lines, tail) = rest.split_at(complete);
        if let Some(r) = recent.as_mut() {
            r.extend_from_slice(lines);
        }
        match &self.target.format {
            // The common case, kept tight: prefix and line copied as they are.
            // Bytes pass through as they are (a `\r` too); only over-long lines take the slow path.
            LineFormat::Pretty { prefix } if file.is_none() && self.target.watch.is_none() => {
                prefix_lines(&mut console, prefix, lines, self.target.max_line, |out, line| {
                    self.emit(out, None, line, &ts)
                });
            }
            _ => {
                for_each_line(lines, |start, end| self.emit(&mut console, file.as_mut(), &lines[start..end], &ts));
            }
        }
        self.partial.extend_from_slice(tail);
        // An over-long line is relayed in pieces rather than held without bound.
        while self.partial.len() >= self.target.max_line {
            let rest = self.partial.split_off(self.target.max_line);
            let piece = std::mem::replace(&mut self.partial, rest);
            self.target.format.push(&mut console, &piece, &ts, true);
            if let Some(f) = file.as_mut() {
                f.extend_from_slice(&piece);
                f.push(b'\n');
            }
            if let Some(r) = recent.as_mut() {
                r.extend_from_slice(&piece);
                r.push(b'\n');
            }
        }
        self.keep(recent);
        self.send(console, file).await;
    }

    fn emit(&self, console: &mut Vec<u8>, file: Option<&mut Vec<u8>>, line: &[u8], ts: &str) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut rest = line;
        // Complete lines over the limit are cut too, each piece marked.
        while rest.len() > self.target.max_line {
            let (piece, tail) = rest.split_at(self.target.max_line);
            self.target.format.push(console, piece, ts, true);
            rest = tail;
        }
        self.target.format.push(console, rest, ts, false);
        if let Some(f) = file {
            f.extend_from_slice(line);
            f.push(b'\n');
        }
        if let Some(w) = &self.target.watch {
            if !*w.matched.borrow() && w.pattern.is_match(line) {
                w.matched.send_replace(true);
            }
        }
    }

    async fn flush_partial(&mut self) {
        if self.partial.is_empty() {
            return;
        }
        let ts = timestamp();
        let line = std::mem::take(&mut self.partial);
        let mut console = self.target.sink.buffer();
        let mut file = self.target.file.as_ref().map(|_| Vec::new());
        self.emit(&mut console, file.as_mut(), &line, &ts);
        let mut recent = line;
        recent.push(b'\n');
        self.keep(Some(recent));
        self.send(console, file).await;
    }

    fn keep(&self, lines: Option<Vec<u8>>) {
        if let (Some(target), Some(lines)) = (&self.target.recent, lines) {
            target.logs.record(&target.service, &target.label, self.target.stream, lines);
        }
    }

    async fn send(&self, console: Vec<u8>, file: Option<Vec<u8>>) {
        if console.is_empty() {
            return;
        }
        let file = match (&self.target.file, file) {
            (Some(f), Some(bytes)) if !bytes.is_empty() => Some((Arc::clone(f), bytes)),
            _ => None,
        };
        self.target.sink.send(Chunk { stream: self.target.stream, console, file }).await;
    }
}
