//! `/api/notes`: the caller's notes, optionally in one of their notebooks.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use ephitup_store::records::Note;
use ephitup_store::repo::Window;
use ephitup_store::repo::notes::{self, NewNote, NoteChanges};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update, remove))
}

/// The page of a list without `limit`, and the largest one.
const PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the notes of this notebook of the caller's.
    notebook_id: Option<String>,
    /// 1 to 500 (default 50): the page's size, newest `updated` first.
    limit: Option<u32>,
    /// Notes skipped before the page (default 0).
    offset: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/",
    tag = "notes",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of the caller's notes, newest `updated` first", body = Vec<Note>),
        (status = 400, description = "A malformed query string (axum's plain-text message)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook is not the caller's", body = ErrorBody),
        (status = 422, description = "A bad limit", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Note>>> {
    let limit = q.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Unprocessable(format!("limit: 1 to {MAX_PAGE}")));
    }
    let window = Window { limit, offset: q.offset.unwrap_or(0) };
    let found = notes::list(&state.db, user.id(), q.notebook_id.as_deref(), window).await.map_err(store("Notebook"))?;
    Ok(axum::Json(found))
}

fn check_type(note_type: &str) -> ApiResult<String> {
    match note_type {
        "human" | "ai" => Ok(note_type.to_string()),
        _ => Err(ApiError::Unprocessable("note_type: `human` or `ai`".into())),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateNote {
    title: Option<String>,
    content: String,
    note_type: Option<String>,
    notebook_id: Option<String>,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "notes",
    security(("bearer" = [])),
    request_body = CreateNote,
    responses(
        (status = 201, description = "Created", body = Note),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook is not the caller's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad `note_type` or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateNote>,
) -> ApiResult<(StatusCode, axum::Json<Note>)> {
    let note_type = check_type(body.note_type.as_deref().unwrap_or("human"))?;
    let what = if body.notebook_id.is_some() { "Notebook" } else { "Note" };
    let new = NewNote { title: body.title, content: body.content, note_type, notebook_id: body.notebook_id };
    let note = notes::create(&state.db, user.id(), new).await.map_err(store(what))?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}

#[utoipa::path(
    get,
    path = "/{id}",
    tag = "notes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id")),
    responses(
        (status = 200, description = "The note", body = Note),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such note of the caller", body = ErrorBody),
    )
)]
async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<axum::Json<Note>> {
    Ok(axum::Json(notes::get(&state.db, user.id(), &id).await.map_err(store("Note"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateNote {
    title: Option<String>,
    content: Option<String>,
    note_type: Option<String>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "notes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id")),
    request_body = UpdateNote,
    responses(
        (status = 200, description = "The note as changed", body = Note),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such note of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad `note_type` or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateNote>,
) -> ApiResult<axum::Json<Note>> {
    let note_type = body.note_type.as_deref().map(check_type).transpose()?;
    let changes = NoteChanges { title: body.title, content: body.content, note_type };
    Ok(axum::Json(notes::update(&state.db, user.id(), &id, changes).await.map_err(store("Note"))?))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "notes",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The note's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such note of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notes::delete(&state.db, user.id(), &id).await.map_err(store("Note"))?;
    Ok(StatusCode::NO_CONTENT)
}
