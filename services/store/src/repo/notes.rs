//! Notes of one owner, optionally linked to a notebook (`artifact`: note → notebook).

use serde_json::json;

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
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

pub async fn list(db: &Db, owner: &str, notebook_id: Option<&str>) -> Result<Vec<Note>, StoreError> {
    let owner = owner_key(owner)?;
    match notebook_id {
        None => {
            rows(
                db,
                &format!("SELECT {FIELDS} FROM note WHERE owner = type::record('user', $owner) ORDER BY updated DESC"),
                vec![("owner", json!(owner.as_str()))],
            )
            .await
        }
        Some(nb) => {
            // The notebook must be the caller's: otherwise it does not exist for them.
            let nb = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
            super::notebooks::get(db, &format!("user:{}", owner.as_str()), nb.as_str()).await?;
            rows(
                db,
                &format!(
                    "{} SELECT {FIELDS} FROM $linked WHERE owner = type::record('user', $owner) ORDER BY updated DESC",
                    super::linked("linked", "artifact", "note")
                ),
                vec![("owner", json!(owner.as_str())), ("nb", json!(nb.as_str()))],
            )
            .await
        }
    }
}

pub async fn create(db: &Db, owner: &str, new: NewNote) -> Result<Note, StoreError> {
    let owner_k = owner_key(owner)?;
    let notebook = match &new.notebook_id {
        Some(nb) => {
            let nb = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
            super::notebooks::get(db, owner, nb.as_str()).await?;
            Some(nb)
        }
        None => None,
    };
    // One statement (a block) is one transaction: the note and its link are written together.
    let query = format!(
        "{{
            LET $note = (CREATE ONLY note SET title = $title, content = $content, note_type = $note_type,
                         owner = type::record('user', $owner)).id;
            IF $nb {{
                LET $notebook = type::record('notebook', $nb);
                RELATE $note->artifact->$notebook SET owner = type::record('user', $owner);
            }};
            RETURN SELECT {FIELDS} FROM $note;
        }}"
    );
    one(
        db,
        &query,
        vec![
            ("title", json!(new.title)),
            ("content", json!(new.content)),
            ("note_type", json!(new.note_type)),
            ("owner", json!(owner_k.as_str())),
            ("nb", json!(notebook.as_ref().map(RecordKey::as_str))),
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
    let fields = vec![
        ("title", json!(changes.title)),
        ("content", json!(changes.content)),
        ("note_type", json!(changes.note_type)),
    ];
    super::update_owned(db, "note", owner, id, fields).await?;
    get(db, owner, id).await
}

pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
    super::delete_owned(db, "note", owner, id).await
}
