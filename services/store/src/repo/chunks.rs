//! The chunks of the owner's sources, notes and insights (`chunk`, migration 0005): written
//! with their item (text cut by [`crate::chunks::split`]), given vectors by the worker's
//! `embed_item` jobs, and searched — by text through the full-text index (BM25, highlights), by
//! vector through the HNSW index of the embedding's dimension. Deleting an item deletes its
//! chunks (events in the migration).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::SearchHit;

/// Embeds the chunks of one item: `{item_type, item_id}`.
pub const EMBED_ITEM: &str = "embed_item";
/// Re-chunks and embeds many of an owner's items: `{mode, include_sources, include_notes,
/// include_insights}`; progress `{processed, total}`, result the stats.
pub const REBUILD_EMBEDDINGS: &str = "rebuild_embeddings";

/// Vectors written per transaction, and chunks written per transaction by [`replace`].
const BATCH: usize = 100;
/// Largest embedding dimension accepted (OpenAI's largest is 3,072).
pub const MAX_DIMENSION: usize = 8_192;

/// What a chunk's text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemType {
    Source,
    Note,
    Insight,
}

impl ItemType {
    /// How many kinds of item there are.
    pub const KINDS: usize = 3;

    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Source => "source",
            ItemType::Note => "note",
            ItemType::Insight => "insight",
        }
    }

    /// The table of the item's rows.
    pub fn table(self) -> &'static str {
        match self {
            ItemType::Source => "source",
            ItemType::Note => "note",
            ItemType::Insight => "source_insight",
        }
    }

    pub fn parse(s: &str) -> Option<ItemType> {
        match s {
            "source" => Some(ItemType::Source),
            "note" => Some(ItemType::Note),
            "insight" => Some(ItemType::Insight),
            _ => None,
        }
    }
}

/// Whether writing an item's chunks also queues an `embed_item` job for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embed {
    No,
    Yes,
    /// When the owner has a default embedding model and `default_embedding_option` is not
    /// `never` (notes and insights follow the owner's setup, as in the original app).
    IfOwnerEmbeds,
}

/// SurrealQL (inside a transaction that binds `$o`, the owner record) that is true when the
/// owner embeds new items.
pub(crate) const OWNER_EMBEDS: &str = "((SELECT VALUE default_embedding_model FROM default_models WHERE owner = $o)[0] != NONE \
     AND (SELECT VALUE default_embedding_option FROM user_settings WHERE owner = $o)[0] != 'never')";

/// SurrealQL (inside a transaction binding `$o`, `$item` — the item's record — `$of` (its source or note),
/// `$item_type`, `$chunks` — `[{seq, content}]` — and `$embed`) that replaces the item's chunks
/// and queues its embedding job when `$embed`.
pub(crate) fn write_statements() -> String {
    format!(
        "DELETE chunk WHERE item = $item;
         FOR $c IN $chunks {{
             CREATE chunk SET owner = $o, item = $item, item_type = $item_type, parent = $of,
                 seq = $c.seq, content = $c.content;
         }};
         IF $embed = true OR ($embed = 'owner' AND {OWNER_EMBEDS}) {{
             CREATE command SET app = '{app}', name = '{EMBED_ITEM}', status = 'new', owner = $o,
                 args = {{ item_type: $item_type, item_id: <string> $item }};
         }};",
        app = super::podcasts::APP
    )
}

/// The `$embed` bind of [`write_statements`].
pub(crate) fn embed_bind(embed: Embed) -> Value {
    match embed {
        Embed::No => json!(false),
        Embed::Yes => json!(true),
        Embed::IfOwnerEmbeds => json!("owner"),
    }
}

/// The `$chunks` bind of [`write_statements`].
pub(crate) fn chunks_bind(chunks: &[String]) -> Value {
    Value::Array(chunks.iter().enumerate().map(|(i, c)| json!({"seq": i, "content": c})).collect())
}

