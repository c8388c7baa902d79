//! HS256 JWTs: `{sub: "user:<id>", exp}`. Only HS256 is accepted (so `alg: none` and
//! algorithm swaps fail), and `exp` is required.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_secs: u64,
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
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        encode(
            &Header::new(Algorithm::HS256),
            &Claims { sub: user_id.to_string(), exp: now + self.lifetime_secs },
            &self.encoding,
        )
    }

    /// The user id of a valid token.
    pub fn verify(&self, token: &str) -> Option<String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<Claims>(token, &self.decoding, &validation).ok().map(|data| data.claims.sub)
    }
}
