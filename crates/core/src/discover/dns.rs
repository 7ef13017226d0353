//! The two DNS questions discovery asks: a domain's MX hosts (who receives its mail: a known
//! hoster means that hoster's settings) and its RFC 6186 SRV records (`_imaps._tcp`,
//! `_imap._tcp`). Answered by hickory-resolver with the system's configuration
//! (`/etc/resolv.conf` on Linux), so a user's resolver, VPN or split DNS applies as for every
//! other program. Names in answers pass [`super::domain::server_host`] before anyone sees them.

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::RData;

use super::Options;
use super::domain;

/// A resolver on the system's configuration with discovery's timeout.
pub fn resolver(opts: &Options) -> Result<TokioResolver, String> {
    let mut builder = TokioResolver::builder_tokio().map_err(|e| e.to_string())?;
    let o = builder.options_mut();
    o.timeout = opts.dns_timeout;
    o.attempts = 2;
    builder.build().map_err(|e| e.to_string())
}

/// The domain's MX hosts, best (lowest preference) first; empty when it has none (or no
/// answer came). A host that is not a valid DNS name is dropped.
pub async fn mx(resolver: &TokioResolver, domain: &str) -> Vec<String> {
    let Ok(lookup) = resolver.mx_lookup(fqdn(domain)).await else {
        return Vec::new();
    };
    let mut hosts: Vec<(u16, String)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
            _ => None,
        })
        .filter_map(|(pref, host)| domain::server_host(&host).ok().map(|h| (pref, h)))
        .collect();
    hosts.sort();
    hosts.dedup_by(|a, b| a.1 == b.1);
    hosts.into_iter().map(|(_, h)| h).collect()
}

/// One SRV answer that offers the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvTarget {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub host: String,
}

/// The SRV targets of `name` (`_imaps._tcp.example.com`), by priority then weight (highest
/// first). A target of `.` ("not offered here", RFC 2782) or an invalid name is dropped.
pub async fn srv(resolver: &TokioResolver, name: &str) -> Vec<SrvTarget> {
    let Ok(lookup) = resolver.srv_lookup(fqdn(name)).await else {
        return Vec::new();
    };
    let mut targets: Vec<SrvTarget> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some(srv),
            _ => None,
        })
        .filter(|srv| srv.port > 0 && !srv.target.is_root())
        .filter_map(|srv| {
            let host = domain::server_host(&srv.target.to_ascii()).ok()?;
            Some(SrvTarget {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                host,
            })
        })
        .collect();
    targets.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
    targets
}

/// A fully qualified name, so the resolver's search list is not tried first (a user's
/// `search corp.example` must not turn `example.com` into `example.com.corp.example`).
fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}
