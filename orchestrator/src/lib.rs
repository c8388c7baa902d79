//! `ephitup`: a declarative process supervisor. It reads `ephitup.toml`, starts each service
//! as soon as its dependency conditions hold, health-checks, restarts and logs them, stops them
//! in reverse order, and does the duties of PID 1 in a container. It knows nothing about the
//! programs it runs.

pub mod config;
pub mod graph;
