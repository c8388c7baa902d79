//! Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop headers — the fixed set and
//! every header the `Connection` header names — apply to one connection only and are removed
//! in both directions; the API learns the client's address, scheme and host from
//! `X-Forwarded-For`, `-Proto` and `-Host`. The UI's files go out with the browser's security
//! headers ([`add_security`]).
//!
//! `X-Forwarded-For` is the TCP peer this proxy saw and nothing else: whatever the client
//! wrote there is dropped, so the API (which trusts this proxy, `TRUSTED_PROXIES`) counts each
//! client at its real address and a rotated header cannot dodge a per-address limit.

use std::net::IpAddr;

use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Headers that are always hop-by-hop.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes the hop-by-hop headers, including those listed in `Connection`.
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// The client's address: the TCP `peer`, unless `trusted_hops` proxies stand in front of us
/// (`PROXY_TRUSTED_HOPS`), each appending the address it saw to `X-Forwarded-For`: then the
/// entry `trusted_hops` places from the right, the one our nearest trusted proxy saw. Entries
/// further left were written by whoever connected first and are never read. A chain shorter
/// than that, or an entry that is not an address, did not come through our proxies: the peer.
pub fn client_address(headers: &HeaderMap, peer: IpAddr, trusted_hops: usize) -> IpAddr {
    if trusted_hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    entries
        .len()
        .checked_sub(trusted_hops)
        .and_then(|i| entries[i].parse::<IpAddr>().ok())
        .map_or(peer, |ip| ip.to_canonical())
}

/// Sets `X-Forwarded-For` (the client's address, replacing anything the client sent),
/// `X-Forwarded-Proto` (kept when an edge in front of us, e.g. Render's TLS terminator, set it;
/// else `http`) and `X-Forwarded-Host` (the `Host` the client asked for).
pub fn add_forwarded(headers: &mut HeaderMap, client: IpAddr, original_host: Option<&HeaderValue>) {
    const XFF: &str = "x-forwarded-for";
    const XFP: &str = "x-forwarded-proto";
    const XFH: &str = "x-forwarded-host";
    headers.remove(XFF);
    if let Ok(value) = HeaderValue::from_str(&client.to_canonical().to_string()) {
        headers.insert(XFF, value);
    }
    if !headers.contains_key(XFP) {
        headers.insert(XFP, HeaderValue::from_static("http"));
    }
    if let (false, Some(host)) = (headers.contains_key(XFH), original_host) {
        headers.insert(XFH, host.clone());
    }
}

/// What the UI's pages may load: only its own files (scripts, styles, images, the API), audio
/// and images also from `blob:` (the player fetches episodes with the token and plays them
/// from a blob URL); no inline script or style, no plugins, no framing, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The browser's security headers, on every answer from the web root.
pub fn add_security(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // For browsers older than `frame-ancestors`.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn connection_named_headers_are_removed_with_the_fixed_set() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("keep-alive, X-Private"));
        h.insert("x-private", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("x-kept", HeaderValue::from_static("yes"));
        remove_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert_eq!(h["x-kept"], "yes");
    }

    #[test]
    fn the_client_is_read_only_from_trusted_hops() {
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(client_address(&h, peer, 1), peer, "no header: the peer");
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7, 198.51.100.1"));
        h.append("x-forwarded-for", HeaderValue::from_static("192.0.2.44"));
        assert_eq!(client_address(&h, peer, 0), peer, "no trusted hop: the header is never read");
        assert_eq!(client_address(&h, peer, 1), "192.0.2.44".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(&h, peer, 2), "198.51.100.1".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(&h, peer, 4), peer, "a shorter chain: the peer");
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7, not-an-address"));
        assert_eq!(client_address(&h, peer, 1), peer, "garbage: the peer");
    }

    #[test]
    fn forwarded_for_is_the_peer_alone() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        h.append("x-forwarded-for", HeaderValue::from_static("198.51.100.1, 10.0.0.1"));
        add_forwarded(&mut h, "127.0.0.1".parse().unwrap(), Some(&HeaderValue::from_static("app.example")));
        assert_eq!(h.get_all("x-forwarded-for").iter().collect::<Vec<_>>(), ["127.0.0.1"]);
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "app.example");
    }
}
