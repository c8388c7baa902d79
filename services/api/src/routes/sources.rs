//! `/api/sources`: text, link and upload sources, as multipart (`POST /sources`) or JSON
//! (`POST /sources/json`). Uploads are stored per user under `DATA_PATH/uploads/<user>/`
//! with generated names (the client's file name is never a path), within a size limit.
//! Every source gets a `process_source` job the worker fills it in from; the job carries what
//! the source asked for (`embed`, `delete_source`, `transformations`), decided here from the
//! request and the caller's settings (`default_embedding_option`, `auto_delete_files`).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ephitup_store::StoreError;
use ephitup_store::records::{Asset, Source, SourceDetail};
use ephitup_store::repo::sources::{self, NewSource, Page, Retry};
use ephitup_store::repo::{transformations, user_settings};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create_multipart).layer(DefaultBodyLimit::max(upload_limit.saturating_add(64 << 10))))
        .routes(routes!(create_json))
        .routes(routes!(read, update, remove))
        .routes(routes!(status))
        .routes(routes!(retry))
        .routes(routes!(download))
}

/// A submission, from either form.
#[derive(Default)]
struct Submitted {
    kind: Option<String>,
    content: Option<String>,
    url: Option<String>,
    title: Option<String>,
    notebooks: Vec<String>,
    /// Already on disk (streamed); removed again unless a source names it.
    file: Option<crate::upload::Stored>,
    embed: Option<bool>,
    delete_source: Option<bool>,
    transformations: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct JsonSource {
    #[serde(rename = "type")]
    kind: String,
    content: Option<String>,
    url: Option<String>,
    title: Option<String>,
    #[serde(default)]
    notebooks: Vec<String>,
    /// One notebook id (the original's older field; `notebooks` is the list).
    notebook_id: Option<String>,
    /// Embed the text once extracted (with `default_embedding_option: ask`; `always` and
    /// `never` decide by themselves).
    embed: Option<bool>,
    /// Drop an uploaded file once its text is kept (default: `auto_delete_files`).
    delete_source: Option<bool>,
    /// Transformation ids to run on the text, each saving an insight (the caller's
    /// `apply_default` ones run anyway).
    transformations: Option<Vec<String>>,
    /// Accepted for the original clients; processing is always asynchronous.
    #[serde(default)]
    async_processing: Option<bool>,
}

/// The multipart form of `POST /sources`: for the document only, the handler reads the parts
/// one by one (an unknown part is 422).
#[derive(ToSchema)]
#[allow(dead_code)]
struct SourceForm {
    /// `text`, `link` or `upload`.
    r#type: String,
    /// The text of a `text` source.
    content: Option<String>,
    /// The address of a `link` source.
    url: Option<String>,
    /// The file of an `upload` source.
    #[schema(value_type = Option<String>, format = Binary)]
    file: Option<Vec<u8>>,
    title: Option<String>,
    /// A JSON array of the caller's notebook ids to link the source to.
    notebooks: Option<String>,
    /// One notebook id (the original's older field).
    notebook_id: Option<String>,
    /// `true` or `false`: embed the text once extracted (with `default_embedding_option: ask`).
    embed: Option<String>,
    /// `true` or `false`: drop an uploaded file once its text is kept (default: `auto_delete_files`).
    delete_source: Option<String>,
    /// A JSON array of transformation ids to run on the text, each saving an insight.
    transformations: Option<String>,
    /// Accepted for the original clients; processing is always asynchronous.
    async_processing: Option<String>,
}

#[utoipa::path(
    post,
    path = "/json",
    tag = "sources",
    security(("bearer" = [])),
    request_body = JsonSource,
    responses(
        (status = 201, description = "Created; a job fills in its text and title", body = Source),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "A notebook or transformation is not the caller's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad type, missing content or file, a bad URL, or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn create_json(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<JsonSource>,
) -> ApiResult<(StatusCode, axum::Json<Source>)> {
    let _ = body.async_processing;
    let mut notebooks = body.notebooks;
    notebooks.extend(body.notebook_id.filter(|n| !n.trim().is_empty()));
    let submitted = Submitted {
        kind: Some(body.kind),
        content: body.content,
        url: body.url,
        title: body.title,
        notebooks,
        file: None,
        embed: body.embed,
        delete_source: body.delete_source,
        transformations: body.transformations.unwrap_or_default(),
    };
    create(&state, &user, submitted).await
}

#[utoipa::path(
    post,
    path = "/",
    tag = "sources",
    security(("bearer" = [])),
    request_body(content = SourceForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Created; a job fills in its text and title", body = Source),
        (status = 400, description = "A malformed multipart body (axum's plain-text message when it is not multipart at all)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "A notebook or transformation is not the caller's", body = ErrorBody),
        (status = 413, description = "The file is larger than the upload limit", body = ErrorBody),
        (status = 422, description = "A bad type, missing content or file, a bad URL, bad `notebooks` or `transformations`, a flag that is not true or false, or an unknown part", body = ErrorBody),
    )
)]
async fn create_multipart(
    State(state): State<AppState>,
    user: CurrentUser,
    mut form: Multipart,
) -> ApiResult<(StatusCode, axum::Json<Source>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(format!("file: larger than {} bytes", state.settings.upload_max_bytes))
        } else {
            ApiError::BadRequest(format!("multipart body: {}", e.body_text()))
        }
    };
    let mut s = Submitted::default();
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let user_key = ephitup_store::RecordKey::parse("user", user.id())
                    .ok_or_else(|| ApiError::Internal("bad user id".into()))?;
                let limit = state.settings.upload_max_bytes;
                let stored =
                    crate::upload::store(&state.settings.data_path, user_key.as_str(), field, limit, bad).await?;
                tracing::info!("upload stored: {} ({} bytes, sha256 {})", stored.relative, stored.size, stored.sha256);
                s.file = Some(stored);
            }
            "type" | "content" | "url" | "title" | "notebooks" | "notebook_id" | "embed" | "delete_source"
            | "transformations" | "async_processing" => {
                let text = field.text().await.map_err(bad)?;
                match name.as_str() {
                    "type" => s.kind = Some(text),
                    "content" => s.content = Some(text),
                    "url" => s.url = Some(text),
                    "title" => s.title = Some(text),
                    "notebooks" if !text.trim().is_empty() => {
                        let listed: Vec<String> = serde_json::from_str(&text)
                            .map_err(|_| ApiError::Unprocessable("notebooks: a JSON array of notebook ids".into()))?;
                        s.notebooks.extend(listed);
                    }
                    "notebook_id" if !text.trim().is_empty() => s.notebooks.push(text.trim().to_string()),
                    "transformations" if !text.trim().is_empty() => {
                        s.transformations = serde_json::from_str(&text).map_err(|_| {
                            ApiError::Unprocessable("transformations: a JSON array of transformation ids".into())
                        })?;
                    }
                    "embed" => s.embed = flag("embed", &text)?,
                    "delete_source" => s.delete_source = flag("delete_source", &text)?,
                    _ => {}
                }
            }
            other => return Err(ApiError::Unprocessable(format!("{other}: unknown field"))),
        }
    }
    create(&state, &user, s).await
}

