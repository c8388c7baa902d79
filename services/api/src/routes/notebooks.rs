//! `/api/notebooks`: the caller's notebooks.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ephitup_store::records::Notebook;
use ephitup_store::repo::notebooks::{self, NotebookChanges, OrderBy};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update, remove))
        .routes(routes!(link_source, unlink_source))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only archived (`true`) or only active (`false`) notebooks; both when absent.
    archived: Option<bool>,
    /// `updated`, `created` or `name`, then `asc` or `desc` (default `updated desc`).
    order_by: Option<String>,
}

fn parse_order(order_by: Option<&str>) -> ApiResult<(OrderBy, bool)> {
    let text = order_by.unwrap_or("updated desc").trim().to_ascii_lowercase();
    let mut parts = text.split_whitespace();
    let field = match parts.next() {
        Some("updated") => OrderBy::Updated,
        Some("created") => OrderBy::Created,
        Some("name") => OrderBy::Name,
        _ => return Err(ApiError::Unprocessable("order_by: one of updated, created, name, then asc or desc".into())),
    };
    let descending = match parts.next() {
        None | Some("desc") => true,
        Some("asc") => false,
        _ => return Err(ApiError::Unprocessable("order_by: the direction is asc or desc".into())),
    };
    Ok((field, descending))
}

#[utoipa::path(
    get,
    path = "/",
    tag = "notebooks",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The caller's notebooks", body = Vec<Notebook>),
        (status = 400, description = "A malformed query string (axum's plain-text message)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 422, description = "A bad `order_by`", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Notebook>>> {
    let (order, descending) = parse_order(q.order_by.as_deref())?;
    Ok(axum::Json(
        notebooks::list(&state.db, user.id(), q.archived, order, descending).await.map_err(store("Notebook"))?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewNotebook {
    name: String,
    #[serde(default)]
    description: String,
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Unprocessable("name: 1 to 200 characters".into()));
    }
    Ok(name.to_string())
}

#[utoipa::path(
    post,
    path = "/",
    tag = "notebooks",
    security(("bearer" = [])),
    request_body = NewNotebook,
    responses(
        (status = 201, description = "Created", body = Notebook),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad name or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewNotebook>,
) -> ApiResult<(StatusCode, axum::Json<Notebook>)> {
    let name = check_name(&body.name)?;
    let notebook =
        notebooks::create(&state.db, user.id(), &name, &body.description).await.map_err(store("Notebook"))?;
    Ok((StatusCode::CREATED, axum::Json(notebook)))
}

#[utoipa::path(
    get,
    path = "/{id}",
    tag = "notebooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The notebook's id")),
    responses(
        (status = 200, description = "The notebook", body = Notebook),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook of the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Notebook>> {
    Ok(axum::Json(notebooks::get(&state.db, user.id(), &id).await.map_err(store("Notebook"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NotebookUpdate {
    name: Option<String>,
    description: Option<String>,
    archived: Option<bool>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "notebooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The notebook's id")),
    request_body = NotebookUpdate,
    responses(
        (status = 200, description = "The notebook as changed", body = Notebook),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad name or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<NotebookUpdate>,
) -> ApiResult<axum::Json<Notebook>> {
    let name = body.name.as_deref().map(check_name).transpose()?;
    let changes = NotebookChanges { name, description: body.description, archived: body.archived };
    Ok(axum::Json(notebooks::update(&state.db, user.id(), &id, changes).await.map_err(store("Notebook"))?))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "notebooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The notebook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notebooks::delete(&state.db, user.id(), &id).await.map_err(store("Notebook"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/{id}/sources/{source_id}",
    tag = "notebooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The notebook's id"), ("source_id" = String, Path, description = "The source's id")),
    responses(
        (status = 204, description = "Linked (linking twice is no error)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook or the source is not the caller's", body = ErrorBody),
    )
)]
async fn link_source(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, source_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ephitup_store::repo::sources::link(&state.db, user.id(), &id, &source_id)
        .await
        .map_err(store("Notebook or source"))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/{id}/sources/{source_id}",
    tag = "notebooks",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The notebook's id"), ("source_id" = String, Path, description = "The source's id")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such link of the caller's", body = ErrorBody),
    )
)]
async fn unlink_source(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, source_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ephitup_store::repo::sources::unlink(&state.db, user.id(), &id, &source_id).await.map_err(store("Link"))?;
    Ok(StatusCode::NO_CONTENT)
}
