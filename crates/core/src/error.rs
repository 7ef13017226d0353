//! Errors callers branch on. Everything else is `anyhow` with context.

use std::collections::HashMap;
use std::io;
use std::sync::{Mutex, OnceLock};

use crate::i18n::{I18n, text};

/// Why a connection or login did not produce a usable session. The engine branches on the
/// variant (back off, throttle, stop in `auth_failed`); people read [`ConnectError::hint`].
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP failed, the connection dropped, or the server closed it.
    #[error("{0}")]
    Network(String),
    /// A step took longer than its configured timeout.
    #[error("timed out while {0}")]
    Timeout(&'static str),
    /// Certificate or handshake failure. Never retried without verification.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// `security = "starttls"` but the server does not offer STARTTLS (or an attacker removed it).
    #[error("the server does not offer STARTTLS, so the connection cannot be encrypted")]
    StarttlsUnavailable,
    /// The server answered STARTTLS with NO/BAD.
    #[error("the server refused STARTTLS: {0}")]
    StarttlsRefused(String),
    /// The server forbids plaintext LOGIN on this connection and offers nothing we can use.
    #[error("the server does not allow logging in on an unencrypted connection")]
    LoginDisabled,
    /// Wrong user name or password (or the account is disabled on the server).
    #[error("login failed: {0}")]
    Auth(String),
    /// The server is overloaded or limits connections (`NO [UNAVAILABLE]`, greeting BYE).
    #[error("the server is busy or limits connections: {0}")]
    Throttled(String),
    /// The server said something that breaks the protocol or our limits.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server (or something between us and it) did what an attacker would: a PREAUTH
    /// greeting on a connection that was to be encrypted, data injected around STARTTLS.
    /// Like a certificate problem it is retried (a captive portal may be the cause and go
    /// away) but always shown as needing attention ([`ConnectError::is_security`]).
    #[error("unsafe connection refused: {0}")]
    Unsafe(String),
    /// The state database cannot be written (a full disk, permissions): `path: reason`.
    /// Nothing is announced that cannot be recorded, so the session ends until it can.
    #[error("cannot write the state database {0}")]
    Store(String),
    /// The password could not be obtained.
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
    /// The account configuration cannot work as written.
    #[error("{0}")]
    Config(String),
}

