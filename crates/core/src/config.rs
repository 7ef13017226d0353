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

/// Name, default and allowed range of one numeric account setting, in the units of the file.
///
/// One table ([`Timing::KNOBS`]) drives the defaults, validation, the writer and the settings
/// UI's input bounds, so they cannot drift apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knob {
    /// Key in `[[accounts]]`, e.g. `idle_refresh_secs`.
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

    /// All timing knobs in file order, for code that treats them uniformly (validation, the
    /// writer, the settings UI).
    pub const KNOBS: [Knob; 10] = [
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
    };

    /// Each knob with its current value, in [`Timing::KNOBS`] order.
    fn values(&self) -> [(Knob, KnobValue); 10] {
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
        }
    }
}

/// `["INBOX"]`: the one folder every IMAP server has (RFC 3501) and where new mail lands.
fn default_folders() -> Vec<String> {
    vec!["INBOX".to_owned()]
}

/// The whole configuration. An empty value (no accounts) is what a first run sees.
///
/// The root of the file is a table with only `accounts` for now; later sections (e.g.
/// notifications) will be added next to it, and unknown root keys are errors so a typo in a
/// future section name is not silently ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Accounts in file order; the order is kept so menus match the file.
    pub accounts: Vec<Account>,
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
        /// The key in the file (public name, e.g. `idle_refresh_secs`).
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
            },
        }
    }

    fn minimal_account(id: &str) -> Account {
        Account::new(id, "imap.example.com", "ana")
    }

    fn config_of(accounts: Vec<Account>) -> Config {
        Config { accounts }
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
        let config = config_of(vec![full_account(), minimal_account("home")]);
        let text = config.to_toml_string();
        assert_eq!(parse(&text).unwrap(), config, "file was:\n{text}");
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
        let text = config_of(vec![full_account()]).to_toml_string();
        for key in file::ACCOUNT_KEYS
            .iter()
            .copied()
            .chain(Timing::KNOBS.iter().map(|knob| knob.key))
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
        let text = config_of(vec![full_account()]).to_toml_string();
        assert!(parse(&text).is_ok());
        assert_eq!(file::ROOT_KEYS, ["accounts"]);
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
        config_of(vec![full_account(), minimal_account("home")])
            .validate()
            .unwrap();
        Config::default().validate().unwrap();
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
            enabled in any::<bool>(),
            timing in timing(),
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
            }
        }
    }

    proptest! {
        #[test]
        fn valid_configs_round_trip(accounts in proptest::collection::vec(account(), 0..4)) {
            let mut seen = std::collections::HashSet::new();
            let accounts: Vec<Account> = accounts
                .into_iter()
                .filter(|a| seen.insert(a.id.to_ascii_lowercase()))
                .collect();
            let config = Config { accounts };
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
            let text = Config { accounts: vec![account] }.to_toml_string();
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
