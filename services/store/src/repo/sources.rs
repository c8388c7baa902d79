//! Sources of one owner: created with their `process_source` job and their notebook links in
//! one transaction; linked to and unlinked from notebooks (`reference`: source → notebook);
//! processed (text saved together with the transformation jobs it asks for); retried.

use serde_json::{Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::{NOT_FOUND, StoreError};
use crate::ids::RecordKey;
use crate::records::{Asset, Source, SourceDetail};

pub const PROCESS_SOURCE: &str = "process_source";

// `embedded_chunks`: the source's chunks with a vector (read from the chunks' `item` index).
const FIELDS: &str = "<string> id AS id, title, topics, asset, \
     (array::len((SELECT VALUE id FROM chunk WHERE item = $parent.id AND dim != NONE)) > 0) AS embedded, \
     array::len((SELECT VALUE id FROM chunk WHERE item = $parent.id AND dim != NONE)) AS embedded_chunks, \
     array::len((SELECT VALUE id FROM source_insight WHERE source = $parent.id)) AS insights_count, \
     <string> created AS created, <string> updated AS updated, \
     (IF command THEN <string> command ELSE NONE END) AS command_id, command.status AS status";

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("source", id).ok_or(StoreError::NotFound)
}

/// A new source.
#[derive(Debug, Clone, Default)]
pub struct NewSource {
    /// `text`, `link` or `upload`.
    pub kind: String,
    pub title: Option<String>,
    /// The text of a `text` source.
    pub content: Option<String>,
    pub asset: Asset,
    /// Notebook ids, already checked to be the owner's.
    pub notebooks: Vec<String>,
    /// Embed the text once it is extracted (`args.embed`: the job queues its `embed_item`).
    pub embed: bool,
    /// Drop an uploaded file once its text is kept (`args.delete_source`).
    pub delete_source: bool,
    /// Transformation ids (visible to the owner) to run on the text, each saving an insight
    /// (`args.transformations`).
    pub transformations: Vec<String>,
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
            LET $source = (CREATE ONLY source SET title = $title, text_chars = IF $content != NONE {{ string::len($content) }},
                           asset = {{ url: $url, file_path: $file_path }}, owner = $o).id;
            IF $content != NONE {{
                CREATE type::record('source_text', record::id($source)) SET owner = $o, content = $content;
            }};
            LET $job = (CREATE ONLY command SET app = $app, name = $job_name, status = 'new', owner = $o,
                        args = {{ source_id: <string> $source, kind: $kind, embed: $embed,
                                  delete_source: $delete_source, transformations: $transformations }}).id;
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
            ("embed", json!(new.embed)),
            ("delete_source", json!(new.delete_source)),
            ("transformations", json!(new.transformations)),
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
            "SELECT {FIELDS}, {} AS full_text, (SELECT VALUE <string> id FROM ->reference->notebook) AS notebooks, \
             command.error_message AS error_message \
             FROM type::record('source', $key) WHERE owner = type::record('user', $owner)",
            super::SOURCE_TEXT
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
        &format!(
            "SELECT title, {} AS full_text, asset FROM type::record('source', $key) WHERE owner = type::record('user', $owner)",
            super::SOURCE_TEXT
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
    )
    .await
}

/// What processing a source produced.
#[derive(Debug, Clone)]
pub struct Processed<'a> {
    pub title: &'a str,
    /// The text made from the source's file or link; none for a text source, whose text is
    /// kept as it is (not sent back to the database).
    pub full_text: Option<&'a str>,
    /// The `process_source` job (`command:…`): the transformation jobs are named after it, so
    /// a job run again after its worker died queues none twice.
    pub job_id: &'a str,
    /// Transformation ids to run on the text, one `run_transformation` job each.
    pub transformations: &'a [String],
    /// The uploaded file is dropped: the row stops naming it (the caller removes the file
    /// after this commits, so a crash in between leaves an unnamed file, never a row naming
    /// a missing one).
    pub forget_file: bool,
}

/// Saves a processed source's text and title, and queues its transformation jobs, in one
/// transaction.
pub async fn save_processed(db: &Db, owner: &str, id: &str, p: Processed<'_>) -> Result<(), StoreError> {
    let (owner_k, key) = (owner_key(owner)?, key(id)?);
    let job = RecordKey::parse("command", p.job_id).ok_or(StoreError::NotFound)?;
    let jobs: Vec<Value> = p
        .transformations
        .iter()
        .map(|t| json!({"key": super::insights::job_key(job.as_str(), t), "transformation_id": t}))
        .collect();
    let saved: Vec<Value> = rows(
        db,
        "{
            LET $o = type::record('user', $owner);
            LET $s = type::record('source', $key);
            LET $updated = (UPDATE $s SET title = $title, text_chars = IF $full_text != NONE { string::len($full_text) } ELSE { text_chars }
                            WHERE owner = $o RETURN VALUE id);
            IF !$updated { RETURN []; };
            IF $full_text != NONE {
                UPSERT type::record('source_text', record::id($s)) SET owner = $o, content = $full_text;
            };
            IF $forget_file { UPDATE $s SET asset.file_path = NONE; };
            FOR $j IN $jobs {
                LET $job = type::record('command', $j.key);
                IF !(SELECT VALUE id FROM $job) {
                    CREATE $job SET app = $app, name = $job_name, status = 'new', owner = $o,
                        args = { source_id: <string> $s, transformation_id: $j.transformation_id };
                };
            };
            RETURN [<string> $s];
        }",
        vec![
            ("owner", json!(owner_k.as_str())),
            ("key", json!(key.as_str())),
            ("title", json!(p.title)),
            ("full_text", json!(p.full_text)),
            ("forget_file", json!(p.forget_file)),
            ("jobs", json!(jobs)),
            ("app", json!(super::podcasts::APP)),
            ("job_name", json!(super::insights::RUN_TRANSFORMATION)),
        ],
    )
    .await?;
    if saved.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}

/// What a retry did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// The processing job is queued again (`new`).
    Queued,
    /// Its job is queued or running under a live lease: nothing to retry.
    Busy,
}

/// Queues a source's processing job again when it failed, was canceled, completed, or is
/// stuck (running with an expired lease, its worker gone). Its arguments (embed, file
/// deletion, transformations) stay as they were; a worker still holding it loses its lease.
pub async fn retry(db: &Db, owner: &str, id: &str) -> Result<Retry, StoreError> {
    let source = get(db, owner, id).await?;
    let owner_k = owner_key(owner)?;
    let Some(job) = source.command_id.as_deref().and_then(|j| RecordKey::parse("command", j)) else {
        // Every source gets a job at creation; one without cannot be processed again.
        return Err(StoreError::Shape(format!("source {id} has no processing job")));
    };
    let queued: Vec<Value> = rows(
        db,
        "UPDATE type::record('command', $job) SET status = 'new', attempts = 0, error_message = NONE,
             result = NONE, progress = NONE, lease_owner = NONE, lease_expires = NONE, heartbeat = NONE,
             updated = time::now()
         WHERE owner = type::record('user', $owner) AND (status IN ['failed', 'canceled', 'completed']
             OR (status = 'running' AND (lease_expires = NONE OR lease_expires < time::now())))
         RETURN VALUE <string> id",
        vec![("job", json!(job.as_str())), ("owner", json!(owner_k.as_str()))],
    )
    .await?;
    Ok(if queued.is_empty() { Retry::Busy } else { Retry::Queued })
}
