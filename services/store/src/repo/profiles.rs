//! What episode and speaker profiles share: rows without an owner are the defaults seeded by
//! migrations, readable by every user and changed by none; a user's own rows carry `owner`.
//! The typed modules ([`super::episode_profiles`], [`super::speaker_profiles`]) name the table
//! and the fields; every query here is scoped to "the defaults plus the caller's own" for
//! reading and to "the caller's own" for writing.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{one, owner_key, rows};
use crate::connect::Db;
use crate::error::StoreError;
use crate::ids::RecordKey;

/// The rows a user may read: the defaults and their own.
const VISIBLE: &str = "(owner IS NONE OR owner = type::record('user', $owner))";

/// The longest name a copy gets (the API's limit for names).
const MAX_NAME: usize = 100;

/// One profile table: its name and the fields a query returns (the record's shape).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub fields: &'static str,
}

impl Table {
    fn key(&self, id: &str) -> Result<RecordKey, StoreError> {
        RecordKey::parse(self.name, id).ok_or(StoreError::NotFound)
    }

    /// The defaults and the caller's own, by name.
    pub(crate) async fn list<T: DeserializeOwned>(&self, db: &Db, owner: &str) -> Result<Vec<T>, StoreError> {
        let owner = owner_key(owner)?;
        rows(
            db,
            &format!("SELECT {} FROM {} WHERE {VISIBLE} ORDER BY name ASC", self.fields, self.name),
            vec![("owner", json!(owner.as_str()))],
        )
        .await
    }

    /// A visible row by id (a default or the caller's own).
    pub(crate) async fn get<T: DeserializeOwned>(&self, db: &Db, owner: &str, id: &str) -> Result<T, StoreError> {
        let (owner, key) = (owner_key(owner)?, self.key(id)?);
        one(
            db,
            &format!("SELECT {} FROM type::record('{}', $key) WHERE {VISIBLE}", self.fields, self.name),
            vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
        )
        .await
    }

    /// A visible row by name: the caller's own first, else the default of that name.
    pub(crate) async fn by_name<T: DeserializeOwned>(&self, db: &Db, owner: &str, name: &str) -> Result<T, StoreError> {
        let owner = owner_key(owner)?;
        one(
            db,
            &format!(
                "SELECT {}, owner IS NONE AS shared FROM {} WHERE name = $name AND {VISIBLE} ORDER BY shared ASC LIMIT 1",
                self.fields, self.name
            ),
            vec![("name", json!(name)), ("owner", json!(owner.as_str()))],
        )
        .await
    }