/// Replaces the chunks of one of the owner's items with `chunks` (in transactions of a few
/// hundred, the old ones removed in the first), and queues its embedding as `embed` says.
/// [`StoreError::NotFound`] when the item is not the owner's.
pub async fn replace(
    db: &Db,
    owner: &str,
    item_type: ItemType,
    item_id: &str,
    chunks: &[String],
    embed: Embed,
) -> Result<(), StoreError> {
    let owner_k = owner_key(owner)?;
    let key = RecordKey::parse(item_type.table(), item_id).ok_or(StoreError::NotFound)?;
    let parent = parent_of(item_type);
    let batches: Vec<&[String]> = if chunks.is_empty() { vec![&[]] } else { chunks.chunks(BATCH).collect() };
    let last = batches.len() - 1;
    for (n, batch) in batches.into_iter().enumerate() {
        let first_seq = n * BATCH;
        let items: Vec<Value> =
            batch.iter().enumerate().map(|(i, c)| json!({"seq": first_seq + i, "content": c})).collect();
        let done: Vec<Value> = rows(
            db,
            &format!(
                "{{
                    LET $o = type::record('user', $owner);
                    LET $row = (SELECT id, source FROM ONLY type::record('{table}', $key) WHERE owner = $o);
                    IF !$row {{ RETURN []; }};
                    LET $item = $row.id;
                    LET $of = {parent};
                    IF $first {{ DELETE chunk WHERE item = $item; }};
                    FOR $c IN $chunks {{
                        CREATE chunk SET owner = $o, item = $item, item_type = $item_type, parent = $of,
                            seq = $c.seq, content = $c.content;
                    }};
                    IF $last AND ($embed = true OR ($embed = 'owner' AND {OWNER_EMBEDS})) {{
                        CREATE command SET app = '{app}', name = '{EMBED_ITEM}', status = 'new', owner = $o,
                            args = {{ item_type: $item_type, item_id: <string> $item }};
                    }};
                    RETURN [<string> $item];
                }}",
                table = item_type.table(),
                app = super::podcasts::APP,
            ),
            vec![
                ("owner", json!(owner_k.as_str())),
                ("key", json!(key.as_str())),
                ("item_type", json!(item_type.as_str())),
                ("chunks", Value::Array(items)),
                ("first", json!(n == 0)),
                ("last", json!(n == last)),
                ("embed", embed_bind(embed)),
            ],
        )
        .await?;
        if done.is_empty() {
            return Err(StoreError::NotFound);
        }
    }
    Ok(())
}

/// The text of one of the owner's items, to chunk it again.
pub async fn item_text(db: &Db, owner: &str, item_type: ItemType, item_id: &str) -> Result<String, StoreError> {
    let found = texts(db, owner, item_type, &[item_id.to_string()]).await?;
    found.into_iter().next().map(|(_, text)| text).ok_or(StoreError::NotFound)
}

/// One chunk to embed.
#[derive(Debug, Clone, Deserialize)]
pub struct ChunkText {
    pub id: String,
    pub content: String,
}

/// The chunks of one of the owner's items, in order.
pub async fn of_item(db: &Db, owner: &str, item_type: ItemType, item_id: &str) -> Result<Vec<ChunkText>, StoreError> {
    let owner_k = owner_key(owner)?;
    let key = RecordKey::parse(item_type.table(), item_id).ok_or(StoreError::NotFound)?;
    rows(
        db,
        &format!(
            "SELECT <string> id AS id, content, seq FROM chunk WHERE item = type::record('{}', $key) \
             AND owner = type::record('user', $owner) ORDER BY seq",
            item_type.table()
        ),
        vec![("key", json!(key.as_str())), ("owner", json!(owner_k.as_str()))],
    )
    .await
}

/// The field holding vectors of `dim` dimensions.
fn vector_field(dim: usize) -> Result<String, StoreError> {
    if dim == 0 || dim > MAX_DIMENSION {
        return Err(StoreError::Shape(format!("an embedding of {dim} dimensions (1 to {MAX_DIMENSION} are kept)")));
    }
    Ok(format!("vec_{dim}"))
}

/// Defines the field and HNSW index (cosine distance) of `dim`-dimensional vectors, once per
/// database pool (the definitions are idempotent: `IF NOT EXISTS`). Per pool, not per process:
/// a process that talks to two databases (the tests do) defines them in each.
pub async fn ensure_vector_index(db: &Db, dim: usize) -> Result<(), StoreError> {
    if db.vector_dims.lock().map(|d| d.contains(&dim)).unwrap_or(false) {
        return Ok(());
    }
    let field = vector_field(dim)?;
    let _: Vec<Value> = rows(
        db,
        &format!(
            "DEFINE FIELD IF NOT EXISTS {field} ON chunk TYPE option<array<float>>;
             DEFINE INDEX IF NOT EXISTS chunk_{field} ON chunk FIELDS {field} HNSW DIMENSION {dim} DIST COSINE TYPE F32;
             RETURN [];"
        ),
        vec![],
    )
    .await?;
    if let Ok(mut dims) = db.vector_dims.lock() {
        dims.push(dim);
    }
    Ok(())
}

