//! `/api/admin/users`: for admins only (the users whose email is in `ADMIN_EMAILS`; everyone
//! else gets 403): every user with counts, one user's rows, (de)activation, and clearing all of
//! a user's data.
//!
//! A clear must not leave half of it. The rows go in one database transaction (all or none).
//! The files are not rows: after the commit, the user's uploads directory
//! (`DATA_PATH/uploads/<user>/`) and podcast audio (`podcasts/<user>/` as files or in S3,
//! through `AudioStore`) are removed by the user's key, not by the rows that named them. A
//! crash or storage error between the two leaves only files that no row names any more, and
//! the clear answers an error; clearing again finds them by the key and finishes.

use axum::extract::{Path, State};
use ephitup_store::records::{AdminUserDetail, AdminUserSummary};
use ephitup_store::repo::admin;
use ephitup_store::{RecordKey, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(read, update)).routes(routes!(clear))
}

/// The caller, if they are an admin (their email is in `ADMIN_EMAILS` now).
fn require_admin(state: &AppState, user: &CurrentUser) -> ApiResult<()> {
    if state.settings.is_admin_email(&user.0.email) {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Admin access required".into()))
    }
}

#[utoipa::path(
    get,
    path = "/users",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every user, oldest first, with how much they own", body = Vec<AdminUserSummary>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<AdminUserSummary>>> {
    require_admin(&state, &user)?;
    Ok(axum::Json(admin::users(&state.db).await.map_err(store("User"))?))
}

#[utoipa::path(
    get,
    path = "/users/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user with their notebooks, sources, notes and episodes", body = AdminUserDetail),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AdminUserDetail>> {
    require_admin(&state, &user)?;
    Ok(axum::Json(admin::user(&state.db, &id).await.map_err(store("User"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UserUpdate {
    /// `false` deactivates (refused at login and on every request), `true` reactivates.
    is_active: bool,
}

#[utoipa::path(
    put,
    path = "/users/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The user as changed", body = AdminUserSummary),
        (status = 400, description = "Malformed JSON, or an admin deactivating themselves", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UserUpdate>,
) -> ApiResult<axum::Json<AdminUserSummary>> {
    require_admin(&state, &user)?;
    if same_user(&id, user.id()) && !body.is_active {
        return Err(ApiError::BadRequest("Admins cannot deactivate themselves.".into()));
    }
    let updated = admin::set_active(&state.db, &id, body.is_active).await;
    state.users.forget(&id);
    Ok(axum::Json(updated.map_err(store("User"))?))
}

#[derive(Serialize, ToSchema)]
struct Message {
    message: String,
}

#[utoipa::path(
    post,
    path = "/users/{id}/clear",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "All of the user's data is deleted (the account stays)", body = Message),
        (status = 400, description = "An admin clearing their own data", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller is not an admin", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 500, description = "The rows are deleted, some files not; clearing again removes them", body = ErrorBody),
    )
)]
async fn clear(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Message>> {
    require_admin(&state, &user)?;
    if same_user(&id, user.id()) {
        return Err(ApiError::BadRequest("Admins cannot clear their own data.".into()));
    }
    let key = RecordKey::parse("user", &id).ok_or_else(|| ApiError::not_found("User"))?;
    admin::clear(&state.db, &id).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found("User"),
        other => store("User")(other),
    })?;
    // The rows are gone; now the files, found by the user's key (see the module's comment).
    let uploads = state.settings.data_path.join("uploads").join(key.as_str());
    match std::fs::remove_dir_all(&uploads) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ApiError::Internal(format!("clearing {}: {e}", uploads.display()))),
    }
    state
        .audio
        .delete_owner(key.as_str())
        .await
        .map_err(|e| ApiError::Internal(format!("clearing the podcast audio of {id}: {e}")))?;
    Ok(axum::Json(Message { message: "User data cleared successfully.".into() }))
}

/// Whether two ids (`user:abc` or `abc`) name the same user.
fn same_user(a: &str, b: &str) -> bool {
    match (RecordKey::parse("user", a), RecordKey::parse("user", b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}
