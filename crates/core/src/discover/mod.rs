//! Account discovery: from an e-mail address to the server settings, the way Thunderbird's
//! account hub does it, for the user to confirm (issue 12).
//!
//! Sources, in order; the first that gives a valid result wins:
//!
//! 1. the built-in [provider table](providers) by the address's domain;
//! 2. the domain's own autoconfiguration file over HTTPS ([`autoconfig`]):
//!    `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…`, then
//!    `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`;
//! 3. the domain's MX: a known hoster's MX → that provider's entry (Google Workspace,
//!    Microsoft 365…); otherwise the MX's registrable domain's autoconfiguration files;
//! 4. RFC 6186 SRV records, `_imaps._tcp` then `_imap._tcp`, accepted only when the target
//!    answers IMAP over TLS with a certificate that verifies for the target's name;
//! 5. guessing `imap.<domain>`, `mail.<domain>`, `<domain>` on 993 (TLS) then 143
//!    (STARTTLS), with `CAPABILITY` only; a certificate that does not verify is reported,
//!    never accepted; plain text is never proposed.
//!
//! **No credential goes anywhere during discovery**: requests carry the address (the format's
//! `emailaddress` query, as Thunderbird sends it) and nothing else; probes stop at
//! `CAPABILITY`. What is found is a proposal: the caller shows it with where it came from
//! ([`Source`]) and anything that needs a second look ([`Warning`]: a server outside the
//! address's domain, a domain that imitates a well-known one) before the password or token is
//! sent to the confirmed server, over verified TLS, by the usual connection test.
//!
//! Every wait is an [`Options`] field, so tests run in seconds.

pub mod autoconfig;
pub mod dns;
pub mod domain;
pub mod fetch;
pub mod providers;

use std::fmt;
use std::time::Duration;

use crate::config::{Account, Protocol, Security};
use crate::i18n::{I18n, text};
use crate::imap::transport;
use domain::{Address, NameProblem, Site};
pub use fetch::AddressGuard;
use providers::{PROVIDERS, ProviderAuth, ProviderEntry, UsernameForm};

/// Waits and switches of one discovery.
#[derive(Clone, Debug)]
pub struct Options {
    /// One HTTP request (connect to last byte).
    pub http_timeout: Duration,
    /// One DNS question (tried twice).
    pub dns_timeout: Duration,
    /// One probe of a server (TCP, TLS, greeting, CAPABILITY each).
    pub probe_timeout: Duration,
    /// The whole discovery: past it, what was found so far (nothing) is the answer.
    pub overall_timeout: Duration,
    /// Also try `http://autoconfig.<domain>/…` after HTTPS failed; a result from it is marked
    /// [`Warning::Insecure`]. Off unless the user asks (`--insecure-autoconfig`).
    pub allow_http: bool,
    /// A check every address the HTTP requests (the configuration files, of the domain and of
    /// its MX's hoster, and every redirect) connect to must pass ([`AddressGuard`]); a refusal
    /// is a note of the answer and nothing is sent. `None` (the desktop): any address. The
    /// relay sets its SSRF guard here; discovery's IMAP probes pass the transport's guard
    /// ([`transport::install_address_guard`]), which the relay installs with the same rule.
    pub address_guard: Option<AddressGuard>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            http_timeout: Duration::from_secs(8),
            dns_timeout: Duration::from_secs(4),
            probe_timeout: Duration::from_secs(6),
            overall_timeout: Duration::from_secs(45),
            allow_http: false,
            address_guard: None,
        }
    }
}

/// Where discovery is looking now, for a progress line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    ProviderList,
    /// A configuration file's URL (without its query).
    Autoconfig(String),
    Mx(String),
    Srv(String),
    /// `host:port`.
    Probe(String),
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::ProviderList => f.write_str("the provider list"),
            Progress::Autoconfig(url) => write!(f, "{url}"),
            Progress::Mx(d) => write!(f, "the mail servers (MX) of {d}"),
            Progress::Srv(n) => write!(f, "the service records (SRV) {n}"),
            Progress::Probe(h) => write!(f, "{h}"),
        }
    }
}

