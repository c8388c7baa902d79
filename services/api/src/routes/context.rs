//! `POST /api/chat/context`: the text of a notebook's chosen sources and notes, with its size,
//! as clients show it before generating a podcast. Owner-checked: every id must be the caller's.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::State;
use ephitup_store::repo::context::{self, Context, Selection, SourceDepth};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(build))
}

/// How an item takes part, in the original client's words.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
enum Inclusion {
    #[serde(rename = "full content")]
    Full,
    #[serde(rename = "insights")]
    Insights,
    #[serde(rename = "not in")]
    NotIn,
}

/// Items by id; those left out are not in (a missing map takes the whole notebook's).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ContextConfig {
    sources: Option<BTreeMap<String, Inclusion>>,
    notes: Option<BTreeMap<String, Inclusion>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ContextRequest {
    notebook_id: String,
    context_config: Option<ContextConfig>,
}

#[derive(Serialize, ToSchema)]
struct ContextResponse {
    context: Context,
    token_count: usize,
    char_count: usize,
}

#[utoipa::path(
    post,
    path = "/context",
    tag = "chat",
    security(("bearer" = [])),
    request_body = ContextRequest,
    responses(
        (status = 200, description = "The context with its size in characters and `o200k_base` tokens", body = ContextResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The notebook, or a chosen source or note, is not the caller's", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or `insights` for a note", body = ErrorBody),
    )
)]
async fn build(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<ContextRequest>,
) -> ApiResult<axum::Json<ContextResponse>> {
    let selection = match body.context_config {
        None => Selection::default(),
        Some(config) => Selection {
            sources: config.sources.map(|chosen| {
                chosen
                    .into_iter()
                    .filter_map(|(id, inclusion)| match inclusion {
                        Inclusion::Full => Some((id, SourceDepth::Full)),
                        Inclusion::Insights => Some((id, SourceDepth::Insights)),
                        Inclusion::NotIn => None,
                    })
                    .collect()
            }),
            notes: config.notes.map(notes_in).transpose()?,
        },
    };
    let context = context::build(&state.db, user.id(), &body.notebook_id, selection)
        .await
        .map_err(store("Notebook, source or note"))?;
    let text = serde_json::to_string(&context).map_err(|e| ApiError::Internal(format!("context: {e}")))?;
    let char_count = text.chars().count();
    // Encoding a large context is CPU work: off the async threads.
    let token_count =
        tokio::task::spawn_blocking(move || tokens(&text)).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(axum::Json(ContextResponse { context, token_count, char_count }))
}

/// Notes are in whole or not at all.
fn notes_in(chosen: BTreeMap<String, Inclusion>) -> ApiResult<Vec<String>> {
    let mut ids = Vec::new();
    for (id, inclusion) in chosen {
        match inclusion {
            Inclusion::Full => ids.push(id),
            Inclusion::NotIn => {}
            Inclusion::Insights => {
                return Err(ApiError::Unprocessable(format!(
                    "context_config.notes.{id}: `full content` or `not in` (notes have no insights)"
                )));
            }
        }
    }
    Ok(ids)
}

/// Tokens of `text` in OpenAI's `o200k_base` encoding (what the original app counted).
fn tokens(text: &str) -> usize {
    static BPE: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    match BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()) {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        // The encoding is compiled in and cannot fail to load; were it to, a word-based
        // estimate (the original's own fallback) beats failing the request.
        None => text.split_whitespace().count() * 13 / 10,
    }
}
