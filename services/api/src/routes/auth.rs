//! `/api/auth`: register, login, me, onboarding.

use axum::extract::State;
use axum::http::StatusCode;
use ephitup_store::StoreError;
use ephitup_store::records::User;
use ephitup_store::repo::users;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, password};
use crate::client::ClientAddress;
use crate::error::{ApiError, ApiResult, ErrorBody, store};
use crate::json::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(me))
        .routes(routes!(complete_onboarding))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Register {
    email: String,
    password: String,
    display_name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
struct Login {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
struct TokenResponse {
    access_token: String,
    #[schema(example = "bearer")]
    token_type: &'static str,
    user: User,
}

/// The email as stored, if the database would take it (`ephitup_store::email`: the schema's
/// own check).
fn normalize_email(email: &str) -> ApiResult<String> {
    ephitup_store::email::normalize(email)
        .ok_or_else(|| ApiError::Unprocessable("email: not a valid email address".into()))
}

fn token_for(state: &AppState, user: User) -> ApiResult<TokenResponse> {
    let access_token = state.keys.issue(&user.id).map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
    Ok(TokenResponse { access_token, token_type: "bearer", user })
}

#[utoipa::path(
    post,
    path = "/register",
    tag = "auth",
    request_body = Register,
    responses(
        (status = 201, description = "Registered and signed in", body = TokenResponse),
        (status = 400, description = "Malformed JSON, or the email is already registered", body = ErrorBody),
        (status = 403, description = "Registration is disabled", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "Invalid email, weak password or a field of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
        (status = 503, description = "Too many sign-ins at once (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(body): Json<Register>,
) -> ApiResult<(StatusCode, axum::Json<TokenResponse>)> {
    if !state.settings.allow_registration {
        return Err(ApiError::Forbidden("Registration is disabled".into()));
    }
    let email = normalize_email(&body.email)?;
    password::check_strength(&body.password)?;
    // Counted once the request is well-formed: a typo does not use up an address's allowance.
    if !state.limits.register(client) {
        return Err(ApiError::TooManyRequests("Too many registrations from this address; try again later".into()));
    }
    let display_name = body.display_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let hash = state.passwords.hash(body.password).await?;
    let user = users::create(&state.db, &email, &hash, display_name.as_deref()).await.map_err(|e| match e {
        StoreError::Conflict => ApiError::BadRequest("Email already registered".into()),
        other => store("User")(other),
    })?;
    let user = sync_admin(&state, user).await?;
    Ok((StatusCode::CREATED, axum::Json(token_for(&state, user)?)))
}

#[utoipa::path(
    post,
    path = "/login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Incorrect email or password", body = ErrorBody),
        (status = 403, description = "Inactive user", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not `application/json`", body = ErrorBody),
        (status = 422, description = "A field of the wrong shape, or an email longer than any address", body = ErrorBody),
        (status = 429, description = "Too many attempts for this address and email", body = ErrorBody),
        (status = 503, description = "Too many sign-ins at once (see `Retry-After`)", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Json(body): Json<Login>,
) -> ApiResult<axum::Json<TokenResponse>> {
    // The length first: the limiter's key is a hash of at most this much.
    if body.email.len() > ephitup_store::email::MAX_LEN * 4 {
        return Err(ApiError::Unprocessable("email: not a valid email address".into()));
    }
    let email = body.email.trim().to_ascii_lowercase();
    if !state.limits.login(client, &email) {
        return Err(ApiError::TooManyRequests("Too many login attempts; try again in a minute".into()));
    }
    let wrong = || ApiError::Unauthorized("Incorrect email or password".into());
    let credentials = match users::credentials(&state.db, &email).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => {
            // Same work as a real check, so timing does not tell which emails exist.
            state.passwords.verify(body.password, DUMMY_HASH.to_string()).await?;
            return Err(wrong());
        }
        Err(e) => return Err(store("User")(e)),
    };
    if !state.passwords.verify(body.password, credentials.password_hash).await? {
        return Err(wrong());
    }
    if !credentials.is_active {
        return Err(ApiError::Forbidden("Inactive user".into()));
    }
    let user = users::get(&state.db, &credentials.id).await.map_err(store("User"))?;
    let user = sync_admin(&state, user).await?;
    Ok(axum::Json(token_for(&state, user)?))
}

/// The user with `is_admin` as `ADMIN_EMAILS` says now (stored when it changed).
async fn sync_admin(state: &AppState, user: User) -> ApiResult<User> {
    let is_admin = state.settings.is_admin_email(&user.email);
    if user.is_admin == is_admin {
        return Ok(user);
    }
    let synced = ephitup_store::repo::admin::sync_admin(&state.db, &user.id, is_admin).await;
    state.users.forget(&user.id);
    synced.map_err(store("User"))
}

/// An argon2id hash of a random password, verified against when the email is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$yKtO1vWLAkzmBGdaGnQlBN5D7hGqCM/oq0NmnEZ7U5k";

#[utoipa::path(
    get,
    path = "/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn me(user: CurrentUser) -> axum::Json<User> {
    axum::Json(user.0)
}

#[utoipa::path(
    put,
    path = "/onboarding/complete",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller, onboarded", body = User),
        (status = 401, description = "No valid token", body = ErrorBody),
    )
)]
async fn complete_onboarding(State(state): State<AppState>, user: CurrentUser) -> ApiResult<axum::Json<User>> {
    let done = users::complete_onboarding(&state.db, user.id()).await;
    state.users.forget(user.id());
    Ok(axum::Json(done.map_err(store("User"))?))
}
