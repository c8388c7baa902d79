//! What can go wrong talking to the database, in the terms callers act on.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row, or not the caller's (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// A unique index refused the write.
    #[error("already exists")]
    Conflict,
    /// A shared row (a default seeded by migrations) that users may read but not change.
    #[error("read-only default")]
    ReadOnly,
    /// The database refused or failed the query.
    #[error("database error: {0}")]
    Database(String),
    /// A row did not have the shape the code expects (schema and code disagree).
    #[error("unexpected row shape: {0}")]
    Shape(String),
}

impl From<surrealdb::Error> for StoreError {
    fn from(e: surrealdb::Error) -> Self {
        let message = e.to_string();
        if message.contains("already contains") || message.contains("already exists") {
            StoreError::Conflict
        } else {
            StoreError::Database(message)
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Shape(e.to_string())
    }
}
