//! `/api/models`: the caller's AI model configurations, their defaults, and the providers.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ephitup_store::StoreError;
use ephitup_store::records::{DefaultModels, Model};
use ephitup_store::repo::models;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read_defaults, update_defaults))
        .routes(routes!(providers))
        .routes(routes!(remove))
}

const TYPES: [&str; 4] = ["language", "embedding", "text_to_speech", "speech_to_text"];

/// Providers the app can call, with the kinds of model each offers.
const PROVIDERS: [(&str, &[&str]); 8] = [
    ("openai", &["language", "embedding", "text_to_speech", "speech_to_text"]),
    ("openai_compatible", &["language", "embedding", "text_to_speech", "speech_to_text"]),
    ("anthropic", &["language"]),
    ("google", &["language", "embedding"]),
    ("groq", &["language", "speech_to_text"]),
    ("mistral", &["language", "embedding"]),
    ("ollama", &["language", "embedding"]),
    ("elevenlabs", &["text_to_speech"]),
];

fn check_type(model_type: &str) -> ApiResult<()> {
    if TYPES.contains(&model_type) {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(format!("type: one of {}", TYPES.join(", "))))
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only models of this type: language, embedding, text_to_speech or speech_to_text.
    #[serde(rename = "type")]
    model_type: Option<String>,
}

#[utoipa::path(
    get,
    path = "/",
    tag = "models",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The caller's models", body = Vec<Model>),
        (status = 400, description = "A malformed query string (axum's plain-text message)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "An unknown type", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Model>>> {
    if let Some(t) = &q.model_type {
        check_type(t)?;
    }
    Ok(axum::Json(models::list(&state.db, user.id(), q.model_type.as_deref()).await.map_err(store("Model"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewModel {
    name: String,
    provider: String,
    #[serde(rename = "type")]
    model_type: String,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "models",
    security(("bearer" = [])),
    request_body = NewModel,
    responses(
        (status = 201, description = "Created", body = Model),
        (status = 400, description = "Malformed JSON, or the provider already has a model of that name", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Unknown provider or type, bad name, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewModel>,
) -> ApiResult<(StatusCode, axum::Json<Model>)> {
    let name = body.name.trim();
    let provider = body.provider.trim().to_ascii_lowercase();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::Unprocessable("name: 1 to 200 characters".into()));
    }
    if !PROVIDERS.iter().any(|(p, _)| *p == provider) {
        let known: Vec<&str> = PROVIDERS.iter().map(|(p, _)| *p).collect();
        return Err(ApiError::Unprocessable(format!("provider: one of {}", known.join(", "))));
    }
    check_type(&body.model_type)?;
    let model = models::create(&state.db, user.id(), name, &provider, &body.model_type).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::BadRequest(format!("Model {name} of {provider} already exists")),
        other => store("Model")(other),
    })?;
    Ok((StatusCode::CREATED, axum::Json(model)))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "models",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The model's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such model of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    models::delete(&state.db, user.id(), &id).await.map_err(store("Model"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/defaults",
    tag = "models",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's default models (ids, unset ones null)", body = DefaultModels),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn read_defaults(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<DefaultModels>> {
    Ok(axum::Json(models::defaults(&state.db, user.id()).await.map_err(store("Defaults"))?))
}

#[utoipa::path(
    put,
    path = "/defaults",
    tag = "models",
    security(("bearer" = [])),
    request_body(content = DefaultModels, description = "Only the fields to change: a model id sets one, `null` clears one, an absent field is kept"),
    responses(
        (status = 200, description = "The defaults as stored", body = DefaultModels),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A default that is not one of the caller's models, an unknown field, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn update_defaults(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<axum::Json<DefaultModels>> {
    // The original client sends one field per change: what is absent is kept.
    let mut changes = Vec::new();
    for (field, value) in &body {
        let Some(field) = DefaultModels::FIELDS.iter().copied().find(|f| *f == field.as_str()) else {
            return Err(ApiError::Unprocessable(format!("{field}: unknown field")));
        };
        let id = match value {
            serde_json::Value::Null => None,
            // Every default must be one of the caller's models; its full id is kept.
            serde_json::Value::String(id) => match models::get(&state.db, user.id(), id).await {
                Ok(model) => Some(model.id),
                Err(StoreError::NotFound) => {
                    return Err(ApiError::Unprocessable(format!("{field}: no such model `{id}`")));
                }
                Err(e) => return Err(store("Model")(e)),
            },
            _ => return Err(ApiError::Unprocessable(format!("{field}: a model id or null"))),
        };
        changes.push((field, id));
    }
    Ok(axum::Json(models::merge_defaults(&state.db, user.id(), &changes).await.map_err(store("Defaults"))?))
}

/// Which providers the caller can use now (a key is set) and what each offers.
#[derive(Serialize, ToSchema)]
struct Providers {
    available: Vec<&'static str>,
    unavailable: Vec<&'static str>,
    /// Per provider, the model types it offers.
    supported_types: BTreeMap<&'static str, &'static [&'static str]>,
}

#[utoipa::path(
    get,
    path = "/providers",
    tag = "models",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Providers by availability, and their model types", body = Providers),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn providers(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Providers>> {
    let mut keyed = models::providers_with_keys(&state.db, user.id()).await.map_err(store("Provider"))?;
    // A key given to the whole deployment serves everyone as a fallback.
    if state.settings.openai_fallback {
        keyed.push("openai".into());
    }
    let (available, unavailable): (Vec<&str>, Vec<&str>) =
        PROVIDERS.iter().map(|(p, _)| *p).partition(|p| keyed.iter().any(|k| k == p));
    let supported_types = PROVIDERS.iter().copied().collect();
    Ok(axum::Json(Providers { available, unavailable, supported_types }))
}
