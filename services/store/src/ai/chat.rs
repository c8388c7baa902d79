//! What a chat answer is asked with: the system prompt (instructions and the context of
//! sources and notes, each under its id so the model can cite it), the session's history, and
//! the new message, all cut to the model's context window; and the citations read back out of
//! the answer. Shared by the notebook chat, the source chat and ask.

use std::collections::HashMap;

use serde::Serialize;

use super::client::{Message, OUTPUT_TOKENS};
use crate::chunks::{tokens, truncate_tokens};
use crate::records::Citation;
use crate::repo::chat::History;
use crate::repo::context::{Context, NAMED_PAST_BUDGET, PromptItem};

const INSTRUCTIONS: &str = "You are a research assistant helping the user understand their own sources and notes. \
Answer from the context below; if it does not hold the answer, say so, and keep what you add from general knowledge apart. \
When a statement comes from a source or note, cite it by its id in square brackets right after the statement, exactly as the id is written in the context, e.g. [source:abc123] or [note:xyz]. \
Never invent ids.";

/// The context window (tokens) of a model, from its name: the families the app's providers
/// serve, else a conservative 32k.
pub fn context_window(model: &str) -> usize {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m);
    const WINDOWS: [(&str, usize); 16] = [
        ("gpt-4.1", 1_000_000),
        ("gpt-5", 400_000),
        ("gpt-4o", 128_000),
        ("gpt-4-turbo", 128_000),
        ("o1", 200_000),
        ("o3", 200_000),
        ("o4", 200_000),
        ("gpt-4", 8_192),
        ("gpt-3.5", 16_385),
        ("claude", 200_000),
        ("gemini", 1_000_000),
        ("grok", 128_000),
        ("deepseek", 64_000),
        ("llama-3", 128_000),
        ("mistral-large", 128_000),
        ("qwen", 32_000),
    ];
    WINDOWS.iter().find(|(prefix, _)| m.starts_with(prefix)).map(|(_, w)| *w).unwrap_or(32_000)
}

/// An item of the context that did not go in whole.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Cut {
    pub id: String,
    pub title: Option<String>,
    /// `truncated` (its start went in) or `left out`.
    pub how: &'static str,
    pub tokens: usize,
    pub kept_tokens: usize,
}

/// What went into a prompt, and what did not fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContextReport {
    /// Ids of the sources and notes in the prompt (whole or cut).
    pub sources: Vec<String>,
    pub notes: Vec<String>,
    pub insights: usize,
    /// The item cut to fit, and the first few left out.
    pub cut: Vec<Cut>,
    /// Items left out in all, named in `cut` or not.
    pub left_out: usize,
    /// Earlier messages of the session left out (the oldest first go).
    pub history_left_out: usize,
    pub context_tokens: usize,
}

/// A prompt ready to send, with what it holds.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub messages: Vec<Message>,
    pub report: ContextReport,
    /// Titles of the citable ids in the prompt.
    pub titles: HashMap<String, Option<String>>,
}

/// The tokens of a prompt for `model` that the context and the history share: the window
/// less the answer's room, the instructions and the new message (counted here: a turn works
/// it out once, for [`history_room`] and [`context_room`]).
pub fn budget(model: &str, message: &str) -> usize {
    let window = context_window(model);
    let answer_room = (OUTPUT_TOKENS as usize).min(window / 4);
    let fixed = tokens(INSTRUCTIONS) + tokens(message) + 64;
    window.saturating_sub(answer_room + fixed)
}

/// The tokens the session's history may take of a prompt's [`budget`]: a quarter (what
/// [`crate::repo::chat::history`] is read for; the newest messages are kept).
pub fn history_room(budget: usize) -> usize {
    budget / 4
}

/// The tokens a prompt's [`budget`] has for its context with this history: what the context
/// is read for ([`crate::repo::context::fit`]) before [`prompt`] is built.
pub fn context_room(budget: usize, history: &History) -> usize {
    budget.saturating_sub(history.tokens)
}

