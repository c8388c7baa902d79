//! `/api/transformations`: the shared default transformations and the caller's own (written
//! by id, own only; defaults answer 403), the caller's default prompt (text put before every
//! transformation prompt), and `execute`, which runs a transformation now, in the API, with
//! the caller's model and key (the same call the worker makes for insights:
//! `ephitup_store::ai::run_transformation`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use ephitup_store::ai::{self, Caller, ModelError, ProviderError, TransformError};
use ephitup_store::records::Transformation;
use ephitup_store::repo::transformations::{self, TransformationChanges, TransformationData};
use ephitup_store::repo::user_settings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::speaker_profiles::{check_name, required};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Transformation";
/// The longest prompt or default prompt (characters).
const MAX_PROMPT: usize = 20_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read_default_prompt, update_default_prompt))
        .routes(routes!(execute))
        .routes(routes!(read, update, remove))
}

fn check_prompt(field: &str, prompt: &str) -> ApiResult<String> {
    let prompt = required(field, prompt)?;
    if prompt.chars().count() > MAX_PROMPT {
        return Err(ApiError::Unprocessable(format!("{field}: at most {MAX_PROMPT} characters")));
    }
    Ok(prompt)
}

fn check_title(title: &str) -> ApiResult<String> {
    let title = required("title", title)?;
    if title.chars().count() > 200 {
        return Err(ApiError::Unprocessable("title: at most 200 characters".into()));
    }
    Ok(title)
}

#[utoipa::path(
    get,
    path = "/",
    tag = "transformations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The default transformations and the caller's own, by name", body = Vec<Transformation>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<Transformation>>> {
    Ok(axum::Json(transformations::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTransformation {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    prompt: String,
    /// Run it on every new source of the caller's.
    #[serde(default)]
    apply_default: bool,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "transformations",
    security(("bearer" = [])),
    request_body = NewTransformation,
    responses(
        (status = 201, description = "Created", body = Transformation),
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
    Json(body): Json<NewTransformation>,
) -> ApiResult<(StatusCode, axum::Json<Transformation>)> {
    let data = TransformationData {
        name: check_name(&body.name)?,
        title: check_title(&body.title)?,
        description: body.description.trim().chars().take(1000).collect(),
        prompt: check_prompt("prompt", &body.prompt)?,
        apply_default: body.apply_default,
    };
    let created = transformations::create(&state.db, user.id(), data).await.map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[utoipa::path(
    get,
    path = "/{id}",
    tag = "transformations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The transformation's id")),
    responses(
        (status = 200, description = "The transformation (a default or the caller's)", body = Transformation),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such transformation for the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Transformation>> {
    Ok(axum::Json(transformations::get(&state.db, user.id(), &id).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TransformationUpdate {
    name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    prompt: Option<String>,
    apply_default: Option<bool>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "transformations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The transformation's id")),
    request_body = TransformationUpdate,
    responses(
        (status = 200, description = "The transformation as changed", body = Transformation),
        (status = 400, description = "Malformed JSON, or the caller has another of that name", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default: it cannot be changed", body = ErrorBody),
        (status = 404, description = "No such transformation of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad field, or one of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<TransformationUpdate>,
) -> ApiResult<axum::Json<Transformation>> {
    let changes = TransformationChanges {
        name: body.name.as_deref().map(check_name).transpose()?,
        title: body.title.as_deref().map(check_title).transpose()?,
        description: body.description.map(|d| d.trim().chars().take(1000).collect()),
        prompt: body.prompt.as_deref().map(|p| check_prompt("prompt", p)).transpose()?,
        apply_default: body.apply_default,
    };
    Ok(axum::Json(transformations::update(&state.db, user.id(), &id, changes).await.map_err(store(WHAT))?))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "transformations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The transformation's id")),
    responses(
        (status = 204, description = "Deleted (its insights stay)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A default: it cannot be deleted", body = ErrorBody),
        (status = 404, description = "No such transformation of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    transformations::delete(&state.db, user.id(), &id).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The text put before every transformation prompt of the caller's.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DefaultPrompt {
    transformation_instructions: String,
}

#[utoipa::path(
    get,
    path = "/default-prompt",
    tag = "transformations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's default prompt (the built-in one until changed)", body = DefaultPrompt),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn read_default_prompt(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<DefaultPrompt>> {
    let text = user_settings::transformation_instructions(&state.db, user.id()).await.map_err(store("Settings"))?;
    Ok(axum::Json(DefaultPrompt { transformation_instructions: text }))
}

#[utoipa::path(
    put,
    path = "/default-prompt",
    tag = "transformations",
    security(("bearer" = [])),
    request_body = DefaultPrompt,
    responses(
        (status = 200, description = "The default prompt as stored", body = DefaultPrompt),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Too long, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn update_default_prompt(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<DefaultPrompt>,
) -> ApiResult<axum::Json<DefaultPrompt>> {
    // Empty is allowed: no instructions at all before the prompts.
    if body.transformation_instructions.chars().count() > MAX_PROMPT {
        return Err(ApiError::Unprocessable(format!("transformation_instructions: at most {MAX_PROMPT} characters")));
    }
    let text = user_settings::set_transformation_instructions(&state.db, user.id(), &body.transformation_instructions)
        .await
        .map_err(store("Settings"))?;
    Ok(axum::Json(DefaultPrompt { transformation_instructions: text }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Execute {
    transformation_id: String,
    input_text: String,
    /// One of the caller's language models.
    model_id: String,
}

#[derive(Serialize, ToSchema)]
struct Executed {
    output: String,
    transformation_id: String,
    model_id: String,
}

/// A failed transformation seen from a handler.
pub(super) fn transform_error(e: TransformError) -> ApiError {
    match e {
        TransformError::Model(e) => model_error(e),
        TransformError::Store(e) => store("Model")(e),
        TransformError::Call(e) => ApiError::BadGateway(format!("the model failed: {e:#}")),
    }
}

/// No model to call, seen from a handler: what to configure (400), or a model not the
/// caller's (404).
pub(super) fn model_error(e: ModelError) -> ApiError {
    match e {
        ModelError::NoModel(_) | ModelError::WrongType(..) => ApiError::BadRequest(e.to_string()),
        ModelError::ModelNotFound => ApiError::not_found("Model"),
        ModelError::Provider(ProviderError::Store(e)) | ModelError::Store(e) => store("Model")(e),
        ModelError::Provider(p) => ApiError::BadRequest(p.to_string()),
    }
}

#[utoipa::path(
    post,
    path = "/execute",
    tag = "transformations",
    security(("bearer" = [])),
    request_body = Execute,
    responses(
        (status = 200, description = "The model's output", body = Executed),
        (status = 400, description = "Malformed JSON, not a language model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such transformation or model for the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Empty input, or a field of the wrong shape", body = ErrorBody),
        (status = 502, description = "The provider failed or refused the call", body = ErrorBody),
    )
)]
async fn execute(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<Execute>,
) -> ApiResult<axum::Json<Executed>> {
    if body.input_text.trim().is_empty() {
        return Err(ApiError::Unprocessable("input_text: must not be empty".into()));
    }
    let transformation =
        transformations::get(&state.db, user.id(), &body.transformation_id).await.map_err(store(WHAT))?;
    let caller =
        Caller { db: &state.db, secrets: &state.secrets, fallback: &state.ai_fallback, clients: &state.ai_clients };
    let output = ai::run_transformation(caller, user.id(), &transformation, Some(&body.model_id), &body.input_text)
        .await
        .map_err(transform_error)?;
    Ok(axum::Json(Executed { output, transformation_id: transformation.id, model_id: body.model_id }))
}
