//! One router per resource, merged under `/api`.

mod auth;
mod commands;
mod health;
mod models;
mod notebooks;
mod notes;
mod podcasts;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(health::router())
        .nest("/auth", auth::router())
        .nest("/models", models::router())
        .nest("/notebooks", notebooks::router())
        .nest("/notes", notes::router())
        .nest("/podcasts", podcasts::router())
        .nest("/commands", commands::router());
    Router::new().merge(health::root_router()).nest("/api", api).with_state(state)
}
