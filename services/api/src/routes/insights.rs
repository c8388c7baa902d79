//! Insights: `/api/sources/{id}/insights` (list; create, which queues a `run_transformation`
//! job for the worker) and `/api/insights/{id}` (read, delete, save as a note). All of the
//! caller's own: another user's source or insight answers like a missing one.

use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ephitup_store::StoreError;
use ephitup_store::records::{Insight, Note};
use ephitup_store::repo::{insights, models, podcasts, transformations};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

/// How long `POST /sources/{id}/insights` waits for the worker before answering with the job.
const WAIT: Duration = Duration::from_secs(25);
const POLL: Duration = Duration::from_millis(200);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, remove)).routes(routes!(save_as_note))
}

#[utoipa::path(
    get,
    path = "/sources/{id}/insights",
    tag = "insights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The source's insights, oldest first", body = Vec<Insight>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<Insight>>> {
    Ok(axum::Json(insights::list(&state.db, user.id(), &id).await.map_err(store("Source"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewInsight {
    transformation_id: String,
    /// One of the caller's language models; default: their default transformation model.
    model_id: Option<String>,
}

/// The insight is still being made: follow its job.
#[derive(Serialize, ToSchema)]
struct InsightQueued {
    job_id: String,
    /// `new` or `running`.
    status: String,
    message: &'static str,
}

#[utoipa::path(
    post,
    path = "/sources/{id}/insights",
    tag = "insights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    request_body = NewInsight,
    responses(
        (status = 201, description = "The insight, made by the worker within the wait", body = Insight),
        (status = 202, description = "Queued and not done yet: its job (`GET /commands/jobs/{id}`)", body = InsightQueued),
        (status = 400, description = "Malformed JSON, no model to use, the source has no text yet, or no key for the model's provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source, transformation or model for the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
        (status = 502, description = "The job failed (the model or its provider); the reason", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<NewInsight>,
) -> ApiResult<Response> {
    let source = insights::source_text(&state.db, user.id(), &id).await.map_err(store("Source"))?;
    transformations::get(&state.db, user.id(), &body.transformation_id).await.map_err(store("Transformation"))?;
    // What the job would fail on at once is said now, as a client error.
    if source.full_text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(ApiError::BadRequest("the source has no text yet: wait for its processing to finish".into()));
    }
    let model_id = match &body.model_id {
        Some(m) => m.clone(),
        None => models::defaults(&state.db, user.id())
            .await
            .map_err(store("Defaults"))?
            .default_transformation_model
            .ok_or_else(|| {
            ApiError::BadRequest(
                "no model given, and no default transformation model is set: choose one under Models".into(),
            )
        })?,
    };
    models::get(&state.db, user.id(), &model_id).await.map_err(store("Model"))?;
    let job = insights::queue(&state.db, user.id(), &id, &body.transformation_id, Some(&model_id))
        .await
        .map_err(store("Source"))?;
    let deadline = Instant::now() + WAIT;
    loop {
        let j = podcasts::job(&state.db, user.id(), &job).await.map_err(store("Job"))?;
        match j.status.as_str() {
            "completed" => {
                let insight_id = j.result.as_ref().and_then(|r| r["insight_id"].as_str()).unwrap_or_default();
                let insight = insights::get(&state.db, user.id(), insight_id).await.map_err(store("Insight"))?;
                return Ok((StatusCode::CREATED, axum::Json(insight)).into_response());
            }
            "failed" | "canceled" => {
                let reason = j.error_message.unwrap_or_else(|| "no reason given".into());
                return Err(ApiError::BadGateway(format!("the transformation failed: {reason}")));
            }
            status if Instant::now() >= deadline => {
                let queued = InsightQueued {
                    job_id: job,
                    status: status.to_string(),
                    message: "The insight is being made; follow the job",
                };
                return Ok((StatusCode::ACCEPTED, axum::Json(queued)).into_response());
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

#[utoipa::path(
    get,
    path = "/insights/{id}",
    tag = "insights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The insight's id")),
    responses(
        (status = 200, description = "The insight", body = Insight),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such insight of the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Insight>> {
    Ok(axum::Json(insights::get(&state.db, user.id(), &id).await.map_err(store("Insight"))?))
}

#[utoipa::path(
    delete,
    path = "/insights/{id}",
    tag = "insights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The insight's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such insight of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    insights::delete(&state.db, user.id(), &id).await.map_err(store("Insight"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct SaveAsNote {
    /// One of the caller's notebooks to put the note in.
    notebook_id: Option<String>,
}

#[utoipa::path(
    post,
    path = "/insights/{id}/save-as-note",
    tag = "insights",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The insight's id")),
    request_body = SaveAsNote,
    responses(
        (status = 201, description = "The new `ai` note with the insight's content", body = Note),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such insight or notebook of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn save_as_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<SaveAsNote>,
) -> ApiResult<(StatusCode, axum::Json<Note>)> {
    insights::get(&state.db, user.id(), &id).await.map_err(store("Insight"))?;
    let note =
        insights::save_as_note(&state.db, user.id(), &id, body.notebook_id.as_deref()).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("Notebook"),
            other => store("Note")(other),
        })?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}
