//! Names in discovery: the address typed by the user, and the host names that DNS records and
//! configuration files propose. Everything that comes from outside passes [`server_host`]
//! before it is shown or connected to.

use std::fmt;

/// An e-mail address split for discovery: the local part as typed, the domain in its ASCII
/// (IDNA) form for lookups and in Unicode for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// As typed, trimmed: what `%EMAILADDRESS%` becomes and what a provider's login is.
    pub address: String,
    pub local: String,
    /// Lower-case ASCII (`xn--` labels for a non-ASCII domain).
    pub domain: String,
    /// The domain as the user reads it (Unicode).
    pub domain_display: String,
}

/// Why a name was refused. Shown to the user, so it names the value (cleaned of control
/// characters) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("`{0}` is not an e-mail address (it needs one @ with a name before it)")]
    NotAnAddress(String),
    #[error("`{0}` is not a valid domain name")]
    BadDomain(String),
    #[error("`{0}` is an IP address, not a server name")]
    IpLiteral(String),
    #[error("the server name contains control characters")]
    ControlCharacters,
}

/// Parses the address the user typed. The domain must be a real DNS name (at least two
/// labels, IDNA-valid): discovery looks it up.
pub fn parse_address(typed: &str) -> Result<Address, NameProblem> {
    let address = typed.trim();
    let clean = || crate::text::truncate_for_log(address);
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| NameProblem::NotAnAddress(clean()))?;
    if local.is_empty()
        || domain.is_empty()
        || local.len() > 64
        || local
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
    {
        return Err(NameProblem::NotAnAddress(clean()));
    }
    let ascii = domain_name(domain)?;
    let (display, _) = idna::domain_to_unicode(&ascii);
    Ok(Address {
        address: address.to_owned(),
        local: local.to_owned(),
        domain: ascii,
        domain_display: display,
    })
}

/// A DNS name as lower-case ASCII: IDNA-mapped, at least two labels, each 1–63 characters of
/// letters, digits and hyphens (not at either end), 253 in all. A trailing dot is dropped.
pub fn domain_name(name: &str) -> Result<String, NameProblem> {
    if name.chars().any(char::is_control) {
        return Err(NameProblem::ControlCharacters);
    }
    let bad = || NameProblem::BadDomain(crate::text::truncate_for_log(name));
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.starts_with('[') || trimmed.parse::<std::net::IpAddr>().is_ok() {
        return Err(NameProblem::IpLiteral(trimmed.to_owned()));
    }
    let ascii = idna::domain_to_ascii_strict(trimmed).map_err(|_| bad())?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if ascii.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad());
    }
    // An all-numeric last label is an IPv4 address in disguise (`1.2.3.4` caught above,
    // `0x7f.1` or `127.1` here).
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(NameProblem::IpLiteral(ascii));
    }
    Ok(ascii)
}

/// A server name proposed by a configuration file, an MX or an SRV record: a DNS name
/// ([`domain_name`]). Never `localhost` or an IP address: a file from the network must not
/// send the password to this machine (where another user's program may listen) or to an
/// address no certificate can vouch for.
pub fn server_host(name: &str) -> Result<String, NameProblem> {
    domain_name(name)
}

/// The registrable domain ("example.co.uk" for "imap.mail.example.co.uk") by the public
/// suffix list; the name itself when the list does not know its suffix.
pub fn registrable(name: &str) -> String {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&name).map_or(name.clone(), str::to_owned)
}

/// Whether `host` belongs to the same organisation as `domain` (same registrable domain).
pub fn same_site(host: &str, domain: &str) -> bool {
    registrable(host) == registrable(domain)
}

/// Whether a domain pattern of the provider table matches `domain`: exact, or `name.*` for
/// `name.` followed by a public suffix of one or two labels (`hotmail.fr`, `hotmail.co.uk`).
pub fn pattern_matches(pattern: &str, domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_suffix(".*") {
        Some(stem) => domain
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|tld| {
                let labels: Vec<&str> = tld.split('.').collect();
                // One or two labels that are a public suffix (`fr`, `co.uk`): not
                // `live.example.com`, which is example.com's.
                (1..=2).contains(&labels.len())
                    && labels
                        .iter()
                        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric()))
                    && psl::suffix_str(&domain) == Some(tld)
            }),
        None => domain == pattern,
    }
}

/// A well-known mail domain that `domain` imitates with look-alike characters (Cyrillic `а`
/// for Latin `a`, `1` for `l`, `rn` for `m`…), e.g. `gmаil.com` → `gmail.com`, `1ive.com` →
/// `live.*`. `None` when it is that domain or resembles none. A `stem.*` pattern is compared
/// by its first label, the rest being any public suffix.
pub fn imitates<'a>(domain: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (unicode, _) = idna::domain_to_unicode(domain);
    let unicode = unicode.to_lowercase();
    let whole = skeleton(&unicode);
    known.into_iter().find(|k| match k.strip_suffix(".*") {
        Some(stem) => {
            let Some((first, rest)) = unicode.split_once('.') else {
                return false;
            };
            first != stem
                && skeleton(first) == skeleton(stem)
                && pattern_matches(k, &format!("{stem}.{rest}"))
        }
        None => !k.eq_ignore_ascii_case(&unicode) && whole == skeleton(k),
    })
}

