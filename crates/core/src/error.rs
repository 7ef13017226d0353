//! Problems as data: what failed, at which step, the other side's own words kept apart, and
//! what to do. Callers branch on the variant; people read [`ConnectError::message_in`] and
//! [`ConnectError::hint_in`], formatted from the catalogs in their language.
//!
//! Nothing here is an English sentence to be parsed again: every variant and every cause maps
//! to a catalog message through an exhaustive `match`, so the compiler (not a test over
//! strings) makes sure each problem has a message and a hint, and `scripts/check-locales`
//! that every language has them. The server's or the system's words (a `NO` response, an OS
//! error) are carried in `words` fields, capped, shown after the message as they were written.
//! The English `Display` (logs, `watch --json`'s `detail`) is the English catalog's text.

use std::fmt;
use std::io;

use serde::{Serialize, Serializer};

use crate::i18n::{I18n, num, text};
use crate::text::truncate_for_log;

/// A step of a session, named in messages ("timed out while fetching new messages").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Connecting,
    TlsHandshake,
    Greeting,
    Starttls,
    Capabilities,
    LoggingIn,
    CapabilitiesAfterLogin,
    ListingFolders,
    AskingForNotify,
    SelectingFolder,
    StartingIdle,
    WaitingInIdle,
    EndingIdle,
    MarkingRead,
    FetchingNew,
    ListingNew,
    CountingUnread,
    EnablingQresync,
    FindingHighestUid,
    CheckingConnection,
    AskingFolderStatus,
}

impl Step {
    /// Every step, for tests that check the catalogs.
    pub const ALL: [Step; 21] = [
        Step::Connecting,
        Step::TlsHandshake,
        Step::Greeting,
        Step::Starttls,
        Step::Capabilities,
        Step::LoggingIn,
        Step::CapabilitiesAfterLogin,
        Step::ListingFolders,
        Step::AskingForNotify,
        Step::SelectingFolder,
        Step::StartingIdle,
        Step::WaitingInIdle,
        Step::EndingIdle,
        Step::MarkingRead,
        Step::FetchingNew,
        Step::ListingNew,
        Step::CountingUnread,
        Step::EnablingQresync,
        Step::FindingHighestUid,
        Step::CheckingConnection,
        Step::AskingFolderStatus,
    ];

    /// The catalog id of the step's phrase (`step-*`).
    pub fn id(self) -> &'static str {
        match self {
            Step::Connecting => "step-connecting",
            Step::TlsHandshake => "step-tls-handshake",
            Step::Greeting => "step-greeting",
            Step::Starttls => "step-starttls",
            Step::Capabilities => "step-capabilities",
            Step::LoggingIn => "step-logging-in",
            Step::CapabilitiesAfterLogin => "step-capabilities-after-login",
            Step::ListingFolders => "step-listing-folders",
            Step::AskingForNotify => "step-asking-for-notify",
            Step::SelectingFolder => "step-selecting-folder",
            Step::StartingIdle => "step-starting-idle",
            Step::WaitingInIdle => "step-waiting-in-idle",
            Step::EndingIdle => "step-ending-idle",
            Step::MarkingRead => "step-marking-read",
            Step::FetchingNew => "step-fetching-new",
            Step::ListingNew => "step-listing-new",
            Step::CountingUnread => "step-counting-unread",
            Step::EnablingQresync => "step-enabling-qresync",
            Step::FindingHighestUid => "step-finding-highest-uid",
            Step::CheckingConnection => "step-checking-connection",
            Step::AskingFolderStatus => "step-asking-folder-status",
        }
    }

    pub fn phrase_in(self, i18n: &I18n) -> String {
        i18n.tr_plain(self.id(), &[])
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.phrase_in(I18n::english()))
    }
}

/// Why the network failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetCause {
    Unreachable {
        host: String,
        port: u16,
    },
    Keepalive,
    TlsHandshake {
        host: String,
    },
    /// Reading or writing failed (the OS's words say how).
    Failed,
    /// End of stream without a goodbye.
    Closed,
    Lost,
    /// `* BYE`: the server ended the session (its words say why).
    Bye,
    /// `* BYE` instead of IDLE's continuation.
    ByeInsteadOfIdle,
}

/// Why the server's answer broke the protocol or our limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoCause {
    /// One of the framer's limits (`imap/transport/framing.rs`).
    Limit(crate::imap::transport::framing::LimitError),
    /// imap-proto could not parse it.
    Unparsable,
    /// `NO` or `BAD` to a command (the words are the server's).
    Refused,
    UnexpectedGreeting,
    UnrequestedAfterGreeting,
    OverlongLine,
    Preauth,
    NoUidvalidity {
        folder: String,
    },
    SessionLost,
    /// Something async-imap reported that fits nothing above (its words).
    Other,
    /// A POP3 server without UIDL (`-ERR` to it): POP3 message numbers are only valid for
    /// one session, so without unique-ids there is no way to tell new mail from old.
    NoUidl,
    /// A POP3 UIDL listing (or STAT) we cannot trust: a duplicate or invalid unique-id,
    /// numbers out of order, or a count that does not match (the offending line as words).
    BadListing,
    /// A POP3 server that offers neither USER nor SASL PLAIN (its SASL line as words).
    NoLoginMethod,
}

