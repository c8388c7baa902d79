//! Search and ask over the caller's own sources, notes and insights: `/api/search` (text: the
//! chunks' full-text index, BM25 with highlights; vector: the query embedded with the caller's
//! default embedding model, then the HNSW index), `/api/search/ask` (a search plan made by the
//! strategy model, one answer per search, a final answer, streamed as server-sent events) and
//! `/api/search/ask/simple` (the final answer only).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use ephitup_store::ai::{self, Caller, Message, ModelKind, Provider};
use ephitup_store::records::{Model, SearchHit};
use ephitup_store::repo::chunks::{self, Scope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::checked_text;
use super::transformations::model_error;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::sse;
use crate::state::AppState;

/// Hits a search answers, at most.
const MAX_LIMIT: usize = 1_000;
/// Characters of a query or question, at most.
const QUERY_LIMIT: usize = 2_000;
/// Searches an ask plan may run, at most.
const MAX_SEARCHES: usize = 5;
/// Hits each search of an ask reads.
const ASK_HITS: usize = 8;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(ask)).routes(routes!(ask_simple))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum SearchType {
    #[default]
    Text,
    Vector,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, ToSchema)]
struct SearchRequest {
    query: String,
    #[serde(rename = "type", default)]
    kind: SearchType,
    /// Hits, at most (default 100, at most 1,000).
    limit: Option<usize>,
    #[serde(default = "yes")]
    search_sources: bool,
    #[serde(default = "yes")]
    search_notes: bool,
    /// Vector search: the least cosine similarity a hit has (default 0.2).
    minimum_score: Option<f64>,
    /// Only the sources and notes of this notebook of the caller's.
    notebook_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct SearchResults {
    results: Vec<SearchHit>,
    total_count: usize,
    search_type: &'static str,
}

fn caller(state: &AppState) -> Caller<'_> {
    Caller { db: &state.db, secrets: &state.secrets, fallback: &state.ai_fallback, clients: &state.ai_clients }
}

/// Runs one search for `owner`: vector search embeds the query first.
async fn run_search(
    state: &AppState,
    owner: &str,
    kind: SearchType,
    query: &str,
    scope: &Scope,
    limit: usize,
    min_score: f64,
) -> ApiResult<Vec<SearchHit>> {
    match kind {
        SearchType::Text => {
            let _place = state.searches.enter().await?;
            chunks::search_text(&state.db, owner, query, scope, limit).await.map_err(store("Notebook"))
        }
        SearchType::Vector => {
            let (provider, model) =
                ai::pick_model(caller(state), owner, None, ModelKind::Embedding).await.map_err(|e| match e {
                    ai::ModelError::NoModel(_) => ApiError::BadRequest(
                        "vector search needs an embedding model: set a default embedding model under Models".into(),
                    ),
                    other => model_error(other),
                })?;
            let vectors = ai::embeddings(&provider, &model.name, &[query.to_string()])
                .await
                .map_err(|e| ApiError::BadGateway(format!("the embedding model failed: {e:#}")))?;
            let vector = vectors.into_iter().next().unwrap_or_default();
            let tag = format!("{}/{}", model.provider, model.name);
            // A place only for the database's part: the embedding call holds nothing there.
            let _place = state.searches.enter().await?;
            chunks::search_vector(&state.db, owner, &tag, &vector, scope, limit, min_score)
                .await
                .map_err(store("Notebook"))
        }
    }
}

