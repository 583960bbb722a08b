//! The SSRF guard: which addresses a webhook may reach.
//!
//! Every address a target resolves to is checked, and the HTTP client connects only to
//! the addresses this resolver returned, so a second DNS answer (rebinding) cannot slip
//! in between the check and the connection. Literal IPs in URLs never reach a resolver;
//! the sender checks them with [`AddressPolicy::check`] before connecting.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use hyper_util::client::legacy::connect::dns::Name;
use ipnet::IpNet;

/// Networks that are refused unless allowed, with why.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        AddressPolicy { allowed }
    }

    /// `Err(reason)` when `ip` may not be used, e.g. "a loopback address".
    pub fn check(&self, ip: IpAddr) -> Result<(), &'static str> {
        // An allowed network opens exactly itself: the address (or, for an IPv6 form
        // that embeds an IPv4 address, the embedded address) must be inside it.
        let embedded = embedded_ipv4(ip).map(IpAddr::V4);
        let allowed = |candidate: IpAddr| self.allowed.iter().any(|net| net.contains(&candidate));
        if allowed(ip) || embedded.is_some_and(allowed) {
            return Ok(());
        }
        match embedded {
            Some(v4) => special_purpose(v4).map_or(Ok(()), Err),
            None => special_purpose(ip).map_or(Ok(()), Err),
        }
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible,
/// NAT64 (`64:ff9b::/96`) or 6to4 (`2002::/16`) IPv6 address.
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, a, b, ..] => Some(Ipv4Addr::new(
            (a >> 8) as u8,
            a as u8,
            (b >> 8) as u8,
            b as u8,
        )),
        // IPv4-compatible (deprecated) `::a.b.c.d`, but not `::` and `::1` themselves.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        _ => None,
    }
}

fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => "an unspecified (\"this network\") address",
        _ if ip.is_loopback() => "a loopback address",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "a private address",
        (169, 254, _) => "a link-local address (cloud metadata lives here)",
        (100, 64..=127, _) => "a carrier-grade NAT address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (192, 88, 99) => "a 6to4 relay address",
        _ if ip.is_broadcast() => "the broadcast address",
        (224..=239, ..) => "a multicast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s[0] {
        _ if ip.is_unspecified() => "the unspecified address",
        _ if ip.is_loopback() => "a loopback address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xfc00..=0xfdff => "a unique-local (private) address",
        0xff00..=0xffff => "a multicast address",
        0x0100 if s[1..4] == [0, 0, 0] => "a discard-only address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x2001 if s[1] < 0x0200 => "an IETF protocol address (Teredo and others)",
        0x0000 => "a reserved address",
        _ => return None,
    })
}

/// The target's address is refused.
#[derive(Debug)]
pub struct Blocked {
    pub host: String,
    pub ip: IpAddr,
    pub reason: &'static str,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host == self.ip.to_string() {
            write!(f, "blocked: {} is {}", self.ip, self.reason)
        } else {
            write!(
                f,
                "blocked: {} resolves to {}, {}",
                self.host, self.ip, self.reason
            )
        }
    }
}

impl Error for Blocked {}

/// The target's name did not resolve.
#[derive(Debug)]
pub struct DnsFailure {
    pub host: String,
    pub message: String,
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot resolve {}: {}", self.host, self.message)
    }
}

impl Error for DnsFailure {}

/// Looks a host name up; the system resolver in production, a fixed table in tests.
pub type Lookup = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The operating system's resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|host: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) })
    })
}

/// The HTTP client's resolver: the lookup's answer, filtered by the policy. A name
/// with any refused address is refused as a whole (a mixed answer is a known trick).
#[derive(Clone)]
pub struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
    pub lookup: Lookup,
}

impl GuardedResolver {
    /// The addresses the client may connect to, or why there are none.
    pub async fn checked_addresses(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn Error + Send + Sync>> {
        let found = (self.lookup)(host.to_string())
            .await
            .map_err(|e| DnsFailure {
                host: host.to_string(),
                message: e.to_string(),
            })?;
        for address in &found {
            if let Err(reason) = self.policy.check(address.ip()) {
                return Err(Box::new(Blocked {
                    host: host.to_string(),
                    ip: address.ip(),
                    reason,
                }));
            }
        }
        if found.is_empty() {
            return Err(Box::new(DnsFailure {
                host: host.to_string(),
                message: "no addresses".into(),
            }));
        }
        Ok(found)
    }
}

/// As the HTTP connector's resolver: the connector sets the port on what it gets.
impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = Box<dyn Error + Send + Sync>;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let resolver = self.clone();
        Box::pin(async move {
            let found = resolver.checked_addresses(name.as_str()).await?;
            Ok(found.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, ip: &str) -> bool {
        policy.check(ip.parse().unwrap()).is_err()
    }

    #[test]
    fn special_addresses_are_refused_by_default() {
        let policy = AddressPolicy::default();
        for ip in [
            "127.0.0.1",
            "127.0.0.2",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::127.0.0.1",
        ] {
            assert!(refused(&policy, ip), "{ip} was allowed");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
        ] {
            assert!(!refused(&policy, ip), "{ip} was refused");
        }
    }

    #[test]
    fn an_allowed_network_opens_only_itself() {
        let policy = AddressPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(!refused(&policy, "127.0.0.1"));
        assert!(!refused(&policy, "::ffff:127.0.0.1"));
        assert!(refused(&policy, "10.0.0.1"));
        assert!(refused(&policy, "169.254.169.254"));
        assert!(refused(&policy, "::1"), "IPv6 loopback is another network");
    }

    fn fixed(table: &'static [(&'static str, &'static str)]) -> Lookup {
        Arc::new(move |host: String| {
            Box::pin(async move {
                Ok(table
                    .iter()
                    .filter(|(name, _)| *name == host)
                    .map(|(_, ip)| SocketAddr::new(ip.parse().unwrap(), 0))
                    .collect())
            })
        })
    }

    #[tokio::test]
    async fn a_name_with_any_refused_address_is_refused() {
        let resolver = GuardedResolver {
            policy: Arc::new(AddressPolicy::default()),
            lookup: fixed(&[
                ("rebind.example", "127.0.0.1"),
                ("mixed.example", "93.184.216.34"),
                ("mixed.example", "10.0.0.5"),
                ("public.example", "93.184.216.34"),
            ]),
        };
        let error = resolver
            .checked_addresses("rebind.example")
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "blocked: rebind.example resolves to 127.0.0.1, a loopback address"
        );
        let error = resolver
            .checked_addresses("mixed.example")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("10.0.0.5"), "{error}");
        assert_eq!(
            resolver
                .checked_addresses("public.example")
                .await
                .unwrap()
                .len(),
            1
        );
        let error = resolver
            .checked_addresses("nowhere.example")
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot resolve nowhere.example"),
            "{error}"
        );
    }

    #[test]
    fn messages_say_which_address_and_why() {
        let blocked = Blocked {
            host: "10.1.2.3".into(),
            ip: "10.1.2.3".parse().unwrap(),
            reason: "a private address",
        };
        assert_eq!(
            blocked.to_string(),
            "blocked: 10.1.2.3 is a private address"
        );
        let by_name = Blocked {
            host: "localhost".into(),
            ip: "127.0.0.1".parse().unwrap(),
            reason: "a loopback address",
        };
        assert_eq!(
            by_name.to_string(),
            "blocked: localhost resolves to 127.0.0.1, a loopback address"
        );
    }
}
