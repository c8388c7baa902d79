//! `ephitup-store`: the one place where the app's programs (api, worker, migrations) meet the
//! database. It owns the connection settings and the connecting (with retries while the
//! database starts), the migration runner, the typed records and repositories, and the
//! encryption of secrets at rest (`crypto`), where podcast audio is kept (`audio`: files or S3), the email check the schema also makes
//! (`email`), which hosts users may point us at (`net`) and the calls to AI providers (`ai`). Services never talk to SurrealDB any other way.

pub mod ai;
pub mod audio;
pub mod backup;
pub mod chunks;
pub mod connect;
pub mod crypto;
pub mod email;
pub mod error;
pub mod files;
pub mod ids;
pub mod migrate;
pub mod net;
pub mod program;
pub mod records;
pub mod repo;
pub mod settings;

pub use audio::AudioStore;
pub use connect::{Db, connect, connect_app};
pub use crypto::SecretBox;
pub use error::StoreError;
pub use ids::RecordKey;
pub use settings::DbSettings;
