//! Which addresses a user may make our programs connect to. A URL a user saves (a provider's
//! base URL, a link source) must not reach the private network: the API refuses it when it is
//! saved ([`check_host`]: literal addresses and local names), the worker again when it
//! connects, on every address the name resolves to ([`is_public`]), since DNS can answer
//! differently later. Both sides share this one rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether an address is on the public internet: not loopback, private, link-local (the cloud
/// metadata service at 169.254.169.254 among them), shared (CGNAT), multicast, documentation,
/// benchmarking, reserved or unspecified, and no IPv4 address hidden in an IPv6 one.
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
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed privately)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: an IPv4 address in disguise
                || (s[0] == 0x2002) // 6to4: likewise
                || (s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
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

/// Host names that always mean this machine or its provider's internals, whatever DNS says.
fn is_local_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".local")
        || host.ends_with(".internal") // metadata.google.internal, *.ec2.internal
        || host == "metadata"
        || !host.contains('.') // a bare name resolves on the local network only
}

/// Why a host was refused, for the user (it names the host, never anything secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} is a private or local address: only public hosts are allowed")]
pub struct NotPublic {
    pub host: String,
}

/// The check of a URL's host as written (a name or a literal address, IPv6 with or without
/// brackets): literal addresses must be public, and local names are refused. A public-looking
/// name still has to resolve to public addresses when it is used.
pub fn check_host(host: &str) -> Result<(), NotPublic> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let refused = match bare.parse::<IpAddr>() {
        Ok(ip) => !is_public(ip),
        Err(_) => is_local_name(bare) || looks_numeric(bare),
    };
    if refused { Err(NotPublic { host: bare.to_string() }) } else { Ok(()) }
}

/// Names of digits and dots (`2130706433`, `127.1`, `0x7f.1`) that resolvers read as IPv4
/// addresses in old shorthand forms: never a real host name.
fn looks_numeric(host: &str) -> bool {
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or_default();
    !last.is_empty() && (last.chars().all(|c| c.is_ascii_digit()) || last.to_ascii_lowercase().starts_with("0x"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
            "::",
            "fd00::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn hosts_as_written_are_checked() {
        for host in [
            "127.0.0.1",
            "[::1]",
            "::1",
            "localhost",
            "LOCALHOST.",
            "api.localhost",
            "metadata.google.internal",
            "169.254.169.254",
            "[::ffff:10.0.0.1]",
            "ollama",
            "2130706433",
            "127.1",
            "0x7f.1",
            "printer.local",
        ] {
            assert!(check_host(host).is_err(), "{host}");
        }
        for host in ["api.openai.com", "openrouter.ai", "8.8.8.8", "[2606:4700::1111]"] {
            assert_eq!(check_host(host), Ok(()), "{host}");
        }
        assert_eq!(
            check_host("[::1]").unwrap_err().to_string(),
            "::1 is a private or local address: only public hosts are allowed"
        );
    }
}
