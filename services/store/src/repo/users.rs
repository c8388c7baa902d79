//! Users: registration, sign-in lookup, profile.

use serde_json::json;

use super::{one, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::records::{Credentials, User};

const USER_FIELDS: &str = "<string> id AS id, email, display_name, is_active, is_admin, has_completed_onboarding";

/// Creates a user; [`StoreError::Conflict`] when the email is taken.
pub async fn create(db: &Db, email: &str, password_hash: &str, display_name: Option<&str>) -> Result<User, StoreError> {
    one(
        db,
        &format!("CREATE user SET email = $email, password_hash = $hash, display_name = $name RETURN {USER_FIELDS}"),
        vec![("email", json!(email)), ("hash", json!(password_hash)), ("name", json!(display_name))],
    )
    .await
}

pub async fn credentials(db: &Db, email: &str) -> Result<Credentials, StoreError> {
    one(
        db,
        "SELECT <string> id AS id, password_hash, is_active FROM user WHERE email = $email LIMIT 1",
        vec![("email", json!(email))],
    )
    .await
}

/// The user with record id `id` (`user:…`), if it exists.
pub async fn get(db: &Db, id: &str) -> Result<User, StoreError> {
    let Some(key) = crate::ids::RecordKey::parse("user", id) else { return Err(StoreError::NotFound) };
    one(db, &format!("SELECT {USER_FIELDS} FROM type::record('user', $key)"), vec![("key", json!(key.as_str()))]).await
}

pub async fn complete_onboarding(db: &Db, id: &str) -> Result<User, StoreError> {
    let Some(key) = crate::ids::RecordKey::parse("user", id) else { return Err(StoreError::NotFound) };
    let updated: Vec<User> = rows(
        db,
        &format!("UPDATE type::record('user', $key) SET has_completed_onboarding = true RETURN {USER_FIELDS}"),
        vec![("key", json!(key.as_str()))],
    )
    .await?;
    updated.into_iter().next().ok_or(StoreError::NotFound)
}
