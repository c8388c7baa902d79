//! The OpenAPI document (`GET /api/openapi.json`). It is not written by hand: each handler
//! carries its `#[utoipa::path]` (method, path, parameters, body, every status it answers) and
//! is registered with `utoipa_axum::routes!`, which adds the route to the router and the
//! operation to the document in one step, so what is served and what is documented are one list.

use std::sync::Arc;

use axum::Extension;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The security scheme name handlers refer to with `security(("bearer" = []))`.
pub const BEARER: &str = "bearer";

/// What the document says beside the operations: its title, version and the bearer scheme.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ephitup API",
        description = "The REST API of ephitup. Errors answer `{\"detail\": \"...\"}`; the routes marked with \
                       the `bearer` scheme take `Authorization: Bearer <access_token>` from `/api/auth/login` or \
                       `/api/auth/register`."
    ),
    modifiers(&BearerScheme),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An `access_token` from login or register"))
            .build();
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The document as served: the one built with the router that serves the API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = Object))
)]
pub async fn document(Extension(doc): Extension<Arc<Document>>) -> axum::Json<Arc<Document>> {
    axum::Json(doc)
}

/// A file's bytes in a response (audio, downloads): `{type: string, format: binary}`.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(#[allow(dead_code)] Vec<u8>);

/// Operation ids are the handlers' names, which repeat across resources (`list`, `read`);
/// prefixed with the operation's tag (`notebooks_list`) they are unique, as OpenAPI requires.
pub fn qualify_operation_ids(doc: &mut Document) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            let tag = operation.tags.as_ref().and_then(|tags| tags.first()).map(|tag| tag.replace('-', "_"));
            if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                *id = format!("{tag}_{id}");
            }
        }
    }
}
