//! `/api/models`: the caller's AI model configurations, their defaults, and the providers.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use ephitup_store::StoreError;
use ephitup_store::records::{DefaultModels, Model};
use ephitup_store::repo::models;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/defaults", get(read_defaults).put(update_defaults))
        .route("/providers", get(providers))
        .route("/{id}", delete(remove))
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

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "type")]
    model_type: Option<String>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewModel {
    name: String,
    provider: String,
    #[serde(rename = "type")]
    model_type: String,
}

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

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    models::delete(&state.db, user.id(), &id).await.map_err(store("Model"))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read_defaults(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<DefaultModels>> {
    Ok(axum::Json(models::defaults(&state.db, user.id()).await.map_err(store("Defaults"))?))
}

async fn update_defaults(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<DefaultModels>,
) -> ApiResult<axum::Json<DefaultModels>> {
    // Every default must be one of the caller's models.
    for (field, id) in body.entries() {
        if let Some(id) = id {
            match models::get(&state.db, user.id(), id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(ApiError::Unprocessable(format!("{field}: no such model `{id}`")));
                }
                Err(e) => return Err(store("Model")(e)),
            }
        }
    }
    Ok(axum::Json(models::set_defaults(&state.db, user.id(), &body).await.map_err(store("Defaults"))?))
}

async fn providers(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Value>> {
    let mut keyed = models::providers_with_keys(&state.db, user.id()).await.map_err(store("Provider"))?;
    // A key given to the whole deployment serves everyone as a fallback.
    if state.settings.openai_fallback {
        keyed.push("openai".into());
    }
    let (available, unavailable): (Vec<&str>, Vec<&str>) =
        PROVIDERS.iter().map(|(p, _)| *p).partition(|p| keyed.iter().any(|k| k == p));
    let supported: serde_json::Map<String, Value> =
        PROVIDERS.iter().map(|(p, types)| (p.to_string(), json!(types))).collect();
    Ok(axum::Json(json!({ "available": available, "unavailable": unavailable, "supported_types": supported })))
}
