//! `ephitup`: a declarative process supervisor. It reads `ephitup.toml`, starts each service
//! as soon as its dependency conditions hold, health-checks, restarts and logs them, stops them
//! in reverse order, and does the duties of PID 1 in a container. It knows nothing about the
//! programs it runs.
//!
//! Map: [`config`] (the file, validated) → [`supervisor`] (one task per service instance,
//! over [`process`] for spawning and reaping, [`health`] for probes and [`logs`] for output)
//! and [`events`] for its own messages; [`board`] holds every instance's state and [`history`]
//! their recent events. [`graph`] and [`plan`] describe the dependency order.
//! While it runs, [`control`] serves the control API (and the optional status page) and
//! [`watch`] follows the file for live reload and dev watch; both reach the coordinator only
//! through [`handle`], which sits below all three. [`export`] and [`import`]
//! convert the declaration to and from other engines' formats.

pub mod board;
pub mod cli;
pub mod config;
pub mod control;
pub mod counters;
pub mod data_dir;
pub mod events;
pub mod export;
pub mod graph;
pub mod handle;
pub mod health;
pub mod history;
pub mod import;
pub mod logs;
pub mod plan;
pub mod process;
pub mod supervisor;
pub mod watch;
