//! `/api/provider-secrets`: the caller's AI provider keys, one per provider. Values are
//! encrypted before they reach the store and never leave the API again: a read shows a masked
//! form (`sk-…abcd`) only, and no error message repeats a value.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use ephitup_store::records::{ProviderSecret, ProviderSecretSummary};
use ephitup_store::repo::provider_secrets::{self, NewProviderSecret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

const WHAT: &str = "Provider secret";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, upsert)).routes(routes!(read, remove))
}

/// A secret as a client sees it: whether there is a value, and its masked form.
#[derive(Serialize, ToSchema)]
struct SecretView {
    provider: String,
    display_name: Option<String>,
    base_url: Option<String>,
    has_value: bool,
    /// `None` when the stored value cannot be decrypted (the key changed).
    masked_value: Option<String>,
    created: String,
    updated: String,
}

impl SecretView {
    fn new(row: ProviderSecret, plaintext: Option<&str>) -> SecretView {
        SecretView {
            provider: row.provider,
            display_name: row.display_name,
            base_url: row.base_url,
            has_value: !row.encrypted_value.is_empty(),
            masked_value: plaintext.map(mask),
            created: row.created,
            updated: row.updated,
        }
    }
}

/// What stands for the hidden part of a masked value.
const MASK: char = '…';

/// The first 3 and the last 4 characters around `…`; 8 characters or fewer are all hidden.
fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 8 {
        return MASK.into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{MASK}{tail}")
}

fn check_provider(provider: &str) -> ApiResult<&str> {
    let ok = !provider.is_empty()
        && provider.len() <= 64
        && provider.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(provider)
    } else {
        Err(ApiError::Unprocessable("provider: 1 to 64 characters, lowercase letters, digits, `-` and `_` only".into()))
    }
}

/// Surrounding whitespace (a pasted newline) is dropped; the message never repeats the value.
/// A value with our mask's `…` in it is what a GET showed (an edit form sending back what it
/// loaded), not a key: refused (400) rather than stored over the real one.
fn check_value(value: &str) -> ApiResult<&str> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 4096 {
        return Err(ApiError::Unprocessable("value: 1 to 4096 characters".into()));
    }
    if value.contains(MASK) {
        return Err(ApiError::BadRequest(
            "value: this is the masked key shown by the API, not a key; send the full key, or leave the secret as it is"
                .into(),
        ));
    }
    Ok(value)
}

fn check_display_name(name: Option<&str>) -> ApiResult<Option<&str>> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::Unprocessable("display_name: at most 200 characters".into()));
    }
    Ok(name)
}

/// An http(s) URL whose host is public (`ephitup_store::net::check_host`: no loopback,
/// private, link-local or metadata address, no local name), unless the operator allows private
/// ones (`ALLOW_PRIVATE_PROVIDER_URLS`). The worker checks the resolved addresses again.
fn check_base_url(url: Option<&str>, allow_private: bool) -> ApiResult<Option<&str>> {
    let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else { return Ok(None) };
    let host = (url.len() <= 2048)
        .then(|| url.parse::<Uri>().ok())
        .flatten()
        .filter(|uri| matches!(uri.scheme_str(), Some("http" | "https")))
        .and_then(|uri| uri.host().filter(|h| !h.is_empty()).map(str::to_string))
        .ok_or_else(|| ApiError::Unprocessable("base_url: an http:// or https:// URL".into()))?;
    if !allow_private {
        ephitup_store::net::check_host(&host).map_err(|e| ApiError::Unprocessable(format!("base_url: {e}")))?;
    }
    Ok(Some(url))
}

