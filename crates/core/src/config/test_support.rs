//! What the config tests share: a stand-in config directory, the parser bound to it, and
//! accounts and configs with every setting at or away from its default. Each test lives next
//! to the code it tests (`file.rs`, `rules.rs`, `store.rs`, `config.rs`); these are the values
//! more than one of them builds on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

/// Absolute directory that stands in for the config file's directory.
pub(super) const BASE: &str = "/home/ana/.config/pushmail";

pub(super) fn base() -> &'static Path {
    Path::new(BASE)
}

pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, base())
}

/// Every setting away from its default, so a round trip exercises every key.
pub(super) fn full_account() -> Account {
    Account {
        id: "work".to_owned(),
        name: "Work \"mail\" \\ ünïcode ✉".to_owned(),
        email: Some("ana@example.com".to_owned()),
        protocol: Protocol::Imap,
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
            push_wait: Duration::from_secs(2),
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

/// A POP3 mailbox on the default port for its protocol (995), which the writer leaves out.
fn pop3_account() -> Account {
    Account {
        protocol: Protocol::Pop3,
        port: Protocol::Pop3.default_port(Security::Tls),
        ..Account::new("isp", "pop.example.com", "ana")
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
pub(super) fn full_config() -> Config {
    Config {
        accounts: vec![
            full_account(),
            webmail_account(),
            minimal_account("home"),
            pop3_account(),
            signin_account(),
        ],
        general: full_general(),
        notifications: full_notifications(),
    }
}

/// An account that signs in at a custom provider, every `oauth_*` key set.
pub(super) fn signin_account() -> Account {
    let mut a = Account::new("sso", "mail.example.org", "ana@example.org");
    a.password = PasswordSource::OAuth2(Box::new(crate::config::OAuthSettings {
        provider: "custom".into(),
        tenant: Some("example.org".into()),
        client_id: Some("pushmail-desktop".into()),
        client_secret: Some("not-really-secret".into()),
        authorization_endpoint: Some("https://login.example.org/authorize".into()),
        token_endpoint: Some("https://login.example.org/token".into()),
        scopes: Some(vec![
            "openid".into(),
            "offline_access".into(),
            "imap".into(),
        ]),
        issuer: Some("https://login.example.org".into()),
        sasl: Some(crate::oauth::SaslMechanism::XOAuth2),
    }));
    a
}

pub(super) fn minimal_account(id: &str) -> Account {
    Account::new(id, "imap.example.com", "ana")
}

pub(super) fn config_of(accounts: Vec<Account>) -> Config {
    Config {
        accounts,
        ..Config::default()
    }
}

pub(super) const VALID_ACCOUNT: &str = "[[accounts]]\n\
                             id = \"work\"\n\
                             host = \"imap.example.com\"\n\
                             username = \"ana\"\n";
