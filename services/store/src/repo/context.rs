//! The context of a notebook: the text of chosen sources and notes that a podcast or a chat is
//! built from. Every id is checked against the owner; one that is not theirs is
//! [`StoreError::NotFound`], as a missing one is (the original app silently skipped it and
//! read any user's rows).
//!
//! A chat reads it for its model's window ([`fit`]): a budget of tokens, the room its prompt
//! leaves for context. Items are read in order a page at a time (their sizes, a short note's
//! text with its size; then the text of the others that fit [`CHARS_PER_TOKEN`] characters a
//! token of what is left), each read item counted in the tokens its prompt holds
//! ([`PromptItem`]) on the tokenizer's thread; the one that crosses the budget
//! is taken (the prompt cuts it), a few after it to be named, and what lies past is counted,
//! not read. Pages after the first are sized by the tokens an item took so far. So a chat over
//! a notebook of 10,000 notes reads about what its prompt holds, not the notebook, and a
//! book-length source costs its budget, not its length.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{owner_key, rows};
use crate::chunks::{on_tokenizer_thread, tokens};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;

/// How much of a source goes into the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceDepth {
    /// Title, insights and the whole text.
    Full,
    /// Title and insights only.
    Insights,
}

/// What to put in: `None` takes every source (insights) and note of the notebook.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub sources: Option<Vec<(String, SourceDepth)>>,
    pub notes: Option<Vec<String>>,
}

/// Characters of context read for each token of a budget, at most: ample for prose and code
/// (about 4 a token in `cl100k_base`), so a budget is filled before the text read runs out; a
/// denser text fills less of it, never more. It bounds what one item's text is read at.
pub const CHARS_PER_TOKEN: usize = 8;

/// The most context read for a prompt (characters), whatever the budget: about 500,000 tokens
/// of prose. It bounds the API's memory: a turn holds what it read, twice at most, while it
/// builds its prompt, and 16 turns may stream at once (`API_MAX_STREAMS`).
pub const CONTEXT_CHARS_MAX: usize = 2 << 20;