/// A form's boolean, as the original client sends them (`true`/`false`); empty means unsaid.
fn flag(field: &str, text: &str) -> ApiResult<Option<bool>> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(ApiError::Unprocessable(format!("{field}: true or false"))),
    }
}

/// The transformations a new source runs: those it names (each visible to the caller, by its
/// full id) and the caller's `apply_default` ones, each once.
async fn transformations_for(state: &AppState, user: &CurrentUser, named: &[String]) -> ApiResult<Vec<String>> {
    if named.len() > 50 {
        return Err(ApiError::Unprocessable("transformations: at most 50".into()));
    }
    let mut ids = Vec::new();
    for id in named {
        let t = transformations::get(&state.db, user.id(), id).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(format!("Transformation {id} not found")),
            other => store("Transformation")(other),
        })?;
        ids.push(t.id);
    }
    ids.extend(transformations::applied_by_default(&state.db, user.id()).await.map_err(store("Transformation"))?);
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(ids)
}

async fn create(state: &AppState, user: &CurrentUser, s: Submitted) -> ApiResult<(StatusCode, axum::Json<Source>)> {
    let kind = s.kind.unwrap_or_default();
    // Everything that can refuse the request is checked before the streamed file is kept.
    let transformations = transformations_for(state, user, &s.transformations).await?;
    let settings = user_settings::get(&state.db, user.id()).await.map_err(store("Settings"))?;
    let embed = match settings.default_embedding_option.as_str() {
        "always" => true,
        "never" => false,
        _ => s.embed.unwrap_or(false),
    };
    let delete_source = kind == "upload" && s.delete_source.unwrap_or(settings.auto_delete_files == "yes");
    let title = s.title.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let (content, asset) = match kind.as_str() {
        "text" => {
            let content = s
                .content
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| ApiError::Unprocessable("content: required for a text source".into()))?;
            (Some(content), Asset::default())
        }
        "link" => {
            let url = s.url.map(|u| u.trim().to_string()).unwrap_or_default();
            check_url(&url)?;
            (None, Asset { url: Some(url), file_path: None })
        }
        "upload" => {
            let stored = s.file.ok_or_else(|| ApiError::Unprocessable("file: required for an upload".into()))?;
            (None, Asset { url: None, file_path: Some(stored.keep()) })
        }
        _ => return Err(ApiError::Unprocessable("type: one of text, link, upload".into())),
    };
    let file_path = asset.file_path.clone();
    let new = NewSource { kind, title, content, asset, notebooks: s.notebooks, embed, delete_source, transformations };
    match sources::create(&state.db, user.id(), new).await {
        Ok(source) => Ok((StatusCode::CREATED, axum::Json(source))),
        Err(e) => {
            // Nothing refers to a file of a source that was not created.
            if let Some(p) = file_path {
                let _ = std::fs::remove_file(state.settings.data_path.join(p));
            }
            Err(store("Notebook")(e))
        }
    }
}

