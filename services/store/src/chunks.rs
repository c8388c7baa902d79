//! Text cut into chunks for search and embeddings: windows of [`CHUNK_TOKENS`] tokens (OpenAI's
//! `cl100k_base` encoding, which embedding models count in) overlapping by [`OVERLAP_TOKENS`],
//! each ending at a paragraph, sentence or word boundary when one is near. Also the one token
//! count of the app ([`tokens`]), in the same encoding.
//!
//! One encoding, loaded once per process: its tables are 21 MiB resident (28 MiB at their
//! peak while built), `o200k_base`'s 42 MiB more, and every process here runs under a memory
//! limit (the worker's is 64 MiB). Current chat models count in `o200k_base`, which makes
//! fewer tokens of the same text: a count in `cl100k_base` is on the safe side of a model's
//! window, a few percent high for English.
//!
//! Token windows are cut on tiktoken-rs's encoding directly. The `text-splitter` crate would do
//! the boundary search, but every release that takes tiktoken-rs 0.12 brings icu 2.3, whose
//! features change the `url` → `reqwest` → SurrealDB graph and rebuild all of it (an hour in
//! release); the window arithmetic here is short and tested.

use std::sync::{OnceLock, mpsc};

use tiktoken_rs::CoreBPE;

/// Tokens in a chunk, at most.
pub const CHUNK_TOKENS: usize = 400;
/// Tokens a chunk repeats of the one before, so a passage cut in two is whole in one of them.
pub const OVERLAP_TOKENS: usize = 60;
/// Chunks of one item, at most: 2,000 × 340 new tokens ≈ 700,000 tokens, a long book. The text
/// beyond is not searchable (the item itself is kept whole).
pub const MAX_CHUNKS: usize = 2_000;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().ok()).as_ref()
}

/// Tokens of `text` (`cl100k_base`; see the module's account of why not `o200k_base`, which
/// the original app counted in). The encoding is compiled in and cannot fail to load; were it
/// to, a word-based estimate (the original's own fallback) beats failing.
pub fn tokens(text: &str) -> usize {
    match bpe() {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => estimate(text),
    }
}

fn estimate(text: &str) -> usize {
    text.split_whitespace().count() * 13 / 10
}

/// The text cut to at most `limit` tokens ([`tokens`]), and whether anything was cut. The
/// cut falls on a character boundary.
pub fn truncate_tokens(text: &str, limit: usize) -> (String, bool) {
    let Some(bpe) = bpe() else {
        let words: Vec<&str> = text.split_whitespace().collect();
        let keep = limit * 10 / 13;
        return if words.len() <= keep { (text.to_string(), false) } else { (words[..keep].join(" "), true) };
    };
    let ids = bpe.encode_ordinary(text);
    if ids.len() <= limit {
        return (text.to_string(), false);
    }
    (decode_prefix(bpe, &ids[..limit]), true)
}

/// Decodes token ids, dropping a trailing partial UTF-8 character if the window cut one.
fn decode_prefix(bpe: &CoreBPE, ids: &[u32]) -> String {
    let mut bytes = Vec::new();
    for id in ids {
        if let Ok(b) = bpe.decode_bytes(&[*id]) {
            bytes.extend_from_slice(&b);
        }
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(valid);
            String::from_utf8(bytes).unwrap_or_default()
        }
    }
}

/// `text` in chunks (at most [`MAX_CHUNKS`]), trimmed, none empty. CPU work proportional to the
/// text: call it off the async threads for long texts.
pub fn split(text: &str) -> Vec<String> {
    split_counted(text).chunks
}

/// A text's chunks, and the tokens of the whole (trimmed) text, counted on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub chunks: Vec<String>,
    /// [`tokens`] of the text, trimmed.
    pub tokens: usize,
}

/// [`split`], with the text's tokens (what a chat prompt counts a note's text in, without
/// tokenizing it again).
pub fn split_counted(text: &str) -> Split {
    let text = text.trim();
    if text.is_empty() {
        return Split::default();
    }
    let Some(bpe) = bpe() else {
        return Split { chunks: split_chars(text), tokens: estimate(text) };
    };
    let ids = bpe.encode_ordinary(text);
    let chunks = windows(bpe, text, &ids);
    Split { chunks, tokens: ids.len() }
}

