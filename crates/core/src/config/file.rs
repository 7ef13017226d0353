//! The file format: raw serde structs that mirror the file, their conversion to the typed
//! [`Config`], errors that name the line and key, and the writer.
//!
//! `deny_unknown_fields` does not combine with `#[serde(flatten)]`, so the raw account lists
//! every key itself (timing included) and the conversion groups them into [`Timing`].

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{
    Account, Config, ConfigError, General, Knob, KnobValue, Language, Notifications, OpenTarget,
    PasswordSource, Preview, QuietHours, Security, Timing, default_folders,
};

/// The root of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    /// Spanned so a missing required key can be reported at the `[[accounts]]` line.
    #[serde(default)]
    accounts: Vec<Spanned<RawAccount>>,
    #[serde(default)]
    general: RawGeneral,
    #[serde(default)]
    notifications: RawNotifications,
}

/// The `[general]` table exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeneral {
    language: Option<Language>,
    open_command: Option<Vec<String>>,
}

/// The `[notifications]` table exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotifications {
    enabled: Option<bool>,
    /// Spanned so a time that is not `HH:MM` is reported at its line.
    quiet_hours: Option<Spanned<Vec<String>>>,
    vip: Option<Vec<String>>,
    summary_threshold: Option<u32>,
    summary_window_secs: Option<u64>,
    notify_timeout_secs: Option<u64>,
    history_size: Option<u32>,
}

/// One `[[accounts]]` table exactly as written. Every field is optional here so a missing
/// required key is reported by us, with its name and line, not by serde.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password_command: Option<Vec<String>>,
    ca_file: Option<String>,
    folders: Option<Vec<String>>,
    enabled: Option<bool>,
    idle_refresh_secs: Option<u64>,
    dead_after_secs: Option<u64>,
    poll_interval_secs: Option<u64>,
    backoff_min_secs: Option<u64>,
    backoff_max_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
    command_timeout_secs: Option<u64>,
    done_timeout_secs: Option<u64>,
    max_logins_per_minute: Option<u32>,
    max_connections: Option<u32>,
    throttle_backoff_secs: Option<u64>,
    mute: Option<bool>,
    preview: Option<Preview>,
    open_url: Option<String>,
    open_command: Option<Vec<String>>,
}

/// Keys allowed at the root. Must match [`RawFile`] (a test checks).
pub(super) const ROOT_KEYS: [&str; 3] = ["general", "notifications", "accounts"];

/// Keys allowed in `[general]`. Must match [`RawGeneral`] (a test checks).
pub(super) const GENERAL_KEYS: [&str; 2] = ["language", "open_command"];

/// Keys allowed in `[notifications]` besides its knobs. Must match [`RawNotifications`]
/// (a test checks).
pub(super) const NOTIFICATION_KEYS: [&str; 3] = ["enabled", "quiet_hours", "vip"];

/// Keys allowed in `[[accounts]]` besides the timing knobs. Must match [`RawAccount`]
/// (a test checks).
pub(super) const ACCOUNT_KEYS: [&str; 15] = [
    "id",
    "name",
    "email",
    "host",
    "port",
    "security",
    "username",
    "password_command",
    "ca_file",
    "folders",
    "enabled",
    "mute",
    "preview",
    "open_url",
    "open_command",
];

fn is_account_key(key: &str) -> bool {
    ACCOUNT_KEYS.contains(&key) || Timing::KNOBS.iter().any(|knob| knob.key == key)
}

fn is_notification_key(key: &str) -> bool {
    NOTIFICATION_KEYS.contains(&key) || Notifications::KNOBS.iter().any(|knob| knob.key == key)
}

