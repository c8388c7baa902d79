//! `GET /health`, `/api/health` (readiness): 200 when the database answers and has every
//! migration this build knows, 503 otherwise — the cached answer of the background check
//! (`crate::layers::db_health`), never a query per request. `GET /api/live` (liveness): 200
//! whenever the process answers, whatever the database does, so a slow or restarting database
//! never gets the API restarted. `GET /api/config`: version and database status.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::layers::db_health::Status;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(live)).routes(routes!(config))
}

pub fn root_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(root_health))
}

fn database_status(state: &AppState) -> Result<(), String> {
    match state.health.status() {
        Status::Ready => Ok(()),
        Status::Pending { applied, known } => Err(format!("migrations pending: {applied} of {known} applied")),
        Status::Down(why) => Err(format!("database not answering: {why}")),
    }
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
    database_status(&state).map_err(ApiError::Unavailable)?;
    Ok(axum::Json(Health { status: "healthy" }))
}

#[derive(Serialize, ToSchema)]
struct Live {
    /// Always `alive`.
    status: &'static str,
}

#[utoipa::path(
    get,
    path = "/live",
    tag = "meta",
    responses((status = 200, description = "The process answers (the database is not asked)", body = Live))
)]
async fn live() -> axum::Json<Live> {
    axum::Json(Live { status: "alive" })
}

#[utoipa::path(
    get,
    path = "/config",
    tag = "meta",
    responses((status = 200, description = "The API's version and whether the database is usable", body = Config))
)]
async fn config(State(state): State<AppState>) -> axum::Json<Config> {
    let db_status = if database_status(&state).is_ok() { "online" } else { "offline" };
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
