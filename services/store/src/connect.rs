//! Connecting: retried with growing pauses until the database answers or the settings'
//! timeout passes, so a service started alongside the database just waits for it.

use std::time::Duration;

use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use tokio::time::Instant;

use crate::settings::DbSettings;

/// A connection to the app's database.
pub type Db = Surreal<Any>;

#[derive(Debug, thiserror::Error)]
#[error("cannot reach the database at {url} within {waited:?}: {last}")]
pub struct ConnectError {
    pub url: String,
    pub waited: Duration,
    pub last: String,
}

/// Connects and signs in as root. The namespace and database are not selected: the
/// migration runner defines them first; other callers use [`connect_app`].
pub async fn connect(settings: &DbSettings) -> Result<Db, ConnectError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        match try_connect(settings).await {
            Ok(db) => return Ok(db),
            Err(last) if start.elapsed() + pause >= settings.connect_timeout => {
                return Err(ConnectError { url: settings.url.clone(), waited: start.elapsed(), last });
            }
            Err(e) => {
                tracing::debug!("database not reachable yet: {e}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Connects and selects the app's namespace and database.
pub async fn connect_app(settings: &DbSettings) -> Result<Db, ConnectError> {
    let db = connect(settings).await?;
    db.use_ns(&settings.namespace).use_db(&settings.database).await.map_err(|e| ConnectError {
        url: settings.url.clone(),
        waited: Duration::ZERO,
        last: e.to_string(),
    })?;
    Ok(db)
}

async fn try_connect(settings: &DbSettings) -> Result<Db, String> {
    let db = surrealdb::engine::any::connect(settings.endpoint()).await.map_err(|e| e.to_string())?;
    db.signin(Root { username: settings.user.clone(), password: settings.password.clone() })
        .await
        .map_err(|e| format!("sign-in as {}: {e}", settings.user))?;
    Ok(db)
}