    /// Creates a row of the caller's with `data` (an object of the table's columns); returns its id.
    pub(crate) async fn create(&self, db: &Db, owner: &str, data: Value) -> Result<String, StoreError> {
        let owner = owner_key(owner)?;
        let sets = assignments(&data)?;
        let created: Vec<Value> = rows(
            db,
            &format!("CREATE {} SET {sets}, owner = type::record('user', $owner) RETURN VALUE <string> id", self.name),
            vec![("data", data), ("owner", json!(owner.as_str()))],
        )
        .await?;
        created
            .first()
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| StoreError::Shape("CREATE returned no id".into()))
    }

    /// Sets the columns present in `changes` on a row of the caller's. A default answers
    /// [`StoreError::ReadOnly`]; anything else that is not theirs [`StoreError::NotFound`].
    pub(crate) async fn update(&self, db: &Db, owner: &str, id: &str, changes: Value) -> Result<(), StoreError> {
        let (owner_k, key) = (owner_key(owner)?, self.key(id)?);
        let mut sets = vec!["updated = time::now()".to_string()];
        if changes.as_object().is_some_and(|o| !o.is_empty()) {
            sets.push(assignments(&changes)?);
        }
        let updated: Vec<Value> = rows(
            db,
            &format!(
                "UPDATE type::record('{}', $key) SET {} WHERE owner = type::record('user', $owner) RETURN VALUE <string> id",
                self.name,
                sets.join(", ")
            ),
            vec![("key", json!(key.as_str())), ("owner", json!(owner_k.as_str())), ("data", changes)],
        )
        .await?;
        if updated.is_empty() { Err(self.not_theirs(db, &key).await) } else { Ok(()) }
    }

    /// Deletes a row of the caller's; defaults and other users' rows as in [`Table::update`].
    pub(crate) async fn delete(&self, db: &Db, owner: &str, id: &str) -> Result<(), StoreError> {
        let (owner, key) = (owner_key(owner)?, self.key(id)?);
        let deleted: Vec<Value> = rows(
            db,
            &format!(
                "DELETE type::record('{}', $key) WHERE owner = type::record('user', $owner) RETURN BEFORE",
                self.name
            ),
            vec![("key", json!(key.as_str())), ("owner", json!(owner.as_str()))],
        )
        .await?;
        if deleted.is_empty() { Err(self.not_theirs(db, &key).await) } else { Ok(()) }
    }

    /// Why a write found nothing: the row is a default (read-only), or it is missing or another
    /// user's (never told apart).
    async fn not_theirs(&self, db: &Db, key: &RecordKey) -> StoreError {
        let shared: Result<Vec<Value>, StoreError> = rows(
            db,
            &format!("SELECT VALUE true FROM type::record('{}', $key) WHERE owner IS NONE", self.name),
            vec![("key", json!(key.as_str()))],
        )
        .await;
        match shared {
            Ok(found) if !found.is_empty() => StoreError::ReadOnly,
            Ok(_) => StoreError::NotFound,
            Err(e) => e,
        }
    }

    /// Copies `data` (a visible row's columns, `name` included) into a new row of the caller's
    /// named "<name> (copy)", then "<name> (copy) 2", ... whichever is free; returns its id.
    pub(crate) async fn duplicate(&self, db: &Db, owner: &str, mut data: Value) -> Result<String, StoreError> {
        let original = data.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let owner_k = owner_key(owner)?;
        let base = copy_name(&original, 1);
        let prefix: String = base.chars().take(MAX_NAME.saturating_sub(" (copy) 999".len())).collect();
        let taken: Vec<String> = rows(
            db,
            &format!(
                "SELECT VALUE name FROM {} WHERE owner = type::record('user', $owner) AND string::starts_with(name, $prefix)",
                self.name
            ),
            vec![("owner", json!(owner_k.as_str())), ("prefix", json!(prefix))],
        )
        .await?;
        // A name taken between the look-up and the write is a conflict: try the next one.
        let (mut n, mut conflicts) = (1, 0);
        loop {
            let name = copy_name(&original, n);
            n += 1;
            if taken.contains(&name) {
                continue;
            }
            data["name"] = json!(name);
            match self.create(db, owner, data.clone()).await {
                Err(StoreError::Conflict) if conflicts < 10 => conflicts += 1,
                other => return other,
            }
        }
    }
}

/// `name = $data.name, ...` for the keys of `data` (keys come from our own structs, never
/// from clients, so they are safe to put into the query text).
fn assignments(data: &Value) -> Result<String, StoreError> {
    let object: &Map<String, Value> =
        data.as_object().ok_or_else(|| StoreError::Shape("profile data must be an object".into()))?;
    Ok(object.keys().map(|k| format!("{k} = $data.{k}")).collect::<Vec<_>>().join(", "))
}

/// The name of the `n`th copy of `original`, cut so the whole stays within [`MAX_NAME`].
fn copy_name(original: &str, n: u32) -> String {
    let suffix = if n == 1 { " (copy)".to_string() } else { format!(" (copy) {n}") };
    let room = MAX_NAME.saturating_sub(suffix.chars().count());
    let stem: String = original.chars().take(room).collect();
    format!("{}{suffix}", stem.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_count_up_and_stay_within_the_limit() {
        assert_eq!(copy_name("tech_discussion", 1), "tech_discussion (copy)");
        assert_eq!(copy_name("tech_discussion", 2), "tech_discussion (copy) 2");
        let long = "x".repeat(100);
        assert_eq!(copy_name(&long, 1).chars().count(), 100);
        assert!(copy_name(&long, 12).ends_with(" (copy) 12"));
        assert_eq!(copy_name(&long, 12).chars().count(), 100);
    }

    #[test]
    fn assignments_name_each_column() {
        assert_eq!(assignments(&json!({"a": 1, "b": "x"})).unwrap(), "a = $data.a, b = $data.b");
        assert!(assignments(&json!([1])).is_err());
    }
}
