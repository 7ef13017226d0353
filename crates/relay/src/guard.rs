//! SSRF guard for the URLs and hosts users hand the relay (Web Push endpoints, webhooks, IMAP
//! hosts, and the domains discovery looks up).
//!
//! The relay makes requests on behalf of whoever holds an API token, from inside the
//! operator's network. Without a guard a user could point a "webhook" at the database's
//! admin port, the cloud's metadata service or a router's web page. So every outgoing
//! request may only reach *public* addresses, unless the operator allowed a range
//! (`allow_private`, e.g. a lab, or the tests' 127.0.0.1).
//!
//! The check happens where the address is finally known: in the resolver the HTTP client
//! connects through ([`GuardedResolver`]), so a name that resolves to a public address when
//! the user registers it and to 127.0.0.1 when the relay sends (DNS rebinding) is still
//! refused. Literal IP addresses never reach a resolver, so [`parse_url`] checks them, and
//! redirects are off (a public server could otherwise redirect to a private one).
//!
//! The same rule ([`check`]) is handed to pushmail-core twice: as the IMAP transport's guard
//! ([`address_check`], installed by main.rs) and as discovery's ([`discovery_guard`]), whose
//! HTTPS client checks the addresses it connects to in its resolver and literal addresses in
//! URLs and redirects.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// An address range: `10.0.0.0/8`, `fd00::/8`, or a bare address (a range of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr/prefix` or a bare address. Host bits set in `addr` are ignored
    /// (`10.1.2.3/8` is `10.0.0.0/8`).
    pub fn parse(s: &str) -> Result<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .with_context(|| format!("`{addr}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .with_context(|| format!("`/{p}` is not a prefix length (0 to {max})"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is inside the range. An IPv4 range also matches the IPv4-mapped IPv6
    /// form of its addresses (`::ffff:127.0.0.1`), which is how a dual-stack socket sees them.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_match(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_match(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Whether the top `prefix` bits of two `width`-bit numbers agree.
fn prefix_match(net: u128, ip: u128, prefix: u8, width: u32) -> bool {
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return true;
    }
    let shift = width - prefix;
    (net >> shift) == (ip >> shift)
}

/// Why a URL or an address was refused. Its text names the host or address, never a path
/// (a Web Push endpoint's path is a capability).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// IPv4 ranges that are not reachable on the public Internet, or not meant to be.
const V4_NOT_PUBLIC: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10/8 private
    (0x6440_0000, 10), // 100.64/10 carrier-grade NAT
    (0x7f00_0000, 8),  // 127/8 loopback
    (0xa9fe_0000, 16), // 169.254/16 link-local (cloud metadata services live here)
    (0xac10_0000, 12), // 172.16/12 private
    (0xc000_0000, 24), // 192.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2/24 documentation
    (0xc058_6300, 24), // 192.88.99/24 6to4 relay anycast (deprecated)
    (0xc0a8_0000, 16), // 192.168/16 private
    (0xc612_0000, 15), // 198.18/15 benchmarking
    (0xc633_6400, 24), // 198.51.100/24 documentation
    (0xcb00_7100, 24), // 203.0.113/24 documentation
    (0xe000_0000, 4),  // 224/4 multicast
    (0xf000_0000, 4),  // 240/4 reserved, and 255.255.255.255 broadcast
];

fn v4_is_public(ip: Ipv4Addr) -> bool {
    let n = u128::from(u32::from(ip));
    !V4_NOT_PUBLIC
        .iter()
        .any(|&(net, prefix)| prefix_match(u128::from(net), n, prefix, 32))
}

/// IPv6 ranges refused outright (those embedding an IPv4 address are handled apart).
const V6_NOT_PUBLIC: &[(u128, u8)] = &[
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // 64:ff9b:1::/48 local-use NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64 discard-only
    // 2001::/23, IANA's IETF protocol assignments: Teredo (2001::/32, whose tunnels embed an
    // IPv4 address), benchmarking, ORCHID; no push service or mail server lives there.
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 23),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32 documentation
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // 3fff::/20 documentation
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7 unique-local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10 link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // fec0::/10 site-local (deprecated)
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // ff00::/8 multicast
];

