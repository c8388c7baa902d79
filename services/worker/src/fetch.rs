//! Fetching a link source without becoming a way into the private network: only http(s),
//! the host resolved here and every address checked (no loopback, private, link-local,
//! shared, multicast or otherwise non-public address), the connection made to a checked
//! address (no second lookup an attacker's DNS could answer differently), redirects followed
//! by hand and checked the same way, a timeout, and a cap on the size read. The rule of
//! which addresses are public is `ephitup_store::net`'s, shared with provider base URLs.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use ephitup_store::net::is_public;
use reqwest::Url;

pub const MAX_BYTES: usize = 20 << 20;
const TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 5;

/// A fetched page: its content type and body.
#[derive(Debug)]
pub struct Fetched {
    pub url: Url,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Whether connections to private addresses are allowed (tests, private deployments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Private {
    Refuse,
    Allow,
}

pub async fn fetch(url: &str, private: Private) -> anyhow::Result<Fetched> {
    let mut url = Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            bail!("only http:// and https:// links can be fetched");
        }
        let host = url.host_str().ok_or_else(|| anyhow!("the link has no host"))?.to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs = resolve(&host, port, private).await?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .resolve_to_addrs(host.trim_start_matches('[').trim_end_matches(']'), &addrs)
            .user_agent(concat!("ephitup-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        let mut resp =
            client.get(url.clone()).send().await.map_err(|e| anyhow!("fetching {url}: {}", e.without_url()))?;
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| anyhow!("{url} redirects without a location"))?;
            url = url.join(location).with_context(|| format!("a bad redirect from {url}"))?;
            continue;
        }
        if !resp.status().is_success() {
            bail!("{url} answered {}", resp.status());
        }
        if resp.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
            bail!("{url} is larger than {} MiB", MAX_BYTES >> 20);
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| anyhow!("reading {url}: {}", e.without_url()))? {
            if body.len() + chunk.len() > MAX_BYTES {
                bail!("{url} is larger than {} MiB", MAX_BYTES >> 20);
            }
            body.extend_from_slice(&chunk);
        }
        return Ok(Fetched { url, content_type, body });
    }
    bail!("too many redirects (more than {MAX_REDIRECTS})")
}

/// The host's addresses, all of them public (unless private ones are allowed).
async fn resolve(host: &str, port: u16, private: Private) -> anyhow::Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            tokio::net::lookup_host((bare, port)).await.with_context(|| format!("cannot resolve {bare}"))?.collect()
        }
    };
    if addrs.is_empty() {
        bail!("{bare} has no address");
    }
    if private == Private::Refuse
        && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip()))
    {
        bail!("links to private or local addresses are refused ({bare} is {})", bad.ip());
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_link_to_loopback_is_refused_before_connecting() {
        let e = fetch("http://127.0.0.1:9/x", Private::Refuse).await.unwrap_err().to_string();
        assert!(e.contains("refused"), "{e}");
        let e = fetch("http://localhost:9/x", Private::Refuse).await.unwrap_err().to_string();
        assert!(e.contains("refused"), "{e}");
        assert!(fetch("file:///etc/passwd", Private::Refuse).await.is_err());
    }
}
