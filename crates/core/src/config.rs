//! The user's configuration: which mailboxes to watch and how patiently.
//!
//! The file is TOML at `$XDG_CONFIG_HOME/pushmail/config.toml` (see [`Config::default_path`]) and
//! is a public interface: scripts write it, so its key names, defaults and ranges are documented
//! in `docs/configuration.md` and changing them is a breaking change.
//!
//! Three representations, one direction:
//!
//! * `file::RawFile` mirrors the file exactly. It uses `deny_unknown_fields` everywhere, so a
//!   typo is an error that names the line, never a silently ignored setting.
//! * [`Config`] is the typed value the engine uses: defaults filled in, durations as
//!   [`Duration`], relative paths resolved, the password source an enum.
//! * [`Config::to_toml_string`] writes it back, omitting every value equal to its default so
//!   files stay short and pick up better defaults in later versions.
//!
//! Everything that can be wrong with a config is reported as a [`ConfigError`] whose `Display`
//! is a sentence a user can act on. No secret ever lives in this file: passwords come from the
//! OS keyring or from `password_command`.

mod file;
mod rules;
mod store;
#[cfg(test)]
mod test_support;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::i18n::{I18n, text};

/// File name of the config inside `$XDG_CONFIG_HOME/pushmail/`.
pub const FILE_NAME: &str = "config.toml";

/// How the connection to the IMAP server is protected.
///
/// Spelled in lower case in the file (`security = "starttls"`), which is also what `Display`
/// prints, so error messages quote exactly what the user has to type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte ("implicit TLS", RFC 8314), normally port 993. The default
    /// because RFC 8314 recommends it and it leaves no window for a downgrade.
    #[default]
    Tls,
    /// Plain TCP upgraded with `STARTTLS` before login, normally port 143. For servers that do
    /// not offer port 993; the upgrade is mandatory, never opportunistic.
    Starttls,
    /// No encryption at all. Only allowed for a loopback host (a local bridge or a test
    /// server), because elsewhere the password would cross the network in clear text.
    Plain,
}

impl Security {
    /// The port used when the file has no `port` key: 993 for TLS, 143 otherwise
    /// (the IANA assignments for `imaps` and `imap`).
    pub const fn default_port(self) -> u16 {
        match self {
            Security::Tls => 993,
            Security::Starttls | Security::Plain => 143,
        }
    }

    /// The spelling used in the file, so messages can quote it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::Plain => "plain",
        }
    }
}

/// Which mail protocol the account speaks.
///
/// Spelled in lower case in the file (`protocol = "pop3"`). IMAP is the default and the only
/// one with push; POP3 is for mailboxes that offer nothing else, checked every
/// `poll_interval_secs` and never changed (see `docs/configuration.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// IMAP (RFC 9051/3501): push with NOTIFY or IDLE, flags, several folders.
    #[default]
    Imap,
    /// POP3 (RFC 1939): one mailbox, no push, no flags; Pushmail only lists it and reads
    /// headers with `TOP`, and never deletes (no `DELE` is ever sent).
    Pop3,
}

impl Protocol {
    /// Every value, in the order the settings UI offers them.
    pub const ALL: [Protocol; 2] = [Protocol::Imap, Protocol::Pop3];

    /// The spelling used in the file, so messages can quote it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
        }
    }

    /// The port used when the file has no `port` key: the IANA assignments, 993/143 for IMAP
    /// (`imaps`/`imap`) and 995/110 for POP3 (`pop3s`/`pop3`).
    pub const fn default_port(self, security: Security) -> u16 {
        match (self, security) {
            (Protocol::Imap, s) => s.default_port(),
            (Protocol::Pop3, Security::Tls) => 995,
            (Protocol::Pop3, Security::Starttls | Security::Plain) => 110,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Name, default and allowed range of one numeric setting, in the units of the file.
///
/// One table per section ([`Timing::KNOBS`], [`Notifications::KNOBS`]) drives the defaults,
/// validation, the writer and the settings UI's input bounds, so they cannot drift apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knob {
    /// Key in its table (`[[accounts]]` or `[notifications]`), e.g. `idle_refresh_secs`.
    pub key: &'static str,
    /// Value used when the key is absent.
    pub default: u64,
    /// Smallest accepted value.
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
}

/// Every wait and limit of one account's watch loop.
///
/// They are per account because servers differ: a provider that drops idle connections after
/// 5 minutes needs a shorter `idle_refresh` than one that keeps them for hours. The "why" of
/// each default is on the matching [`Knob`] constant and in `docs/configuration.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long one IDLE command may run before it is ended with `DONE` and re-issued
    /// ([`Timing::IDLE_REFRESH`]).
    pub idle_refresh: Duration,
    /// How long the server may stay silent before the link is checked and, if it fails the
    /// check, declared dead ([`Timing::DEAD_AFTER`]).
    pub dead_after: Duration,
    /// Wait between checks for servers without IDLE; the engine adds jitter
    /// ([`Timing::POLL_INTERVAL`]).
    pub poll_interval: Duration,
    /// First wait after a failed connection; doubles up to `backoff_max`, with jitter
    /// ([`Timing::BACKOFF_MIN`]).
    pub backoff_min: Duration,
    /// Longest wait between reconnection attempts ([`Timing::BACKOFF_MAX`]).
    pub backoff_max: Duration,
    /// Limit for TCP connect + TLS handshake + server greeting ([`Timing::CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Limit for every IMAP command ([`Timing::COMMAND_TIMEOUT`]).
    pub command_timeout: Duration,
    /// Limit for the server's answer to `DONE` before the link is declared dead
    /// ([`Timing::DONE_TIMEOUT`]).
    pub done_timeout: Duration,
    /// Cap on *successful* logins per minute, so a server that accepts LOGIN and then drops
    /// the connection cannot cause a busy loop ([`Timing::MAX_LOGINS_PER_MINUTE`]).
    pub max_logins_per_minute: u32,
    /// Minimum wait after the server says it is overloaded or we have too many connections
    /// ([`Timing::THROTTLE_BACKOFF`]).
    pub throttle_backoff: Duration,
    /// Most IMAP connections open at once for this account's server login (same host, port
    /// and user name), shared by every account using that login ([`Timing::MAX_CONNECTIONS`]).
    pub max_connections: u32,
    /// After NOTIFY says a message arrived, how long to wait for the server to push its
    /// headers before fetching them ([`Timing::PUSH_WAIT`]).
    pub push_wait: Duration,
}

