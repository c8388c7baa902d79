//! Embeddings: `/api/embed` (queue the embedding of one source or note; wait for it unless
//! asked not to) and `/api/embeddings/rebuild` (one job that chunks and embeds many of the
//! caller's items, with its status). The worker does the work (`embed_item`,
//! `rebuild_embeddings`); these check first what it would fail on at once (no embedding model,
//! an item not the caller's) and say it as a client error.

use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use ephitup_store::ai::{self, Caller, ModelKind};
use ephitup_store::repo::chunks::{self, Include, ItemType};
use ephitup_store::repo::{jobs, notes, podcasts, sources};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::transformations::model_error;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

/// How long `POST /embed` without `async_processing` waits for the worker.
const WAIT: Duration = Duration::from_secs(25);
const POLL: Duration = Duration::from_millis(200);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(embed)).routes(routes!(rebuild)).routes(routes!(rebuild_status))
}

async fn check_embedding_model(state: &AppState, owner: &str) -> ApiResult<()> {
    let caller =
        Caller { db: &state.db, secrets: &state.secrets, fallback: &state.ai_fallback, clients: &state.ai_clients };
    ai::pick_model(caller, owner, None, ModelKind::Embedding).await.map_err(model_error)?;
    Ok(())
}

#[derive(Deserialize, ToSchema)]
struct EmbedRequest {
    item_id: String,
    /// `source` or `note`.
    item_type: String,
    /// Answer at once with the job (`true`), or when it is done (default).
    #[serde(default)]
    async_processing: bool,
}

#[derive(Serialize, ToSchema)]
struct EmbedAnswer {
    success: bool,
    message: String,
    item_id: String,
    item_type: String,
    command_id: String,
}

