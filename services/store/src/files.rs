//! Files the programs serve or remove (uploads, podcast audio) are named by rows, so a row must
//! never be able to point outside the directory it belongs in.

use std::path::{Path, PathBuf};

/// The stored file of an upload (`uploads/...`, relative to `DATA_PATH`), only if it exists
/// inside `DATA_PATH/uploads`.
pub fn upload(data_path: &Path, relative: &str) -> Option<PathBuf> {
    within(&data_path.join("uploads"), relative.strip_prefix("uploads/")?)
}

/// `relative` resolved under `root`, only if it exists and stays inside `root` (symlinks and
/// `..` included).
pub fn within(root: &Path, relative: &str) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let path = std::fs::canonicalize(root.join(relative)).ok()?;
    path.starts_with(&root).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_existing_paths_inside_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a")).expect("mkdir");
        std::fs::write(root.join("a/f.mp3"), b"x").expect("write");
        std::fs::write(dir.path().join("outside"), b"x").expect("write");
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("link")).expect("symlink");
        assert!(within(&root, "a/f.mp3").is_some());
        assert!(within(&root, "a/missing.mp3").is_none());
        assert!(within(&root, "../outside").is_none());
        assert!(within(&root, "link").is_none(), "a symlink out of the root is refused");
        assert!(within(&root, "/etc/passwd").is_none());
    }
}