/// Where a result came from, shown with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in provider table, by the address's domain.
    ProviderList { provider: &'static str },
    /// The provider table, because the domain's mail goes to that provider's MX.
    ProviderByMx { provider: &'static str, mx: String },
    /// The domain's own configuration file (the final URL, without its query).
    Autoconfig { url: String },
    /// The configuration file of the domain's mail hoster, found through its MX.
    AutoconfigOfMx { url: String, mx: String },
    /// An SRV record (`_imaps._tcp.example.com` → host:port), verified by a TLS probe.
    Srv { record: String },
    /// A guessed name that answered IMAP with a valid certificate.
    Guess { host: String },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::ProviderList { provider } => write!(f, "from the provider list ({provider})"),
            Source::ProviderByMx { provider, mx } => {
                write!(
                    f,
                    "from the provider list ({provider}, whose server {mx} receives this domain's mail)"
                )
            }
            Source::Autoconfig { url } => write!(f, "from the domain's own configuration ({url})"),
            Source::AutoconfigOfMx { url, mx } => {
                write!(f, "from the configuration of the mail hoster {mx} ({url})")
            }
            Source::Srv { record } => write!(f, "from the domain's DNS service record {record}"),
            Source::Guess { host } => {
                write!(f, "guessed: {host} answered with a valid certificate")
            }
        }
    }
}

/// Something the user should look at before confirming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The server is not under the address's registrable domain.
    OutsideDomain { host: String, registrable: String },
    /// The address's domain imitates a well-known one with look-alike characters.
    LookAlike { domain: String, imitates: String },
    /// The settings came over plain `http://` ([`Options::allow_http`]).
    Insecure { url: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::OutsideDomain { host, registrable } => write!(
                f,
                "the server {host} is outside your address's domain (it belongs to {registrable})"
            ),
            Warning::LookAlike { domain, imitates } => write!(
                f,
                "{domain} looks like {imitates} but is a different domain"
            ),
            Warning::Insecure { url } => {
                write!(
                    f,
                    "these settings came unencrypted from {url} and could have been altered"
                )
            }
        }
    }
}

/// How the found account logs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    Password,
    /// The provider's sign-in; the name is a built-in [`crate::oauth::Provider`].
    OAuth2 {
        provider: String,
    },
}

/// The proposal discovery makes.
#[derive(Clone, Debug)]
pub struct Found {
    pub address: Address,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub login: Login,
    pub source: Source,
    /// The provider table's entry behind this result (by domain or MX, or the one whose IMAP
    /// host a file or record named): its push facts, note and webmail.
    pub provider: Option<&'static ProviderEntry>,
    pub warnings: Vec<Warning>,
}

impl Found {
    /// The account these settings describe, every other setting at its default and the
    /// provider's push facts applied (a shorter IDLE refresh) and its webmail as what "Open" opens.
    pub fn account(&self, id: &str, name: Option<&str>) -> Account {
        let mut a = Account::new(id, &self.host, &self.username);
        a.name = name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(id)
            .to_owned();
        a.email = Some(self.address.address.clone());
        a.protocol = self.protocol;
        a.port = self.port;
        a.security = self.security;
        if let Login::OAuth2 { provider } = &self.login {
            a.password =
                crate::config::PasswordSource::OAuth2(Box::new(crate::config::OAuthSettings {
                    provider: provider.clone(),
                    ..Default::default()
                }));
        }
        // A server without IDLE needs nothing here: the watcher polls when IDLE is not offered.
        if let Some(p) = self.provider {
            if let Some(secs) = p.idle_refresh_secs {
                let refresh = Duration::from_secs(secs);
                if refresh < a.timing.idle_refresh {
                    a.timing.idle_refresh = refresh;
                }
            }
            if let Some(url) = p.webmail {
                a.open = crate::config::OpenTarget::Url(url.to_owned());
            }
        }
        a
    }
}

/// Why nothing was proposed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}")]
    Address(NameProblem),
    /// Nothing found; `notes` says what was seen on the way (a file that was refused and why,
    /// a server whose certificate does not verify), for the manual form.
    #[error("no settings found for {domain}")]
    NotFound { domain: String, notes: Vec<String> },
}