impl Timing {
    /// 10 minutes: well under the 29 minutes RFC 2177 allows before a server may log an idle
    /// client out, and under the idle timeout of most NAT boxes and firewalls, so re-issuing
    /// IDLE also keeps the path open. The maximum is RFC 2177's 29 minutes.
    pub const IDLE_REFRESH: Knob = Knob {
        key: "idle_refresh_secs",
        default: 600,
        min: 1,
        max: 1740,
    };
    /// 5 minutes: Dovecot sends "still here" every 2 minutes during IDLE, so 5 minutes of
    /// silence means at least two keepalives went missing.
    pub const DEAD_AFTER: Knob = Knob {
        key: "dead_after_secs",
        default: 300,
        min: 1,
        max: 3600,
    };
    /// 1 minute (jittered by the engine): new mail shows up within a minute on servers
    /// without IDLE, at the cost of one cheap command per minute.
    pub const POLL_INTERVAL: Knob = Knob {
        key: "poll_interval_secs",
        default: 60,
        min: 1,
        max: 3600,
    };
    /// 1 second: a blip (Wi-Fi roaming, server restart) is over before the user notices.
    pub const BACKOFF_MIN: Knob = Knob {
        key: "backoff_min_secs",
        default: 1,
        min: 1,
        max: 3600,
    };
    /// 5 minutes: retries of a dead server stay rare, yet mail is never more than 5 minutes
    /// late once it is back (and a "network is back" wake-up skips the wait anyway).
    pub const BACKOFF_MAX: Knob = Knob {
        key: "backoff_max_secs",
        default: 300,
        min: 1,
        max: 3600,
    };
    /// 15 seconds: a healthy server greets within a second or two even over a mobile link;
    /// a black-holed route is noticed quickly.
    pub const CONNECT_TIMEOUT: Knob = Knob {
        key: "connect_timeout_secs",
        default: 15,
        min: 1,
        max: 300,
    };
    /// 30 seconds: Pushmail only fetches headers, so even SELECT of a huge mailbox on a slow
    /// server finishes well within it; longer means the link is gone.
    pub const COMMAND_TIMEOUT: Knob = Knob {
        key: "command_timeout_secs",
        default: 30,
        min: 1,
        max: 600,
    };
    /// 15 seconds: a live server answers `DONE` at once; silence means a half-open connection.
    pub const DONE_TIMEOUT: Knob = Knob {
        key: "done_timeout_secs",
        default: 15,
        min: 1,
        max: 300,
    };
    /// 6 per minute: enough for genuine reconnects (network changes, server restarts), far
    /// below what makes a provider lock the account for suspicious logins.
    pub const MAX_LOGINS_PER_MINUTE: Knob = Knob {
        key: "max_logins_per_minute",
        default: 6,
        min: 1,
        max: 60,
    };
    /// 1 minute: after `NO [UNAVAILABLE]` or "too many connections", retrying sooner only
    /// prolongs the overload; a minute lets our other sessions time out on the server.
    pub const THROTTLE_BACKOFF: Knob = Knob {
        key: "throttle_backoff_secs",
        default: 60,
        min: 1,
        max: 3600,
    };

    /// 2: Pushmail watches any number of folders on one connection (NOTIFY, or IDLE plus a
    /// STATUS sweep), so 2 leaves room for a mail client on servers that allow few connections
    /// per user (Dovecot: 10 per user and IP; some providers 5 or fewer). Accounts that log in
    /// as the same user on the same server share this budget.
    pub const MAX_CONNECTIONS: Knob = Knob {
        key: "max_connections",
        default: 2,
        min: 1,
        max: 20,
    };

    /// 1 second: a server that pushes headers with new mail (NOTIFY with fetch attributes)
    /// sends them in the same breath as the `EXISTS` (Dovecot: in the same read); one that
    /// does not is fetched from after this, as if it had no NOTIFY.
    pub const PUSH_WAIT: Knob = Knob {
        key: "push_wait_secs",
        default: 1,
        min: 1,
        max: 60,
    };

    /// All timing knobs in file order, for code that treats them uniformly (validation, the
    /// writer, the settings UI).
    pub const KNOBS: [Knob; 12] = [
        Self::IDLE_REFRESH,
        Self::DEAD_AFTER,
        Self::POLL_INTERVAL,
        Self::BACKOFF_MIN,
        Self::BACKOFF_MAX,
        Self::CONNECT_TIMEOUT,
        Self::COMMAND_TIMEOUT,
        Self::DONE_TIMEOUT,
        Self::MAX_LOGINS_PER_MINUTE,
        Self::THROTTLE_BACKOFF,
        Self::MAX_CONNECTIONS,
        Self::PUSH_WAIT,
    ];

