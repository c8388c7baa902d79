//! Calls to AI providers, shared by the API (transformations run now) and the worker (podcasts,
//! insights): [`client`] speaks the OpenAI-compatible HTTP protocol, [`public`] is the client for
//! users' own base URLs (public addresses only), and [`provider_for`] decides where a call of
//! one owner goes and with which key — their own (decrypted for the call only) and base URL,
//! else for `openai` the operator's `OPENAI_API_KEY`.

pub mod chat;
pub mod client;
pub mod public;

pub use client::{
    Message, Provider, TokenStream, chat_json, chat_messages, chat_stream, chat_text, embeddings, http_client, speech,
};

use crate::connect::Db;
use crate::crypto::SecretBox;
use crate::error::StoreError;
use crate::repo::provider_secrets;

/// The operator's own OpenAI key and endpoint (`OPENAI_API_KEY`, `OPENAI_BASE_URL`), for
/// owners without a key of their own. `Debug` never shows the key.
#[derive(Clone, Default)]
pub struct Fallback {
    key: Option<String>,
    base_url: Option<String>,
}

impl std::fmt::Debug for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fallback")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Fallback {
    pub fn from_env() -> Fallback {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Fallback { key: var("OPENAI_API_KEY"), base_url: var("OPENAI_BASE_URL") }
    }

    /// Whether there is an operator key at all.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }
}

/// The HTTP clients of a process: one for the operator's endpoints (`OPENAI_BASE_URL`, the
/// providers' public URLs), one for the base URLs users chose, which reaches public addresses
/// only unless the operator allowed private ones (`ALLOW_PRIVATE_PROVIDER_URLS=true`).
#[derive(Debug, Clone)]
pub struct Clients {
    operator: HttpClient,
    users: HttpClient,
    allow_private: bool,
}

impl Clients {
    pub fn new(allow_private: bool) -> anyhow::Result<Clients> {
        let operator = http_client()?;
        let users = if allow_private { operator.clone() } else { public::client()? };
        Ok(Clients { operator, users, allow_private })
    }
}

/// Why no call can be made for an owner; the messages say what to configure.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("no API key for provider `{0}`: add one under AI keys")]
    NoKey(String),
    #[error("no base URL for provider `{0}`: set one with your key under AI keys")]
    NoBaseUrl(String),
    #[error("your {0} key cannot be read; save it again under AI keys")]
    Unreadable(String),
    /// The owner's base URL names a private or local host (`{1}` says which).
    #[error("the base URL of `{0}`: {1}")]
    NotPublic(String, String),
    #[error("reading the provider key: {0}")]
    Store(StoreError),
}

/// Where to call provider `name` for `owner`: a base URL the owner chose goes through the
/// users' client (and is checked as written), the providers' own endpoints through the
/// operator's.
pub async fn provider_for(
    db: &Db,
    secrets: &SecretBox,
    fallback: &Fallback,
    clients: &Clients,
    owner: &str,
    name: &str,
) -> Result<Provider, ProviderError> {
    let default_base = default_base_url(name, fallback.base_url.as_deref());
    match provider_secrets::get(db, owner, name).await {
        Ok(secret) => {
            let key = secrets.decrypt(&secret.encrypted_value).map_err(|_| ProviderError::Unreadable(name.into()))?;
            match secret.base_url.filter(|u| !u.trim().is_empty()) {
                Some(base) => {
                    if !clients.allow_private {
                        let url = reqwest::Url::parse(&base)
                            .map_err(|_| ProviderError::NotPublic(name.into(), "not a URL".into()))?;
                        public::check_url(&url).map_err(|e| ProviderError::NotPublic(name.into(), e.to_string()))?;
                    }
                    Ok(Provider::new(name, &base, key, clients.users.clone()))
                }
                None => {
                    let base = default_base.ok_or_else(|| ProviderError::NoBaseUrl(name.into()))?;
                    Ok(Provider::new(name, &base, key, clients.operator.clone()))
                }
            }
        }
        Err(StoreError::NotFound) => match (&fallback.key, default_base) {
            (Some(key), Some(base)) if name == "openai" => {
                Ok(Provider::new(name, &base, key.clone(), clients.operator.clone()))
            }
            _ => Err(ProviderError::NoKey(name.into())),
        },
        Err(e) => Err(ProviderError::Store(e)),
    }
}