/// Parses config text into a [`Config`] without validating it. `path` is only used in error
/// messages; `base_dir` resolves a relative `ca_file`.
pub(super) fn parse(text: &str, path: &Path, base_dir: &Path) -> Result<Config, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|err| describe_toml_error(text, path, &err))?;
    let accounts = raw
        .accounts
        .into_iter()
        .map(|account| convert_account(account, text, path, base_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let general = General {
        language: raw.general.language.unwrap_or_default(),
        open_command: raw.general.open_command,
    };
    let notifications = convert_notifications(raw.notifications, text, path)?;
    Ok(Config {
        accounts,
        general,
        notifications,
    })
}

fn convert_notifications(
    raw: RawNotifications,
    text: &str,
    path: &Path,
) -> Result<Notifications, ConfigError> {
    let quiet_hours = match raw.quiet_hours {
        None => None,
        Some(spanned) => {
            let span = spanned.span();
            let times = spanned.into_inner();
            let parsed = match times.as_slice() {
                [start, end] => parse_time(start).zip(parse_time(end)),
                _ => None,
            };
            let Some((start, end)) = parsed else {
                return Err(parse_error(
                    text,
                    path,
                    span.start,
                    Some("quiet_hours"),
                    "`quiet_hours` must be a start and an end time, 24-hour HH:MM in quotes,                      e.g. [\"22:00\", \"07:00\"]"
                        .to_owned(),
                ));
            };
            Some(QuietHours { start, end })
        }
    };
    let count = |value: Option<u32>, knob: Knob| {
        // Knob defaults are small constants; the fallback is never used.
        value.unwrap_or_else(|| u32::try_from(knob.default).unwrap_or(u32::MAX))
    };
    let secs = |value: Option<u64>, knob: Knob| Duration::from_secs(value.unwrap_or(knob.default));
    Ok(Notifications {
        enabled: raw.enabled.unwrap_or(true),
        quiet_hours,
        vip: raw.vip.unwrap_or_default(),
        summary_threshold: count(raw.summary_threshold, Notifications::SUMMARY_THRESHOLD),
        summary_window: secs(raw.summary_window_secs, Notifications::SUMMARY_WINDOW),
        notify_timeout: secs(raw.notify_timeout_secs, Notifications::NOTIFY_TIMEOUT),
        history_size: count(raw.history_size, Notifications::HISTORY_SIZE),
    })
}

/// `"HH:MM"`, two digits each. Only the shape is checked here; the ranges (hour below 24,
/// minute below 60) are validation rules, because values built in code need them too.
fn parse_time(text: &str) -> Option<(u8, u8)> {
    let (hour, minute) = text.split_once(':')?;
    let two_digits = |part: &str| {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u8>().ok())
            .flatten()
    };
    Some((two_digits(hour)?, two_digits(minute)?))
}

/// The file spelling of a time of day, `HH:MM`.
pub(super) fn format_time((hour, minute): (u8, u8)) -> String {
    format!("{hour:02}:{minute:02}")
}

