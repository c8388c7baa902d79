//! The recent output of every service, kept in memory for `ephitup logs` and followers.
//!
//! Relays hand over each read's whole lines as one chunk (no per-line work on the hot path);
//! each service keeps chunks up to a byte budget, oldest dropped first. A broadcast channel
//! carries new chunks to followers; a follower too slow for it misses chunks (and is told),
//! it never slows a service down.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use super::sink::Stream;

/// Bytes of output kept per service.
const KEPT_PER_SERVICE: usize = 256 * 1024;
/// Chunks a follower may lag behind before it misses some.
const FOLLOW_QUEUE: usize = 1024;

/// Whole lines of one read of one instance's stream.
#[derive(Debug)]
pub struct RecentChunk {
    /// Order across all services.
    pub seq: u64,
    pub service: Arc<str>,
    /// `name` or `name.N`.
    pub label: Arc<str>,
    pub stream: Stream,
    /// Lines, each ending in `\n`.
    pub bytes: Vec<u8>,
}

impl RecentChunk {
    /// The chunk as `label | line` text lines.
    pub fn render(&self, out: &mut String) {
        for line in String::from_utf8_lossy(&self.bytes).lines() {
            out.push_str(&self.label);
            out.push_str(" | ");
            out.push_str(line);
            out.push('\n');
        }
    }
}

#[derive(Debug, Default)]
struct Kept {
    chunks: VecDeque<Arc<RecentChunk>>,
    bytes: usize,
}

/// Recent output of every service, and the feed of new output.
#[derive(Debug)]
pub struct RecentLogs {
    kept: Mutex<HashMap<String, Kept>>,
    seq: AtomicU64,
    feed: broadcast::Sender<Arc<RecentChunk>>,
}

impl Default for RecentLogs {
    fn default() -> Self {
        Self { kept: Mutex::default(), seq: AtomicU64::new(0), feed: broadcast::channel(FOLLOW_QUEUE).0 }
    }
}

impl RecentLogs {
    /// Keeps one read's whole lines (cheap: names are shared, no per-line work).
    pub fn record(&self, service: &Arc<str>, label: &Arc<str>, stream: Stream, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let chunk = Arc::new(RecentChunk {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            service: Arc::clone(service),
            label: Arc::clone(label),
            stream,
            bytes,
        });
        {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            if !kept.contains_key(&**service) {
                kept.insert(service.to_string(), Kept::default());
            }
            let Some(entry) = kept.get_mut(&**service) else { return };
            entry.bytes += chunk.bytes.len();
            entry.chunks.push_back(Arc::clone(&chunk));
            while entry.bytes > KEPT_PER_SERVICE && entry.chunks.len() > 1 {
                if let Some(old) = entry.chunks.pop_front() {
                    entry.bytes -= old.bytes.len();
                }
            }
        }
        // Nobody following is the usual case, not an error.
        let _ = self.feed.send(chunk);
    }

    /// The last `lines` lines of `service` (all services when `None`), oldest first, as text.
    pub fn tail(&self, service: Option<&str>, lines: usize) -> String {
        let mut chunks: Vec<Arc<RecentChunk>> = {
            let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            kept.iter()
                .filter(|(name, _)| service.is_none_or(|s| s == name.as_str()))
                .flat_map(|(_, k)| k.chunks.iter().cloned())
                .collect()
        };
        chunks.sort_by_key(|c| c.seq);
        let mut text = String::new();
        for c in &chunks {
            c.render(&mut text);
        }
        let all: Vec<&str> = text.lines().collect();
        let from = all.len().saturating_sub(lines);
        let mut out = all[from..].join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// The last `lines` lines of one instance (`label`) of `service`, oldest first, without
    /// prefix: what its exit is remembered with.
    pub fn last_lines(&self, service: &str, label: &str, lines: usize) -> Vec<String> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = kept.get(service) else { return Vec::new() };
        let mut out = Vec::with_capacity(lines);
        // Newest chunk first, each chunk's lines newest first, then turned around.
        for chunk in entry.chunks.iter().rev().filter(|c| &*c.label == label) {
            for line in String::from_utf8_lossy(&chunk.bytes).lines().rev() {
                if out.len() == lines {
                    break;
                }
                out.push(line.to_string());
            }
            if out.len() == lines {
                break;
            }
        }
        out.reverse();
        out
    }

    pub fn follow(&self) -> broadcast::Receiver<Arc<RecentChunk>> {
        self.feed.subscribe()
    }

    /// Forgets a service that left the set.
    pub fn forget(&self, service: &str) {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner).remove(service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_order_and_budget() {
        let logs = RecentLogs::default();
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        logs.record(&a, &a, Stream::Stdout, b"one\ntwo\n".to_vec());
        logs.record(&b, &b, Stream::Stderr, b"three\n".to_vec());
        logs.record(&a, &a, Stream::Stdout, b"four\n".to_vec());
        assert_eq!(logs.tail(None, 10), "a | one\na | two\nb | three\na | four\n");
        assert_eq!(logs.tail(Some("a"), 2), "a | two\na | four\n");
        assert_eq!(logs.tail(Some("c"), 2), "");
        let big = vec![b'x'; 1000];
        for _ in 0..1000 {
            let mut line = big.clone();
            line.push(b'\n');
            logs.record(&a, &a, Stream::Stdout, line);
        }
        assert!(logs.tail(Some("a"), usize::MAX).len() < KEPT_PER_SERVICE + 10_000);
    }

    #[test]
    fn last_lines_of_one_instance() {
        let logs = RecentLogs::default();
        let (s, a, b): (Arc<str>, Arc<str>, Arc<str>) = (Arc::from("s"), Arc::from("s.0"), Arc::from("s.1"));
        logs.record(&s, &a, Stream::Stdout, b"1\n2\n3\n".to_vec());
        logs.record(&s, &b, Stream::Stdout, b"other\n".to_vec());
        logs.record(&s, &a, Stream::Stderr, b"4\n5\n".to_vec());
        assert_eq!(logs.last_lines("s", "s.0", 4), ["2", "3", "4", "5"]);
        assert_eq!(logs.last_lines("s", "s.0", 10), ["1", "2", "3", "4", "5"]);
        assert_eq!(logs.last_lines("s", "s.1", 10), ["other"]);
        assert!(logs.last_lines("t", "t", 10).is_empty());
    }
}
