//! What admins see and do across users: every user with how much they own, one user's rows,
//! (de)activation, the admin flag, and clearing a user's data. Not owner-scoped on purpose:
//! the API lets only admins (`ADMIN_EMAILS`) reach these.

use serde_json::{Value, json};

use super::{one, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;
use crate::records::{AdminNamed, AdminTitled, AdminUserDetail, AdminUserSummary, User};

const SUMMARY: &str = "<string> id AS id, email, display_name, is_active, is_admin, \
     <string> created AS created, <string> updated AS updated, \
     array::len((SELECT VALUE id FROM notebook WHERE owner = $parent.id)) AS notebook_count, \
     array::len((SELECT VALUE id FROM source WHERE owner = $parent.id)) AS source_count, \
     array::len((SELECT VALUE id FROM note WHERE owner = $parent.id)) AS note_count, \
     array::len((SELECT VALUE id FROM episode WHERE owner = $parent.id)) AS episode_count";

/// Every table with rows a user owns, in the order a clear deletes them (links first).
/// Tables of later migrations (chat, embeddings) must be added here.
const OWNED_TABLES: [&str; 19] = [
    "chat_message",
    "chat_session",
    "chunk",
    "reference",
    "artifact",
    "source_insight",
    "source_text",
    "source",
    "note",
    "notebook",
    "episode",
    "episode_profile",
    "speaker_profile",
    "transformation",
    "command",
    "model",
    "default_models",
    "user_provider_secret",
    "user_settings",
];

fn key(id: &str) -> Result<RecordKey, StoreError> {
    RecordKey::parse("user", id).ok_or(StoreError::NotFound)
}

pub async fn users(db: &Db) -> Result<Vec<AdminUserSummary>, StoreError> {
    rows(db, &format!("SELECT {SUMMARY} FROM user ORDER BY created ASC"), vec![]).await
}

pub async fn user(db: &Db, id: &str) -> Result<AdminUserDetail, StoreError> {
    let key = key(id)?;
    let summary: AdminUserSummary =
        one(db, &format!("SELECT {SUMMARY} FROM type::record('user', $key)"), vec![("key", json!(key.as_str()))])
            .await?;
    let times = "<string> id AS id, <string> created AS created, <string> updated AS updated";
    let owned = |table: &str, label: &str| {
        format!("SELECT {times}, {label} FROM {table} WHERE owner = type::record('user', $key) ORDER BY created ASC")
    };
    let binds = || vec![("key", json!(key.as_str()))];
    let notebooks: Vec<AdminNamed> = rows(db, &owned("notebook", "name"), binds()).await?;
    let sources: Vec<AdminTitled> = rows(db, &owned("source", "title"), binds()).await?;
    let notes: Vec<AdminTitled> = rows(db, &owned("note", "title"), binds()).await?;
    let episodes: Vec<AdminNamed> = rows(db, &owned("episode", "name"), binds()).await?;
    Ok(AdminUserDetail { summary, notebooks, sources, notes, episodes })
}

/// Activates or deactivates a user (an inactive one is refused on every request and at login).
pub async fn set_active(db: &Db, id: &str, active: bool) -> Result<AdminUserSummary, StoreError> {
    let key = key(id)?;
    let updated: Vec<Value> = rows(
        db,
        "UPDATE type::record('user', $key) SET is_active = $active, updated = time::now() RETURN VALUE <string> id",
        vec![("key", json!(key.as_str())), ("active", json!(active))],
    )
    .await?;
    if updated.is_empty() {
        return Err(StoreError::NotFound);
    }
    one(db, &format!("SELECT {SUMMARY} FROM type::record('user', $key)"), vec![("key", json!(key.as_str()))]).await
}

/// Sets a user's admin flag to `is_admin` (from `ADMIN_EMAILS`, at register and login) when it
/// differs; returns the user.
pub async fn sync_admin(db: &Db, id: &str, is_admin: bool) -> Result<User, StoreError> {
    let key = key(id)?;
    let _: Vec<Value> = rows(
        db,
        "UPDATE type::record('user', $key) SET is_admin = $admin WHERE is_admin != $admin RETURN NONE",
        vec![("key", json!(key.as_str())), ("admin", json!(is_admin))],
    )
    .await?;
    super::users::get(db, id).await
}

/// Deletes every row the user owns (the account itself stays), in one transaction: either
/// all of it is gone or none of it. Their files are not rows: the caller removes them after
/// this commits, by the user's key (see `ephitup-api`'s admin route), so a crash in between
/// leaves only files no row names, and clearing again removes them.
pub async fn clear(db: &Db, id: &str) -> Result<(), StoreError> {
    let key = key(id)?;
    let deletes: String =
        OWNED_TABLES.iter().map(|t| format!("DELETE {t} WHERE owner = $o;")).collect::<Vec<_>>().join("\n");
    let cleared: Vec<Value> = rows(
        db,
        &format!(
            "{{
                LET $o = type::record('user', $key);
                IF !(SELECT VALUE id FROM $o) {{ RETURN []; }};
                {deletes}
                RETURN [<string> $o];
            }}"
        ),
        vec![("key", json!(key.as_str()))],
    )
    .await?;
    if cleared.is_empty() { Err(StoreError::NotFound) } else { Ok(()) }
}
