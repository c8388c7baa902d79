//! `/api/notes`: the caller's notes, optionally in one of their notebooks.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use ephitup_store::records::Note;
use ephitup_store::repo::notes::{self, NewNote, NoteChanges};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(list).post(create)).route("/{id}", get(read).put(update).delete(remove))
}

#[derive(Deserialize)]
struct ListQuery {
    notebook_id: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Note>>> {
    let found = notes::list(&state.db, user.id(), q.notebook_id.as_deref()).await.map_err(store("Notebook"))?;
    Ok(axum::Json(found))
}

fn check_type(note_type: &str) -> ApiResult<String> {
    match note_type {
        "human" | "ai" => Ok(note_type.to_string()),
        _ => Err(ApiError::Unprocessable("note_type: `human` or `ai`".into())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateNote {
    title: Option<String>,
    content: String,
    note_type: Option<String>,
    notebook_id: Option<String>,
}

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

async fn read(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<axum::Json<Note>> {
    Ok(axum::Json(notes::get(&state.db, user.id(), &id).await.map_err(store("Note"))?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateNote {
    title: Option<String>,
    content: Option<String>,
    note_type: Option<String>,
}

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

async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    notes::delete(&state.db, user.id(), &id).await.map_err(store("Note"))?;
    Ok(StatusCode::NO_CONTENT)
}