fn check_url(url: &str) -> ApiResult<()> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    if host.is_empty() || url.len() > 2048 || url.contains(char::is_whitespace) {
        return Err(ApiError::Unprocessable("url: an http:// or https:// URL".into()));
    }
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the sources of this notebook of the caller's.
    notebook_id: Option<String>,
    /// 1 to 500 (default 50).
    limit: Option<u32>,
    offset: Option<u32>,
    /// `updated` (default), `created` or `title`.
    sort_by: Option<String>,
    /// `desc` (default) or `asc`.
    sort_order: Option<String>,
}

#[utoipa::path(
    get,
    path = "/",
    tag = "sources",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The caller's sources", body = Vec<Source>),
        (status = 400, description = "A malformed query string (axum's plain-text message)"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook is not the caller's", body = ErrorBody),
        (status = 422, description = "A bad sort or limit", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<Source>>> {
    let sort_by = match q.sort_by.as_deref().unwrap_or("updated") {
        "updated" => "updated",
        "created" => "created",
        "title" => "title",
        _ => return Err(ApiError::Unprocessable("sort_by: one of updated, created, title".into())),
    };
    let descending = match q.sort_order.as_deref().unwrap_or("desc") {
        "desc" => true,
        "asc" => false,
        _ => return Err(ApiError::Unprocessable("sort_order: asc or desc".into())),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::Unprocessable("limit: 1 to 500".into()));
    }
    let page = Page { limit, offset: q.offset.unwrap_or(0), sort_by, descending };
    Ok(axum::Json(
        sources::list(&state.db, user.id(), q.notebook_id.as_deref(), page).await.map_err(store("Notebook"))?,
    ))
}

/// A source with its text and links, and whether its file can be downloaded.
#[derive(Serialize, ToSchema)]
struct SourceView {
    #[serde(flatten)]
    detail: SourceDetail,
    file_available: bool,
}

#[utoipa::path(
    get,
    path = "/{id}",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The source", body = SourceView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SourceView>> {
    let detail = sources::detail(&state.db, user.id(), &id).await.map_err(store("Source"))?;
    let file_available = file_of(&state, &detail.source).is_some();
    Ok(axum::Json(SourceView { detail, file_available }))
}