    /// The defaults, usable in `const` context (e.g. by tests of the engine).
    pub const DEFAULT: Timing = Timing {
        idle_refresh: Duration::from_secs(Self::IDLE_REFRESH.default),
        dead_after: Duration::from_secs(Self::DEAD_AFTER.default),
        poll_interval: Duration::from_secs(Self::POLL_INTERVAL.default),
        backoff_min: Duration::from_secs(Self::BACKOFF_MIN.default),
        backoff_max: Duration::from_secs(Self::BACKOFF_MAX.default),
        connect_timeout: Duration::from_secs(Self::CONNECT_TIMEOUT.default),
        command_timeout: Duration::from_secs(Self::COMMAND_TIMEOUT.default),
        done_timeout: Duration::from_secs(Self::DONE_TIMEOUT.default),
        // The knob's default is 6; the cast cannot truncate.
        max_logins_per_minute: Self::MAX_LOGINS_PER_MINUTE.default as u32,
        throttle_backoff: Duration::from_secs(Self::THROTTLE_BACKOFF.default),
        // The knob's default is 2; the cast cannot truncate.
        max_connections: Self::MAX_CONNECTIONS.default as u32,
        push_wait: Duration::from_secs(Self::PUSH_WAIT.default),
    };

    /// Each knob with its current value, in [`Timing::KNOBS`] order.
    fn values(&self) -> [(Knob, KnobValue); 12] {
        [
            (Self::IDLE_REFRESH, KnobValue::Secs(self.idle_refresh)),
            (Self::DEAD_AFTER, KnobValue::Secs(self.dead_after)),
            (Self::POLL_INTERVAL, KnobValue::Secs(self.poll_interval)),
            (Self::BACKOFF_MIN, KnobValue::Secs(self.backoff_min)),
            (Self::BACKOFF_MAX, KnobValue::Secs(self.backoff_max)),
            (Self::CONNECT_TIMEOUT, KnobValue::Secs(self.connect_timeout)),
            (Self::COMMAND_TIMEOUT, KnobValue::Secs(self.command_timeout)),
            (Self::DONE_TIMEOUT, KnobValue::Secs(self.done_timeout)),
            (
                Self::MAX_LOGINS_PER_MINUTE,
                KnobValue::Count(self.max_logins_per_minute),
            ),
            (
                Self::THROTTLE_BACKOFF,
                KnobValue::Secs(self.throttle_backoff),
            ),
            (
                Self::MAX_CONNECTIONS,
                KnobValue::Count(self.max_connections),
            ),
            (Self::PUSH_WAIT, KnobValue::Secs(self.push_wait)),
        ]
    }
}

impl Default for Timing {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The value of one knob as the file would store it.
#[derive(Clone, Copy, Debug)]
enum KnobValue {
    Secs(Duration),
    Count(u32),
}

impl KnobValue {
    /// The number written to the file (whole seconds, or the count).
    fn file_value(self) -> u64 {
        match self {
            KnobValue::Secs(d) => d.as_secs(),
            KnobValue::Count(n) => u64::from(n),
        }
    }

    /// False for a duration with a fractional second, which the file cannot represent.
    fn is_whole(self) -> bool {
        match self {
            KnobValue::Secs(d) => d.subsec_nanos() == 0,
            KnobValue::Count(_) => true,
        }
    }
}

/// Where the account's password comes from. Never from the config file itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum PasswordSource {
    /// The OS keyring (Secret Service on Linux). The default: the secret stays encrypted at
    /// rest and the file stays safe to share or back up.
    #[default]
    Keyring,
    /// Run this program (argv, no shell) and use the first line of its standard output.
    /// For users who keep passwords in `pass`, `gopass`, a password manager CLI, etc.
    Command(Vec<String>),
    /// No password: the user signs in at the provider (`auth = "oauth2"`), and the grant's
    /// refresh token lives in the OS keyring under an entry of its own (`secret.rs`).
    OAuth2(Box<OAuthSettings>),
    /// A service that hosts the engine keeps the secret itself and hands it over on each
    /// login through [`crate::secret::install_vault`] (the relay: encrypted in its database).
    /// Never read from or written to a config file.
    Vault,
}

/// An account that signs in with OAuth2 instead of a password (`auth = "oauth2"`): which
/// provider, and any of its settings the file overrides (`oauth_*` keys). See
/// `docs/configuration.md`, "Sign-in".
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct OAuthSettings {
    /// `google`, `microsoft`, `yahoo`, `aol`, `fastmail` (built in) or `custom`.
    pub provider: String,
    /// Microsoft only: the organisation's tenant (id or domain) instead of `common`.
    pub tenant: Option<String>,
    /// The application's registration at the provider (a packager's or the user's own).
    pub client_id: Option<String>,
    /// For providers that issue installed apps a "secret" (Google): not a secret in the OAuth
    /// sense (RFC 8252 §8.5), so it may live in the file.
    pub client_secret: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub issuer: Option<String>,
    pub sasl: Option<crate::oauth::sasl::SaslMechanism>,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A desktop app's "secret" is public, but a web service's (the relay's) is not, and an
        // account printed in a log must never carry it.
        f.debug_struct("OAuthSettings")
            .field("provider", &self.provider)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("scopes", &self.scopes)
            .field("issuer", &self.issuer)
            .field("sasl", &self.sasl)
            .finish()
    }
}

