//! `GET /health`, `/api/health`: 200 when the database answers and has every migration this
//! build knows; 503 otherwise. `GET /api/config`: version and database status.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(health)).route("/config", get(config))
}

pub fn root_router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn database_status(state: &AppState) -> Result<(), String> {
    let applied: Option<i64> = state
        .db
        .query("RETURN count(SELECT * FROM _migration)")
        .await
        .and_then(|mut r| r.take(0))
        .map_err(|e| format!("database not answering: {e}"))?;
    let applied = applied.unwrap_or(0);
    if (applied as usize) < state.migrations {
        return Err(format!("migrations pending: {applied} of {} applied", state.migrations));
    }
    Ok(())
}

async fn health(State(state): State<AppState>) -> ApiResult<axum::Json<Value>> {
    database_status(&state).await.map_err(ApiError::Unavailable)?;
    Ok(axum::Json(json!({ "status": "healthy" })))
}

async fn config(State(state): State<AppState>) -> axum::Json<Value> {
    let db_status = if database_status(&state).await.is_ok() { "online" } else { "offline" };
    axum::Json(json!({ "version": env!("CARGO_PKG_VERSION"), "dbStatus": db_status }))
}