impl Progress {
    /// "Looking at …" in the reader's language.
    pub fn describe_in(&self, i18n: &I18n) -> String {
        let place = match self {
            Progress::ProviderList => i18n.tr("discover-looking-providers", &[]),
            Progress::Autoconfig(url) | Progress::Probe(url) => url.clone(),
            Progress::Mx(domain) => i18n.tr("discover-looking-mx", &[("domain", text(domain))]),
            Progress::Srv(name) => i18n.tr("discover-looking-srv", &[("name", text(name))]),
        };
        i18n.tr("discover-looking", &[("where", text(&place))])
    }
}

impl Source {
    /// Where the settings came from, in the reader's language, for an address at `domain`.
    pub fn describe_in(&self, i18n: &I18n, domain: &str) -> String {
        match self {
            Source::ProviderList { provider } => i18n.tr(
                "discover-source-provider-list",
                &[("provider", text(provider))],
            ),
            Source::ProviderByMx { provider, mx } => i18n.tr(
                "discover-source-provider-mx",
                &[("provider", text(provider)), ("mx", text(mx))],
            ),
            Source::Autoconfig { .. } => {
                i18n.tr("discover-source-autoconfig", &[("domain", text(domain))])
            }
            Source::AutoconfigOfMx { mx, .. } => i18n.tr(
                "discover-source-autoconfig-mx",
                &[("domain", text(domain)), ("mx", text(mx))],
            ),
            Source::Srv { record } => i18n.tr(
                "discover-source-srv",
                &[("domain", text(domain)), ("record", text(record))],
            ),
            Source::Guess { host } => i18n.tr("discover-source-guess", &[("host", text(host))]),
        }
    }
}

impl Warning {
    /// The warning in the reader's language, for an address at `domain`.
    pub fn describe_in(&self, i18n: &I18n, domain: &str) -> String {
        match self {
            Warning::OutsideDomain { host, registrable } => i18n.tr(
                "discover-warning-outside",
                &[
                    ("host", text(host)),
                    ("domain", text(domain)),
                    ("owner", text(registrable)),
                ],
            ),
            Warning::LookAlike { domain, imitates } => i18n.tr(
                "discover-warning-look-alike",
                &[("domain", text(domain)), ("imitates", text(imitates))],
            ),
            Warning::Insecure { url } => {
                i18n.tr("discover-warning-insecure", &[("url", text(url))])
            }
        }
    }
}

impl Login {
    /// "with a password" / "by signing in with Google", in the reader's language.
    pub fn describe_in(&self, i18n: &I18n) -> String {
        match self {
            Login::Password => i18n.tr("discover-login-password", &[]),
            Login::OAuth2 { provider } => {
                let name = crate::oauth::Provider::display_name(provider);
                i18n.tr("discover-login-signin", &[("provider", text(&name))])
            }
        }
    }
}

impl DiscoverError {
    /// The error in the reader's language (an invalid address is explained in English words
    /// naming the value, like the configuration's errors).
    pub fn message_in(&self, i18n: &I18n) -> String {
        match self {
            DiscoverError::Address(problem) => problem.to_string(),
            DiscoverError::NotFound { domain, .. } => {
                i18n.tr("discover-not-found", &[("domain", text(domain))])
            }
        }
    }
}

/// The provider table's entry for an address domain.
pub fn provider_for_domain(domain: &str) -> Option<&'static ProviderEntry> {
    PROVIDERS
        .iter()
        .find(|p| p.domains.iter().any(|d| domain::pattern_matches(d, domain)))
}

/// The provider table's entry whose MX suffix `mx_host` has.
pub fn provider_for_mx(mx_host: &str) -> Option<&'static ProviderEntry> {
    let host = format!(".{}", mx_host.trim_end_matches('.').to_ascii_lowercase());
    PROVIDERS.iter().find(|p| {
        p.mx_suffixes
            .iter()
            .any(|s| host.ends_with(&s.to_ascii_lowercase()))
    })
}