/// A rough confusables skeleton (after Unicode TR 39): characters that look alike map to one.
fn skeleton(s: &str) -> String {
    let mapped: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'а' | 'α' => 'a',
            'с' | 'ϲ' => 'c',
            'ԁ' => 'd',
            'е' | 'ε' => 'e',
            'ɡ' => 'g',
            'һ' => 'h',
            'і' | 'ι' | 'ı' => 'i',
            '1' | 'l' | '|' | 'ӏ' => 'l',
            'ј' => 'j',
            'к' | 'κ' => 'k',
            'м' => 'm',
            'о' | 'ο' | '0' => 'o',
            'р' | 'ρ' => 'p',
            'ѕ' => 's',
            'т' | 'τ' => 't',
            'υ' | 'у' => 'y',
            'ν' => 'v',
            'х' | 'χ' => 'x',
            other => other,
        })
        .collect();
    mapped.replace("rn", "m").replace("vv", "w")
}

/// Where a proposed server sits relative to the address, for the confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// Under the address's own registrable domain.
    Same,
    /// Elsewhere: shown to the user as "outside example.com" before anything is sent there.
    Outside { registrable: String },
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Site::Same => f.write_str("same domain"),
            Site::Outside { registrable } => write!(f, "outside, at {registrable}"),
        }
    }
}

/// [`Site`] of `host` for an address at `domain`.
pub fn site_of(host: &str, domain: &str) -> Site {
    if same_site(host, domain) {
        Site::Same
    } else {
        Site::Outside {
            registrable: registrable(host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_split_and_their_domains_made_ascii() {
        let a = parse_address("  Ana.Maria@Exämple.COM ").unwrap();
        assert_eq!(a.local, "Ana.Maria");
        assert_eq!(a.domain, "xn--exmple-cua.com");
        assert_eq!(a.domain_display, "exämple.com");
        assert_eq!(a.address, "Ana.Maria@Exämple.COM");
        let a = parse_address("张伟@例子.中国").unwrap();
        assert_eq!(a.domain_display, "例子.中国");
        assert!(a.domain.starts_with("xn--"));
    }

    #[test]
    fn what_is_not_an_address_is_refused_by_name() {
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana @example.com",
            "a\u{7}@example.com",
        ] {
            assert!(
                matches!(parse_address(bad), Err(NameProblem::NotAnAddress(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            parse_address("ana@localhost"),
            Err(NameProblem::BadDomain(_))
        ));
        assert!(matches!(
            parse_address("ana@[127.0.0.1]"),
            Err(NameProblem::IpLiteral(_))
        ));
        assert!(matches!(
            parse_address("ana@exa_mple.com"),
            Err(NameProblem::BadDomain(_))
        ));
    }

    #[test]
    fn server_names_from_outside_are_dns_names_only() {
        assert_eq!(
            server_host("IMAP.Example.com.").unwrap(),
            "imap.example.com"
        );
        assert!(server_host("localhost").is_err());
        for ip in ["127.0.0.1", "[::1]", "::1", "10.0.0.1", "127.1"] {
            assert!(
                matches!(server_host(ip), Err(NameProblem::IpLiteral(_))),
                "{ip}"
            );
        }
        assert_eq!(
            server_host("imap.example.com\r\nX: y"),
            Err(NameProblem::ControlCharacters)
        );
        for bad in [
            "imap..example.com",
            "-imap.example.com",
            "imap",
            "a b.com",
            "x.com/y",
        ] {
            assert!(server_host(bad).is_err(), "{bad}");
        }
        assert!(server_host(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn registrable_domains_follow_the_public_suffix_list() {
        assert_eq!(registrable("imap.mail.example.co.uk"), "example.co.uk");
        assert_eq!(registrable("imap.gmail.com"), "gmail.com");
        assert!(same_site("mx.example.com", "example.com"));
        assert!(!same_site("imap.example.net", "example.com"));
        assert_eq!(
            site_of("imap.hoster.net", "example.com"),
            Site::Outside {
                registrable: "hoster.net".into()
            }
        );
    }

    #[test]
    fn provider_patterns_take_one_or_two_country_labels() {
        assert!(pattern_matches("hotmail.*", "hotmail.co.uk"));
        assert!(pattern_matches("hotmail.*", "Hotmail.FR"));
        assert!(!pattern_matches("hotmail.*", "hotmail.evil.example.com"));
        assert!(!pattern_matches("hotmail.*", "hotmail"));
        assert!(!pattern_matches("live.*", "live.example.com"));
        assert!(pattern_matches("live.*", "live.com"));
        assert!(pattern_matches("gmail.com", "gmail.com."));
        assert!(!pattern_matches("gmail.com", "xgmail.com"));
    }

    #[test]
    fn look_alike_domains_are_recognised_against_the_real_table() {
        let known = || {
            crate::discover::providers::PROVIDERS
                .iter()
                .flat_map(|p| p.domains.iter().copied())
        };
        for (domain, imitated) in [
            ("gmаil.com", "gmail.com"), // Cyrillic а
            ("xn--gmil-63d.com", "gmail.com"),
            ("gmaіl.com", "gmail.com"), // Cyrillic і
            ("1ive.com", "live.*"),
            ("hotmai1.co.uk", "hotmail.*"),
            ("out1ook.com", "outlook.*"),
            ("fastrnail.com", "fastmail.*"),
        ] {
            assert_eq!(imitates(domain, known()), Some(imitated), "{domain}");
        }
        // Every real provider domain is itself, not a look-alike of another.
        for d in known().filter(|d| !d.contains('*')) {
            assert_eq!(imitates(d, known()), None, "{d}");
        }
        for d in [
            "live.com",
            "hotmail.co.uk",
            "example.com",
            "mail.ru",
            "web.de",
        ] {
            assert_eq!(imitates(d, known()), None, "{d}");
        }
    }
}