impl ConnectError {
    /// The Fluent id of [`hint`](Self::hint): `hint-network`, `hint-timeout`, `hint-tls`,
    /// `hint-starttls`, `hint-login-disabled`, `hint-auth`, `hint-throttled`, `hint-protocol`,
    /// `hint-config`, `hint-unsafe`, `hint-store`, or the password problem's `hint-secret-*`.
    pub fn hint_id(&self) -> &'static str {
        match self {
            ConnectError::Network(_) => "hint-network",
            ConnectError::Timeout(_) => "hint-timeout",
            ConnectError::Tls(_) => "hint-tls",
            ConnectError::StarttlsUnavailable | ConnectError::StarttlsRefused(_) => "hint-starttls",
            ConnectError::LoginDisabled => "hint-login-disabled",
            ConnectError::Auth(_) => "hint-auth",
            ConnectError::Throttled(_) => "hint-throttled",
            ConnectError::Protocol(_) => "hint-protocol",
            ConnectError::Unsafe(_) => "hint-unsafe",
            ConnectError::Store(_) => "hint-store",
            ConnectError::Secret(e) => e.hint_id(),
            ConnectError::Config(_) => "hint-config",
        }
    }

    /// A sentence a non-expert can act on, in English (logs, events, `--json`).
    pub fn hint(&self) -> String {
        self.hint_in(I18n::english())
    }

    /// [`hint`](Self::hint) in `i18n`'s language.
    pub fn hint_in(&self, i18n: &I18n) -> String {
        match self {
            ConnectError::Secret(e) => e.hint_in(i18n),
            other => i18n.tr_plain(other.hint_id(), &[]),
        }
    }

    /// What went wrong (the `Display` text, which is English) in `i18n`'s language. The
    /// server's or the system's own words inside it (a `NO` response, an OS error, a host
    /// name) stay as they were written; so does the text of `Network` and `Config` errors,
    /// which is such a text.
    pub fn message_in(&self, i18n: &I18n) -> String {
        let reason = |id: &str, r: &str| i18n.tr_plain(id, &[("reason", text(r))]);
        match self {
            ConnectError::Network(s) | ConnectError::Config(s) => s.clone(),
            ConnectError::Timeout(step) => i18n.tr_plain(
                "error-timeout",
                &[("step", text(&timeout_step(step, i18n)))],
            ),
            ConnectError::Tls(s) => reason("error-tls", &localize_tls(s, i18n)),
            ConnectError::StarttlsUnavailable => i18n.tr_plain("error-starttls-unavailable", &[]),
            ConnectError::StarttlsRefused(s) => reason("error-starttls-refused", s),
            ConnectError::LoginDisabled => i18n.tr_plain("error-login-disabled", &[]),
            ConnectError::Auth(s) => reason("error-auth", s),
            ConnectError::Throttled(s) => reason("error-throttled", s),
            ConnectError::Protocol(s) => reason("error-protocol", s),
            ConnectError::Unsafe(s) => reason("error-unsafe", s),
            ConnectError::Store(s) => reason("error-store", s),
            ConnectError::Secret(e) => e.message_in(i18n),
        }
    }

    /// Whether retrying later can help without the user changing anything.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ConnectError::Auth(_) | ConnectError::Config(_) | ConnectError::LoginDisabled
        ) || matches!(self, ConnectError::Secret(e) if e.is_permanent())
    }

    /// Whether this may be an attack on the connection (a certificate that does not verify,
    /// STARTTLS stripped or refused, PREAUTH or injected data around STARTTLS). No credential
    /// was sent; the watcher keeps retrying, but the account is shown as needing attention
    /// (`error`, not `backoff`) for as long as it lasts, because the user must know.
    pub fn is_security(&self) -> bool {
        matches!(
            self,
            ConnectError::Tls(_)
                | ConnectError::StarttlsUnavailable
                | ConnectError::StarttlsRefused(_)
                | ConnectError::Unsafe(_)
        )
    }

    /// Whether the account needs the user's attention while this lasts: the state is `error`
    /// rather than `backoff`. Transient network trouble stays quiet.
    pub fn needs_attention(&self) -> bool {
        self.is_permanent() || self.is_security() || matches!(self, ConnectError::Store(_))
    }

    pub(crate) fn from_tls_io(host: &str, e: io::Error) -> Self {
        let detail = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(describe_tls_error);
        match detail {
            Some(d) => ConnectError::Tls(format!("{d} ({host})")),
            None => ConnectError::Network(format!("TLS handshake with {host} failed: {e}")),
        }
    }
}

/// What a TLS error means, in English from the catalog (`tls-*`); [`localize_tls`] finds it
/// again inside a `Tls` error's text to show it in another language.
fn describe_tls_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let en = I18n::english();
    let id = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "tls-unknown-issuer",
            // The chain names a trusted CA but that CA did not sign it: a certificate from an
            // impostor CA with the same name, as an interception proxy would present.
            C::BadSignature => "tls-bad-signature",
            C::Expired | C::ExpiredContext { .. } => "tls-expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "tls-not-valid-yet",
            C::NotValidForName | C::NotValidForNameContext { .. } => "tls-wrong-host",
            C::Revoked => "tls-revoked",
            other => {
                return en.tr_plain("tls-invalid", &[("reason", text(&format!("{other:?}")))]);
            }
        },
        rustls::Error::PeerIncompatible(p) => {
            return en.tr_plain("tls-incompatible", &[("reason", text(&format!("{p:?}")))]);
        }
        other => return format!("{other}"),
    };
    en.tr_plain(id, &[])
}

/// The `tls-*` descriptions, longest English first where one begins another.
const TLS_IDS: &[&str] = &[
    "tls-bad-signature",
    "tls-unknown-issuer",
    "tls-expired",
    "tls-not-valid-yet",
    "tls-wrong-host",
    "tls-revoked",
    "tls-invalid",
    "tls-incompatible",
];

/// A `Tls` error's text ("the server's certificate has expired (imap.example.com)") with the
/// description in `i18n`'s language; text it does not recognise stays as it is.
fn localize_tls(s: &str, i18n: &I18n) -> String {
    localize_prefix(s, TLS_IDS, "reason", i18n).unwrap_or_else(|| s.to_owned())
}

