//! `ephitup-fake-ai`: a local stand-in for an OpenAI-compatible provider, for tests and smoke
//! scripts (Rust, shell, node). It speaks the real HTTP protocol of the two endpoints the app
//! uses and records every request, so a test can assert which key, path and model were used.
//!
//! - `POST /v1/chat/completions` (JSON mode): a request whose messages mention "transcript"
//!   gets `{"transcript": [{speaker, dialogue}]}` (speakers from a `Speakers: A, B` line of the
//!   prompt, else Host and Guest), any other an outline `{"segments": [{name, description,
//!   size}]}`. Answers come wrapped in a `<think>` block and a code fence, as some models do.
//!   A request without `response_format` (plain text, as transformations ask) gets
//!   `Output of <model>: <the start of the user message>` after a `<think>` block; the log
//!   keeps its system message (`system`) so a test can check the prompt.
//!   With `stream: true` the answer is streamed as server-sent events, one word a chunk
//!   (`--stream-delay-ms` apart; the first after the same delay), then `data: [DONE]`: `Answer of
//!   <model>: ` and the start of the last user message, citing the first `## [source:…]` or
//!   `## [note:…]` heading of the system message's context (recorded as `kind: "stream"`). A JSON-mode request
//!   asking for `"searches"` gets a search plan `{reasoning, searches: [{term, instructions}]}`
//!   (terms: the longest words of the question).
//! - `POST /v1/embeddings`: deterministic vectors of `--embedding-dim` dimensions (a bag of
//!   the input's words hashed into the dimensions, normalised: texts sharing words are near),
//!   recorded with `inputs` (how many).
//! - `POST /v1/audio/speech`: MP3 bytes (an ID3v2 tag, then 1 to 3 silent MPEG-1 Layer III
//!   frames, the count cycling per call and recorded as `frames`).
//! - `GET /_requests`: the log, `[{path, key, model, voice, frames, status}]`.
//! - `POST /_control` `{fail_next, fail_status, always_fail_status, require_max_completion_tokens}`:
//!   fail the next N model calls with a status (500 by default; 429 possible), or all of them.
//!
//! Every call needs `Authorization: Bearer <--key>` (401 otherwise, still recorded).
//! Prints `listening on 127.0.0.1:<port>` once ready.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test tool: a poisoned lock is a bug

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser;
use futures::StreamExt;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(name = "ephitup-fake-ai", about = "A local stand-in for an OpenAI-compatible AI provider (tests only).")]
struct Cli {
    /// Port on 127.0.0.1 (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The API key callers must present as `Authorization: Bearer <key>`.
    #[arg(long, default_value = "sk-fake")]
    key: String,
    /// Segments in an outline.
    #[arg(long, default_value_t = 3)]
    segments: usize,
    /// Dialogue lines per transcript answer.
    #[arg(long, default_value_t = 2)]
    lines: usize,
    /// Dimensions of the embeddings.
    #[arg(long, default_value_t = 32)]
    embedding_dim: usize,
    /// Pause before each streamed piece of an answer (the stand-in's own latency).
    #[arg(long, default_value_t = 0)]
    stream_delay_ms: u64,
}

#[derive(Default)]
struct Knobs {
    fail_next: u64,
    fail_status: u16,
    always_fail_status: Option<u16>,
    require_max_completion_tokens: bool,
}

struct Fake {
    cli: Cli,
    log: Mutex<Vec<Value>>,
    knobs: Mutex<Knobs>,
    speech_calls: Mutex<u64>,
}

type Shared = Arc<Fake>;

/// One silent MPEG-1 Layer III frame: 128 kbps, 44.1 kHz, joint stereo, 417 bytes (the zero
/// side information makes every granule silence).
fn silent_frame() -> Vec<u8> {
    let mut frame = vec![0u8; 417];
    frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x64]);
    frame
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"message": message, "type": "invalid_request_error"}}))).into_response()
}

