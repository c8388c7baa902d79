//! A small helper process that outlives `ephitup` for one purpose: if `ephitup` is killed
//! with SIGKILL (so it cannot clean up), the guardian SIGKILLs every process group it was
//! told about. The death signal set on each child covers only the direct child; the
//! guardian covers the rest of its group (a shell's children, worker pools...).
//!
//! It is forked before the async runtime starts (so the fork is single-threaded), reads
//! `+pgid` / `-pgid` lines from a pipe, and acts when the pipe reaches end of file, which
//! happens exactly when `ephitup` is gone. It ignores SIGINT/SIGTERM/SIGHUP so that a
//! Ctrl-C aimed at `ephitup` does not take it down first. As PID 1 of a container it is not
//! needed: the kernel kills the whole PID namespace when PID 1 dies.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::sync::{Mutex, PoisonError};

use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::unistd::{ForkResult, Pid, fork, pipe2};

/// `ephitup`'s end of the pipe to the guardian.
#[derive(Debug)]
pub struct Guardian {
    pipe: Mutex<std::fs::File>,
}

impl Guardian {
    /// Forks the guardian. Must be called while the process is still single-threaded.
    pub fn start() -> std::io::Result<Guardian> {
        let (read, write) = pipe2(OFlag::O_CLOEXEC)?;
        // SAFETY: called from `main` before any thread or runtime exists, so the child may run
        // arbitrary code.
        match unsafe { fork() }? {
            ForkResult::Child => {
                drop(write);
                guard(read);
            }
            ForkResult::Parent { .. } => {
                drop(read);
                Ok(Guardian { pipe: Mutex::new(std::fs::File::from(write)) })
            }
        }
    }

    pub fn watch(&self, pgid: Pid) {
        self.send(&format!("+{pgid}\n"));
    }

    pub fn forget(&self, pgid: Pid) {
        self.send(&format!("-{pgid}\n"));
    }

    fn send(&self, line: &str) {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = pipe.write_all(line.as_bytes()) {
            tracing::warn!("guardian unreachable: {e}");
        }
    }
}

fn guard(read: OwnedFd) -> ! {
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT, Signal::SIGUSR1, Signal::SIGUSR2] {
        // SAFETY: installing SIG_IGN has no handler code to be unsafe about.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_name(c"ephitup-guard");
    // Hold nothing of the parent's: not its working directory, not its output (a reader of
    // ephitup's stdout must see end of file when ephitup exits).
    let _ = std::env::set_current_dir("/");
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
    let mut groups: HashSet<i32> = HashSet::new();
    // It idles on one blocking read for the rest of its life: what start-up and the fork left
    // mapped goes back (see `trim`).
    super::trim::trim();
    let reader = BufReader::new(std::fs::File::from(read));
    for line in reader.lines() {
        let Ok(line) = line else { break };
        let (op, pid) = line.split_at(line.len().min(1));
        let Ok(pid) = pid.parse::<i32>() else { continue };
        match op {
            "+" => groups.insert(pid),
            "-" => groups.remove(&pid),
            _ => false,
        };
    }
    for pgid in groups {
        let _ = nix::sys::signal::killpg(Pid::from_raw(pgid), Signal::SIGKILL);
    }
    std::process::exit(0)
}