/// Why a connection was refused as unsafe before any credential was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnsafeCause {
    DataBeforeStarttls,
    DataAfterStarttls,
    PreauthBeforeTls,
    /// An answer to a command that was never sent (the server's line).
    ForeignTag,
}

/// What about TLS failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsReason {
    UnknownIssuer,
    /// The chain names a trusted CA but that CA did not sign it (an impostor CA with the same
    /// name, as an interception proxy would present).
    BadSignature,
    Expired,
    NotValidYet,
    WrongHost,
    Revoked,
    /// Another certificate problem (rustls's words).
    Invalid,
    /// The server's TLS is too old or incompatible (rustls's words).
    Incompatible,
    /// Anything else rustls reported (its words).
    Other,
    /// The system's trusted certificates could not be loaded.
    SystemRoots,
    Setup,
}

/// A configuration that cannot work as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProblem {
    CaFileUnreadable {
        path: String,
    },
    CaFileNotPem {
        path: String,
    },
    CaFileEmpty {
        path: String,
    },
    CaFileDamaged {
        path: String,
        n: usize,
        count: usize,
    },
    CaFileUnusable {
        path: String,
    },
    BadHostName {
        host: String,
    },
    PlainNotLoopback {
        host: String,
    },
    /// The password (or user name) holds a character the POP3 login cannot carry (a line
    /// break for USER/PASS, NUL or any control character for SASL PLAIN): not sent.
    UnsendablePassword,
    /// Configured folders that do not exist on the server (`folders`: their names, listed).
    FoldersMissing {
        count: usize,
        folders: String,
    },
}

/// Why the state database failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreCause {
    DiskFull,
    /// SQLite's words.
    Other,
}

/// Why a connection or login did not produce a usable session, or a folder cannot be watched.
/// The engine branches on the variant (back off, throttle, stop in `auth_failed`); people read
/// [`ConnectError::message_in`] and [`ConnectError::hint_in`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// TCP failed, the connection dropped, or the server closed it.
    Network {
        cause: NetCause,
        step: Option<Step>,
        words: Option<String>,
    },
    /// A step took longer than its configured timeout.
    Timeout(Step),
    /// Certificate or handshake failure. Never retried without verification.
    Tls {
        reason: TlsReason,
        host: Option<String>,
        words: Option<String>,
    },
    /// `security = "starttls"` but the server does not offer STARTTLS (or an attacker removed it).
    StarttlsUnavailable,
    /// The server answered STARTTLS with NO/BAD (its line).
    StarttlsRefused(String),
    /// The server forbids plaintext LOGIN on this connection and offers nothing we can use.
    LoginDisabled,
    /// Wrong user name or password (or the account is disabled on the server): its words.
    Auth(String),
    /// The server is overloaded or limits connections (`NO [UNAVAILABLE]`, greeting BYE).
    Throttled(String),
    /// The server said something that breaks the protocol or our limits.
    Protocol {
        cause: ProtoCause,
        step: Option<Step>,
        words: Option<String>,
    },
    /// The server (or something between us and it) did what an attacker would: a PREAUTH
    /// greeting on a connection that was to be encrypted, data injected around STARTTLS.
    /// Like a certificate problem it is retried (a captive portal may be the cause and go
    /// away) but always shown as needing attention ([`ConnectError::is_security`]).
    Unsafe {
        cause: UnsafeCause,
        words: Option<String>,
    },
    /// The state database cannot be written (a full disk, permissions). Nothing is announced
    /// that cannot be recorded, so the session ends until it can.
    Store {
        path: String,
        cause: StoreCause,
        words: Option<String>,
    },
    /// The password could not be obtained.
    Secret(crate::secret::SecretError),
    /// The account configuration cannot work as written (the system's words, if any).
    Config {
        problem: ConfigProblem,
        words: Option<String>,
    },
    /// The server refused to open a configured folder (`NO` to SELECT): it does not exist
    /// there (deleted or renamed). Reported for that folder; the others go on.
    FolderMissing { folder: String, words: String },
    /// Signing in at the provider (OAuth2) cannot go on: the grant is gone, the provider
    /// refuses the application, a setting is missing, or the token endpoint cannot be
    /// reached. `provider` names it (`google`, `custom`, …).
    SignIn {
        problem: SignInProblem,
        provider: String,
        words: Option<String>,
    },
}

/// What stands in the way of signing in (OAuth2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInProblem {
    /// No grant, or no longer one: never signed in, password changed, access revoked or
    /// consent withdrawn. Only the user can fix it (sign in again): state `signin_required`.
    Required,
    /// The provider does not accept the application's client id (`invalid_client`).
    ClientRejected,
    /// The user's organisation must approve the application first (Microsoft admin consent).
    AdminApproval,
    /// No client id is configured or built in for the provider.
    NoClientId,
    /// The sign-in settings cannot work (an unknown provider, a missing endpoint).
    BadSettings,
    /// The token endpoint could not be reached or failed for now: retried with backoff.
    Unavailable,
    /// The IMAP server offers neither OAUTHBEARER nor XOAUTH2.
    NoMechanism,
    /// The server refuses passwords (`Basic authentication is disabled`): the account must
    /// switch to signing in.
    PasswordsRefused,
}

