#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `process_source` with a real worker: each kind of source gets its text and title; a link
//! to a loopback address is refused unless the worker is told private links are fine.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use ephitup_store::records::Asset;
use ephitup_store::repo::sources::{self, NewSource};
use ephitup_testkit::TestDb;
use serde_json::Value;
use support::{Worker, connect, status, user, wait_job};

const ARGS: &[&str] = &["--poll-interval", "200ms"];

struct Setup {
    _db: TestDb,
    data: tempfile::TempDir,
    conn: ephitup_store::Db,
    owner: String,
    _worker: Worker,
}

async fn setup(extra: &[&str]) -> Setup {
    let db = TestDb::start_migrated();
    let data = tempfile::tempdir().unwrap();
    let conn = connect(&db).await;
    let owner = user(&conn, "s@example.com").await;
    let args: Vec<&str> = ARGS.iter().chain(extra).copied().collect();
    let worker = Worker::start(&db, data.path(), "w", &args, &[]);
    Setup { _db: db, data, conn, owner, _worker: worker }
}

impl Setup {
    /// Creates a source as the API does and waits for its job to end; returns (job, detail).
    async fn process(&self, kind: &str, title: Option<&str>, content: Option<&str>, asset: Asset) -> (Value, Value) {
        let new = NewSource {
            kind: kind.into(),
            title: title.map(Into::into),
            content: content.map(Into::into),
            asset,
            ..NewSource::default()
        };
        let source = sources::create(&self.conn, &self.owner, new).await.unwrap();
        let job_id = source.command_id.clone().unwrap();
        let job =
            wait_job(&self.conn, &job_id, Duration::from_secs(60), |j| !["new", "running"].contains(&status(j))).await;
        let detail = sources::detail(&self.conn, &self.owner, &source.id).await.unwrap();
        (job, serde_json::to_value(detail).unwrap())
    }

