//! HTTP to hosts a user chose (a provider's base URL) that cannot be turned against the
//! private network: every name is resolved here and refused unless all its addresses are
//! public ([`crate::net::is_public`], the rule the API applied when the URL was saved
//! and the link fetcher applies), and the connection goes to the checked addresses. Literal
//! addresses skip DNS, so they are checked before the request ([`check_url`]) and on every
//! redirect. No system proxy: a proxy would resolve the name itself, past this check.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net::{check_host, is_public};

/// What the resolver says when it refuses a host (the calls tell it from other errors by it).
pub const REFUSED: &str = "a private or local address";

/// Resolves with the system resolver and hands out public addresses only.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to {}, {REFUSED}: refused", bad.ip()).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client for user-chosen hosts: public addresses only, redirects checked too.
pub fn client() -> anyhow::Result<reqwest::Client> {
    let redirects = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 5 {
            attempt.error("too many redirects")
        } else if let Err(e) = check_url(attempt.url()) {
            attempt.error(e)
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .dns_resolver(Arc::new(PublicOnly))
        .no_proxy()
        .redirect(redirects)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent(concat!("ephitup/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client for user-chosen hosts")
}

/// Refuses a URL whose host is written as a private or local address (or a local name).
pub fn check_url(url: &reqwest::Url) -> anyhow::Result<()> {
    let host = url.host_str().ok_or_else(|| anyhow!("the URL has no host"))?;
    check_host(host).map_err(|e| anyhow!("{e} (an operator can allow it with ALLOW_PRIVATE_PROVIDER_URLS=true)"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn names_of_private_addresses_are_not_resolved() {
        let refused = PublicOnly.resolve("localhost".parse().unwrap()).await;
        assert!(refused.is_err());
        let e = client().unwrap().get("http://localhost:9/x").send().await.unwrap_err();
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            chain.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        assert!(chain.contains("a private or local address"), "{chain}");
        assert!(check_url(&"http://127.0.0.1:9/v1".parse().unwrap()).is_err());
        assert!(check_url(&"http://[::1]:9/v1".parse().unwrap()).is_err());
        assert!(check_url(&"https://api.openai.com/v1".parse().unwrap()).is_ok());
    }
}