/// The provider table's entry whose IMAP server is `host` (a file or record naming
/// `imap.gmail.com` gets Gmail's push facts and sign-in).
fn provider_for_imap_host(host: &str) -> Option<&'static ProviderEntry> {
    PROVIDERS
        .iter()
        .find(|p| p.imap_host.eq_ignore_ascii_case(host))
}

/// The provider table's entry for a configured account: by its IMAP server, else by the
/// domain of its `email`. No network: a custom domain hosted by a provider is found by the
/// server only. "Open" uses it for the provider's message link.
pub fn provider_for_account(account: &Account) -> Option<&'static ProviderEntry> {
    provider_for_imap_host(account.host.trim_end_matches('.')).or_else(|| {
        let email = account.email.as_deref()?;
        let (_, domain) = email.rsplit_once('@')?;
        provider_for_domain(domain)
    })
}

/// Looks the settings for `typed` up, telling `progress` where it looks.
pub async fn discover(
    typed: &str,
    opts: &Options,
    mut progress: impl FnMut(&Progress),
) -> Result<Found, DiscoverError> {
    let address = domain::parse_address(typed).map_err(DiscoverError::Address)?;
    let mut notes = Vec::new();
    let work = run(&address, opts, &mut progress, &mut notes);
    let result = tokio::time::timeout(opts.overall_timeout, work).await;
    match result {
        Ok(Some(mut found)) => {
            let known = PROVIDERS.iter().flat_map(|p| p.domains.iter().copied());
            if let Some(imitated) = domain::imitates(&address.domain, known) {
                found.warnings.insert(
                    0,
                    Warning::LookAlike {
                        domain: address.domain_display.clone(),
                        imitates: imitated.to_owned(),
                    },
                );
            }
            Ok(found)
        }
        Ok(None) => Err(DiscoverError::NotFound {
            domain: address.domain_display.clone(),
            notes,
        }),
        Err(_) => {
            notes.push(format!(
                "stopped looking after {} s",
                opts.overall_timeout.as_secs()
            ));
            Err(DiscoverError::NotFound {
                domain: address.domain_display.clone(),
                notes,
            })
        }
    }
}

async fn run(
    address: &Address,
    opts: &Options,
    progress: &mut impl FnMut(&Progress),
    notes: &mut Vec<String>,
) -> Option<Found> {
    progress(&Progress::ProviderList);
    if let Some(p) = provider_for_domain(&address.domain) {
        return Some(from_provider(
            address,
            p,
            Source::ProviderList { provider: p.name },
        ));
    }

    let client = match fetch::client(opts) {
        Ok(c) => Some(c),
        Err(e) => {
            notes.push(format!("HTTPS is not available: {e}"));
            None
        }
    };
    if let Some(client) = &client
        && let Some((server, url)) =
            autoconfig_of(client, &address.domain, address, opts, progress, notes).await
    {
        return Some(from_file(
            address,
            server,
            Source::Autoconfig { url: url.clone() },
            &url,
        ));
    }

    let resolver = match dns::resolver(opts) {
        Ok(r) => Some(r),
        Err(e) => {
            notes.push(format!("DNS is not available: {e}"));
            None
        }
    };
    if let Some(resolver) = &resolver {
        progress(&Progress::Mx(address.domain_display.clone()));
        let mxs = dns::mx(resolver, &address.domain).await;
        if let Some(mx) = mxs.first() {
            if let Some(p) = provider_for_mx(mx) {
                return Some(from_provider(
                    address,
                    p,
                    Source::ProviderByMx {
                        provider: p.name,
                        mx: mx.clone(),
                    },
                ));
            }
            let hoster = domain::registrable(mx);
            if hoster != domain::registrable(&address.domain)
                && let Some(client) = &client
                && let Some((server, url)) =
                    autoconfig_of(client, &hoster, address, opts, progress, notes).await
            {
                let source = Source::AutoconfigOfMx {
                    url: url.clone(),
                    mx: mx.clone(),
                };
                return Some(from_file(address, server, source, &url));
            }
        }

        for (service, security) in [
            ("_imaps._tcp", Security::Tls),
            ("_imap._tcp", Security::Starttls),
        ] {
            let name = format!("{service}.{}", address.domain);
            progress(&Progress::Srv(name.clone()));
            for target in dns::srv(resolver, &name).await {
                progress(&Progress::Probe(format!("{}:{}", target.host, target.port)));
                match probe(&target.host, target.port, security, opts).await {
                    Ok(()) => {
                        let record = format!("{name} → {}:{}", target.host, target.port);
                        return Some(found_at(
                            address,
                            target.host.clone(),
                            target.port,
                            security,
                            Source::Srv { record },
                        ));
                    }
                    Err(why) => {
                        notes.push(format!("{}:{} ({name}): {why}", target.host, target.port))
                    }
                }
            }
        }
    }

    guess(address, opts, progress, notes).await
}

