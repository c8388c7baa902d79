//! `embed_item`: gives the chunks of one source, note or insight their vectors, made with the
//! owner's default embedding model and key through `{base}/embeddings` (batched, retried like
//! every provider call); an item without chunks (written before chunks existed) is chunked
//! first. `rebuild_embeddings`: the same for many of the owner's items, each chunked again,
//! with progress `{processed, total}` and per-type counts in the result. Small items go in
//! groups that share their round trips (texts read together, chunks written in one
//! transaction, embeddings calls of many items); a group that fails is taken again one item at
//! a time, so one failing item is counted and the rebuild goes on.

use anyhow::{Context, anyhow, bail};
use ephitup_store::ai::{self, Caller, ModelKind, Provider};
use ephitup_store::chunks;
use ephitup_store::records::Model;
use ephitup_store::repo::chunks::{self as chunk_repo, ChunkText, Embed, Include, ItemType, RebuildItem};
use ephitup_store::repo::jobs::ClaimedJob;
use serde_json::{Value, json};

use super::{Ctx, Progress, arg};

/// Chunks sent per embeddings call.
const EMBED_BATCH: usize = 64;
/// Failures listed in a rebuild's result, at most.
const FAILURES_LISTED: usize = 10;

pub async fn run_item(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<Value> {
    let item_type = ItemType::parse(arg(job, "item_type")?).ok_or_else(|| anyhow!("unknown item_type"))?;
    let item_id = arg(job, "item_id")?;
    progress.set("embedding", 0, 1).await;
    let model = embedder(ctx, &job.owner).await?;
    let stored = embed(ctx, &model, &job.owner, item_type, item_id, false).await?;
    progress.set("done", 1, 1).await;
    Ok(json!({"item_type": item_type.as_str(), "item_id": item_id, "chunks": stored}))
}

/// The owner's default embedding model, with where to call it.
async fn embedder(ctx: &Ctx, owner: &str) -> anyhow::Result<(Provider, Model)> {
    let caller = Caller { db: &ctx.db, secrets: &ctx.secrets, fallback: &ctx.fallback, clients: &ctx.clients };
    Ok(ai::pick_model(caller, owner, None, ModelKind::Embedding).await?)
}

/// Embeds one of the owner's items with `model`; returns how many chunks got a vector.
pub async fn embed(
    ctx: &Ctx,
    model: &(Provider, Model),
    owner: &str,
    item_type: ItemType,
    item_id: &str,
    rechunk: bool,
) -> anyhow::Result<usize> {
    let mut pieces = if rechunk {
        Vec::new()
    } else {
        chunk_repo::of_item(&ctx.db, owner, item_type, item_id)
            .await
            .with_context(|| format!("{} {item_id}", item_type.as_str()))?
    };
    if pieces.is_empty() {
        let text = chunk_repo::item_text(&ctx.db, owner, item_type, item_id).await?;
        let split = chunks::split_owned(text).await;
        chunk_repo::replace(&ctx.db, owner, item_type, item_id, &split, Embed::No).await?;
        pieces = chunk_repo::of_item(&ctx.db, owner, item_type, item_id).await?;
    }
    store_vectors(ctx, model, owner, &pieces).await
}

/// Embeds `pieces` in calls of [`EMBED_BATCH`] and stores each call's vectors before the next
/// call, so no more than one call's vectors are held; returns how many were stored.
async fn store_vectors(
    ctx: &Ctx,
    (provider, model): &(Provider, Model),
    owner: &str,
    pieces: &[ChunkText],
) -> anyhow::Result<usize> {
    // Vectors are tagged with provider and model name, so a search compares only vectors of
    // the model it embeds the query with.
    let tag = format!("{}/{}", model.provider, model.name);
    let mut dim = None;
    let mut stored = 0;
    for batch in pieces.chunks(EMBED_BATCH) {
        let inputs: Vec<String> = batch.iter().map(|c| c.content.clone()).collect();
        let made = ai::embeddings(provider, &model.name, &inputs).await?;
        let this = made.first().map(Vec::len).unwrap_or(0);
        match dim {
            None => {
                chunk_repo::ensure_vector_index(&ctx.db, this).await.context("the vector index")?;
                dim = Some(this);
            }
            Some(d) if d != this => bail!("the embedding model answered vectors of differing dimensions"),
            Some(_) => {}
        }
        let vectors = batch.iter().map(|c| c.id.clone()).zip(made).collect();
        stored += chunk_repo::set_vectors(&ctx.db, owner, &tag, this, vectors).await?;
    }
    Ok(stored)
}

/// Items of a rebuild whose texts together are at most this long (characters) share their
/// round trips: one read of their texts, one transaction for their chunks, shared embeddings
/// calls. A longer item is taken alone ([`embed`]), in batches of its own.
const GROUP_CHARS: usize = 256 * 1024;
/// Items in a group, at most.
const GROUP_ITEMS: usize = 64;

/// Splits a rebuild's items into runs of one type: small items grouped (at most
/// [`GROUP_ITEMS`], [`GROUP_CHARS`] of text together), each long one alone.
fn groups(items: &[RebuildItem]) -> Vec<&[RebuildItem]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = 0;
    for (i, item) in items.iter().enumerate() {
        let fits = i > start
            && items[start].item_type == item.item_type
            && i - start < GROUP_ITEMS
            && chars + item.chars <= GROUP_CHARS
            && item.chars <= GROUP_CHARS;
        if i > start && !fits {
            out.push(&items[start..i]);
            start = i;
            chars = 0;
        }
        chars += item.chars;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Chunks again and embeds a group of small items of one type, sharing the round trips;
/// returns the ids of the items done (an item gone meanwhile is left out).
async fn embed_group(
    ctx: &Ctx,
    model: &(Provider, Model),
    owner: &str,
    group: &[RebuildItem],
) -> anyhow::Result<Vec<String>> {
    let Some(item_type) = group.first().map(|i| i.item_type) else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = group.iter().map(|i| i.id.clone()).collect();
    let texts = chunk_repo::texts(&ctx.db, owner, item_type, &ids).await?;
    let split: Vec<(String, Vec<String>)> =
        chunks::on_tokenizer_thread(move || texts.into_iter().map(|(id, text)| (id, chunks::split(&text))).collect())
            .await
            .ok_or_else(|| anyhow!("splitting the texts failed"))?;
    let made = chunk_repo::replace_many(&ctx.db, owner, item_type, &split).await?;
    let mut done = Vec::new();
    let mut pieces = Vec::new();
    for ((id, contents), chunk_ids) in split.into_iter().zip(made) {
        if chunk_ids.len() != contents.len() {
            continue;
        }
        done.push(id);
        pieces.extend(chunk_ids.into_iter().zip(contents).map(|(id, content)| ChunkText { id, content }));
    }
    store_vectors(ctx, model, owner, &pieces).await?;
    Ok(done)
}

/// A rebuild's counts per type, and the failures it lists.
#[derive(Default)]
struct Tally {
    sources: u64,
    notes: u64,
    insights: u64,
    failed: u64,
    failures: Vec<Value>,
}

impl Tally {
    fn ok(&mut self, item_type: ItemType) {
        match item_type {
            ItemType::Source => self.sources += 1,
            ItemType::Note => self.notes += 1,
            ItemType::Insight => self.insights += 1,
        }
    }

    fn failed(&mut self, job: &str, item: &RebuildItem, e: &anyhow::Error) {
        self.failed += 1;
        tracing::warn!("rebuild {job}: {} {}: {e:#}", item.item_type.as_str(), item.id);
        if self.failures.len() < FAILURES_LISTED {
            self.failures
                .push(json!({"item_id": item.id, "item_type": item.item_type.as_str(), "error": format!("{e:#}")}));
        }
    }
}

pub async fn run_rebuild(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<Value> {
    let flag = |name: &str| job.args.get(name).and_then(Value::as_bool).unwrap_or(true);
    let all = job.args.get("mode").and_then(Value::as_str) == Some("all");
    let include =
        Include { sources: flag("include_sources"), notes: flag("include_notes"), insights: flag("include_insights") };
    // Fails the job at once, with what to configure, when there is no embedding model.
    let model = embedder(ctx, &job.owner).await?;

    let items = chunk_repo::rebuild_items(&ctx.db, &job.owner, all, &include).await?;
    let total = items.len() as u64;
    let mut tally = Tally::default();
    let mut processed = 0u64;
    progress.set("embedding", 0, total).await;
    for group in groups(&items) {
        let grouped = if group.len() > 1 { Some(embed_group(ctx, &model, &job.owner, group).await) } else { None };
        match grouped {
            Some(Ok(done)) => {
                for item in group {
                    if done.contains(&item.id) {
                        tally.ok(item.item_type);
                    } else {
                        tally.failed(&job.id, item, &anyhow!("not found: deleted during the rebuild"));
                    }
                }
            }
            // One at a time, alone or when the group failed: each item's failure is its own.
            _ => {
                for item in group {
                    match embed(ctx, &model, &job.owner, item.item_type, &item.id, true).await {
                        Ok(_) => tally.ok(item.item_type),
                        Err(e) => tally.failed(&job.id, item, &e),
                    }
                }
            }
        }
        processed += group.len() as u64;
        progress.set("embedding", processed, total).await;
    }
    Ok(json!({
        "processed": total,
        "total": total,
        "stats": {"sources": tally.sources, "notes": tally.notes, "insights": tally.insights, "failed": tally.failed},
        "failures": tally.failures,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(item_type: ItemType, chars: usize) -> RebuildItem {
        RebuildItem { item_type, id: format!("x:{chars}"), chars }
    }

    #[test]
    fn small_items_of_one_type_share_a_group_and_long_ones_go_alone() {
        let mut items: Vec<RebuildItem> = (0..70).map(|_| item(ItemType::Note, 100)).collect();
        items.insert(0, item(ItemType::Source, 10));
        items.insert(1, item(ItemType::Source, GROUP_CHARS + 1));
        items.push(item(ItemType::Insight, 5));
        let sizes: Vec<(ItemType, usize)> = groups(&items).iter().map(|g| (g[0].item_type, g.len())).collect();
        assert_eq!(
            sizes,
            vec![
                (ItemType::Source, 1),
                (ItemType::Source, 1),
                (ItemType::Note, GROUP_ITEMS),
                (ItemType::Note, 70 - GROUP_ITEMS),
                (ItemType::Insight, 1),
            ]
        );
    }

    #[test]
    fn a_group_holds_at_most_its_share_of_text() {
        let items: Vec<RebuildItem> = (0..4).map(|_| item(ItemType::Note, GROUP_CHARS / 3)).collect();
        let sizes: Vec<usize> = groups(&items).iter().map(|g| g.len()).collect();
        assert_eq!(sizes, vec![3, 1]);
    }
}
