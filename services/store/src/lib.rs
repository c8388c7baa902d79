//! `ephitup-store`: the one place where the app's programs (api, worker, migrations) meet the
//! database. It owns the connection settings and the connecting (with retries while the
//! database starts), the migration runner, and — as the API and worker land — the typed
//! records and repositories. Services never talk to SurrealDB any other way.

pub mod connect;
pub mod migrate;
pub mod settings;

pub use connect::{Db, connect};
pub use settings::DbSettings;