fn convert_account(
    raw: Spanned<RawAccount>,
    text: &str,
    path: &Path,
    base_dir: &Path,
) -> Result<Account, ConfigError> {
    let header = raw.span();
    let raw = raw.into_inner();
    let missing = |key: &str, example: &str| {
        parse_error(
            text,
            path,
            header.start,
            Some(key),
            format!("[[accounts]] is missing the required key `{key}`, e.g. {key} = {example}"),
        )
    };
    let id = raw.id.ok_or_else(|| missing("id", "\"work\""))?;
    let host = raw
        .host
        .ok_or_else(|| missing("host", "\"imap.example.com\""))?;
    let username = raw.username.ok_or_else(|| missing("username", "\"ana\""))?;
    let security = raw.security.unwrap_or_default();

    let ca_file = match raw.ca_file {
        None => None,
        Some(file) => Some(resolve_ca_file(&id, &file, base_dir)?),
    };
    let open = match (raw.open_url, raw.open_command) {
        (None, None) => OpenTarget::Default,
        (Some(url), None) => OpenTarget::Url(url),
        (None, Some(argv)) => OpenTarget::Command(argv),
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                account: Some(id),
                key: "open_url".to_owned(),
                message: "`open_url` and `open_command` are both set; keep the one that should \
                          open when you click a notification (a webmail page or a program)"
                    .to_owned(),
            });
        }
    };

    let secs = |value: Option<u64>, knob: Knob| Duration::from_secs(value.unwrap_or(knob.default));
    let timing = Timing {
        idle_refresh: secs(raw.idle_refresh_secs, Timing::IDLE_REFRESH),
        dead_after: secs(raw.dead_after_secs, Timing::DEAD_AFTER),
        poll_interval: secs(raw.poll_interval_secs, Timing::POLL_INTERVAL),
        backoff_min: secs(raw.backoff_min_secs, Timing::BACKOFF_MIN),
        backoff_max: secs(raw.backoff_max_secs, Timing::BACKOFF_MAX),
        connect_timeout: secs(raw.connect_timeout_secs, Timing::CONNECT_TIMEOUT),
        command_timeout: secs(raw.command_timeout_secs, Timing::COMMAND_TIMEOUT),
        done_timeout: secs(raw.done_timeout_secs, Timing::DONE_TIMEOUT),
        max_logins_per_minute: raw
            .max_logins_per_minute
            .unwrap_or(Timing::DEFAULT.max_logins_per_minute),
        throttle_backoff: secs(raw.throttle_backoff_secs, Timing::THROTTLE_BACKOFF),
        max_connections: raw
            .max_connections
            .unwrap_or(Timing::DEFAULT.max_connections),
    };

    Ok(Account {
        name: raw.name.unwrap_or_else(|| id.clone()),
        email: raw.email,
        host,
        port: raw.port.unwrap_or(security.default_port()),
        security,
        username,
        password: match raw.password_command {
            Some(argv) => PasswordSource::Command(argv),
            None => PasswordSource::Keyring,
        },
        ca_file,
        folders: raw.folders.unwrap_or_else(default_folders),
        enabled: raw.enabled.unwrap_or(true),
        timing,
        mute: raw.mute.unwrap_or(false),
        preview: raw.preview.unwrap_or_default(),
        open,
        id,
    })
}

/// Resolves `ca_file` against the config file's directory, so the file means the same thing
/// whichever directory Pushmail was started from.
fn resolve_ca_file(id: &str, file: &str, base_dir: &Path) -> Result<PathBuf, ConfigError> {
    let invalid = |message: &str| ConfigError::Invalid {
        account: Some(id.to_owned()),
        key: "ca_file".to_owned(),
        message: message.to_owned(),
    };
    if file.is_empty() {
        return Err(invalid(
            "`ca_file` is empty; remove the key to trust only the system's certificates",
        ));
    }
    if file.starts_with('~') {
        return Err(invalid(
            "`ca_file` starts with `~`, which is not expanded; write the full path \
             (e.g. \"/home/ana/certs/ca.pem\") or a path relative to the config file",
        ));
    }
    Ok(base_dir.join(file))
}

// ---------------------------------------------------------------------------------------------
// Errors that name the line and the key
// ---------------------------------------------------------------------------------------------

/// Builds a [`ConfigError::Parse`] for a byte offset into `text`.
pub(super) fn parse_error(
    text: &str,
    path: &Path,
    offset: usize,
    key: Option<&str>,
    message: String,
) -> ConfigError {
    let (line, column) = line_column(text, offset);
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        key: key.map(str::to_owned),
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset; offsets past the end or inside a
/// character are clamped rather than trusted.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
    let line_text = &before[line_start..];
    let line_text = line_text.strip_prefix('\u{feff}').unwrap_or(line_text);
    (line, line_text.chars().count() + 1)
}

/// Where an error span lies in the document: the key it is on or under, and the tables
/// leading to it.
struct Hit<'a> {
    path: Vec<Segment<'a>>,
    key: &'a str,
    /// The span is on the key itself (unknown key, duplicate key) rather than its value.
    on_key: bool,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// The table an error is in, for wording and for the list of allowed keys.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    General,
    Notifications,
    Account,
    Other,
}

