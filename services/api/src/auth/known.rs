//! Recently read users. [`super::CurrentUser`] checks on every request that the caller still
//! exists and is active; reading the user's row each time doubled the database round trips of
//! the cheapest requests (a page of notes is one query, the check was another). A user read less
//! than [`TTL`] ago is taken from here, and every change this API makes to a user (activation,
//! the admin flag, onboarding) forgets it at once: within one API process the check is exact,
//! and a change made by another process (a second replica) is seen within [`TTL`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ephitup_store::ids::RecordKey;
use ephitup_store::records::User;
use ephitup_store::{Db, StoreError};
use quick_cache::sync::Cache;

/// How long a user read from the database is trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// Users kept, at most (each a few hundred bytes).
const CAPACITY: usize = 10_000;

pub struct KnownUsers {
    cache: Cache<String, (User, Instant)>,
    /// Bumped by every [`KnownUsers::forget`]: a read that began before a change does not put
    /// the old row back after it.
    changes: AtomicU64,
}

impl Default for KnownUsers {
    fn default() -> Self {
        KnownUsers { cache: Cache::new(CAPACITY), changes: AtomicU64::new(0) }
    }
}

impl KnownUsers {
    /// The user `id`, from here when read less than [`TTL`] ago, else from the database.
    pub async fn get(&self, db: &Db, id: &str) -> Result<User, StoreError> {
        if let Some((user, at)) = self.cache.get(&cache_key(id))
            && at.elapsed() < TTL
        {
            return Ok(user);
        }
        let before = self.changes.load(Ordering::Acquire);
        let read_at = Instant::now();
        let user = ephitup_store::repo::users::get(db, id).await?;
        let key = cache_key(id);
        self.cache.insert(key.clone(), (user.clone(), read_at));
        // A change during the read (its forget may have run before this insert): not kept.
        if self.changes.load(Ordering::Acquire) != before {
            self.cache.remove(&key);
        }
        Ok(user)
    }

    /// Forgets the user `id` (`user:key` or the bare key): called after every change of a
    /// user row.
    pub fn forget(&self, id: &str) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.cache.remove(&cache_key(id));
    }
}

/// The same key for `user:abc` and `abc`.
fn cache_key(id: &str) -> String {
    RecordKey::parse("user", id).map_or_else(|| id.to_string(), |k| k.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_id_and_its_bare_key_are_one_user() {
        assert_eq!(cache_key("user:abc"), cache_key("abc"));
        assert_ne!(cache_key("user:abc"), cache_key("user:abd"));
    }
}
