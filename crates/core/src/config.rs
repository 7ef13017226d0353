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

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

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

    /// All timing knobs in file order, for code that treats them uniformly (validation, the
    /// writer, the settings UI).
    pub const KNOBS: [Knob; 11] = [
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
    };

    /// Each knob with its current value, in [`Timing::KNOBS`] order.
    fn values(&self) -> [(Knob, KnobValue); 11] {
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
    /// IMAP server name or IP address, without port or scheme.
    pub host: String,
    /// TCP port; the file may omit it, then it is [`Security::default_port`].
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

    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use proptest::prelude::*;

    /// Absolute directory that stands in for the config file's directory.
    const BASE: &str = "/home/ana/.config/pushmail";

    fn base() -> &'static Path {
        Path::new(BASE)
    }

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str(text, base())
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Every setting away from its default, so a round trip exercises every key.
    fn full_account() -> Account {
        Account {
            id: "work".to_owned(),
            name: "Work \"mail\" \\ ünïcode ✉".to_owned(),
            email: Some("ana@example.com".to_owned()),
            host: "imap.example.com".to_owned(),
            port: 1143,
            security: Security::Starttls,
            username: "ana".to_owned(),
            password: PasswordSource::Command(vec![
                "pass".to_owned(),
                "show".to_owned(),
                "mail/work\ttab \"quoted\"\n".to_owned(),
            ]),
            ca_file: Some(PathBuf::from("/etc/ssl/private-ca.pem")),
            folders: vec!["INBOX".to_owned(), "Lists/Rust".to_owned()],
            enabled: false,
            timing: Timing {
                idle_refresh: Duration::from_secs(1740),
                dead_after: Duration::from_secs(120),
                poll_interval: Duration::from_secs(30),
                backoff_min: Duration::from_secs(2),
                backoff_max: Duration::from_secs(600),
                connect_timeout: Duration::from_secs(5),
                command_timeout: Duration::from_secs(10),
                done_timeout: Duration::from_secs(3),
                max_logins_per_minute: 2,
                throttle_backoff: Duration::from_secs(120),
                max_connections: 3,
            },
            mute: true,
            preview: Preview::Sender,
            open: OpenTarget::Command(vec![
                "thunderbird".to_owned(),
                "-P".to_owned(),
                "work \"profile\"".to_owned(),
            ]),
        }
    }

    /// An account that opens webmail (`open_url` excludes `open_command`, so `full_account`
    /// cannot have both).
    fn webmail_account() -> Account {
        Account {
            preview: Preview::Count,
            open: OpenTarget::Url("https://mail.example.com/?folder=INBOX#top".to_owned()),
            ..Account::new("web", "imap.example.com", "ana")
        }
    }

    fn full_general() -> General {
        General {
            language: Language::ZhTw,
            open_command: Some(vec!["evolution".to_owned(), "--component=mail".to_owned()]),
        }
    }

    fn full_notifications() -> Notifications {
        Notifications {
            enabled: false,
            quiet_hours: Some(QuietHours {
                start: (22, 30),
                end: (7, 5),
            }),
            vip: vec!["Boss@Example.com".to_owned(), "@family.example".to_owned()],
            summary_threshold: 100,
            summary_window: Duration::from_secs(1),
            notify_timeout: Duration::from_secs(60),
            history_size: 0,
        }
    }

    /// Every setting of every section away from its default.
    fn full_config() -> Config {
        Config {
            accounts: vec![full_account(), webmail_account(), minimal_account("home")],
            general: full_general(),
            notifications: full_notifications(),
        }
    }

    fn minimal_account(id: &str) -> Account {
        Account::new(id, "imap.example.com", "ana")
    }

    fn config_of(accounts: Vec<Account>) -> Config {
        Config {
            accounts,
            ..Config::default()
        }
    }

    /// The `Invalid` error of `config`, or a panic naming what came instead.
    fn invalid_of(config: Config) -> (Option<String>, String, String) {
        match config.validate() {
            Err(err @ ConfigError::Invalid { .. }) => {
                let shown = err.to_string();
                let ConfigError::Invalid { account, key, .. } = err else {
                    unreachable!()
                };
                (account, key, shown)
            }
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    /// The `Invalid` error for `account`, or a panic naming what came instead.
    fn invalid_key(account: Account) -> (String, String) {
        match config_of(vec![account]).validate() {
            Err(ConfigError::Invalid { key, message, .. }) => (key, message),
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    fn parse_error(text: &str) -> (usize, Option<String>, String) {
        match parse(text) {
            Err(err @ ConfigError::Parse { .. }) => {
                let shown = err.to_string();
                let ConfigError::Parse { line, key, .. } = err else {
                    unreachable!()
                };
                (line, key, shown)
            }
            other => panic!("expected a Parse error, got {other:?}"),
        }
    }

    // --- round trip and defaults ----------------------------------------------------------

    #[test]
    fn every_setting_survives_a_round_trip() {
        let config = full_config();
        config.validate().unwrap();
        let text = config.to_toml_string();
        assert_eq!(parse(&text).unwrap(), config, "file was:\n{text}");
    }

    #[test]
    fn every_language_survives_a_round_trip() {
        for language in Language::ALL {
            let config = Config {
                general: General {
                    language,
                    open_command: None,
                },
                ..Config::default()
            };
            let text = config.to_toml_string();
            assert_eq!(parse(&text).unwrap(), config, "file was:\n{text}");
            let line = format!("language = \"{language}\"");
            assert_eq!(text.contains(&line), language != Language::Auto, "{text}");
        }
        for preview in Preview::ALL {
            let account = Account {
                preview,
                ..minimal_account("a")
            };
            let config = config_of(vec![account]);
            assert_eq!(parse(&config.to_toml_string()).unwrap(), config);
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
    fn omitted_sections_and_keys_get_their_defaults() {
        let config = parse(VALID_ACCOUNT).unwrap();
        assert_eq!(config.general, General::default());
        assert_eq!(config.general.language, Language::Auto);
        assert_eq!(config.general.open_command, None);
        let n = &config.notifications;
        assert_eq!(n, &Notifications::default());
        assert!(n.enabled);
        assert_eq!(n.quiet_hours, None);
        assert!(n.vip.is_empty());
        assert_eq!(n.summary_threshold, 3);
        assert_eq!(n.summary_window, Duration::from_secs(10));
        assert_eq!(n.notify_timeout, Duration::from_secs(5));
        assert_eq!(n.history_size, 50);
        let account = &config.accounts[0];
        assert!(!account.mute);
        assert_eq!(account.preview, Preview::Full);
        assert_eq!(account.open, OpenTarget::Default);

        // Empty section headers mean the same as no sections.
        let with_headers = format!("[general]\n[notifications]\n{VALID_ACCOUNT}");
        assert_eq!(parse(&with_headers).unwrap(), config);
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
    fn sections_are_written_first_and_only_with_non_default_keys() {
        let mut config = config_of(vec![minimal_account("work")]);
        config.notifications.summary_threshold = 5;
        let text = config.to_toml_string();
        let settings: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect();
        assert_eq!(
            settings,
            [
                "[notifications]",
                "summary_threshold = 5",
                "[[accounts]]",
                "id = \"work\"",
                "host = \"imap.example.com\"",
                "username = \"ana\""
            ]
        );
        let text = full_config().to_toml_string();
        assert!(
            text.contains("\n[general]\nlanguage = \"zh-TW\"\n"),
            "{text}"
        );
        assert!(
            text.contains("quiet_hours = [\"22:30\", \"07:05\"]\n"),
            "{text}"
        );
    }

    #[test]
    fn a_minimal_account_gets_every_default() {
        let config =
            parse("[[accounts]]\nid = \"work\"\nhost = \"imap.example.com\"\nusername = \"ana\"\n")
                .unwrap();
        let account = config.account("work").unwrap();
        assert_eq!(account, &minimal_account("work"));
        assert_eq!(account.name, "work");
        assert_eq!(account.port, 993);
        assert_eq!(account.security, Security::Tls);
        assert_eq!(account.password, PasswordSource::Keyring);
        assert_eq!(account.folders, vec!["INBOX".to_owned()]);
        assert!(account.enabled);
        assert_eq!(account.timing, Timing::default());
        assert_eq!(account.timing.idle_refresh, Duration::from_secs(600));
        assert_eq!(account.timing.dead_after, Duration::from_secs(300));
        assert_eq!(account.timing.poll_interval, Duration::from_secs(60));
        assert_eq!(account.timing.backoff_min, Duration::from_secs(1));
        assert_eq!(account.timing.backoff_max, Duration::from_secs(300));
        assert_eq!(account.timing.connect_timeout, Duration::from_secs(15));
        assert_eq!(account.timing.command_timeout, Duration::from_secs(30));
        assert_eq!(account.timing.done_timeout, Duration::from_secs(15));
        assert_eq!(account.timing.max_logins_per_minute, 6);
        assert_eq!(account.timing.throttle_backoff, Duration::from_secs(60));
    }

    #[test]
    fn the_default_port_follows_security() {
        let text = "[[accounts]]\nid = \"a\"\nhost = \"imap.example.com\"\nusername = \"u\"\n\
                    security = \"starttls\"\n\
                    [[accounts]]\nid = \"b\"\nhost = \"127.0.0.1\"\nusername = \"u\"\n\
                    security = \"plain\"\n";
        let config = parse(text).unwrap();
        assert_eq!(config.accounts[0].port, 143);
        assert_eq!(config.accounts[1].port, 143);
        assert_eq!(Security::Tls.default_port(), 993);
    }

    #[test]
    fn values_equal_to_defaults_are_not_written() {
        let text = config_of(vec![minimal_account("work")]).to_toml_string();
        let settings: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .collect();
        assert_eq!(
            settings,
            [
                "[[accounts]]",
                "id = \"work\"",
                "host = \"imap.example.com\"",
                "username = \"ana\""
            ]
        );
    }

    #[test]
    fn the_writer_uses_the_public_key_names() {
        let text = full_config().to_toml_string();
        for key in file::ACCOUNT_KEYS
            .iter()
            .chain(file::GENERAL_KEYS.iter())
            .chain(file::NOTIFICATION_KEYS.iter())
            .copied()
            .chain(Timing::KNOBS.iter().map(|knob| knob.key))
            .chain(Notifications::KNOBS.iter().map(|knob| knob.key))
        {
            assert!(
                text.lines()
                    .any(|line| line.starts_with(&format!("{key} = "))),
                "`{key}` missing from:\n{text}"
            );
        }
        assert!(text.contains("security = \"starttls\""));
        assert!(text.contains("password_command = [\"pass\", \"show\", "));
    }

    #[test]
    fn every_documented_key_is_accepted() {
        // Guards ACCOUNT_KEYS/ROOT_KEYS (used for "unknown key" messages) against the serde
        // structs.
        let text = full_config().to_toml_string();
        assert!(parse(&text).is_ok());
        for section in file::ROOT_KEYS {
            assert!(
                text.lines()
                    .any(|line| line.trim_matches(['[', ']']) == section),
                "[{section}] missing from:\n{text}"
            );
        }
    }

    #[test]
    fn an_empty_or_comment_only_file_has_no_accounts() {
        assert_eq!(parse("").unwrap(), Config::default());
        assert_eq!(parse("# nothing yet\n").unwrap(), Config::default());
        assert_eq!(
            parse(&Config::default().to_toml_string()).unwrap(),
            Config::default()
        );
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
    fn the_examples_in_the_documentation_are_valid() {
        // Read at run time rather than include_str!, so packaging the crate alone still builds.
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let Ok(doc) = fs::read_to_string(&doc) else {
            return;
        };
        let blocks: Vec<&str> = doc
            .split("```toml\n")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .collect();
        assert_eq!(
            blocks.len(),
            3,
            "expected full, minimal and all-defaults examples"
        );
        let configs: Vec<Config> = blocks
            .iter()
            .map(|block| parse(block).unwrap_or_else(|err| panic!("{err}\n{block}")))
            .collect();
        assert_eq!(configs[0].accounts.len(), 3);
        assert_ne!(configs[0].general, General::default());
        assert_ne!(configs[0].notifications, Notifications::default());
        assert_eq!(
            configs[1], configs[2],
            "the defaults written out must mean the same"
        );
        assert_eq!(configs[1].accounts[0], minimal_account("work"));
    }

    // --- relative ca_file ------------------------------------------------------------------

    #[test]
    fn a_relative_ca_file_is_resolved_against_the_config_directory() {
        let text = "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
                    ca_file = \"certs/ca.pem\"\n";
        let account = &parse(text).unwrap().accounts[0];
        assert_eq!(
            account.ca_file.as_deref(),
            Some(Path::new("/home/ana/.config/pushmail/certs/ca.pem"))
        );

        let absolute = text.replace("certs/ca.pem", "/etc/ssl/ca.pem");
        let account = &parse(&absolute).unwrap().accounts[0];
        assert_eq!(
            account.ca_file.as_deref(),
            Some(Path::new("/etc/ssl/ca.pem"))
        );
    }

    #[test]
    fn load_resolves_ca_file_next_to_the_file_it_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("custom.toml");
        fs::write(
            &path,
            "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
             ca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.accounts[0].ca_file.as_deref(),
            Some(dir.path().join("ca.pem").as_path())
        );
    }

    #[test]
    fn ca_file_with_a_tilde_or_empty_is_refused() {
        let text = "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
                    ca_file = \"~/ca.pem\"\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key, .. } if key == "ca_file"));
        assert!(err.to_string().contains("not expanded"), "{err}");
        let err = parse(&text.replace("~/ca.pem", "")).unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key, .. } if key == "ca_file"));
    }

    // --- validation rules ------------------------------------------------------------------

    #[test]
    fn a_valid_config_passes() {
        full_config().validate().unwrap();
        Config::default().validate().unwrap();
    }

    // --- [general] and [notifications] -----------------------------------------------------

    #[test]
    fn general_open_command_must_name_a_program() {
        let cases: [Vec<&str>; 3] = [vec![], vec![" "], vec!["thunderbird", "a\0b"]];
        for argv in cases {
            let mut config = Config::default();
            config.general.open_command = Some(argv.iter().map(|a| (*a).to_owned()).collect());
            let (account, key, shown) = invalid_of(config);
            assert_eq!(account, None);
            assert_eq!(key, "general.open_command", "{argv:?}");
            assert!(shown.starts_with("[general] `open_command`"), "{shown}");
        }
        let err = parse("[general]\nopen_command = []\n").unwrap_err();
        assert!(err.to_string().contains("default mail client"), "{err}");
    }

    fn with_notifications(change: impl FnOnce(&mut Notifications)) -> Config {
        let mut config = Config::default();
        change(&mut config.notifications);
        config
    }

    #[test]
    fn quiet_hours_must_be_two_different_times_of_day() {
        let cases = [
            ((22, 0), (22, 0), "starts and ends at 22:00"),
            ((24, 0), (7, 0), "\"24:00\", which is not a time"),
            ((22, 0), (7, 60), "\"07:60\", which is not a time"),
        ];
        for (start, end, hint) in cases {
            let config = with_notifications(|n| n.quiet_hours = Some(QuietHours { start, end }));
            let (account, key, shown) = invalid_of(config);
            assert_eq!((account, key.as_str()), (None, "notifications.quiet_hours"));
            assert!(
                shown.starts_with("[notifications] `quiet_hours`"),
                "{shown}"
            );
            assert!(shown.contains(hint), "{shown}");
        }
        for (start, end) in [((0, 0), (23, 59)), ((23, 59), (0, 0)), ((7, 0), (6, 59))] {
            with_notifications(|n| n.quiet_hours = Some(QuietHours { start, end }))
                .validate()
                .unwrap();
        }
    }

    #[test]
    fn quiet_hours_that_are_not_hh_mm_name_line_and_key() {
        for bad in [
            "[\"22:00\"]",
            "[\"22:00\", \"7:00\"]",
            "[\"22:00\", \"07:00\", \"08:00\"]",
            "[\"10pm\", \"07:00\"]",
            "[\"22:00\", \"07:00:00\"]",
            "[\"+1:00\", \"07:00\"]",
        ] {
            let (line, key, shown) =
                parse_error(&format!("[notifications]\nquiet_hours = {bad}\n"));
            assert_eq!((line, key.as_deref()), (2, Some("quiet_hours")), "{bad}");
            assert!(shown.contains("24-hour HH:MM"), "{shown}");
        }
        let (line, key, shown) = parse_error("[notifications]\n\nquiet_hours = [22, 7]\n");
        assert_eq!((line, key.as_deref()), (3, Some("quiet_hours")));
        assert!(shown.contains("e.g. [\"22:00\", \"07:00\"]"), "{shown}");
        // Out-of-range values have the right shape, so validation reports them.
        let err = parse("[notifications]\nquiet_hours = [\"25:00\", \"07:00\"]\n").unwrap_err();
        assert!(
            matches!(&err, ConfigError::Invalid { key, .. } if key == "notifications.quiet_hours"),
            "{err:?}"
        );
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
    fn vip_entries_must_be_addresses_or_domains_listed_once() {
        let cases = [
            ("", "neither an address nor a domain"),
            ("boss", "neither an address nor a domain"),
            ("@", "neither an address nor a domain"),
            ("@a@b", "neither an address nor a domain"),
            ("boss @example.com", "neither an address nor a domain"),
            ("@family .example", "neither an address nor a domain"),
            ("BOSS@example.com", "twice"),
        ];
        for (bad, hint) in cases {
            let config = with_notifications(|n| {
                n.vip = vec!["boss@example.com".to_owned(), bad.to_owned()];
            });
            let (account, key, shown) = invalid_of(config);
            assert_eq!(
                (account, key.as_str()),
                (None, "notifications.vip"),
                "{bad:?}"
            );
            assert!(shown.contains(hint), "{bad:?}: {shown}");
        }
    }

    /// Sets one notification knob (by file key) to `value` seconds or count.
    fn with_notification_knob(key: &str, value: u64) -> Config {
        with_notifications(|n| {
            let count = u32::try_from(value).unwrap_or(u32::MAX);
            match key {
                "summary_threshold" => n.summary_threshold = count,
                "summary_window_secs" => n.summary_window = Duration::from_secs(value),
                "notify_timeout_secs" => n.notify_timeout = Duration::from_secs(value),
                "history_size" => n.history_size = count,
                other => panic!("unknown knob {other}"),
            }
        })
    }

    #[test]
    fn every_notification_knob_is_range_checked() {
        for knob in Notifications::KNOBS {
            for good in [knob.min, knob.default, knob.max] {
                let result = with_notification_knob(knob.key, good).validate();
                assert!(result.is_ok(), "{} = {good}: {result:?}", knob.key);
            }
            let too_small = knob.min.checked_sub(1);
            for bad in too_small.into_iter().chain([knob.max + 1]) {
                let (account, key, shown) = invalid_of(with_notification_knob(knob.key, bad));
                assert_eq!(account, None);
                assert_eq!(key, format!("notifications.{}", knob.key));
                assert!(shown.starts_with("[notifications] "), "{shown}");
                assert!(shown.contains("out of range"), "{shown}");
            }
        }
        let mut config = Config::default();
        config.notifications.summary_window = Duration::from_millis(2500);
        assert_eq!(invalid_of(config).1, "notifications.summary_window_secs");
        // From a file the key and the section are named too.
        let err = parse("[notifications]\nsummary_threshold = 0\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "[notifications] `summary_threshold = 0` is out of range; use 1 to 100, or remove \
             the key for the default (3)"
        );
    }

    // --- per-account notification settings ------------------------------------------------

    #[test]
    fn open_url_must_be_a_web_address() {
        for bad in [
            "",
            "mail.example.com",
            "file:///etc/passwd",
            "javascript://alert(1)",
            "https://",
            "https:///path",
            "https://mail.example.com/a b",
        ] {
            let mut account = minimal_account("a");
            account.open = OpenTarget::Url(bad.to_owned());
            assert_eq!(invalid_key(account).0, "open_url", "{bad:?} accepted");
        }
        for good in [
            "https://mail.example.com/",
            "HTTP://localhost:8080",
            "https://mail.example.com?x=1",
        ] {
            let mut account = minimal_account("a");
            account.open = OpenTarget::Url(good.to_owned());
            config_of(vec![account]).validate().unwrap();
        }
    }

    #[test]
    fn account_open_command_must_name_a_program() {
        let mut account = minimal_account("a");
        account.open = OpenTarget::Command(Vec::new());
        let (key, message) = invalid_key(account);
        assert_eq!(key, "open_command");
        assert!(message.contains("default mail client"), "{message}");
    }

    #[test]
    fn open_url_and_open_command_are_mutually_exclusive() {
        let text = format!(
            "{VALID_ACCOUNT}open_url = \"https://mail.example.com/\"\nopen_command = [\"x\"]\n"
        );
        let err = parse(&text).unwrap_err();
        match &err {
            ConfigError::Invalid { account, key, .. } => {
                assert_eq!(account.as_deref(), Some("work"));
                assert_eq!(key, "open_url");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("account `work`: `open_url` and `open_command`")
        );
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
    fn a_bad_language_or_preview_names_line_and_key() {
        let (line, key, shown) = parse_error("[general]\nlanguage = \"fr\"\n");
        assert_eq!((line, key.as_deref()), (2, Some("language")));
        assert!(
            shown.contains(
                "one of \"auto\", \"en\", \"it\", \"zh-TW\", \"zh-CN\", \"ar\", not `\"fr\"`"
            ),
            "{shown}"
        );
        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}preview = \"none\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("preview")));
        assert!(
            shown.contains("\"full\", \"sender\" or \"count\""),
            "{shown}"
        );
        let (line, key, shown) = parse_error("[notifications]\nhistory_size = -1\n");
        assert_eq!((line, key.as_deref()), (2, Some("history_size")));
        assert!(shown.contains("from 0 to 1000"), "{shown}");
    }

    #[test]
    fn ids_must_be_short_and_plain() {
        for bad in ["", "my work", "wörk", "a.b", &"x".repeat(33)] {
            let mut account = minimal_account("x");
            account.id = bad.to_owned();
            assert_eq!(invalid_key(account).0, "id", "{bad:?} accepted");
        }
        for good in ["a", "Work_2-b", &"x".repeat(32)] {
            config_of(vec![minimal_account(good)]).validate().unwrap();
        }
    }

    #[test]
    fn ids_must_be_unique_ignoring_case() {
        let err = config_of(vec![minimal_account("work"), minimal_account("Work")])
            .validate()
            .unwrap_err();
        match &err {
            ConfigError::Invalid { account, key, .. } => {
                assert_eq!(account.as_deref(), Some("Work"));
                assert_eq!(key, "id");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("account `Work`: `id = \"Work\"` is used by more")
        );
    }

    #[test]
    fn name_email_and_username_must_be_usable() {
        let mut account = minimal_account("a");
        account.name = "  ".to_owned();
        assert_eq!(invalid_key(account).0, "name");

        let mut account = minimal_account("a");
        account.name = "two\nlines".to_owned();
        assert_eq!(invalid_key(account).0, "name");

        for bad in ["ana", "@example.com", "ana@", "ana @example.com"] {
            let mut account = minimal_account("a");
            account.email = Some(bad.to_owned());
            assert_eq!(invalid_key(account).0, "email", "{bad:?} accepted");
        }

        let mut account = minimal_account("a");
        account.username = String::new();
        assert_eq!(invalid_key(account).0, "username");

        let mut account = minimal_account("a");
        account.username = "ana\r\nA1 LOGOUT".to_owned();
        assert_eq!(invalid_key(account).0, "username");
    }

    #[test]
    fn host_must_be_a_bare_server_name() {
        let cases = [
            ("", "is empty"),
            ("imaps://imap.example.com", "is a URL"),
            ("imap.example.com:993", "`port = 993`"),
            ("[::1]", "without brackets"),
            ("imap example.com", "not a server name"),
            ("imap.example.com/inbox", "not a server name"),
        ];
        for (host, hint) in cases {
            let mut account = minimal_account("a");
            account.host = host.to_owned();
            let (key, message) = invalid_key(account);
            assert_eq!(key, "host", "{host:?}");
            assert!(message.contains(hint), "{host:?}: {message}");
        }
        for good in [
            "imap.example.com",
            "127.0.0.1",
            "::1",
            "2001:db8::1",
            "mail",
            "mail.",
        ] {
            let mut account = minimal_account("a");
            account.host = good.to_owned();
            config_of(vec![account]).validate().unwrap();
        }
    }

    #[test]
    fn port_zero_is_refused() {
        let mut account = minimal_account("a");
        account.port = 0;
        assert_eq!(invalid_key(account).0, "port");
    }

    #[test]
    fn plain_is_only_allowed_on_loopback() {
        for host in ["localhost", "LocalHost.", "127.0.0.1", "127.1.2.3", "::1"] {
            let mut account = minimal_account("a");
            account.host = host.to_owned();
            account.security = Security::Plain;
            account.port = 143;
            config_of(vec![account]).validate().unwrap();
        }
        for host in [
            "imap.example.com",
            "192.168.1.10",
            "::2",
            "localhost.example.com",
        ] {
            let mut account = minimal_account("work");
            account.host = host.to_owned();
            account.security = Security::Plain;
            let err = config_of(vec![account]).validate().unwrap_err();
            assert_eq!(
                err.to_string(),
                "account `work`: `security = \"plain\"` sends the password unencrypted and is \
                 only allowed for a loopback host (127.0.0.1, ::1, localhost); use `tls` or \
                 `starttls`",
                "{host}"
            );
        }
    }

    #[test]
    fn plain_on_a_remote_host_is_refused_when_loading_a_file() {
        let text = "[[accounts]]\nid = \"work\"\nhost = \"imap.example.com\"\n\
                    username = \"u\"\nsecurity = \"plain\"\n";
        assert!(matches!(
            parse(text),
            Err(ConfigError::Invalid { account: Some(id), key, .. }) if id == "work" && key == "security"
        ));
    }

    #[test]
    fn password_command_must_name_a_program() {
        let cases: [Vec<&str>; 3] = [vec![], vec![""], vec!["pass", "show\0x"]];
        for argv in cases {
            let mut account = minimal_account("a");
            account.password =
                PasswordSource::Command(argv.iter().map(|arg| (*arg).to_owned()).collect());
            assert_eq!(invalid_key(account).0, "password_command", "{argv:?}");
        }
        let text = "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
                    password_command = []\n";
        let err = parse(text).unwrap_err();
        assert!(
            err.to_string()
                .contains("remove the key to use the OS keyring"),
            "{err}"
        );
    }

    #[test]
    fn ca_file_must_be_storable() {
        use std::os::unix::ffi::OsStrExt;
        let mut account = minimal_account("a");
        account.ca_file = Some(PathBuf::from(std::ffi::OsStr::from_bytes(b"/etc/\xff.pem")));
        assert_eq!(invalid_key(account).0, "ca_file");
        let mut account = minimal_account("a");
        account.ca_file = Some(PathBuf::new());
        assert_eq!(invalid_key(account).0, "ca_file");
    }

    #[test]
    fn folders_must_be_a_non_empty_list_without_duplicates() {
        let cases: [(&[&str], &str); 4] = [
            (&[], "is empty"),
            (&["INBOX", ""], "empty folder name"),
            (&["INBOX", "Lists", "Lists"], "twice"),
            (&["INBOX", "inbox"], "twice"),
        ];
        for (folders, hint) in cases {
            let mut account = minimal_account("a");
            account.folders = folders.iter().map(|f| (*f).to_owned()).collect();
            let (key, message) = invalid_key(account);
            assert_eq!(key, "folders");
            assert!(message.contains(hint), "{folders:?}: {message}");
        }
        // Only INBOX is case-insensitive in IMAP.
        let mut account = minimal_account("a");
        account.folders = vec!["Lists".to_owned(), "lists".to_owned()];
        config_of(vec![account]).validate().unwrap();
    }

    /// Sets one knob (by file key) to `value` seconds or count.
    fn with_knob(key: &str, value: u64) -> Account {
        let mut account = minimal_account("a");
        let t = &mut account.timing;
        let secs = Duration::from_secs(value);
        match key {
            "idle_refresh_secs" => t.idle_refresh = secs,
            "dead_after_secs" => t.dead_after = secs,
            "poll_interval_secs" => t.poll_interval = secs,
            "backoff_min_secs" => t.backoff_min = secs,
            "backoff_max_secs" => {
                t.backoff_max = secs;
                // Keep min <= max where possible, but never below its own range.
                t.backoff_min = secs.clamp(Duration::from_secs(1), t.backoff_min);
            }
            "connect_timeout_secs" => t.connect_timeout = secs,
            "command_timeout_secs" => t.command_timeout = secs,
            "done_timeout_secs" => t.done_timeout = secs,
            "max_logins_per_minute" => {
                t.max_logins_per_minute = u32::try_from(value).unwrap_or(u32::MAX);
            }
            "throttle_backoff_secs" => t.throttle_backoff = secs,
            "max_connections" => {
                t.max_connections = u32::try_from(value).unwrap_or(u32::MAX);
            }
            other => panic!("unknown knob {other}"),
        }
        if key == "backoff_min_secs" {
            t.backoff_max = t.backoff_max.max(secs);
        }
        account
    }

    #[test]
    fn every_timing_knob_is_range_checked() {
        for knob in Timing::KNOBS {
            for good in [knob.min, knob.default, knob.max] {
                let result = config_of(vec![with_knob(knob.key, good)]).validate();
                assert!(result.is_ok(), "{} = {good}: {result:?}", knob.key);
            }
            for bad in [knob.min - 1, knob.max + 1] {
                let (key, message) = invalid_key(with_knob(knob.key, bad));
                assert_eq!(key, knob.key);
                assert!(message.contains("out of range"), "{message}");
            }
        }
        assert_eq!(Timing::IDLE_REFRESH.max, 29 * 60);
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

    #[test]
    fn idle_refresh_above_29_minutes_is_refused_from_a_file() {
        let text = "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
                    idle_refresh_secs = 1741\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key, .. } if key == "idle_refresh_secs"));
        assert!(err.to_string().contains("RFC 2177"), "{err}");
    }

    #[test]
    fn backoff_min_may_not_exceed_backoff_max() {
        let mut account = minimal_account("a");
        account.timing.backoff_min = Duration::from_secs(400);
        account.timing.backoff_max = Duration::from_secs(300);
        assert_eq!(invalid_key(account).0, "backoff_min_secs");
    }

    #[test]
    fn durations_must_be_whole_seconds() {
        let mut account = minimal_account("a");
        account.timing.command_timeout = Duration::from_millis(1500);
        assert_eq!(invalid_key(account).0, "command_timeout_secs");
    }

    // --- parse errors name the line and the key ------------------------------------------

    const VALID_ACCOUNT: &str = "[[accounts]]\n\
                                 id = \"work\"\n\
                                 host = \"imap.example.com\"\n\
                                 username = \"ana\"\n";

    #[test]
    fn an_unknown_key_in_an_account_names_line_and_key() {
        // Line 7 (two comment lines, then the account).
        let text = format!("# mine\n# really\n{VALID_ACCOUNT}idle_refresh = 600\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/home/ana/.config/pushmail/config.toml line 7: unknown key `idle_refresh` in \
             [[accounts]] — did you mean `idle_refresh_secs`?"
        );
        match err {
            ConfigError::Parse {
                line, column, key, ..
            } => {
                assert_eq!((line, column), (7, 1));
                assert_eq!(key.as_deref(), Some("idle_refresh"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_key_at_the_root_names_line_and_key() {
        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}\n[notify]\nx = 1\n"));
        assert_eq!((line, key.as_deref()), (6, Some("notify")));
        assert!(
            shown.contains("unknown key `notify` at the top level"),
            "{shown}"
        );

        let (line, key, shown) = parse_error(&format!("acounts = []\n{VALID_ACCOUNT}"));
        assert_eq!((line, key.as_deref()), (1, Some("acounts")));
        assert!(shown.ends_with("did you mean `accounts`?"), "{shown}");
    }

    #[test]
    fn an_unknown_key_in_notifications_names_line_and_key() {
        let text =
            format!("[notifications]\nenabled = true\nsumary_threshold = 5\n{VALID_ACCOUNT}");
        let err = parse(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/home/ana/.config/pushmail/config.toml line 3: unknown key `sumary_threshold` in \
             [notifications] — did you mean `summary_threshold`?"
        );
        assert!(matches!(
            err,
            ConfigError::Parse { line: 3, column: 1, key: Some(key), .. } if key == "sumary_threshold"
        ));
        for (typo, suggestion) in [
            ("quiet", "quiet_hours"),
            ("vips", "vip"),
            ("summary_window", "summary_window_secs"),
            ("notify_timeout", "notify_timeout_secs"),
            ("history", "history_size"),
        ] {
            let (line, key, shown) = parse_error(&format!("[notifications]\n{typo} = 1\n"));
            assert_eq!((line, key.as_deref()), (2, Some(typo)));
            assert!(
                shown.ends_with(&format!(
                    "in [notifications] — did you mean `{suggestion}`?"
                )),
                "{shown}"
            );
        }
    }

    #[test]
    fn unknown_keys_in_general_and_new_account_keys_get_suggestions() {
        let (line, key, shown) = parse_error("\n[general]\nlocale = \"en\"\n");
        assert_eq!((line, key.as_deref()), (3, Some("locale")));
        assert!(
            shown.ends_with("in [general] — did you mean `language`?"),
            "{shown}"
        );
        for (typo, suggestion) in [
            ("muted", "mute"),
            ("webmail", "open_url"),
            ("open_cmd", "open_command"),
            ("previews", "preview"),
        ] {
            let (_, _, shown) = parse_error(&format!("{VALID_ACCOUNT}{typo} = 1\n"));
            assert!(
                shown.ends_with(&format!("did you mean `{suggestion}`?")),
                "{shown}"
            );
        }
        let (_, _, shown) = parse_error("[general]\ncolour = 1\n");
        assert!(
            shown.contains("in [general] — see docs/configuration.md"),
            "{shown}"
        );
    }

    #[test]
    fn section_keys_at_the_top_level_are_explained() {
        let (line, key, shown) = parse_error(&format!("language = \"en\"\n{VALID_ACCOUNT}"));
        assert_eq!((line, key.as_deref()), (1, Some("language")));
        assert!(
            shown.contains("it belongs in the [general] section"),
            "{shown}"
        );
        let (_, _, shown) = parse_error(&format!("quiet_hours = []\n{VALID_ACCOUNT}"));
        assert!(shown.contains("in the [notifications] section"), "{shown}");
        let (_, _, shown) = parse_error(&format!("enabled = true\n{VALID_ACCOUNT}"));
        assert!(
            shown.contains("in the [notifications] or [[accounts]] section"),
            "{shown}"
        );
        let (_, _, shown) = parse_error("notification = 1\n");
        assert!(shown.ends_with("did you mean `notifications`?"), "{shown}");
        let (_, _, shown) = parse_error("general = 1\n");
        assert!(
            shown.contains("a line [general] followed by its keys"),
            "{shown}"
        );
    }

    #[test]
    fn account_keys_above_the_first_account_are_explained() {
        let (line, key, shown) = parse_error(&format!("host = \"x\"\n{VALID_ACCOUNT}"));
        assert_eq!((line, key.as_deref()), (1, Some("host")));
        assert!(shown.contains("below an [[accounts]] line"), "{shown}");
    }

    #[test]
    fn a_password_key_explains_where_passwords_live() {
        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}password = \"hunter2\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("password")));
        assert!(
            shown.contains("OS keyring") && shown.contains("password_command"),
            "{shown}"
        );
        assert!(
            !shown.contains("hunter2"),
            "the value must not be echoed: {shown}"
        );
    }

    #[test]
    fn typos_get_suggestions() {
        for (typo, suggestion) in [
            ("pasword_command", "password_command"),
            ("user", "username"),
            ("folder", "folders"),
            ("backoff_max", "backoff_max_secs"),
            ("tls", "security"),
        ] {
            let (_, _, shown) = parse_error(&format!("{VALID_ACCOUNT}{typo} = 1\n"));
            assert!(
                shown.ends_with(&format!("did you mean `{suggestion}`?")),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_type_error_names_line_and_key() {
        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}port = \"x\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("port")));
        assert!(
            shown.ends_with(
                "line 5: `port` must be a whole number from 1 to 65535, e.g. 993, not `\"x\"`"
            ),
            "{shown}"
        );

        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}security = \"ssl\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("security")));
        assert!(
            shown.contains("one of \"tls\", \"starttls\" or \"plain\""),
            "{shown}"
        );

        let (line, key, _) = parse_error(&format!("{VALID_ACCOUNT}folders = [\"INBOX\",\n  3]\n"));
        assert_eq!((line, key.as_deref()), (6, Some("folders")));

        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}dead_after_secs = -5\n"));
        assert_eq!((line, key.as_deref()), (5, Some("dead_after_secs")));
        assert!(shown.contains("from 1 to 3600 seconds"), "{shown}");

        let (_, key, _) = parse_error(&format!("{VALID_ACCOUNT}password_command = \"pass x\"\n"));
        assert_eq!(key.as_deref(), Some("password_command"));
    }

    #[test]
    fn single_brackets_for_accounts_are_explained() {
        let text = VALID_ACCOUNT.replace("[[accounts]]", "[accounts]");
        let (line, key, shown) = parse_error(&text);
        assert_eq!((line, key.as_deref()), (1, Some("accounts")));
        assert!(shown.contains("double brackets"), "{shown}");
    }

    #[test]
    fn a_missing_required_key_names_the_account_line() {
        let text = format!("{VALID_ACCOUNT}\n[[accounts]]\nid = \"home\"\nusername = \"ana\"\n");
        let (line, key, shown) = parse_error(&text);
        assert_eq!((line, key.as_deref()), (6, Some("host")));
        assert!(shown.contains("missing the required key `host`"), "{shown}");
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let (line, key, _) = parse_error(&format!("{VALID_ACCOUNT}port = \n"));
        assert_eq!((line, key.as_deref()), (5, Some("port")));

        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}id = \"again\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("id")));
        assert!(shown.contains("line 5"), "{shown}");

        let (line, _, _) = parse_error("[[accounts]\n");
        assert_eq!(line, 1);
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(file::line_column("", 0), (1, 1));
        assert_eq!(file::line_column("ab\ncd", 4), (2, 2));
        assert_eq!(file::line_column("é = 1\nx", 2), (1, 2));
        assert_eq!(file::line_column("ab", 99), (1, 3));
        assert_eq!(file::line_column("\u{feff}ab", 4), (1, 2));
    }

    // --- files -------------------------------------------------------------------------------

    #[test]
    fn a_missing_file_is_a_first_run() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(&dir.path().join("config.toml")).unwrap(),
            Config::default()
        );
        assert_eq!(
            Config::load(&dir.path().join("no/such/dir/config.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn load_reports_errors_with_the_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, format!("{VALID_ACCOUNT}colour = 1\n")).unwrap();
        let err = Config::load(&path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{} line 5: ", path.display())),
            "{err}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, b"# ok\n# bad \xff here\n").unwrap();
        match Config::load(&path) {
            Err(ConfigError::Parse { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_file_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, VALID_ACCOUNT).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        match Config::load(&path) {
            Err(ConfigError::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied);
                assert!(source.to_string().contains("chmod o-w"), "{source}");
            }
            other => panic!("{other:?}"),
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        Config::load(&path).unwrap();

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(Config::load(&path), Err(ConfigError::Io { .. })));
        // A sticky directory like /tmp is fine: others cannot replace our file there.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        Config::load(&path).unwrap();
    }

    #[test]
    fn save_creates_a_private_directory_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let config_dir = dir.path().join("xdg/pushmail");
        let path = config_dir.join("config.toml");
        let config = config_of(vec![full_account()]);
        config.save(&path).unwrap();

        assert_eq!(mode(&config_dir), 0o700);
        assert_eq!(mode(&dir.path().join("xdg")), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(Config::load(&path).unwrap(), config);
        assert_eq!(
            fs::read_dir(&config_dir).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn save_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "# old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let config = config_of(vec![minimal_account("work")]);
        config.save(&path).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), config.to_toml_string());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn a_failed_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let old = config_of(vec![minimal_account("old")]);
        old.save(&path).unwrap();
        let before = fs::read(&path).unwrap();

        // An invalid config is refused before anything is written.
        let mut account = minimal_account("new");
        account.folders.clear();
        assert!(matches!(
            config_of(vec![account]).save(&path),
            Err(ConfigError::Invalid { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), before);

        // Writing fails: the directory is read-only. (Root ignores permissions, so this part
        // only proves something when it can: check that the directory really is read-only.)
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
        let privileged = fs::write(dir.path().join("probe"), b"").is_ok();
        if !privileged {
            let err = config_of(vec![minimal_account("new")])
                .save(&path)
                .unwrap_err();
            assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
            assert_eq!(fs::read(&path).unwrap(), before);
        }
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(Config::load(&path).unwrap(), old);
    }

    #[test]
    fn a_failed_rename_leaves_no_partial_or_temp_file() {
        // The target is a non-empty directory: the temp file is written, the rename fails
        // (even for root), and nothing but the directory remains.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"x").unwrap();
        let err = config_of(vec![minimal_account("new")])
            .save(&path)
            .unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
        assert_eq!(fs::read(path.join("keep")).unwrap(), b"x");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left behind"
        );
    }

    #[test]
    fn save_through_a_symlink_updates_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/pushmail.toml");
        fs::create_dir_all(real.parent().unwrap()).unwrap();
        fs::write(&real, "# old\n").unwrap();
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink("dotfiles/pushmail.toml", &link).unwrap();

        let config = config_of(vec![minimal_account("work")]);
        config.save(&link).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(Config::load(&real).unwrap(), config);
    }

    #[test]
    fn the_default_path_follows_xdg() {
        let path = |xdg: Option<&str>, home: Option<&str>| {
            store::default_path_from(xdg.map(Into::into), home.map(Into::into))
        };
        assert_eq!(
            path(Some("/x/conf"), Some("/home/ana")).unwrap(),
            Path::new("/x/conf/pushmail/config.toml")
        );
        // The XDG spec says to ignore relative and empty values.
        for xdg in [None, Some(""), Some("relative")] {
            assert_eq!(
                path(xdg, Some("/home/ana")).unwrap(),
                Path::new("/home/ana/.config/pushmail/config.toml")
            );
        }
        assert!(matches!(path(None, None), Err(ConfigError::Io { .. })));
        assert!(Config::default_path().is_ok() || std::env::var_os("HOME").is_none());
    }

    // --- properties ------------------------------------------------------------------------

    /// Text without control characters (names, usernames, folders).
    const PRINTABLE: &str = "[^\\p{Cc}]{1,16}";
    /// Anything but NUL (password_command arguments and paths are written escaped).
    const ANY_BUT_NUL: &str = "[^\\x00]{0,16}";

    fn security_and_host() -> impl Strategy<Value = (Security, String)> {
        let remote = "[a-z0-9-]{1,12}(\\.[a-z]{2,6}){0,2}";
        prop_oneof![
            (Just(Security::Tls), remote.prop_map(String::from)),
            (Just(Security::Starttls), remote.prop_map(String::from)),
            (
                Just(Security::Plain),
                prop::sample::select(vec!["localhost", "127.0.0.1", "::1", "127.9.9.9"])
                    .prop_map(str::to_owned)
            ),
        ]
    }

    fn timing() -> impl Strategy<Value = Timing> {
        let secs = |knob: Knob| (knob.min..=knob.max).prop_map(Duration::from_secs);
        (
            (
                secs(Timing::IDLE_REFRESH),
                secs(Timing::DEAD_AFTER),
                secs(Timing::POLL_INTERVAL),
                secs(Timing::BACKOFF_MIN),
                secs(Timing::BACKOFF_MAX),
            ),
            (
                secs(Timing::CONNECT_TIMEOUT),
                secs(Timing::COMMAND_TIMEOUT),
                secs(Timing::DONE_TIMEOUT),
                1u32..=60,
                secs(Timing::THROTTLE_BACKOFF),
            ),
        )
            .prop_map(
                |((idle, dead, poll, b1, b2), (connect, command, done, logins, throttle))| Timing {
                    idle_refresh: idle,
                    dead_after: dead,
                    poll_interval: poll,
                    backoff_min: b1.min(b2),
                    backoff_max: b1.max(b2),
                    connect_timeout: connect,
                    command_timeout: command,
                    done_timeout: done,
                    max_logins_per_minute: logins,
                    throttle_backoff: throttle,
                    max_connections: 2,
                },
            )
    }

    prop_compose! {
        fn account()(
            id in "[A-Za-z0-9_-]{1,32}",
            name in proptest::option::of(PRINTABLE.prop_filter("blank", |n: &String| !n.trim().is_empty())),
            email in proptest::option::of("[a-z0-9.+]{1,8}@[a-z0-9.-]{1,10}"),
            (security, host) in security_and_host(),
            port in proptest::option::of(1u16..),
            username in PRINTABLE,
            password in proptest::option::of(
                ("[^\\x00]{1,16}".prop_filter("blank", |p: &String| !p.trim().is_empty()),
                 proptest::collection::vec(ANY_BUT_NUL, 0..4))
            ),
            ca_file in proptest::option::of("/[^\\x00]{1,24}"),
            folders in proptest::collection::vec(PRINTABLE, 1..4),
            (enabled, timing) in (any::<bool>(), timing()),
            (mute, preview, open) in (any::<bool>(), prop::sample::select(Preview::ALL.to_vec()), open_target()),
        ) -> Account {
            let mut seen = std::collections::HashSet::new();
            let folders = folders
                .into_iter()
                .filter(|f| seen.insert(if f.eq_ignore_ascii_case("INBOX") { "INBOX".to_owned() } else { f.clone() }))
                .collect();
            Account {
                name: name.unwrap_or_else(|| id.clone()),
                id,
                email,
                host,
                port: port.unwrap_or(security.default_port()),
                security,
                username,
                password: match password {
                    Some((program, args)) => PasswordSource::Command(
                        std::iter::once(program).chain(args).collect()
                    ),
                    None => PasswordSource::Keyring,
                },
                ca_file: ca_file.map(PathBuf::from),
                folders,
                enabled,
                timing,
                mute,
                preview,
                open,
            }
        }
    }

    fn argv() -> impl Strategy<Value = Vec<String>> {
        (
            "[^\\x00]{1,16}".prop_filter("blank", |p: &String| !p.trim().is_empty()),
            proptest::collection::vec(ANY_BUT_NUL, 0..4),
        )
            .prop_map(|(program, args)| std::iter::once(program).chain(args).collect())
    }

    fn open_target() -> impl Strategy<Value = OpenTarget> {
        prop_oneof![
            Just(OpenTarget::Default),
            "https?://[a-z0-9.-]{1,12}(:[0-9]{1,5})?(/[^\\s\\p{Cc}]{0,12})?"
                .prop_map(OpenTarget::Url),
            argv().prop_map(OpenTarget::Command),
        ]
    }

    fn general() -> impl Strategy<Value = General> {
        (
            prop::sample::select(Language::ALL.to_vec()),
            proptest::option::of(argv()),
        )
            .prop_map(|(language, open_command)| General {
                language,
                open_command,
            })
    }

    fn notifications() -> impl Strategy<Value = Notifications> {
        let time = (0u8..24, 0u8..60);
        let quiet = (time.clone(), time).prop_filter_map("empty period", |(start, end)| {
            (start != end).then_some(QuietHours { start, end })
        });
        let vip = prop_oneof!["[a-z0-9.+]{1,8}@[a-z0-9.-]{1,10}", "@[a-z0-9.-]{1,10}"];
        let vips = proptest::collection::vec(vip, 0..4).prop_map(|entries| {
            let mut seen = std::collections::HashSet::new();
            entries
                .into_iter()
                .filter(|entry| seen.insert(entry.to_lowercase()))
                .collect::<Vec<String>>()
        });
        let knob = |knob: Knob| knob.min..=knob.max;
        (
            any::<bool>(),
            proptest::option::of(quiet),
            vips,
            knob(Notifications::SUMMARY_THRESHOLD),
            knob(Notifications::SUMMARY_WINDOW),
            knob(Notifications::NOTIFY_TIMEOUT),
            knob(Notifications::HISTORY_SIZE),
        )
            .prop_map(
                |(enabled, quiet_hours, vip, threshold, window, timeout, history)| Notifications {
                    enabled,
                    quiet_hours,
                    vip,
                    summary_threshold: u32::try_from(threshold).unwrap(),
                    summary_window: Duration::from_secs(window),
                    notify_timeout: Duration::from_secs(timeout),
                    history_size: u32::try_from(history).unwrap(),
                },
            )
    }

    proptest! {
        #[test]
        fn valid_configs_round_trip(
            accounts in proptest::collection::vec(account(), 0..4),
            general in general(),
            notifications in notifications(),
        ) {
            let mut seen = std::collections::HashSet::new();
            let accounts: Vec<Account> = accounts
                .into_iter()
                .filter(|a| seen.insert(a.id.to_ascii_lowercase()))
                .collect();
            let config = Config { accounts, general, notifications };
            prop_assert!(config.validate().is_ok(), "generator made an invalid config: {:?}", config.validate());
            let text = config.to_toml_string();
            let parsed = Config::from_toml_str(&text, base());
            prop_assert_eq!(parsed.as_ref().ok(), Some(&config), "file:\n{}\nerror: {:?}", text, parsed.as_ref().err());
        }

        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,200}") {
            let _ = Config::from_toml_str(&text, base());
        }

        #[test]
        fn damaged_files_fail_cleanly(account in account(), cut in 0usize..2000, junk in "[\\[\\]=\"'{},.\\n a-z0-9]{0,6}") {
            let text = config_of(vec![account]).to_toml_string();
            let mut cut = cut.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let damaged = format!("{}{junk}{}", &text[..cut], &text[cut..]);
            if let Err(ConfigError::Parse { line, .. }) = Config::from_toml_str(&damaged, base()) {
                prop_assert!(line >= 1 && line <= damaged.lines().count() + 1);
            }
        }
    }
}
