//! `/api/speaker-profiles`: the shared defaults and the caller's own speaker profiles.
//! Read by name (own first, else the default), written by id (own only; defaults answer 403),
//! duplicated from any visible one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ephitup_store::records::{Speaker, SpeakerProfile};
use ephitup_store::repo::speaker_profiles::{self, SpeakerProfileChanges, SpeakerProfileData};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Speaker profile";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        // One segment is a name for GET and an id for PUT and DELETE (as in the API contract).
        .routes(routes!(read, update, remove))
        .routes(routes!(duplicate))
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

#[derive(Deserialize, ToSchema)]
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

#[utoipa::path(
    get,
    path = "/",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The default speaker profiles and the caller's own", body = Vec<SpeakerProfile>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<SpeakerProfile>>> {
    Ok(axum::Json(speaker_profiles::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSpeakerProfile {
    name: String,
    #[serde(default)]
    description: String,
    tts_provider: String,
    tts_model: String,
    speakers: Vec<SpeakerBody>,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    request_body = NewSpeakerProfile,
    responses(
        (status = 201, description = "Created", body = SpeakerProfile),
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
#[utoipa::path(
    get,
    path = "/{id}",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The speaker profile's name (the caller's own, else the default of that name)")),
    responses(
        (status = 200, description = "The speaker profile", body = SpeakerProfile),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such speaker profile visible to the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<SpeakerProfile>> {
    Ok(axum::Json(speaker_profiles::by_name(&state.db, user.id(), &name).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SpeakerProfileUpdate {
    name: Option<String>,
    description: Option<String>,
    tts_provider: Option<String>,
    tts_model: Option<String>,
    speakers: Option<Vec<SpeakerBody>>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The speaker profile's id")),
    request_body = SpeakerProfileUpdate,
    responses(
        (status = 200, description = "The speaker profile as changed", body = SpeakerProfile),
        (status = 400, description = "Malformed JSON, or the caller has one of that name", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default speaker profile: duplicate it to change it", body = ErrorBody),
        (status = 404, description = "No such speaker profile of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad field, or one of the wrong shape", body = ErrorBody),
    )
)]
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

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The speaker profile's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default speaker profile: duplicate it to change it", body = ErrorBody),
        (status = 404, description = "No such speaker profile of the caller", body = ErrorBody),
        (status = 409, description = "An episode profile of the caller names it (and no default of that name exists)", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    speaker_profiles::delete(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/{id}/duplicate",
    tag = "speaker-profiles",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The speaker profile's id")),
    responses(
        (status = 201, description = "A copy of the caller's own, named after the original", body = SpeakerProfile),
        (status = 400, description = "No free name for the copy", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such speaker profile visible to the caller", body = ErrorBody),
    )
)]
async fn duplicate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, axum::Json<SpeakerProfile>)> {
    let copy = speaker_profiles::duplicate(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(copy)))
}
