//! `ephitup-store`: the one place where the app's programs (api, worker, migrations) meet the
//! database. It owns the connection settings and the connecting (with retries while the
//! database starts), the migration runner, and — as the API and worker land — the typed
//! records and repositories. Services never talk to SurrealDB any other way.

pub mod connect;
pub mod error;
pub mod ids;
pub mod migrate;
pub mod records;
pub mod repo;
pub mod settings;

pub use connect::{Db, connect, connect_app};
pub use error::StoreError;
pub use ids::RecordKey;
pub use settings::DbSettings;