impl Fake {
    /// Records the request; returns the response to give instead of a success, if any.
    fn check(&self, path: &str, headers: &HeaderMap, body: &Value, extra: Value) -> Option<Response> {
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        let mut knobs = self.knobs.lock().unwrap();
        let (status, answer) = if key != self.cli.key {
            (401, Some(error(StatusCode::UNAUTHORIZED, "Incorrect API key provided")))
        } else if let Some(s) = knobs.always_fail_status {
            (s, Some(error(StatusCode::from_u16(s).unwrap(), "the stand-in is told to fail")))
        } else if knobs.fail_next > 0 {
            knobs.fail_next -= 1;
            let s = knobs.fail_status.max(400);
            (s, Some(error(StatusCode::from_u16(s).unwrap(), "the stand-in is told to fail")))
        } else if knobs.require_max_completion_tokens && body.get("max_tokens").is_some() {
            let m = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
            (400, Some(error(StatusCode::BAD_REQUEST, m)))
        } else {
            (200, None)
        };
        let mut entry = json!({"path": path, "key": key, "model": body.get("model"), "status": status});
        if let (Some(e), Some(x)) = (entry.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        self.log.lock().unwrap().push(entry);
        answer
    }
}

async fn chat(State(fake): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let text = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if body.get("response_format").is_none() {
        let message = |role: &str| {
            body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["role"] == role)
                .filter_map(|m| m["content"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (system, user) = (message("system"), message("user"));
        if body["stream"] == json!(true) {
            return stream(&fake, &headers, &body, &system).await;
        }
        let extra = json!({"kind": "text", "system": system});
        if let Some(refusal) = fake.check("/v1/chat/completions", &headers, &body, extra) {
            return refusal;
        }
        let start: String = user.chars().take(60).collect();
        let model = body["model"].as_str().unwrap_or_default();
        let content = format!("<think>\nLet me read it.\n</think>\n\nOutput of {model}: {start}");
        return completion(&body, &content);
    }
    if text.contains("\"searches\"") {
        if let Some(refusal) = fake.check("/v1/chat/completions", &headers, &body, json!({"kind": "strategy"})) {
            return refusal;
        }
        let question = last_user(&body);
        let mut words: Vec<&str> = question.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 3).collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        words.dedup();
        let searches: Vec<Value> = words
            .iter()
            .take(2)
            .map(|w| json!({"term": w, "instructions": format!("What do the sources say about {w}?")}))
            .collect();
        let plan = json!({"reasoning": "Search for the key terms of the question.", "searches": searches});
        return completion(&body, &format!("```json\n{plan}\n```"));
    }
    let transcript = text.to_lowercase().contains("transcript");
    let kind = if transcript { "transcript" } else { "outline" };
    if let Some(refusal) = fake.check("/v1/chat/completions", &headers, &body, json!({"kind": kind})) {
        return refusal;
    }
    let answer = if transcript {
        let speakers: Vec<String> = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Speakers:"))
            .map(|s| s.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect())
            .filter(|v: &Vec<String>| !v.is_empty())
            .unwrap_or_else(|| vec!["Host".into(), "Guest".into()]);
        let lines: Vec<Value> = (0..fake.cli.lines)
            .map(|i| json!({"speaker": speakers[i % speakers.len()], "dialogue": format!("Line {} of this segment.", i + 1)}))
            .collect();
        json!({"transcript": lines})
    } else {
        let segments: Vec<Value> = (0..fake.cli.segments)
            .map(|i| json!({"name": format!("Segment {}", i + 1), "description": "What this part covers.", "size": "short"}))
            .collect();
        json!({"segments": segments})
    };
    let content = format!("<think>\nLet me plan this.\n</think>\n```json\n{answer}\n```");
    completion(&body, &content)
}

/// The content of the last user message.
fn last_user(body: &Value) -> String {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// A streamed answer: one word an event, then `[DONE]`.
async fn stream(fake: &Shared, headers: &HeaderMap, body: &Value, system: &str) -> Response {
    if let Some(refusal) =
        fake.check("/v1/chat/completions", headers, body, json!({"kind": "stream", "system": system}))
    {
        return refusal;
    }
    let model = body["model"].as_str().unwrap_or_default().to_string();
    // The first item heading of the context (`## [source:…] Title`), not an example id.
    let cited = ["## [source:", "## [note:"]
        .iter()
        .filter_map(|p| system.find(p).map(|at| (at, &system[at + 3..])))
        .min_by_key(|(at, _)| *at)
        .and_then(|(_, rest)| rest.find(']').map(|end| rest[..=end].to_string()));
    let start: String = last_user(body).split_whitespace().take(8).collect::<Vec<_>>().join(" ");
    let mut answer = format!("Answer of {model}: about {start}.");
    if let Some(c) = cited {
        answer.push_str(&format!(" As the context says {c}."));
    }
    let words: Vec<String> = answer.split_inclusive(' ').map(str::to_string).collect();
    let delay = std::time::Duration::from_millis(fake.cli.stream_delay_ms);
    // When the response body is dropped (finished, or the client hung up), the log gets
    // `{path: "/_stream_end", sent, total}`: a test sees whether the stream was cut short.
    let end = Arc::new(StreamEnd { fake: Arc::clone(fake), sent: AtomicUsize::new(0), total: words.len() });
    let events = futures::stream::iter(words.into_iter().map(Some).chain([None])).then(move |w| {
        let end = Arc::clone(&end);
        async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if w.is_some() {
                end.sent.fetch_add(1, Ordering::SeqCst);
            }
            let line = match w {
                Some(w) => format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": w}}]})),
                None => "data: [DONE]\n\n".to_string(),
            };
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
        }
    });
    (
        [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")],
        axum::body::Body::from_stream(events),
    )
        .into_response()
}

struct StreamEnd {
    fake: Shared,
    sent: AtomicUsize,
    total: usize,
}

impl Drop for StreamEnd {
    fn drop(&mut self) {
        let entry = json!({"path": "/_stream_end", "sent": self.sent.load(Ordering::SeqCst), "total": self.total});
        self.fake.log.lock().unwrap().push(entry);
    }
}

/// Deterministic embeddings: each word of the input hashed (FNV-1a) into a dimension.
async fn embeddings(State(fake): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => return error(StatusCode::BAD_REQUEST, "input must be a string or an array of strings"),
    };
    if let Some(refusal) = fake.check("/v1/embeddings", &headers, &body, json!({"inputs": inputs.len()})) {
        return refusal;
    }
    // `dimensions` shortens the vectors, as OpenAI's text-embedding-3 models do.
    let dim = body["dimensions"].as_u64().map_or(fake.cli.embedding_dim, |d| d as usize).clamp(1, 8_192);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let mut v = vec![0f32; dim];
            for word in text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
                let h = word.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
                v[(h % dim as u64) as usize] += 1.0;
            }
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|x| *x /= norm);
            } else {
                v[0] = 1.0;
            }
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    Json(json!({"object": "list", "data": data, "model": body.get("model"), "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
        .into_response()
}

/// A chat completion answering `content`.
fn completion(body: &Value, content: &str) -> Response {
    Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    }))
    .into_response()
}