impl SignInProblem {
    fn ids(self) -> (&'static str, &'static str) {
        match self {
            SignInProblem::Required => ("error-signin-required", "hint-signin-required"),
            SignInProblem::ClientRejected => ("error-signin-client", "hint-signin-client"),
            SignInProblem::AdminApproval => ("error-signin-admin", "hint-signin-admin"),
            SignInProblem::NoClientId => ("error-signin-no-client-id", "hint-signin-client"),
            SignInProblem::BadSettings => ("error-signin-settings", "hint-config"),
            SignInProblem::Unavailable => ("error-signin-unavailable", "hint-network"),
            SignInProblem::NoMechanism => ("error-signin-no-mechanism", "hint-signin-no-mechanism"),
            SignInProblem::PasswordsRefused => (
                "error-signin-passwords-refused",
                "hint-signin-passwords-refused",
            ),
        }
    }
}

impl ConnectError {
    /// A sign-in problem at `provider`, with the other side's words if any.
    pub fn sign_in(problem: SignInProblem, provider: &str) -> ConnectError {
        ConnectError::SignIn {
            problem,
            provider: provider.to_owned(),
            words: None,
        }
    }

    /// The user must sign in again (state `signin_required`).
    pub fn is_signin_required(&self) -> bool {
        matches!(
            self,
            ConnectError::SignIn {
                problem: SignInProblem::Required,
                ..
            }
        )
    }
}

impl From<(&str, crate::oauth::OAuthError)> for ConnectError {
    /// An OAuth failure for `provider`, as the account shows it.
    fn from((provider, e): (&str, crate::oauth::OAuthError)) -> ConnectError {
        use crate::oauth::OAuthError as O;
        let problem = match &e {
            O::SigninRequired { .. } => SignInProblem::Required,
            O::ClientRejected { .. } => SignInProblem::ClientRejected,
            O::AdminApprovalRequired { .. } => SignInProblem::AdminApproval,
            O::NoClientId { .. } => SignInProblem::NoClientId,
            O::BadProvider { .. } | O::Refused { .. } => SignInProblem::BadSettings,
            O::Store { .. } => {
                return ConnectError::Secret(crate::secret::SecretError::Keyring(e.to_string()));
            }
            O::Transient { .. } | O::Listener { .. } | O::TimedOut { .. } | O::Redirect { .. } => {
                SignInProblem::Unavailable
            }
        };
        ConnectError::sign_in(problem, provider).with_words(e.to_string())
    }
}

impl std::error::Error for ConnectError {}

impl From<crate::secret::SecretError> for ConnectError {
    fn from(e: crate::secret::SecretError) -> Self {
        ConnectError::Secret(e)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_in(I18n::english()))
    }
}

