//! The caller, from `Authorization: Bearer <jwt>`: the token must verify and its user must
//! still exist and be active, on every request (the user as read at most a few seconds ago, or
//! since this API last changed it: [`super::known`]).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use ephitup_store::StoreError;
use ephitup_store::records::User;

use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated, active user making the request.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl CurrentUser {
    pub fn id(&self) -> &str {
        &self.0.id
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = || ApiError::Unauthorized("Could not validate credentials".into());
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .ok_or_else(unauthorized)?;
        let user_id = state.keys.verify(token.trim()).ok_or_else(unauthorized)?;
        let user = match state.users.get(&state.db, &user_id).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => return Err(unauthorized()),
            // A database that is down or slow is a 503, as for any other query.
            Err(e) => return Err(crate::error::store("User")(e)),
        };
        if !user.is_active {
            return Err(unauthorized());
        }
        if let Some(slot) = parts.extensions.get::<crate::layers::access::AccessUser>() {
            slot.set(&user.id);
        }
        Ok(CurrentUser(user))
    }
}
