//! From a URL path to a file under the web root, or a refusal. Every way of climbing out of
//! the root is refused, whatever its encoding: `..` and `.` segments (plain or `%2e`), encoded
//! slashes (`%2f`), backslashes (plain or `%5c`), double encoding (`%25..`), NUL and control
//! characters. Hidden names (`.git`, `.env`) are refused too: the UI has none. A refused path
//! answers 404, like a missing file, so a probe learns nothing.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// The relative path a URL path names under the web root (`/` gives an empty path), or
/// `None` when the path is refused.
pub fn relative(url_path: &str) -> Option<PathBuf> {
    if !url_path.starts_with('/') {
        return None;
    }
    let raw = url_path.as_bytes();
    // Encoded separators and double encoding are refused before decoding.
    let lower = url_path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || lower.contains("%25") || raw.contains(&b'\\') {
        return None;
    }
    let decoded = percent_decode_str(url_path).decode_utf8().ok()?;
    if decoded.chars().any(|c| c.is_control() || c == '\\' || c == '%') {
        return None;
    }
    let mut path = PathBuf::new();
    for segment in decoded.split('/') {
        if segment.is_empty() {
            continue; // `//` collapses, like most servers do
        }
        if segment.starts_with('.') {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// `root/relative`, checked again after symlinks are resolved: a link pointing out of the
/// root is refused. `None` when the file does not exist or lies outside.
pub fn within(root: &Path, relative: &Path) -> Option<PathBuf> {
    let candidate = root.join(relative).canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    candidate.starts_with(&root).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_map_under_the_root() {
        assert_eq!(relative("/"), Some(PathBuf::new()));
        assert_eq!(relative("/js/app.js"), Some(PathBuf::from("js/app.js")));
        assert_eq!(relative("/a%20b.css"), Some(PathBuf::from("a b.css")));
        // The UI's routes carry record ids.
        assert_eq!(relative("/notebooks/notebook:abc"), Some(PathBuf::from("notebooks/notebook:abc")));
    }

    #[test]
    fn traversal_is_refused_in_every_encoding() {
        for path in [
            "/../etc/passwd",
            "/js/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/.%2e/etc/passwd",
            "/..%2fetc%2fpasswd",
            "/%2e%2e%2fetc%2fpasswd",
            "/%252e%252e/etc/passwd",
            "/..\\etc\\passwd",
            "/..%5cetc%5cpasswd",
            "/%c0%ae%c0%ae/etc/passwd",
            "/.git/config",
            "/.env",
            "/a%00.js",
            "relative",
        ] {
            assert_eq!(relative(path), None, "{path} must be refused");
        }
    }
}
