//! The one error type of the handlers: every failure becomes `{"detail": "..."}` with the
//! right status, so handlers return `Result` and read like the HTTP contract.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ephitup_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response (the OpenAPI document's `ErrorBody`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"detail": "Notebook not found"}))]
pub struct ErrorBody {
    /// What went wrong, for people; validation errors name the field first (`name: ...`).
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    /// An upstream (an AI provider) failed; the message says how, without secrets.
    #[error("{0}")]
    BadGateway(String),
    /// Something failed on our side; the message is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(message) = &self {
            tracing::error!("{message}");
        }
        let status = self.status();
        let body = axum::Json(ErrorBody { detail: self.to_string() });
        match status {
            StatusCode::UNAUTHORIZED => (status, [(header::WWW_AUTHENTICATE, "Bearer")], body).into_response(),
            // The rest of the oversized body is not read: the connection cannot carry another
            // request, and the client must not put it back in its pool.
            StatusCode::PAYLOAD_TOO_LARGE => (status, [(header::CONNECTION, "close")], body).into_response(),
            // Overload, a database that is down or slow: worth trying again in a moment.
            StatusCode::SERVICE_UNAVAILABLE => (status, [(header::RETRY_AFTER, "1")], body).into_response(),
            _ => (status, body).into_response(),
        }
    }
}

/// Store errors seen from a handler of `what` (e.g. "Notebook").
pub fn store(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(what),
        StoreError::Conflict => ApiError::BadRequest(format!("{what} already exists")),
        StoreError::InUse(by) => ApiError::Conflict(format!("{what} is in use by {by}")),
        StoreError::ReadOnly => {
            ApiError::Forbidden(format!("{what} is a default: default profiles cannot be changed; duplicate it"))
        }
        StoreError::Timeout(_) => ApiError::Unavailable("the database is not answering; try again shortly".into()),
        StoreError::Unavailable(_) => ApiError::Unavailable("the database is unavailable; try again shortly".into()),
        StoreError::Retryable(m) | StoreError::Database(m) | StoreError::Shape(m) => ApiError::Internal(m),
    }
}