/// The place of the other side's words in a [`ConnectError`]: optional, or part of what the
/// problem is (a refusal is its words, possibly empty).
enum Said<'a> {
    Optional(&'a mut Option<String>),
    Always(&'a mut String),
}

/// An error with its causes, "a: b: c", each cause once (reqwest and hyper repeat theirs in
/// their own messages).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The other side's words, capped (a hostile server can send 4 MiB of them).
pub fn words(s: impl AsRef<str>) -> Option<String> {
    let s = s.as_ref().trim();
    (!s.is_empty()).then(|| truncate_for_log(s))
}

impl ConnectError {
    pub fn network(cause: NetCause) -> Self {
        ConnectError::Network {
            cause,
            step: None,
            words: None,
        }
    }

    pub fn protocol(cause: ProtoCause) -> Self {
        ConnectError::Protocol {
            cause,
            step: None,
            words: None,
        }
    }

    pub fn config(problem: ConfigProblem) -> Self {
        ConnectError::Config {
            problem,
            words: None,
        }
    }

    pub fn unsafe_(cause: UnsafeCause) -> Self {
        ConnectError::Unsafe { cause, words: None }
    }

    /// The step it happened at, where one is known.
    pub fn step(&self) -> Option<Step> {
        match self {
            ConnectError::Network { step, .. } | ConnectError::Protocol { step, .. } => *step,
            ConnectError::Timeout(step) => Some(*step),
            _ => None,
        }
    }

    /// The same problem, at `step`.
    #[must_use]
    pub fn at(mut self, at: Step) -> Self {
        if let ConnectError::Network { step, .. } | ConnectError::Protocol { step, .. } = &mut self
        {
            *step = Some(at);
        }
        self
    }

    /// The same problem, with the other side's own words (capped).
    #[must_use]
    pub fn with_words(mut self, said: impl AsRef<str>) -> Self {
        let said = words(said);
        match self.said_mut() {
            Some(Said::Optional(w)) => *w = said,
            Some(Said::Always(w)) => *w = said.unwrap_or_default(),
            None => {}
        }
        self
    }

    /// Applies `f` to every text that came from elsewhere (the server, the system), e.g. to
    /// scrub an echoed credential; our own message texts never hold one.
    #[must_use]
    pub fn map_words(mut self, f: impl Fn(&str) -> String) -> Self {
        match self.said_mut() {
            Some(Said::Optional(Some(w)) | Said::Always(w)) => *w = f(w),
            Some(Said::Optional(None)) | None => {}
        }
        self
    }

    /// Where this problem keeps the other side's words, if it has a place for them.
    fn said_mut(&mut self) -> Option<Said<'_>> {
        match self {
            ConnectError::Network { words, .. }
            | ConnectError::Tls { words, .. }
            | ConnectError::Protocol { words, .. }
            | ConnectError::Unsafe { words, .. }
            | ConnectError::Store { words, .. }
            | ConnectError::SignIn { words, .. }
            | ConnectError::Config { words, .. } => Some(Said::Optional(words)),
            ConnectError::StarttlsRefused(w)
            | ConnectError::Auth(w)
            | ConnectError::Throttled(w)
            | ConnectError::FolderMissing { words: w, .. } => Some(Said::Always(w)),
            ConnectError::Timeout(_)
            | ConnectError::StarttlsUnavailable
            | ConnectError::LoginDisabled
            | ConnectError::Secret(_) => None,
        }
    }

    /// What failed, as a word for scripts (`problem.kind` in `watch --json`).
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectError::Network { .. } => "network",
            ConnectError::Timeout(_) => "timeout",
            ConnectError::Tls { .. } => "tls",
            ConnectError::StarttlsUnavailable | ConnectError::StarttlsRefused(_) => "starttls",
            ConnectError::LoginDisabled => "login_disabled",
            ConnectError::Auth(_) => "auth",
            ConnectError::Throttled(_) => "throttled",
            ConnectError::Protocol { .. } => "protocol",
            ConnectError::Unsafe { .. } => "unsafe",
            ConnectError::Store { .. } => "store",
            ConnectError::Secret(_) => "secret",
            ConnectError::Config { .. } => "config",
            ConnectError::FolderMissing { .. } => "folder_missing",
            ConnectError::SignIn {
                problem: SignInProblem::Required,
                ..
            } => "signin_required",
            ConnectError::SignIn { .. } => "signin",
        }
    }

    /// The Fluent id of [`hint`](Self::hint).
    pub fn hint_id(&self) -> &'static str {
        match self {
            ConnectError::Network {
                cause: NetCause::Bye | NetCause::ByeInsteadOfIdle,
                ..
            } => "hint-server-left",
            ConnectError::Network { .. } => "hint-network",
            ConnectError::Timeout(_) => "hint-timeout",
            ConnectError::Tls { .. } => "hint-tls",
            ConnectError::StarttlsUnavailable | ConnectError::StarttlsRefused(_) => "hint-starttls",
            ConnectError::LoginDisabled => "hint-login-disabled",
            ConnectError::Auth(_) => "hint-auth",
            ConnectError::Throttled(_) => "hint-throttled",
            ConnectError::Protocol {
                cause: ProtoCause::NoUidl,
                ..
            } => "hint-no-uidl",
            ConnectError::Protocol {
                cause: ProtoCause::NoLoginMethod,
                ..
            } => "hint-no-login-method",
            ConnectError::Protocol { .. } => "hint-protocol",
            ConnectError::Unsafe { .. } => "hint-unsafe",
            ConnectError::Store { .. } => "hint-store",
            ConnectError::Secret(e) => e.hint_id(),
            ConnectError::Config { .. } => "hint-config",
            ConnectError::FolderMissing { .. } => "hint-folder-missing",
            ConnectError::SignIn { problem, .. } => problem.ids().1,
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

    /// What went wrong, in `i18n`'s language: the message from the catalog, after the step
    /// it happened in, followed by the other side's own words as they were written.
    pub fn message_in(&self, i18n: &I18n) -> String {
        let tr = |id: &str| i18n.tr_plain(id, &[]);
        let (message, step, said): (String, Option<Step>, Option<&str>) = match self {
            ConnectError::Network { cause, step, words } => {
                (net_message(cause, i18n), *step, words.as_deref())
            }
            ConnectError::Timeout(step) => (
                i18n.tr_plain("error-timeout", &[("step", text(&step.phrase_in(i18n)))]),
                None,
                None,
            ),
            ConnectError::Tls {
                reason,
                host,
                words,
            } => {
                let what = tr(tls_id(reason));
                let what = match host {
                    Some(h) => i18n.tr_plain(
                        "problem-at-host",
                        &[("what", text(&what)), ("host", text(h))],
                    ),
                    None => what,
                };
                (
                    i18n.tr_plain("error-tls", &[("reason", text(&what))]),
                    None,
                    words.as_deref(),
                )
            }
            ConnectError::StarttlsUnavailable => (tr("error-starttls-unavailable"), None, None),
            ConnectError::StarttlsRefused(w) => {
                (server_said("error-starttls-refused", w, i18n), None, None)
            }
            ConnectError::LoginDisabled => (tr("error-login-disabled"), None, None),
            ConnectError::Auth(w) => (server_said("error-auth", w, i18n), None, None),
            ConnectError::Throttled(w) => (server_said("error-throttled", w, i18n), None, None),
            ConnectError::Protocol { cause, step, words } => {
                (proto_message(cause, i18n), *step, words.as_deref())
            }
            ConnectError::Unsafe { cause, words } => {
                let id = match cause {
                    UnsafeCause::DataBeforeStarttls => "unsafe-data-before-starttls",
                    UnsafeCause::DataAfterStarttls => "unsafe-data-after-starttls",
                    UnsafeCause::PreauthBeforeTls => "unsafe-preauth",
                    UnsafeCause::ForeignTag => "unsafe-foreign-tag",
                };
                (
                    i18n.tr_plain("error-unsafe", &[("reason", text(&tr(id)))]),
                    None,
                    words.as_deref(),
                )
            }
            ConnectError::Store { path, cause, words } => {
                let id = match cause {
                    StoreCause::DiskFull => "store-disk-full",
                    StoreCause::Other => "store-failed",
                };
                (
                    i18n.tr_plain(
                        "error-store",
                        &[("path", text(path)), ("reason", text(&tr(id)))],
                    ),
                    None,
                    words.as_deref(),
                )
            }
            ConnectError::Secret(e) => (e.message_in(i18n), None, None),
            ConnectError::Config { problem, words } => {
                (config_message(problem, i18n), None, words.as_deref())
            }
            ConnectError::FolderMissing { folder, words } => (
                i18n.tr_plain("error-folder-missing", &[("folder", text(folder))]),
                None,
                Some(words),
            ),
            ConnectError::SignIn {
                problem,
                provider,
                words,
            } => (
                i18n.tr_plain(
                    problem.ids().0,
                    &[("provider", text(&provider_name(provider)))],
                ),
                None,
                words.as_deref(),
            ),
        };
        let message = match step {
            Some(step) => i18n.tr_plain(
                "problem-in-step",
                &[
                    ("step", text(&step.phrase_in(i18n))),
                    ("what", text(&message)),
                ],
            ),
            None => message,
        };
        match said.filter(|w| !w.is_empty()) {
            Some(w) => i18n.tr_plain(
                "problem-with-words",
                &[("what", text(&message)), ("words", text(w))],
            ),
            None => message,
        }
    }

    /// [`message_in`](Self::message_in) and [`hint_in`](Self::hint_in) together, made harmless
    /// for display (the server's words in them are a stranger's text), as every front end
    /// shows them: popups, Settings → Activity, `GetAccounts`, the CLI.
    pub fn shown_in(&self, i18n: &I18n) -> Problem {
        Problem {
            what: crate::display::clean_text(&self.message_in(i18n), DETAIL_MAX, false),
            hint: Some(crate::display::clean_text(
                &self.hint_in(i18n),
                DETAIL_MAX,
                false,
            )),
        }
    }

    /// "what — hint" in English: the `detail` of a `state` event (logs, `watch --json`).
    pub fn detail(&self) -> String {
        format!("{self} — {}", self.hint())
    }

    /// Whether retrying later can help without the user changing anything. A POP3 server
    /// without UIDL or without a login method we speak will not grow one by itself.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ConnectError::Auth(_)
                | ConnectError::Config { .. }
                | ConnectError::LoginDisabled
                | ConnectError::FolderMissing { .. }
                | ConnectError::SignIn {
                    problem: SignInProblem::Required
                        | SignInProblem::ClientRejected
                        | SignInProblem::AdminApproval
                        | SignInProblem::NoClientId
                        | SignInProblem::BadSettings
                        | SignInProblem::NoMechanism
                        | SignInProblem::PasswordsRefused,
                    ..
                }
                | ConnectError::Protocol {
                    cause: ProtoCause::NoUidl | ProtoCause::NoLoginMethod,
                    ..
                }
        ) || matches!(self, ConnectError::Secret(e) if e.is_permanent())
    }

    /// Whether this may be an attack on the connection (a certificate that does not verify,
    /// STARTTLS stripped or refused, PREAUTH or injected data around STARTTLS). No credential
    /// was sent; the watcher keeps retrying, but the account is shown as needing attention
    /// (`error`, not `backoff`) for as long as it lasts, because the user must know.
    pub fn is_security(&self) -> bool {
        matches!(
            self,
            ConnectError::Tls { .. }
                | ConnectError::StarttlsUnavailable
                | ConnectError::StarttlsRefused(_)
                | ConnectError::Unsafe { .. }
        )
    }

    /// Whether the account needs the user's attention while this lasts: the state is `error`
    /// rather than `backoff`. Transient network trouble stays quiet.
    pub fn needs_attention(&self) -> bool {
        self.is_permanent() || self.is_security() || matches!(self, ConnectError::Store { .. })
    }

    pub(crate) fn from_tls_io(host: &str, e: io::Error) -> Self {
        let tls = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .map(tls_reason);
        match tls {
            Some((reason, said)) => ConnectError::Tls {
                reason,
                host: Some(host.to_owned()),
                words: said.as_deref().and_then(words),
            },
            None => ConnectError::network(NetCause::TlsHandshake {
                host: host.to_owned(),
            })
            .with_words(e.to_string()),
        }
    }
}

