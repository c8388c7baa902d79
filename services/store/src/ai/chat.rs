//! What a chat answer is asked with: the system prompt (instructions and the context of
//! sources and notes, each under its id so the model can cite it), the session's history, and
//! the new message, all cut to the model's context window; and the citations read back out of
//! the answer. Shared by the notebook chat, the source chat and ask.

use std::collections::HashMap;

use serde::Serialize;

use super::client::{Message, OUTPUT_TOKENS};
use crate::chunks::{tokens, truncate_tokens};
use crate::records::{ChatMessage, Citation};
use crate::repo::context::Context;

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
    pub cut: Vec<Cut>,
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

/// Builds the messages for `model`: instructions, context and history in the window less the
/// answer's room; the history takes at most a quarter of it (newest kept), the context the
/// rest, items in order, the one that crosses the limit cut, those after it left out.
pub fn prompt(model: &str, context: &Context, history: &[ChatMessage], message: &str) -> Prompt {
    let window = context_window(model);
    let answer_room = (OUTPUT_TOKENS as usize).min(window / 4);
    let fixed = tokens(INSTRUCTIONS) + tokens(message) + 64;
    let budget = window.saturating_sub(answer_room + fixed);

    // History: newest first, up to a quarter of the budget.
    let mut history_budget = budget / 4;
    let mut kept = Vec::new();
    for m in history.iter().rev() {
        let t = tokens(&m.content) + 8;
        if t > history_budget {
            break;
        }
        history_budget -= t;
        kept.push(m);
    }
    let history_left_out = history.len() - kept.len();
    let history_used = budget / 4 - history_budget;
    let mut remaining = budget - history_used;

    let mut report = ContextReport { history_left_out, ..ContextReport::default() };
    let mut titles = HashMap::new();
    let mut text = String::new();
    let mut add =
        |id: &str, title: &Option<String>, body: String, remaining: &mut usize, report: &mut ContextReport| {
            let heading = format!("\n## [{id}] {}\n", title.as_deref().unwrap_or("(untitled)"));
            let whole = tokens(&heading) + tokens(&body);
            if whole <= *remaining {
                *remaining -= whole;
                text.push_str(&heading);
                text.push_str(&body);
                true
            } else if *remaining > tokens(&heading) + 100 {
                let room = *remaining - tokens(&heading);
                let (start, _) = truncate_tokens(&body, room);
                report.cut.push(Cut {
                    id: id.into(),
                    title: title.clone(),
                    how: "truncated",
                    tokens: whole,
                    kept_tokens: room,
                });
                text.push_str(&heading);
                text.push_str(&start);
                text.push_str("\n[… cut to fit the model's context window]");
                *remaining = 0;
                true
            } else {
                report.cut.push(Cut {
                    id: id.into(),
                    title: title.clone(),
                    how: "left out",
                    tokens: whole,
                    kept_tokens: 0,
                });
                false
            }
        };
    for s in &context.sources {
        let mut body = String::new();
        for insight in &s.insights {
            body.push_str("Insight: ");
            body.push_str(insight.trim());
            body.push('\n');
        }
        if let Some(full) = &s.full_text {
            body.push_str(full.trim());
            body.push('\n');
        }
        if add(&s.id, &s.title, body, &mut remaining, &mut report) {
            report.sources.push(s.id.clone());
            report.insights += s.insights.len();
            titles.insert(s.id.clone(), s.title.clone());
        }
    }
    for n in &context.notes {
        if add(&n.id, &n.title, n.content.trim().to_string() + "\n", &mut remaining, &mut report) {
            report.notes.push(n.id.clone());
            titles.insert(n.id.clone(), n.title.clone());
        }
    }
    report.context_tokens = budget - history_used - remaining;

    let system = if text.is_empty() {
        format!("{INSTRUCTIONS}\n\n# Context\n(no sources or notes were chosen)")
    } else {
        format!("{INSTRUCTIONS}\n\n# Context\n{text}")
    };
    let mut messages = vec![Message::system(system)];
    for m in kept.into_iter().rev() {
        messages.push(if m.kind == "ai" {
            Message::assistant(m.content.clone())
        } else {
            Message::user(m.content.clone())
        });
    }
    messages.push(Message::user(message));
    Prompt { messages, report, titles }
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
        }
    }

    #[test]
    fn everything_fits_a_large_window() {
        let ctx = Context {
            sources: vec![source("source:a", "Alpha text.")],
            notes: vec![NoteContext { id: "note:n".into(), title: None, content: "A note.".into() }],
        };
        let p = prompt("gpt-4o-mini", &ctx, &[], "What is alpha?");
        assert!(p.report.cut.is_empty());
        assert_eq!(p.report.sources, ["source:a"]);
        assert_eq!(p.report.notes, ["note:n"]);
        assert!(p.messages[0].content.contains("[source:a] Title source:a"));
        assert_eq!(p.messages.last().unwrap().content, "What is alpha?");
    }

    #[test]
    fn a_small_window_cuts_the_crossing_item_and_leaves_out_the_rest() {
        let big = "word ".repeat(40_000);
        let ctx = Context { sources: vec![source("source:a", &big), source("source:b", "tiny")], notes: vec![] };
        let p = prompt("qwen-7b", &ctx, &[], "Q");
        assert_eq!(p.report.cut.len(), 2);
        assert_eq!((p.report.cut[0].id.as_str(), p.report.cut[0].how), ("source:a", "truncated"));
        assert_eq!((p.report.cut[1].id.as_str(), p.report.cut[1].how), ("source:b", "left out"));
        let total: usize = p.messages.iter().map(|m| tokens(&m.content)).sum();
        assert!(total + OUTPUT_TOKENS as usize / 2 <= context_window("qwen-7b"), "{total} tokens");
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
