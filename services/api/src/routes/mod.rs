//! One router per resource, merged under `/api`.

mod auth;
mod commands;
mod context;
mod episode_profiles;
mod health;
mod models;
mod notebooks;
mod notes;
mod podcasts;
mod provider_secrets;
mod sources;
mod speaker_profiles;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let upload_limit = state.settings.upload_max_bytes;
    let api = Router::new()
        .merge(health::router())
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
        .nest("/chat", context::router());
    Router::new().merge(health::root_router()).nest("/api", api).with_state(state)
}