/// The English phrases of `ConnectError::Timeout` and their Fluent ids (`timeout-*`).
const TIMEOUT_STEPS: &[(&str, &str)] = &[
    ("connecting", "timeout-connecting"),
    ("TLS handshake", "timeout-tls-handshake"),
    ("greeting", "timeout-greeting"),
    ("STARTTLS", "timeout-starttls"),
    ("capabilities", "timeout-capabilities"),
    ("logging in", "timeout-logging-in"),
    (
        "reading capabilities after login",
        "timeout-capabilities-after-login",
    ),
    ("listing folders", "timeout-listing-folders"),
    ("asking for NOTIFY", "timeout-asking-for-notify"),
    ("selecting a folder", "timeout-selecting-a-folder"),
    ("selecting the folder", "timeout-selecting-the-folder"),
    ("starting IDLE", "timeout-starting-idle"),
    ("ending IDLE (the link looks dead)", "timeout-ending-idle"),
    ("marking the message as read", "timeout-marking-read"),
];

/// What a `Timeout` was waiting for, in `i18n`'s language (an unlisted phrase stays English).
fn timeout_step(step: &str, i18n: &I18n) -> String {
    TIMEOUT_STEPS
        .iter()
        .find(|(en, _)| *en == step)
        .map_or_else(|| step.to_owned(), |(_, id)| i18n.tr_plain(id, &[]))
}

/// Stands in for a variable while an English message is matched against a text.
const SLOT: &str = "\u{E000}";

/// English message `id` split around its variable `var`: (before, after), or the whole
/// message and `None` when it does not use `var`.
///
/// Formatted once per (id, variable) and kept: the tray matches every state detail against
/// some thirty of these, on every event and every `GetAccounts` call.
fn english_template(id: &str, var: &str) -> (String, Option<String>) {
    type Templates = HashMap<(String, String), (String, Option<String>)>;
    static TEMPLATES: OnceLock<Mutex<Templates>> = OnceLock::new();
    let key = (id.to_owned(), var.to_owned());
    let mut cache = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(key)
        .or_insert_with(|| {
            let whole = I18n::english().tr_plain(id, &[(var, text(SLOT))]);
            match whole.split_once(SLOT) {
                Some((before, after)) => (before.to_owned(), Some(after.to_owned())),
                None => (whole, None),
            }
        })
        .clone()
}

/// If `s` is English message `id` (its variable `var` standing for any text), that text:
/// `Some("")` for a message without the variable that equals `s`.
fn match_english(s: &str, id: &str, var: &str) -> Option<String> {
    match english_template(id, var) {
        (whole, None) => (s == whole).then(String::new),
        (before, Some(after)) => s
            .strip_prefix(before.as_str())
            .and_then(|rest| rest.strip_suffix(after.as_str()))
            .map(str::to_owned),
    }
}

/// If `s` begins with the English of one of `ids` (messages whose variable `var`, if they
/// have one, ends them and takes the rest of `s`), that beginning in `i18n`'s language
/// followed by the rest. The longest match wins.
fn localize_prefix(s: &str, ids: &[&str], var: &str, i18n: &I18n) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for id in ids {
        let (before, after) = english_template(id, var);
        if !after.as_deref().unwrap_or("").is_empty() || !s.starts_with(before.as_str()) {
            continue;
        }
        if best.as_ref().is_some_and(|(len, _)| *len >= before.len()) {
            continue;
        }
        let rest = &s[before.len()..];
        let shown = if after.is_some() {
            i18n.tr_plain(id, &[(var, text(rest))])
        } else {
            format!("{}{rest}", i18n.tr_plain(id, &[]))
        };
        best = Some((before.len(), shown));
    }
    best.map(|(_, shown)| shown)
}

/// Every kind of error the watcher reports, with its variable: to find one in a state detail.
const ERROR_IDS: &[(&str, &str)] = &[
    ("error-timeout", "step"),
    ("error-tls", "reason"),
    ("error-starttls-unavailable", "reason"),
    ("error-starttls-refused", "reason"),
    ("error-login-disabled", "reason"),
    ("error-auth", "reason"),
    ("error-throttled", "reason"),
    ("error-protocol", "reason"),
    ("error-unsafe", "reason"),
    ("error-store", "reason"),
    ("error-secret-no-keyring", "reason"),
    ("error-secret-locked", "reason"),
    ("error-secret-missing", "id"),
    ("error-secret-keyring", "reason"),
    ("error-secret-command", "reason"),
];

/// Every hint, with its variable.
pub const HINT_IDS: &[(&str, &str)] = &[
    ("hint-network", ""),
    ("hint-timeout", ""),
    ("hint-tls", ""),
    ("hint-starttls", ""),
    ("hint-login-disabled", ""),
    ("hint-auth", ""),
    ("hint-throttled", ""),
    ("hint-protocol", ""),
    ("hint-config", ""),
    ("hint-unsafe", ""),
    ("hint-store", ""),
    ("hint-secret-no-keyring", ""),
    ("hint-secret-locked", ""),
    ("hint-secret-missing", "id"),
    ("hint-secret-keyring", ""),
    ("hint-secret-command", ""),
];