#[utoipa::path(
    get,
    path = "/",
    tag = "provider-secrets",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's secrets, without values", body = Vec<ProviderSecretSummary>),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<Vec<ProviderSecretSummary>>> {
    Ok(axum::Json(provider_secrets::list(&state.db, user.id()).await.map_err(store(WHAT))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSecret {
    provider: String,
    value: String,
    display_name: Option<String>,
    base_url: Option<String>,
}

#[utoipa::path(
    post,
    path = "/",
    tag = "provider-secrets",
    security(("bearer" = [])),
    request_body = NewSecret,
    responses(
        (status = 201, description = "Stored (a provider's earlier secret is replaced)", body = SecretView),
        (status = 400, description = "Malformed JSON, or the value is the masked key a GET shows", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A bad provider, value, display name or base URL (a private or local host among them), or a field of the wrong shape", body = ErrorBody),
    )
)]
async fn upsert(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewSecret>,
) -> ApiResult<(StatusCode, axum::Json<SecretView>)> {
    let provider = check_provider(&body.provider)?;
    let value = check_value(&body.value)?;
    let display_name = check_display_name(body.display_name.as_deref())?;
    let base_url = check_base_url(body.base_url.as_deref(), state.settings.allow_private_provider_urls)?;
    let encrypted_value = state.secrets.encrypt(value);
    let row = provider_secrets::upsert(
        &state.db,
        user.id(),
        NewProviderSecret { provider, encrypted_value: &encrypted_value, display_name, base_url },
    )
    .await
    .map_err(store(WHAT))?;
    Ok((StatusCode::CREATED, axum::Json(SecretView::new(row, Some(value)))))
}

#[utoipa::path(
    get,
    path = "/{provider}",
    tag = "provider-secrets",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "The provider (`openai`, ...)")),
    responses(
        (status = 200, description = "The secret, its value masked", body = SecretView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The caller has no secret for this provider", body = ErrorBody),
    )
)]
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(provider): Path<String>,
) -> ApiResult<axum::Json<SecretView>> {
    check_provider(&provider).map_err(|_| ApiError::not_found(WHAT))?;
    let row = provider_secrets::get(&state.db, user.id(), &provider).await.map_err(store(WHAT))?;
    let plaintext = match state.secrets.decrypt(&row.encrypted_value) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(provider = %row.provider, "stored provider secret unreadable: {e}");
            None
        }
    };
    Ok(axum::Json(SecretView::new(row, plaintext.as_deref())))
}

#[utoipa::path(
    delete,
    path = "/{provider}",
    tag = "provider-secrets",
    security(("bearer" = [])),
    params(("provider" = String, Path, description = "The provider (`openai`, ...)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "The caller has no secret for this provider", body = ErrorBody),
    )
)]
async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    check_provider(&provider).map_err(|_| ApiError::not_found(WHAT))?;
    provider_secrets::delete(&state.db, user.id(), &provider).await.map_err(store(WHAT))?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn masks_all_but_the_ends() {
        assert_eq!(mask("sk-0123456789abcd"), "sk-…abcd");
        assert_eq!(mask("12345678"), "…");
        assert_eq!(mask("123456789"), "123…6789");
        assert_eq!(mask("ключ-секрет-ё"), "клю…ет-ё", "characters, not bytes");
    }

    #[test]
    fn validates_fields() {
        assert!(check_provider("openai").is_ok() && check_provider("open_ai-2").is_ok());
        for bad in ["", "OpenAI", "open ai", "a/b", &"x".repeat(65)] {
            assert!(check_provider(bad).is_err(), "{bad}");
        }
        assert!(check_value("  ").is_err() && check_value(&"x".repeat(4097)).is_err());
        assert_eq!(check_value(" sk-1\n").unwrap(), "sk-1");
        assert!(check_value("sk-…abcd").is_err() && check_value("…").is_err());
        let local = "http://localhost:11434/v1";
        assert_eq!(check_base_url(Some(local), true).unwrap(), Some(local), "allowed by the operator");
        assert!(check_base_url(Some("https://api.example.com"), false).is_ok());
        for bad in ["ftp://x", "localhost:11434", "not a url", "http://"] {
            assert!(check_base_url(Some(bad), true).is_err(), "{bad}");
        }
        for private in [
            local,
            "http://127.0.0.1:8000/v1",
            "http://169.254.169.254/latest",
            "http://[::1]/v1",
            "http://10.0.0.5/v1",
        ] {
            assert!(check_base_url(Some(private), false).is_err(), "{private}");
        }
        assert_eq!(check_base_url(None, false).unwrap(), None);
    }
}