impl Context {
    fn of(path: &[Segment<'_>]) -> Context {
        match path {
            [] => Context::Root,
            [Segment::Key("general")] => Context::General,
            [Segment::Key("notifications")] => Context::Notifications,
            [Segment::Key("accounts"), Segment::Index(_)] => Context::Account,
            _ => Context::Other,
        }
    }

    fn allows(self, key: &str) -> bool {
        match self {
            Context::Root => ROOT_KEYS.contains(&key),
            Context::General => GENERAL_KEYS.contains(&key),
            Context::Notifications => is_notification_key(key),
            Context::Account => is_account_key(key),
            Context::Other => false,
        }
    }

    fn known_keys(self) -> Vec<&'static str> {
        match self {
            Context::Root => ROOT_KEYS.to_vec(),
            Context::General => GENERAL_KEYS.to_vec(),
            Context::Notifications => NOTIFICATION_KEYS
                .iter()
                .copied()
                .chain(Notifications::KNOBS.iter().map(|knob| knob.key))
                .collect(),
            Context::Account => ACCOUNT_KEYS
                .iter()
                .copied()
                .chain(Timing::KNOBS.iter().map(|knob| knob.key))
                .collect(),
            Context::Other => Vec::new(),
        }
    }

    /// The table header a key of this context goes below, as the user writes it.
    fn header(self) -> &'static str {
        match self {
            Context::General => "[general]",
            Context::Notifications => "[notifications]",
            Context::Account => "[[accounts]]",
            Context::Root | Context::Other => "",
        }
    }
}

/// Turns toml's error into one that names line and key in words a user can act on.
///
/// The key is found structurally: the document is parsed again into a spanned tree and the
/// error's span is looked up in it. We never interpret toml's or serde's message text; it is
/// only shown when we have nothing better to say.
fn describe_toml_error(text: &str, path: &Path, err: &toml::de::Error) -> ConfigError {
    let span = err.span();
    let offset = span.as_ref().map_or(0, |span| span.start);
    let toml_message = one_line(err.message());
    let (tree, syntax_errors) = DeTable::parse_recoverable(text);
    let hit = span
        .as_ref()
        .and_then(|span| locate(tree.get_ref(), span, &mut Vec::new()));

    if !syntax_errors.is_empty() {
        // Not TOML at all: toml's description is the best we have; add the key if we can
        // tell which one the broken line sets.
        let key = hit
            .map(|hit| hit.key.to_owned())
            .or_else(|| key_on_line(text, offset));
        let message = match &key {
            Some(key) => format!("{toml_message} (at `{key}`)"),
            None => toml_message,
        };
        return parse_error(text, path, offset, key.as_deref(), message);
    }

    let Some(hit) = hit else {
        return parse_error(text, path, offset, None, toml_message);
    };
    let context = Context::of(&hit.path);
    let message = if hit.on_key && !context.allows(hit.key) {
        unknown_key_message(hit.key, context, &hit.path)
    } else if hit.on_key {
        format!("`{}`: {toml_message}", hit.key)
    } else {
        match expected_value(context, hit.key) {
            Some(expected) => {
                let found = span
                    .as_ref()
                    .and_then(|span| text.get(span.clone()))
                    .map(|found| quote_for_message(found.trim(), '`'))
                    .filter(|found| found.len() > 2);
                match found {
                    Some(found) => format!("`{}` must be {expected}, not {found}", hit.key),
                    None => format!("`{}` must be {expected}", hit.key),
                }
            }
            None => format!("`{}`: {toml_message}", hit.key),
        }
    };
    parse_error(text, path, offset, Some(hit.key), message)
}

/// Finds the key whose name or value contains the start of `span`. Tables are always
/// descended into, because the span of a `[[accounts]]` table covers only its header.
fn locate<'a>(
    table: &'a DeTable<'_>,
    span: &Range<usize>,
    path: &mut Vec<Segment<'a>>,
) -> Option<Hit<'a>> {
    for (key, value) in table.iter() {
        let key_name: &'a str = key.get_ref();
        if covers(&key.span(), span) {
            return Some(Hit {
                path: path.clone(),
                key: key_name,
                on_key: true,
            });
        }
        path.push(Segment::Key(key_name));
        let deeper = locate_in_value(value.get_ref(), span, path);
        path.pop();
        if deeper.is_some() {
            return deeper;
        }
        if covers(&value.span(), span) {
            return Some(Hit {
                path: path.clone(),
                key: key_name,
                on_key: false,
            });
        }
    }
    None
}

