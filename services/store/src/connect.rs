//! Connecting: retried with growing pauses until the database answers or the settings'
//! timeout passes, so a service started alongside the database just waits for it.
//!
//! The app's programs hold a small pool of WebSocket connections ([`Db`]), each with a bound
//! on the queries it has in flight, and lends them out. Three reasons, all from how SurrealDB
//! 3.3.5 works:
//! - the server runs every query of one WebSocket connection on one task (the connection's
//!   read loop polls them all), so one connection uses at most one core of the database;
//! - the SDK's router (one task per connection) prefers sending new requests over reading
//!   answers (`biased` select, unbounded request channel): while requests keep arriving, no
//!   answer is read and every query in flight waits — the "stall under a flood". With a
//!   bound per connection the request queue drains and the router reads again;
//! - a clone of an SDK handle (`Surreal::clone`) is a new session on the server, set up by
//!   replaying the sign-in and namespace of the original: the server verifies the root
//!   password again (argon2: ~20 ms of CPU and 19 MiB of memory each). A handle per query
//!   made every query cost that, and concurrent ones held 19 MiB each in the database, which
//!   its memory limit then stopped. So the pool lends its handles ([`Db::acquire`]) and
//!   nothing clones them.
//!
//! After a dropped connection (a database crash or restart) the SDK reconnects by itself
//! (every second) and replays the sign-in and namespace; queries in flight then fail with a
//! connection error, which the repositories report as [`crate::StoreError::Unavailable`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::opt::auth::Root;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::settings::DbSettings;

/// The app's database: a pool of connections. It dereferences to its first connection for
/// the callers that need the SDK itself (migrations, live queries, tests); the repositories
/// spread their queries over all of them ([`Db::acquire`]).
#[derive(Clone)]
pub struct Db {
    conns: Arc<[Conn]>,
    next: Arc<AtomicUsize>,
    /// The vector dimensions whose field and index this pool has defined
    /// (`repo::chunks::ensure_vector_index`): known per database, not per process.
    pub(crate) vector_dims: Arc<std::sync::Mutex<Vec<usize>>>,
}

struct Conn {
    client: Surreal<Any>,
    room: Arc<Semaphore>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("connections", &self.conns.len()).finish()
    }
}

impl std::ops::Deref for Db {
    type Target = Surreal<Any>;

    fn deref(&self) -> &Surreal<Any> {
        &self.conns[0].client
    }
}

impl Db {
    fn new(clients: Vec<Surreal<Any>>, in_flight: usize) -> Db {
        let conns = clients.into_iter().map(|client| Conn { client, room: Arc::new(Semaphore::new(in_flight)) });
        Db { conns: conns.collect(), next: Arc::new(AtomicUsize::new(0)), vector_dims: Arc::default() }
    }

    /// A connection with room for one more query (the least busy one), and the permit that
    /// holds the room until it is dropped; waits while every connection is full. `None` only
    /// if the pool was closed (it never is).
    ///
    /// The connection is lent, never cloned: a clone is a new server session that signs in
    /// again (see the module's doc).
    pub async fn acquire(&self) -> Option<(&Surreal<Any>, OwnedSemaphorePermit)> {
        let freest = self.conns.iter().max_by_key(|c| c.room.available_permits())?;
        if let Ok(permit) = Arc::clone(&freest.room).try_acquire_owned() {
            return Some((&freest.client, permit));
        }
        // All full: queue on the connections in turn.
        let conn = &self.conns[self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len()];
        let permit = Arc::clone(&conn.room).acquire_owned().await.ok()?;
        Some((&conn.client, permit))
    }

    /// How many connections the pool holds.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot reach the database at {url} within {waited:?}: {last}")]
pub struct ConnectError {
    pub url: String,
    pub waited: Duration,
    pub last: String,
}

/// Connects (one connection) and signs in as root. The namespace and database are not
/// selected: the migration runner defines them first; other callers use [`connect_app`].
pub async fn connect(settings: &DbSettings) -> Result<Db, ConnectError> {
    Ok(Db::new(vec![connect_one(settings).await?], settings.pool_in_flight))
}

/// Connects the pool (`SURREAL_POOL_SIZE` connections) and selects the app's namespace and
/// database on each.
pub async fn connect_app(settings: &DbSettings) -> Result<Db, ConnectError> {
    let mut clients = Vec::with_capacity(settings.pool_size);
    for _ in 0..settings.pool_size.max(1) {
        let db = connect_one(settings).await?;
        db.use_ns(&settings.namespace).use_db(&settings.database).await.map_err(|e| ConnectError {
            url: settings.url.clone(),
            waited: Duration::ZERO,
            last: e.to_string(),
        })?;
        clients.push(db);
    }
    Ok(Db::new(clients, settings.pool_in_flight))
}

async fn connect_one(settings: &DbSettings) -> Result<Surreal<Any>, ConnectError> {
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

async fn try_connect(settings: &DbSettings) -> Result<Surreal<Any>, String> {
    let db = surrealdb::engine::any::connect(settings.endpoint()).await.map_err(|e| e.to_string())?;
    db.signin(Root { username: settings.user.clone(), password: settings.password.clone() })
        .await
        .map_err(|e| format!("sign-in as {}: {e}", settings.user))?;
    Ok(db)
}
