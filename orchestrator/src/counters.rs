//! Counters of each instance that change too often for the board (a board change wakes every
//! waiting instance): failed probe runs so far. Read by `/metrics` and `status`; written by
//! the probe loops. Below the supervisor, beside the board.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Counters of one instance.
#[derive(Debug, Default)]
pub struct InstanceCounters {
    /// Probe runs (readiness and liveness) that failed.
    pub probe_failures: AtomicU64,
}

impl InstanceCounters {
    pub fn probe_failures(&self) -> u64 {
        self.probe_failures.load(Ordering::Relaxed)
    }
}

/// Counters of every instance, by service name and replica.
#[derive(Debug, Default)]
pub struct Counters {
    map: Mutex<HashMap<(String, u32), Arc<InstanceCounters>>>,
}

impl Counters {
    /// The counters of one instance, created at zero on first use and kept across its
    /// restarts (they count over the life of `ephitup`).
    pub fn of(&self, service: &str, replica: u32) -> Arc<InstanceCounters> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry((service.to_string(), replica)).or_default())
    }

    /// Forgets a service that left the set.
    pub fn forget(&self, service: &str) {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).retain(|(s, _), _| s != service);
    }
}
