//! Each service's recent life (starts, exits, restarts, health changes, reloads), kept in
//! memory for the status page's timeline and `ephitup status --json`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Entries kept per service.
const KEPT: usize = 200;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// `name` or `name.N`.
    pub label: String,
    pub state: &'static str,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct History {
    entries: Mutex<HashMap<String, VecDeque<Entry>>>,
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl History {
    pub fn record(&self, service: &str, label: &str, state: &'static str, message: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let list = entries.entry(service.to_string()).or_default();
        list.push_back(Entry { at_ms: now_ms(), label: label.to_string(), state, message: message.to_string() });
        if list.len() > KEPT {
            list.pop_front();
        }
    }

    pub fn of(&self, service: &str) -> Vec<Entry> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(service).map(|l| l.iter().cloned().collect()).unwrap_or_default()
    }
}
