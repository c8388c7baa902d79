//! `/api/commands/jobs/{id}`: the status of one of the caller's jobs. There is no endpoint to
//! submit arbitrary jobs: jobs come from podcast and source submissions only.

use axum::extract::{Path, State};
use ephitup_store::records::Job;
use ephitup_store::repo::podcasts;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiResult, ErrorBody, store};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(job))
}

#[utoipa::path(
    get,
    path = "/jobs/{id}",
    tag = "commands",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The job's id (`command:...` or the bare key)")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such job of the caller", body = ErrorBody),
    )
)]
pub async fn job(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Job>> {
    Ok(axum::Json(podcasts::job(&state.db, user.id(), &id).await.map_err(store("Job"))?))
}
