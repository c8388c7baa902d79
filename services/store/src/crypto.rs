//! Secrets at rest: the users' provider keys are stored as Fernet tokens (AES-128-CBC with an
//! HMAC-SHA256, the format Python's `cryptography` reads). One [`SecretBox`] for the API, which
//! encrypts, and the worker, which decrypts: both build it the same way from the environment.
//! Nothing here logs or prints a key or a plaintext; `Debug` shows `<redacted>`.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use sha2::{Digest, Sha256};

/// The environment variable holding the key (or a passphrase a key is derived from).
pub const KEY_VAR: &str = "FERNET_SECRET_KEY";
/// The file under `DATA_PATH/.secrets/` holding a generated key when [`KEY_VAR`] is unset.
pub const KEY_FILE: &str = "fernet_key";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The token was not made with this key, or was altered.
    #[error("the secret cannot be decrypted with this key")]
    Decrypt,
    /// No key could be read or kept.
    #[error("no encryption key: {0}")]
    Key(String),
}

/// Encrypts and decrypts secrets with one Fernet key.
#[derive(Clone)]
pub struct SecretBox {
    fernet: fernet::Fernet,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox").field("key", &"<redacted>").finish()
    }
}

impl SecretBox {
    /// From `FERNET_SECRET_KEY` when set (and not empty), else from the key kept in
    /// `DATA_PATH/.secrets/fernet_key` (generated on first use, mode 0600).
    pub fn from_env(data_path: &Path) -> Result<SecretBox, CryptoError> {
        match std::env::var(KEY_VAR).ok().filter(|v| !v.is_empty()) {
            Some(text) => Ok(SecretBox::from_key_text(&text)),
            None => SecretBox::from_key_file(data_path),
        }
    }

    /// From the key kept in `DATA_PATH/.secrets/fernet_key`, generated on first use.
    pub fn from_key_file(data_path: &Path) -> Result<SecretBox, CryptoError> {
        let stored = stored_secret(data_path, KEY_FILE).map_err(|e| {
            CryptoError::Key(format!("{KEY_VAR} is not set, and no key could be kept in {}: {e}", data_path.display()))
        })?;
        let text = String::from_utf8(stored)
            .map_err(|_| CryptoError::Key(format!("{}/.secrets/{KEY_FILE} is not text", data_path.display())))?;
        Ok(SecretBox::from_key_text(text.trim()))
    }

    /// From key text: a URL-safe base64 Fernet key (32 bytes) as is, a standard-base64 one
    /// converted, and any other string through SHA-256 (as a passphrase).
    pub fn from_key_text(text: &str) -> SecretBox {
        let fernet = fernet::Fernet::new(text)
            .or_else(|| {
                let bytes = STANDARD.decode(text).ok().filter(|b| b.len() == 32)?;
                fernet::Fernet::new(&URL_SAFE.encode(bytes))
            })
            .unwrap_or_else(|| {
                let derived = URL_SAFE.encode(Sha256::digest(text.as_bytes()));
                #[allow(clippy::expect_used)] // 32 bytes, URL-safe base64: always a valid key
                fernet::Fernet::new(&derived).expect("a 32-byte key")
            });
        SecretBox { fernet }
    }

    /// A Fernet token of `plaintext`.
    pub fn encrypt(&self, plaintext: &str) -> String {
        self.fernet.encrypt(plaintext.as_bytes())
    }

    /// The plaintext of a token made by [`SecretBox::encrypt`] with the same key.
    pub fn decrypt(&self, token: &str) -> Result<String, CryptoError> {
        let bytes = self.fernet.decrypt(token).map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(bytes).map_err(|_| CryptoError::Decrypt)
    }
}