fn locate_in_value<'a>(
    value: &'a DeValue<'_>,
    span: &Range<usize>,
    path: &mut Vec<Segment<'a>>,
) -> Option<Hit<'a>> {
    match value {
        DeValue::Table(table) => locate(table, span, path),
        DeValue::Array(array) => array.iter().enumerate().find_map(|(index, element)| {
            path.push(Segment::Index(index));
            let hit = locate_in_value(element.get_ref(), span, path);
            path.pop();
            hit
        }),
        _ => None,
    }
}

fn covers(range: &Range<usize>, span: &Range<usize>) -> bool {
    if range.start == range.end {
        span.start == range.start
    } else {
        range.start <= span.start && span.start < range.end
    }
}

/// For a syntax error with no usable tree: the key assigned on the error's line, if the line
/// looks like `key = ...`.
fn key_on_line(text: &str, offset: usize) -> Option<String> {
    let (line, _) = line_column(text, offset);
    let line_text = text.lines().nth(line - 1)?;
    let (key, _) = line_text.split_once('=')?;
    let key = key.trim();
    let plausible = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plausible.then(|| key.to_owned())
}

fn unknown_key_message(key: &str, context: Context, path: &[Segment<'_>]) -> String {
    let shown = quote_for_message(key, '`');
    let place = match context {
        Context::Root => "at the top level".to_owned(),
        Context::General | Context::Notifications | Context::Account => {
            format!("in {}", context.header())
        }
        Context::Other => format!("in `{}`", dotted(path)),
    };
    if context == Context::Account && is_password_key(key) {
        return format!(
            "unknown key {shown} {place} — Pushmail never reads passwords from this file; \
             remove it and store the password in the OS keyring (account settings), or set \
             `password_command` to a program that prints it"
        );
    }
    if context == Context::Root {
        let homes: Vec<&str> = [Context::General, Context::Notifications, Context::Account]
            .into_iter()
            .filter(|home| home.allows(key))
            .map(Context::header)
            .collect();
        if homes == ["[[accounts]]"] {
            return format!(
                "unknown key {shown} {place} — account settings go below an [[accounts]] line"
            );
        }
        if !homes.is_empty() {
            return format!(
                "unknown key {shown} {place} — it belongs in the {} section; put it below \
                 that line",
                homes.join(" or ")
            );
        }
    }
    match suggest(key, &context.known_keys()) {
        Some(suggestion) => format!("unknown key {shown} {place} — did you mean `{suggestion}`?"),
        None => match context {
            Context::Root => format!(
                "unknown key {shown} {place} — the top level holds only the sections \
                 [general], [notifications] and [[accounts]] (one per account)"
            ),
            _ => format!("unknown key {shown} {place} — see docs/configuration.md for the keys"),
        },
    }
}

fn is_password_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "password" | "pass" | "passwd" | "pwd" | "secret"
    )
}

fn dotted(path: &[Segment<'_>]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The closest allowed key: a known alias, a key this one is a prefix of (`idle_refresh` →
/// `idle_refresh_secs`), or one within a small edit distance (`pasword_command`).
fn suggest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let lower = key.to_ascii_lowercase().replace('-', "_");
    let alias = match lower.as_str() {
        "user" | "user_name" | "login" | "imap_user" => Some("username"),
        "server" | "hostname" | "imap_host" | "imap_server" | "address" => Some("host"),
        "ssl" | "tls" | "starttls" | "encryption" | "secure" => Some("security"),
        "folder" | "mailbox" | "mailboxes" => Some("folders"),
        "ca" | "cafile" | "ca_cert" | "ca_path" | "certificate" | "cert" => Some("ca_file"),
        "display_name" | "label" => Some("name"),
        "mail" | "e_mail" => Some("email"),
        "disabled" => Some("enabled"),
        "notify" | "notification" | "popups" => Some("notifications"),
        "settings" | "global" | "app" => Some("general"),
        "account" => Some("accounts"),
        "lang" | "locale" => Some("language"),
        "quiet" | "quiet_time" | "dnd" | "do_not_disturb" => Some("quiet_hours"),
        "vips" | "important" | "priority" => Some("vip"),
        "muted" | "silent" | "silence" => Some("mute"),
        "show" | "privacy" => Some("preview"),
        "url" | "webmail" | "web_url" => Some("open_url"),
        "command" | "cmd" | "open_cmd" | "client" | "mail_client" | "open" | "open_with" => {
            Some("open_command")
        }
        _ => None,
    };
    if let Some(alias) = alias.and_then(|alias| known.iter().find(|k| **k == alias)) {
        return Some(alias);
    }
    if lower.len() >= 3
        && let Some(prefixed) = known.iter().find(|k| k.starts_with(lower.as_str()))
    {
        return Some(prefixed);
    }
    known
        .iter()
        .map(|k| (edit_distance(&lower, k), *k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 5))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b.len()]
}