/// Items past a token budget that are still read and kept, for a report to name what it left
/// out; the others are only counted ([`Context::unread`]).
pub const NAMED_PAST_BUDGET: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceContext {
    pub id: String,
    pub title: Option<String>,
    /// The source's insights (outputs of transformations), oldest first.
    pub insights: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_text: Option<String>,
    /// Its tokens in a prompt ([`PromptItem`]), when [`fit`] counted them.
    #[serde(skip)]
    pub tokens: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoteContext {
    pub id: String,
    pub title: Option<String>,
    pub content: String,
    /// Its tokens in a prompt ([`PromptItem`]), when [`fit`] counted them.
    #[serde(skip)]
    pub tokens: Option<usize>,
}

/// A source or note as a prompt holds it: a heading with its id (what the model cites) and
/// title, then its body. One rendering, so the tokens [`fit`] counts are the prompt's own.
pub trait PromptItem {
    fn id(&self) -> &str;
    fn title(&self) -> Option<&str>;
    fn body(&self) -> String;
    /// The tokens of heading and body, when counted as the item was read.
    fn tokens(&self) -> Option<usize>;
    fn set_tokens(&mut self, tokens: usize);

    fn heading(&self) -> String {
        format!("\n## [{}] {}\n", self.id(), self.title().unwrap_or("(untitled)"))
    }

    /// [`PromptItem::tokens`], else counted now (`cl100k_base`).
    fn count(&self) -> usize {
        self.tokens().unwrap_or_else(|| tokens(&self.heading()) + tokens(&self.body()))
    }
}

impl PromptItem for SourceContext {
    fn id(&self) -> &str {
        &self.id
    }
    fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    /// Its insights, then its full text if it is in whole.
    fn body(&self) -> String {
        let mut body = String::new();
        for insight in &self.insights {
            body.push_str("Insight: ");
            body.push_str(insight.trim());
            body.push('\n');
        }
        if let Some(full) = &self.full_text {
            body.push_str(full.trim());
            body.push('\n');
        }
        body
    }
    fn tokens(&self) -> Option<usize> {
        self.tokens
    }
    fn set_tokens(&mut self, tokens: usize) {
        self.tokens = Some(tokens);
    }
}

impl PromptItem for NoteContext {
    fn id(&self) -> &str {
        &self.id
    }
    fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }
    fn body(&self) -> String {
        self.content.trim().to_string() + "\n"
    }
    fn tokens(&self) -> Option<usize> {
        self.tokens
    }
    fn set_tokens(&mut self, tokens: usize) {
        self.tokens = Some(tokens);
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Context {
    pub sources: Vec<SourceContext>,
    pub notes: Vec<NoteContext>,
    /// Items past the budget of [`fit`] (and the few it named), counted, not read.
    #[serde(skip)]
    pub unread: usize,
    /// The item whose text [`fit`] cut at the budget (the last one read), if one was.
    #[serde(skip)]
    pub sliced: Option<String>,
}

/// The first page of a notebook's links: their sizes first, then the text of those that fit.
const PAGE: usize = 128;

/// The largest page of links. A page after the first holds about what the budget has room
/// for at the tokens an item took so far (a quarter more, and those to be named); without a
/// token budget (the whole context) pages double from [`PAGE`] up to this. The text of what a
/// page holds that fits is read in one query: what fits is bounded by the budget, not by the
/// page.
const MAX_LINK_PAGE: usize = 1_024;

/// The smallest page after the first: a few items more cost less than another query.
const MIN_LINK_PAGE: usize = 16;

// Sizes in characters, before any text is read. `base` goes in at every depth (a source's
// title and insights, a note's title and content), `text` is a source's full text.
const SOURCE_SIZE: &str = "<string> id AS id, \
     string::len(title ?? '') + math::sum((SELECT VALUE string::len(content) FROM source_insight WHERE source = $parent.id)) AS base, \
     text_chars ?? 0 AS text";
const NOTE_SIZE: &str = "<string> id AS id, string::len(title ?? '') + string::len(content ?? '') AS base, 0 AS text";
// A page of a notebook's notes: their sizes, and the text of those up to `$inline` characters
// with them and its tokens, as stored (most notes: one read of each row, not two, and no
// tokenizing).
const NOTE_PAGE: &str = "<string> id AS id, string::len(title ?? '') + string::len(content ?? '') AS base, 0 AS text, \
     title, IF string::len(content ?? '') <= $inline THEN content ?? '' END AS content, content_tokens";

/// The longest note a page of links reads with its size (characters): a page of 1,024 holds
/// 16 MiB of them at most; a longer one is read on its own, up to what is left of the budget.
const INLINE_CHARS: usize = 16 * 1024;

// The text, each cut at `$room` characters (what was left of the budget when the page began:
// every row but the last that fits is shorter). Full text only for the ids in `$full`.
const SOURCE_FIELDS: &str = "<string> id AS id, title, \
     IF <string> id IN $full THEN string::slice(type::record('source_text', record::id(id)).content ?? '', 0, $room) END AS full_text, \
     (SELECT content, created FROM source_insight WHERE source = $parent.id ORDER BY created).content AS insights";
const NOTE_FIELDS: &str = "<string> id AS id, title, string::slice(content ?? '', 0, $room) AS content";

#[derive(Deserialize)]
struct Size {
    id: String,
    base: usize,
    text: usize,
    /// A note's title and content when its page read them with its size ([`NOTE_PAGE`]).
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content: Option<String>,
    /// The tokens of that content, as stored with it (migration 0008; none before).
    #[serde(default)]
    content_tokens: Option<usize>,
}

#[derive(Deserialize)]
struct SourceRow {
    id: String,
    title: Option<String>,
    full_text: Option<String>,
    #[serde(default)]
    insights: Vec<String>,
}

/// Builds the context of one of the owner's notebooks, whole (`/chat/context`, a podcast):
/// nothing counted in tokens.
pub async fn build(db: &Db, owner: &str, notebook_id: &str, selection: Selection) -> Result<Context, StoreError> {
    Ok(begin(db, owner, notebook_id, selection).await?.read(db, owner, None).await?.0)
}

/// Builds the context of one of the owner's notebooks for a prompt with room for `tokens` of
/// it: items in order (sources, then notes; the notebook's newest `updated` first, or the order
/// chosen), each counted in its prompt tokens ([`PromptItem`]) as it is read; the one that
/// crosses the budget is taken (the prompt cuts it; if its text was cut at reading,
/// [`Context::sliced`] says so), [`NAMED_PAST_BUDGET`] after it already read are kept to be
/// named, the rest only counted ([`Context::unread`]). A chat reads what its prompt can hold,
/// not the notebook: the cost does not grow with the notebook. A chosen id that is not the
/// owner's is [`StoreError::NotFound`], whether or not it would fit.
pub async fn fit(
    db: &Db,
    owner: &str,
    notebook_id: &str,
    selection: Selection,
    tokens: usize,
) -> Result<Context, StoreError> {
    let (mut context, unwalked) = begin(db, owner, notebook_id, selection).await?.fit(db, owner, tokens).await?;
    context.unread += unwalked.count().await?;
    Ok(context)
}

/// What a notebook's context is read from before its budget is known, so that it can be read
/// while the model and the history are (a chat turn): the notebook checked, and for sources
/// and notes each, the chosen ones' sizes or the first page of the notebook's links (a short
/// note's text with it), all at once.
pub struct Start {
    notebook: RecordKey,
    sources: Part<(Size, SourceDepth)>,
    notes: Part<Size>,
}

/// How the items of one table begin: chosen (their sizes, in order) or linked.
enum Part<T> {
    Chosen(Vec<T>),
    Linked(Vec<Size>),
}

/// The links a walk for a budget did not reach, being counted ([`Context::unread`] less
/// them): a chat needs the number only for its report, so it can build its prompt and ask
/// the model meanwhile. Dropped unawaited, the counting is aborted.
#[derive(Default)]
pub struct Unwalked(Vec<(LinkCount, usize)>);

impl Unwalked {
    /// The links of the notebook not walked.
    pub async fn count(self) -> Result<usize, StoreError> {
        let mut unwalked = 0;
        for (count, walked) in self.0 {
            unwalked += count.links().await?.saturating_sub(walked);
        }
        Ok(unwalked)
    }
}

/// A notebook's links of one table being counted.
struct LinkCount(tokio::task::JoinHandle<Result<usize, StoreError>>);

impl LinkCount {
    fn start(db: &Db, nb: &str, table: Table) -> Self {
        let (db, nb) = (db.clone(), nb.to_string());
        // Counted from the notebook's edge keys, no record read: `SELECT count() … WHERE out =
        // type::record(…)` reads every link (the planner counts from the index only for a
        // literal id), 240 ms for 10,000 notes in a release server.
        LinkCount(tokio::spawn(async move {
            let links: Vec<usize> = rows(
                &db,
                &format!("SELECT VALUE count(<-{}) FROM type::record('notebook', $nb);", table.edge()),
                vec![("nb", json!(nb))],
            )
            .await?;
            Ok(links.first().copied().unwrap_or(0))
        }))
    }

    async fn links(mut self) -> Result<usize, StoreError> {
        (&mut self.0).await.map_err(|e| StoreError::Database(format!("counting a notebook's links failed: {e}")))?
    }
}

impl Drop for LinkCount {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Begins one of the owner's notebooks' context ([`Start`]).
pub async fn begin(db: &Db, owner: &str, notebook_id: &str, selection: Selection) -> Result<Start, StoreError> {
    let notebook = RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?;
    let owner_k = owner_key(owner)?;
    let (nb, o) = (&notebook, owner_k.as_str());
    let sources = async {
        Ok::<_, StoreError>(match selection.sources {
            Some(chosen) => {
                let sizes = sized(db, "source", SOURCE_SIZE, o, chosen.iter().map(|(id, _)| id)).await?;
                Part::Chosen(sizes.into_iter().zip(chosen.into_iter().map(|(_, depth)| depth)).collect())
            }
            None => Part::Linked(first_page(db, o, nb.as_str(), Table::Source).await?),
        })
    };
    let notes = async {
        Ok::<_, StoreError>(match selection.notes {
            Some(chosen) => Part::Chosen(sized(db, "note", NOTE_SIZE, o, chosen.iter()).await?),
            None => Part::Linked(first_page(db, o, nb.as_str(), Table::Note).await?),
        })
    };
    // Another user's notebook links to rows that are not the caller's: the pages read none of
    // them, and the check refuses it.
    let (checked, sources, notes) = tokio::join!(super::notebooks::check(db, owner, nb.as_str()), sources, notes);
    checked?;
    Ok(Start { notebook, sources: sources?, notes: notes? })
}

/// The first page of a notebook's links of `table` ([`PAGE`]; a note's text with it up to
/// [`INLINE_CHARS`]).
async fn first_page(db: &Db, owner: &str, nb: &str, table: Table) -> Result<Vec<Size>, StoreError> {
    link_page(db, owner, nb, table, 0, PAGE, INLINE_CHARS).await
}

/// A page of a notebook's links of `table`, newest `updated` first, with their sizes.
async fn link_page(
    db: &Db,
    owner: &str,
    nb: &str,
    table: Table,
    offset: usize,
    limit: usize,
    inline: usize,
) -> Result<Vec<Size>, StoreError> {
    let size_fields = match table {
        Table::Source => SOURCE_SIZE,
        Table::Note => NOTE_PAGE,
    };
    rows(
        db,
        &format!(
            "{} SELECT {size_fields} FROM $page WHERE owner = type::record('user', $owner);",
            super::linked_page(table.edge())
        ),
        vec![
            ("nb", json!(nb)),
            ("owner", json!(owner)),
            ("limit", json!(limit)),
            ("offset", json!(offset)),
            ("inline", json!(inline)),
        ],
    )
    .await
}

impl Start {
    /// The context for a prompt with room for `tokens` of it ([`fit`]), but for the links the
    /// walk did not reach: being counted ([`Unwalked`]), not in [`Context::unread`] yet.
    pub async fn fit(self, db: &Db, owner: &str, tokens: usize) -> Result<(Context, Unwalked), StoreError> {
        self.read(db, owner, Some(tokens)).await
    }

    async fn read(self, db: &Db, owner: &str, tokens: Option<usize>) -> Result<(Context, Unwalked), StoreError> {
        let owner = owner_key(owner)?;
        let mut reader = Reader::new(db, owner.as_str(), tokens);
        let nb = self.notebook.as_str();
        match self.sources {
            Part::Chosen(sizes) => reader.sources(sizes).await?,
            Part::Linked(first) => reader.linked(nb, Table::Source, first).await?,
        }
        match self.notes {
            Part::Chosen(sizes) => reader.notes(sizes).await?,
            Part::Linked(first) => reader.linked(nb, Table::Note, first).await?,
        }
        Ok((reader.context, reader.unwalked))
    }
}

/// The context of one of the owner's sources on its own for a prompt with room for `tokens`
/// of it: its title, insights and full text, read up to [`CHARS_PER_TOKEN`] characters a
/// token (a chat with one source).
pub async fn of_source(db: &Db, owner: &str, source_id: &str, tokens: usize) -> Result<Context, StoreError> {
    let owner = owner_key(owner)?;
    let sizes = sized(db, "source", SOURCE_SIZE, owner.as_str(), std::iter::once(&source_id.to_string())).await?;
    let mut reader = Reader::new(db, owner.as_str(), Some(tokens));
    reader.sources(sizes.into_iter().map(|s| (s, SourceDepth::Full)).collect()).await?;
    Ok(reader.context)
}

/// What a notebook links to.
#[derive(Clone, Copy)]
enum Table {
    Source,
    Note,
}

impl Table {
    /// The relation from its rows to notebooks.
    fn edge(self) -> &'static str {
        match self {
            Table::Source => "reference",
            Table::Note => "artifact",
        }
    }
}

/// An item taken into the context.
struct Taken<T> {
    size: Size,
    how: T,
    /// For the item that crosses the budget: what was left of it (characters).
    allowance: Option<usize>,
}

/// Reads items in order while the budget lasts.
struct Reader<'a> {
    db: &'a Db,
    owner: &'a str,
    /// Characters not yet spent: what the text of the items still to come is read up to.
    left: usize,
    /// Tokens of the budget not yet spent; `None`: not counted (the whole context).
    tokens: Option<usize>,
    /// An item crossed the token budget: those after it are only named, then counted.
    over: bool,
    /// Items kept past the token budget, to be named ([`NAMED_PAST_BUDGET`]).
    named: usize,
    /// The budget is spent: what comes next is counted only.
    spent: bool,
    context: Context,
    /// Links past a spent budget, being counted.
    unwalked: Unwalked,
}

impl<'a> Reader<'a> {
    fn new(db: &'a Db, owner: &'a str, tokens: Option<usize>) -> Self {
        let left = tokens.map_or(usize::MAX, |t| t.saturating_mul(CHARS_PER_TOKEN).min(CONTEXT_CHARS_MAX));
        Reader {
            db,
            owner,
            left,
            tokens,
            over: false,
            named: 0,
            spent: false,
            context: Context::default(),
            unwalked: Unwalked::default(),
        }
    }

    /// Takes from `sizes` what fits the characters left, and the item that crosses them with
    /// what was left of them ([`Taken::allowance`]); counts the rest as unread. Returns the room
    /// the text of those taken is read at: what was left before them.
    fn take<T>(&mut self, sizes: Vec<(Size, T)>) -> (Vec<Taken<T>>, usize) {
        let room = self.left;
        let mut taken = Vec::new();
        for (size, how) in sizes {
            if self.spent {
                self.context.unread += 1;
                continue;
            }
            let len = size.base + size.text;
            let allowance = (len >= self.left).then_some(self.left);
            self.left = self.left.saturating_sub(len);
            self.spent = self.left == 0;
            taken.push(Taken { size, how, allowance });
        }
        (taken, room)
    }

    /// Cuts the text of the item that crossed the characters left to `room` characters (the
    /// database read it up to what was left when its page began).
    fn cut(text: &mut String, room: usize) {
        if let Some((end, _)) = text.char_indices().nth(room) {
            text.truncate(end);
        }
    }

    /// Marks the item taken as the one whose text was cut at reading, if it is.
    fn sliced_if(&mut self, cut: &Option<String>, id: &str) {
        if cut.as_deref() == Some(id) {
            self.context.sliced = cut.clone();
        }
    }

    /// Past the token budget and the items to be named: nothing more is read.
    fn done(&self) -> bool {
        self.over && self.named >= NAMED_PAST_BUDGET
    }

    /// Counts the prompt tokens of items just read, on the tokenizer's thread (a page of text
    /// is CPU work): a body whose text's tokens were stored with it (`known`, a note's
    /// `content_tokens`) is not tokenized again. Without a token budget they are left uncounted.
    async fn counted<T: PromptItem>(&self, mut items: Vec<T>, known: Vec<Option<usize>>) -> Vec<T> {
        if self.tokens.is_none() || items.is_empty() {
            return items;
        }
        let texts: Vec<(String, Result<usize, String>)> = items
            .iter()
            .zip(known.into_iter().chain(std::iter::repeat(None)))
            .map(|(i, k)| (i.heading(), k.ok_or_else(|| i.body())))
            .collect();
        // A note's body is its trimmed text and a line break ([`PromptItem`] for notes).
        let counts = on_tokenizer_thread(move || {
            let body = |b: &Result<usize, String>| match b {
                Ok(stored) => stored + tokens("\n"),
                Err(body) => tokens(body),
            };
            texts.iter().map(|(h, b)| tokens(h) + body(b)).collect::<Vec<_>>()
        });
        // Were tokenizing to panic, the prompt counts again (and its caller reports it).
        if let Some(counts) = counts.await {
            for (item, n) in items.iter_mut().zip(counts) {
                item.set_tokens(n);
            }
        }
        items
    }

    /// Whether a counted item goes in: it fits, or it crosses the budget (the prompt cuts it),
    /// or it is one of the few after that are named. Otherwise it is counted as unread.
    fn admit(&mut self, item: &impl PromptItem) -> bool {
        let Some(left) = self.tokens.as_mut() else { return true };
        if self.over {
            if self.named < NAMED_PAST_BUDGET {
                self.named += 1;
                return true;
            }
            self.context.unread += 1;
            return false;
        }
        // Uncounted (the tokenizer failed): its bytes, more than its tokens.
        let n = item.tokens().unwrap_or_else(|| item.heading().len() + item.body().len());
        *left = left.saturating_sub(n);
        if *left == 0 {
            self.over = true;
            self.spent = true;
        }
        true
    }

    async fn sources(&mut self, sizes: Vec<(Size, SourceDepth)>) -> Result<(), StoreError> {
        // Only the full text of a source read in full counts.
        let sizes = sizes
            .into_iter()
            .map(|(s, depth)| {
                let text = if depth == SourceDepth::Full { s.text } else { 0 };
                (Size { text, ..s }, depth)
            })
            .collect();
        let (taken, room) = self.take(sizes);
        for page in taken.chunks(MAX_LINK_PAGE) {
            if self.done() {
                self.context.unread += page.len();
                continue;
            }
            let full: Vec<&str> =
                page.iter().filter(|t| t.how == SourceDepth::Full).map(|t| t.size.id.as_str()).collect();
            let found: Vec<SourceRow> = read(
                self.db,
                "source",
                SOURCE_FIELDS,
                self.owner,
                page.iter().map(|t| &t.size.id),
                vec![("room", json!(room.min(i64::MAX as usize))), ("full", json!(full))],
            )
            .await?;
            let mut by_id: HashMap<String, SourceRow> = found.into_iter().map(|r| (r.id.clone(), r)).collect();
            let (mut read, mut cut) = (Vec::with_capacity(page.len()), None);
            for t in page {
                // Gone since its size was read: as if it had not been there.
                let Some(row) = by_id.remove(&t.size.id) else { continue };
                let mut full_text = match t.how {
                    SourceDepth::Full => Some(row.full_text.unwrap_or_default()),
                    SourceDepth::Insights => None,
                };
                if let (Some(allowance), Some(text)) = (t.allowance, full_text.as_mut()) {
                    Self::cut(text, allowance.saturating_sub(t.size.base));
                    if t.size.base + t.size.text > allowance {
                        cut = Some(row.id.clone());
                    }
                }
                read.push(SourceContext {
                    id: row.id,
                    title: row.title,
                    insights: row.insights,
                    full_text,
                    tokens: None,
                });
            }
            for source in self.counted(read, Vec::new()).await {
                if self.admit(&source) {
                    self.sliced_if(&cut, &source.id);
                    self.context.sources.push(source);
                }
            }
        }
        Ok(())
    }

    async fn notes(&mut self, sizes: Vec<Size>) -> Result<(), StoreError> {
        let (mut taken, room) = self.take(sizes.into_iter().map(|s| (s, ())).collect());
        for page in taken.chunks_mut(MAX_LINK_PAGE) {
            if self.done() {
                self.context.unread += page.len();
                continue;
            }
            // Notes whose text did not come with their size are read now, up to the room.
            // (Collected before the await: a closure held across it would not be `Send`.)
            let unread: Vec<String> =
                page.iter().filter(|t| t.size.content.is_none()).map(|t| t.size.id.clone()).collect();
            let found: Vec<NoteContext> = if unread.is_empty() {
                Vec::new()
            } else {
                let binds = vec![("room", json!(room.min(i64::MAX as usize)))];
                read(self.db, "note", NOTE_FIELDS, self.owner, unread.iter(), binds).await?
            };
            let mut by_id: HashMap<String, NoteContext> = found.into_iter().map(|n| (n.id.clone(), n)).collect();
            let (mut read, mut known, mut cut) = (Vec::with_capacity(page.len()), Vec::with_capacity(page.len()), None);
            for t in page.iter_mut() {
                // A note read with its size comes with its text's tokens (if it has them).
                let (note, mut stored) = match t.size.content.take() {
                    Some(content) => {
                        let title = t.size.title.take();
                        (
                            Some(NoteContext { id: t.size.id.clone(), title, content, tokens: None }),
                            t.size.content_tokens,
                        )
                    }
                    None => (by_id.remove(&t.size.id), None),
                };
                // Gone since its size was read: as if it had not been there.
                let Some(mut note) = note else { continue };
                if let Some(allowance) = t.allowance {
                    // Its text may be cut: counted as it is.
                    stored = None;
                    let title = note.title.as_deref().map_or(0, |t| t.chars().count());
                    Self::cut(&mut note.content, allowance.saturating_sub(title));
                    if t.size.base > allowance {
                        cut = Some(note.id.clone());
                    }
                }
                read.push(note);
                known.push(stored);
            }
            for note in self.counted(read, known).await {
                if self.admit(&note) {
                    self.sliced_if(&cut, &note.id);
                    self.context.notes.push(note);
                }
            }
        }
        Ok(())
    }

    /// Walks the notebook's sources (insights) or notes a page at a time from the first page
    /// ([`first_page`]), newest `updated` first from the links' index, until a page is short
    /// (all are walked) or the budget is spent; then the links not walked are counted instead,
    /// from the notebook's edge keys ([`Unwalked`]).
    async fn linked(&mut self, nb: &str, table: Table, first: Vec<Size>) -> Result<(), StoreError> {
        let kept_before = self.kept(table);
        let tokens_before = self.tokens.unwrap_or(0);
        let (mut page, mut offset, mut limit) = (first, 0, PAGE);
        while !page.is_empty() {
            let full = page.len() >= limit;
            offset += page.len();
            match table {
                Table::Source => self.sources(page.into_iter().map(|s| (s, SourceDepth::Insights)).collect()).await?,
                Table::Note => self.notes(page).await?,
            }
            if !full {
                break;
            }
            if self.spent {
                self.unwalked.0.push((LinkCount::start(self.db, nb, table), offset));
                break;
            }
            limit = match self.tokens {
                // About what the budget still has room for, at the tokens an item took.
                Some(left) => {
                    let kept = (self.kept(table) - kept_before).max(1);
                    let per_item = (tokens_before.saturating_sub(left) / kept).max(1);
                    ((left / per_item + NAMED_PAST_BUDGET + 1) * 5 / 4).clamp(MIN_LINK_PAGE, MAX_LINK_PAGE)
                }
                None => (limit * 2).min(MAX_LINK_PAGE),
            };
            page = link_page(self.db, self.owner, nb, table, offset, limit, self.left.min(INLINE_CHARS)).await?;
        }
        Ok(())
    }

    /// Items of `table` in the context so far.
    fn kept(&self, table: Table) -> usize {
        match table {
            Table::Source => self.context.sources.len(),
            Table::Note => self.context.notes.len(),
        }
    }
}

/// The sizes of the owner's rows of `table` with these ids, in their order; an id that is
/// not the owner's is [`StoreError::NotFound`].
async fn sized<'a>(
    db: &Db,
    table: &'static str,
    fields: &'static str,
    owner: &str,
    ids: impl Iterator<Item = &'a String>,
) -> Result<Vec<Size>, StoreError> {
    let ids: Vec<&String> = ids.collect();
    let found: Vec<Size> = read(db, table, fields, owner, ids.iter().copied(), Vec::new()).await?;
    let mut by_id: HashMap<String, Size> = found.into_iter().map(|s| (s.id.clone(), s)).collect();
    ids.into_iter()
        .map(|id| {
            let key = RecordKey::parse(table, id).ok_or(StoreError::NotFound)?;
            by_id.remove(&format!("{table}:{}", key.as_str())).ok_or(StoreError::NotFound)
        })
        .collect()
}

/// The rows of `table` with these ids that the owner has (the others are simply absent).
async fn read<'a, T: serde::de::DeserializeOwned>(
    db: &Db,
    table: &'static str,
    fields: &'static str,
    owner: &str,
    ids: impl Iterator<Item = &'a String>,
    mut binds: Vec<(&'static str, serde_json::Value)>,
) -> Result<Vec<T>, StoreError> {
    let keys = ids.map(|id| RecordKey::parse(table, id).ok_or(StoreError::NotFound)).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = keys.iter().map(RecordKey::as_str).collect();
    binds.extend([("keys", json!(keys)), ("owner", json!(owner))]);
    rows(
        db,
        &format!(
            "LET $ids = array::map($keys, |$k| type::record('{table}', $k));
             SELECT {fields} FROM $ids WHERE owner = type::record('user', $owner);"
        ),
        binds,
    )
    .await
}