/// Builds the messages for `model`: instructions, context and history (read for
/// [`history_room`]) in the window less the answer's room, the context in the rest, items in
/// order, the one that crosses the limit cut, those after it left out (and not counted in
/// tokens, but the first few named). Items are counted in the tokens the store counted them
/// in as it read them, when it did.
pub fn prompt(model: &str, context: &Context, history: &History, message: &str) -> Prompt {
    let room = context_room(budget(model, message), history);
    let mut fill = Filler {
        remaining: room,
        full: false,
        text: String::new(),
        report: ContextReport { history_left_out: history.left_out, ..ContextReport::default() },
        sliced: context.sliced.as_deref(),
    };
    let mut titles = HashMap::new();
    for s in &context.sources {
        if fill.put(s) {
            fill.report.sources.push(s.id.clone());
            fill.report.insights += s.insights.len();
            titles.insert(s.id.clone(), s.title.clone());
        }
    }
    for n in &context.notes {
        if fill.put(n) {
            fill.report.notes.push(n.id.clone());
            titles.insert(n.id.clone(), n.title.clone());
        }
    }
    let Filler { remaining, text, mut report, .. } = fill;
    report.left_out += context.unread;
    report.context_tokens = room - remaining;

    let system = if text.is_empty() {
        format!("{INSTRUCTIONS}\n\n# Context\n(no sources or notes were chosen)")
    } else {
        format!("{INSTRUCTIONS}\n\n# Context\n{text}")
    };
    let mut messages = vec![Message::system(system)];
    for (m, _) in history.kept.iter().rev() {
        messages.push(if m.kind == "ai" {
            Message::assistant(m.content.clone())
        } else {
            Message::user(m.content.clone())
        });
    }
    messages.push(Message::user(message));
    Prompt { messages, report, titles }
}

/// The context part of a prompt as it fills.
struct Filler<'a> {
    /// Tokens still free.
    remaining: usize,
    /// An item did not fit whole: all after it are left out.
    full: bool,
    text: String,
    report: ContextReport,
    /// The item the store cut at its reading budget ([`Context::sliced`]).
    sliced: Option<&'a str>,
}

impl Filler<'_> {
    /// Puts an item in, whole or cut; false when it is left out.
    fn put(&mut self, item: &impl PromptItem) -> bool {
        let (id, title) = (item.id(), item.title().map(str::to_string));
        if self.full {
            self.leave_out(id, &title, || item.count());
            return false;
        }
        let (heading, body) = (item.heading(), item.body());
        let whole = item.tokens().unwrap_or_else(|| tokens(&heading) + tokens(&body));
        if whole <= self.remaining {
            self.remaining -= whole;
            self.text.push_str(&heading);
            self.text.push_str(&body);
            if self.sliced == Some(id) {
                let cut = Cut { id: id.into(), title, how: "truncated", tokens: whole, kept_tokens: whole };
                self.report.cut.push(cut);
            }
            return true;
        }
        self.full = true;
        if self.remaining > tokens(&heading) + 100 {
            let room = self.remaining - tokens(&heading);
            let (start, _) = truncate_tokens(&body, room);
            let cut = Cut { id: id.into(), title, how: "truncated", tokens: whole, kept_tokens: room };
            self.report.cut.push(cut);
            self.text.push_str(&heading);
            self.text.push_str(&start);
            self.text.push_str("\n[… cut to fit the model's context window]");
            self.remaining = 0;
            true
        } else {
            self.leave_out(id, &title, || whole);
            false
        }
    }

    /// Counts an item left out, and names it if few were so far.
    fn leave_out(&mut self, id: &str, title: &Option<String>, tokens: impl FnOnce() -> usize) {
        if self.report.left_out < NAMED_PAST_BUDGET {
            let cut = Cut { id: id.into(), title: title.clone(), how: "left out", tokens: tokens(), kept_tokens: 0 };
            self.report.cut.push(cut);
        }
        self.report.left_out += 1;
    }
}

