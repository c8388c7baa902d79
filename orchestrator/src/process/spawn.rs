//! Building the `Command` for a child: argv without a shell, working directory, environment
//! (with the directory of the `ephitup` executable first on `PATH`, so sibling binaries are
//! found), stdin from /dev/null, and the `pre_exec` set-up that makes supervision reliable:
//! a process group of its own (signals reach the whole tree), SIGKILL when `ephitup` dies,
//! and the service's user when one is configured.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::RunAs;

/// Where a child's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A pipe read by `ephitup` (the log relay).
    Piped,
    /// Discarded.
    Null,
}

/// Everything needed to start one child process.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// Added to the inherited environment, later entries winning.
    pub env: Vec<(String, String)>,
    pub user: Option<RunAs>,
    pub stdout: Output,
    pub stderr: Output,
    /// The `cgroup.procs` file of a cgroup the child joins before exec (a memory limit).
    pub cgroup: Option<PathBuf>,
}

impl CommandSpec {
    pub fn command(&self) -> std::io::Result<Command> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(&self.cwd).stdin(Stdio::null());
        cmd.stdout(stdio(self.stdout)).stderr(stdio(self.stderr));
        let mut path_set = false;
        for (k, v) in &self.env {
            if k == "PATH" {
                path_set = true;
                cmd.env(k, with_exe_dir_first(Some(OsString::from(v))));
            } else {
                cmd.env(k, v);
            }
        }
        if !path_set {
            cmd.env("PATH", with_exe_dir_first(std::env::var_os("PATH")));
        }
        if let Some(user) = &self.user {
            cmd.env("HOME", &user.home).env("USER", &user.name).env("LOGNAME", &user.name);
        }
        let parent = nix::unistd::getpid();
        let user = self.user.as_ref().map(|u| (u.uid, u.gid));
        // Made before the fork: the child may not allocate.
        let cgroup = match &self.cgroup {
            Some(p) => Some(
                std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
                    .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in a cgroup path"))?,
            ),
            None => None,
        };
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe
        // system calls (setpgid, prctl, getppid, open, write, close, setgroups, setgid, setuid).
        unsafe {
            cmd.pre_exec(move || child_setup(parent, user, cgroup.as_deref()));
        }
        Ok(cmd)
    }
}

/// Moves the calling process into the cgroup whose `cgroup.procs` is `procs` (`0` means
/// "me"), before it drops root.
fn join_cgroup(procs: &std::ffi::CStr) -> std::io::Result<()> {
    // SAFETY: plain system calls on a NUL-terminated path and a static buffer.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let written = libc::write(fd, b"0".as_ptr().cast(), 1);
        let error = std::io::Error::last_os_error();
        libc::close(fd);
        if written != 1 {
            return Err(error);
        }
    }
    Ok(())
}

fn stdio(output: Output) -> Stdio {
    match output {
        Output::Piped => Stdio::piped(),
        Output::Null => Stdio::null(),
    }
}

fn child_setup(
    parent: nix::unistd::Pid,
    user: Option<(u32, u32)>,
    cgroup: Option<&std::ffi::CStr>,
) -> std::io::Result<()> {
    use nix::unistd::{Gid, Pid, Uid, setgid, setgroups, setpgid, setuid};
    setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
        // The parent may have died between fork and prctl: then nobody would signal us.
        if nix::unistd::getppid() != parent {
            return Err(std::io::Error::other("ephitup exited while starting this child"));
        }
    }
    if let Some(procs) = cgroup {
        join_cgroup(procs)?;
    }
    if let Some((uid, gid)) = user {
        setgroups(&[Gid::from_raw(gid)])?;
        setgid(Gid::from_raw(gid))?;
        setuid(Uid::from_raw(uid))?;
    }
    let _ = parent;
    Ok(())
}

/// `PATH` with the directory holding the running `ephitup` executable in front.
fn with_exe_dir_first(path: Option<OsString>) -> OsString {
    let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    let mut dirs: Vec<PathBuf> = exe_dir.into_iter().collect();
    if let Some(path) = &path {
        dirs.extend(std::env::split_paths(path));
    }
    std::env::join_paths(dirs).unwrap_or_else(|_| path.unwrap_or_default())
}
