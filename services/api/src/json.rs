//! JSON bodies with errors in the API's shape: malformed JSON is 400, a wrong content type
//! 415, a body of the wrong shape 422 naming the field, a body too large 413.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, with [`ApiError`] rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonDataError(e) => ApiError::Unprocessable(body_text(&e.body_text())),
                JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest(body_text(&e.body_text())),
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::UnsupportedMediaType("expected a request with `Content-Type: application/json`".into())
                }
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge("request body too large".into())
                }
                other => ApiError::BadRequest(other.body_text()),
            }),
        }
    }
}

/// axum's messages name the field and position after a fixed preamble; keep that part.
fn body_text(text: &str) -> String {
    text.split_once(": ").map_or(text, |(_, rest)| rest).to_string()
}
