//! `GET /health`, `/api/health`: 200 when the database answers and has every migration this
//! build knows; 503 otherwise. `GET /api/config`: version and database status.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(config))
}

pub fn root_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(root_health))
}

/// How long the health query may take: a database that does not answer within it is down,
/// for the probe that asks (and for ephitup's liveness check, which then restarts the API).
const DATABASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn database_status(state: &AppState) -> Result<(), String> {
    let query = async { state.db.query("RETURN count(SELECT * FROM _migration)").await?.take::<Option<i64>>(0) };
    let applied = tokio::time::timeout(DATABASE_TIMEOUT, query)
        .await
        .map_err(|_| format!("database not answering within {DATABASE_TIMEOUT:?}"))?
        .map_err(|e| format!("database not answering: {e}"))?;
    let applied = applied.unwrap_or(0);
    if (applied as usize) < state.migrations {
        return Err(format!("migrations pending: {applied} of {} applied", state.migrations));
    }
    Ok(())
}

#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `healthy` (an unhealthy service answers 503).
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Config {
    version: &'static str,
    /// `online` or `offline`.
    db_status: &'static str,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    responses(
        (status = 200, description = "The database answers and its migrations are current", body = Health),
        (status = 503, description = "The database is down or migrations are pending", body = ErrorBody),
    )
)]
async fn health(State(state): State<AppState>) -> ApiResult<axum::Json<Health>> {
    database_status(&state).await.map_err(ApiError::Unavailable)?;
    Ok(axum::Json(Health { status: "healthy" }))
}

#[utoipa::path(
    get,
    path = "/config",
    tag = "meta",
    responses((status = 200, description = "The API's version and whether the database is usable", body = Config))
)]
async fn config(State(state): State<AppState>) -> axum::Json<Config> {
    let db_status = if database_status(&state).await.is_ok() { "online" } else { "offline" };
    axum::Json(Config { version: env!("CARGO_PKG_VERSION"), db_status })
}

/// `GET /health`, outside `/api`: the same as `GET /api/health`, for container health checks.
#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    responses(
        (status = 200, description = "The database answers and its migrations are current", body = Health),
        (status = 503, description = "The database is down or migrations are pending", body = ErrorBody),
    )
)]
async fn root_health(state: State<AppState>) -> ApiResult<axum::Json<Health>> {
    health(state).await
}