/// Where the processing of a source stands.
#[derive(Serialize, ToSchema)]
struct SourceStatus {
    /// `new`, `running`, `completed`, `failed`, or null before a job.
    status: Option<String>,
    message: &'static str,
    processing_info: ProcessingInfo,
    command_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ProcessingInfo {
    error_message: Option<String>,
}

#[utoipa::path(
    get,
    path = "/{id}/status",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The processing status", body = SourceStatus),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SourceStatus>> {
    let detail: SourceDetail = sources::detail(&state.db, user.id(), &id).await.map_err(store("Source"))?;
    let status = detail.source.status.clone();
    let message = match status.as_deref() {
        Some("new") => "Waiting to be processed",
        Some("running") => "Processing",
        Some("completed") => "Processed",
        Some("failed") => "Processing failed",
        _ => "Not processed",
    };
    Ok(axum::Json(SourceStatus {
        status,
        message,
        processing_info: ProcessingInfo { error_message: detail.error_message },
        command_id: detail.source.command_id,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SourceUpdate {
    title: Option<String>,
    topics: Option<Vec<String>>,
}

#[utoipa::path(
    put,
    path = "/{id}",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    request_body = SourceUpdate,
    responses(
        (status = 200, description = "The source as changed", body = Source),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<SourceUpdate>,
) -> ApiResult<axum::Json<Source>> {
    Ok(axum::Json(sources::update(&state.db, user.id(), &id, body.title, body.topics).await.map_err(store("Source"))?))
}

#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 204, description = "Deleted, with its file"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn remove(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let source = sources::delete(&state.db, user.id(), &id).await.map_err(store("Source"))?;
    if let Some(path) = file_of(&state, &source) {
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!("source {} deleted, its file {} not: {e}", source.id, path.display());
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/{id}/retry",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "Its processing job is queued again (same job, same options)", body = Source),
        (status = 400, description = "It is being processed now (queued, or running under a live lease)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn retry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Source>> {
    match sources::retry(&state.db, user.id(), &id).await.map_err(store("Source"))? {
        Retry::Queued => Ok(axum::Json(sources::get(&state.db, user.id(), &id).await.map_err(store("Source"))?)),
        Retry::Busy => {
            Err(ApiError::BadRequest("Source is already processing. Cannot retry while processing is active.".into()))
        }
    }
}

/// The stored file of a source, only if it lies under `DATA_PATH/uploads`.
fn file_of(state: &AppState, source: &Source) -> Option<std::path::PathBuf> {
    ephitup_store::files::upload(&state.settings.data_path, source.asset.as_ref()?.file_path.as_deref()?)
}

#[utoipa::path(
    get,
    path = "/{id}/download",
    tag = "sources",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The uploaded file as an attachment (its type guessed from its name)", content_type = "application/octet-stream", body = crate::openapi::Binary),
        (status = 206, description = "The requested `Range` of the file", content_type = "application/octet-stream", body = crate::openapi::Binary),
        (status = 304, description = "Not modified since `If-Modified-Since`"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller, or it has no file", body = ErrorBody),
        (status = 416, description = "A `Range` outside the file"),
    )
)]
async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<Response> {
    let source = sources::get(&state.db, user.id(), &id).await.map_err(store("Source"))?;
    let path = file_of(&state, &source).ok_or_else(|| ApiError::not_found("File"))?;
    let served = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| ApiError::Internal(format!("serving file: {e}")))?;
    let mut response = served.map(Body::new).into_response();
    if let Ok(v) = "attachment".parse() {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