/// Whether vectors of `dim` dimensions have an index (some were stored).
async fn has_vector_index(db: &Db, dim: usize) -> Result<bool, StoreError> {
    let field = vector_field(dim)?;
    let info: Vec<Value> = rows(db, "RETURN [(INFO FOR TABLE chunk).indexes];", vec![]).await?;
    Ok(info.first().and_then(|i| i.get(format!("chunk_{field}"))).is_some())
}

/// Stores vectors (made by `model`, all of `dim` dimensions) on the owner's chunks; a chunk
/// replaced meanwhile (its item changed) is skipped. Returns how many were stored.
pub async fn set_vectors(
    db: &Db,
    owner: &str,
    model: &str,
    dim: usize,
    vectors: Vec<(String, Vec<f32>)>,
) -> Result<usize, StoreError> {
    let field = vector_field(dim)?;
    let owner_k = owner_key(owner)?;
    let mut stored = 0;
    for batch in vectors.chunks(BATCH) {
        let items: Vec<Value> = batch
            .iter()
            .filter_map(|(id, v)| RecordKey::parse("chunk", id).map(|k| json!({"key": k.as_str(), "vector": v})))
            .collect();
        let done: Vec<String> = rows(
            db,
            &format!(
                "{{
                    LET $o = type::record('user', $owner);
                    FOR $c IN $items {{
                        UPDATE type::record('chunk', $c.key) SET model = $model, dim = $dim, {field} = $c.vector
                            WHERE owner = $o;
                    }};
                    RETURN (SELECT VALUE <string> id FROM $items.map(|$c| type::record('chunk', $c.key))
                        WHERE owner = $o AND model = $model AND dim = $dim);
                }}"
            ),
            vec![
                ("owner", json!(owner_k.as_str())),
                ("items", Value::Array(items)),
                ("model", json!(model)),
                ("dim", json!(dim)),
            ],
        )
        .await?;
        stored += done.len();
    }
    Ok(stored)
}

/// Which of the owner's items a search covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub sources: bool,
    pub notes: bool,
    /// Only the sources and notes of this notebook.
    pub notebook_id: Option<String>,
}

impl Scope {
    fn item_types(&self) -> Vec<&'static str> {
        let mut types = Vec::new();
        if self.sources {
            types.extend(["source", "insight"]);
        }
        if self.notes {
            types.push("note");
        }
        types
    }

    /// Statements binding `$members` (the notebook's sources and notes) when a notebook is
    /// given, and the condition that uses it.
    async fn notebook_filter(&self, db: &Db, owner: &str) -> Result<(String, &'static str, Option<Value>), StoreError> {
        match &self.notebook_id {
            None => Ok((String::new(), "", None)),
            Some(nb) => {
                let nb = RecordKey::parse("notebook", nb).ok_or(StoreError::NotFound)?;
                super::notebooks::check(db, owner, nb.as_str()).await?;
                Ok((
                    format!(
                        "{} {} LET $members = array::concat($sources, $notes);",
                        super::linked("sources", "reference", "source"),
                        super::linked("notes", "artifact", "note")
                    ),
                    "AND parent IN $members",
                    Some(json!(nb.as_str())),
                ))
            }
        }
    }
}

#[derive(Deserialize)]
struct ChunkHit {
    item_id: String,
    item_type: String,
    parent_id: String,
    title: Option<String>,
    score: f64,
    matched: Option<String>,
}

/// Chunks read per hit asked for: several chunks of one item fold into one hit.
const CHUNKS_PER_HIT: usize = 4;
/// Passages shown per hit, at most.
const MATCHES_PER_HIT: usize = 3;

const HIT_FIELDS: &str = "<string> item AS item_id, item_type, <string> parent AS parent_id, \
     (IF item_type = 'insight' THEN item.insight_type ELSE item.title END) AS title";

