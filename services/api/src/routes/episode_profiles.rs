//! `/api/episode-profiles`: the shared defaults and the caller's own episode profiles.
//! Read by name (own first, else the default), written by id (own only; defaults answer 403),
//! duplicated from any visible one. `speaker_config` must name a speaker profile the caller
//! can see.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ephitup_store::StoreError;
use ephitup_store::records::EpisodeProfile;
use ephitup_store::repo::episode_profiles::{self, EpisodeProfileChanges, EpisodeProfileData};
use ephitup_store::repo::speaker_profiles;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::speaker_profiles::{check_name, required};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Episode profile";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        // One segment is a name for GET and an id for PUT and DELETE (as in the API contract).
        .routes(routes!(read, update, remove))
        .routes(routes!(duplicate))
}

fn check_segments(n: i64) -> ApiResult<i64> {
    if (3..=20).contains(&n) { Ok(n) } else { Err(ApiError::Unprocessable(format!("num_segments: 3 to 20, not {n}"))) }
}

/// `speaker_config` names a speaker profile visible to the caller (a default or their own).
async fn check_speaker_config(state: &AppState, user: &CurrentUser, name: &str) -> ApiResult<String> {
    let name = required("speaker_config", name)?;
    match speaker_profiles::by_name(&state.db, user.id(), &name).await {
        Ok(_) => Ok(name),
        Err(StoreError::NotFound) => {
            Err(ApiError::Unprocessable(format!("speaker_config: no speaker profile named `{name}`")))
        }
        Err(e) => Err(store("Speaker profile")(e)),
    }
}

fn default_segments() -> i64 {
    5
}

#[utoipa::path(
    get,
    path = "/",
    tag = "episode-profiles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The default episode profiles and the caller's own", body = Vec<EpisodeProfile>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<EpisodeProfile>>> {
    Ok(axum::Json(episode_profiles::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEpisodeProfile {
    name: String,
    #[serde(default)]
    description: String,
    speaker_config: String,
    outline_provider: String,
    outline_model: String,
    transcript_provider: String,
    transcript_model: String,
    #[serde(default)]
    default_briefing: String,
    #[serde(default = "default_segments")]
    num_segments: i64,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "episode-profiles",
    security(("bearer" = [])),
    request_body = NewEpisodeProfile,
    responses(
        (status = 201, description = "Created", body = EpisodeProfile),
        (status = 400, description = "Malformed JSON, or the caller has one of that name", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A missing or bad field, or one of the wrong shape", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewEpisodeProfile>,
) -> ApiResult<(StatusCode, axum::Json<EpisodeProfile>)> {
    let name = check_name(&body.name)?;
    let outline_provider = required("outline_provider", &body.outline_provider)?;
    let outline_model = required("outline_model", &body.outline_model)?;
    let transcript_provider = required("transcript_provider", &body.transcript_provider)?;
    let transcript_model = required("transcript_model", &body.transcript_model)?;
    let num_segments = check_segments(body.num_segments)?;
    let speaker_config = check_speaker_config(&state, &user, &body.speaker_config).await?;
    let data = EpisodeProfileData {
        name,
        description: body.description,
        speaker_config,
        outline_provider,
        outline_model,
        transcript_provider,
        transcript_model,
        default_briefing: body.default_briefing,
        num_segments,
    };
    let profile = episode_profiles::create(&state.db, user.id(), data).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(profile)))
}

/// By name: the caller's own, else the default of that name.
#[utoipa::path(
    get,
    path = "/{id}",
    tag = "episode-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode profile's name (the caller's own, else the default of that name)")),
    responses(
        (status = 200, description = "The episode profile", body = EpisodeProfile),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such episode profile visible to the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<EpisodeProfile>> {
    Ok(axum::Json(episode_profiles::by_name(&state.db, user.id(), &name).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EpisodeProfileUpdate {
    name: Option<String>,
    description: Option<String>,
    speaker_config: Option<String>,
    outline_provider: Option<String>,
    outline_model: Option<String>,
    transcript_provider: Option<String>,
    transcript_model: Option<String>,
    default_briefing: Option<String>,
    num_segments: Option<i64>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "episode-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode profile's id")),
    request_body = EpisodeProfileUpdate,
    responses(
        (status = 200, description = "The episode profile as changed", body = EpisodeProfile),
        (status = 400, description = "Malformed JSON, or the caller has one of that name", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default episode profile: duplicate it to change it", body = ErrorBody),
        (status = 404, description = "No such episode profile of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad field, or one of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<EpisodeProfileUpdate>,
) -> ApiResult<axum::Json<EpisodeProfile>> {
    let text = |field: &str, v: Option<String>| v.as_deref().map(|v| required(field, v)).transpose();
    let mut changes = EpisodeProfileChanges {
        name: body.name.as_deref().map(check_name).transpose()?,
        description: body.description,
        speaker_config: None,
        outline_provider: text("outline_provider", body.outline_provider)?,
        outline_model: text("outline_model", body.outline_model)?,
        transcript_provider: text("transcript_provider", body.transcript_provider)?,
        transcript_model: text("transcript_model", body.transcript_model)?,
        default_briefing: body.default_briefing,
        num_segments: body.num_segments.map(check_segments).transpose()?,
    };
    if let Some(speaker_config) = &body.speaker_config {
        changes.speaker_config = Some(check_speaker_config(&state, &user, speaker_config).await?);
    }
    Ok(axum::Json(episode_profiles::update(&state.db, user.id(), &id, changes).await.map_err(store(WHAT))?))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "episode-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode profile's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default episode profile: duplicate it to change it", body = ErrorBody),
        (status = 404, description = "No such episode profile of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    episode_profiles::delete(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/{id}/duplicate",
    tag = "episode-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The episode profile's id")),
    responses(
        (status = 201, description = "A copy of the caller's own, named after the original", body = EpisodeProfile),
        (status = 400, description = "No free name for the copy", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such episode profile visible to the caller", body = ErrorBody),
    )
)]
async fn duplicate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<EpisodeProfile>)> {
    let copy = episode_profiles::duplicate(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(copy)))
}
