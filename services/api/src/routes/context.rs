//! `POST /api/chat/context`: the text of a notebook's chosen sources and notes, with its size,
//! as clients show it before generating a podcast. Owner-checked: every id must be the caller's.

use std::collections::BTreeMap;

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
        (status = 200, description = "The context with its size in characters and tokens (`cl100k_base`)", body = ContextResponse),
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
        Some(config) => {
            Selection { sources: config.sources.map(sources_in), notes: config.notes.map(notes_in).transpose()? }
        }
    };
    let context = context::build(&state.db, user.id(), &body.notebook_id, selection)
        .await
        .map_err(store("Notebook, source or note"))?;
    let text = serde_json::to_string(&context).map_err(|e| ApiError::Internal(format!("context: {e}")))?;
    let char_count = text.chars().count();
    // Encoding a large context is CPU work: off the async threads.
    let token_count = ephitup_store::chunks::on_tokenizer_thread(move || ephitup_store::chunks::tokens(&text))
        .await
        .ok_or_else(|| ApiError::Internal("the token count failed".into()))?;
    Ok(axum::Json(ContextResponse { context, token_count, char_count }))
}

/// The selection of a chat's `context`: the config (`{sources: {id: inclusion}, notes: {...}}`)
/// or a context as [`build`] answered it (`{sources: [{id, full_text?, ...}], notes: [{id}]}`:
/// a source with `full_text` in whole, else its insights). Only the ids are taken: the text is
/// read again, so a context names the caller's own rows only. `None` or `null`: the notebook's
/// default selection.
pub(super) fn selection(context: Option<&serde_json::Value>) -> ApiResult<Selection> {
    use serde_json::Value;
    let Some(Value::Object(ctx)) = context else {
        return match context {
            None | Some(Value::Null) => Ok(Selection::default()),
            Some(_) => Err(ApiError::Unprocessable("context: an object".into())),
        };
    };
    let id_of = |item: &Value, field: &str| -> ApiResult<String> {
        item.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::Unprocessable(format!("context.{field}: each item an object with an `id`")))
    };
    let sources = match ctx.get("sources") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| {
                    let depth = if item.get("full_text").is_some() { SourceDepth::Full } else { SourceDepth::Insights };
                    Ok((id_of(item, "sources")?, depth))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        Some(map @ Value::Object(_)) => {
            let chosen: BTreeMap<String, Inclusion> = serde_json::from_value(map.clone())
                .map_err(|e| ApiError::Unprocessable(format!("context.sources: {e}")))?;
            Some(sources_in(chosen))
        }
        Some(_) => return Err(ApiError::Unprocessable("context.sources: a list or a map".into())),
    };
    let notes = match ctx.get("notes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            Some(items.iter().map(|item| id_of(item, "notes")).collect::<ApiResult<Vec<_>>>()?)
        }
        Some(map @ Value::Object(_)) => {
            let chosen: BTreeMap<String, Inclusion> = serde_json::from_value(map.clone())
                .map_err(|e| ApiError::Unprocessable(format!("context.notes: {e}")))?;
            Some(notes_in(chosen)?)
        }
        Some(_) => return Err(ApiError::Unprocessable("context.notes: a list or a map".into())),
    };
    Ok(Selection { sources, notes })
}

/// The sources in, each at its depth.
fn sources_in(chosen: BTreeMap<String, Inclusion>) -> Vec<(String, SourceDepth)> {
    chosen
        .into_iter()
        .filter_map(|(id, inclusion)| match inclusion {
            Inclusion::Full => Some((id, SourceDepth::Full)),
            Inclusion::Insights => Some((id, SourceDepth::Insights)),
            Inclusion::NotIn => None,
        })
        .collect()
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
