//! Health probes: one check ([`check`]) and the loop that runs it at an interval and reports
//! transitions ([`monitor`]). Readiness (`health`) gates dependents waiting for `healthy`;
//! liveness (`liveness`) makes the supervisor restart the service. Log-line probes are fed by
//! the log relay instead (see [`crate::logs::LineWatch`]).

pub mod check;
pub mod monitor;

pub use monitor::{ProbeEvent, monitor};