/// A random secret kept in `DATA_PATH/.secrets/<name>` (mode 0600), created on first use, so
/// a first local run needs no setup and restarts keep sessions and stored secrets valid.
pub fn stored_secret(data_path: &Path, name: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = data_path.join(".secrets");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir)?;
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(secret) if !secret.is_empty() => return Ok(secret),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole into a file of this process's own, then linked into place: a link is
    // atomic and fails when the name exists, so when two processes race (the API and the
    // worker start together) one key wins and the other reads it complete — never a file
    // created but not yet written.
    let tmp = dir.join(format!(".{name}.{}.{}", std::process::id(), &secret[..8]));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(secret.as_bytes())?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(secret.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(&path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const PLAIN: &str = "sk-test-0123456789abcdef";

    #[test]
    fn processes_racing_for_a_new_key_all_get_the_one_written() {
        // Threads stand in for the API and the worker starting together; the old create-then-
        // write let a loser read the winner's file before it was written (an empty key).
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
            let keys: Vec<Vec<u8>> = (0..8)
                .map(|_| {
                    let (path, barrier) = (dir.path().to_path_buf(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        stored_secret(&path, "fernet_key").unwrap()
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|t| t.join().unwrap())
                .collect();
            assert_eq!(keys[0].len(), 64);
            assert!(keys.iter().all(|k| *k == keys[0]), "keys differ");
            let left: Vec<_> = std::fs::read_dir(dir.path().join(".secrets")).unwrap().collect();
            assert_eq!(left.len(), 1, "no temporary file is left behind");
        }
    }

    /// A key with `+` and `/` in its standard form, so the two encodings differ.
    fn raw_key() -> [u8; 32] {
        let mut key = [0xfbu8; 32];
        key[0] = 0x3e;
        key[31] = 0xff;
        key
    }

    fn opens(token: &str, key: &str) -> bool {
        fernet::Fernet::new(key).and_then(|f| f.decrypt(token).ok()).as_deref() == Some(PLAIN.as_bytes())
    }

    #[test]
    fn url_safe_key_is_used_as_is() {
        let key = URL_SAFE.encode(raw_key());
        let token = SecretBox::from_key_text(&key).encrypt(PLAIN);
        assert_ne!(token, PLAIN);
        assert!(opens(&token, &key));
        assert_eq!(SecretBox::from_key_text(&key).decrypt(&token).unwrap(), PLAIN);
    }

    #[test]
    fn standard_base64_key_is_converted() {
        let standard = STANDARD.encode(raw_key());
        assert!(standard.contains('+') || standard.contains('/'), "{standard}");
        let token = SecretBox::from_key_text(&standard).encrypt(PLAIN);
        assert!(opens(&token, &URL_SAFE.encode(raw_key())), "the same key as its URL-safe form");
    }

    #[test]
    fn any_other_string_derives_a_key_with_sha256() {
        let passphrase = "correct horse battery staple";
        let token = SecretBox::from_key_text(passphrase).encrypt(PLAIN);
        assert!(opens(&token, &URL_SAFE.encode(Sha256::digest(passphrase.as_bytes()))));
        assert!(SecretBox::from_key_text("another one").decrypt(&token).is_err(), "another key cannot open it");
        assert!(SecretBox::from_key_text(passphrase).decrypt("not a token").is_err());
    }

    #[test]
    fn tokens_differ_each_time() {
        let sb = SecretBox::from_key_text("k");
        assert_ne!(sb.encrypt(PLAIN), sb.encrypt(PLAIN));
    }

    #[test]
    fn key_file_is_generated_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretBox::from_key_file(dir.path()).unwrap();
        let path = dir.path().join(".secrets").join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join(".secrets")).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let token = first.encrypt(PLAIN);
        let again = SecretBox::from_key_file(dir.path()).unwrap();
        assert_eq!(again.decrypt(&token).unwrap(), PLAIN, "a restart reads the same key");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = URL_SAFE.encode(raw_key());
        let shown = format!("{:?}", SecretBox::from_key_text(&key));
        assert!(!shown.contains(&key) && shown.contains("<redacted>"), "{shown}");
    }
}
