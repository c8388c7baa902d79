//! `process_source`: fills a source's `full_text` (and `title`, when the user gave none) from
//! what it holds — the text itself, an uploaded file under `DATA_PATH/uploads/`, or a link,
//! fetched with [`crate::fetch`] (timeout, size cap, no private addresses). With the text it
//! queues the transformations the source asked for (one `run_transformation` job each, in the
//! same transaction), then drops the uploaded file if the source said so (`delete_source`).
//! Last it writes the text's chunks (what search reads) and, when the source asked to be
//! embedded (`embed`), queues its `embed_item` job with them.

use anyhow::{Context, anyhow, bail};
use ephitup_store::chunks;
use ephitup_store::repo::chunks::{self as chunk_repo, Embed, ItemType};
use ephitup_store::repo::jobs::ClaimedJob;
use ephitup_store::repo::sources;
use serde_json::{Value, json};

use super::{Ctx, Progress, arg};
use crate::extract::{self, Extracted, Kind};
use crate::fetch;

pub async fn run(ctx: &Ctx, job: &ClaimedJob, progress: &Progress) -> anyhow::Result<Value> {
    let source_id = arg(job, "source_id")?;
    let sources::SourceWork { title, full_text, asset } =
        sources::source_work(&ctx.db, &job.owner, source_id).await.with_context(|| format!("source {source_id}"))?;
    let asset = asset.unwrap_or_default();
    progress.set("extracting", 0, 1).await;
    let kind = job.args.get("kind").and_then(Value::as_str).unwrap_or("text");
    let extracted = match kind {
        "text" => {
            let text = full_text.unwrap_or_default();
            if text.trim().is_empty() {
                bail!("the source has no text");
            }
            Extracted { title: None, text }
        }
        "upload" => {
            let relative = asset.file_path.as_deref().ok_or_else(|| anyhow!("the upload has no file"))?;
            let path = ephitup_store::files::upload(&ctx.data_path, relative)
                .ok_or_else(|| anyhow!("the uploaded file is missing, or outside the uploads directory"))?;
            let kind = Kind::from_extension(relative)
                .ok_or_else(|| anyhow!("this kind of file cannot be read (txt, md, html and pdf can)"))?;
            let bytes = tokio::fs::read(&path).await.context("reading the uploaded file")?;
            extract::extract(kind, bytes).await?
        }
        "link" => {
            let url = asset.url.as_deref().ok_or_else(|| anyhow!("the link source has no URL"))?;
            let page = fetch::fetch(url, ctx.links).await?;
            let kind = Kind::from_content_type(&page.content_type)
                .or_else(|| Kind::from_extension(page.url.path()))
                .ok_or_else(|| anyhow!("{url}: content of type `{}` cannot be read", page.content_type))?;
            extract::extract(kind, page.body).await?
        }
        other => bail!("unknown source kind `{other}`"),
    };
    let title = title
        .filter(|t| !t.trim().is_empty())
        .or(extracted.title)
        .unwrap_or_else(|| extract::title_from_text(&extracted.text));
    let transformations: Vec<String> = job
        .args
        .get("transformations")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let drop_file = kind == "upload" && job.args.get("delete_source").and_then(Value::as_bool).unwrap_or(false);
    let processed = sources::Processed {
        title: &title,
        // A text source's text is in its row already.
        full_text: (kind != "text").then_some(extracted.text.as_str()),
        job_id: &job.id,
        transformations: &transformations,
        forget_file: drop_file,
    };
    sources::save_processed(&ctx.db, &job.owner, source_id, processed).await?;
    // The row no longer names the file (committed above): removing it now can only leave an
    // unnamed file behind, never a source pointing at a missing one.
    if drop_file {
        if let Some(path) = asset.file_path.as_deref().and_then(|p| ephitup_store::files::upload(&ctx.data_path, p)) {
            if let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!("source {source_id}: its text is kept, its file {} not removed: {e}", path.display());
            }
        }
    }
    let embed = job.args.get("embed").and_then(Value::as_bool).unwrap_or(false);
    let chars = extracted.text.chars().count();
    // The text goes to the tokenizer: not held twice while it is split.
    let pieces = chunks::split_owned(extracted.text).await;
    let how = if embed { Embed::Yes } else { Embed::No };
    chunk_repo::replace(&ctx.db, &job.owner, ItemType::Source, source_id, &pieces, how)
        .await
        .context("saving the text's chunks")?;
    progress.set("done", 1, 1).await;
    Ok(json!({
        "source_id": source_id,
        "title": title,
        "chars": chars,
        "transformations_queued": transformations.len(),
        "file_deleted": drop_file,
        "embed": embed,
        "chunks": pieces.len(),
    }))
}
