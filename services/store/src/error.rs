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
    /// The connection to the database is down (it crashed or restarts); the SDK reconnects.
    #[error("the database connection is down: {0}")]
    Unavailable(String),
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

/// What a query `THROW`s when a row it checks inside its transaction is not the caller's
/// (e.g. `THROW "ephitup: not found"`); the error becomes [`StoreError::NotFound`].
pub(crate) const NOT_FOUND: &str = "ephitup: not found";

impl From<surrealdb::Error> for StoreError {
    fn from(e: surrealdb::Error) -> Self {
        let message = e.to_string();
        if e.is_connection() {
            StoreError::Unavailable(message)
        } else if e.is_thrown() && message.contains(NOT_FOUND) {
            StoreError::NotFound
        } else if message.contains("already contains") || message.contains("already exists") {
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
