//! The rules a config must satisfy beyond its shape. Each failure names the account and the
//! key and says how to fix it.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::path::Path;

use super::file::{format_time, quote_for_message};
use super::{
    Account, Config, ConfigError, General, Knob, KnobValue, Notifications, OpenTarget,
    PasswordSource, Protocol, QuietHours, Security, Timing, default_folders,
};

/// Longest account id: ids appear in tray menus, commands and log lines, where a long one is
/// a nuisance.
pub(super) const ID_MAX_CHARS: usize = 32;

/// Longest host name DNS allows (RFC 1035).
const HOST_MAX_CHARS: usize = 253;

pub(super) fn validate(config: &Config) -> Result<(), ConfigError> {
    validate_general(&config.general)?;
    validate_notifications(&config.notifications)?;
    for (index, account) in config.accounts.iter().enumerate() {
        validate_account(account)?;
        // Each id against the earlier ones: quadratic, and a config has a handful of accounts.
        if config
            .accounts
            .iter()
            .take(index)
            .any(|earlier| same_id(&earlier.id, &account.id))
        {
            return Err(invalid(
                account,
                "id",
                format!(
                    "`id = \"{}\"` is used by more than one account (ids are compared \
                     ignoring case); give each account its own id",
                    account.id
                ),
            ));
        }
    }
    Ok(())
}

/// Whether two account ids name the same account: the one rule for duplicate ids, used by
/// validation and by every front end before it adds an account ([`Config::check_new_id`]).
///
/// Equal ignoring ASCII case (valid ids are ASCII, see [`is_valid_id`]): ids differing only
/// in case would be confusing in commands, and could collide in file names on
/// case-insensitive file systems.
pub(super) fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// An error outside any account: the key is the dotted path (`notifications.vip`) and the
/// message starts with the section header, so both the UI and the user know where to look.
fn invalid_in_section(section: &str, key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        account: None,
        key: format!("{section}.{key}"),
        message: format!("[{section}] {message}"),
    }
}

fn validate_general(general: &General) -> Result<(), ConfigError> {
    if let Some(argv) = &general.open_command {
        check_argv(&OPEN_COMMAND, argv)
            .map_err(|message| invalid_in_section("general", OPEN_COMMAND.key, &message))?;
    }
    Ok(())
}

fn validate_notifications(notifications: &Notifications) -> Result<(), ConfigError> {
    let fail = |key: &str, message: String| Err(invalid_in_section("notifications", key, &message));
    if let Some(quiet) = &notifications.quiet_hours {
        check_quiet_hours(quiet).or_else(|message| fail("quiet_hours", message))?;
    }
    check_vip(&notifications.vip).or_else(|message| fail("vip", message))?;
    check_knobs(&notifications.values()).or_else(|(key, message)| fail(key, message))?;
    Ok(())
}

fn check_quiet_hours(quiet: &QuietHours) -> Result<(), String> {
    for (hour, minute) in [quiet.start, quiet.end] {
        if hour > 23 || minute > 59 {
            return Err(format!(
                "`quiet_hours` contains {}, which is not a time of day; use 00:00 to 23:59",
                quote_for_message(&format_time((hour, minute)), '"')
            ));
        }
    }
    if quiet.start == quiet.end {
        return Err(format!(
            "`quiet_hours` starts and ends at {}; give two different times, remove the key for \
             no quiet hours, or set `enabled = false` for no popups at all",
            format_time(quiet.start)
        ));
    }
    Ok(())
}

fn check_vip(vip: &[String]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for entry in vip {
        let shown = quote_for_message(entry, '"');
        let valid = match entry.strip_prefix('@') {
            Some(domain) => {
                !domain.is_empty()
                    && !domain
                        .chars()
                        .any(|c| c == '@' || c.is_whitespace() || c.is_control())
            }
            None => looks_like_email(entry),
        };
        if !valid {
            return Err(format!(
                "`vip` entry {shown} is neither an address nor a domain; write \"boss@example.com\" for one sender or \"@example.com\" for a whole domain"
            ));
        }
        if !seen.insert(entry.to_lowercase()) {
            return Err(format!(
                "`vip` lists {shown} twice (entries are compared ignoring case); remove the \
                 duplicate"
            ));
        }
    }
    Ok(())
}

fn invalid(account: &Account, key: &str, message: String) -> ConfigError {
    ConfigError::Invalid {
        account: Some(account.id.clone()),
        key: key.to_owned(),
        message,
    }
}