impl OAuthSettings {
    /// The provider with this account's overrides applied; for `custom`, built from them
    /// alone. The IMAP host and port are the account's own.
    pub fn provider(
        &self,
        host: &str,
        port: u16,
    ) -> Result<crate::oauth::provider::Provider, crate::oauth::OAuthError> {
        use crate::oauth::OAuthError;
        use crate::oauth::provider::Provider;
        let missing = |what: &str| OAuthError::BadProvider {
            provider: self.provider.clone(),
            what: format!("`oauth_{what}` is required for a custom provider"),
        };
        let mut p = match self.provider.as_str() {
            "custom" => Provider::custom(
                self.authorization_endpoint
                    .as_deref()
                    .ok_or_else(|| missing("authorization_endpoint"))?,
                self.token_endpoint
                    .as_deref()
                    .ok_or_else(|| missing("token_endpoint"))?,
                self.scopes.clone().ok_or_else(|| missing("scopes"))?,
                self.issuer.clone(),
                self.sasl
                    .unwrap_or(crate::oauth::sasl::SaslMechanism::OAuthBearer),
                host,
                port,
                None,
            ),
            "microsoft" if self.tenant.is_some() => {
                Provider::microsoft_tenant(self.tenant.as_deref().unwrap_or_default())?
            }
            name => Provider::builtin(name).ok_or_else(|| OAuthError::BadProvider {
                provider: name.to_owned(),
                what: format!(
                    "unknown provider; use one of {} or custom",
                    crate::oauth::provider::BUILTIN.join(", ")
                ),
            })?,
        };
        if let Some(id) = &self.client_id {
            p = p.with_client(id.clone(), self.client_secret.clone());
        }
        if let Some(v) = &self.authorization_endpoint {
            p.authorization_endpoint.clone_from(v);
        }
        if let Some(v) = &self.token_endpoint {
            p.token_endpoint.clone_from(v);
        }
        if let Some(v) = &self.scopes {
            p.scopes.clone_from(v);
        }
        if self.issuer.is_some() {
            p.issuer.clone_from(&self.issuer);
        }
        if let Some(v) = self.sasl {
            p.sasl = v;
        }
        p.imap_host = host.to_owned();
        p.imap_port = port;
        Ok(p)
    }
}

/// One IMAP account to watch, with every default already applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Short unique name (`[A-Za-z0-9_-]`, 1 to 32 characters) used in events, commands and
    /// logs; stable, unlike the display name.
    pub id: String,
    /// Name shown to the user; the file may omit it, then it equals `id`.
    pub name: String,
    /// The account's address, shown to the user; optional because the login name often is
    /// not an address.
    pub email: Option<String>,
    /// The mail protocol; IMAP unless the file says `protocol = "pop3"`.
    pub protocol: Protocol,
    /// Server name or IP address, without port or scheme.
    pub host: String,
    /// TCP port; the file may omit it, then it is [`Protocol::default_port`].
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// Login name for the IMAP server.
    pub username: String,
    /// Where the password comes from.
    pub password: PasswordSource,
    /// Extra CA certificate(s) in PEM to trust for this server (self-hosted servers with a
    /// private CA). Always absolute after loading a file: relative paths in the file are
    /// resolved against the file's directory, so it does not matter where Pushmail started.
    pub ca_file: Option<PathBuf>,
    /// Folders to watch; at least one, no duplicates.
    pub folders: Vec<String>,
    /// A disabled account is kept in the file but not watched, so users can pause it without
    /// losing its settings.
    pub enabled: bool,
    /// Waits and limits of this account's watch loop.
    pub timing: Timing,
    /// No popups for this account (the tray still counts its mail), for a noisy mailbox the
    /// user wants to see but not be interrupted by. VIP senders still break through.
    pub mute: bool,
    /// How much of a new message a popup shows; less for accounts whose subjects should not
    /// appear on a shared or projected screen.
    pub preview: Preview,
    /// What clicking this account's notification opens.
    pub open: OpenTarget,
}

impl Account {
    /// A new account with every optional setting at its default, exactly as if the file had
    /// only `id`, `host` and `username`. The settings UI starts "add account" from this.
    pub fn new(
        id: impl Into<String>,
        host: impl Into<String>,
        username: impl Into<String>,
    ) -> Account {
        let id = id.into();
        Account {
            name: id.clone(),
            id,
            email: None,
            protocol: Protocol::Imap,
            host: host.into(),
            port: Security::Tls.default_port(),
            security: Security::Tls,
            username: username.into(),
            password: PasswordSource::Keyring,
            ca_file: None,
            folders: default_folders(),
            enabled: true,
            timing: Timing::DEFAULT,
            mute: false,
            preview: Preview::Full,
            open: OpenTarget::Default,
        }
    }

    /// True when every setting that affects the IMAP connection or what it watches is equal,
    /// i.e. the two differ at most in `name`, `email`, `mute`, `preview` and `open`. The engine
    /// uses it to keep a connection open when only notification settings change, since
    /// reconnecting costs a login and can miss nothing but may delay mail.
    pub fn same_connection(&self, other: &Account) -> bool {
        // Destructured without `..` so a new field cannot be added without deciding here
        // whether it affects the connection.
        let Account {
            id,
            name: _,
            email: _,
            protocol,
            host,
            port,
            security,
            username,
            password,
            ca_file,
            folders,
            enabled,
            timing,
            mute: _,
            preview: _,
            open: _,
        } = self;
        *id == other.id
            && *protocol == other.protocol
            && *host == other.host
            && *port == other.port
            && *security == other.security
            && *username == other.username
            && *password == other.password
            && *ca_file == other.ca_file
            && *folders == other.folders
            && *enabled == other.enabled
            && *timing == other.timing
    }
}

/// How much of a new message a notification popup shows.
///
/// Spelled in lower case in the file (`preview = "sender"`). Popups may be seen by anyone near
/// the screen, so users can trade detail for privacy per account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preview {
    /// Sender and subject: the default, because deciding whether to read a mail now is what
    /// the popup is for.
    #[default]
    Full,
    /// Only the sender; the subject may be confidential.
    Sender,
    /// Only "N new messages", nothing about the messages themselves.
    Count,
}

