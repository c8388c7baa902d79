//! The context of a notebook: the text of chosen sources and notes that a podcast or a chat is
//! built from. Every id is checked against the owner; one that is not theirs is
//! [`StoreError::NotFound`], as a missing one is (the original app silently skipped it and
//! read any user's rows).
//!
//! A chat reads it for its model's window ([`fit`]): a page of items' sizes first, then the
//! text of those that fit a budget of characters, the one that crosses it cut; what lies past
//! it is counted, not read. So a chat over a notebook of 10,000 notes reads what its prompt can
//! hold, not the notebook, and a book-length source costs its budget, not its length.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{owner_key, rows};
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceContext {
    pub id: String,
    pub title: Option<String>,
    /// The source's insights (outputs of transformations), oldest first.
    pub insights: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NoteContext {
    pub id: String,
    pub title: Option<String>,
    pub content: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Context {
    pub sources: Vec<SourceContext>,
    pub notes: Vec<NoteContext>,
    /// Items past the budget of [`fit`], counted, not read.
    #[serde(skip)]
    pub unread: usize,
    /// The item whose text [`fit`] cut at the budget (the last one read), if one was.
    #[serde(skip)]
    pub sliced: Option<String>,
}

/// The first page of a notebook's links: their sizes first, then the text of those that fit.
const PAGE: usize = 128;

/// A notebook's links are walked in pages that double from [`PAGE`] up to this: a page past
/// `START n` costs the `n` links it skips, so a context of 1,000 notes takes four pages, not
/// eight, and skips 1,408 links, not 3,584. The text of what a page holds that fits is read in
/// one query: what fits is bounded by the budget, not by the page.
const MAX_LINK_PAGE: usize = 1_024;

// Sizes in characters, before any text is read. `base` goes in at every depth (a source's
// title and insights, a note's title and content), `text` is a source's full text.
const SOURCE_SIZE: &str = "<string> id AS id, \
     string::len(title ?? '') + math::sum((SELECT VALUE string::len(content) FROM source_insight WHERE source = $parent.id)) AS base, \
     text_chars ?? 0 AS text";
const NOTE_SIZE: &str = "<string> id AS id, string::len(title ?? '') + string::len(content ?? '') AS base, 0 AS text";

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
}

#[derive(Deserialize)]
struct SourceRow {
    id: String,
    title: Option<String>,
    full_text: Option<String>,
    #[serde(default)]
    insights: Vec<String>,
}

/// Builds the context of one of the owner's notebooks, whole (`/chat/context`).
pub async fn build(db: &Db, owner: &str, notebook_id: &str, selection: Selection) -> Result<Context, StoreError> {
    fit(db, owner, notebook_id, selection, usize::MAX).await
}

/// Builds the context of one of the owner's notebooks up to `chars` characters of text: items
/// in order (sources, then notes; the notebook's newest `updated` first, or the order chosen),
/// the one that crosses the budget cut at it ([`Context::sliced`]), the rest only counted
/// ([`Context::unread`]). A chat reads what its prompt can hold, not the notebook: the cost does
/// not grow with the notebook. A chosen id that is not the owner's is [`StoreError::NotFound`],
/// whether or not it would fit.
pub async fn fit(
    db: &Db,
    owner: &str,
    notebook_id: &str,
    selection: Selection,
    chars: usize,
) -> Result<Context, StoreError> {
    let nb = RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?;
    super::notebooks::check(db, owner, nb.as_str()).await?;
    let owner = owner_key(owner)?;
    let mut reader = Reader { db, owner: owner.as_str(), left: chars, spent: false, context: Context::default() };

    match selection.sources {
        Some(chosen) => {
            let sizes = sized(db, "source", SOURCE_SIZE, owner.as_str(), chosen.iter().map(|(id, _)| id)).await?;
            let depths = chosen.into_iter().map(|(_, depth)| depth);
            reader.sources(sizes.into_iter().zip(depths).collect()).await?;
        }
        None => {
            reader.linked(nb.as_str(), Table::Source).await?;
        }
    }
    match selection.notes {
        Some(chosen) => {
            let sizes = sized(db, "note", NOTE_SIZE, owner.as_str(), chosen.iter()).await?;
            reader.notes(sizes).await?;
        }
        None => reader.linked(nb.as_str(), Table::Note).await?,
    }
    Ok(reader.context)
}

/// The context of one of the owner's sources on its own: its title, insights and full text up
/// to `chars` characters (a chat with one source).
pub async fn of_source(db: &Db, owner: &str, source_id: &str, chars: usize) -> Result<Context, StoreError> {
    let owner = owner_key(owner)?;
    let sizes = sized(db, "source", SOURCE_SIZE, owner.as_str(), std::iter::once(&source_id.to_string())).await?;
    let mut reader = Reader { db, owner: owner.as_str(), left: chars, spent: false, context: Context::default() };
    reader.sources(sizes.into_iter().map(|s| (s, SourceDepth::Full)).collect()).await?;
    Ok(reader.context)
}

/// What a notebook links to.
#[derive(Clone, Copy)]
enum Table {
    Source,
    Note,
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
    /// Characters of the budget not yet spent.
    left: usize,
    /// The budget is spent: what comes next is counted only.
    spent: bool,
    context: Context,
}

impl Reader<'_> {
    /// Takes from `sizes` what fits, and the item that crosses the budget with what was left of
    /// it ([`Taken::allowance`]); counts the rest as unread. Returns the room the text of those
    /// taken is read at: what was left of the budget before them.
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

    /// Cuts the text of the item that crossed the budget to `room` characters, and says so.
    fn cut(&mut self, id: &str, text: &mut String, room: usize) {
        if let Some((end, _)) = text.char_indices().nth(room) {
            text.truncate(end);
            self.context.sliced = Some(id.to_string());
        }
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
            for t in page {
                // Gone since its size was read: as if it had not been there.
                let Some(row) = by_id.remove(&t.size.id) else { continue };
                let mut full_text = match t.how {
                    SourceDepth::Full => Some(row.full_text.unwrap_or_default()),
                    SourceDepth::Insights => None,
                };
                if let (Some(allowance), Some(text)) = (t.allowance, full_text.as_mut()) {
                    self.cut(&row.id, text, allowance.saturating_sub(t.size.base));
                }
                self.context.sources.push(SourceContext {
                    id: row.id,
                    title: row.title,
                    insights: row.insights,
                    full_text,
                });
            }
        }
        Ok(())
    }

    async fn notes(&mut self, sizes: Vec<Size>) -> Result<(), StoreError> {
        let (taken, room) = self.take(sizes.into_iter().map(|s| (s, ())).collect());
        for page in taken.chunks(MAX_LINK_PAGE) {
            let found: Vec<NoteContext> = read(
                self.db,
                "note",
                NOTE_FIELDS,
                self.owner,
                page.iter().map(|t| &t.size.id),
                vec![("room", json!(room.min(i64::MAX as usize)))],
            )
            .await?;
            let mut by_id: HashMap<String, NoteContext> = found.into_iter().map(|n| (n.id.clone(), n)).collect();
            for t in page {
                let Some(mut note) = by_id.remove(&t.size.id) else { continue };
                if let Some(allowance) = t.allowance {
                    let title = note.title.as_deref().map_or(0, |t| t.chars().count());
                    self.cut(&note.id, &mut note.content, allowance.saturating_sub(title));
                }
                self.context.notes.push(note);
            }
        }
        Ok(())
    }

    /// Walks the notebook's sources (insights) or notes a page at a time, newest `updated`
    /// first from the links' index; once the budget is spent, the links not walked are counted
    /// instead.
    async fn linked(&mut self, nb: &str, table: Table) -> Result<(), StoreError> {
        let (edge, size_fields) = match table {
            Table::Source => ("reference", SOURCE_SIZE),
            Table::Note => ("artifact", NOTE_SIZE),
        };
        let (mut offset, mut limit) = (0, PAGE);
        while !self.spent {
            let sizes: Vec<Size> = rows(
                self.db,
                &format!(
                    "{} SELECT {size_fields} FROM $page WHERE owner = type::record('user', $owner);",
                    super::linked_page(edge)
                ),
                vec![
                    ("nb", json!(nb)),
                    ("owner", json!(self.owner)),
                    ("limit", json!(limit)),
                    ("offset", json!(offset)),
                ],
            )
            .await?;
            if sizes.is_empty() {
                return Ok(());
            }
            offset += sizes.len();
            limit = (limit * 2).min(MAX_LINK_PAGE);
            match table {
                Table::Source => self.sources(sizes.into_iter().map(|s| (s, SourceDepth::Insights)).collect()).await?,
                Table::Note => self.notes(sizes).await?,
            }
        }
        // Counted from the notebook's edge keys, no record read: `SELECT count() … WHERE out =
        // type::record(…)` reads every link (the planner counts from the index only for a
        // literal id), 240 ms for 10,000 notes in a release server, a turn's slowest step.
        let links: Vec<usize> = rows(
            self.db,
            &format!("SELECT VALUE count(<-{edge}) FROM type::record('notebook', $nb);"),
            vec![("nb", json!(nb))],
        )
        .await?;
        self.context.unread += links.first().copied().unwrap_or(0).saturating_sub(offset);
        Ok(())
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