/// What a key's value must look like, in the user's terms.
fn expected_value(context: Context, key: &str) -> Option<String> {
    let text = match (context, key) {
        (Context::Root, "accounts") => {
            "a list of accounts, each starting with a line [[accounts]] (double brackets)"
        }
        (Context::Root, "general") => "a table: a line [general] followed by its keys",
        (Context::Root, "notifications") => "a table: a line [notifications] followed by its keys",
        (Context::General, "language") => {
            let names: Vec<String> = Language::ALL
                .iter()
                .map(|language| format!("\"{language}\""))
                .collect();
            return Some(format!("one of {}", names.join(", ")));
        }
        (Context::General | Context::Account, "open_command") => {
            "a list of strings: the program and its arguments (no shell), \
             e.g. [\"thunderbird\"]"
        }
        (Context::Notifications, "enabled") => "true or false",
        (Context::Notifications, "quiet_hours") => {
            "a start and an end time, 24-hour HH:MM in quotes, e.g. [\"22:00\", \"07:00\"]"
        }
        (Context::Notifications, "vip") => {
            "a list of addresses or @domains, e.g. [\"boss@example.com\", \"@family.example\"]"
        }
        (Context::Notifications, key) => return knob_expectation(&Notifications::KNOBS, key),
        (Context::Account, "mute") => "true or false",
        (Context::Account, "preview") => "one of \"full\", \"sender\" or \"count\"",
        (Context::Account, "open_url") => {
            "a web address in quotes, e.g. \"https://mail.example.com/\""
        }
        (Context::Account, "id") => "a short name in quotes, e.g. \"work\"",
        (Context::Account, "name") => "text in quotes, e.g. \"Work\"",
        (Context::Account, "email") => "an address in quotes, e.g. \"ana@example.com\"",
        (Context::Account, "host") => "a server name in quotes, e.g. \"imap.example.com\"",
        (Context::Account, "port") => "a whole number from 1 to 65535, e.g. 993",
        (Context::Account, "security") => "one of \"tls\", \"starttls\" or \"plain\"",
        (Context::Account, "username") => "the login name in quotes, e.g. \"ana\"",
        (Context::Account, "password_command") => {
            "a list of strings: the program and its arguments (no shell), \
             e.g. [\"pass\", \"show\", \"mail/work\"]"
        }
        (Context::Account, "ca_file") => "a file path in quotes",
        (Context::Account, "folders") => "a list of folder names, e.g. [\"INBOX\"]",
        (Context::Account, "enabled") => "true or false",
        (Context::Account, key) => return knob_expectation(&Timing::KNOBS, key),
        _ => return None,
    };
    Some(text.to_owned())
}

fn knob_expectation(knobs: &[Knob], key: &str) -> Option<String> {
    let knob = knobs.iter().find(|knob| knob.key == key)?;
    let unit = if knob.key.ends_with("_secs") {
        " seconds"
    } else {
        ""
    };
    Some(format!(
        "a whole number from {} to {}{unit}",
        knob.min, knob.max
    ))
}

fn one_line(message: &str) -> String {
    message.trim().replace('\n', "; ")
}

/// Shows user-supplied text inside a message: control characters escaped, at most 40
/// characters, wrapped in `quote`.
pub(super) fn quote_for_message(text: &str, quote: char) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::new();
    out.push(quote);
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