impl Preview {
    /// Every value, in the order the settings UI offers them.
    pub const ALL: [Preview; 3] = [Preview::Full, Preview::Sender, Preview::Count];

    /// The spelling used in the file, so messages can quote it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Preview::Full => "full",
            Preview::Sender => "sender",
            Preview::Count => "count",
        }
    }
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What clicking an account's notification opens.
///
/// Stored in the file as two mutually exclusive keys, `open_url` and `open_command`; neither
/// means [`OpenTarget::Default`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum OpenTarget {
    /// `[general] open_command` if set, else the desktop's default mail client (the
    /// `x-scheme-handler/mailto` handler), so most users configure nothing.
    #[default]
    Default,
    /// A webmail page (`http` or `https` only, so a click can never launch a local file or an
    /// arbitrary URL handler), opened in the default browser.
    Url(String),
    /// Run this program (argv, no shell, like `password_command`), e.g. a mail client with a
    /// profile for this account.
    Command(Vec<String>),
}

/// User interface language of the tray and settings window.
///
/// Spelled as a BCP 47 tag in the file (`language = "zh-TW"`), or `"auto"`. Chinese is split by
/// script region because Traditional and Simplified are different translations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// Follow the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), falling back to English; the
    /// default, because the desktop already knows what the user reads.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// English.
    #[serde(rename = "en")]
    En,
    /// Italian.
    #[serde(rename = "it")]
    It,
    /// Chinese, Traditional script (Taiwan).
    #[serde(rename = "zh-TW")]
    ZhTw,
    /// Chinese, Simplified script (Mainland China).
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// Arabic (right to left).
    #[serde(rename = "ar")]
    Ar,
}

impl Language {
    /// Every value, `Auto` first, in the order the settings UI offers them.
    pub const ALL: [Language; 6] = [
        Language::Auto,
        Language::En,
        Language::It,
        Language::ZhTw,
        Language::ZhCn,
        Language::Ar,
    ];

    /// The spelling used in the file, so messages can quote it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Language::Auto => "auto",
            Language::En => "en",
            Language::It => "it",
            Language::ZhTw => "zh-TW",
            Language::ZhCn => "zh-CN",
            Language::Ar => "ar",
        }
    }

    /// The BCP 47 language tag for loading translations and setting `lang` on documents;
    /// `None` for [`Language::Auto`], which the front end resolves from the system locale.
    pub const fn tag(self) -> Option<&'static str> {
        match self {
            Language::Auto => None,
            other => Some(other.as_str()),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of the app as a whole: the `[general]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct General {
    /// Language of the user interface.
    pub language: Language,
    /// The mail client to open (argv, no shell) for accounts whose `open` is
    /// [`OpenTarget::Default`]; `None` means the desktop's default mail client, which is right
    /// unless the user runs a different client than the one registered for `mailto:`.
    pub open_command: Option<Vec<String>>,
}

/// A daily period without popups, in local time. May wrap over midnight (`22:00`–`07:00`).
///
/// Written in the file as `quiet_hours = ["22:00", "07:00"]`. Start and end must differ: an
/// empty period is "no quiet hours" (remove the key), and "all day" is `enabled = false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuietHours {
    /// First quiet minute, `(hour 0..=23, minute 0..=59)`.
    pub start: (u8, u8),
    /// First minute that is no longer quiet, `(hour 0..=23, minute 0..=59)`.
    pub end: (u8, u8),
}

impl QuietHours {
    /// Whether the local time `hour:minute` is quiet: `start` inclusive, `end` exclusive, so
    /// `["22:00", "07:00"]` silences 22:00 through 06:59.
    pub fn contains(&self, hour: u8, minute: u8) -> bool {
        let minutes = |(h, m): (u8, u8)| u16::from(h) * 60 + u16::from(m);
        let now = minutes((hour, minute));
        let (start, end) = (minutes(self.start), minutes(self.end));
        if start <= end {
            start <= now && now < end
        } else {
            now >= start || now < end
        }
    }
}

/// How and when popups are shown: the `[notifications]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notifications {
    /// Master switch for popups; the tray badge always updates, so turning popups off never
    /// hides that mail arrived.
    pub enabled: bool,
    /// No popups during this daily period, except from VIP senders.
    pub quiet_hours: Option<QuietHours>,
    /// Senders whose mail is shown despite quiet hours and muted accounts: a full address
    /// (`boss@example.com`) or a whole domain (`@family.example`), compared ignoring case.
    pub vip: Vec<String>,
    /// More than this many new mails within `summary_window` become one summary popup
    /// ([`Notifications::SUMMARY_THRESHOLD`]).
    pub summary_threshold: u32,
    /// The window for `summary_threshold` ([`Notifications::SUMMARY_WINDOW`]).
    pub summary_window: Duration,
    /// Limit for one call to the notification daemon ([`Notifications::NOTIFY_TIMEOUT`]).
    pub notify_timeout: Duration,
    /// Recent notifications kept for Settings → Activity ([`Notifications::HISTORY_SIZE`]).
    pub history_size: u32,
}

impl Notifications {
    /// 3: a handful of popups is readable; a mailing-list burst or the first sync after a
    /// holiday should be one popup, not a wall of them.
    pub const SUMMARY_THRESHOLD: Knob = Knob {
        key: "summary_threshold",
        default: 3,
        min: 1,
        max: 100,
    };
    /// 10 seconds: mails of one burst (a list digest, a server delivering a backlog) arrive
    /// within a few seconds of each other, while mails minutes apart stay separate popups.
    pub const SUMMARY_WINDOW: Knob = Knob {
        key: "summary_window_secs",
        default: 10,
        min: 1,
        max: 600,
    };
    /// 5 seconds: a healthy notification daemon answers in milliseconds; a hung one must not
    /// hold up the popups that follow.
    pub const NOTIFY_TIMEOUT: Knob = Knob {
        key: "notify_timeout_secs",
        default: 5,
        min: 1,
        max: 60,
    };
    /// 50: a day's worth of notifications for most users, small enough to keep in memory; 0
    /// keeps no history.
    pub const HISTORY_SIZE: Knob = Knob {
        key: "history_size",
        default: 50,
        min: 0,
        max: 1000,
    };

