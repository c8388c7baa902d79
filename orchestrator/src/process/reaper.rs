//! The one place that reaps. Every child `ephitup` spawns is registered here with a channel
//! for its exit status; a single task answers SIGCHLD by calling `waitpid(-1)` until nothing
//! is left, delivering each status to its owner and discarding orphans (re-parented
//! grandchildren) so no zombie is left. Neither `tokio::process` nor `Child::wait` is used
//! anywhere: two reapers would steal each other's exit statuses.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use super::exit::ExitStatus;
use super::guardian::Guardian;
use super::signal_group;
use super::spawn::CommandSpec;

/// A running child: its pid (also its process group id), its exit, and its output pipes.
#[derive(Debug)]
pub struct Spawned {
    pub pid: Pid,
    pub exit: oneshot::Receiver<ExitStatus>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Registry of live children, shared by everything that spawns.
#[derive(Debug, Default)]
pub struct ProcessTable {
    waiting: Mutex<HashMap<Pid, oneshot::Sender<ExitStatus>>>,
    guardian: Option<Guardian>,
}

impl ProcessTable {
    pub fn new(guardian: Option<Guardian>) -> Arc<Self> {
        Arc::new(Self { waiting: Mutex::new(HashMap::new()), guardian })
    }

    /// Spawns a child in a new process group. The table lock is held across the spawn so the
    /// reaper cannot collect the child before its exit channel is registered.
    pub fn spawn(&self, spec: &CommandSpec) -> std::io::Result<Spawned> {
        // Spawning reads in code idling does not need: trimmed again once quiet.
        super::trim::touched();
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let mut child = spec.command()?.spawn()?;
        let pid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
        let (tx, rx) = oneshot::channel();
        waiting.insert(pid, tx);
        drop(waiting);
        if let Some(g) = &self.guardian {
            g.watch(pid);
        }
        // `child` is dropped without waiting: the reaper owns its exit status.
        Ok(Spawned {
            pid,
            exit: rx,
            stdout: child.stdout.take().map(OwnedFd::from),
            stderr: child.stderr.take().map(OwnedFd::from),
        })
    }

    /// Pids of registered children, for emergency clean-up.
    pub fn pids(&self) -> Vec<Pid> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).keys().copied().collect()
    }

    /// Reaps everything that has exited right now.
    fn reap_all(&self) {
        loop {
            let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
            let status = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => (pid, ExitStatus::Code(code)),
                Ok(WaitStatus::Signaled(pid, sig, _)) => (pid, ExitStatus::Signaled(sig)),
                Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    tracing::warn!("waitpid failed: {e}");
                    return;
                }
            };
            let (pid, exit) = status;
            match waiting.remove(&pid) {
                Some(tx) => {
                    drop(waiting);
                    // Whatever the leader left in its group goes with it.
                    let _ = signal_group(pid, nix::sys::signal::Signal::SIGKILL);
                    if let Some(g) = &self.guardian {
                        g.forget(pid);
                    }
                    let _ = tx.send(exit);
                }
                None => tracing::debug!(pid = pid.as_raw(), "reaped orphan {pid} ({exit})"),
            }
        }
    }

    /// Runs the reaper until the runtime stops. Call once, before spawning anything.
    pub fn start_reaper(self: &Arc<Self>) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let mut sigchld = signal(SignalKind::child())?;
        let table = Arc::clone(self);
        Ok(tokio::spawn(async move {
            table.reap_all();
            while sigchld.recv().await.is_some() {
                table.reap_all();
            }
        }))
    }
}
