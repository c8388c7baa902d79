//! `/api/speaker-profiles`: the shared defaults and the caller's own speaker profiles.
//! Read by name (own first, else the default), written by id (own only; defaults answer 403),
//! duplicated from any visible one.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use ephitup_store::records::{Speaker, SpeakerProfile};
use ephitup_store::repo::speaker_profiles::{self, SpeakerProfileChanges, SpeakerProfileData};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Speaker profile";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        // One segment is a name for GET and an id for PUT and DELETE (as in the API contract).
        .route("/{id}", get(read).put(update).delete(remove))
        .route("/{id}/duplicate", post(duplicate))
}

/// A profile's name: 1 to 100 characters, trimmed.
pub(super) fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::Unprocessable("name: 1 to 100 characters".into()));
    }
    Ok(name.to_string())
}

/// A required text field: not empty once trimmed.
pub(super) fn required(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::Unprocessable(format!("{field}: must not be empty")));
    }
    Ok(value.to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpeakerBody {
    name: String,
    voice_id: String,
    #[serde(default)]
    backstory: String,
    #[serde(default)]
    personality: String,
}

fn check_speakers(speakers: Vec<SpeakerBody>) -> ApiResult<Vec<Speaker>> {
    if speakers.is_empty() || speakers.len() > 4 {
        return Err(ApiError::Unprocessable(format!("speakers: 1 to 4 speakers, not {}", speakers.len())));
    }
    speakers
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Ok(Speaker {
                name: required(&format!("speakers[{i}].name"), &s.name)?,
                voice_id: required(&format!("speakers[{i}].voice_id"), &s.voice_id)?,
                backstory: s.backstory,
                personality: s.personality,
            })
        })
        .collect()
}

async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<SpeakerProfile>>> {
    Ok(axum::Json(speaker_profiles::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSpeakerProfile {
    name: String,
    #[serde(default)]
    description: String,
    tts_provider: String,
    tts_model: String,
    speakers: Vec<SpeakerBody>,
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewSpeakerProfile>,
) -> ApiResult<(StatusCode, axum::Json<SpeakerProfile>)> {
    let data = SpeakerProfileData {
        name: check_name(&body.name)?,
        description: body.description,
        tts_provider: required("tts_provider", &body.tts_provider)?,
        tts_model: required("tts_model", &body.tts_model)?,
        speakers: check_speakers(body.speakers)?,
    };
    let profile = speaker_profiles::create(&state.db, user.id(), data).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(profile)))
}

/// By name: the caller's own, else the default of that name.
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<SpeakerProfile>> {
    Ok(axum::Json(speaker_profiles::by_name(&state.db, user.id(), &name).await.map_err(store(WHAT))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpeakerProfileUpdate {
    name: Option<String>,
    description: Option<String>,
    tts_provider: Option<String>,
    tts_model: Option<String>,
    speakers: Option<Vec<SpeakerBody>>,
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<SpeakerProfileUpdate>,
) -> ApiResult<axum::Json<SpeakerProfile>> {
    let changes = SpeakerProfileChanges {
        name: body.name.as_deref().map(check_name).transpose()?,
        description: body.description,
        tts_provider: body.tts_provider.as_deref().map(|v| required("tts_provider", v)).transpose()?,
        tts_model: body.tts_model.as_deref().map(|v| required("tts_model", v)).transpose()?,
        speakers: body.speakers.map(check_speakers).transpose()?,
    };
    Ok(axum::Json(speaker_profiles::update(&state.db, user.id(), &id, changes).await.map_err(store(WHAT))?))
}

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    speaker_profiles::delete(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn duplicate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<SpeakerProfile>)> {
    let copy = speaker_profiles::duplicate(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(copy)))
}
