//! Chat sessions of one owner (`chat_session`: of a notebook, or of one source) and their
//! messages (`chat_message`). Every read checks the owner: another user's session is missing
//! (the original app let anyone read any session by id). Deleting a session, its notebook or
//! its source deletes its messages (events in migration 0005). A session keeps its message
//! count (migration 0008), and a turn reads its history newest first, a page at a time, only
//! as far as the prompt has room: neither grows with the session.

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::chunks::{on_tokenizer_thread, tokens};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::{ChatMessage, ChatSession, Citation};

/// What a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Notebook(String),
    Source(String),
}

impl Scope {
    fn field(&self) -> &'static str {
        match self {
            Scope::Notebook(_) => "notebook",
            Scope::Source(_) => "source",
        }
    }

    fn key(&self) -> Result<RecordKey, StoreError> {
        match self {
            Scope::Notebook(id) => RecordKey::parse("notebook", id),
            Scope::Source(id) => RecordKey::parse("source", id),
        }
        .ok_or(StoreError::NotFound)
    }

    /// Fails with [`StoreError::NotFound`] unless the notebook or source is the owner's.
    async fn check(&self, db: &Db, owner: &str) -> Result<(), StoreError> {
        match self {
            Scope::Notebook(id) => super::notebooks::check(db, owner, id).await,
            Scope::Source(id) => super::sources::get(db, owner, id).await.map(|_| ()),
        }
    }
}

const FIELDS: &str = "<string> id AS id, title, (IF notebook THEN <string> notebook ELSE NONE END) AS notebook_id, \
     (IF source THEN <string> source ELSE NONE END) AS source_id, model_override, \
     message_count, \
     <string> created AS created, <string> updated AS updated";

const MESSAGE_FIELDS: &str = "<string> id AS id, type, content, citations, <string> timestamp AS timestamp";

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("chat_session", id).ok_or(StoreError::NotFound)
}

/// The sessions of one of the owner's notebooks or sources, most recently used first.
pub async fn list(db: &Db, owner: &str, scope: &Scope) -> Result<Vec<ChatSession>, StoreError> {
    scope.check(db, owner).await?;
    let (owner_k, target) = (owner_key(owner)?, scope.key()?);
    let field = scope.field();
    rows(
        db,
        &format!(
            "SELECT {FIELDS} FROM chat_session WHERE owner = type::record('user', $owner) \
             AND {field} = type::record('{field}', $target) ORDER BY updated DESC"
        ),
        vec![("owner", json!(owner_k.as_str())), ("target", json!(target.as_str()))],
    )
    .await
}

/// A new session of one of the owner's notebooks or sources.
pub async fn create(
    db: &Db,
    owner: &str,
    scope: &Scope,
    title: Option<&str>,
    model_override: Option<&str>,
) -> Result<ChatSession, StoreError> {
    scope.check(db, owner).await?;
    let (owner_k, target) = (owner_key(owner)?, scope.key()?);
    let field = scope.field();
    let title = title.map(str::trim).filter(|t| !t.is_empty()).unwrap_or("New chat");
    one(
        db,
        &format!(
            "{{
                LET $s = (CREATE ONLY chat_session SET title = $title, {field} = type::record('{field}', $target),
                    model_override = $model_override, owner = type::record('user', $owner));
                RETURN SELECT {FIELDS} FROM $s.id;
            }}"
        ),
        vec![
            ("owner", json!(owner_k.as_str())),
            ("target", json!(target.as_str())),
            ("title", json!(title)),
            ("model_override", json!(model_override)),
        ],
    )
    .await
}

/// One of the owner's sessions; with `scope`, only if it belongs there.
pub async fn get(db: &Db, owner: &str, id: &str, scope: Option<&Scope>) -> Result<ChatSession, StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(id)?);
    let session: ChatSession = one(
        db,
        &format!("SELECT {FIELDS} FROM type::record('chat_session', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner_k.as_str()))],
    )
    .await?;
    let belongs = match scope {
        None => true,
        Some(Scope::Notebook(nb)) => {
            session.notebook_id.as_deref().map(strip("notebook")) == Some(strip("notebook")(nb))
        }
        Some(Scope::Source(src)) => session.source_id.as_deref().map(strip("source")) == Some(strip("source")(src)),
    };
    if belongs { Ok(session) } else { Err(StoreError::NotFound) }
}