fn v6_is_public(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    // Forms that carry an IPv4 address, which is what is finally reached: IPv4-mapped
    // (::ffff:0:0/96), IPv4-compatible (::/96, deprecated; also :: and ::1), NAT64
    // (64:ff9b::/96) and 6to4 (2002::/16, the IPv4 address in bits 16..48).
    let low32 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if prefix_match(0xffff_0000_0000, n, 96, 128) || prefix_match(0, n, 96, 128) {
        return v4_is_public(low32);
    }
    if prefix_match(0x0064_ff9b_0000_0000_0000_0000_0000_0000, n, 96, 128) {
        return v4_is_public(low32);
    }
    if prefix_match(0x2002_0000_0000_0000_0000_0000_0000_0000, n, 16, 128) {
        return v4_is_public(Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32));
    }
    !V6_NOT_PUBLIC
        .iter()
        .any(|&(net, prefix)| prefix_match(net, n, prefix, 128))
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local, CGNAT,
/// unique-local, multicast, unspecified, broadcast, documentation or reserved, nor an IPv6
/// form (mapped, compatible, NAT64, 6to4) of such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_public(v4),
        IpAddr::V6(v6) => v6_is_public(v6),
    }
}

/// Allows `ip` when it is public or inside one of the operator's `allow` ranges.
pub fn check(ip: IpAddr, allow: &[Cidr]) -> Result<(), Refused> {
    if is_public(ip) || allow.iter().any(|c| c.contains(ip)) {
        Ok(())
    } else {
        // The address goes to the log, not to the user: answers naming what the relay's own
        // DNS returns for internal names would map the operator's network for anyone.
        tracing::info!(%ip, "refused a private, loopback or reserved address");
        Err(Refused(
            "that is a private, loopback or reserved address (the relay's allow_private does not include it)"
                .to_owned(),
        ))
    }
}

/// [`check`] with `allow`, its refusal as text: the same rule in the form pushmail-core takes
/// it, for the IMAP transport's guard (every mail connection, main.rs) and for discovery's
/// HTTPS requests ([`discovery_guard`]).
pub fn address_check(
    allow: Vec<Cidr>,
) -> impl Fn(IpAddr) -> Result<(), String> + Send + Sync + 'static {
    move |ip| check(ip, &allow).map_err(|r| r.0)
}

/// The guard for discovery's HTTPS requests (`autoconfig.<domain>`, `/.well-known/`, the MX
/// hoster's files, every redirect): [`address_check`] in pushmail-core's
/// [`pushmail_core::discover::AddressGuard`], which checks the addresses actually connected to.
pub fn discovery_guard(allow: &[Cidr]) -> pushmail_core::discover::AddressGuard {
    pushmail_core::discover::AddressGuard::new(address_check(allow.to_vec()))
}

/// Checks a URL a user hands the relay, when it is registered: [`parse_url`], and a
/// host name is resolved now and refused if any of its addresses is refused (an early,
/// clear answer; the connect-time check in [`GuardedResolver`] is what holds against a name
/// that changes its answer later). A name that does not resolve now is let through: the
/// sender refuses it then if it still resolves nowhere public.
pub async fn check_url(url: &str, allow: &[Cidr]) -> Result<Url, Refused> {
    let parsed = parse_url(url, allow)?;
    if let Some(url::Host::Domain(name)) = parsed.host() {
        let port = parsed.port_or_known_default().unwrap_or(443);
        let lookup = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::net::lookup_host((name, port)),
        )
        .await;
        if let Ok(Ok(addrs)) = lookup {
            for a in addrs {
                if check(a.ip(), allow).is_err() {
                    return Err(Refused(format!(
                        "{name} resolves to a private, loopback or reserved address"
                    )));
                }
            }
        }
    }
    Ok(parsed)
}

/// Parses and checks a user-supplied URL without resolving it (the senders, before each
/// request): `https` only (plain `http` only to a literal IP
/// inside an `allow` range: a lab's or the tests' receiver), no user name or password, and a
/// literal IP address must pass [`check`]. Names are checked when connecting.
pub fn parse_url(url: &str, allow: &[Cidr]) -> Result<Url, Refused> {
    let parsed = Url::parse(url).map_err(|e| Refused(format!("not a URL ({e})")))?;
    let host = match parsed.host() {
        Some(h) => h,
        None => return Err(Refused("the URL has no host".into())),
    };
    let literal: Option<IpAddr> = match host {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    };
    let host_text = parsed.host_str().unwrap_or_default().to_owned();
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Refused(format!(
            "the URL for {host_text} carries a user name or password"
        )));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if literal.is_some_and(|ip| allow.iter().any(|c| c.contains(ip))) => {}
        "http" => {
            return Err(Refused(format!(
                "the URL for {host_text} is plain http; only https is allowed"
            )));
        }
        other => {
            return Err(Refused(format!(
                "the URL for {host_text} is {other}:, not https"
            )));
        }
    }
    if let Some(ip) = literal {
        check(ip, allow)?;
    }
    Ok(parsed)
}

