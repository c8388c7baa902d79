//! One router per resource, merged under `/api`.

mod auth;
mod episode_profiles;
mod health;
mod notebooks;
mod notes;
mod speaker_profiles;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(health::router())
        .nest("/auth", auth::router())
        .nest("/notebooks", notebooks::router())
        .nest("/notes", notes::router())
        .nest("/episode-profiles", episode_profiles::router())
        .nest("/speaker-profiles", speaker_profiles::router());
    Router::new().merge(health::root_router()).nest("/api", api).with_state(state)
}