/// Full-text search (BM25) of the owner's chunks; passages with `<mark>` highlights.
pub async fn search_text(
    db: &Db,
    owner: &str,
    query: &str,
    scope: &Scope,
    limit: usize,
) -> Result<Vec<SearchHit>, StoreError> {
    let owner_k = owner_key(owner)?;
    let types = scope.item_types();
    if types.is_empty() || query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let (lets, condition, nb) = scope.notebook_filter(db, owner).await?;
    let mut binds = vec![
        ("owner", json!(owner_k.as_str())),
        ("query", json!(query)),
        ("types", json!(types)),
        ("limit", json!(limit * CHUNKS_PER_HIT)),
    ];
    if let Some(nb) = nb {
        binds.push(("nb", nb));
    }
    let hits: Vec<ChunkHit> = rows(
        db,
        &format!(
            "{lets}
             SELECT {HIT_FIELDS}, search::score(1) AS score, search::highlight('<mark>', '</mark>', 1) AS matched
             FROM chunk WHERE content @1@ $query AND owner = type::record('user', $owner) AND item_type IN $types {condition}
             ORDER BY score DESC LIMIT $limit;"
        ),
        binds,
    )
    .await?;
    Ok(fold(hits, limit, None))
}

/// Vector search of the owner's chunks embedded by `model` (cosine similarity ≥ `min_score`),
/// nearest first; passages are the chunks' text.
#[allow(clippy::too_many_arguments)]
pub async fn search_vector(
    db: &Db,
    owner: &str,
    model: &str,
    vector: &[f32],
    scope: &Scope,
    limit: usize,
    min_score: f64,
) -> Result<Vec<SearchHit>, StoreError> {
    let owner_k = owner_key(owner)?;
    let types = scope.item_types();
    if types.is_empty() || !has_vector_index(db, vector.len()).await? {
        return Ok(Vec::new());
    }
    let field = vector_field(vector.len())?;
    let (lets, condition, nb) = scope.notebook_filter(db, owner).await?;
    let k = (limit * CHUNKS_PER_HIT).clamp(1, 1_000);
    let ef = (k * 2).max(40);
    let mut binds = vec![("owner", json!(owner_k.as_str())), ("model", json!(model)), ("vector", json!(vector))];
    if let Some(nb) = nb {
        binds.push(("nb", nb));
    }
    // Equalities on indexed fields gate the HNSW search through allow-lists made from their
    // indexes; `IN`, or any field without an index, is checked by reading each candidate's
    // record while the graph is walked (four times slower; migration 0006).
    let types = if types.len() == ItemType::KINDS {
        String::new()
    } else {
        format!("AND ({})", types.iter().map(|t| format!("item_type = '{t}'")).collect::<Vec<_>>().join(" OR "))
    };
    let hits: Vec<ChunkHit> = rows(
        db,
        &format!(
            "{lets}
             SELECT {HIT_FIELDS}, 1 - vector::distance::knn() AS score, content AS matched
             FROM chunk WHERE {field} <|{k},{ef}|> $vector AND owner = type::record('user', $owner)
                 AND model = $model {types} {condition}
             ORDER BY score DESC;"
        ),
        binds,
    )
    .await?;
    Ok(fold(hits, limit, Some(min_score)))
}

/// Folds chunk hits (best first) into one hit per item, keeping the order of each item's best.
fn fold(hits: Vec<ChunkHit>, limit: usize, min_score: Option<f64>) -> Vec<SearchHit> {
    let mut out: Vec<SearchHit> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for h in hits {
        if min_score.is_some_and(|m| h.score < m) {
            continue;
        }
        let passage = h.matched.map(|m| passage(&m));
        match at.get(&h.item_id) {
            Some(&i) => {
                if let Some(p) = passage
                    && out[i].matches.len() < MATCHES_PER_HIT
                {
                    out[i].matches.push(p);
                }
            }
            None => {
                if out.len() == limit {
                    continue;
                }
                at.insert(h.item_id.clone(), out.len());
                out.push(SearchHit {
                    id: h.item_id,
                    parent_id: h.parent_id,
                    item_type: h.item_type,
                    title: h.title,
                    score: h.score,
                    matches: passage.into_iter().collect(),
                });
            }
        }
    }
    out
}

/// Characters of a passage, at most: around the first highlight when there is one.
const PASSAGE_CHARS: usize = 300;