/// A resolver for reqwest that resolves with the system's resolver (tokio's `lookup_host`)
/// and keeps only the addresses [`check`] allows; when none is left the connection fails.
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    allow: Arc<[Cidr]>,
}

impl GuardedResolver {
    /// A resolver allowing public addresses and the `allow` ranges.
    pub fn new(allow: Vec<Cidr>) -> GuardedResolver {
        GuardedResolver {
            allow: allow.into(),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // Port 0: reqwest puts the URL's port in afterwards.
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| check(a.ip(), &allow).is_ok())
                .collect();
            if kept.is_empty() {
                let why = if found.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!(
                        "{host} resolves only to private, loopback or reserved addresses ({}), which the relay does not reach",
                        found
                            .iter()
                            .map(|a| a.ip().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The relay's outgoing HTTP client: guarded resolver, no redirects, no proxy (a proxy
/// would resolve names itself, past the guard), rustls on ring with the platform verifier,
/// and the ranges it allows (for [`Client::parse_url`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    allow: Arc<[Cidr]>,
}

impl Client {
    /// The reqwest client. Check URLs with [`Client::parse_url`] before using it: literal IP
    /// addresses do not go through the resolver.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// [`parse_url`] with this client's allowed ranges.
    pub fn parse_url(&self, url: &str) -> Result<Url, Refused> {
        parse_url(url, &self.allow)
    }

    /// The allowed private ranges.
    pub fn allow(&self) -> &[Cidr] {
        &self.allow
    }
}

/// Builds the guarded client; `timeout` bounds each whole request (and its connect).
pub fn client(allow: Vec<Cidr>, timeout: Duration) -> Result<Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .context("Cannot set up TLS certificate verification")?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("Cannot set up TLS")?
        .dangerous() // not dangerous: the platform verifier checks chain and hostname
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let resolver = GuardedResolver::new(allow.clone());
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Pushmail-relay/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("Cannot set up the HTTP client")?;
    Ok(Client {
        http,
        allow: allow.into(),
    })
}

/// Parses the config's `allow_private` list.
pub fn parse_allow(list: &[String]) -> Result<Vec<Cidr>> {
    list.iter()
        .map(|s| Cidr::parse(s).with_context(|| format!("`{s}` is not an address range")))
        .collect()
}

/// The host of a URL, for log lines (never the path: a Web Push endpoint's path is a
/// capability). `?` when there is none.
pub fn log_host(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => "?".into(),
        },
        Err(_) => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_reserved_addresses_are_refused() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            // Teredo (the tunnel's IPv4 server and client inside), benchmarking.
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "3fff::1",
            "100::1",
            "64:ff9b:1::1",
            // IPv6 forms of refused IPv4 addresses.
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(!is_public(ip(s)), "{s} should be refused");
            assert!(check(ip(s), &[]).is_err(), "{s}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            // Just past 2001::/23.
            "2001:200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(s)), "{s} should be public");
            assert!(check(ip(s), &[]).is_ok(), "{s}");
        }
    }

    #[test]
    fn ranges_parse_and_match() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.9.8.7")));
        assert!(!c.contains(ip("11.0.0.0")));
        assert!(c.contains(ip("::ffff:10.1.1.1")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("example.com/8").is_err());
        assert!(Cidr::parse("10.0.0.0/x").is_err());
        assert_eq!(Cidr::parse(" ::1 ").unwrap().to_string(), "::1/128");

        let allow = [Cidr::parse("127.0.0.1/32").unwrap()];
        assert!(check(ip("127.0.0.1"), &allow).is_ok());
        assert!(check(ip("127.0.0.2"), &allow).is_err());
        assert!(check(ip("10.0.0.1"), &allow).is_err());
    }

    #[test]
    fn urls_are_https_without_credentials_and_literal_ips_are_checked() {
        let allow = [Cidr::parse("127.0.0.1").unwrap()];
        assert!(parse_url("https://push.example.com/x/y", &[]).is_ok());
        assert!(parse_url("https://8.8.8.8/x", &[]).is_ok());
        // Plain http: only to a literal IP the operator allowed.
        assert!(parse_url("http://push.example.com/x", &[]).is_err());
        assert!(parse_url("http://push.example.com/x", &allow).is_err());
        assert!(parse_url("http://8.8.8.8/x", &allow).is_err());
        assert!(parse_url("http://127.0.0.1:8080/x", &allow).is_ok());
        assert!(parse_url("http://127.0.0.1:8080/x", &[]).is_err());
        assert!(parse_url("https://127.0.0.1/x", &[]).is_err());
        assert!(parse_url("https://[::1]/x", &[]).is_err());
        assert!(parse_url("https://[::ffff:7f00:1]/x", &[]).is_err());
        assert!(parse_url("https://169.254.169.254/latest", &[]).is_err());
        // Integer and short forms are literal IPs too (the URL parser normalises them).
        assert!(parse_url("https://2130706433/x", &[]).is_err());
        assert!(parse_url("https://127.1/x", &[]).is_err());
        assert!(parse_url("https://user:pw@push.example.com/x", &[]).is_err());
        assert!(parse_url("ftp://push.example.com/x", &[]).is_err());
        assert!(parse_url("not a url", &[]).is_err());
        // The refusal names the host, never the path (a capability).
        let e = parse_url("http://push.example.com/secret-path", &[]).unwrap_err();
        assert!(!e.0.contains("secret-path"), "{e}");
    }

    #[tokio::test]
    async fn registration_resolves_names() {
        let e = check_url("https://localhost/x", &[]).await.unwrap_err();
        assert!(e.0.contains("localhost"), "{e}");
        let allow = [
            Cidr::parse("127.0.0.0/8").unwrap(),
            Cidr::parse("::1").unwrap(),
        ];
        assert!(check_url("https://localhost/x", &allow).await.is_ok());
        assert!(check_url("http://localhost/x", &allow).await.is_err());
        // A name that does not resolve now is left to the connect-time check.
        assert!(check_url("https://nowhere.invalid/x", &[]).await.is_ok());
    }

    #[tokio::test]
    async fn the_resolver_drops_refused_addresses() {
        let r = GuardedResolver::new(vec![]);
        let name: Name = "localhost".parse().unwrap();
        let err = match r.resolve(name).await {
            Ok(_) => panic!("localhost was allowed"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("localhost"), "{err}");
        let r = GuardedResolver::new(vec![Cidr::parse("127.0.0.0/8").unwrap()]);
        let addrs: Vec<_> = r
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() || a.ip() == ip("::1"))
        );
        assert!(!addrs.is_empty());
    }