/// A JSON object for `state` events: `{"kind": …, "step": …}` ([`ConnectError::kind`], the
/// [`Step`] in snake case), for scripts that branch on what failed. The English
/// `detail` next to it carries the sentence and the server's words (once: a hostile server's
/// 1 KiB of text is not repeated).
impl Serialize for ConnectError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            kind: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            step: Option<Step>,
        }
        Json {
            kind: self.kind(),
            step: self.step(),
        }
        .serialize(s)
    }
}

/// Message `id` whose `reason` is the server's own words, or "(no reason given)".
fn server_said(id: &str, said: &str, i18n: &I18n) -> String {
    let reason = if said.is_empty() {
        i18n.tr_plain("problem-no-reason", &[])
    } else {
        said.to_owned()
    };
    i18n.tr_plain(id, &[("reason", text(&reason))])
}

fn net_message(cause: &NetCause, i18n: &I18n) -> String {
    match cause {
        NetCause::Unreachable { host, port } => i18n.tr_plain(
            "net-unreachable",
            &[("host", text(host)), ("port", text(&port.to_string()))],
        ),
        NetCause::Keepalive => i18n.tr_plain("net-keepalive", &[]),
        NetCause::TlsHandshake { host } => {
            i18n.tr_plain("net-tls-handshake", &[("host", text(host))])
        }
        NetCause::Failed => i18n.tr_plain("net-failed", &[]),
        NetCause::Closed => i18n.tr_plain("net-closed", &[]),
        NetCause::Lost => i18n.tr_plain("net-lost", &[]),
        NetCause::Bye => i18n.tr_plain("net-bye", &[]),
        NetCause::ByeInsteadOfIdle => i18n.tr_plain("net-bye-instead-of-idle", &[]),
    }
}