fn passage(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= PASSAGE_CHARS {
        return text.to_string();
    }
    let mark = text.find("<mark>").map(|b| text[..b].chars().count()).unwrap_or(0);
    let mut start = mark.saturating_sub(PASSAGE_CHARS / 3);
    let mut end = (start + PASSAGE_CHARS).min(chars.len());
    start = end.saturating_sub(PASSAGE_CHARS).min(start);
    // Do not cut a marker in two.
    let s: String = chars[start..end].iter().collect();
    let open = s.matches("<mark>").count();
    let close = s.matches("</mark>").count();
    let mut s = s;
    if open > close {
        while end < chars.len() && !s.ends_with("</mark>") {
            s.push(chars[end]);
            end += 1;
        }
    }
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < chars.len() { "…" } else { "" };
    format!("{prefix}{}{suffix}", s.trim())
}

/// Counts of an owner's items for a rebuild: what `mode` (`existing`: items with chunks that
/// have vectors; `all`: every item with text) covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Include {
    pub sources: bool,
    pub notes: bool,
    pub insights: bool,
}

/// An item a rebuild covers, with the length of its text (characters), so the worker can
/// group small items into shared calls and take large ones alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildItem {
    pub item_type: ItemType,
    pub id: String,
    pub chars: usize,
}

/// The SurrealQL (inside a statement binding `$row`, the item's `id` and `source`) of the
/// source or note a chunk of an item of `item_type` points at.
fn parent_of(item_type: ItemType) -> &'static str {
    match item_type {
        ItemType::Insight => "$row.source",
        _ => "$row.id",
    }
}

/// An item's text, in a `SELECT` of its rows.
fn text_field(item_type: ItemType) -> &'static str {
    match item_type {
        ItemType::Source => super::SOURCE_TEXT,
        ItemType::Note | ItemType::Insight => "content",
    }
}

/// The length of an item's text in characters, in a `SELECT` of its rows (a source's is kept
/// on it: its text is not read for it).
fn text_length(item_type: ItemType) -> &'static str {
    match item_type {
        ItemType::Source => "(text_chars ?? 0)",
        ItemType::Note | ItemType::Insight => "string::len(content ?? '')",
    }
}

/// The owner's items a rebuild covers, sources first.
pub async fn rebuild_items(db: &Db, owner: &str, all: bool, include: &Include) -> Result<Vec<RebuildItem>, StoreError> {
    let owner_k = owner_key(owner)?;
    let mut items = Vec::new();
    for (wanted, item_type) in
        [(include.sources, ItemType::Source), (include.notes, ItemType::Note), (include.insights, ItemType::Insight)]
    {
        if !wanted {
            continue;
        }
        let (table, length) = (item_type.table(), text_length(item_type));
        let from = if all {
            table.to_string()
        } else {
            format!(
                "array::distinct(SELECT VALUE item FROM chunk WHERE owner = $o AND item_type = '{}' AND dim != NONE)",
                item_type.as_str()
            )
        };
        #[derive(Deserialize)]
        struct Found {
            id: String,
            chars: usize,
        }
        let found: Vec<Found> = rows(
            db,
            &format!(
                "LET $o = type::record('user', $owner);
                 SELECT <string> id AS id, {length} AS chars FROM {from}
                 WHERE owner = $o AND {length} > 0;"
            ),
            vec![("owner", json!(owner_k.as_str()))],
        )
        .await?;
        items.extend(found.into_iter().map(|f| RebuildItem { item_type, id: f.id, chars: f.chars }));
    }
    Ok(items)
}

/// The texts of some of the owner's items of one type, `(id, text)`; ids not the owner's are
/// left out.
pub async fn texts(
    db: &Db,
    owner: &str,
    item_type: ItemType,
    ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    let owner_k = owner_key(owner)?;
    let keys: Vec<String> =
        ids.iter().filter_map(|id| RecordKey::parse(item_type.table(), id)).map(|k| k.as_str().to_string()).collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(Deserialize)]
    struct Text {
        id: String,
        text: Option<String>,
    }
    let found: Vec<Text> = rows(
        db,
        &format!(
            "SELECT <string> id AS id, {field} AS text FROM $keys.map(|$k| type::record('{table}', $k))
             WHERE owner = type::record('user', $owner);",
            field = text_field(item_type),
            table = item_type.table(),
        ),
        vec![("owner", json!(owner_k.as_str())), ("keys", json!(keys))],
    )
    .await?;
    Ok(found.into_iter().map(|t| (t.id, t.text.unwrap_or_default())).collect())
}

