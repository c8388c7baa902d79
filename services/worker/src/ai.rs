//! TODO
pub fn http_client() -> anyhow::Result<reqwest::Client> { Ok(reqwest::Client::builder().build()?) }
