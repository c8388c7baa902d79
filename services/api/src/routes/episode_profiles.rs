//! `/api/episode-profiles`: the shared defaults and the caller's own episode profiles.
//! Read by name (own first, else the default), written by id (own only; defaults answer 403),
//! duplicated from any visible one. `speaker_config` must name a speaker profile the caller
//! can see.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use ephitup_store::StoreError;
use ephitup_store::records::EpisodeProfile;
use ephitup_store::repo::episode_profiles::{self, EpisodeProfileChanges, EpisodeProfileData};
use ephitup_store::repo::speaker_profiles;
use serde::Deserialize;

use super::speaker_profiles::{check_name, required};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Episode profile";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        // One segment is a name for GET and an id for PUT and DELETE (as in the API contract).
        .route("/{id}", get(read).put(update).delete(remove))
        .route("/{id}/duplicate", post(duplicate))
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

async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<EpisodeProfile>>> {
    Ok(axum::Json(episode_profiles::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize)]
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
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<EpisodeProfile>> {
    Ok(axum::Json(episode_profiles::by_name(&state.db, user.id(), &name).await.map_err(store(WHAT))?))
}

#[derive(Deserialize)]
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

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    episode_profiles::delete(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn duplicate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<EpisodeProfile>)> {
    let copy = episode_profiles::duplicate(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(copy)))
}