    /// All numeric notification knobs in file order.
    pub const KNOBS: [Knob; 4] = [
        Self::SUMMARY_THRESHOLD,
        Self::SUMMARY_WINDOW,
        Self::NOTIFY_TIMEOUT,
        Self::HISTORY_SIZE,
    ];

    /// The defaults, usable in `const` context.
    pub const DEFAULT: Notifications = Notifications {
        enabled: true,
        quiet_hours: None,
        vip: Vec::new(),
        // The knob defaults are small constants; the casts cannot truncate.
        summary_threshold: Self::SUMMARY_THRESHOLD.default as u32,
        summary_window: Duration::from_secs(Self::SUMMARY_WINDOW.default),
        notify_timeout: Duration::from_secs(Self::NOTIFY_TIMEOUT.default),
        history_size: Self::HISTORY_SIZE.default as u32,
    };

    /// Whether mail from `address` breaks through quiet hours and mute: it equals a `vip`
    /// address, or its domain equals a `vip` `@domain`, ignoring case. Subdomains do not
    /// match (`@example.com` is not `@mail.example.com`), so a domain entry never covers more
    /// senders than it names.
    pub fn is_vip(&self, address: &str) -> bool {
        let address = address.trim().to_lowercase();
        let Some((local, domain)) = address.rsplit_once('@') else {
            return false;
        };
        if local.is_empty() || domain.is_empty() {
            return false;
        }
        self.vip.iter().any(|entry| {
            let entry = entry.trim().to_lowercase();
            match entry.strip_prefix('@') {
                Some(vip_domain) => vip_domain == domain,
                None => entry == address,
            }
        })
    }

    /// Each knob with its current value, in [`Notifications::KNOBS`] order.
    fn values(&self) -> [(Knob, KnobValue); 4] {
        [
            (
                Self::SUMMARY_THRESHOLD,
                KnobValue::Count(self.summary_threshold),
            ),
            (Self::SUMMARY_WINDOW, KnobValue::Secs(self.summary_window)),
            (Self::NOTIFY_TIMEOUT, KnobValue::Secs(self.notify_timeout)),
            (Self::HISTORY_SIZE, KnobValue::Count(self.history_size)),
        ]
    }
}

impl Default for Notifications {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `["INBOX"]`: the one folder every IMAP server has (RFC 3501) and where new mail lands.
fn default_folders() -> Vec<String> {
    vec!["INBOX".to_owned()]
}

/// The whole configuration. An empty value (no accounts, default sections) is what a first
/// run sees.
///
/// The root of the file holds `[general]`, `[notifications]` and the `[[accounts]]` list; both
/// sections are optional. Unknown root keys are errors so a typo in a section name is not
/// silently ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Accounts in file order; the order is kept so menus match the file.
    pub accounts: Vec<Account>,
    /// App-wide settings (`[general]`).
    pub general: General,
    /// How and when popups are shown (`[notifications]`).
    pub notifications: Notifications,
}

impl Config {
    /// `$XDG_CONFIG_HOME/pushmail/config.toml`, or `$HOME/.config/pushmail/config.toml` when
    /// `XDG_CONFIG_HOME` is unset, empty or relative (as the XDG Base Directory spec says).
    ///
    /// This is the only place the library reads the environment; front ends call it once and
    /// pass the path on, so tests can use any path.
    pub fn default_path() -> Result<PathBuf, ConfigError> {
        store::default_path_from(
            std::env::var_os("XDG_CONFIG_HOME"),
            std::env::var_os("HOME"),
        )
    }

