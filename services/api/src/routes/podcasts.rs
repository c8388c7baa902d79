//! `/api/podcasts`: submit a generation (the episode and its job are created at once; the
//! worker does the rest), follow the job, list, read and delete episodes, and stream their
//! audio with HTTP Range support.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ephitup_store::StoreError;
use ephitup_store::records::{Episode, Job};
use ephitup_store::repo::podcasts::{self, Submission};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generate))
        .routes(routes!(create))
        .routes(routes!(job))
        .routes(routes!(list))
        .routes(routes!(read, remove))
        .routes(routes!(audio))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Generate {
    episode_profile: String,
    speaker_profile: String,
    episode_name: String,
    content: Option<String>,
    notebook_id: Option<String>,
    briefing_suffix: Option<String>,
}

/// A submitted generation: the episode and its job exist; the worker does the rest.
#[derive(Serialize, ToSchema)]
struct Submitted {
    job_id: String,
    /// Always `submitted`.
    status: &'static str,
    message: String,
    episode_profile: String,
    episode_name: String,
}

#[utoipa::path(
    post,
    path = "/generate",
    tag = "podcasts",
    security(("bearer" = [])),
    request_body = Generate,
    responses(
        (status = 200, description = "Submitted", body = Submitted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook is not the caller's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "No such profile, a bad name, no content, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn generate(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<Generate>,
) -> ApiResult<axum::Json<Submitted>> {
    let episode_name = body.episode_name.trim().to_string();
    if episode_name.is_empty() || episode_name.chars().count() > 200 {
        return Err(ApiError::Unprocessable("episode_name: 1 to 200 characters".into()));
    }
    let lookup = |table: &'static str, name: String, field: &'static str| {
        let state = state.clone();
        let user = user.clone();
        async move {
            podcasts::profile_by_name(&state.db, user.id(), table, &name).await.map_err(|e| match e {
                StoreError::NotFound => ApiError::Unprocessable(format!("{field}: no profile named `{name}`")),
                other => store("Profile")(other),
            })
        }
    };
    let episode_profile = lookup("episode_profile", body.episode_profile.clone(), "episode_profile").await?;
    let speaker_profile = lookup("speaker_profile", body.speaker_profile.clone(), "speaker_profile").await?;
    let mut content = body.content.unwrap_or_default();
    if let Some(nb) = &body.notebook_id {
        let text = podcasts::notebook_text(&state.db, user.id(), nb).await.map_err(store("Notebook"))?;
        if !text.is_empty() {
            if !content.is_empty() {
                content.push_str("\n\n");
            }
            content.push_str(&text);
        }
    }
    if content.trim().is_empty() {
        return Err(ApiError::Unprocessable(
            "content: give `content`, or a `notebook_id` with notes or sources".into(),
        ));
    }
    let mut briefing = episode_profile.get("default_briefing").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(suffix) = body.briefing_suffix.filter(|s| !s.trim().is_empty()) {
        briefing.push_str("\n\n");
        briefing.push_str(suffix.trim());
    }
    let submission =
        Submission { episode_name: episode_name.clone(), episode_profile, speaker_profile, briefing, content };
    let job_id = podcasts::submit(&state.db, user.id(), submission).await.map_err(store("Podcast"))?;
    Ok(axum::Json(Submitted {
        job_id,
        status: "submitted",
        message: format!("Podcast generation started for '{episode_name}'"),
        episode_profile: body.episode_profile,
        episode_name,
    }))
}

/// `POST /podcasts/create`: the original app's name for `generate`.
#[utoipa::path(
    post,
    path = "/create",
    tag = "podcasts",
    security(("bearer" = [])),
    request_body = Generate,
    responses(
        (status = 200, description = "Submitted", body = Submitted),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook is not the caller's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "No such profile, a bad name, no content, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn create(state: State<AppState>, user: CurrentUser, body: Json<Generate>) -> ApiResult<axum::Json<Submitted>> {
    generate(state, user, body).await
}

/// `GET /podcasts/jobs/{id}`: the same as `GET /commands/jobs/{id}`.
#[utoipa::path(
    get,
    path = "/jobs/{id}",
    tag = "podcasts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The job's id (`job_id` of a submission)")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such job of the caller", body = ErrorBody),
    )
)]
async fn job(state: State<AppState>, user: CurrentUser, id: Path<String>) -> ApiResult<axum::Json<Job>> {
    super::commands::job(state, user, id).await
}

/// An episode as clients read it.
#[derive(Serialize, ToSchema)]
struct EpisodeView {
    #[serde(flatten)]
    episode: Episode,
    /// Where to stream the audio from, once there is audio.
    audio_url: Option<String>,
}

fn view(episode: Episode) -> EpisodeView {
    let audio_url = episode.audio_file.as_ref().map(|_| format!("/api/podcasts/episodes/{}/audio", episode.id));
    EpisodeView { episode, audio_url }
}

#[utoipa::path(
    get,
    path = "/episodes",
    tag = "podcasts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's episodes, newest first", body = Vec<EpisodeView>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<EpisodeView>>> {
    let episodes = podcasts::episodes(&state.db, user.id()).await.map_err(store("Episode"))?;
    Ok(axum::Json(episodes.into_iter().map(view).collect()))
}

#[utoipa::path(
    get,
    path = "/episodes/{id}",
    tag = "podcasts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode's id")),
    responses(
        (status = 200, description = "The episode", body = EpisodeView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such episode of the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EpisodeView>> {
    Ok(axum::Json(view(podcasts::episode(&state.db, user.id(), &id).await.map_err(store("Episode"))?)))
}

#[utoipa::path(
    delete,
    path = "/episodes/{id}",
    tag = "podcasts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode's id")),
    responses(
        (status = 204, description = "Deleted, with its audio file"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such episode of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let episode = podcasts::delete_episode(&state.db, user.id(), &id).await.map_err(store("Episode"))?;
    if let Some(reference) = episode.audio_file.as_deref() {
        if let Err(e) = state.audio.delete(reference).await {
            tracing::warn!("episode {} deleted, its audio {reference} not: {e}", episode.id);
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/episodes/{id}/audio",
    tag = "podcasts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode's id")),
    responses(
        (status = 200, description = "The audio", content_type = "audio/mpeg", body = crate::openapi::Binary),
        (status = 206, description = "The requested `Range` of the audio", content_type = "audio/mpeg", body = crate::openapi::Binary),
        (status = 304, description = "Not modified since `If-None-Match` / `If-Modified-Since`"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such episode of the caller, or it has no audio yet", body = ErrorBody),
        (status = 416, description = "A `Range` outside the file"),
        (status = 503, description = "The audio storage (S3) cannot be reached", body = ErrorBody),
    )
)]
async fn audio(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let episode = podcasts::episode(&state.db, user.id(), &id).await.map_err(store("Episode"))?;
    let reference = episode.audio_file.as_deref().ok_or_else(|| ApiError::not_found("Audio"))?;
    crate::audio::serve(&state.audio, reference, &headers).await
}