/// A problem an account reported, in the reader's language: what went wrong and, when known,
/// what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub hint: Option<String>,
}

impl Problem {
    /// "what — hint", as the watcher's English detail reads.
    pub fn joined(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} — {hint}", self.what),
            None => self.what.clone(),
        }
    }
}

/// An account's state detail in `i18n`'s language. The watcher reports "error — hint" in
/// English (events, logs and `watch --json` carry it so); the tray shows it to a person. The
/// error and the hint are found by matching the English catalog, so they read as
/// [`ConnectError::message_in`] and [`ConnectError::hint_in`] would have written them; what
/// does not match (the server's words, a truncated text) stays as it is.
pub fn localize_detail(detail: &str, i18n: &I18n) -> Problem {
    let mut what = detail;
    let mut hint = None;
    if let Some((error, advice)) = detail.rsplit_once(" — ") {
        for (id, var) in HINT_IDS {
            if let Some(value) = match_english(advice, id, if var.is_empty() { "_" } else { var }) {
                hint = Some(i18n.tr_plain(id, &[(*var, text(&value))]));
                what = error;
                break;
            }
        }
    }
    // The detail carries the server's words: made harmless here, once, for every front end
    // that shows it (popups, Settings → Activity, `GetAccounts`, the CLI).
    Problem {
        what: crate::display::clean_text(&localize_error(what, i18n), DETAIL_MAX, false),
        hint: hint.map(|h| crate::display::clean_text(&h, DETAIL_MAX, false)),
    }
}

/// Longest problem text shown, in graphemes (server text in it is already capped at 1 KiB).
const DETAIL_MAX: usize = 1024;