    /// Reads, parses and validates the file at `path`.
    ///
    /// A missing file (or directory) is an empty config, because that is the first run, not
    /// an error. Anything else wrong is an error: unreadable, not UTF-8, bad TOML, unknown
    /// keys, invalid values, or a file or directory that other users may write (the file
    /// names programs Pushmail runs, so that would let them run code as you).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        store::load(path)
    }

    /// Parses and validates config text as if it were read from a file in `base_dir`
    /// (used to resolve a relative `ca_file`; pass an absolute directory). Parse errors name
    /// `base_dir/config.toml`.
    pub fn from_toml_str(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let config = file::parse(text, &base_dir.join(FILE_NAME), base_dir)?;
        config.validate()?;
        Ok(config)
    }

    /// The config as TOML, using the public key names and omitting every value equal to its
    /// default (short files, and users get improved defaults on upgrade).
    ///
    /// For a config that passes [`Config::validate`], [`Config::from_toml_str`] gives back an
    /// equal value (`ca_file` must be absolute for that, which it is after loading). The text
    /// starts with a comment saying the file is rewritten by Pushmail.
    pub fn to_toml_string(&self) -> String {
        file::to_toml_string(self)
    }

    /// Validates, then writes the file atomically: a new file created with mode 0600 in the
    /// same directory, written, flushed to disk, renamed over `path`, and the directory
    /// flushed. The directory is created with mode 0700 if missing. If `path` is a symlink
    /// (dotfile managers), the file it points to is replaced and the link kept.
    ///
    /// A crash or error at any point leaves either the old file or the new one, never a
    /// mix, and an invalid config is refused before anything is touched. Comments in an
    /// existing file are not preserved.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        store::write_atomically(path, self.to_toml_string().as_bytes())
    }

    /// The account with exactly this id, if any.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|account| account.id == id)
    }

    /// Whether a new account may take `id`: refused when an account already has it, compared
    /// as validation compares ids (ignoring case). Front ends ask this before they store a
    /// password or write anything, and show [`IdTaken::message_in`] in the user's language.
    pub fn check_new_id(&self, id: &str) -> Result<(), IdTaken> {
        match self.accounts.iter().find(|a| rules::same_id(&a.id, id)) {
            Some(existing) => Err(IdTaken {
                existing: existing.id.clone(),
            }),
            None => Ok(()),
        }
    }

    /// A free account id for an address, so nobody has to invent one — the rule the settings
    /// window's manual form follows too (`suggestId` in ui/src/pages/accountForm.ts): the
    /// local part without accents, lower case, runs of other characters as one `-`, at most
    /// 28 characters (`José.Maria` → `jose-maria`; nothing left → `account`), then numbered
    /// while taken (`ana-2`, `ana-3`).
    pub fn id_for_address(&self, local: &str, _domain: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        use unicode_normalization::char::is_combining_mark;
        let mut base = String::new();
        for c in local.nfkd().filter(|c| !is_combining_mark(*c)) {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                base.push(c);
            } else if !base.ends_with('-') {
                base.push('-');
            }
        }
        let base: String = base.trim_matches('-').chars().take(28).collect();
        let base = match base.trim_end_matches('-') {
            "" => "account".to_owned(),
            b => b.to_owned(),
        };
        let free = |id: &str| self.check_new_id(id).is_ok();
        if free(&base) {
            return base;
        }
        (2..)
            .map(|n| format!("{base}-{n}"))
            .find(|id| free(id))
            .unwrap_or(base)
    }

    /// Checks every rule a loaded file must satisfy (unique ids, value ranges, `plain` only
    /// on loopback, …), so configs built in code (the settings UI) are held to the same
    /// rules as files. Returns the first problem in file order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        rules::validate(self)
    }
}

/// Everything that can go wrong loading or saving the config. Callers branch on the variant
/// (e.g. the settings UI highlights `key` of `Invalid`); users read the `Display`, which says
/// where the problem is and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or its directory could not be read or written. `Display` names the path; the
    /// reason is the `source` (print the chain, e.g. `{err:#}` with anyhow).
    #[error("cannot access {}", path.display())]
    Io {
        /// The file or directory the operation failed on.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape (unknown key, wrong
    /// type, missing required key).
    #[error("{} line {line}: {message}", path.display())]
    Parse {
        /// The file, so the user knows which one to open.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in characters) of the problem.
        column: usize,
        /// The key involved, when known (e.g. `idle_refresh` for an unknown key).
        key: Option<String>,
        /// What is wrong and, where possible, how to fix it; already names the key.
        message: String,
    },
    /// The file parsed but a value breaks a rule (range, uniqueness, security).
    #[error("{}", invalid_display(account.as_deref(), message))]
    Invalid {
        /// Id of the account concerned; `None` for problems outside any account.
        account: Option<String>,
        /// The key in the file (public name, e.g. `idle_refresh_secs`). Outside any account
        /// it is the dotted path, e.g. `notifications.quiet_hours`, so keys that exist in
        /// more than one table (`open_command`) are unambiguous.
        key: String,
        /// What is wrong and how to fix it; already names the key.
        message: String,
    },
}

/// A new account's id that an existing account already has, ignoring case
/// ([`Config::check_new_id`]). The CLI and the settings window show [`IdTaken::message_in`];
/// `Display` is the same message in English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdTaken {
    /// The existing account's id, as the file spells it.
    pub existing: String,
}

impl IdTaken {
    /// The message in `i18n`'s language.
    pub fn message_in(&self, i18n: &I18n) -> String {
        i18n.tr_plain("account-id-taken", &[("existing", text(&self.existing))])
    }
}

impl fmt::Display for IdTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_in(I18n::english()))
    }
}

impl std::error::Error for IdTaken {}

