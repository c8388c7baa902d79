//! OpenAI-compatible HTTP calls: `POST {base}/chat/completions` (in JSON mode, or for plain
//! text) and `POST {base}/audio/speech`, with the owner's key passed per request (never through
//! the process environment, which concurrent jobs and requests would share). Retries 429 and 5xx with growing
//! pauses (honouring `Retry-After`), switches to `max_completion_tokens` for models that
//! refuse `max_tokens`, and reads JSON out of answers wrapped in `<think>` blocks or fences.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What [`super::public`]'s resolver says when it refuses a host.
const REFUSED: &str = super::public::REFUSED;

/// Attempts per call (the first and the retries).
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(20);
/// Tokens an answer may take (asked as `max_tokens`); the chat prompt leaves room for them.
pub const OUTPUT_TOKENS: u64 = 8192;

/// One HTTP client for the process: connection reuse, and timeouts on every call.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent(concat!("ephitup/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

/// Where to call, with which key and through which client (a user's own base URL goes
/// through [`super::public::client`]), for one call or job. `Debug` never shows the key.
#[derive(Clone)]
pub struct Provider {
    pub name: String,
    pub base_url: String,
    key: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("name", &self.name).field("base_url", &self.base_url).finish()
    }
}

impl Provider {
    pub fn new(name: &str, base_url: &str, key: String, http: reqwest::Client) -> Provider {
        Provider { name: name.to_string(), base_url: base_url.trim_end_matches('/').to_string(), key, http }
    }
}

/// Models that take `max_completion_tokens` only (OpenAI's reasoning models).
fn wants_completion_tokens(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p))
}

/// Asks for a JSON object; returns it parsed.
pub async fn chat_json(p: &Provider, model: &str, system: &str, user: &str) -> anyhow::Result<Value> {
    let content = chat(p, model, system, user, Some(json!({"type": "json_object"}))).await?;
    parse_json_answer(&content).with_context(|| format!("{} {model}: the model's answer", p.name))
}

/// Asks for text (a transformation's output); returns the answer without `<think>` blocks.
pub async fn chat_text(p: &Provider, model: &str, system: &str, user: &str) -> anyhow::Result<String> {
    Ok(without_thinking(&chat(p, model, system, user, None).await?))
}

/// One chat completion (in `response_format` if given): the answer's message content. A model
/// that refuses `max_tokens` for `max_completion_tokens` (or the other way) is asked once more
/// with the other.
async fn chat(
    p: &Provider,
    model: &str,
    system: &str,
    user: &str,
    response_format: Option<Value>,
) -> anyhow::Result<String> {
    chat_messages(p, model, &[Message::system(system), Message::user(user)], response_format).await
}

/// One message of a conversation sent to a chat model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: &'static str,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: "system", content: content.into() }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: "user", content: content.into() }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message { role: "assistant", content: content.into() }
    }
}

/// The request body of a chat completion.
fn chat_body(model: &str, messages: &[Message], completion_tokens: bool, output_tokens: u64) -> Value {
    let limit = if completion_tokens { "max_completion_tokens" } else { "max_tokens" };
    json!({ "model": model, "messages": messages, limit: output_tokens })
}

/// A chat completion of a whole conversation: the answer's message content (with any
/// `<think>` block; see [`without_thinking`]).
pub async fn chat_messages(
    p: &Provider,
    model: &str,
    messages: &[Message],
    response_format: Option<Value>,
) -> anyhow::Result<String> {
    let mut completion_tokens = wants_completion_tokens(model);
    let mut switched = false;
    loop {
        let mut body = chat_body(model, messages, completion_tokens, OUTPUT_TOKENS);
        if let Some(format) = &response_format {
            body["response_format"] = format.clone();
        }
        match send(p, "chat/completions", &body).await {
            Err(CallError::Refused(status, asks)) if status == StatusCode::BAD_REQUEST && !switched && asks => {
                completion_tokens = !completion_tokens;
                switched = true;
            }
            Err(e) => return Err(anyhow!("{} {model}: {e}", p.name)),
            Ok(bytes) => {
                let answer: Value = serde_json::from_slice(&bytes).context("the chat answer is not JSON")?;
                let content = answer["choices"][0]["message"]["content"]
                    .as_str()
                    .ok_or_else(|| anyhow!("{} {model}: the answer has no message content", p.name))?;
                return Ok(content.to_string());
            }
        }
    }
}

/// Speech for one line: the audio bytes (MP3).
pub async fn speech(p: &Provider, model: &str, voice: &str, input: &str) -> anyhow::Result<Bytes> {
    let body = json!({"model": model, "voice": voice, "input": input, "response_format": "mp3"});
    send(p, "audio/speech", &body).await.map_err(|e| anyhow!("{} {model} speech: {e}", p.name))
}

