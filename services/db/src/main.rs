//! `ephitup-db`: the SurrealDB server of the app, built from the `surrealdb-server` crate, so
//! it has the same command line as `surreal` (`start`, `isready`, `export`, `import`, ...).
//! Only RocksDB storage is compiled in (as the seed used), which keeps the build lean.
//!
//! `surrealdb_server::init` builds its own runtime and parses `std::env::args()` itself, so
//! this `main` is plain and synchronous and does nothing else.

#![recursion_limit = "256"]

use std::process::ExitCode;

fn main() -> ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