/// The two autoconfiguration URLs of `domain` (and their `http://` twins when allowed), the
/// first file that parses and gives a usable server.
async fn autoconfig_of(
    client: &reqwest::Client,
    domain: &str,
    address: &Address,
    opts: &Options,
    progress: &mut impl FnMut(&Progress),
    notes: &mut Vec<String>,
) -> Option<(autoconfig::Server, String)> {
    let query = percent_encode(&address.address);
    let mut urls = vec![
        (
            format!("https://autoconfig.{domain}/mail/config-v1.1.xml"),
            format!("?emailaddress={query}"),
        ),
        (
            format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
            String::new(),
        ),
    ];
    if opts.allow_http {
        urls.push((
            format!("http://autoconfig.{domain}/mail/config-v1.1.xml"),
            format!("?emailaddress={query}"),
        ));
    }
    for (url, query) in urls {
        progress(&Progress::Autoconfig(url.clone()));
        let (body, from) = match fetch::get(client, &format!("{url}{query}"), opts).await {
            Ok(got) => got,
            // "No file here" (no such name, nothing listening, 404) is the usual case and not
            // worth a note; a certificate that does not verify, a redirect refused, an address
            // the guard refused or a body too large are.
            Err(fetch::FetchError::Status(404)) => continue,
            Err(fetch::FetchError::Unreachable) => continue,
            Err(e) => {
                notes.push(format!("{url}: {e}"));
                continue;
            }
        };
        match autoconfig::parse(&body).and_then(|servers| autoconfig::choose(&servers, address)) {
            Ok(server) => return Some((server, from)),
            Err(e) => notes.push(format!("{url}: {e}")),
        }
    }
    None
}

fn from_provider(address: &Address, p: &'static ProviderEntry, source: Source) -> Found {
    let username = match p.username {
        UsernameForm::Address => address.address.clone(),
        UsernameForm::LocalPart => address.local.clone(),
    };
    let login = match p.auth {
        ProviderAuth::Password => Login::Password,
        ProviderAuth::OAuth2 { provider, .. } => Login::OAuth2 {
            provider: provider.to_owned(),
        },
    };
    Found {
        address: address.clone(),
        protocol: Protocol::Imap,
        host: p.imap_host.to_owned(),
        port: p.imap_port,
        security: p.security,
        username,
        login,
        source,
        provider: Some(p),
        warnings: Vec::new(),
    }
}

/// How an account on a server found by a file, a record or a guess logs in: the provider's
/// sign-in when the server is a built-in provider's and it either offers nothing else or the
/// file offers sign-in (a custom provider needs endpoints no file or record carries).
fn login_for(provider: Option<&ProviderEntry>, offered_oauth2: bool) -> Login {
    match provider.map(|p| p.auth) {
        Some(ProviderAuth::OAuth2 {
            provider,
            passwords,
        }) if offered_oauth2 || !passwords => Login::OAuth2 {
            provider: provider.to_owned(),
        },
        _ => Login::Password,
    }
}

