//! Where generated audio goes: under `DATA_PATH/podcasts/<owner>/` with a generated name (the
//! user's text never becomes part of a path). The episode's `audio_file` holds the path
//! relative to `DATA_PATH`, which is what the API's audio endpoint serves.

use std::path::{Path, PathBuf};

use anyhow::Context;

pub struct Storage {
    root: PathBuf,
}

impl Storage {
    pub fn from_env(data_path: &Path) -> anyhow::Result<Storage> {
        Ok(Storage { root: data_path.to_path_buf() })
    }

    /// Stores an episode's audio; returns what goes into `audio_file`.
    pub async fn put_audio(&self, owner_key: &str, bytes: Vec<u8>) -> anyhow::Result<String> {
        let mut random = [0u8; 12];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let relative = format!("podcasts/{owner_key}/{name}.mp3");
        let path = self.root.join(&relative);
        let dir = path.parent().context("audio path")?.to_path_buf();
        tokio::fs::create_dir_all(&dir).await.with_context(|| format!("creating {}", dir.display()))?;
        // Written aside, then renamed: a reader never sees half a file.
        let partial = dir.join(format!(".{name}.partial"));
        tokio::fs::write(&partial, bytes).await.with_context(|| format!("writing {}", partial.display()))?;
        tokio::fs::rename(&partial, &path).await.with_context(|| format!("renaming to {}", path.display()))?;
        Ok(relative)
    }
}
