//! `/api/commands/jobs/{id}`: the status of one of the caller's jobs. There is no endpoint to
//! submit arbitrary jobs: jobs come from podcast and source submissions only.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use ephitup_store::records::Job;
use ephitup_store::repo::podcasts;

use crate::auth::CurrentUser;
use crate::error::{ApiResult, store};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/jobs/{id}", get(job))
}

pub async fn job(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Job>> {
    Ok(axum::Json(podcasts::job(&state.db, user.id(), &id).await.map_err(store("Job"))?))
}
