//! Sources of one owner: created with their `process_source` job and their notebook links in
//! one transaction; linked to and unlinked from notebooks (`reference`: source → notebook).

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::{NOT_FOUND, StoreError};
use crate::ids::RecordKey;
use crate::records::{Asset, Source, SourceDetail};

pub const PROCESS_SOURCE: &str = "process_source";

const FIELDS: &str = "<string> id AS id, title, topics, asset, false AS embedded, 0 AS embedded_chunks, \
     0 AS insights_count, <string> created AS created, <string> updated AS updated, \
     (IF command THEN <string> command ELSE NONE END) AS command_id, command.status AS status";

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("source", id).ok_or(StoreError::NotFound)
}

/// A new source.
#[derive(Debug, Clone)]
pub struct NewSource {
    /// `text`, `link` or `upload`.
    pub kind: String,
    pub title: Option<String>,
    /// The text of a `text` source.
    pub content: Option<String>,
    pub asset: Asset,
    /// Notebook ids, already checked to be the owner's.
    pub notebooks: Vec<String>,
}

/// Writes the source, its job and its links together; returns the source.
pub async fn create(db: &Db, owner: &str, new: NewSource) -> Result<Source, StoreError> {
    let owner_k = owner_key(owner)?;
    let mut notebook_keys = Vec::new();
    for nb in &new.notebooks {
        let k = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
        notebook_keys.push(k.as_str().to_string());
    }
    // One transaction: the notebooks are checked to be the owner's (a read by id each, no
    // counting), then the source, its job and its links are written.
    let created: Vec<Value> = rows(
        db,
        &format!(
            "{{
            LET $o = type::record('user', $owner);
            FOR $nb IN $notebooks {{
                LET $notebook = type::record('notebook', $nb);
                IF $notebook.owner != $o {{ THROW '{NOT_FOUND}' }};
            }};
            LET $source = (CREATE ONLY source SET title = $title, full_text = $content,
                           asset = {{ url: $url, file_path: $file_path }}, owner = $o).id;
            LET $job = (CREATE ONLY command SET app = $app, name = $job_name, status = 'new', owner = $o,
                        args = {{ source_id: <string> $source, kind: $kind }}).id;
            LET $saved = (UPDATE ONLY $source SET command = $job);
            FOR $nb IN $notebooks {{
                LET $notebook = type::record('notebook', $nb);
                RELATE $source->reference->$notebook SET owner = $o, updated = $saved.updated;
            }};
            RETURN [<string> $source];
        }}"
        ),
        vec![
            ("owner", json!(owner_k.as_str())),
            ("title", json!(new.title)),
            ("content", json!(new.content)),
            ("url", json!(new.asset.url)),
            ("file_path", json!(new.asset.file_path)),
            ("app", json!(super::podcasts::APP)),
            ("job_name", json!(PROCESS_SOURCE)),
            ("kind", json!(new.kind)),
            ("notebooks", json!(notebook_keys)),
        ],
    )
    .await?;
    let id = created.first().and_then(Value::as_str).ok_or_else(|| StoreError::Shape("no source id".into()))?;
    get(db, owner, id).await
}

/// How a list is sorted and paged.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
    /// `created`, `updated` or `title`.
    pub sort_by: &'static str,
    pub descending: bool,
}

pub async fn list(db: &Db, owner: &str, notebook_id: Option<&str>, page: Page) -> Result<Vec<Source>, StoreError> {
    let owner_k = owner_key(owner)?;
    let mut binds =
        vec![("owner", json!(owner_k.as_str())), ("limit", json!(page.limit)), ("offset", json!(page.offset))];
    let direction = if page.descending { "DESC" } else { "ASC" };
    let (linked, from, window) = match notebook_id {
        Some(nb) => {
            let nb = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
            super::notebooks::check(db, owner, nb.as_str()).await?;
            binds.push(("nb", json!(nb.as_str())));
            if page.sort_by == "updated" && page.descending {
                // The default order is the links' index order: only the page is read.
                (super::linked_page("reference"), "$page", "")
            } else {
                // Other orders read every link of the notebook, then sort.
                (super::linked("linked", "reference", "source"), "$linked", " LIMIT $limit START $offset")
            }
        }
        None => (String::new(), "source", " LIMIT $limit START $offset"),
    };
    rows(
        db,
        &format!(
            "{linked} SELECT {FIELDS} FROM {from} WHERE owner = type::record('user', $owner) ORDER BY {} {direction}{window}",
            page.sort_by
        ),
        binds,
    )
    .await
}