fn proto_message(cause: &ProtoCause, i18n: &I18n) -> String {
    use crate::imap::transport::framing::LimitError as L;
    let what = match cause {
        ProtoCause::Limit(limit) => {
            let (id, n) = match limit {
                L::LineTooLong(n) => ("limit-line", *n as f64),
                L::LiteralTooLarge(n) => ("limit-literal", *n as f64),
                L::ResponseTooLarge(n) => ("limit-response", *n as f64),
                L::TooDeep(n) => ("limit-depth", f64::from(*n)),
            };
            // Raw digits: "262144 bytes" is what people search the docs and logs for.
            i18n.tr_plain(id, &[("n", text(&format!("{n}")))])
        }
        ProtoCause::Unparsable => i18n.tr_plain("proto-unparsable", &[]),
        ProtoCause::Refused => i18n.tr_plain("proto-refused", &[]),
        ProtoCause::UnexpectedGreeting => i18n.tr_plain("proto-greeting", &[]),
        ProtoCause::UnrequestedAfterGreeting => i18n.tr_plain("proto-unrequested", &[]),
        ProtoCause::OverlongLine => i18n.tr_plain("proto-overlong-line", &[]),
        ProtoCause::Preauth => i18n.tr_plain("proto-preauth", &[]),
        ProtoCause::NoUidvalidity { folder } => {
            i18n.tr_plain("proto-no-uidvalidity", &[("folder", text(folder))])
        }
        ProtoCause::SessionLost => i18n.tr_plain("proto-session-lost", &[]),
        ProtoCause::Other => i18n.tr_plain("proto-other", &[]),
        ProtoCause::NoUidl => i18n.tr_plain("proto-no-uidl", &[]),
        ProtoCause::BadListing => i18n.tr_plain("proto-bad-listing", &[]),
        ProtoCause::NoLoginMethod => i18n.tr_plain("proto-no-login-method", &[]),
    };
    i18n.tr_plain("error-protocol", &[("reason", text(&what))])
}

/// A provider as people know it: `google` → Google; a custom one by its word.
fn provider_name(provider: &str) -> String {
    match provider {
        "google" => "Google".into(),
        "microsoft" => "Microsoft".into(),
        "yahoo" => "Yahoo".into(),
        "aol" => "AOL".into(),
        "fastmail" => "Fastmail".into(),
        other => other.to_owned(),
    }
}

fn config_message(problem: &ConfigProblem, i18n: &I18n) -> String {
    match problem {
        ConfigProblem::CaFileUnreadable { path } => {
            i18n.tr_plain("config-ca-unreadable", &[("path", text(path))])
        }
        ConfigProblem::CaFileNotPem { path } => {
            i18n.tr_plain("config-ca-not-pem", &[("path", text(path))])
        }
        ConfigProblem::CaFileEmpty { path } => {
            i18n.tr_plain("config-ca-empty", &[("path", text(path))])
        }
        ConfigProblem::CaFileDamaged { path, n, count } => i18n.tr_plain(
            "config-ca-damaged",
            &[
                ("path", text(path)),
                ("n", num(*n as f64)),
                ("count", num(*count as f64)),
            ],
        ),
        ConfigProblem::CaFileUnusable { path } => {
            i18n.tr_plain("config-ca-unusable", &[("path", text(path))])
        }
        ConfigProblem::BadHostName { host } => {
            i18n.tr_plain("config-bad-host", &[("host", text(host))])
        }
        ConfigProblem::PlainNotLoopback { host } => {
            i18n.tr_plain("config-plain-not-loopback", &[("host", text(host))])
        }
        ConfigProblem::UnsendablePassword => i18n.tr_plain("config-unsendable-password", &[]),
        ConfigProblem::FoldersMissing { count, folders } => i18n.tr_plain(
            "probe-folders-missing",
            &[("count", num(*count as f64)), ("folders", text(folders))],
        ),
    }
}

fn tls_id(reason: &TlsReason) -> &'static str {
    match reason {
        TlsReason::UnknownIssuer => "tls-unknown-issuer",
        TlsReason::BadSignature => "tls-bad-signature",
        TlsReason::Expired => "tls-expired",
        TlsReason::NotValidYet => "tls-not-valid-yet",
        TlsReason::WrongHost => "tls-wrong-host",
        TlsReason::Revoked => "tls-revoked",
        TlsReason::Invalid => "tls-invalid",
        TlsReason::Incompatible => "tls-incompatible",
        TlsReason::Other => "tls-other",
        TlsReason::SystemRoots => "tls-system-roots",
        TlsReason::Setup => "tls-setup",
    }
}