/// The ids of `titles` the answer cites as `[id]`, in the order first cited, with their titles.
pub fn citations(answer: &str, titles: &HashMap<String, Option<String>>) -> Vec<Citation> {
    let mut found: Vec<Citation> = Vec::new();
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        // `[source:a, note:b]` cites both.
        for id in rest[..close].split([',', ';']).map(str::trim) {
            if let Some(title) = titles.get(id)
                && !found.iter().any(|c| c.id == id)
            {
                found.push(Citation { id: id.to_string(), title: title.clone() });
            }
        }
        rest = &rest[close..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::context::{NoteContext, SourceContext};

    fn source(id: &str, text: &str) -> SourceContext {
        SourceContext {
            id: id.into(),
            title: Some(format!("Title {id}")),
            insights: vec![],
            full_text: Some(text.into()),
            tokens: None,
        }
    }

    #[test]
    fn everything_fits_a_large_window() {
        let ctx = Context {
            sources: vec![source("source:a", "Alpha text.")],
            notes: vec![NoteContext { id: "note:n".into(), title: None, content: "A note.".into(), tokens: None }],
            ..Context::default()
        };
        let p = prompt("gpt-4o-mini", &ctx, &History::default(), "What is alpha?");
        assert!(p.report.cut.is_empty());
        assert_eq!(p.report.sources, ["source:a"]);
        assert_eq!(p.report.notes, ["note:n"]);
        assert!(p.messages[0].content.contains("[source:a] Title source:a"));
        assert_eq!(p.messages.last().unwrap().content, "What is alpha?");
    }

    #[test]
    fn a_small_window_cuts_the_crossing_item_and_leaves_out_the_rest() {
        let big = "word ".repeat(40_000);
        let ctx = Context {
            sources: vec![source("source:a", &big), source("source:b", "tiny")],
            notes: vec![NoteContext { id: "note:n".into(), title: None, content: "A note.".into(), tokens: None }],
            ..Context::default()
        };
        let p = prompt("qwen-7b", &ctx, &History::default(), "Q");
        // The small ones after the cut are left out too: the order is kept.
        assert_eq!(p.report.cut.len(), 3);
        assert_eq!(p.report.left_out, 2);
        assert!(p.report.notes.is_empty());
        assert_eq!((p.report.cut[0].id.as_str(), p.report.cut[0].how), ("source:a", "truncated"));
        assert_eq!((p.report.cut[1].id.as_str(), p.report.cut[1].how), ("source:b", "left out"));
        let total: usize = p.messages.iter().map(|m| tokens(&m.content)).sum();
        assert!(total + OUTPUT_TOKENS as usize / 2 <= context_window("qwen-7b"), "{total} tokens");
    }

    #[test]
    fn a_few_left_out_are_named_and_all_are_counted() {
        let note =
            |i: usize| NoteContext { id: format!("note:{i}"), title: None, content: "word ".repeat(300), tokens: None };
        // 400 notes of about 300 tokens read, 1,000 more past the store's budget.
        let ctx = Context { notes: (0..400).map(note).collect(), unread: 1_000, ..Context::default() };
        let p = prompt("qwen-7b", &ctx, &History::default(), "Q");
        let kept = p.report.notes.len();
        assert!((50..400).contains(&kept), "{kept} notes in");
        assert_eq!(p.report.cut.iter().filter(|c| c.how == "truncated").count(), 1);
        assert_eq!(p.report.cut.iter().filter(|c| c.how == "left out").count(), NAMED_PAST_BUDGET);
        assert_eq!(p.report.left_out, 400 - kept + 1_000);
    }

    #[test]
    fn an_item_the_store_cut_is_reported_cut_even_when_the_rest_fits() {
        let ctx = Context {
            sources: vec![source("source:a", "The start of a long text")],
            sliced: Some("source:a".into()),
            ..Context::default()
        };
        let p = prompt("gpt-4o", &ctx, &History::default(), "Q");
        assert_eq!(p.report.sources, ["source:a"]);
        assert_eq!((p.report.cut.len(), p.report.cut[0].how), (1, "truncated"));
        assert_eq!(p.report.left_out, 0);
    }

    #[test]
    fn citations_are_the_known_ids_the_answer_names() {
        let titles: HashMap<String, Option<String>> =
            [("source:a".to_string(), Some("A".to_string())), ("note:b".to_string(), None)].into();
        let c = citations("Yes [source:a]. Also [note:b, source:zzz] and [source:a] again [x", &titles);
        assert_eq!(
            c,
            vec![
                Citation { id: "source:a".into(), title: Some("A".into()) },
                Citation { id: "note:b".into(), title: None }
            ]
        );
    }
}
