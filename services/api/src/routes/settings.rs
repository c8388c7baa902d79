//! `/api/settings`: the caller's content settings (the original client's Settings page, asked
//! for on every page). `PUT` merges: absent fields keep their values. Two of them decide what
//! happens to new sources (see `routes::sources`): `default_embedding_option` whether they are
//! embedded, `auto_delete_files` whether an uploaded file is dropped once its text is kept.

use axum::extract::State;
use ephitup_store::records::UserSettings;
use ephitup_store::repo::user_settings::{self, SettingsChanges};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read, update))
}

/// Values the original client offers (its older and newer versions).
const DOC_ENGINES: [&str; 6] = ["auto", "docling", "mineru", "markitdown", "simple", "legacy"];
const URL_ENGINES: [&str; 6] = ["auto", "firecrawl", "jina", "crawl4ai", "simple", "legacy"];
const EMBEDDING_OPTIONS: [&str; 3] = ["ask", "always", "never"];
const YES_NO: [&str; 2] = ["yes", "no"];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SettingsUpdate {
    default_content_processing_engine_doc: Option<String>,
    default_content_processing_engine_url: Option<String>,
    /// `ask`, `always` or `never`.
    default_embedding_option: Option<String>,
    /// `yes` or `no`.
    auto_delete_files: Option<String>,
    /// Language codes, most preferred first (at most 50).
    youtube_preferred_languages: Option<Vec<String>>,
}

fn one_of(field: &str, value: Option<String>, allowed: &[&str]) -> ApiResult<Option<String>> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::Unprocessable(format!("{field}: one of {}", allowed.join(", "))))
        }
        other => Ok(other),
    }
}

#[utoipa::path(
    get,
    path = "/",
    tag = "settings",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's settings (defaults until changed)", body = UserSettings),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn read(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<UserSettings>> {
    Ok(axum::Json(user_settings::get(&state.db, user.id()).await.map_err(store("Settings"))?))
}

#[utoipa::path(
    put,
    path = "/",
    tag = "settings",
    security(("bearer" = [])),
    request_body = SettingsUpdate,
    responses(
        (status = 200, description = "The settings as stored; absent fields kept", body = UserSettings),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A value outside its choices, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SettingsUpdate>,
) -> ApiResult<axum::Json<UserSettings>> {
    let languages = match body.youtube_preferred_languages {
        Some(list) => {
            let ok = list.len() <= 50
                && list.iter().all(|l| {
                    !l.is_empty() && l.len() <= 20 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                return Err(ApiError::Unprocessable(
                    "youtube_preferred_languages: at most 50 language codes (letters, digits, `-`)".into(),
                ));
            }
            Some(list)
        }
        None => None,
    };
    let changes = SettingsChanges {
        default_content_processing_engine_doc: one_of(
            "default_content_processing_engine_doc",
            body.default_content_processing_engine_doc,
            &DOC_ENGINES,
        )?,
        default_content_processing_engine_url: one_of(
            "default_content_processing_engine_url",
            body.default_content_processing_engine_url,
            &URL_ENGINES,
        )?,
        default_embedding_option: one_of(
            "default_embedding_option",
            body.default_embedding_option,
            &EMBEDDING_OPTIONS,
        )?,
        auto_delete_files: one_of("auto_delete_files", body.auto_delete_files, &YES_NO)?,
        youtube_preferred_languages: languages,
    };
    Ok(axum::Json(user_settings::update(&state.db, user.id(), changes).await.map_err(store("Settings"))?))
}