/// The English `Display` text of a [`ConnectError`] in `i18n`'s language, found by matching
/// the catalog; unchanged if it is none of them.
fn localize_error(s: &str, i18n: &I18n) -> String {
    for (id, var) in ERROR_IDS {
        let Some(value) = match_english(s, id, var) else {
            continue;
        };
        let value = match *id {
            "error-timeout" => timeout_step(&value, i18n),
            "error-tls" => localize_tls(&value, i18n),
            _ => value,
        };
        return i18n.tr_plain(id, &[(*var, text(&value))]);
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretError;

    /// One error of every kind.
    fn every_error() -> Vec<ConnectError> {
        vec![
            ConnectError::Network("cannot reach imap.example.com:993: Connection refused".into()),
            ConnectError::Timeout("connecting"),
            ConnectError::Timeout("something unlisted"),
            ConnectError::Tls(format!(
                "{} (imap.example.com)",
                describe_tls_error(&rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer
                ))
            )),
            ConnectError::StarttlsUnavailable,
            ConnectError::StarttlsRefused("S1 NO not now".into()),
            ConnectError::LoginDisabled,
            ConnectError::Auth("[AUTHENTICATIONFAILED] Invalid credentials".into()),
            ConnectError::Throttled("[UNAVAILABLE] try later".into()),
            ConnectError::Protocol("session lost".into()),
            ConnectError::Unsafe("the server greeted with PREAUTH".into()),
            ConnectError::Store(
                "/home/ana/.local/state/pushmail/state.sqlite3: the disk is full".into(),
            ),
            ConnectError::Secret(SecretError::NoKeyring("no Secret Service".into())),
            ConnectError::Secret(SecretError::Locked("dismissed".into())),
            ConnectError::Secret(SecretError::Missing("work".into())),
            ConnectError::Secret(SecretError::Keyring("D-Bus".into())),
            ConnectError::Secret(SecretError::Command("`pass` exited with 1".into())),
            ConnectError::Config("cannot read ca_file /nope: not found".into()),
        ]
    }

    /// Every hint id names a message in every catalog, and the English method reads it.
    #[test]
    fn every_hint_has_a_message_in_every_language() {
        let english = I18n::english();
        for e in every_error() {
            let id = e.hint_id();
            assert!(
                HINT_IDS.iter().any(|(h, _)| *h == id),
                "{id} is not in HINT_IDS"
            );
            let hint = e.hint();
            assert!(
                !hint.is_empty() && hint != id && !hint.starts_with("hint-"),
                "{id}: {hint}"
            );
            assert_eq!(hint, e.hint_in(english));
            for (tag, _) in crate::i18n::CATALOGS {
                let i = I18n::new(tag);
                assert!(i.has(id), "{tag} lacks {id}");
                assert_ne!(e.hint_in(&i), id, "{tag}");
            }
        }
    }

    /// The English methods say what they said before the catalog held them.
    #[test]
    fn english_stays_english() {
        assert_eq!(
            ConnectError::Auth("x".into()).hint(),
            "Check the user name, and set the password again (pushmail-cli account password ID). Some providers need an app password."
        );
        assert_eq!(
            ConnectError::StarttlsUnavailable.hint(),
            "Use security = \"tls\" (usually port 993) if the server supports it, or ask the provider; Pushmail never sends a password unencrypted."
        );
        assert_eq!(
            SecretError::Missing("work".into()).hint(),
            "Store it with: pushmail-cli account password work"
        );
        assert_eq!(
            describe_tls_error(&rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
            )),
            "the server's certificate is for a different host name"
        );
        // `Display` (logs, events) and the English catalog agree for every kind.
        for e in every_error() {
            assert_eq!(e.to_string(), e.message_in(I18n::english()));
        }
    }

    #[test]
    fn italian_and_arabic_differ_from_english_and_keep_the_server_text() {
        let it = I18n::new("it");
        let auth = ConnectError::Auth("[AUTHENTICATIONFAILED] Invalid credentials".into());
        assert_eq!(
            auth.message_in(&it),
            "accesso non riuscito: [AUTHENTICATIONFAILED] Invalid credentials"
        );
        assert!(auth.hint_in(&it).contains("password per le app"));
        assert!(
            auth.hint_in(&it)
                .contains("pushmail-cli account password ID")
        );
        let tls = &every_error()[3];
        assert_eq!(
            tls.message_in(&it),
            "connessione TLS non riuscita: il certificato del server è firmato da un'autorità sconosciuta (imap.example.com)"
        );
        assert!(tls.hint_in(&it).contains("ca_file"));
        assert_eq!(
            ConnectError::Timeout("listing folders").message_in(&it),
            "tempo scaduto durante l'elenco delle cartelle"
        );
        let missing = ConnectError::Secret(SecretError::Missing("work".into()));
        assert_eq!(
            missing.hint_in(&it),
            "Salvala con: pushmail-cli account password work"
        );
        let ar = I18n::new("ar");
        for e in every_error() {
            if !matches!(e, ConnectError::Network(_) | ConnectError::Config(_)) {
                assert_ne!(e.message_in(&ar), e.to_string());
            }
            assert_ne!(e.hint_in(&ar), e.hint());
            assert_ne!(e.hint_in(&it), e.hint());
        }
    }

    /// Every timeout phrase and TLS description has its message, identical in English.
    #[test]
    fn timeout_steps_and_tls_descriptions_match_the_catalog() {
        for (phrase, id) in TIMEOUT_STEPS {
            assert_eq!(I18n::english().tr_plain(id, &[]), *phrase);
        }
        for id in TLS_IDS {
            // Their variable, if any, ends the English text (`localize_prefix` needs that).
            let (_, after) = english_template(id, "reason");
            assert!(after.as_deref().unwrap_or("").is_empty(), "{id}");
        }
        let bad = describe_tls_error(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadSignature,
        ));
        let it = I18n::new("it");
        assert!(
            localize_tls(&format!("{bad} (h)"), &it).contains("la firma non corrisponde"),
            "the longer description wins over the one it begins with"
        );
    }

    /// The tray's popup: the watcher's English "error — hint" in the reader's language.
    #[test]
    fn a_state_detail_reads_in_the_tray_language() {
        let it = I18n::new("it");
        for e in every_error() {
            let detail = format!("{e} — {}", e.hint());
            let p = localize_detail(&detail, &it);
            assert_eq!(p.hint.as_deref(), Some(e.hint_in(&it).as_str()), "{detail}");
            assert_eq!(p.what, e.message_in(&it), "{detail}");
            // English in, English out.
            assert_eq!(localize_detail(&detail, I18n::english()).joined(), detail);
        }
        // Something it does not know stays as it is.
        let odd = localize_detail("the configuration changed", &it);
        assert_eq!(odd.what, "the configuration changed");
        assert_eq!(odd.hint, None);
        let zh = localize_detail(
            "timed out while connecting — The server did not answer in time. Check the host and port, or raise connect_timeout_secs (connecting) or command_timeout_secs (commands) on a slow network.",
            &I18n::new("zh-TW"),
        );
        assert_eq!(zh.what, "連線逾時");
        assert!(zh.hint.unwrap().contains("connect_timeout_secs"));
    }
}