/// The public endpoint of providers that speak the OpenAI protocol.
fn default_base_url(provider: &str, openai_override: Option<&str>) -> Option<String> {
    match provider {
        "openai" => Some(openai_override.unwrap_or("https://api.openai.com/v1").to_string()),
        "openrouter" => Some("https://openrouter.ai/api/v1".into()),
        "groq" => Some("https://api.groq.com/openai/v1".into()),
        "mistral" => Some("https://api.mistral.ai/v1".into()),
        "deepseek" => Some("https://api.deepseek.com/v1".into()),
        "xai" => Some("https://api.x.ai/v1".into()),
        _ => None,
    }
}

/// The HTTP client type the calls take (one per process, see [`http_client`]).
pub type HttpClient = reqwest::Client;

/// Text given to a transformation, at most (characters); the rest is cut. Long sources are
/// not split and merged (the original app does that); the cut keeps requests within the
/// context of common models.
pub const TRANSFORMATION_INPUT_LIMIT: usize = 100_000;

/// Which of an owner's models a call uses, and why none could be.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The owner named no model and has no default of that kind (`{0}`: e.g. "chat").
    #[error("no model given, and no default {0} model is set: choose one under Models")]
    NoModel(&'static str),
    /// The model is not one of the owner's.
    #[error("Model not found")]
    ModelNotFound,
    /// The model is of another type than the call needs (`{2}`).
    #[error("model `{0}` is a {1} model; this needs a {2} model")]
    WrongType(String, String, &'static str),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0}")]
    Store(StoreError),
}

/// The kinds of default model a call may fall back on.
#[derive(Debug, Clone, Copy)]
pub enum ModelKind {
    Chat,
    Transformation,
    Embedding,
}

impl ModelKind {
    fn label(self) -> &'static str {
        match self {
            ModelKind::Chat => "chat",
            ModelKind::Transformation => "transformation",
            ModelKind::Embedding => "embedding",
        }
    }

    fn model_type(self) -> &'static str {
        match self {
            ModelKind::Chat | ModelKind::Transformation => "language",
            ModelKind::Embedding => "embedding",
        }
    }
}

/// The owner's model `model_id`, else their default of `kind`, checked to be of the type the
/// call needs, with where to call it.
pub async fn pick_model(
    c: Caller<'_>,
    owner: &str,
    model_id: Option<&str>,
    kind: ModelKind,
) -> Result<(Provider, crate::records::Model), ModelError> {
    use crate::repo::models;
    let model_id = match model_id.filter(|m| !m.trim().is_empty()) {
        Some(id) => id.to_string(),
        None => {
            let defaults = models::defaults(c.db, owner).await.map_err(ModelError::Store)?;
            match kind {
                ModelKind::Chat => defaults.default_chat_model,
                ModelKind::Transformation => defaults.default_transformation_model,
                ModelKind::Embedding => defaults.default_embedding_model,
            }
            .ok_or(ModelError::NoModel(kind.label()))?
        }
    };
    let model = match models::get(c.db, owner, &model_id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(ModelError::ModelNotFound),
        Err(e) => return Err(ModelError::Store(e)),
    };
    if model.model_type != kind.model_type() {
        return Err(ModelError::WrongType(model.name, model.model_type, kind.model_type()));
    }
    let provider = provider_for(c.db, c.secrets, c.fallback, c.clients, owner, &model.provider).await?;
    Ok((provider, model))
}

/// Why a transformation could not run.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The provider failed or answered something unusable.
    #[error("{0:#}")]
    Call(anyhow::Error),
    #[error("{0}")]
    Store(StoreError),
}

/// Everything a transformation call needs from the process.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub db: &'a Db,
    pub secrets: &'a SecretBox,
    pub fallback: &'a Fallback,
    pub clients: &'a Clients,
}

/// Runs `transformation` on `text` for `owner`, with `model_id` (one of the owner's models)
/// or else their default transformation model, and the owner's key: the system message is
/// the owner's transformation instructions and the transformation's prompt, the user message
/// the text. Returns the model's answer without its thinking.
pub async fn run_transformation(
    c: Caller<'_>,
    owner: &str,
    transformation: &crate::records::Transformation,
    model_id: Option<&str>,
    text: &str,
) -> Result<String, TransformError> {
    use crate::repo::user_settings;
    let (provider, model) = pick_model(c, owner, model_id, ModelKind::Transformation).await?;
    let instructions = user_settings::transformation_instructions(c.db, owner).await.map_err(TransformError::Store)?;
    let system = [instructions.trim(), transformation.prompt.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let text: String = text.chars().take(TRANSFORMATION_INPUT_LIMIT).collect();
    chat_text(&provider, &model.name, &system, &text).await.map_err(TransformError::Call)
}