fn invalid_display(account: Option<&str>, message: &str) -> String {
    match account {
        Some(id) => format!("account {}: {message}", file::quote_for_message(id, '`')),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic here is a failed test with a clear location.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::test_support::*;
    use super::*;

    #[test]
    fn an_id_is_derived_from_the_address_and_is_free() {
        let mut config = Config::default();
        assert_eq!(
            config.id_for_address("José.Maria", "example.com"),
            "jose-maria"
        );
        config.accounts.push(Account::new("ana", "h", "u"));
        assert_eq!(config.id_for_address("ana", "example.com"), "ana-2");
        config.accounts.push(Account::new("ana-2", "h", "u"));
        assert_eq!(config.id_for_address("ANA", "example.com"), "ana-3");
        // Nothing usable in the local part.
        assert_eq!(config.id_for_address("张伟", "163.com"), "account");
        let long = config.id_for_address(&"x".repeat(80), "example.com");
        assert_eq!(long.len(), 28, "{long}");
        for id in [
            config.id_for_address("ana", "example.com"),
            config.id_for_address("a+b@c", "d.e"),
            long,
        ] {
            let mut c = config.clone();
            c.accounts.push(Account::new(&id, "imap.example.com", "u"));
            c.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
        }
    }

    #[test]
    fn language_tags_are_bcp47_and_auto_has_none() {
        let tags: Vec<Option<&str>> = Language::ALL.iter().map(|l| l.tag()).collect();
        assert_eq!(
            tags,
            [
                None,
                Some("en"),
                Some("it"),
                Some("zh-TW"),
                Some("zh-CN"),
                Some("ar")
            ]
        );
        assert_eq!(Language::Auto.as_str(), "auto");
        assert_eq!(Language::ZhCn.to_string(), "zh-CN");
        assert_eq!(Preview::Sender.to_string(), "sender");
    }

    #[test]
    fn notification_knob_defaults_match_notifications_default() {
        for (knob, value) in Notifications::DEFAULT.values() {
            assert_eq!(value.file_value(), knob.default, "{}", knob.key);
            assert!(
                (knob.min..=knob.max).contains(&knob.default),
                "{}",
                knob.key
            );
        }
    }

    #[test]
    fn accounts_can_be_looked_up_by_id() {
        let config = config_of(vec![minimal_account("work"), minimal_account("home")]);
        assert_eq!(config.account("home").unwrap().id, "home");
        assert!(config.account("HOME").is_none());
        assert!(config.account("nope").is_none());
    }

    #[test]
    fn security_prints_as_written_in_the_file() {
        assert_eq!(Security::Tls.to_string(), "tls");
        assert_eq!(Security::Starttls.to_string(), "starttls");
        assert_eq!(Security::Plain.to_string(), "plain");
    }

    #[test]
    fn quiet_hours_contain_start_but_not_end_and_may_wrap_midnight() {
        let night = QuietHours {
            start: (22, 0),
            end: (7, 0),
        };
        let lunch = QuietHours {
            start: (12, 30),
            end: (13, 15),
        };
        let from_midnight = QuietHours {
            start: (0, 0),
            end: (6, 0),
        };
        let to_midnight = QuietHours {
            start: (20, 0),
            end: (0, 0),
        };
        let cases: [(&QuietHours, (u8, u8), bool); 20] = [
            (&night, (21, 59), false),
            (&night, (22, 0), true),
            (&night, (23, 59), true),
            (&night, (0, 0), true),
            (&night, (6, 59), true),
            (&night, (7, 0), false),
            (&night, (12, 0), false),
            (&lunch, (12, 29), false),
            (&lunch, (12, 30), true),
            (&lunch, (13, 14), true),
            (&lunch, (13, 15), false),
            (&lunch, (0, 0), false),
            (&from_midnight, (0, 0), true),
            (&from_midnight, (5, 59), true),
            (&from_midnight, (6, 0), false),
            (&from_midnight, (23, 59), false),
            (&to_midnight, (19, 59), false),
            (&to_midnight, (20, 0), true),
            (&to_midnight, (23, 59), true),
            (&to_midnight, (0, 0), false),
        ];
        for (quiet, (hour, minute), expected) in cases {
            assert_eq!(
                quiet.contains(hour, minute),
                expected,
                "{quiet:?} at {hour:02}:{minute:02}"
            );
        }
    }

    #[test]
    fn vip_matches_addresses_and_domains_ignoring_case() {
        let notifications = Notifications {
            vip: vec!["Boss@Example.com".to_owned(), "@family.example".to_owned()],
            ..Notifications::default()
        };
        let cases = [
            ("boss@example.com", true),
            ("BOSS@EXAMPLE.COM", true),
            (" boss@example.com ", true),
            ("other@example.com", false),
            ("boss@example.com.evil", false),
            ("xboss@example.com", false),
            ("mum@family.example", true),
            ("Dad@FAMILY.Example", true),
            ("kid@school.family.example", false),
            ("mum@family.example.org", false),
            ("family.example", false),
            ("@family.example", false),
            ("", false),
        ];
        for (address, expected) in cases {
            assert_eq!(notifications.is_vip(address), expected, "{address:?}");
        }
        assert!(!Notifications::default().is_vip("boss@example.com"));
    }

    #[test]
    fn same_connection_ignores_only_notification_settings() {
        type Change = fn(&mut Account);
        let cases: [(&str, Change, bool); 15] = [
            ("nothing", |_| {}, true),
            ("name", |a| a.name = "Other".to_owned(), true),
            (
                "email",
                |a| a.email = Some("x@example.com".to_owned()),
                true,
            ),
            ("mute", |a| a.mute = true, true),
            ("preview", |a| a.preview = Preview::Count, true),
            (
                "open",
                |a| a.open = OpenTarget::Url("https://x.example/".to_owned()),
                true,
            ),
            ("id", |a| a.id = "other".to_owned(), false),
            ("host", |a| a.host = "imap2.example.com".to_owned(), false),
            ("port", |a| a.port = 1993, false),
            ("security", |a| a.security = Security::Starttls, false),
            ("username", |a| a.username = "bob".to_owned(), false),
            (
                "password",
                |a| a.password = PasswordSource::Command(vec!["p".to_owned()]),
                false,
            ),
            (
                "ca_file",
                |a| a.ca_file = Some(PathBuf::from("/ca.pem")),
                false,
            ),
            ("folders", |a| a.folders.push("Sent".to_owned()), false),
            (
                "timing",
                |a| a.timing.poll_interval = Duration::from_secs(61),
                false,
            ),
        ];
        let base = minimal_account("work");
        for (what, change, same) in cases {
            let mut other = base.clone();
            change(&mut other);
            assert_eq!(base.same_connection(&other), same, "changed {what}");
            assert_eq!(
                other.same_connection(&base),
                same,
                "changed {what} (reversed)"
            );
        }
        let mut disabled = base.clone();
        disabled.enabled = false;
        assert!(!base.same_connection(&disabled));
    }

    #[test]
    fn knob_defaults_match_timing_default() {
        let account = minimal_account("a");
        for (knob, value) in account.timing.values() {
            assert_eq!(value.file_value(), knob.default, "{}", knob.key);
            assert!(
                (knob.min..=knob.max).contains(&knob.default),
                "{}",
                knob.key
            );
        }
    }
}
