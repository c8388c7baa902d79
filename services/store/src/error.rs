//! What can go wrong talking to the database, in the terms callers act on.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row, or not the caller's (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// A unique index refused the write.
    #[error("already exists")]
    Conflict,
    /// Other rows of the caller's still name this one (what names it is said).
    #[error("in use by {0}")]
    InUse(String),
    /// A shared row (a default seeded by migrations) that users may read but not change.
    #[error("read-only default")]
    ReadOnly,
    /// The database refused or failed the query.
    #[error("database error: {0}")]
    Database(String),
    /// The database did not answer in time.
    #[error("the database did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The transaction lost a write conflict and committed nothing: running it again is safe.
    #[error("write conflict: {0}")]
    Retryable(String),
    /// A row did not have the shape the code expects (schema and code disagree).
    #[error("unexpected row shape: {0}")]
    Shape(String),
}

impl From<surrealdb::Error> for StoreError {
    fn from(e: surrealdb::Error) -> Self {
        let message = e.to_string();
        if message.contains("already contains") || message.contains("already exists") {
            StoreError::Conflict
        } else if message.contains("can be retried") {
            // SurrealDB's words for a transaction conflict ("... This transaction can be retried").
            StoreError::Retryable(message)
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