/// What a rustls error means, and rustls's own words where the reason does not say it all.
fn tls_reason(e: &rustls::Error) -> (TlsReason, Option<String>) {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => (TlsReason::UnknownIssuer, None),
            C::BadSignature => (TlsReason::BadSignature, None),
            C::Expired | C::ExpiredContext { .. } => (TlsReason::Expired, None),
            C::NotValidYet | C::NotValidYetContext { .. } => (TlsReason::NotValidYet, None),
            C::NotValidForName | C::NotValidForNameContext { .. } => (TlsReason::WrongHost, None),
            C::Revoked => (TlsReason::Revoked, None),
            other => (TlsReason::Invalid, Some(format!("{other:?}"))),
        },
        rustls::Error::PeerIncompatible(p) => (TlsReason::Incompatible, Some(format!("{p:?}"))),
        other => (TlsReason::Other, Some(other.to_string())),
    }
}

/// A problem an account reported, in the reader's language: what went wrong and, when known,
/// what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub hint: Option<String>,
}

impl Problem {
    /// "what — hint", as the English detail reads.
    pub fn joined(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{} — {hint}", self.what),
            None => self.what.clone(),
        }
    }
}

/// Longest problem text shown, in graphemes (server text in it is already capped at 1 KiB).
const DETAIL_MAX: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::transport::framing::LimitError;
    use crate::secret::SecretError;

    /// One problem of every kind and cause.
    fn every_error() -> Vec<ConnectError> {
        let mut all = vec![
            ConnectError::network(NetCause::Unreachable {
                host: "imap.example.com".into(),
                port: 993,
            })
            .with_words("Connection refused (os error 111)"),
            ConnectError::network(NetCause::Keepalive),
            ConnectError::network(NetCause::TlsHandshake {
                host: "imap.example.com".into(),
            }),
            ConnectError::network(NetCause::Failed).at(Step::FetchingNew),
            ConnectError::network(NetCause::Closed),
            ConnectError::network(NetCause::Lost).at(Step::CountingUnread),
            ConnectError::network(NetCause::Bye).with_words("[ALERT] Maintenance until 10:00"),
            ConnectError::network(NetCause::ByeInsteadOfIdle),
            ConnectError::StarttlsUnavailable,
            ConnectError::StarttlsRefused("S1 NO not now".into()),
            ConnectError::LoginDisabled,
            ConnectError::Auth("[AUTHENTICATIONFAILED] Invalid credentials".into()),
            ConnectError::Throttled("[UNAVAILABLE] try later".into()),
            ConnectError::Store {
                path: "/home/ana/.local/state/pushmail/state.sqlite3".into(),
                cause: StoreCause::DiskFull,
                words: None,
            },
            ConnectError::Store {
                path: "/x".into(),
                cause: StoreCause::Other,
                words: words("attempt to write a readonly database"),
            },
            ConnectError::Secret(SecretError::NoKeyring("no Secret Service".into())),
            ConnectError::Secret(SecretError::Locked("dismissed".into())),
            ConnectError::Secret(SecretError::Missing("work".into())),
            ConnectError::Secret(SecretError::Keyring("D-Bus".into())),
            ConnectError::Secret(SecretError::Command("`pass` exited with 1".into())),
            ConnectError::FolderMissing {
                folder: "Archive".into(),
                words: "[NONEXISTENT] Mailbox doesn't exist: Archive".into(),
            },
        ];
        all.extend(Step::ALL.map(ConnectError::Timeout));
        for reason in [
            TlsReason::UnknownIssuer,
            TlsReason::BadSignature,
            TlsReason::Expired,
            TlsReason::NotValidYet,
            TlsReason::WrongHost,
            TlsReason::Revoked,
            TlsReason::Invalid,
            TlsReason::Incompatible,
            TlsReason::Other,
            TlsReason::SystemRoots,
            TlsReason::Setup,
        ] {
            all.push(ConnectError::Tls {
                reason,
                host: Some("imap.example.com".into()),
                words: None,
            });
        }
        for cause in [
            ProtoCause::Limit(LimitError::LineTooLong(65536)),
            ProtoCause::Limit(LimitError::LiteralTooLarge(262_144)),
            ProtoCause::Limit(LimitError::ResponseTooLarge(4_194_304)),
            ProtoCause::Limit(LimitError::TooDeep(64)),
            ProtoCause::Unparsable,
            ProtoCause::Refused,
            ProtoCause::UnexpectedGreeting,
            ProtoCause::UnrequestedAfterGreeting,
            ProtoCause::OverlongLine,
            ProtoCause::Preauth,
            ProtoCause::NoUidvalidity {
                folder: "INBOX".into(),
            },
            ProtoCause::SessionLost,
            ProtoCause::Other,
            ProtoCause::NoUidl,
            ProtoCause::BadListing,
            ProtoCause::NoLoginMethod,
        ] {
            all.push(ConnectError::protocol(cause).at(Step::SelectingFolder));
        }
        for cause in [
            UnsafeCause::DataBeforeStarttls,
            UnsafeCause::DataAfterStarttls,
            UnsafeCause::PreauthBeforeTls,
            UnsafeCause::ForeignTag,
        ] {
            all.push(ConnectError::unsafe_(cause));
        }
        let path = || "/etc/ssl/company.pem".to_owned();
        for problem in [
            ConfigProblem::CaFileUnreadable { path: path() },
            ConfigProblem::CaFileNotPem { path: path() },
            ConfigProblem::CaFileEmpty { path: path() },
            ConfigProblem::CaFileDamaged {
                path: path(),
                n: 1,
                count: 2,
            },
            ConfigProblem::CaFileUnusable { path: path() },
            ConfigProblem::BadHostName {
                host: "exa mple".into(),
            },
            ConfigProblem::PlainNotLoopback {
                host: "imap.example.com".into(),
            },
            ConfigProblem::UnsendablePassword,
            ConfigProblem::FoldersMissing {
                count: 1,
                folders: "Archive".into(),
            },
        ] {
            all.push(ConnectError::config(problem));
        }
        all
    }

    /// Every message and hint exists in every catalog: no problem is ever shown as a bare
    /// id or falls back to English in a language that has a catalog.
    #[test]
    fn every_problem_reads_in_every_language() {
        for (tag, _) in crate::i18n::CATALOGS {
            let i18n = I18n::new(tag);
            for e in every_error() {
                let what = e.message_in(&i18n);
                let hint = e.hint_in(&i18n);
                for s in [&what, &hint] {
                    assert!(
                        !s.is_empty()
                            && !s.contains("step-")
                            && !s.contains("hint-")
                            && !s.contains("net-")
                            && !s.contains("proto-")
                            && !s.contains("config-")
                            && !s.contains("tls-")
                            && !s.contains("unsafe-")
                            && !s.contains("store-"),
                        "{tag}: {e:?} reads {s:?}"
                    );
                }
                if *tag != "en" {
                    assert_ne!(what, e.to_string(), "{tag}: {e:?} is not translated");
                    assert_ne!(hint, e.hint(), "{tag}: {e:?}'s hint is not translated");
                }
            }
        }
    }

    /// The English texts front ends and scripts know, and the other side's words kept apart
    /// and as written.
    #[test]
    fn english_reads_as_before_and_words_stay_as_written() {
        assert_eq!(
            ConnectError::Auth("[AUTHENTICATIONFAILED] Invalid credentials".into()).to_string(),
            "login failed: [AUTHENTICATIONFAILED] Invalid credentials"
        );
        assert_eq!(
            ConnectError::Timeout(Step::ListingFolders).to_string(),
            "timed out while listing folders"
        );
        assert_eq!(
            ConnectError::protocol(ProtoCause::Limit(LimitError::LiteralTooLarge(262_144)))
                .to_string(),
            "protocol error: the server announced a literal larger than 262144 bytes"
        );
        assert_eq!(
            ConnectError::Tls {
                reason: TlsReason::WrongHost,
                host: Some("imap.example.com".into()),
                words: None
            }
            .to_string(),
            "TLS failed: the server's certificate is for a different host name (imap.example.com)"
        );
        assert_eq!(
            ConnectError::network(NetCause::Lost)
                .at(Step::FetchingNew)
                .to_string(),
            "fetching new messages: the connection was lost"
        );
        assert_eq!(
            ConnectError::Auth("x".into()).hint(),
            "Check the user name, and set the password again (pushmail-cli account password ID). Some providers need an app password."
        );
        let it = I18n::new("it");
        let auth = ConnectError::Auth("[AUTHENTICATIONFAILED] Invalid credentials".into());
        assert_eq!(
            auth.message_in(&it),
            "accesso non riuscito: [AUTHENTICATIONFAILED] Invalid credentials"
        );
        // The missing folder: what it means, the server's words apart — never a Debug dump.
        let missing = ConnectError::FolderMissing {
            folder: "Archive".into(),
            words: "[NONEXISTENT] Mailbox doesn't exist: Archive".into(),
        };
        assert_eq!(
            missing.to_string(),
            "the folder Archive does not exist on the server: [NONEXISTENT] Mailbox doesn't exist: Archive"
        );
        assert!(!missing.message_in(&it).contains("Outcome"));
        // Cyrus in maintenance: `* BYE [ALERT] …` right after login, in its own words.
        let bye = ConnectError::network(NetCause::Bye)
            .at(Step::SelectingFolder)
            .with_words("[ALERT] Down for maintenance");
        assert!(
            bye.to_string().ends_with("[ALERT] Down for maintenance"),
            "{bye}"
        );
        assert!(
            bye.message_in(&I18n::new("ar"))
                .contains("[ALERT] Down for maintenance")
        );
    }

    #[test]
    fn words_are_capped_and_scrubbable() {
        let e = ConnectError::Auth(String::new()).with_words("x".repeat(100_000));
        assert!(e.to_string().len() < 2_000, "{}", e.to_string().len());
        let e = ConnectError::network(NetCause::Bye)
            .with_words("you sent secret")
            .map_words(|w| w.replace("secret", "[REDACTED]"));
        assert!(e.to_string().ends_with("you sent [REDACTED]"), "{e}");
    }

    #[test]
    fn json_names_the_kind_and_the_step() {
        let e = ConnectError::network(NetCause::Lost).at(Step::FetchingNew);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"network","step":"fetching_new"}"#
        );
        let e = ConnectError::Auth("[AUTHENTICATIONFAILED] no".into());
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"kind":"auth"}"#);
    }

    #[test]
    fn attention_follows_the_kind() {
        assert!(ConnectError::StarttlsUnavailable.needs_attention());
        assert!(ConnectError::unsafe_(UnsafeCause::ForeignTag).needs_attention());
        assert!(
            !ConnectError::network(NetCause::Closed).needs_attention(),
            "a dropped link stays quiet"
        );
        assert!(!ConnectError::Timeout(Step::Connecting).needs_attention());
    }
}
