//! Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop headers — the fixed set and
//! every header the `Connection` header names — apply to one connection only and are removed
//! in both directions; the API learns the client's address, scheme and host from
//! `X-Forwarded-For`, `-Proto` and `-Host`.

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

/// Sets `X-Forwarded-For` (the client appended to any earlier hops), `X-Forwarded-Proto` (kept
/// when an edge in front of us, e.g. Render's TLS terminator, set it; else `http`) and
/// `X-Forwarded-Host` (the `Host` the client asked for).
pub fn add_forwarded(headers: &mut HeaderMap, client: IpAddr, original_host: Option<&HeaderValue>) {
    const XFF: &str = "x-forwarded-for";
    const XFP: &str = "x-forwarded-proto";
    const XFH: &str = "x-forwarded-host";
    let earlier: Vec<String> =
        headers.get_all(XFF).iter().filter_map(|v| v.to_str().ok()).map(|v| v.trim().to_string()).collect();
    let mut chain = earlier.into_iter().filter(|v| !v.is_empty()).collect::<Vec<_>>().join(", ");
    if !chain.is_empty() {
        chain.push_str(", ");
    }
    chain.push_str(&client.to_string());
    if let Ok(value) = HeaderValue::from_str(&chain) {
        headers.insert(XFF, value);
    }
    if !headers.contains_key(XFP) {
        headers.insert(XFP, HeaderValue::from_static("http"));
    }
    if let (false, Some(host)) = (headers.contains_key(XFH), original_host) {
        headers.insert(XFH, host.clone());
    }
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
    fn forwarded_for_appends_the_client_to_earlier_hops() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        add_forwarded(&mut h, "127.0.0.1".parse().unwrap(), Some(&HeaderValue::from_static("app.example")));
        assert_eq!(h["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
        assert_eq!(h["x-forwarded-proto"], "http");
        assert_eq!(h["x-forwarded-host"], "app.example");
    }
}
