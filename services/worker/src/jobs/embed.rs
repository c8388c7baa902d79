//! `embed_item`: gives the chunks of one source, note or insight their vectors, made with the
//! owner's default embedding model and key through `{base}/embeddings` (batched, retried like
//! every provider call); an item without chunks (written before chunks existed) is chunked
//! first. `rebuild_embeddings`: the same for many of the owner's items, each chunked again,
//! with progress `{processed, total}` and per-type counts in the result; one failing item is
//! counted and the rebuild goes on.

use anyhow::{Context, anyhow, bail};
use ephitup_store::ai::{self, Caller, ModelKind, Provider};
use ephitup_store::chunks;
use ephitup_store::records::Model;
use ephitup_store::repo::chunks::{self as chunk_repo, Embed, Include, ItemType};
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
    (provider, model): &(Provider, Model),
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
        let split = chunks::split_off_thread(&text).await;
        chunk_repo::replace(&ctx.db, owner, item_type, item_id, &split, Embed::No).await?;
        pieces = chunk_repo::of_item(&ctx.db, owner, item_type, item_id).await?;
    }
    if pieces.is_empty() {
        return Ok(0);
    }
    // Vectors are tagged with provider and model name, so a search compares only vectors of
    // the model it embeds the query with.
    let tag = format!("{}/{}", model.provider, model.name);
    let mut vectors = Vec::with_capacity(pieces.len());
    for batch in pieces.chunks(EMBED_BATCH) {
        let inputs: Vec<String> = batch.iter().map(|c| c.content.clone()).collect();
        let made = ai::embeddings(provider, &model.name, &inputs).await?;
        vectors.extend(batch.iter().map(|c| c.id.clone()).zip(made));
    }
    let dim = vectors.first().map(|(_, v)| v.len()).unwrap_or(0);
    if vectors.iter().any(|(_, v)| v.len() != dim) {
        bail!("the embedding model answered vectors of differing dimensions");
    }
    chunk_repo::ensure_vector_index(&ctx.db, dim).await.context("the vector index")?;
    Ok(chunk_repo::set_vectors(&ctx.db, owner, &tag, dim, vectors).await?)
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
    let (mut sources, mut notes, mut insights, mut failed) = (0u64, 0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    progress.set("embedding", 0, total).await;
    for (n, (item_type, id)) in items.iter().enumerate() {
        match embed(ctx, &model, &job.owner, *item_type, id, true).await {
            Ok(_) => match item_type {
                ItemType::Source => sources += 1,
                ItemType::Note => notes += 1,
                ItemType::Insight => insights += 1,
            },
            Err(e) => {
                failed += 1;
                tracing::warn!("rebuild {}: {} {id}: {e:#}", job.id, item_type.as_str());
                if failures.len() < FAILURES_LISTED {
                    failures.push(json!({"item_id": id, "item_type": item_type.as_str(), "error": format!("{e:#}")}));
                }
            }
        }
        progress.set("embedding", n as u64 + 1, total).await;
    }
    Ok(json!({
        "processed": total,
        "total": total,
        "stats": {"sources": sources, "notes": notes, "insights": insights, "failed": failed},
        "failures": failures,
    }))
}
