//! Login attempts are limited per client address and per account (a burst of 10, then one
//! every 6 seconds for each), so passwords cannot be guessed at speed from one place or
//! against one account from many.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

pub struct LoginLimiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<String>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        Self { by_address: DefaultKeyedRateLimiter::keyed(quota), by_account: DefaultKeyedRateLimiter::keyed(quota) }
    }
}

impl LoginLimiter {
    /// Counts an attempt; false when either limit is exceeded.
    pub fn allow(&self, address: IpAddr, account: &str) -> bool {
        let address_ok = self.by_address.check_key(&address).is_ok();
        let account_ok = self.by_account.check_key(&account.to_ascii_lowercase()).is_ok();
        address_ok && account_ok
    }
}