/// A failed call. Messages name the status only, never the provider's body: the base URL is
/// the user's choice, and what answers there must not be read back through a job's error.
#[derive(Debug, thiserror::Error)]
enum CallError {
    /// Refused for good; whether the answer asks for `max_completion_tokens` instead.
    #[error("the provider answered {0}")]
    Refused(StatusCode, bool),
    #[error("gave up after {ATTEMPTS} attempts, last: {0}")]
    Exhausted(String),
    /// The address check refused the host: no attempt was made.
    #[error("{0}")]
    Blocked(String),
}

async fn send(p: &Provider, path: &str, body: &Value) -> Result<Bytes, CallError> {
    let resp = send_response(p, path, body).await?;
    resp.bytes().await.map_err(|e| CallError::Exhausted(format!("reading the answer: {}", connect_error(e))))
}

/// Posts `body` until the provider answers with success (retrying 429, 5xx and connection
/// failures with growing pauses, honouring `Retry-After`); the answer's body is not read yet.
async fn send_response(p: &Provider, path: &str, body: &Value) -> Result<reqwest::Response, CallError> {
    let url = format!("{}/{path}", p.base_url);
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let retry_after = match p.http.post(&url).bearer_auth(&p.key).json(body).send().await {
            Ok(resp) if resp.status().is_success() => return Ok(resp),
            Ok(resp) => {
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                    let hint = status == StatusCode::BAD_REQUEST && asks_for_completion_tokens(resp).await;
                    return Err(CallError::Refused(status, hint));
                }
                last = format!("the provider answered {status}");
                retry_after
            }
            // Connection refused, reset, timed out: worth another try; a host the address
            // check refused will not change its mind. The error names neither the URL nor the key.
            Err(e) => {
                last = connect_error(e);
                if last.contains(REFUSED) {
                    return Err(CallError::Blocked(last));
                }
                None
            }
        };
        if attempt < ATTEMPTS {
            tracing::info!("{url}: {last}; retrying in {pause:?}");
            tokio::time::sleep(retry_after.unwrap_or(pause).min(MAX_PAUSE)).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
    Err(CallError::Exhausted(last))
}

/// Text pieces of a streamed answer, as the model writes them.
pub type TokenStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = anyhow::Result<String>> + Send>>;

/// A chat completion streamed (`stream: true`, server-sent events): the pieces of the answer's
/// content as they arrive. Retries happen before the first piece only; dropping the stream
/// closes the connection, which ends the upstream generation.
pub async fn chat_stream(p: &Provider, model: &str, messages: &[Message]) -> anyhow::Result<TokenStream> {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;

    let mut completion_tokens = wants_completion_tokens(model);
    let mut switched = false;
    let resp = loop {
        let mut body = chat_body(model, messages, completion_tokens, OUTPUT_TOKENS);
        body["stream"] = json!(true);
        match send_response(p, "chat/completions", &body).await {
            Err(CallError::Refused(status, asks)) if status == StatusCode::BAD_REQUEST && !switched && asks => {
                completion_tokens = !completion_tokens;
                switched = true;
            }
            Err(e) => bail!("{} {model}: {e}", p.name),
            Ok(resp) => break resp,
        }
    };
    let name = format!("{} {model}", p.name);
    let events = resp.bytes_stream().eventsource();
    let pieces = events
        .take_while(|e| std::future::ready(!matches!(e, Ok(ev) if ev.data.trim() == "[DONE]")))
        .filter_map(move |e| {
            let name = name.clone();
            std::future::ready(match e {
                // Without the URL (a transport error names it): the base URL is the user's.
                Err(eventsource_stream::EventStreamError::Transport(e)) => {
                    Some(Err(anyhow!("{name}: the stream broke: {}", connect_error(e))))
                }
                Err(e) => Some(Err(anyhow!("{name}: the stream broke: {e}"))),
                Ok(ev) => match serde_json::from_str::<Value>(&ev.data) {
                    Err(_) => Some(Err(anyhow!("{name}: a streamed event is not JSON"))),
                    Ok(v) => v["choices"][0]["delta"]["content"]
                        .as_str()
                        .filter(|c| !c.is_empty())
                        .map(|c| Ok(c.to_string())),
                },
            })
        });
    Ok(Box::pin(pieces))
}

/// Embeddings of `inputs` (one vector each, in order) by `model` through `{base}/embeddings`.
/// Dimensions asked of the embedding models that can shorten their vectors (OpenAI's
/// `text-embedding-3-*`, 1536 or 3072 of their own; trained to keep most of their quality
/// shortened). In the database a vector costs about 20 bytes a dimension once its HNSW index is
/// in use: 11,510 chunks of 1536 dimensions held ~300 MiB in a release server, more than the
/// db's 256 MiB limit, and a search took ~210 ms; of 256, the app's chat-search benchmark runs
/// in its limit (`scripts/bench/chat-search.sh`).
pub const SHORTENED_DIMENSIONS: usize = 256;

/// The body of an embeddings call: the model's own dimensions, or [`SHORTENED_DIMENSIONS`]
/// for a model that takes `dimensions`.
fn embeddings_body(model: &str, inputs: &[String]) -> Value {
    let mut body = json!({"model": model, "input": inputs, "encoding_format": "float"});
    let name = model.rsplit('/').next().unwrap_or(model).to_ascii_lowercase();
    if name.starts_with("text-embedding-3") {
        body["dimensions"] = json!(SHORTENED_DIMENSIONS);
    }
    body
}