    #[test]
    fn the_rule_handed_to_core_is_check() {
        let strict = address_check(Vec::new());
        let why = strict(ip("127.0.0.1")).unwrap_err();
        // The address itself is logged, never told: it is what the relay's DNS said.
        assert!(
            !why.contains("127.0.0.1") && why.contains("allow_private"),
            "{why}"
        );
        assert!(strict(ip("8.8.8.8")).is_ok());
        let lab = discovery_guard(&[Cidr::parse("127.0.0.1").unwrap()]);
        assert!(lab.check(ip("127.0.0.1")).is_ok());
        assert!(lab.check(ip("::ffff:127.0.0.1")).is_ok());
        assert!(lab.check(ip("127.0.0.2")).is_err());
        assert!(lab.check(ip("169.254.169.254")).is_err());
    }

    /// Discovery's HTTPS client with the relay's guard: a name that resolves to loopback and
    /// a literal loopback address are refused before anything is sent, in the relay's words.
    #[tokio::test]
    async fn discovery_requests_pass_the_guard() {
        use pushmail_core::discover::{Options, fetch};
        let opts = Options {
            address_guard: Some(discovery_guard(&[])),
            ..Options::default()
        };
        let c = fetch::client(&opts).unwrap();
        for url in [
            "https://localhost:1/mail/config-v1.1.xml",
            "https://127.1:1/.well-known/autoconfig/mail/config-v1.1.xml",
        ] {
            match fetch::get(&c, url, &opts).await {
                Err(fetch::FetchError::Refused(why)) => {
                    assert!(why.contains("allow_private"), "{url}: {why}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn log_host_drops_the_path() {
        assert_eq!(
            log_host("https://fcm.googleapis.com/fcm/send/abc"),
            "fcm.googleapis.com"
        );
        assert_eq!(log_host("http://127.0.0.1:9/push/x"), "127.0.0.1:9");
        assert_eq!(log_host("%%"), "?");
    }
}
