//! Chat: sessions of a notebook (`/api/chat/sessions`, `/api/chat/execute`) and of one source
//! (`/api/sources/{id}/chat/...`). Answers are made with the model the contract names (the
//! message's override, else the session's, else the caller's default chat model) and the
//! caller's own key, from the context of chosen sources and notes cut to the model's window
//! (`ephitup_store::ai::chat`). With `Accept: text/event-stream` the answer streams as the
//! model writes it. Every session is the caller's: another user's answers like a missing one
//! (the original app did not check).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ephitup_store::ai::chat::{ContextReport, Prompt, prompt};
use ephitup_store::ai::{self, Caller, ModelKind, Provider};
use ephitup_store::chunks;
use ephitup_store::records::{ChatMessage, ChatSession, Model};
use ephitup_store::repo::chat::{self, Scope};
use ephitup_store::repo::context::{self, Context, Selection, Unwalked};
use ephitup_store::repo::{insights, models};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::checked_text;
use super::context::selection;
use super::transformations::model_error;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::sse;
use crate::state::AppState;

/// Characters of a chat message, at most.
const MESSAGE_LIMIT: usize = 100_000;

/// `/api/chat/...` (nested under `/chat`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update, remove)).routes(routes!(execute))
}

/// `/api/sources/{id}/chat/...` (merged at the root of `/api`).
pub fn source_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(source_list, source_create))
        .routes(routes!(source_read, source_update, source_remove))
        .routes(routes!(source_message))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// The notebook whose sessions to list.
    notebook_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSession {
    notebook_id: String,
    title: Option<String>,
    /// One of the caller's language models, used instead of their default chat model.
    model_override: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSourceSession {
    title: Option<String>,
    model_override: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SessionChanges {
    title: Option<String>,
    /// A model id; `""` or `null` leaves the session on the caller's default (`null` leaves it as is).
    model_override: Option<String>,
}

/// What the sources and notes of a source chat are: the source, its insights.
#[derive(Serialize, ToSchema)]
struct ContextIndicators {
    sources: Vec<String>,
    insights: Vec<String>,
    notes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct SessionWithMessages {
    #[serde(flatten)]
    session: ChatSession,
    messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_indicators: Option<ContextIndicators>,
}

#[derive(Serialize, ToSchema)]
struct Deleted {
    success: bool,
    message: String,
}

async fn check_model(state: &AppState, owner: &str, model: Option<&str>) -> ApiResult<()> {
    if let Some(m) = model.filter(|m| !m.is_empty()) {
        models::get(&state.db, owner, m).await.map_err(store("Model"))?;
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/sessions",
    tag = "chat",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "The notebook's sessions, most recently used first", body = Vec<ChatSession>),
        (status = 400, description = "No `notebook_id`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook of the caller", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<ChatSession>>> {
    let nb = q.notebook_id.ok_or_else(|| ApiError::BadRequest("notebook_id: required".into()))?;
    Ok(axum::Json(chat::list(&state.db, user.id(), &Scope::Notebook(nb)).await.map_err(store("Notebook"))?))
}

#[utoipa::path(
    post,
    path = "/sessions",
    tag = "chat",
    security(("bearer" = [])),
    request_body = NewSession,
    responses(
        (status = 200, description = "The new session", body = ChatSession),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook or model of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewSession>,
) -> ApiResult<axum::Json<ChatSession>> {
    check_model(&state, user.id(), body.model_override.as_deref()).await?;
    let scope = Scope::Notebook(body.notebook_id);
    let session = chat::create(&state.db, user.id(), &scope, body.title.as_deref(), body.model_override.as_deref())
        .await
        .map_err(store("Notebook"))?;
    Ok(axum::Json(session))
}

async fn with_messages(state: &AppState, owner: &str, session: ChatSession) -> ApiResult<SessionWithMessages> {
    let messages = chat::messages(&state.db, owner, &session.id).await.map_err(store("Chat session"))?;
    let context_indicators = match &session.source_id {
        None => None,
        Some(source) => {
            let insights = insights::list(&state.db, owner, source).await.map_err(store("Source"))?;
            Some(ContextIndicators {
                sources: vec![source.clone()],
                insights: insights.into_iter().map(|i| i.id).collect(),
                notes: Vec::new(),
            })
        }
    };
    Ok(SessionWithMessages { session, messages, context_indicators })
}

#[utoipa::path(
    get,
    path = "/sessions/{id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The session with its messages, oldest first", body = SessionWithMessages),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of the caller", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<SessionWithMessages>> {
    let session = chat::get(&state.db, user.id(), &id, None).await.map_err(store("Chat session"))?;
    Ok(axum::Json(with_messages(&state, user.id(), session).await?))
}

#[utoipa::path(
    put,
    path = "/sessions/{id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id")),
    request_body = SessionChanges,
    responses(
        (status = 200, description = "The session as changed", body = ChatSession),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session or model of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<SessionChanges>,
) -> ApiResult<axum::Json<ChatSession>> {
    chat::get(&state.db, user.id(), &id, None).await.map_err(store("Chat session"))?;
    change(&state, user.id(), &id, body).await.map(axum::Json)
}

async fn change(state: &AppState, owner: &str, id: &str, body: SessionChanges) -> ApiResult<ChatSession> {
    check_model(state, owner, body.model_override.as_deref()).await?;
    chat::update(&state.db, owner, id, body.title.as_deref(), body.model_override.as_deref())
        .await
        .map_err(store("Chat session"))
}

#[utoipa::path(
    delete,
    path = "/sessions/{id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "Deleted, with its messages", body = Deleted),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of the caller", body = ErrorBody),
    )
)]
async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Deleted>> {
    chat::delete(&state.db, user.id(), &id).await.map_err(store("Chat session"))?;
    Ok(axum::Json(Deleted { success: true, message: "Session deleted".into() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Execute {
    session_id: String,
    message: String,
    /// The context as `POST /chat/context` builds it (`{sources: [{id, full_text?}], notes:
    /// [{id}]}`: ids are read again, the caller's only) or its config (`{sources: {id:
    /// "full content" | "insights" | "not in"}, notes: {...}}`); absent: every source's
    /// insights and every note of the notebook.
    #[schema(value_type = Object)]
    context: Option<Value>,
    model_override: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Conversation {
    session_id: String,
    messages: Vec<ChatMessage>,
}

/// Everything an answer needs, checked before any of it is sent.
struct Turn {
    db: ephitup_store::Db,
    owner: String,
    session_id: String,
    provider: Provider,
    model: Model,
    prompt: Prompt,
    /// The human message, saved while the model is asked ([`Turn::save_message`]).
    message: String,
    /// The notebook's links past the context's budget, counted while the model is asked (for
    /// the report's `left_out`).
    unwalked: Unwalked,
}

impl Turn {
    /// Saves the human message of this turn (after the history was read, so the prompt does
    /// not hold it twice).
    async fn save_message(&self) -> Result<ChatMessage, ephitup_store::StoreError> {
        chat::add_message(&self.db, &self.owner, &self.session_id, "human", &self.message, &[]).await
    }
}

/// What a turn's context is read from.
enum About {
    Notebook(String, Selection),
    Source(String),
    Nothing,
}

/// [`About`] once the context is begun (a notebook's first pages are read with the model).
enum Begun {
    Notebook(context::Start),
    Source(String),
    Nothing,
}

/// Resolves the model, reads the newest page of the history and begins the context (the
/// notebook checked, its first pages read) at once: none needs the others. Then the history
/// for the room the model's window has, the context for the room they leave, and the prompt.
/// The human message is saved as the model is asked.
async fn prepare(
    state: &AppState,
    owner: &str,
    session: &ChatSession,
    message: &str,
    model_override: Option<&str>,
    about: About,
) -> ApiResult<Turn> {
    // Where a turn's time goes before the model is asked, for `RUST_LOG=ephitup_api=debug`.
    let started = std::time::Instant::now();
    let mut steps = [0u128; 4];
    let mut step = |i: usize| steps[i] = started.elapsed().as_micros();
    let caller =
        Caller { db: &state.db, secrets: &state.secrets, fallback: &state.ai_fallback, clients: &state.ai_clients };
    let model_id = model_override.filter(|m| !m.is_empty()).or(session.model_override.as_deref());
    let begin = async {
        match about {
            About::Notebook(nb, selection) => {
                context::begin(&state.db, owner, &nb, selection).await.map(Begun::Notebook)
            }
            About::Source(id) => Ok(Begun::Source(id)),
            About::Nothing => Ok(Begun::Nothing),
        }
    };
    let (picked, newest, begun) = tokio::join!(
        ai::pick_model(caller, owner, model_id, ModelKind::Chat),
        chat::newest(&state.db, owner, &session.id, 0, chat::HISTORY_PAGE),
        begin
    );
    let (provider, model) = picked.map_err(model_error)?;
    let newest = newest.map_err(store("Chat session"))?;
    let begun = begun.map_err(store("Notebook, source or note"))?;
    step(0);
    // Older pages of the history only if the model's window has room for them.
    let budget = ai::chat::budget(&model.name, message);
    let history = chat::history(&state.db, owner, session, newest, ai::chat::history_room(budget))
        .await
        .map_err(store("Chat session"))?;
    step(1);
    let room = ai::chat::context_room(budget, &history);
    let (context, unwalked) = match begun {
        Begun::Notebook(start) => start.fit(&state.db, owner, room).await.map_err(store("Notebook, source or note"))?,
        Begun::Source(id) => {
            (context::of_source(&state.db, owner, &id, room).await.map_err(store("Source"))?, Unwalked::default())
        }
        Begun::Nothing => (Context::default(), Unwalked::default()),
    };
    step(2);
    // Building a prompt of up to a model's window is CPU work (the context's items come
    // counted; the history and the cut item are counted here): off the async threads.
    let (name, text) = (model.name.clone(), message.to_string());
    let prompt = chunks::on_tokenizer_thread(move || prompt(&name, &context, &history, &text))
        .await
        .ok_or_else(|| ApiError::Internal("the prompt could not be built".into()))?;
    step(3);
    tracing::debug!(
        "chat {}: prepared in {} µs (model, newest messages and first pages {}, history {}, context {}, prompt {}; {} items in, {} tokens)",
        session.id,
        started.elapsed().as_micros(),
        steps[0],
        steps[1] - steps[0],
        steps[2] - steps[1],
        steps[3] - steps[2],
        prompt.report.sources.len() + prompt.report.notes.len(),
        prompt.report.context_tokens,
    );
    Ok(Turn {
        db: state.db.clone(),
        owner: owner.to_string(),
        session_id: session.id.clone(),
        provider,
        model,
        prompt,
        message: message.to_string(),
        unwalked,
    })
}

/// The answer, in one piece: saved, then the whole conversation.
async fn answer_whole(turn: Turn) -> ApiResult<ChatMessage> {
    let (saved, answer) = tokio::join!(
        turn.save_message(),
        ai::chat_messages(&turn.provider, &turn.model.name, &turn.prompt.messages, None)
    );
    saved.map_err(store("Chat session"))?;
    let answer = answer.map_err(|e| ApiError::BadGateway(format!("the model failed: {e:#}")))?;
    let content = ai::client::without_thinking(&answer);
    let citations = ai::chat::citations(&content, &turn.prompt.titles);
    chat::add_message(&turn.db, &turn.owner, &turn.session_id, "ai", &content, &citations)
        .await
        .map_err(store("Chat session"))
}

fn context_event(report: &ContextReport) -> Value {
    json!({
        "type": "context",
        "included": {"sources": report.sources, "notes": report.notes, "insights": report.insights},
        "cut": report.cut,
        "left_out": report.left_out,
        "history_left_out": report.history_left_out,
        "context_tokens": report.context_tokens,
    })
}

/// Streams the answer as it is written (`token` events), then saves it (`done` with the
/// message) — or says why not (`error`). With `report`, what the prompt holds goes first
/// (`context`: its links past the budget counted as the model is asked). Returns the saved
/// message.
async fn answer_streamed(
    mut turn: Turn,
    events: &sse::Events,
    report: bool,
    token: impl Fn(&str) -> Option<Value>,
) -> Option<ChatMessage> {
    let fail = |message: String| json!({"type": "error", "message": message});
    // Sent once the stream has begun: the prompt (up to a model's window) is not kept while
    // the answer streams.
    let messages = std::mem::take(&mut turn.prompt.messages);
    let unwalked = std::mem::take(&mut turn.unwalked);
    let asked = std::time::Instant::now();
    let (saved, started, unwalked) = tokio::join!(
        turn.save_message(),
        ai::chat_stream(&turn.provider, &turn.model.name, &messages),
        unwalked.count()
    );
    drop(messages);
    tracing::debug!("chat {}: the model's stream began in {} µs", turn.session_id, asked.elapsed().as_micros());
    if report {
        match unwalked {
            Ok(n) => turn.prompt.report.left_out += n,
            Err(e) => tracing::warn!("chat {}: the links left out could not be counted: {e}", turn.session_id),
        }
        events.send(context_event(&turn.prompt.report)).await;
    }
    if let Err(e) = saved {
        // A message that is not kept gets no answer: the stream drops, which ends the call.
        tracing::warn!("chat {}: the message was not saved: {e}", turn.session_id);
        events.send(fail("your message could not be saved; try again shortly".into())).await;
        return None;
    }
    let mut pieces = match started {
        Ok(p) => p,
        Err(e) => {
            events.send(fail(format!("the model failed: {e:#}"))).await;
            return None;
        }
    };
    let mut answer = String::new();
    while let Some(piece) = pieces.next().await {
        match piece {
            Ok(p) => {
                answer.push_str(&p);
                if let Some(event) = token(&p)
                    && !events.send(event).await
                {
                    return None;
                }
            }
            Err(e) => {
                events.send(fail(format!("the model failed: {e:#}"))).await;
                return None;
            }
        }
    }
    let content = ai::client::without_thinking(&answer);
    let citations = ai::chat::citations(&content, &turn.prompt.titles);
    match chat::add_message(&turn.db, &turn.owner, &turn.session_id, "ai", &content, &citations).await {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::warn!("chat {}: the answer was not saved: {e}", turn.session_id);
            events.send(fail("the answer could not be saved; try again shortly".into())).await;
            None
        }
    }
}

#[utoipa::path(
    post,
    path = "/execute",
    tag = "chat",
    security(("bearer" = [])),
    request_body = Execute,
    responses(
        (status = 200, description = "The whole conversation with the new answer; with `Accept: text/event-stream`, events: `{type: \"context\", included, cut, left_out}`, `{type: \"token\", content}` as the model writes, then `{type: \"done\", message}` or `{type: \"error\", message}`", body = Conversation),
        (status = 400, description = "Malformed JSON, no chat model to use, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session, model, source or note of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an empty message", body = ErrorBody),
        (status = 502, description = "The model or its provider failed", body = ErrorBody),
        (status = 503, description = "Too many answers at once, streamed or not (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn execute(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(body): Json<Execute>,
) -> ApiResult<Response> {
    checked_text("message", &body.message, MESSAGE_LIMIT)?;
    // An answer holds an upstream call and its prompt, streamed or not: both take a place.
    let slot = state.streams.try_enter()?;
    let owner = user.id();
    let session = chat::get(&state.db, owner, &body.session_id, None).await.map_err(store("Chat session"))?;
    let about = match (&session.notebook_id, &session.source_id) {
        (Some(nb), _) => About::Notebook(nb.clone(), selection(body.context.as_ref())?),
        (None, Some(source)) => About::Source(source.clone()),
        (None, None) => About::Nothing,
    };
    let turn = prepare(&state, owner, &session, &body.message, body.model_override.as_deref(), about).await?;
    if !sse::wanted(&headers) {
        answer_whole(turn).await?;
        drop(slot);
        let messages = chat::messages(&state.db, owner, &session.id).await.map_err(store("Chat session"))?;
        return Ok(axum::Json(Conversation { session_id: session.id, messages }).into_response());
    }
    Ok(sse::stream(slot, move |events| async move {
        let token = |p: &str| Some(json!({"type": "token", "content": p}));
        if let Some(message) = answer_streamed(turn, &events, true, token).await {
            events.send(json!({"type": "done", "message": message})).await;
        }
    }))
}

// --- chat with one source ---------------------------------------------------------------------

#[utoipa::path(
    get,
    path = "/sources/{id}/chat/sessions",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    responses(
        (status = 200, description = "The source's sessions, most recently used first", body = Vec<ChatSession>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source of the caller", body = ErrorBody),
    )
)]
async fn source_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<ChatSession>>> {
    Ok(axum::Json(chat::list(&state.db, user.id(), &Scope::Source(id)).await.map_err(store("Source"))?))
}

#[utoipa::path(
    post,
    path = "/sources/{id}/chat/sessions",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id")),
    request_body = NewSourceSession,
    responses(
        (status = 200, description = "The new session", body = ChatSession),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such source or model of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn source_create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<NewSourceSession>,
) -> ApiResult<axum::Json<ChatSession>> {
    check_model(&state, user.id(), body.model_override.as_deref()).await?;
    let session =
        chat::create(&state.db, user.id(), &Scope::Source(id), body.title.as_deref(), body.model_override.as_deref())
            .await
            .map_err(store("Source"))?;
    Ok(axum::Json(session))
}

async fn source_session(state: &AppState, owner: &str, source: String, session: &str) -> ApiResult<ChatSession> {
    chat::get(&state.db, owner, session, Some(&Scope::Source(source))).await.map_err(store("Chat session"))
}

#[utoipa::path(
    get,
    path = "/sources/{id}/chat/sessions/{session_id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id"), ("session_id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The session with its messages and what its context holds", body = SessionWithMessages),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of this source of the caller", body = ErrorBody),
    )
)]
async fn source_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, session_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<SessionWithMessages>> {
    let session = source_session(&state, user.id(), id, &session_id).await?;
    Ok(axum::Json(with_messages(&state, user.id(), session).await?))
}

