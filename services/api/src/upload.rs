//! An uploaded file goes to disk as it arrives — chunk by chunk, hashed (SHA-256) and counted
//! on the way — never whole in memory: a request holds one chunk at a time, whatever the
//! file's size. It is written under a `.part` name and renamed when complete; one that goes
//! over the limit, fails, or is not used by the request (the guard is dropped) is removed.

use std::path::{Path, PathBuf};

use axum::extract::multipart::Field;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;

/// A stored upload, removed again when dropped unless [`Stored::keep`] was called.
#[derive(Debug)]
pub struct Stored {
    /// The path relative to `DATA_PATH` (`uploads/<user key>/<random><.ext>`).
    pub relative: String,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    path: PathBuf,
    kept: bool,
}

impl Stored {
    /// The file stays: a row now names it.
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.relative)
    }
}

impl Drop for Stored {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the `.part` file unless disarmed (the stream failed or went over the limit).
struct Partial(Option<PathBuf>);

impl Drop for Partial {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Streams `field` to a new file under `data_path/uploads/<user_key>/`, refusing (413) more
/// than `limit` bytes. `bad` turns a multipart error into the API's answer.
pub async fn store(
    data_path: &Path,
    user_key: &str,
    mut field: Field<'_>,
    limit: usize,
    bad: impl Fn(axum::extract::multipart::MultipartError) -> ApiError,
) -> Result<Stored, ApiError> {
    let ext: String = Path::new(field.file_name().unwrap_or("upload"))
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|e| format!(".{}", e.to_ascii_lowercase()))
        .unwrap_or_default();
    let mut random = [0u8; 12];
    getrandom::fill(&mut random).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let relative = format!("uploads/{user_key}/{name}{ext}");
    let path = data_path.join(&relative);
    let part = data_path.join(format!("uploads/{user_key}/.{name}.part"));
    let io =
        |what: &str, e: std::io::Error| ApiError::Internal(format!("storing upload {}: {what}: {e}", path.display()));

    if let Some(dir) = part.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(|e| io("directory", e))?;
    }
    let mut partial = Partial(Some(part.clone()));
    let file = tokio::fs::File::create(&part).await.map_err(|e| io("create", e))?;
    let mut out = tokio::io::BufWriter::with_capacity(256 << 10, file);
    let (mut hash, mut size) = (Sha256::new(), 0u64);
    while let Some(chunk) = field.chunk().await.map_err(&bad)? {
        size += chunk.len() as u64;
        if size > limit as u64 {
            return Err(ApiError::PayloadTooLarge(format!("file: larger than {limit} bytes")));
        }
        hash.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| io("write", e))?;
    }
    out.flush().await.map_err(|e| io("write", e))?;
    out.into_inner().sync_all().await.map_err(|e| io("sync", e))?;
    tokio::fs::rename(&part, &path).await.map_err(|e| io("rename", e))?;
    partial.0 = None; // renamed: nothing left to remove
    let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Stored { relative, size, sha256, path, kept: false })
}