pub async fn embeddings(p: &Provider, model: &str, inputs: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
    let body = embeddings_body(model, inputs);
    let bytes = send(p, "embeddings", &body).await.map_err(|e| anyhow!("{} {model} embeddings: {e}", p.name))?;
    #[derive(serde::Deserialize)]
    struct Item {
        index: Option<usize>,
        embedding: Vec<f32>,
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        data: Vec<Item>,
    }
    let answer: Answer = serde_json::from_slice(&bytes).context("the embeddings answer is not the expected JSON")?;
    if answer.data.len() != inputs.len() {
        bail!("{} {model}: {} embeddings for {} inputs", p.name, answer.data.len(), inputs.len());
    }
    let mut vectors = vec![Vec::new(); inputs.len()];
    for (i, item) in answer.data.into_iter().enumerate() {
        let at = item.index.unwrap_or(i);
        let slot = vectors.get_mut(at).ok_or_else(|| anyhow!("{} {model}: an embedding index out of range", p.name))?;
        *slot = item.embedding;
    }
    let dim = vectors.first().map(Vec::len).unwrap_or(0);
    if dim == 0 || vectors.iter().any(|v| v.len() != dim) {
        bail!("{} {model}: embeddings of differing or zero dimensions", p.name);
    }
    Ok(vectors)
}

/// Whether a 400 answer says the model takes `max_completion_tokens` (read, never repeated;
/// at most 64 KiB of it).
async fn asks_for_completion_tokens(mut resp: reqwest::Response) -> bool {
    let mut seen = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        seen.extend_from_slice(&chunk);
        if seen.len() > 64 << 10 {
            break;
        }
    }
    String::from_utf8_lossy(&seen).contains("max_completion_tokens")
}

/// A request error and its causes on one line (the address check's refusal among them),
/// without the URL.
fn connect_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A model's answer without its `<think>…</think>` blocks (an unclosed one runs to the end),
/// trimmed.
pub fn without_thinking(content: &str) -> String {
    let mut text = content.to_string();
    while let Some(start) = text.find("<think>") {
        match text[start..].find("</think>") {
            Some(end) => text.replace_range(start..start + end + "</think>".len(), ""),
            None => text.truncate(start),
        }
    }
    text.trim().to_string()
}

/// A model's answer as JSON: without `<think>…</think>` blocks and code fences, and if
/// there is text around the object, the outermost `{…}`.
pub fn parse_json_answer(content: &str) -> anyhow::Result<Value> {
    let text = without_thinking(content);
    let text = text.trim();
    let unfenced = match text.strip_prefix("```") {
        Some(rest) => {
            let rest = rest.split_once('\n').map(|(_, body)| body).unwrap_or(rest);
            rest.trim_end().strip_suffix("```").unwrap_or(rest)
        }
        None => text,
    };
    if let Ok(v) = serde_json::from_str::<Value>(unfenced.trim()) {
        return Ok(v);
    }
    let (Some(start), Some(end)) = (unfenced.find('{'), unfenced.rfind('}')) else {
        bail!("no JSON object in the answer ({} characters)", unfenced.chars().count());
    };
    serde_json::from_str(&unfenced[start..=end]).context("the answer's JSON object is not valid JSON")
}

#[cfg(test)]
mod tests {
    #[test]
    fn models_that_can_shorten_their_vectors_are_asked_to() {
        let inputs = ["a".to_string()];
        for model in ["text-embedding-3-small", "openai/text-embedding-3-large", "Text-Embedding-3-Small"] {
            assert_eq!(super::embeddings_body(model, &inputs)["dimensions"], super::SHORTENED_DIMENSIONS, "{model}");
        }
        for model in ["text-embedding-ada-002", "nomic-embed-text", "mistral-embed", "fake-embed"] {
            assert!(super::embeddings_body(model, &inputs).get("dimensions").is_none(), "{model}");
        }
    }

    use super::*;

    #[test]
    fn json_is_found_in_thinking_and_fenced_answers() {
        let v = parse_json_answer("<think>hmm {not this}</think>\n```json\n{\"a\": 1}\n```").unwrap();
        assert_eq!(v, json!({"a": 1}));
        assert_eq!(parse_json_answer("Sure! {\"b\": [2]} Hope it helps").unwrap(), json!({"b": [2]}));
        assert_eq!(parse_json_answer("```\n{\"c\": true}```").unwrap(), json!({"c": true}));
        assert!(parse_json_answer("<think>{\"a\":1}</think> no json").is_err());
        assert_eq!(without_thinking("<think>plan</think>\n\nThe summary."), "The summary.");
    }

    #[test]
    fn reasoning_models_take_max_completion_tokens() {
        assert!(wants_completion_tokens("o3-mini") && wants_completion_tokens("gpt-5"));
        assert!(!wants_completion_tokens("gpt-4o-mini"));
    }
}
