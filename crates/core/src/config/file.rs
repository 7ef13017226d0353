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
    PasswordSource, Preview, Protocol, QuietHours, Security, Timing, default_folders,
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
    protocol: Option<Protocol>,
    host: Option<String>,
    port: Option<u16>,
    security: Option<Security>,
    username: Option<String>,
    password_command: Option<Vec<String>>,
    auth: Option<AuthKind>,
    oauth_provider: Option<String>,
    oauth_tenant: Option<String>,
    oauth_client_id: Option<String>,
    oauth_client_secret: Option<String>,
    oauth_authorization_endpoint: Option<String>,
    oauth_token_endpoint: Option<String>,
    oauth_scopes: Option<Vec<String>>,
    oauth_issuer: Option<String>,
    oauth_sasl: Option<crate::oauth::sasl::SaslMechanism>,
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
    push_wait_secs: Option<u64>,
    mute: Option<bool>,
    preview: Option<Preview>,
    open_url: Option<String>,
    open_command: Option<Vec<String>>,
}

/// `auth = "password"` (the default) or `auth = "oauth2"` (sign in at the provider).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum AuthKind {
    Password,
    Oauth2,
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
pub(super) const ACCOUNT_KEYS: [&str; 26] = [
    "id",
    "name",
    "email",
    "protocol",
    "host",
    "port",
    "security",
    "username",
    "password_command",
    "auth",
    "oauth_provider",
    "oauth_tenant",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_authorization_endpoint",
    "oauth_token_endpoint",
    "oauth_scopes",
    "oauth_issuer",
    "oauth_sasl",
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
                    "`quiet_hours` must be a start and an end time, 24-hour HH:MM in quotes, e.g. [\"22:00\", \"07:00\"]"
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
    let timing = convert_timing(&raw);
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
    let protocol = raw.protocol.unwrap_or_default();

    let ca_file = match raw.ca_file {
        None => None,
        Some(file) => Some(resolve_ca_file(&id, &file, base_dir)?),
    };
    let open = convert_open(&id, raw.open_url, raw.open_command)?;
    let refuse =
        |key: &str, message: String| parse_error(text, path, header.start, Some(key), message);
    let oauth_keys_used = raw.oauth_provider.is_some()
        || raw.oauth_tenant.is_some()
        || raw.oauth_client_id.is_some()
        || raw.oauth_client_secret.is_some()
        || raw.oauth_authorization_endpoint.is_some()
        || raw.oauth_token_endpoint.is_some()
        || raw.oauth_scopes.is_some()
        || raw.oauth_issuer.is_some()
        || raw.oauth_sasl.is_some();
    let password = match (raw.auth, raw.password_command) {
        (Some(AuthKind::Oauth2), Some(_)) => {
            return Err(refuse(
                "password_command",
                format!(
                    "account `{id}` signs in with `auth = \"oauth2\"` and also has a \
                     `password_command`: an account uses one or the other; remove \
                     `password_command` (the sign-in keeps its token in the keyring) or the \
                     `auth` line"
                ),
            ));
        }
        (Some(AuthKind::Oauth2), None) => {
            let provider = raw.oauth_provider.clone().ok_or_else(|| {
                refuse(
                    "oauth_provider",
                    format!(
                        "account `{id}` signs in with `auth = \"oauth2\"` but does not say \
                         where: add `oauth_provider = \"google\"` (or microsoft, yahoo, aol, \
                         fastmail, custom)"
                    ),
                )
            })?;
            PasswordSource::OAuth2(Box::new(crate::config::OAuthSettings {
                provider,
                tenant: raw.oauth_tenant.clone(),
                client_id: raw.oauth_client_id.clone(),
                client_secret: raw.oauth_client_secret.clone(),
                authorization_endpoint: raw.oauth_authorization_endpoint.clone(),
                token_endpoint: raw.oauth_token_endpoint.clone(),
                scopes: raw.oauth_scopes.clone(),
                issuer: raw.oauth_issuer.clone(),
                sasl: raw.oauth_sasl,
            }))
        }
        (_, _) if oauth_keys_used => {
            return Err(refuse(
                "oauth_provider",
                format!(
                    "account `{id}` has `oauth_*` keys but no `auth = \"oauth2\"`: add that \
                     line to sign in at the provider, or remove the `oauth_*` keys"
                ),
            ));
        }
        (_, Some(argv)) => PasswordSource::Command(argv),
        (_, None) => PasswordSource::Keyring,
    };

    Ok(Account {
        name: raw.name.unwrap_or_else(|| id.clone()),
        email: raw.email,
        protocol,
        host,
        port: raw.port.unwrap_or(protocol.default_port(security)),
        security,
        username,
        password,
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

/// The account's timing knobs, each key left out taking its default.
fn convert_timing(raw: &RawAccount) -> Timing {
    let secs = |value: Option<u64>, knob: Knob| Duration::from_secs(value.unwrap_or(knob.default));
    Timing {
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
        push_wait: secs(raw.push_wait_secs, Timing::PUSH_WAIT),
    }
}

/// What a click on the account's notification opens: `open_url` or `open_command`, never
/// both (the file would not say which one wins), else the desktop's default mail client.
fn convert_open(
    id: &str,
    open_url: Option<String>,
    open_command: Option<Vec<String>>,
) -> Result<OpenTarget, ConfigError> {
    Ok(match (open_url, open_command) {
        (None, None) => OpenTarget::Default,
        (Some(url), None) => OpenTarget::Url(url),
        (None, Some(argv)) => OpenTarget::Command(argv),
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                account: Some(id.to_owned()),
                key: "open_url".to_owned(),
                message: "`open_url` and `open_command` are both set; keep the one that should \
                          open when you click a notification (a webmail page or a program)"
                    .to_owned(),
            });
        }
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
        (Context::Account, "protocol") => "\"imap\" or \"pop3\"",
        (Context::Account, "auth") => "\"password\" or \"oauth2\"",
        (Context::Account, "oauth_sasl") => "\"oauthbearer\" or \"xoauth2\"",
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
    if account.protocol != Protocol::default() {
        push_key_string(out, "protocol", account.protocol.as_str());
    }
    push_key_string(out, "host", &account.host);
    if account.port != account.protocol.default_port(account.security) {
        out.push_str(&format!("port = {}\n", account.port));
    }
    if account.security != Security::default() {
        push_key_string(out, "security", account.security.as_str());
    }
    push_key_string(out, "username", &account.username);
    match &account.password {
        PasswordSource::Keyring | PasswordSource::Vault => {}
        PasswordSource::Command(argv) => push_key_array(out, "password_command", argv),
        PasswordSource::OAuth2(o) => {
            push_key_string(out, "auth", "oauth2");
            push_key_string(out, "oauth_provider", &o.provider);
            for (key, value) in [
                ("oauth_tenant", &o.tenant),
                ("oauth_client_id", &o.client_id),
                ("oauth_client_secret", &o.client_secret),
                ("oauth_authorization_endpoint", &o.authorization_endpoint),
                ("oauth_token_endpoint", &o.token_endpoint),
                ("oauth_issuer", &o.issuer),
            ] {
                if let Some(v) = value {
                    push_key_string(out, key, v);
                }
            }
            if let Some(scopes) = &o.scopes {
                push_key_array(out, "oauth_scopes", scopes);
            }
            if let Some(sasl) = o.sasl {
                let name = match sasl {
                    crate::oauth::sasl::SaslMechanism::OAuthBearer => "oauthbearer",
                    crate::oauth::sasl::SaslMechanism::XOAuth2 => "xoauth2",
                };
                push_key_string(out, "oauth_sasl", name);
            }
        }
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

#[cfg(test)]
mod tests {
    // Tests may unwrap: a panic here is a failed test with a clear location.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::fs;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use proptest::prelude::*;

    use crate::config::test_support::*;
    use crate::config::*;

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
    fn pop3_accounts_get_pop3_ports_and_round_trip() {
        let text = "[[accounts]]\nid = \"a\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\n\
                    [[accounts]]\nid = \"b\"\nprotocol = \"pop3\"\nhost = \"h\"\nusername = \"u\"\n\
                    security = \"starttls\"\n\
                    [[accounts]]\nid = \"c\"\nhost = \"h\"\nusername = \"u\"\n";
        let config = parse(text).unwrap();
        let ports: Vec<(Protocol, u16)> = config
            .accounts
            .iter()
            .map(|a| (a.protocol, a.port))
            .collect();
        assert_eq!(
            ports,
            [
                (Protocol::Pop3, 995),
                (Protocol::Pop3, 110),
                (Protocol::Imap, 993)
            ]
        );
        let written = config.to_toml_string();
        assert_eq!(written.matches("protocol = \"pop3\"").count(), 2);
        assert!(
            !written.contains("port ="),
            "default ports are left out:\n{written}"
        );
        assert!(!written.contains("protocol = \"imap\""));
        assert_eq!(parse(&written).unwrap(), config);

        let (line, key, shown) = parse_error(&format!("{VALID_ACCOUNT}protocol = \"smtp\"\n"));
        assert_eq!((line, key.as_deref()), (5, Some("protocol")));
        assert!(shown.contains("\"imap\" or \"pop3\""), "{shown}");
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
    fn a_sign_in_account_is_read_and_its_mistakes_named() {
        let base =
            "[[accounts]]\nid = \"g\"\nhost = \"imap.gmail.com\"\nusername = \"ana@gmail.com\"\n";
        let config = parse(&format!(
            "{base}auth = \"oauth2\"\noauth_provider = \"google\"\n"
        ))
        .unwrap();
        match &config.accounts[0].password {
            PasswordSource::OAuth2(o) => assert_eq!(o.provider, "google"),
            other => panic!("{other:?}"),
        }
        config.validate().unwrap();
        for (extra, key, words) in [
            (
                "auth = \"oauth2\"\noauth_provider = \"google\"\npassword_command = [\"pass\"]\n",
                "password_command",
                "one or the other",
            ),
            (
                "auth = \"oauth2\"\n",
                "oauth_provider",
                "does not say where",
            ),
            (
                "oauth_provider = \"google\"\n",
                "oauth_provider",
                "no `auth = \"oauth2\"`",
            ),
        ] {
            let (_, k, shown) = parse_error(&format!("{base}{extra}"));
            assert_eq!(k.as_deref(), Some(key), "{shown}");
            assert!(shown.contains(words), "{shown}");
        }
        // Valid TOML, but a sign-in that cannot work: refused by validation, with the key.
        for (extra, key) in [
            (
                "auth = \"oauth2\"\noauth_provider = \"gmail\"\n",
                "oauth_provider",
            ),
            (
                "auth = \"oauth2\"\noauth_provider = \"custom\"\n",
                "oauth_provider",
            ),
            (
                "auth = \"oauth2\"\noauth_provider = \"google\"\noauth_token_endpoint = \"http://login.example.org/t\"\n",
                "oauth_provider",
            ),
            (
                "protocol = \"pop3\"\nauth = \"oauth2\"\noauth_provider = \"google\"\n",
                "auth",
            ),
        ] {
            match parse(&format!("{base}{extra}")) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{extra}"),
                other => panic!("{extra}: {other:?}"),
            }
        }
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
    fn the_examples_in_the_documentation_are_valid() {
        // Read at run time rather than include_str!, so packaging the crate alone still builds.
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        let Ok(doc) = fs::read_to_string(&doc) else {
            return;
        };
        let (signin, blocks): (Vec<&str>, Vec<&str>) = doc
            .split("```toml\n")
            .skip(1)
            .filter_map(|rest| rest.split("```").next())
            .partition(|block| block.contains("auth = \"oauth2\""));
        // The sign-in section's example.
        assert_eq!(signin.len(), 1, "the sign-in example");
        let config = parse(signin[0]).unwrap_or_else(|err| panic!("{err}\n{}", signin[0]));
        assert!(matches!(
            &config.accounts[0].password,
            PasswordSource::OAuth2(o) if o.provider == "google"
        ));
        assert_eq!(
            blocks.len(),
            3,
            "expected full, minimal and all-defaults examples"
        );
        let configs: Vec<Config> = blocks
            .iter()
            .map(|block| parse(block).unwrap_or_else(|err| panic!("{err}\n{block}")))
            .collect();
        assert_eq!(configs[0].accounts.len(), 4);
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
    fn ca_file_with_a_tilde_or_empty_is_refused() {
        let text = "[[accounts]]\nid = \"a\"\nhost = \"h.example\"\nusername = \"u\"\n\
                    ca_file = \"~/ca.pem\"\n";
        let err = parse(text).unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key, .. } if key == "ca_file"));
        assert!(err.to_string().contains("not expanded"), "{err}");
        let err = parse(&text.replace("~/ca.pem", "")).unwrap_err();
        assert!(matches!(&err, ConfigError::Invalid { key, .. } if key == "ca_file"));
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

    // --- parse errors name the line and the key ------------------------------------------

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
                secs(Timing::PUSH_WAIT),
            ),
        )
            .prop_map(
                |(
                    (idle, dead, poll, b1, b2),
                    (connect, command, done, logins, throttle, push_wait),
                )| Timing {
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
                    push_wait,
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
                protocol: Protocol::Imap,
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
