//! Passwords: argon2id PHC strings (the library's defaults: m=19 MiB, t=2, p=1), hashed and
//! verified on a blocking thread so a login never stalls other requests. Existing `$argon2id$`
//! hashes from the original app verify as they are.
//!
//! Each hash holds 19 MiB while it runs, so [`Passwords`] lets only a few run at once (a
//! semaphore sized to the memory budget, `PASSWORD_HASH_CONCURRENCY`); the others wait their
//! turn in order, up to `PASSWORD_HASH_WAIT_SECONDS` (30 by default), and are then told to
//! come back (503 with `Retry-After`) rather than held without end.

use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The password hashing of the process, at most `permits` at a time.
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// How long a request waits for its turn.
    wait: Duration,
}

impl Passwords {
    pub fn new(concurrency: usize, wait: Duration) -> Passwords {
        Passwords { permits: Arc::new(Semaphore::new(concurrency.max(1))), wait }
    }

    /// Runs `work` on a blocking thread once a permit is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(ApiError::Internal("the password hashing semaphore is closed".into())),
            Err(_) => return Err(ApiError::Unavailable("too many sign-ins at once; try again in a moment".into())),
        };
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))
    }

    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.run(move || {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
            let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| ApiError::Internal(format!("hashing: {e}")))
        })
        .await?
    }

    /// Whether `password` matches `phc`. A malformed stored hash never matches; a full queue
    /// is an error (503), not a mismatch.
    pub async fn verify(&self, password: String, phc: String) -> Result<bool, ApiError> {
        self.run(move || {
            PasswordHash::new(&phc)
                .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
    }
}

/// The original app's rule: 8–128 characters with upper, lower, digit and symbol.
pub fn check_strength(password: &str) -> Result<(), ApiError> {
    let len = password.chars().count();
    let ok = (8..=128).contains(&len)
        && password.chars().any(|c| c.is_uppercase())
        && password.chars().any(|c| c.is_lowercase())
        && password.chars().any(|c| c.is_ascii_digit())
        && password.chars().any(|c| !c.is_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(
            "password: 8 to 128 characters, with an upper-case letter, a lower-case letter, a digit and a symbol"
                .into(),
        ))
    }
}
