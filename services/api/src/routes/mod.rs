//! One router per resource, merged under `/api`.

mod auth;
mod health;
mod notebooks;
mod notes;
mod provider_secrets;

use axum::Router;

use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(health::router())
        .nest("/auth", auth::router())
        .nest("/notebooks", notebooks::router())
        .nest("/notes", notes::router())
        .nest("/provider-secrets", provider_secrets::router());
    Router::new().merge(health::root_router()).nest("/api", api).with_state(state)
}
