//! Limits on the unauthenticated routes that cost us work or guesses. Logins: per client
//! address and per account (a burst of 10, then one every 6 seconds for each), so passwords
//! cannot be guessed at speed from one place or against one account from many. Registrations:
//! per client address (a burst of 20, then one every 3 minutes), so one place cannot fill the
//! user table or keep the password hashing busy.
//!
//! The tables stay small whatever is sent: an account's key is a 64-bit keyed hash of the
//! email (checked for length by the caller first), an address is an address, and every
//! [`SWEEP_EVERY`] checks the entries whose allowance has fully come back are dropped
//! (`governor`'s `retain_recent`), so a table holds at most the keys seen within a quota's
//! replenishment time.

use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// How often (in checks) a table is swept of entries that have nothing left to remember.
pub const SWEEP_EVERY: u64 = 256;

/// One keyed limit and its sweeping (the clock is a parameter for the tests).
struct Keyed<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> Keyed<K, C> {
    fn with_clock(quota: Quota, clock: C) -> Self {
        Self { limiter: RateLimiter::dashmap_with_clock(quota, clock), checks: AtomicU64::new(0) }
    }

    /// Counts an attempt for `key`; false when its allowance is used up.
    fn allow(&self, key: &K) -> bool {
        let allowed = self.limiter.check_key(key).is_ok();
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        allowed
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

/// The limits the auth routes share.
pub struct Limits {
    login_by_address: Keyed<IpAddr>,
    login_by_account: Keyed<u64>,
    register_by_address: Keyed<IpAddr>,
    /// Keyed with random keys per process: nobody can pick emails that collide.
    account_hash: RandomState,
}

impl Default for Limits {
    fn default() -> Self {
        let login = Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        let register = Quota::per_hour(NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN));
        Self {
            login_by_address: Keyed::new(login),
            login_by_account: Keyed::new(login),
            register_by_address: Keyed::new(register),
            account_hash: RandomState::new(),
        }
    }
}

impl Limits {
    /// Counts a login attempt for `email` (already normalized and at most a valid address's
    /// length) from `address`; false when either limit is exceeded.
    pub fn login(&self, address: IpAddr, email: &str) -> bool {
        let address_ok = self.login_by_address.allow(&address);
        let account_ok = self.login_by_account.allow(&self.account_hash.hash_one(email));
        address_ok && account_ok
    }

    /// Counts a registration from `address`; false when its limit is exceeded.
    pub fn register(&self, address: IpAddr) -> bool {
        self.register_by_address.allow(&address)
    }

    /// Entries held in the tables (for tests).
    pub fn entries(&self) -> usize {
        self.login_by_address.len() + self.login_by_account.len() + self.register_by_address.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_per_key() {
        let limits = Limits::default();
        let a: IpAddr = [203, 0, 113, 1].into();
        let b: IpAddr = [203, 0, 113, 2].into();
        assert!((0..10).all(|i| limits.login(a, &format!("u{i}@example.com"))));
        assert!(!limits.login(a, "other@example.com"), "the address is spent");
        assert!((0..9).all(|_| limits.login(b, "u0@example.com")) && !limits.login(b, "u0@example.com"));
        assert!((0..20).all(|_| limits.register(b)));
        assert!(!limits.register(b));
        assert!(limits.register(a));
    }

    #[test]
    fn every_key_takes_the_same_small_room() {
        let limits = Limits::default();
        let before = limits.entries();
        let long = "x".repeat(1 << 20);
        limits.login([198, 51, 100, 1].into(), &long);
        // One address and one 64-bit account key, whatever the email's length.
        assert_eq!(limits.entries() - before, 2);
    }

    #[test]
    fn entries_expire_once_their_allowance_is_back() {
        use governor::clock::FakeRelativeClock;
        let clock = FakeRelativeClock::default();
        let quota = Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        let keyed: Keyed<u64, FakeRelativeClock> = Keyed::with_clock(quota, clock.clone());
        for key in 0..SWEEP_EVERY - 1 {
            keyed.allow(&key);
        }
        assert_eq!(keyed.len() as u64, SWEEP_EVERY - 1, "nothing expires while the allowances are in use");
        clock.advance(std::time::Duration::from_secs(13));
        // The next check sweeps: only the key just counted is remembered.
        keyed.allow(&u64::MAX);
        assert_eq!(keyed.len(), 1);
    }
}
