//! What answers a request no route serves, in the shape of every other error so clients can
//! show a message: an unknown path is `404 {"detail": "Not Found"}`, a known path asked with
//! another method `405 {"detail": "Method Not Allowed"}` (axum adds the `Allow` header, which
//! lists the methods the path serves). These are not routes: nothing is served through them,
//! so the OpenAPI document stays the list of what is served.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorBody};

pub async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".into())
}

pub async fn method_not_allowed() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(ErrorBody { detail: "Method Not Allowed".into() })).into_response()
}
