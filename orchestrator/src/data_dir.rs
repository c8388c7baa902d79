//! The data directory, ready before anything starts. In a container `ephitup` runs as root, as
//! PID 1, while its services run as an unprivileged `settings.user`; a platform disk may arrive
//! root-owned (Render mounts it so), so `ephitup` hands the directory and everything in it to
//! that user first. Outside that case it only creates the directory.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::config::RunAs;

/// Creates `dir`; when running as root with a services' user, gives it (recursively) to them.
pub fn prepare(dir: &Path, user: Option<&RunAs>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create data_dir {}: {e}", dir.display()))?;
    if let Some(user) = user.filter(|_| nix::unistd::geteuid().is_root()) {
        give(dir, user)
            .map_err(|e| anyhow::anyhow!("cannot hand data_dir {} to user `{}`: {e}", dir.display(), user.name))?;
    }
    Ok(())
}

/// `lchown` of `path` and, for a directory, of everything below it, skipping what the user
/// already owns (a restart on a large database touches nothing). Symlinks are not followed.
fn give(path: &Path, user: &RunAs) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.uid() != user.uid || meta.gid() != user.gid {
        std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            give(&entry?.path(), user)?;
        }
    }
    Ok(())
}
