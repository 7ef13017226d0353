//! The rules a config must satisfy beyond its shape. Each failure names the account and the
//! key and says how to fix it.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};

use super::file::{format_time, quote_for_message};
use super::{
    Account, Config, ConfigError, General, Knob, KnobValue, Notifications, OpenTarget,
    PasswordSource, QuietHours, Security, Timing,
};

/// Longest account id: ids appear in tray menus, commands and log lines, where a long one is
/// a nuisance.
pub(super) const ID_MAX_CHARS: usize = 32;

/// Longest host name DNS allows (RFC 1035).
const HOST_MAX_CHARS: usize = 253;

pub(super) fn validate(config: &Config) -> Result<(), ConfigError> {
    validate_general(&config.general)?;
    validate_notifications(&config.notifications)?;
    let mut seen_ids = HashSet::new();
    for account in &config.accounts {
        validate_account(account)?;
        // Ids differing only in case would be confusing in commands, and could collide in
        // file names on case-insensitive file systems.
        if !seen_ids.insert(account.id.to_ascii_lowercase()) {
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
                "`vip` entry {shown} is neither an address nor a domain; write                  \"boss@example.com\" for one sender or \"@example.com\" for a whole domain"
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

fn validate_account(account: &Account) -> Result<(), ConfigError> {
    let fail = |key: &str, message: String| Err(invalid(account, key, message));

    if !is_valid_id(&account.id) {
        return fail(
            "id",
            format!(
                "`id = {}` must be 1 to {ID_MAX_CHARS} letters, digits, `_` or `-` \
                 (it names the account in events and commands), e.g. \"work\"",
                quote_for_message(&account.id, '"')
            ),
        );
    }
    if account.name.trim().is_empty() {
        return fail(
            "name",
            "`name` is empty; remove the key to show the id instead".to_owned(),
        );
    }
    if has_control(&account.name) {
        return fail(
            "name",
            "`name` contains a control character (such as a line break)".to_owned(),
        );
    }
    if let Some(email) = &account.email
        && !looks_like_email(email)
    {
        return fail(
            "email",
            format!(
                "`email = {}` is not an email address; write it like \"ana@example.com\" \
                 or remove the key",
                quote_for_message(email, '"')
            ),
        );
    }
    if let Err(message) = check_host(&account.host) {
        return fail("host", message);
    }
    if account.port == 0 {
        return fail(
            "port",
            "`port = 0` is not a port; use 993 for tls or 143 for starttls, or remove the key"
                .to_owned(),
        );
    }
    if account.security == Security::Plain && !is_loopback_host(&account.host) {
        return fail(
            "security",
            "`security = \"plain\"` sends the password unencrypted and is only allowed for a \
             loopback host (127.0.0.1, ::1, localhost); use `tls` or `starttls`"
                .to_owned(),
        );
    }
    if account.username.is_empty() {
        return fail(
            "username",
            "`username` is empty; set it to the login name your mail provider gave you".to_owned(),
        );
    }
    if has_control(&account.username) {
        return fail(
            "username",
            "`username` contains a control character (such as a line break)".to_owned(),
        );
    }
    if let PasswordSource::Command(argv) = &account.password {
        check_argv(&PASSWORD_COMMAND, argv).or_else(|message| fail("password_command", message))?;
    }
    if let Some(ca_file) = &account.ca_file {
        if ca_file.as_os_str().is_empty() {
            return fail(
                "ca_file",
                "`ca_file` is empty; remove the key to trust only the system's certificates"
                    .to_owned(),
            );
        }
        if ca_file.to_str().is_none() {
            return fail(
                "ca_file",
                "`ca_file` is not valid UTF-8, so it cannot be written to the config file; \
                 rename the file or move it to a plain path"
                    .to_owned(),
            );
        }
    }
    check_folders(&account.folders).or_else(|message| fail("folders", message))?;
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
