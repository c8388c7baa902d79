//! The client's address, for the per-address limits. The TCP peer is the client unless it is
//! one of our own proxies (`TRUSTED_PROXIES`, loopback by default: `ephitup-proxy` on the same
//! machine); then the client is the right-most `X-Forwarded-For` entry that is not a trusted
//! proxy. Entries to the left of it were written by whoever connected first and prove nothing:
//! our proxy replaces the header with the address it saw, but the walk from the right is what
//! keeps a forged entry from ever being read, whatever sits in front.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::AppState;

/// The address a request came from, as far as we can trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
            .ok_or_else(|| ApiError::Internal("no peer address (served without connect info)".into()))?;
        Ok(ClientAddress(client_address(peer, &parts.headers, &state.settings.trusted_proxies)))
    }
}

/// Whether `ip` is one of ours (an IPv4-mapped IPv6 peer counts as its IPv4 address).
fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client of a request from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer.to_canonical();
    }
    // Every X-Forwarded-For line in order, each a comma-separated list: one chain.
    let chain: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer.to_canonical();
    for entry in chain.iter().rev() {
        // Something unreadable was written by the hop before the last trusted one: stop at
        // the last address a trusted hop vouched for.
        let Ok(ip) = entry.parse::<IpAddr>() else { break };
        client = ip.to_canonical();
        if !trusted(ip, proxies) {
            break;
        }
    }
    client
}

/// `TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks.
pub fn parse_trusted(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{s}` is not an address or CIDR block"))
        })
        .collect()
}

/// Loopback, both families: the proxy of our own container.
pub fn default_trusted() -> Vec<IpNet> {
    parse_trusted("127.0.0.0/8, ::1/128").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let t = default_trusted();
        let local = ip("127.0.0.1");
        // Our proxy wrote what it saw.
        assert_eq!(client_address(local, &headers(&["203.0.113.7"]), &t), ip("203.0.113.7"));
        // A client's own entries on the left are never read.
        assert_eq!(client_address(local, &headers(&["1.1.1.1, 2.2.2.2", "203.0.113.7"]), &t), ip("203.0.113.7"));
        // Trusted hops on the right are skipped.
        assert_eq!(client_address(local, &headers(&["203.0.113.7, 127.0.0.1"]), &t), ip("203.0.113.7"));
        // No header, or only trusted hops: the last trusted address.
        assert_eq!(client_address(local, &headers(&[]), &t), local);
        assert_eq!(client_address(local, &headers(&["::1"]), &t), ip("::1"));
        // Garbage stops the walk.
        assert_eq!(client_address(local, &headers(&["1.1.1.1, junk, 127.0.0.2"]), &t), ip("127.0.0.2"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = default_trusted();
        assert_eq!(client_address(ip("198.51.100.1"), &headers(&["127.0.0.1"]), &t), ip("198.51.100.1"));
        assert_eq!(client_address(ip("::ffff:198.51.100.1"), &headers(&[]), &t), ip("198.51.100.1"));
        // With no trusted proxies at all, the header is never read.
        assert_eq!(client_address(ip("127.0.0.1"), &headers(&["203.0.113.7"]), &[]), ip("127.0.0.1"));
    }

    #[test]
    fn trusted_proxies_parse() {
        assert_eq!(parse_trusted("10.0.0.0/8, 192.0.2.1 ,::1").unwrap().len(), 3);
        assert!(parse_trusted("10.0.0.0/33").is_err() && parse_trusted("proxy").is_err());
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
