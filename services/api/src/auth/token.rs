//! HS256 JWTs: `{sub: "user:<id>", iat, exp}`. Only HS256 is accepted (so `alg: none` and
//! algorithm swaps fail), `exp` is required, an `nbf` in the future is refused, and no token
//! lives longer than the configured lifetime: `exp` may be at most `JWT_EXPIRES_MINUTES` after
//! its `iat` (or after now, for a token without one), and an `iat` in the future is refused, so
//! a forged-looking `exp` of 2^64−1 signed with a leaked old secret does not last forever.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_secs: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Keys {
    pub fn new(secret: &[u8], lifetime_minutes: u64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_secs: lifetime_minutes.saturating_mul(60),
        }
    }

    pub fn issue(&self, user_id: &str) -> Result<String, jsonwebtoken::errors::Error> {
        let now = now();
        encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: user_id.to_string(), exp: now.saturating_add(self.lifetime_secs), iat: Some(now) },
            &self.encoding,
        )
    }

    /// The user id of a valid token.
    pub fn verify(&self, token: &str) -> Option<String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = decode::<Claims>(token, &self.decoding, &validation).ok()?.claims;
        let now = now();
        let issued = claims.iat.unwrap_or(now);
        // A few seconds of clock difference between replicas is not a forgery.
        if issued > now.saturating_add(60) || claims.exp > issued.saturating_add(self.lifetime_secs) {
            return None;
        }
        Some(claims.sub)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn signed(claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(b"0123456789abcdef")).unwrap()
    }

    #[test]
    fn lifetimes_and_not_before_are_enforced() {
        let keys = Keys::new(b"0123456789abcdef", 10);
        let now = now();
        assert_eq!(keys.verify(&keys.issue("user:a").unwrap()).as_deref(), Some("user:a"));
        assert!(keys.verify(&signed(json!({"sub": "user:a", "exp": now + 300}))).is_some(), "no iat: from now");
        for (what, claims) in [
            ("exp at 2^64-1", json!({"sub": "user:a", "exp": u64::MAX})),
            ("exp past the lifetime", json!({"sub": "user:a", "exp": now + 601})),
            ("exp past the lifetime from iat", json!({"sub": "user:a", "exp": now + 300, "iat": now - 400})),
            ("iat in the future", json!({"sub": "user:a", "exp": now + 3600, "iat": now + 3000})),
            ("nbf in the future", json!({"sub": "user:a", "exp": now + 300, "nbf": now + 200})),
        ] {
            assert!(keys.verify(&signed(claims)).is_none(), "{what}");
        }
    }
}