#[utoipa::path(
    post,
    path = "/search",
    tag = "search",
    security(("bearer" = [])),
    request_body = SearchRequest,
    responses(
        (status = 200, description = "Hits, best first: one per source, note or insight, with the passages that matched", body = SearchResults),
        (status = 400, description = "Malformed JSON; vector search without an embedding model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such notebook of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an empty query", body = ErrorBody),
        (status = 502, description = "The embedding model failed", body = ErrorBody),
        (status = 503, description = "Too many searches at once (`API_MAX_SEARCHES`), or the database unavailable (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SearchRequest>,
) -> ApiResult<axum::Json<SearchResults>> {
    checked_text("query", &body.query, QUERY_LIMIT)?;
    let limit = body.limit.unwrap_or(100).clamp(1, MAX_LIMIT);
    let scope = Scope { sources: body.search_sources, notes: body.search_notes, notebook_id: body.notebook_id };
    let results =
        run_search(&state, user.id(), body.kind, &body.query, &scope, limit, body.minimum_score.unwrap_or(0.2)).await?;
    let search_type = match body.kind {
        SearchType::Text => "text",
        SearchType::Vector => "vector",
    };
    Ok(axum::Json(SearchResults { total_count: results.len(), results, search_type }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AskRequest {
    question: String,
    /// Language models of the caller's: the one that plans the searches, the one that answers
    /// each, the one that writes the final answer.
    strategy_model: String,
    answer_model: String,
    final_answer_model: String,
    notebook_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct AskAnswer {
    answer: String,
    question: String,
}

/// An ask, checked: the models resolved, the notebook the caller's.
struct Ask {
    state: AppState,
    owner: String,
    question: String,
    scope: Scope,
    strategy: (Provider, Model),
    answer: (Provider, Model),
    last: (Provider, Model),
    /// How each search runs: by vector when the caller has an embedding model, else by text.
    kind: SearchType,
}

async fn prepare(state: &AppState, owner: &str, body: AskRequest) -> ApiResult<Ask> {
    checked_text("question", &body.question, QUERY_LIMIT)?;
    let pick = |id: String| async move {
        ai::pick_model(caller(state), owner, Some(&id), ModelKind::Chat).await.map_err(model_error)
    };
    let strategy = pick(body.strategy_model).await?;
    let answer = pick(body.answer_model).await?;
    let last = pick(body.final_answer_model).await?;
    let scope = Scope { sources: true, notes: true, notebook_id: body.notebook_id };
    if let Some(nb) = &scope.notebook_id {
        ephitup_store::repo::notebooks::check(&state.db, owner, nb).await.map_err(store("Notebook"))?;
    }
    let kind = match ai::pick_model(caller(state), owner, None, ModelKind::Embedding).await {
        Ok(_) => SearchType::Vector,
        Err(_) => SearchType::Text,
    };
    Ok(Ask {
        state: state.clone(),
        owner: owner.to_string(),
        question: body.question,
        scope,
        strategy,
        answer,
        last,
        kind,
    })
}

const STRATEGY: &str = "You plan how to answer a question from a personal library of sources and notes. \
Reply with a JSON object: {\"reasoning\": \"why these searches\", \"searches\": [{\"term\": \"a short search query\", \"instructions\": \"what to find out with it\"}]}, \
with one to five searches.";
const ANSWER: &str = "Answer the instructions from the search results below only; say so when they do not hold the answer. \
Cite the results you use by their id in square brackets, e.g. [source:abc].";
const FINAL: &str = "Write the final answer to the question from the partial answers below. \
Keep their citations (ids in square brackets); do not add facts they do not hold.";

#[derive(Deserialize)]
struct Planned {
    term: String,
    #[serde(default)]
    instructions: String,
}

/// Runs an ask, sending each step as it is made; returns the final answer or why it failed.
async fn run_ask(
    ask: &Ask,
    emit: &(dyn Fn(Value) -> futures::future::BoxFuture<'static, bool> + Send + Sync),
) -> Result<String, String> {
    let (sp, sm) = &ask.strategy;
    let plan = ai::chat_json(sp, &sm.name, STRATEGY, &ask.question)
        .await
        .map_err(|e| format!("the strategy model failed: {e:#}"))?;
    let reasoning = plan["reasoning"].as_str().unwrap_or_default().to_string();
    let searches: Vec<Planned> = serde_json::from_value(plan["searches"].clone()).unwrap_or_default();
    let mut searches: Vec<Planned> =
        searches.into_iter().filter(|s| !s.term.trim().is_empty()).take(MAX_SEARCHES).collect();
    if searches.is_empty() {
        searches.push(Planned { term: ask.question.clone(), instructions: ask.question.clone() });
    }
    let listed: Vec<Value> = searches.iter().map(|s| json!({"term": s.term, "instructions": s.instructions})).collect();
    if !emit(json!({"type": "strategy", "reasoning": reasoning, "searches": listed})).await {
        return Err("the client went away".into());
    }
    let (ap, am) = &ask.answer;
    let mut answers = Vec::new();
    for s in &searches {
        let hits = run_search(&ask.state, &ask.owner, ask.kind, &s.term, &ask.scope, ASK_HITS, 0.2)
            .await
            .map_err(|e| format!("the search for `{}` failed: {e}", s.term))?;
        let mut results = String::new();
        for h in &hits {
            results.push_str(&format!(
                "\n## [{}] {}\n{}\n",
                h.parent_id,
                h.title.as_deref().unwrap_or(""),
                h.matches.join("\n")
            ));
        }
        if results.is_empty() {
            results.push_str("(no results)");
        }
        let user = format!("Instructions: {}\n\n# Search results for `{}`\n{results}", s.instructions, s.term);
        let answer = ai::chat_messages(ap, &am.name, &[Message::system(ANSWER), Message::user(user)], None)
            .await
            .map_err(|e| format!("the answer model failed: {e:#}"))?;
        let answer = ai::client::without_thinking(&answer);
        if !emit(json!({"type": "answer", "content": answer})).await {
            return Err("the client went away".into());
        }
        answers.push(answer);
    }
    let (fp, fm) = &ask.last;
    let user = format!("Question: {}\n\n# Partial answers\n{}", ask.question, answers.join("\n\n---\n\n"));
    let last = ai::chat_messages(fp, &fm.name, &[Message::system(FINAL), Message::user(user)], None)
        .await
        .map_err(|e| format!("the final answer model failed: {e:#}"))?;
    Ok(ai::client::without_thinking(&last))
}

#[utoipa::path(
    post,
    path = "/search/ask",
    tag = "search",
    security(("bearer" = [])),
    request_body = AskRequest,
    responses(
        (status = 200, description = "Server-sent events, one JSON object per `data:` line: `{type: \"strategy\", reasoning, searches: [{term, instructions}]}`, `{type: \"answer\", content}` (one per search), `{type: \"final_answer\", content}`, `{type: \"complete\", final_answer}`, or `{type: \"error\", message}`", content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed JSON, a model that is not a language model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such model or notebook of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an empty question", body = ErrorBody),
        (status = 503, description = "Too many answers at once, streamed or not (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn ask(State(state): State<AppState>, user: CurrentUser, Json(body): Json<AskRequest>) -> ApiResult<Response> {
    let slot = state.streams.try_enter()?;
    let ask = prepare(&state, user.id(), body).await?;
    Ok(sse::stream(slot, move |events| async move {
        let emit = move |v: Value| -> futures::future::BoxFuture<'static, bool> {
            let events = events.clone();
            Box::pin(async move { events.send(v).await })
        };
        match run_ask(&ask, &emit).await {
            Ok(last) => {
                if emit(json!({"type": "final_answer", "content": last})).await {
                    emit(json!({"type": "complete", "final_answer": last})).await;
                }
            }
            Err(message) => {
                emit(json!({"type": "error", "message": message})).await;
            }
        }
    }))
}

#[utoipa::path(
    post,
    path = "/search/ask/simple",
    tag = "search",
    security(("bearer" = [])),
    request_body = AskRequest,
    responses(
        (status = 200, description = "The final answer", body = AskAnswer),
        (status = 400, description = "Malformed JSON, a model that is not a language model, or no key for its provider", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such model or notebook of the caller", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an empty question", body = ErrorBody),
        (status = 502, description = "A model or its provider failed", body = ErrorBody),
        (status = 503, description = "Too many answers at once, streamed or not (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn ask_simple(
    State(state): State<AppState>,
    user: CurrentUser,
    _headers: HeaderMap,
    Json(body): Json<AskRequest>,
) -> ApiResult<Response> {
    let _place = state.streams.try_enter()?;
    let ask = prepare(&state, user.id(), body).await?;
    let quiet = |_: Value| -> futures::future::BoxFuture<'static, bool> { Box::pin(async { true }) };
    let answer = run_ask(&ask, &quiet).await.map_err(ApiError::BadGateway)?;
    Ok(axum::Json(AskAnswer { answer, question: ask.question }).into_response())
}
