//! The context of a notebook: the text of chosen sources and notes that a podcast or a chat is
//! built from. Every id is checked against the owner; one that is not theirs is
//! [`StoreError::NotFound`], as a missing one is (the original app silently skipped it and
//! read any user's rows).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;

// `created` is selected for ORDER BY (SurrealDB orders only by selected fields).
const SOURCE_FIELDS: &str = "<string> id AS id, title, full_text, created, \
     (SELECT content, created FROM source_insight WHERE source = $parent.id ORDER BY created).content AS insights";
const NOTE_FIELDS: &str = "<string> id AS id, title, content, created";

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Context {
    pub sources: Vec<SourceContext>,
    pub notes: Vec<NoteContext>,
}

#[derive(Deserialize)]
struct SourceRow {
    id: String,
    title: Option<String>,
    full_text: Option<String>,
    #[serde(default)]
    insights: Vec<String>,
}

/// Builds the context of one of the owner's notebooks.
pub async fn build(db: &Db, owner: &str, notebook_id: &str, selection: Selection) -> Result<Context, StoreError> {
    let nb = RecordKey::parse("notebook", notebook_id).ok_or(StoreError::NotFound)?;
    super::notebooks::check(db, owner, nb.as_str()).await?;
    let owner = owner_key(owner)?;

    let source_rows: Vec<SourceRow> = match &selection.sources {
        None => rows(
            db,
            &format!(
                "{} SELECT {SOURCE_FIELDS} FROM $linked WHERE owner = type::record('user', $owner) ORDER BY created",
                super::linked("linked", "reference", "source")
            ),
            vec![("owner", json!(owner.as_str())), ("nb", json!(nb.as_str()))],
        )
        .await?,
        Some(chosen) => {
            owned(db, "source", SOURCE_FIELDS, owner.as_str(), chosen.iter().map(|(id, _)| id.as_str())).await?
        }
    };
    let sources = match &selection.sources {
        None => source_rows.into_iter().map(|row| source_context(row, SourceDepth::Insights)).collect(),
        Some(chosen) => {
            let mut by_id: HashMap<String, SourceRow> = source_rows.into_iter().map(|r| (r.id.clone(), r)).collect();
            chosen
                .iter()
                .map(|(id, depth)| {
                    let key = RecordKey::parse("source", id).ok_or(StoreError::NotFound)?;
                    let row = by_id.remove(&format!("source:{}", key.as_str())).ok_or(StoreError::NotFound)?;
                    Ok(source_context(row, *depth))
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        }
    };

    let notes =
        match &selection.notes {
            None => rows(
                db,
                &format!(
                    "{} SELECT {NOTE_FIELDS} FROM $linked WHERE owner = type::record('user', $owner) ORDER BY created",
                    super::linked("linked", "artifact", "note")
                ),
                vec![("owner", json!(owner.as_str())), ("nb", json!(nb.as_str()))],
            )
            .await?,
            Some(chosen) => {
                let found: Vec<NoteContext> =
                    owned(db, "note", NOTE_FIELDS, owner.as_str(), chosen.iter().map(String::as_str)).await?;
                let mut by_id: HashMap<String, NoteContext> = found.into_iter().map(|n| (n.id.clone(), n)).collect();
                chosen
                    .iter()
                    .map(|id| {
                        let key = RecordKey::parse("note", id).ok_or(StoreError::NotFound)?;
                        by_id.remove(&format!("note:{}", key.as_str())).ok_or(StoreError::NotFound)
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?
            }
        };
    Ok(Context { sources, notes })
}

/// The context of one of the owner's sources on its own: its title, insights and whole text
/// (a chat with one source).
pub async fn of_source(db: &Db, owner: &str, source_id: &str) -> Result<Context, StoreError> {
    let owner = owner_key(owner)?;
    let found: Vec<SourceRow> = owned(db, "source", SOURCE_FIELDS, owner.as_str(), std::iter::once(source_id)).await?;
    let row = found.into_iter().next().ok_or(StoreError::NotFound)?;
    Ok(Context { sources: vec![source_context(row, SourceDepth::Full)], notes: Vec::new() })
}

fn source_context(row: SourceRow, depth: SourceDepth) -> SourceContext {
    let full_text = match depth {
        SourceDepth::Full => Some(row.full_text.unwrap_or_default()),
        SourceDepth::Insights => None,
    };
    SourceContext { id: row.id, title: row.title, insights: row.insights, full_text }
}

/// The rows of `table` with these ids that the owner has (the others are simply absent).
async fn owned<'a, T: serde::de::DeserializeOwned>(
    db: &Db,
    table: &'static str,
    fields: &'static str,
    owner: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<Vec<T>, StoreError> {
    let keys = ids.map(|id| RecordKey::parse(table, id).ok_or(StoreError::NotFound)).collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = keys.iter().map(RecordKey::as_str).collect();
    rows(
        db,
        &format!(
            "LET $ids = array::map($keys, |$k| type::record('{table}', $k));
             SELECT {fields} FROM $ids WHERE owner = type::record('user', $owner);"
        ),
        vec![("keys", json!(keys)), ("owner", json!(owner))],
    )
    .await
}