/// Every rule for one account; the first one broken is reported, with the account and key.
fn validate_account(account: &Account) -> Result<(), ConfigError> {
    let fail = |key: &str, message: String| Err(invalid(account, key, message));

    check_identity(account).or_else(|(key, message)| fail(key, message))?;
    check_server(account).or_else(|(key, message)| fail(key, message))?;
    check_username(&account.username).or_else(|message| fail("username", message))?;
    if let PasswordSource::Command(argv) = &account.password {
        check_argv(&PASSWORD_COMMAND, argv).or_else(|message| fail("password_command", message))?;
    }
    if let PasswordSource::OAuth2(settings) = &account.password {
        check_oauth(account, settings).or_else(|(key, message)| fail(key, message))?;
    }
    if let Some(ca_file) = &account.ca_file {
        check_ca_file(ca_file).or_else(|message| fail("ca_file", message))?;
    }
    check_folders(&account.folders).or_else(|message| fail("folders", message))?;
    if account.protocol == Protocol::Pop3 && account.folders != default_folders() {
        // POP3 has one mailbox; a list of folders would silently watch only one of them.
        return fail(
            "folders",
            "a POP3 account has a single mailbox and no folders; remove `folders`, or use              `protocol = \"imap\"` to watch several folders"
                .to_owned(),
        );
    }
    check_timing(&account.timing).or_else(|(key, message)| fail(key, message))?;
    match &account.open {
        OpenTarget::Default => {}
        OpenTarget::Url(url) => check_open_url(url).or_else(|message| fail("open_url", message))?,
        OpenTarget::Command(argv) => {
            check_argv(&OPEN_COMMAND, argv).or_else(|message| fail(OPEN_COMMAND.key, message))?;
        }
    }
    Ok(())
}

/// A sign-in that can work as written: IMAP (POP3 sign-in is not built), a provider Pushmail
/// knows or a complete `custom` one, https endpoints. A missing client id is not refused
/// here: the account is kept, and says so (with what to do) when it tries to sign in.
fn check_oauth(
    account: &Account,
    settings: &crate::config::OAuthSettings,
) -> Result<(), (&'static str, String)> {
    if account.protocol == Protocol::Pop3 {
        return Err((
            "auth",
            "signing in (`auth = \"oauth2\"`) works with IMAP accounts; this POP3 account \
             needs a password"
                .to_owned(),
        ));
    }
    let provider = settings
        .provider(&account.host, account.port)
        .map_err(|e| ("oauth_provider", e.to_string()))?;
    match provider.validate() {
        Ok(()) | Err(crate::oauth::OAuthError::NoClientId { .. }) => Ok(()),
        Err(e) => Err(("oauth_provider", e.to_string())),
    }
}

/// What names the account: an id that events and commands can carry, a display name that
/// fits on one line, and an email address when one is given.
fn check_identity(account: &Account) -> Result<(), (&'static str, String)> {
    if !is_valid_id(&account.id) {
        return Err((
            "id",
            format!(
                "`id = {}` must be 1 to {ID_MAX_CHARS} letters, digits, `_` or `-` \
                 (it names the account in events and commands), e.g. \"work\"",
                quote_for_message(&account.id, '"')
            ),
        ));
    }
    if account.name.trim().is_empty() {
        return Err((
            "name",
            "`name` is empty; remove the key to show the id instead".to_owned(),
        ));
    }
    if has_control(&account.name) {
        return Err((
            "name",
            "`name` contains a control character (such as a line break)".to_owned(),
        ));
    }
    if let Some(email) = &account.email
        && !looks_like_email(email)
    {
        return Err((
            "email",
            format!(
                "`email = {}` is not an email address; write it like \"ana@example.com\" \
                 or remove the key",
                quote_for_message(email, '"')
            ),
        ));
    }
    Ok(())
}