#[utoipa::path(
    post,
    path = "/embed",
    tag = "embeddings",
    security(("bearer" = [])),
    request_body = EmbedRequest,
    responses(
        (status = 200, description = "Queued (`async_processing`), or done; `success: false` with the reason when the job failed", body = EmbedAnswer),
        (status = 400, description = "Malformed JSON, no embedding model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source or note of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an item type other than `source` or `note`", body = ErrorBody),
    )
)]
async fn embed(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<EmbedRequest>,
) -> ApiResult<axum::Json<EmbedAnswer>> {
    let owner = user.id();
    let item_type = match ItemType::parse(&body.item_type) {
        Some(t @ (ItemType::Source | ItemType::Note)) => t,
        _ => return Err(ApiError::Unprocessable("item_type: `source` or `note`".into())),
    };
    let item_id = match item_type {
        ItemType::Source => sources::get(&state.db, owner, &body.item_id).await.map_err(store("Source"))?.id,
        _ => notes::get(&state.db, owner, &body.item_id).await.map_err(store("Note"))?.id,
    };
    check_embedding_model(&state, owner).await?;
    let args = json!({"item_type": item_type.as_str(), "item_id": item_id});
    let job = jobs::enqueue(&state.db, owner, chunks::EMBED_ITEM, args).await.map_err(store("Job"))?;
    let answer = |success: bool, message: String| EmbedAnswer {
        success,
        message,
        item_id: item_id.clone(),
        item_type: item_type.as_str().to_string(),
        command_id: job.clone(),
    };
    if body.async_processing {
        return Ok(axum::Json(answer(true, "Embedding queued".into())));
    }
    let deadline = Instant::now() + WAIT;
    loop {
        let j = podcasts::job(&state.db, owner, &job).await.map_err(store("Job"))?;
        match j.status.as_str() {
            "completed" => {
                let n = j.result.as_ref().and_then(|r| r["chunks"].as_u64()).unwrap_or(0);
                return Ok(axum::Json(answer(true, format!("Embedded {n} chunks"))));
            }
            "failed" | "canceled" => {
                let why = j.error_message.unwrap_or_else(|| j.status.clone());
                return Ok(axum::Json(answer(false, format!("Embedding failed: {why}"))));
            }
            _ if Instant::now() >= deadline => {
                return Ok(axum::Json(answer(true, "Embedding is still running; follow its job".into())));
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Items that have embeddings already.
    #[default]
    Existing,
    /// Every item with text.
    All,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
struct RebuildRequest {
    #[serde(default)]
    mode: Mode,
    #[serde(default = "yes")]
    include_sources: bool,
    #[serde(default = "yes")]
    include_notes: bool,
    #[serde(default = "yes")]
    include_insights: bool,
}

#[derive(Serialize, ToSchema)]
struct RebuildAnswer {
    command_id: String,
    total_items: usize,
    message: String,
}

#[utoipa::path(
    post,
    path = "/embeddings/rebuild",
    tag = "embeddings",
    security(("bearer" = [])),
    request_body = RebuildRequest,
    responses(
        (status = 200, description = "The rebuild's job and how many items it covers", body = RebuildAnswer),
        (status = 400, description = "Malformed JSON, no embedding model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn rebuild(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<RebuildRequest>,
) -> ApiResult<axum::Json<RebuildAnswer>> {
    let owner = user.id();
    check_embedding_model(&state, owner).await?;
    let include = Include { sources: body.include_sources, notes: body.include_notes, insights: body.include_insights };
    let all = body.mode == Mode::All;
    let total_items = chunks::rebuild_items(&state.db, owner, all, &include).await.map_err(store("Items"))?.len();
    let args = json!({
        "mode": if all { "all" } else { "existing" },
        "include_sources": include.sources,
        "include_notes": include.notes,
        "include_insights": include.insights,
    });
    let command_id = jobs::enqueue(&state.db, owner, chunks::REBUILD_EMBEDDINGS, args).await.map_err(store("Job"))?;
    Ok(axum::Json(RebuildAnswer {
        command_id,
        total_items,
        message: format!("Rebuilding the embeddings of {total_items} items"),
    }))
}

#[derive(Serialize, ToSchema)]
struct Progress {
    processed: u64,
    total: u64,
    percentage: f64,
}

#[derive(Serialize, ToSchema)]
struct RebuildStatus {
    command_id: String,
    /// `new`, `running`, `completed`, `failed` or `canceled`.
    status: String,
    progress: Progress,
    #[schema(value_type = Object)]
    stats: Value,
    started_at: String,
    completed_at: Option<String>,
    error_message: Option<String>,
}

#[utoipa::path(
    get,
    path = "/embeddings/rebuild/{command_id}/status",
    tag = "embeddings",
    security(("bearer" = [])),
    params(("command_id" = String, Path, description = "The rebuild's job")),
    responses(
        (status = 200, description = "Where the rebuild is", body = RebuildStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such rebuild of the caller", body = ErrorBody),
    )
)]
async fn rebuild_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(command_id): Path<String>,
) -> ApiResult<axum::Json<RebuildStatus>> {
    let job = podcasts::job(&state.db, user.id(), &command_id).await.map_err(store("Rebuild"))?;
    let result = job.result.clone().unwrap_or(Value::Null);
    let progress = job.progress.clone().unwrap_or(Value::Null);
    let (processed, total) = match job.status.as_str() {
        "completed" => (result["processed"].as_u64().unwrap_or(0), result["total"].as_u64().unwrap_or(0)),
        _ => (progress["done"].as_u64().unwrap_or(0), progress["total"].as_u64().unwrap_or(0)),
    };
    let percentage = if total == 0 {
        if job.status == "completed" { 100.0 } else { 0.0 }
    } else {
        (processed as f64 * 1000.0 / total as f64).round() / 10.0
    };
    let stats = match result.get("stats") {
        Some(s) => s.clone(),
        None => json!({"sources": 0, "notes": 0, "insights": 0, "failed": 0}),
    };
    let finished = matches!(job.status.as_str(), "completed" | "failed" | "canceled");
    Ok(axum::Json(RebuildStatus {
        command_id: job.job_id,
        status: job.status,
        progress: Progress { processed, total, percentage },
        stats,
        started_at: job.created,
        completed_at: finished.then_some(job.updated),
        error_message: job.error_message,
    }))
}