    /// Writes an upload where the API would; returns its path relative to DATA_PATH.
    fn upload(&self, name: &str, bytes: &[u8]) -> Asset {
        let key = self.owner.trim_start_matches("user:");
        let relative = format!("uploads/{key}/{name}");
        let path = self.data.path().join(&relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        Asset { url: None, file_path: Some(relative) }
    }
}

/// A one-page PDF showing `text` in Helvetica, with a correct cross-reference table.
fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

/// Serves one HTML page on 127.0.0.1 to any number of requests; returns its URL.
fn serve_page(html: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/article")
}

const PAGE: &str = "<html><head><title>Queues explained</title></head><body><h1>Leases</h1>\
                    <p>A lease <em>expires</em> when its worker dies.</p><script>alert(1)</script></body></html>";

#[tokio::test(flavor = "multi_thread")]
async fn text_markdown_html_and_pdf_sources_get_their_text_and_title() {
    let s = setup(&[]).await;

    let (job, src) = s.process("text", None, Some("# Meeting notes\nWe ship on Friday."), Asset::default()).await;
    assert_eq!(status(&job), "completed", "{job}");
    assert_eq!(src["title"], "Meeting notes");
    assert!(src["full_text"].as_str().unwrap().contains("ship on Friday"));

    let asset = s.upload("a1b2.md", b"## Design\nThe worker claims atomically.");
    let (job, src) = s.process("upload", Some("My design doc"), None, asset).await;
    assert_eq!(status(&job), "completed", "{job}");
    assert_eq!(src["title"], "My design doc", "the user's own title is kept");
    assert!(src["full_text"].as_str().unwrap().contains("claims atomically"));

    let (job, src) = s.process("upload", None, None, s.upload("c3d4.html", PAGE.as_bytes())).await;
    assert_eq!(status(&job), "completed", "{job}");
    assert_eq!(src["title"], "Queues explained");
    let text = src["full_text"].as_str().unwrap();
    assert!(text.contains("expires") && !text.contains("<em>"), "{text}");

    let (job, src) = s.process("upload", None, None, s.upload("e5f6.pdf", &pdf("Hello from a PDF"))).await;
    assert_eq!(status(&job), "completed", "{job}");
    assert!(src["full_text"].as_str().unwrap().contains("Hello from a PDF"), "{src}");

    let (job, _) = s.process("upload", None, None, s.upload("bad.pdf", b"%PDF-1.4 not really")).await;
    assert_eq!(status(&job), "failed", "{job}");
    assert!(job["error_message"].as_str().unwrap().contains("PDF"), "{job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_to_a_loopback_address_is_refused() {
    let s = setup(&[]).await;
    let url = serve_page(PAGE);
    let (job, src) = s.process("link", None, None, Asset { url: Some(url), file_path: None }).await;
    assert_eq!(status(&job), "failed", "{job}");
    assert!(job["error_message"].as_str().unwrap().contains("private or local addresses are refused"), "{job}");
    assert!(src["full_text"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_is_fetched_and_read_when_private_links_are_allowed() {
    let s = setup(&["--allow-private-links"]).await;
    let url = serve_page(PAGE);
    let (job, src) = s.process("link", None, None, Asset { url: Some(url), file_path: None }).await;
    assert_eq!(status(&job), "completed", "{job}");
    assert_eq!(src["title"], "Queues explained");
    assert!(src["full_text"].as_str().unwrap().contains("when its worker dies"), "{src}");
}

/// About `bytes` of English-like text: sentences of words drawn (deterministically) from a
/// vocabulary, in paragraphs, so the tokenizer sees a realistic mix.
fn long_text(bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "lease",
        "worker",
        "queue",
        "expires",
        "notebook",
        "source",
        "chunk",
        "window",
        "token",
        "overlap",
        "database",
        "index",
        "vector",
        "search",
        "answer",
        "question",
        "citation",
        "transaction",
        "memory",
        "limit",
        "container",
        "render",
        "supervisor",
        "restart",
        "signal",
        "backoff",
        "heartbeat",
        "progress",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut text = String::with_capacity(bytes + 64);
    let mut n = 0;
    while text.len() < bytes {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        text.push_str(WORDS[(seed >> 33) as usize % WORDS.len()]);
        n += 1;
        text.push_str(match n % 97 {
            0 => ".\n\n",
            k if k % 13 == 0 => ". ",
            _ => " ",
        });
    }
    text
}

/// A text source of 2 MiB (the largest text a source form sends is far less; a long PDF's text
/// is of this size) is cut into its ~900 chunks inside the worker's memory limit: the worker
/// must not hold the text, its tokens and its chunks many times over at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_text_is_chunked_without_many_copies_of_it_in_memory() {
    let s = setup(&[]).await;
    let pid = s._worker.child.as_ref().unwrap().id();
    let text = long_text(2 << 20);
    // Warm up: the tokenizer's tables and the code paths are loaded once, by a short source.
    let (job, _) = s.process("text", Some("warm-up"), Some(&long_text(40 << 10)), Asset::default()).await;
    assert_eq!(status(&job), "completed", "{job}");
    let before = ephitup_testkit::status_kib(pid, "VmRSS");

    let (job, src) = s.process("text", Some("A long one"), Some(&text), Asset::default()).await;
    assert_eq!(status(&job), "completed", "{job}");
    let peak = ephitup_testkit::status_kib(pid, "VmHWM");
    let chunks = job["result"]["chunks"].as_u64().unwrap();
    assert!(chunks > 500, "{job}");
    let mut stored = s
        .conn
        .query("RETURN count(SELECT id FROM chunk WHERE item = type::record($id))")
        .bind(("id", src["id"].as_str().unwrap().to_string()))
        .await
        .unwrap();
    let stored: Option<u64> = stored.take(0).unwrap();
    assert_eq!(stored, Some(chunks), "every chunk is stored");

    // The text is 2 MiB: its tokens (4 bytes each, ~500,000) and chunks (the text again, with
    // overlap) are a few MiB more. Growth beyond 6 copies of it means copies are kept.
    let grown_mib = peak.saturating_sub(before) / 1024;
    eprintln!("worker: {before} KiB before, peak {peak} KiB, {chunks} chunks");
    assert!(grown_mib <= 12, "the worker grew by {grown_mib} MiB for a text of 2 MiB ({chunks} chunks)");
}