fn from_file(address: &Address, s: autoconfig::Server, source: Source, url: &str) -> Found {
    let provider = provider_for_imap_host(&s.host);
    let login = login_for(provider, s.oauth2);
    let mut warnings = outside(&s.host, address);
    if url.starts_with("http://") {
        warnings.push(Warning::Insecure {
            url: url.to_owned(),
        });
    }
    Found {
        address: address.clone(),
        protocol: s.protocol,
        host: s.host,
        port: s.port,
        security: s.security,
        username: s.username,
        login,
        source,
        provider,
        warnings,
    }
}

fn found_at(
    address: &Address,
    host: String,
    port: u16,
    security: Security,
    source: Source,
) -> Found {
    let provider = provider_for_imap_host(&host);
    Found {
        address: address.clone(),
        protocol: Protocol::Imap,
        warnings: outside(&host, address),
        provider,
        login: login_for(provider, false),
        host,
        port,
        security,
        username: address.address.clone(),
        source,
    }
}

fn outside(host: &str, address: &Address) -> Vec<Warning> {
    match domain::site_of(host, &address.domain) {
        Site::Same => Vec::new(),
        Site::Outside { registrable } => vec![Warning::OutsideDomain {
            host: host.to_owned(),
            registrable,
        }],
    }
}

/// Step 5: `imap.<domain>`, `mail.<domain>`, `<domain>` on 993 then 143, all probed at once
/// (a dead name costs one timeout, not six), the first in that order that answers wins.
async fn guess(
    address: &Address,
    opts: &Options,
    progress: &mut impl FnMut(&Progress),
    notes: &mut Vec<String>,
) -> Option<Found> {
    let d = &address.domain;
    let mut candidates = Vec::new();
    for host in [format!("imap.{d}"), format!("mail.{d}"), d.clone()] {
        for (port, security) in [(993, Security::Tls), (143, Security::Starttls)] {
            candidates.push((host.clone(), port, security));
        }
    }
    for (host, port, _) in &candidates {
        progress(&Progress::Probe(format!("{host}:{port}")));
    }
    let results = futures::future::join_all(
        candidates
            .iter()
            .map(|(host, port, security)| probe(host, *port, *security, opts)),
    )
    .await;
    let mut found = None;
    for ((host, port, security), result) in candidates.into_iter().zip(results) {
        match result {
            Ok(()) if found.is_none() => {
                found = Some(found_at(
                    address,
                    host.clone(),
                    port,
                    security,
                    Source::Guess { host },
                ));
            }
            Ok(()) => {}
            Err(ProbeError::Security(why)) => notes.push(format!("{host}:{port}: {why}")),
            Err(ProbeError::Unreachable) => {}
        }
    }
    found
}

/// Why a probe did not find a usable server.
#[derive(Debug)]
enum ProbeError {
    /// Nothing there (no name, no answer, not IMAP): not worth mentioning.
    Unreachable,
    /// Something there that must not be used as it is: a certificate that does not verify,
    /// STARTTLS missing or refused. Reported so the user knows why it was not proposed.
    Security(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Unreachable => f.write_str("no IMAP server answered"),
            ProbeError::Security(why) => f.write_str(why),
        }
    }
}

/// Connects as the watcher would (TLS verified by the system's trust store, STARTTLS strict),
/// reads the greeting and the capabilities, and hangs up. No login.
async fn probe(
    host: &str,
    port: u16,
    security: Security,
    opts: &Options,
) -> Result<(), ProbeError> {
    let mut account = Account::new("discovery-probe", host, "");
    account.port = port;
    account.security = security;
    account.timing.connect_timeout = opts.probe_timeout;
    let configs = transport::TlsConfigs::default();
    match transport::connect(&account, &configs).await {
        Ok(greeted) => {
            let imap = greeted
                .capabilities
                .iter()
                .any(|c| c == "IMAP4REV1" || c == "IMAP4REV2");
            if imap {
                Ok(())
            } else {
                Err(ProbeError::Unreachable)
            }
        }
        Err(e) if e.is_security() || matches!(e, crate::ConnectError::Tls { .. }) => {
            Err(ProbeError::Security(e.to_string()))
        }
        Err(_) => Err(ProbeError::Unreachable),
    }
}

/// Percent-encodes every byte but RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`):
/// a query value here, a Message-ID in a provider's message link (the tray's "Open").
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
