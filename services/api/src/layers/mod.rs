//! What wraps every request of the API, outside the routes: the access log (one line per
//! request), the bound on work in flight (503 with `Retry-After` when full or while the
//! database is down), and the cached database health both read.

pub mod access;
pub mod db_health;
pub mod shed;

pub use db_health::DbHealth;
