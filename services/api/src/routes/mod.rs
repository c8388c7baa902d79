//! One router per resource, merged under `/api`. Each is an `OpenApiRouter` whose routes are
//! registered with `utoipa_axum::routes!`: the handler's `#[utoipa::path]` gives the path the
//! route is served at and the operation the OpenAPI document shows (see `crate::openapi`).

mod admin;
mod auth;
mod chat;
mod commands;
mod context;
mod embeddings;
mod episode_profiles;
mod fallback;
mod health;
mod insights;
mod models;
mod notebooks;
mod notes;
mod podcasts;
mod provider_secrets;
mod search;
mod settings;
mod sources;
mod speaker_profiles;
mod transformations;

use std::sync::Arc;

use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::{self, ApiDoc};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let (router, doc) = documented(state.settings.upload_max_bytes).split_for_parts();
    // Unserved paths and methods answer in the API's error shape (see `fallback`). Set on the
    // whole router: nested routers are flattened into it, so every path gets the 405 one.
    let router = router.fallback(fallback::not_found).method_not_allowed_fallback(fallback::method_not_allowed);
    router.layer(Extension(Arc::new(doc))).with_state(state)
}

/// Every route with its documentation; `split_for_parts` gives the router and the document.
pub fn documented(upload_limit: usize) -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .merge(health::router())
        .routes(routes!(openapi::document))
        .nest("/auth", auth::router())
        .nest("/models", models::router())
        .nest("/notebooks", notebooks::router())
        .nest("/notes", notes::router())
        .nest("/sources", sources::router(upload_limit))
        .nest("/podcasts", podcasts::router())
        .nest("/episode-profiles", episode_profiles::router())
        .nest("/speaker-profiles", speaker_profiles::router())
        .nest("/provider-secrets", provider_secrets::router())
        .nest("/commands", commands::router())
        .nest("/chat", context::router().merge(chat::router()))
        .merge(chat::source_router())
        .merge(search::router())
        .merge(embeddings::router())
        .nest("/settings", settings::router())
        .nest("/transformations", transformations::router())
        .merge(insights::router())
        .nest("/admin", admin::router());
    let mut documented = OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(health::root_router()).nest("/api", api);
    openapi::qualify_operation_ids(documented.get_openapi_mut());
    documented
}

/// A required text field: not blank, at most `limit` characters (422 naming the field).
fn checked_text(field: &str, text: &str, limit: usize) -> crate::error::ApiResult<()> {
    use crate::error::ApiError;
    if text.trim().is_empty() {
        return Err(ApiError::Unprocessable(format!("{field}: must not be empty")));
    }
    if text.chars().count() > limit {
        return Err(ApiError::Unprocessable(format!("{field}: at most {limit} characters")));
    }
    Ok(())
}

/// The OpenAPI document of the API, without a server (for tools and tests).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented(0).into_openapi()
}