/// An id without its table prefix (`notebook:abc` and `abc` name the same row).
fn strip(table: &'static str) -> impl Fn(&str) -> &str {
    move |id| id.strip_prefix(table).and_then(|r| r.strip_prefix(':')).unwrap_or(id)
}

/// Changes the title and/or model override (`Some("")` clears the override).
pub async fn update(
    db: &Db,
    owner: &str,
    id: &str,
    title: Option<&str>,
    model_override: Option<&str>,
) -> Result<ChatSession, StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(id)?);
    let mut sets = vec!["updated = time::now()".to_string()];
    let mut binds = vec![("key", json!(key.as_str())), ("owner", json!(owner_k.as_str()))];
    if let Some(t) = title.map(str::trim).filter(|t| !t.is_empty()) {
        sets.push("title = $title".into());
        binds.push(("title", json!(t)));
    }
    match model_override {
        Some("") => sets.push("model_override = NONE".into()),
        Some(m) => {
            sets.push("model_override = $model_override".into());
            binds.push(("model_override", json!(m)));
        }
        None => {}
    }
    let updated: Vec<Value> = rows(
        db,
        &format!(
            "UPDATE type::record('chat_session', $key) SET {} WHERE owner = type::record('user', $owner) RETURN VALUE id",
            sets.join(", ")
        ),
        binds,
    )
    .await?;
    if updated.is_empty() {
        return Err(StoreError::NotFound);
    }
    get(db, owner, id, None).await
}

pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    super::delete_owned(db, "chat_session", owner, id).await
}

/// The messages of one of the owner's sessions, oldest first.
pub async fn messages(db: &Db, owner: &str, id: &str) -> Result<Vec<ChatMessage>, StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(id)?);
    rows(
        db,
        &format!(
            "SELECT {MESSAGE_FIELDS} FROM chat_message WHERE session = type::record('chat_session', $key) \
             AND owner = type::record('user', $owner) ORDER BY timestamp ASC"
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner_k.as_str()))],
    )
    .await
}

/// What a message of the history costs a prompt besides its text (its role and framing).
pub const MESSAGE_OVERHEAD: usize = 8;
/// The newest messages read with the model ([`newest`]); later pages double, up to
/// [`MAX_HISTORY_PAGE`].
pub const HISTORY_PAGE: usize = 16;
const MAX_HISTORY_PAGE: usize = 256;

/// A message of a session's history as read for a prompt: with the tokens of its content, as
/// stored when it was added (migration 0008; none before: counted as read).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Stored {
    #[serde(flatten)]
    pub message: ChatMessage,
    #[serde(default)]
    pub tokens: Option<usize>,
}

/// A page of one of the owner's sessions' messages, newest first (`start` newer ones skipped).
pub async fn newest(db: &Db, owner: &str, id: &str, start: usize, limit: usize) -> Result<Vec<Stored>, StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(id)?);
    // The index on (session, owner, timestamp) walks backward and stops at the limit.
    rows(
        db,
        &format!(
            "SELECT {MESSAGE_FIELDS}, tokens FROM chat_message WHERE session = type::record('chat_session', $key) \
             AND owner = type::record('user', $owner) ORDER BY timestamp DESC LIMIT $limit START $start"
        ),
        vec![
            ("key", json!(key.as_str())),
            ("owner", json!(owner_k.as_str())),
            ("limit", json!(limit)),
            ("start", json!(start)),
        ],
    )
    .await
}

/// The newest messages of a session that fit a prompt's room for history, each with what it
/// costs there ([`MESSAGE_OVERHEAD`] and its tokens).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Newest first.
    pub kept: Vec<(ChatMessage, usize)>,
    /// The session's older messages, not read or not fitting.
    pub left_out: usize,
    /// What `kept` costs in all.
    pub tokens: usize,
}