#[utoipa::path(
    put,
    path = "/sources/{id}/chat/sessions/{session_id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id"), ("session_id" = String, Path, description = "The session's id")),
    request_body = SessionChanges,
    responses(
        (status = 200, description = "The session as changed", body = ChatSession),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of this source, or model, of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape", body = ErrorBody),
    )
)]
async fn source_update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, session_id)): Path<(String, String)>,
    Json(body): Json<SessionChanges>,
) -> ApiResult<axum::Json<ChatSession>> {
    let session = source_session(&state, user.id(), id, &session_id).await?;
    change(&state, user.id(), &session.id, body).await.map(axum::Json)
}

#[utoipa::path(
    delete,
    path = "/sources/{id}/chat/sessions/{session_id}",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id"), ("session_id" = String, Path, description = "The session's id")),
    responses(
        (status = 200, description = "Deleted, with its messages", body = Deleted),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of this source of the caller", body = ErrorBody),
    )
)]
async fn source_remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, session_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Deleted>> {
    let session = source_session(&state, user.id(), id, &session_id).await?;
    chat::delete(&state.db, user.id(), &session.id).await.map_err(store("Chat session"))?;
    Ok(axum::Json(Deleted { success: true, message: "Session deleted".into() }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SourceMessage {
    message: String,
    model_override: Option<String>,
}

#[utoipa::path(
    post,
    path = "/sources/{id}/chat/sessions/{session_id}/messages",
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The source's id"), ("session_id" = String, Path, description = "The session's id")),
    request_body = SourceMessage,
    responses(
        (status = 200, description = "Server-sent events: `{type: \"user_message\", content}`, `{type: \"context_indicators\", data}`, `{type: \"ai_message\", content}`, then `{type: \"complete\"}` or `{type: \"error\", message}`", content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed JSON, no chat model to use, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such session of this source, or model, of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an empty message", body = ErrorBody),
        (status = 503, description = "Too many answers at once, streamed or not (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn source_message(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, session_id)): Path<(String, String)>,
    Json(body): Json<SourceMessage>,
) -> ApiResult<Response> {
    checked_text("message", &body.message, MESSAGE_LIMIT)?;
    let slot = state.streams.try_enter()?;
    let owner = user.id();
    let session = source_session(&state, owner, id.clone(), &session_id).await?;
    let insight_ids: Vec<String> =
        insights::list(&state.db, owner, &id).await.map_err(store("Source"))?.into_iter().map(|i| i.id).collect();
    let about = About::Source(id.clone());
    let turn = prepare(&state, owner, &session, &body.message, body.model_override.as_deref(), about).await?;
    let message = body.message;
    let source_id = session.source_id.clone().unwrap_or(id);
    Ok(sse::stream(slot, move |events| async move {
        events.send(json!({"type": "user_message", "content": message})).await;
        let indicators = json!({"sources": [source_id], "insights": insight_ids, "notes": []});
        events.send(json!({"type": "context_indicators", "data": indicators})).await;
        // The contract sends the answer whole: no token events.
        if let Some(m) = answer_streamed(turn, &events, false, |_| None).await {
            events.send(json!({"type": "ai_message", "content": m.content, "message": m})).await;
            events.send(json!({"type": "complete"})).await;
        }
    }))
}