pub async fn get(db: &Db, owner: &str, id: &str) -> Result<Source, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        &format!("SELECT {FIELDS} FROM type::record('source', $key) WHERE owner = type::record('user', $owner)"),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn detail(db: &Db, owner: &str, id: &str) -> Result<SourceDetail, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        &format!(
            "SELECT {FIELDS}, full_text, (SELECT VALUE <string> id FROM ->reference->notebook) AS notebooks, \
             command.error_message AS error_message \
             FROM type::record('source', $key) WHERE owner = type::record('user', $owner)"
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

pub async fn update(
    db: &Db,
    owner: &str,
    id: &str,
    title: Option<String>,
    topics: Option<Vec<String>>,
) -> Result<Source, StoreError> {
    super::update_owned(db, "source", owner, id, vec![("title", json!(title)), ("topics", json!(topics))]).await?;
    get(db, owner, id).await
}

/// Deletes the source (its links go with it); returns it as it was, for its file.
pub async fn delete(db: &Db, owner: &str, id: &str) -> Result<Source, StoreError> {
    let source = get(db, owner, id).await?;
    super::delete_owned(db, "source", owner, id).await?;
    Ok(source)
}

pub async fn link(db: &Db, owner: &str, notebook_id: &str, source_id: &str) -> Result<(), StoreError> {
    super::notebooks::check(db, owner, notebook_id).await?;
    get(db, owner, source_id).await?;
    let (owner, nb, src) =
        (owner_key(owner)?, RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?, key(source_id)?);
    let _: Vec<Value> = rows(
        db,
        "{
            LET $s = type::record('source', $src);
            LET $n = type::record('notebook', $nb);
            IF !(SELECT VALUE id FROM reference WHERE in = $s AND out = $n) {
                RELATE $s->reference->$n SET owner = type::record('user', $owner), updated = $s.updated;
            };
            RETURN [];
        }",
        vec![("owner", json!(owner.as_str())), ("nb", json!(nb.as_str())), ("src", json!(src.as_str()))],
    )
    .await?;
    Ok(())
}

/// Removes a link; [`StoreError::NotFound`] when there was none (or not the owner's).
pub async fn unlink(db: &Db, owner: &str, notebook_id: &str, source_id: &str) -> Result<(), StoreError> {
    let (owner_k, nb, src) =
        (owner_key(owner)?, RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?, key(source_id)?);
    let removed: Vec<Value> = rows(
        db,
        "DELETE reference WHERE in = type::record('source', $src) AND out = type::record('notebook', $nb) \
         AND owner = type::record('user', $owner) RETURN BEFORE",
        vec![("owner", json!(owner_k.as_str())), ("nb", json!(nb.as_str())), ("src", json!(src.as_str()))],
    )
    .await?;
    if removed.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}

/// What the worker reads to process a source.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SourceWork {
    pub title: Option<String>,
    pub full_text: Option<String>,
    pub asset: Option<Asset>,
}

/// The source a `process_source` job of `owner` works on.
pub async fn source_work(db: &Db, owner: &str, id: &str) -> Result<SourceWork, StoreError> {
    let (owner, key) = (owner_key(owner)?, key(id)?);
    one(
        db,
        "SELECT title, full_text, asset FROM type::record('source', $key) WHERE owner = type::record('user', $owner)",
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// Saves a processed source's text and title.
pub async fn save_text(db: &Db, owner: &str, id: &str, title: &str, full_text: &str) -> Result<(), StoreError> {
    super::update_owned(db, "source", owner, id, vec![("title", json!(title)), ("full_text", json!(full_text))]).await
}
