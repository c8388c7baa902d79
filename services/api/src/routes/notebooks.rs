//! `/api/notebooks`: the caller's notebooks.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use ephitup_store::records::Notebook;
use ephitup_store::repo::notebooks::{self, NotebookChanges, OrderBy};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(read).put(update).delete(remove))
        .route("/{id}/sources/{source_id}", post(link_source).delete(unlink_source))
}

#[derive(Deserialize)]
struct ListQuery {
    archived: Option<bool>,
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

#[derive(Deserialize)]
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

async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Notebook>> {
    Ok(axum::Json(notebooks::get(&state.db, user.id(), &id).await.map_err(store("Notebook"))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotebookUpdate {
    name: Option<String>,
    description: Option<String>,
    archived: Option<bool>,
}

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

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notebooks::delete(&state.db, user.id(), &id).await.map_err(store("Notebook"))?;
    Ok(StatusCode::NO_CONTENT)
}

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

async fn unlink_source(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, source_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ephitup_store::repo::sources::unlink(&state.db, user.id(), &id, &source_id).await.map_err(store("Link"))?;
    Ok(StatusCode::NO_CONTENT)
}