async fn speech(State(fake): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let frames = {
        let mut calls = fake.speech_calls.lock().unwrap();
        *calls += 1;
        (*calls % 3) + 1
    };
    let extra = json!({"voice": body.get("voice"), "input": body.get("input"), "frames": frames});
    if let Some(refusal) = fake.check("/v1/audio/speech", &headers, &body, extra) {
        return refusal;
    }
    // An ID3v2.4 tag with 10 bytes of padding, as real TTS services often prepend.
    let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a".to_vec();
    mp3.extend_from_slice(&[0u8; 10]);
    for _ in 0..frames {
        mp3.extend_from_slice(&silent_frame());
    }
    ([(header::CONTENT_TYPE, "audio/mpeg")], mp3).into_response()
}

async fn requests(State(fake): State<Shared>) -> Json<Value> {
    Json(Value::Array(fake.log.lock().unwrap().clone()))
}

async fn control(State(fake): State<Shared>, Json(body): Json<Value>) -> StatusCode {
    let mut knobs = fake.knobs.lock().unwrap();
    if let Some(n) = body.get("fail_next").and_then(Value::as_u64) {
        knobs.fail_next = n;
    }
    if let Some(s) = body.get("fail_status").and_then(Value::as_u64) {
        knobs.fail_status = s as u16;
    }
    if let Some(s) = body.get("always_fail_status") {
        knobs.always_fail_status = s.as_u64().map(|s| s as u16);
    }
    if let Some(b) = body.get("require_max_completion_tokens").and_then(Value::as_bool) {
        knobs.require_max_completion_tokens = b;
    }
    StatusCode::NO_CONTENT
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let fake = Arc::new(Fake {
        cli,
        log: Mutex::default(),
        knobs: Mutex::new(Knobs { fail_status: 500, ..Knobs::default() }),
        speech_calls: Mutex::default(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/audio/speech", post(speech))
        .route("/v1/embeddings", post(embeddings))
        .route("/_requests", get(requests))
        .route("/_control", post(control))
        .with_state(fake);
    println!("listening on 127.0.0.1:{port}");
    std::io::stdout().flush().expect("stdout");
    axum::serve(listener, app).await.expect("serve");
}
