//! `run_transformation`: runs one transformation on a source's text with the owner's model
//! (the job's `model_id`, else their default transformation model) and key, and saves the
//! output as an insight of the source. The call is `ephitup_store::ai::run_transformation`,
//! the one `POST /transformations/execute` makes in the API. The insight is keyed by the job,
//! so a job taken again after its worker died replaces its own insight.

use anyhow::{Context, bail};
use ephitup_store::ai::{self, Caller};
use ephitup_store::chunks;
use ephitup_store::repo::chunks::{self as chunk_repo, Embed, ItemType};
use ephitup_store::repo::jobs::ClaimedJob;
use ephitup_store::repo::{insights, transformations};
use serde_json::{Value, json};

use super::{Ctx, Progress, arg};

pub async fn run(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<Value> {
    let source_id = arg(job, "source_id")?;
    let transformation_id = arg(job, "transformation_id")?;
    let model_id = job.args.get("model_id").and_then(Value::as_str);
    let transformation = transformations::get(&ctx.db, &job.owner, transformation_id)
        .await
        .with_context(|| format!("transformation {transformation_id}"))?;
    let source =
        insights::source_text(&ctx.db, &job.owner, source_id).await.with_context(|| format!("source {source_id}"))?;
    let text = source.full_text.unwrap_or_default();
    if text.trim().is_empty() {
        bail!("the source has no text to transform");
    }
    progress.set("transforming", 0, 1).await;
    let caller = Caller { db: &ctx.db, secrets: &ctx.secrets, fallback: &ctx.fallback, clients: &ctx.clients };
    let output = ai::run_transformation(caller, &job.owner, &transformation, model_id, &text).await?;
    if output.trim().is_empty() {
        bail!("the model answered nothing");
    }
    let insight_id = insights::save(&ctx.db, &job.owner, &job.id, source_id, &transformation.title, &output)
        .await
        .context("saving the insight")?;
    // The insight's chunks, for search; embedded when the owner embeds.
    let pieces = chunks::split_off_thread(&output).await;
    chunk_repo::replace(&ctx.db, &job.owner, ItemType::Insight, &insight_id, &pieces, Embed::IfOwnerEmbeds)
        .await
        .context("saving the insight's chunks")?;
    progress.set("done", 1, 1).await;
    Ok(json!({ "insight_id": insight_id, "source_id": source_id, "transformation_id": transformation.id }))
}
