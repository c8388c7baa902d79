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

/// Attempts per call (the first and the retries).
const ATTEMPTS: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const MAX_PAUSE: Duration = Duration::from_secs(20);
const OUTPUT_TOKENS: u64 = 8192;

/// One HTTP client for the process: connection reuse, and timeouts on every call.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent(concat!("ephitup/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")
}

/// Where to call and with which key, for one job. `Debug` never shows the key.
#[derive(Clone)]
pub struct Provider {
    pub name: String,
    pub base_url: String,
    key: String,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("name", &self.name).field("base_url", &self.base_url).finish()
    }
}

impl Provider {
    pub fn new(name: &str, base_url: &str, key: String) -> Provider {
        Provider { name: name.to_string(), base_url: base_url.trim_end_matches('/').to_string(), key }
    }
}

/// Models that take `max_completion_tokens` only (OpenAI's reasoning models).
fn wants_completion_tokens(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p))
}

/// Asks for a JSON object; returns it parsed.
pub async fn chat_json(
    http: &reqwest::Client,
    p: &Provider,
    model: &str,
    system: &str,
    user: &str,
) -> anyhow::Result<Value> {
    let mut completion_tokens = wants_completion_tokens(model);
    let mut switched = false;
    loop {
        let limit = if completion_tokens { "max_completion_tokens" } else { "max_tokens" };
        let body = json!({
            "model": model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "response_format": {"type": "json_object"},
            limit: OUTPUT_TOKENS,
        });
        match send(http, p, "chat/completions", &body).await {
            Err(CallError::Refused(status, message))
                if status == StatusCode::BAD_REQUEST && !switched && message.contains("max_completion_tokens") =>
            {
                completion_tokens = !completion_tokens;
                switched = true;
            }
            Err(e) => return Err(anyhow!("{} {model}: {e}", p.name)),
            Ok(bytes) => {
                let answer: Value = serde_json::from_slice(&bytes).context("the chat answer is not JSON")?;
                let content = answer["choices"][0]["message"]["content"]
                    .as_str()
                    .ok_or_else(|| anyhow!("{} {model}: the answer has no message content", p.name))?;
                return parse_json_answer(content).with_context(|| format!("{} {model}: the model's answer", p.name));
            }
        }
    }
}

/// Asks for text (a transformation's output); returns the answer without `<think>` blocks.
pub async fn chat_text(
    http: &reqwest::Client,
    p: &Provider,
    model: &str,
    system: &str,
    user: &str,
) -> anyhow::Result<String> {
    let mut completion_tokens = wants_completion_tokens(model);
    let mut switched = false;
    loop {
        let limit = if completion_tokens { "max_completion_tokens" } else { "max_tokens" };
        let body = json!({
            "model": model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            limit: OUTPUT_TOKENS,
        });
        match send(http, p, "chat/completions", &body).await {
            Err(CallError::Refused(status, message))
                if status == StatusCode::BAD_REQUEST && !switched && message.contains("max_completion_tokens") =>
            {
                completion_tokens = !completion_tokens;
                switched = true;
            }
            Err(e) => return Err(anyhow!("{} {model}: {e}", p.name)),
            Ok(bytes) => {
                let answer: Value = serde_json::from_slice(&bytes).context("the chat answer is not JSON")?;
                let content = answer["choices"][0]["message"]["content"]
                    .as_str()
                    .ok_or_else(|| anyhow!("{} {model}: the answer has no message content", p.name))?;
                return Ok(without_thinking(content));
            }
        }
    }
}

/// Speech for one line: the audio bytes (MP3).
pub async fn speech(
    http: &reqwest::Client,
    p: &Provider,
    model: &str,
    voice: &str,
    input: &str,
) -> anyhow::Result<Bytes> {
    let body = json!({"model": model, "voice": voice, "input": input, "response_format": "mp3"});
    send(http, p, "audio/speech", &body).await.map_err(|e| anyhow!("{} {model} speech: {e}", p.name))
}

#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error("the provider answered {0}: {1}")]
    Refused(StatusCode, String),
    #[error("gave up after {ATTEMPTS} attempts, last: {0}")]
    Exhausted(String),
}

async fn send(http: &reqwest::Client, p: &Provider, path: &str, body: &Value) -> Result<Bytes, CallError> {
    let url = format!("{}/{path}", p.base_url);
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let retry_after = match http.post(&url).bearer_auth(&p.key).json(body).send().await {
            Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                Ok(bytes) => return Ok(bytes),
                Err(e) => {
                    last = format!("reading the answer: {e}");
                    None
                }
            },
            Ok(resp) => {
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let message = provider_message(&resp.text().await.unwrap_or_default());
                if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                    return Err(CallError::Refused(status, message));
                }
                last = format!("{status}: {message}");
                retry_after
            }
            // Connection refused, reset, timed out: worth another try. The error names the URL,
            // never the key.
            Err(e) => {
                last = e.without_url().to_string();
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

/// The provider's own error message (`{"error": {"message"}}`), else the start of the body.
fn provider_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().or_else(|| v["detail"].as_str()).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect())
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
        bail!("no JSON object in: {}", unfenced.chars().take(200).collect::<String>());
    };
    serde_json::from_str(&unfenced[start..=end])
        .with_context(|| format!("not valid JSON: {}", unfenced.chars().take(200).collect::<String>()))
}

#[cfg(test)]
mod tests {
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
