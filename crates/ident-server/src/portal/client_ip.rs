//! The browser's address behind a reverse proxy.
//!
//! The push challenge shows the user the address of the browser that is
//! logging in, and the audit keeps it. Behind a reverse proxy (the usual way
//! to serve the portal with TLS) the connection comes from the proxy, so the
//! browser's address must be read from `X-Forwarded-For` — but only when the
//! connection comes from a proxy the operator named (`[portal]
//! trusted_proxies`): anyone else could write any address into that header.
//!
//! The header is read from the right, the way proxies append to it: each
//! entry from a trusted proxy is skipped, and the first entry that is not a
//! trusted proxy is the browser. Entries further left were written by the
//! browser's side and are never believed. A malformed entry stops the walk
//! at the last address that was vouched for.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// The most `X-Forwarded-For` entries looked at (a chain of proxies is short).
const MAX_HOPS: usize = 16;

/// Networks whose connections may name the browser's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `trusted_proxies` entry that is neither an address nor a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither an IP address nor a network such as 10.0.0.0/8")]
pub struct BadProxyEntry(String);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`, `::1`) and networks (`10.0.0.0/8`).
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, BadProxyEntry> {
        entries
            .into_iter()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| BadProxyEntry(e.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted (the default: the peer is the browser).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The browser's address for a connection from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        // Several headers count as one list, in order.
        let mut entries: Vec<&str> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(text) = value.to_str() else {
                return client;
            };
            entries.extend(text.split(','));
        }
        for entry in entries.iter().rev().take(MAX_HOPS) {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                return client;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(d)?;
        Self::parse(entries.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list.iter().copied()).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        let p = proxies(&["10.0.0.0/8", " ::1 ", "192.168.1.7", "fd00::/8", ""]);
        assert!(p.trusts(ip("10.200.3.4")));
        assert!(p.trusts(ip("::1")));
        assert!(p.trusts(ip("192.168.1.7")));
        assert!(!p.trusts(ip("192.168.1.8")));
        assert!(p.trusts(ip("fd12::1")));
        // Host bits are dropped, as the operator meant the network.
        assert!(proxies(&["10.1.2.3/8"]).trusts(ip("10.9.9.9")));
        for bad in ["10.0.0.0/33", "proxy.example.de", "10.0.0", "1.2.3.4:80"] {
            assert_eq!(
                TrustedProxies::parse([bad]),
                Err(BadProxyEntry(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_browser_whatever_it_sends() {
        let none = TrustedProxies::default();
        let h = xff(&["203.0.113.9"]);
        assert_eq!(none.client_ip(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(p.client_ip(ip("198.51.100.1"), &h), ip("198.51.100.1"));
    }

    #[test]
    fn a_trusted_proxy_names_the_browser() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        assert_eq!(p.client_ip(peer, &xff(&["203.0.113.9"])), ip("203.0.113.9"));
        // Chains: trusted hops are skipped from the right; what the browser
        // wrote further left (a forged first entry) is not believed.
        let chain = xff(&["1.2.3.4, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(p.client_ip(peer, &chain), ip("203.0.113.9"));
        let split = xff(&["1.2.3.4", "203.0.113.9, 10.0.0.7"]);
        assert_eq!(p.client_ip(peer, &split), ip("203.0.113.9"));
        // No header, garbage or only proxies: the last address vouched for.
        assert_eq!(p.client_ip(peer, &HeaderMap::new()), peer);
        assert_eq!(p.client_ip(peer, &xff(&["unknown"])), peer);
        assert_eq!(
            p.client_ip(peer, &xff(&["203.0.113.9, junk, 10.0.0.7"])),
            ip("10.0.0.7")
        );
        assert_eq!(p.client_ip(peer, &xff(&["10.0.0.7"])), ip("10.0.0.7"));
        // IPv6 and IPv4 seen through an IPv6 socket.
        assert_eq!(
            p.client_ip(ip("::ffff:10.0.0.2"), &xff(&["2001:db8::5"])),
            ip("2001:db8::5")
        );
        assert_eq!(
            p.client_ip(peer, &xff(&["::ffff:203.0.113.9"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn long_chains_are_cut() {
        let p = proxies(&["10.0.0.0/8"]);
        let mut hops = vec!["203.0.113.9".to_owned()];
        hops.extend((0..40).map(|i| format!("10.0.0.{i}")));
        let h = xff(&[&hops.join(",")]);
        assert_eq!(p.client_ip(ip("10.0.0.2"), &h), ip("10.0.0.24"));
    }

    #[test]
    fn reads_from_toml() {
        #[derive(Deserialize)]
        struct C {
            trusted_proxies: TrustedProxies,
        }
        let c: C = toml::from_str(r#"trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]"#).unwrap();
        assert!(c.trusted_proxies.trusts(ip("10.1.1.1")));
        let e = toml::from_str::<C>(r#"trusted_proxies = ["nginx"]"#)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("`nginx` is neither an IP address"), "{e}");
    }
}
