//! Child processes: how they are spawned (own process group, death signal, environment),
//! reaped (one reaper for every child and orphan), signalled (whole groups), and cleaned up
//! if `ephitup` itself is killed (the guardian).

pub mod cgroup;
mod exit;
pub mod guardian;
mod reaper;
mod spawn;
pub mod trim;
pub mod usage;

pub use exit::ExitStatus;
pub use reaper::{ProcessTable, Spawned};
pub use spawn::{CommandSpec, Output};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Sends `signal` to every process of the group led by `pgid`. A group that is already gone
/// is not an error.
pub fn signal_group(pgid: Pid, signal: Signal) -> std::io::Result<()> {
    match killpg(pgid, signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(std::io::Error::from(e)),
    }
}

/// Makes `ephitup` the reaper of orphans left by its services when it is not PID 1 (on
/// Linux; elsewhere orphans go to init as usual).
pub fn become_subreaper() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    nix::sys::prctl::set_child_subreaper(true).map_err(std::io::Error::from)?;
    Ok(())
}