/// The chunks of a text of these token ids.
fn windows(bpe: &CoreBPE, text: &str, ids: &[u32]) -> Vec<String> {
    if ids.len() <= CHUNK_TOKENS {
        return vec![text.to_string()];
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < ids.len() && chunks.len() < MAX_CHUNKS {
        let end = (start + CHUNK_TOKENS).min(ids.len());
        let window = decode_prefix(bpe, &ids[start..end]);
        // Past the last window: keep it whole. Otherwise end at the best boundary in the last
        // third of the window, and start the next one OVERLAP tokens before that end.
        let (piece, used) = if end == ids.len() {
            (window.as_str(), end - start)
        } else {
            let cut = boundary(&window);
            let piece = &window[..cut];
            let used = if cut == window.len() { end - start } else { bpe.encode_ordinary(piece).len() };
            (piece, used.max(1))
        };
        let trimmed = piece.trim();
        if !trimmed.is_empty() {
            chunks.push(trimmed.to_string());
        }
        if end == ids.len() {
            break;
        }
        start += used.saturating_sub(OVERLAP_TOKENS).max(1);
    }
    chunks
}

/// Texts longer than this (bytes) are split on the tokenizer's thread by [`split_off_thread`].
const INLINE_BYTES: usize = 16 * 1024;

/// [`split`] for async callers: short texts at once, long ones on the tokenizer's thread
/// ([`on_tokenizer_thread`]), so a long note does not hold up the requests sharing the async
/// threads.
pub async fn split_off_thread(text: &str) -> Vec<String> {
    if text.len() <= INLINE_BYTES {
        return split(text);
    }
    split_owned(text.to_string()).await
}

/// [`split_counted`] for async callers, as [`split_off_thread`]; `None` if splitting panicked.
pub async fn split_counted_off_thread(text: &str) -> Option<Split> {
    if text.len() <= INLINE_BYTES {
        return Some(split_counted(text));
    }
    let text = text.to_string();
    on_tokenizer_thread(move || split_counted(&text)).await
}

/// [`split_off_thread`] of a text the caller no longer needs: it is not copied to be sent to
/// the tokenizer's thread (a long source's text is megabytes). No chunks if splitting panicked.
pub async fn split_owned(text: String) -> Vec<String> {
    if text.len() <= INLINE_BYTES {
        return split(&text);
    }
    on_tokenizer_thread(move || split(&text)).await.unwrap_or_default()
}

type Work = Box<dyn FnOnce() + Send>;

/// Runs `work` (tokenizing: CPU proportional to a text) on the one thread the process keeps
/// for it (here, if that thread could not be started), and waits for its result; `None` when
/// `work` panicked.
///
/// One thread, not tokio's blocking pool: tiktoken-rs keeps 128 copies of its regex, one per
/// hash of the calling thread's id, and each copy that runs grows caches of its own. Blocking
/// threads come and go with new ids, so over time a pool reaches ever more copies (the worker
/// was killed at its memory limit by this); the async threads and this one reach a fixed few.
pub async fn on_tokenizer_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static THREAD: OnceLock<Option<mpsc::Sender<Work>>> = OnceLock::new();
    let sender = THREAD.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Work>();
        let spawned = std::thread::Builder::new().name("tokenizer".into()).spawn(move || {
            for work in rx {
                // A panic ends one piece of work (its caller gets `None`), not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            }
        });
        spawned.ok().map(|_| tx)
    });
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job: Work = Box::new(move || {
        let _ = reply.send(work());
    });
    match sender {
        Some(tx) => {
            if let Err(mpsc::SendError(job)) = tx.send(job) {
                job();
            }
        }
        None => job(),
    }
    answer.await.ok()
}

/// Where to end a window: after the last paragraph break, else sentence end, else whitespace,
/// in its last third; the whole window when there is none.
fn boundary(window: &str) -> usize {
    let from = window.len() * 2 / 3;
    let tail = match window.get(from..) {
        Some(t) => t,
        None => return window.len(),
    };
    for sep in ["\n\n", ". ", "! ", "? ", "\n", " "] {
        if let Some(i) = tail.rfind(sep) {
            return from + i + sep.len();
        }
    }
    window.len()
}

/// Without an encoding: chunks of about four characters a token.
fn split_chars(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let (size, step) = (CHUNK_TOKENS * 4, (CHUNK_TOKENS - OVERLAP_TOKENS) * 4);
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < chars.len() && chunks.len() < MAX_CHUNKS {
        let end = (start + size).min(chars.len());
        let piece: String = chars[start..end].iter().collect();
        if !piece.trim().is_empty() {
            chunks.push(piece.trim().to_string());
        }
        if end == chars.len() {
            break;
        }
        start += step;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_split_counts_the_whole_trimmed_text() {
        let long: String = (0..300).map(|i| format!("Sentence {i} of a long text. ")).collect();
        for text in ["  A short note.  ", " \n ", long.as_str()] {
            let counted = split_counted(text);
            assert_eq!((counted.chunks, counted.tokens), (split(text), tokens(text.trim())));
        }
        assert!(split(&long).len() > 1, "the long text is more than one chunk");
    }

    #[test]
    fn short_text_is_one_chunk_and_empty_text_none() {
        assert_eq!(split("  A short note.  "), vec!["A short note.".to_string()]);
        assert!(split(" \n ").is_empty());
    }

    #[test]
    fn long_text_is_cut_into_overlapping_windows_on_boundaries() {
        let sentences: Vec<String> = (0..400).map(|i| format!("Sentence number {i} says something.")).collect();
        let text = sentences.join(" ");
        let chunks = split(&text);
        assert!(chunks.len() > 5, "{} chunks", chunks.len());
        let bpe = bpe().unwrap();
        for c in &chunks {
            assert!(bpe.encode_ordinary(c).len() <= CHUNK_TOKENS, "chunk too long: {c}");
        }
        // Each chunk but the last ends a sentence, and the next one starts before that end.
        for pair in chunks.windows(2) {
            assert!(pair[0].ends_with('.'), "not on a boundary: …{}", &pair[0][pair[0].len() - 20..]);
            let last_sentence = pair[0].rsplit(". ").next().unwrap();
            assert!(pair[1].contains(last_sentence), "no overlap between chunks");
        }
        // Every sentence is in some chunk.
        for s in &sentences {
            assert!(chunks.iter().any(|c| c.contains(s.as_str())), "lost: {s}");
        }
    }

    #[test]
    fn text_without_spaces_and_multibyte_text_are_cut_safely() {
        let text = "é".repeat(5000) + &"x".repeat(5000);
        let chunks = split(&text);
        assert!(chunks.len() > 1);
        let joined: usize = chunks.iter().map(|c| c.chars().count()).sum();
        assert!(joined >= 10_000, "characters lost: {joined}");
    }

    #[test]
    fn truncation_says_whether_it_cut() {
        assert_eq!(truncate_tokens("hello world", 10), ("hello world".to_string(), false));
        let (cut, was) = truncate_tokens(&"word ".repeat(100), 10);
        assert!(was && tokens(&cut) <= 10 && !cut.is_empty());
    }
}