/// The history of one of the owner's sessions for `budget` tokens: `first` (the session's
/// [`newest`] [`HISTORY_PAGE`] messages) and as many older pages as the budget still has
/// room for, counted on the tokenizer thread; the first message that does not fit ends it.
pub async fn history(
    db: &Db,
    owner: &str,
    session: &ChatSession,
    first: Vec<Stored>,
    budget: usize,
) -> Result<History, StoreError> {
    let mut history = History::default();
    let (mut page, mut start, mut size) = (first, 0, HISTORY_PAGE);
    loop {
        let read = page.len();
        let Some(costed) = counted(page).await else {
            // No tokenizer thread: the history is what was counted.
            history.left_out = left(session, &history);
            return Ok(history);
        };
        for (message, cost) in costed {
            if history.tokens + cost > budget {
                history.left_out = left(session, &history).max(1);
                return Ok(history);
            }
            history.tokens += cost;
            history.kept.push((message, cost));
        }
        start += read;
        if read < size {
            // The oldest message is in.
            return Ok(history);
        }
        size = (size * 2).min(MAX_HISTORY_PAGE);
        page = newest(db, owner, &session.id, start, size).await?;
    }
}

/// The session's messages not in `history`, as the session counts them.
fn left(session: &ChatSession, history: &History) -> usize {
    usize::try_from(session.message_count).unwrap_or(0).saturating_sub(history.kept.len())
}

/// A page of messages with their costs: their stored tokens, else counted on the tokenizer
/// thread (`None`: it is gone).
async fn counted(page: Vec<Stored>) -> Option<Vec<(ChatMessage, usize)>> {
    let page = if page.iter().all(|m| m.tokens.is_some()) {
        page
    } else {
        on_tokenizer_thread(move || {
            page.into_iter()
                .map(|mut m| {
                    m.tokens = m.tokens.or_else(|| Some(count(&m.message.content)));
                    m
                })
                .collect::<Vec<_>>()
        })
        .await?
    };
    Some(page.into_iter().map(|m| (m.message, m.tokens.unwrap_or_default() + MESSAGE_OVERHEAD)).collect())
}

/// The tokens of a message's content; were tokenizing to panic, its bytes (more than it
/// holds: a prompt never overfills). On the tokenizer thread.
fn count(content: &str) -> usize {
    std::panic::catch_unwind(|| tokens(content)).unwrap_or(content.len())
}

/// Adds a message (`human` or `ai`) to one of the owner's sessions with its tokens, counts it
/// there and marks the session used; returns the message.
pub async fn add_message(
    db: &Db,
    owner: &str,
    session_id: &str,
    kind: &str,
    content: &str,
    citations: &[Citation],
) -> Result<ChatMessage, StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(session_id)?);
    // Counted once, here, for every turn that reads it back as history.
    let text = content.to_string();
    let tokens = on_tokenizer_thread(move || count(&text)).await.unwrap_or(content.len());
    one(
        db,
        &format!(
            "{{
                LET $o = type::record('user', $owner);
                LET $s = (UPDATE type::record('chat_session', $key) SET updated = time::now(), message_count += 1 WHERE owner = $o RETURN VALUE id);
                IF !$s {{ RETURN []; }};
                LET $m = (CREATE ONLY chat_message SET session = $s[0], type = $kind, content = $content,
                    tokens = $tokens, citations = $citations, owner = $o);
                RETURN SELECT {MESSAGE_FIELDS} FROM $m.id;
            }}"
        ),
        vec![
            ("owner", json!(owner_k.as_str())),
            ("key", json!(key.as_str())),
            ("kind", json!(kind)),
            ("content", json!(content)),
            ("tokens", json!(tokens)),
            // NONE, not null, for a title unknown: `option<string>` refuses null.
            (
                "citations",
                Value::Array(
                    citations
                        .iter()
                        .map(|c| match &c.title {
                            Some(t) => json!({"id": c.id, "title": t}),
                            None => json!({"id": c.id}),
                        })
                        .collect(),
                ),
            ),
        ],
    )
    .await
}
