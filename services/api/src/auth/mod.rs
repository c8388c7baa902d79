//! Authentication: argon2id password hashes, HS256 JWTs, the [`CurrentUser`] extractor that
//! every protected handler takes, the login and registration limits, and the bounded password
//! hashing.

pub mod known;
pub mod password;
pub mod rate;
pub mod token;
mod user;

pub use user::CurrentUser;
