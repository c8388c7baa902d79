//! Notes of one owner, optionally linked to a notebook (`artifact`: note → notebook).

use serde_json::json;

use super::chunks::{Embed, ItemType};
use super::{Window, one, owner_key, rows};
use crate::chunks;
use crate::connect::Db;
use crate::error::{NOT_FOUND, StoreError};
use crate::ids::RecordKey;
use crate::records::Note;

const FIELDS: &str =
    "<string> id AS id, title, content, note_type, <string> created AS created, <string> updated AS updated";

/// A new note.
#[derive(Debug, Clone)]
pub struct NewNote {
    pub title: Option<String>,
    pub content: String,
    pub note_type: String,
    pub notebook_id: Option<String>,
}

/// The changes of an update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NoteChanges {
    pub title: Option<String>,
    pub content: Option<String>,
    pub note_type: Option<String>,
}

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("note", id).ok_or(StoreError::NotFound)
}

/// One page of the owner's notes (of one of their notebooks, if given), newest `updated`
/// first. Both read an index in that order and stop after the page: the cost of a page does
/// not grow with the notes there are.
pub async fn list(db: &Db, owner: &str, notebook_id: Option<&str>, window: Window) -> Result<Vec<Note>, StoreError> {
    let owner = owner_key(owner)?;
    let mut binds =
        vec![("owner", json!(owner.as_str())), ("limit", json!(window.limit)), ("offset", json!(window.offset))];
    match notebook_id {
        None => {
            rows(
                db,
                &format!(
                    "SELECT {FIELDS} FROM note WHERE owner = type::record('user', $owner) \
                     ORDER BY updated DESC LIMIT $limit START $offset"
                ),
                binds,
            )
            .await
        }
        Some(nb) => {
            // The notebook must be the caller's: otherwise it does not exist for them.
            let nb = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
            super::notebooks::check(db, &format!("user:{}", owner.as_str()), nb.as_str()).await?;
            binds.push(("nb", json!(nb.as_str())));
            rows(
                db,
                &format!(
                    "{} SELECT {FIELDS} FROM $page WHERE owner = type::record('user', $owner) ORDER BY updated DESC",
                    super::linked_page("artifact")
                ),
                binds,
            )
            .await
        }
    }
}

pub async fn create(db: &Db, owner: &str, new: NewNote) -> Result<Note, StoreError> {
    let owner_k = owner_key(owner)?;
    let notebook = match &new.notebook_id {
        Some(nb) => Some(RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?),
        None => None,
    };
    // One statement (a block) is one transaction: the notebook is checked to be the owner's
    // (one read by id, no counting), and the note and its link are written together.
    let query = format!(
        "{{
            LET $o = type::record('user', $owner);
            IF $nb {{
                LET $notebook = type::record('notebook', $nb);
                IF $notebook.owner != $o {{ THROW '{NOT_FOUND}' }};
            }};
            LET $note = (CREATE ONLY note SET title = $title, content = $content, content_tokens = $content_tokens,
                note_type = $note_type, owner = $o);
            LET $id = $note.id;
            IF $nb {{
                LET $notebook = type::record('notebook', $nb);
                RELATE $id->artifact->$notebook SET owner = $o, updated = $note.updated;
            }};
            LET $item = $id;
            LET $of = $id;
            {chunks}
            RETURN SELECT {FIELDS} FROM $id;
        }}",
        chunks = super::chunks::write_statements()
    );
    // The note's chunks (its text for search) are written with it; its embedding is queued
    // when the owner embeds. Short notes are one chunk; long ones are split off the async threads.
    let (chunks, content_tokens) = split(&new.content).await;
    one(
        db,
        &query,
        vec![
            ("title", json!(new.title)),
            ("content", json!(new.content)),
            ("content_tokens", json!(content_tokens)),
            ("note_type", json!(new.note_type)),
            ("owner", json!(owner_k.as_str())),
            ("nb", json!(notebook.as_ref().map(RecordKey::as_str))),
            ("item_type", json!(ItemType::Note.as_str())),
            ("chunks", super::chunks::chunks_bind(&chunks)),
            ("embed", super::chunks::embed_bind(Embed::IfOwnerEmbeds)),
        ],
    )
    .await
}

pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Note, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        &format!("SELECT {FIELDS} FROM type::record('note', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn update(db: &Db, owner: &str, id: &str, changes: NoteChanges) -> Result<Note, StoreError> {
    let text = match &changes.content {
        Some(content) => Some(split(content).await),
        None => None,
    };
    let fields = vec![
        ("title", json!(changes.title)),
        ("content", json!(changes.content)),
        // New text, its new count with it.
        ("content_tokens", json!(text.as_ref().map(|(_, tokens)| tokens))),
        ("note_type", json!(changes.note_type)),
    ];
    super::update_owned(db, "note", owner, id, fields).await?;
    // New text, new chunks (a second transaction: a crash in between leaves the old chunks
    // until the next edit or an embeddings rebuild; the note itself is saved).
    if let Some((chunks, _)) = &text {
        super::chunks::replace(db, owner, ItemType::Note, id, chunks, Embed::IfOwnerEmbeds).await?;
    }
    get(db, owner, id).await
}

/// A note's chunks and the tokens of its text (`content_tokens`: what a chat's context counts
/// it in without tokenizing it again). Short notes are split at once, long ones off the async
/// threads. If splitting failed: no chunks, and its bytes for its tokens (more than it holds:
/// a prompt never overfills).
async fn split(content: &str) -> (Vec<String>, usize) {
    match chunks::split_counted_off_thread(content).await {
        Some(split) => (split.chunks, split.tokens),
        None => (Vec::new(), content.trim().len()),
    }
}

pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    super::delete_owned(db, "note", owner, id).await
}