/// Replaces the chunks of several of the owner's items of one type in one transaction (for
/// small items: a rebuild's group), without queueing embeddings. Returns the new chunks' ids
/// per item, in the order given (none for an item that is not the owner's).
///
/// The chunks' keys are made here, so nothing is read back: a `LET` in a loop's body cannot
/// gather them, and reading them back by item and owner afterwards scanned the owner's chunks
/// once per item (a group of 64 then took over the 30 s a query may take).
pub async fn replace_many(
    db: &Db,
    owner: &str,
    item_type: ItemType,
    items: &[(String, Vec<String>)],
) -> Result<Vec<Vec<String>>, StoreError> {
    let owner_k = owner_key(owner)?;
    let parent = parent_of(item_type);
    let keys: Vec<Vec<RecordKey>> =
        items.iter().map(|(_, chunks)| chunks.iter().map(|_| RecordKey::random()).collect()).collect();
    let bind: Vec<Value> = items
        .iter()
        .zip(&keys)
        .map(|((id, chunks), keys)| {
            let key = RecordKey::parse(item_type.table(), id).map(|k| k.as_str().to_string()).unwrap_or_default();
            let chunks: Vec<Value> = chunks
                .iter()
                .zip(keys)
                .enumerate()
                .map(|(seq, (content, k))| json!({"seq": seq, "content": content, "key": k.as_str()}))
                .collect();
            json!({"key": key, "chunks": chunks})
        })
        .collect();
    let owned: Vec<bool> = rows(
        db,
        &format!(
            "{{
                LET $o = type::record('user', $owner);
                FOR $it IN $items {{
                    LET $row = IF $it.key = '' {{ NONE }} ELSE {{
                        (SELECT id, source FROM ONLY type::record('{table}', $it.key) WHERE owner = $o)
                    }};
                    IF $row {{
                        LET $item = $row.id;
                        LET $of = {parent};
                        DELETE chunk WHERE item = $item;
                        FOR $c IN $it.chunks {{
                            CREATE type::record('chunk', $c.key) SET owner = $o, item = $item, item_type = $item_type,
                                parent = $of, seq = $c.seq, content = $c.content;
                        }};
                    }};
                }};
                RETURN $items.map(|$it| IF $it.key = '' {{ false }} ELSE {{
                    type::record('{table}', $it.key).owner = type::record('user', $owner)
                }});
            }}",
            table = item_type.table(),
        ),
        vec![
            ("owner", json!(owner_k.as_str())),
            ("item_type", json!(item_type.as_str())),
            ("items", Value::Array(bind)),
        ],
    )
    .await?;
    if owned.len() != items.len() {
        return Err(StoreError::Shape(format!("{} answers for {} items", owned.len(), items.len())));
    }
    Ok(owned
        .into_iter()
        .zip(keys)
        .map(
            |(mine, keys)| {
                if mine { keys.iter().map(|k| format!("chunk:{}", k.as_str())).collect() } else { Vec::new() }
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passage_is_cut_around_its_first_highlight_without_splitting_a_marker() {
        let text = format!("{} the <mark>needle</mark> {}", "a".repeat(500), "b".repeat(500));
        let p = passage(&text);
        assert!(p.contains("<mark>needle</mark>"), "{p}");
        assert!(p.starts_with('…') && p.ends_with('…'));
        assert!(p.chars().count() <= PASSAGE_CHARS + 20);
        assert_eq!(passage("short <mark>one</mark>"), "short <mark>one</mark>");
    }

    #[test]
    fn chunk_hits_fold_into_one_hit_per_item() {
        let hit = |item: &str, score: f64| ChunkHit {
            item_id: item.into(),
            item_type: "note".into(),
            parent_id: item.into(),
            title: None,
            score,
            matched: Some(format!("{item} {score}")),
        };
        let folded = fold(vec![hit("a", 0.9), hit("b", 0.8), hit("a", 0.7), hit("c", 0.1)], 10, Some(0.2));
        assert_eq!(folded.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(folded[0].matches.len(), 2);
        assert_eq!(fold(vec![hit("a", 0.9), hit("b", 0.8)], 1, None).len(), 1);
    }
}
