//! Fetching a link source without becoming a way into the private network: only http(s),
//! the host resolved here and every address checked (no loopback, private, link-local,
//! shared, multicast or otherwise non-public address), the connection made to a checked
//! address (no second lookup an attacker's DNS could answer differently), redirects followed
//! by hand and checked the same way, a timeout, and a cap on the size read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
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

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 address in disguise
                || v6 == Ipv6Addr::from(1u128))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_link_to_loopback_is_refused_before_connecting() {
        let e = fetch("http://127.0.0.1:9/x", Private::Refuse).await.unwrap_err().to_string();
        assert!(e.contains("refused"), "{e}");
        let e = fetch("http://localhost:9/x", Private::Refuse).await.unwrap_err().to_string();
        assert!(e.contains("refused"), "{e}");
        assert!(fetch("file:///etc/passwd", Private::Refuse).await.is_err());
    }
}