/// Where to connect: a server name or address, a port, and encryption unless the connection
/// never leaves the machine (the password would otherwise cross the network in clear).
fn check_server(account: &Account) -> Result<(), (&'static str, String)> {
    check_host(&account.host).map_err(|message| ("host", message))?;
    if account.port == 0 {
        return Err((
            "port",
            "`port = 0` is not a port; use 993 for tls or 143 for starttls, or remove the key"
                .to_owned(),
        ));
    }
    if account.security == Security::Plain && !is_loopback_host(&account.host) {
        return Err((
            "security",
            "`security = \"plain\"` sends the password unencrypted and is only allowed for a \
             loopback host (127.0.0.1, ::1, localhost); use `tls` or `starttls`"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The login name: there must be one, and on one line (it is sent inside an IMAP command).
fn check_username(username: &str) -> Result<(), String> {
    if username.is_empty() {
        return Err(
            "`username` is empty; set it to the login name your mail provider gave you".to_owned(),
        );
    }
    if has_control(username) {
        return Err("`username` contains a control character (such as a line break)".to_owned());
    }
    Ok(())
}

/// An extra CA file: a path that is not empty, and one the config file can store (TOML
/// strings are UTF-8).
fn check_ca_file(ca_file: &Path) -> Result<(), String> {
    if ca_file.as_os_str().is_empty() {
        return Err(
            "`ca_file` is empty; remove the key to trust only the system's certificates".to_owned(),
        );
    }
    if ca_file.to_str().is_none() {
        return Err(
            "`ca_file` is not valid UTF-8, so it cannot be written to the config file; \
             rename the file or move it to a plain path"
                .to_owned(),
        );
    }
    Ok(())
}

pub(super) fn is_valid_id(id: &str) -> bool {
    (1..=ID_MAX_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn looks_like_email(email: &str) -> bool {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// A server name or IP address; catches the usual paste mistakes (URL, `host:port`).
fn check_host(host: &str) -> Result<(), String> {
    let shown = quote_for_message(host, '"');
    if host.is_empty() {
        return Err(
            "`host` is empty; set it to your IMAP server, e.g. \"imap.example.com\"".to_owned(),
        );
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if host.contains("://") {
        return Err(format!(
            "`host = {shown}` is a URL; write only the server name, e.g. \"imap.example.com\", \
             and set `port` and `security` separately"
        ));
    }
    if host.starts_with('[') && host.ends_with(']') {
        return Err(format!(
            "`host = {shown}`: write IPv6 addresses without brackets, e.g. \"::1\""
        ));
    }
    if let Some((_, port)) = host.rsplit_once(':')
        && !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && host.parse::<Ipv6Addr>().is_err()
    {
        return Err(format!(
            "`host = {shown}` includes a port; put the port in its own key, `port = {port}`"
        ));
    }
    let bad_char = |c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | ':' | '@' | '[' | ']')
    };
    if host.chars().count() > HOST_MAX_CHARS || host.chars().any(bad_char) {
        return Err(format!(
            "`host = {shown}` is not a server name; write it like \"imap.example.com\""
        ));
    }
    Ok(())
}

/// `localhost`, 127.0.0.0/8 or ::1: the only hosts where an unencrypted connection never
/// leaves the machine.
pub(super) fn is_loopback_host(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    name.eq_ignore_ascii_case("localhost")
}

/// A key whose value is a program to run (argv, no shell), with the words its messages need.
struct ArgvKey {
    key: &'static str,
    /// What removing the key means.
    without: &'static str,
    example: &'static str,
}

const PASSWORD_COMMAND: ArgvKey = ArgvKey {
    key: "password_command",
    without: "use the OS keyring",
    example: "[\"pass\", \"show\", \"mail/work\"]",
};

const OPEN_COMMAND: ArgvKey = ArgvKey {
    key: "open_command",
    without: "use the default mail client",
    example: "[\"thunderbird\"]",
};

fn check_argv(what: &ArgvKey, argv: &[String]) -> Result<(), String> {
    let ArgvKey {
        key,
        without,
        example,
    } = what;
    let Some(program) = argv.first() else {
        return Err(format!(
            "`{key}` is empty; remove the key to {without}, or give the program and its \
             arguments, e.g. {example}"
        ));
    };
    if program.trim().is_empty() {
        return Err(format!(
            "`{key}` starts with an empty program name; the first element is the program to \
             run, e.g. {example}"
        ));
    }
    if argv.iter().any(|arg| arg.contains('\0')) {
        return Err(format!(
            "`{key}` contains a NUL character, which cannot be passed to a program"
        ));
    }
    Ok(())
}

/// An `http` or `https` URL with a host. Other schemes are refused because a click would hand
/// them to whatever handler the desktop has for them (`file:`, custom schemes).
fn check_open_url(url: &str) -> Result<(), String> {
    let shown = quote_for_message(url, '"');
    let example = "e.g. \"https://mail.example.com/\"";
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`open_url = {shown}` contains a space or control character; write the address \
             as the browser shows it, {example}"
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`open_url = {shown}` is not a web address; write it with https://, {example}"
        ));
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "`open_url = {shown}` must start with https:// or http:// (other kinds of link \
             could start any program), {example}"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!(
            "`open_url = {shown}` has no server name; {example}"
        ));
    }
    Ok(())
}

fn check_folders(folders: &[String]) -> Result<(), String> {
    if folders.is_empty() {
        return Err(
            "`folders` is empty; list at least one folder, e.g. [\"INBOX\"], or set \
             `enabled = false` to pause the account"
                .to_owned(),
        );
    }
    let mut seen = HashSet::new();
    for folder in folders {
        if folder.is_empty() {
            return Err("`folders` contains an empty folder name".to_owned());
        }
        if has_control(folder) {
            return Err(format!(
                "`folders` entry {} contains a control character",
                quote_for_message(folder, '"')
            ));
        }
        // INBOX is case-insensitive in IMAP (RFC 3501 §5.1); other names are not.
        let normalized = if folder.eq_ignore_ascii_case("INBOX") {
            "INBOX".to_owned()
        } else {
            folder.clone()
        };
        if !seen.insert(normalized) {
            return Err(format!(
                "`folders` lists {} twice; remove the duplicate",
                quote_for_message(folder, '"')
            ));
        }
    }
    Ok(())
}

fn check_timing(timing: &Timing) -> Result<(), (&'static str, String)> {
    check_knobs(&timing.values())?;
    if timing.backoff_min > timing.backoff_max {
        return Err((
            Timing::BACKOFF_MIN.key,
            format!(
                "`backoff_min_secs = {}` is larger than `backoff_max_secs = {}`; the wait \
                 between retries grows from the minimum to the maximum",
                timing.backoff_min.as_secs(),
                timing.backoff_max.as_secs()
            ),
        ));
    }
    Ok(())
}

/// Whole seconds and within the knob's range, for every knob of a table.
fn check_knobs(values: &[(Knob, KnobValue)]) -> Result<(), (&'static str, String)> {
    for &(knob, value) in values {
        if !value.is_whole() {
            return Err((
                knob.key,
                format!("`{}` must be a whole number of seconds", knob.key),
            ));
        }
        let number = value.file_value();
        if !(knob.min..=knob.max).contains(&number) {
            let why = if knob.key == Timing::IDLE_REFRESH.key {
                " (RFC 2177: a server may log out a client that idles 30 minutes)"
            } else {
                ""
            };
            return Err((
                knob.key,
                format!(
                    "`{} = {number}` is out of range; use {} to {}{why}, or remove the key \
                     for the default ({})",
                    knob.key, knob.min, knob.max, knob.default
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic here is a failed test with a clear location.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::PathBuf;
    use std::time::Duration;

    use crate::config::test_support::*;
    use crate::config::*;

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

    /// The CLI and the settings window ask [`Config::check_new_id`] before adding an account;
    /// it must refuse exactly what validation would refuse once the account is in.
    #[test]
    fn a_new_id_is_taken_by_an_existing_one_ignoring_case() {
        let config = config_of(vec![minimal_account("work"), minimal_account("Home_2")]);
        for (id, existing) in [
            ("work", Some("work")),
            ("WORK", Some("work")),
            ("Work", Some("work")),
            ("home_2", Some("Home_2")),
            ("works", None),
            ("work_", None),
            ("home-2", None),
        ] {
            let taken = config.check_new_id(id).err().map(|t| t.existing);
            assert_eq!(taken.as_deref(), existing, "{id}");
            let mut with_it = config.clone();
            with_it.accounts.push(minimal_account(id));
            let refused_as_duplicate = matches!(
                with_it.validate(),
                Err(ConfigError::Invalid { account: Some(a), key, .. }) if a == id && key == "id"
            );
            assert_eq!(refused_as_duplicate, existing.is_some(), "{id}");
        }
        // One message, from the catalogs, in the user's language.
        let taken = config.check_new_id("WORK").unwrap_err();
        assert_eq!(
            taken.to_string(),
            "An account “work” already exists (IDs that differ only in upper and lower case \
             count as the same); choose another ID."
        );
        assert_eq!(
            taken.message_in(&crate::i18n::I18n::new("it")),
            "Esiste già un account «work» (gli ID che differiscono solo per maiuscole e \
             minuscole contano come uguali); scegli un altro ID."
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
    fn a_pop3_account_has_no_folders_to_choose() {
        let mut account = Account::new("isp", "pop.example.com", "ana");
        account.protocol = Protocol::Pop3;
        assert!(config_of(vec![account.clone()]).validate().is_ok());
        account.folders = vec!["INBOX".to_owned(), "Lists".to_owned()];
        let (key, message) = invalid_key(account);
        assert_eq!(key, "folders");
        assert!(message.contains("single mailbox"), "{message}");
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
            "push_wait_secs" => t.push_wait = secs,
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
}