const HEADER: &str = "\
# Pushmail configuration; keys are described in docs/configuration.md.
# Pushmail rewrites this file when settings change; comments other than this header are not kept.
# No passwords here: they live in the OS keyring or come from password_command.
";

/// Writes the config with the public key names, omitting defaults.
///
/// Hand-written rather than through serde so it cannot fail: every key is a fixed bare key
/// and every string goes through [`push_string`].
pub(super) fn to_toml_string(config: &Config) -> String {
    let mut out = String::from(HEADER);
    let general = general_lines(&config.general);
    if !general.is_empty() {
        out.push_str("\n[general]\n");
        out.push_str(&general);
    }
    let notifications = notification_lines(&config.notifications);
    if !notifications.is_empty() {
        out.push_str("\n[notifications]\n");
        out.push_str(&notifications);
    }
    for account in &config.accounts {
        out.push_str("\n[[accounts]]\n");
        push_account(&mut out, account);
    }
    out
}

/// The non-default keys of `[general]`; empty when everything is default, so the section is
/// left out.
fn general_lines(general: &General) -> String {
    let mut out = String::new();
    if general.language != Language::default() {
        push_key_string(&mut out, "language", general.language.as_str());
    }
    if let Some(argv) = &general.open_command {
        push_key_array(&mut out, "open_command", argv);
    }
    out
}

/// The non-default keys of `[notifications]`; empty when everything is default.
fn notification_lines(notifications: &Notifications) -> String {
    let mut out = String::new();
    if !notifications.enabled {
        out.push_str("enabled = false\n");
    }
    if let Some(quiet) = &notifications.quiet_hours {
        push_key_array(
            &mut out,
            "quiet_hours",
            &[format_time(quiet.start), format_time(quiet.end)],
        );
    }
    if !notifications.vip.is_empty() {
        push_key_array(&mut out, "vip", &notifications.vip);
    }
    push_knobs(&mut out, notifications.values());
    out
}

fn push_knobs<const N: usize>(out: &mut String, values: [(Knob, KnobValue); N]) {
    for (knob, value) in values {
        let value = value.file_value();
        if value != knob.default {
            out.push_str(&format!("{} = {value}\n", knob.key));
        }
    }
}

fn push_account(out: &mut String, account: &Account) {
    push_key_string(out, "id", &account.id);
    if account.name != account.id {
        push_key_string(out, "name", &account.name);
    }
    if let Some(email) = &account.email {
        push_key_string(out, "email", email);
    }
    push_key_string(out, "host", &account.host);
    if account.port != account.security.default_port() {
        out.push_str(&format!("port = {}\n", account.port));
    }
    if account.security != Security::default() {
        push_key_string(out, "security", account.security.as_str());
    }
    push_key_string(out, "username", &account.username);
    if let PasswordSource::Command(argv) = &account.password {
        push_key_array(out, "password_command", argv);
    }
    if let Some(ca_file) = &account.ca_file {
        // Non-UTF-8 paths are refused by validation; lossy here only keeps this infallible.
        push_key_string(out, "ca_file", &ca_file.to_string_lossy());
    }
    if account.folders != default_folders() {
        push_key_array(out, "folders", &account.folders);
    }
    if !account.enabled {
        out.push_str("enabled = false\n");
    }
    push_knobs(out, account.timing.values());
    if account.mute {
        out.push_str("mute = true\n");
    }
    if account.preview != Preview::default() {
        push_key_string(out, "preview", account.preview.as_str());
    }
    match &account.open {
        OpenTarget::Default => {}
        OpenTarget::Url(url) => push_key_string(out, "open_url", url),
        OpenTarget::Command(argv) => push_key_array(out, "open_command", argv),
    }
}

fn push_key_string(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    push_string(out, value);
    out.push('\n');
}

fn push_key_array(out: &mut String, key: &str, values: &[String]) {
    out.push_str(key);
    out.push_str(" = [");
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        push_string(out, value);
    }
    out.push_str("]\n");
}

/// A TOML basic string. Escapes are limited to those of TOML 1.0 so any TOML parser (a
/// user's script, an older tool) reads the file back.
fn push_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
