//! OAuth 2.0 sign-in for IMAP: the client side, on its own (issue 11).
//!
//! The big providers no longer take passwords from mail apps; they take a short-lived access
//! token, presented with SASL `OAUTHBEARER` (RFC 7628) or `XOAUTH2`, obtained by the
//! authorization-code flow for native apps (RFC 8252) in the user's own browser and kept fresh
//! with a refresh token. This module is that, in pieces a front end and the IMAP login put
//! together:
//!
//! - [`provider`]: providers as data — a built-in table (Google, Microsoft, Yahoo, AOL,
//!   Fastmail) and `custom`, with every field settable; which addresses belong to which.
//! - [`authorization`]: the authorization request (PKCE S256, random `state`, `login_hint`,
//!   `prompt=consent`) and the pure check of what comes back to the redirect URI (`state`, the
//!   RFC 9207 `iss`, `error=`).
//! - [`rfc8252_loopback`]: the redirect listener on 127.0.0.1 (and ::1), one port, one request.
//! - [`http_client`] and [`token`]: the token endpoint (code exchange, refresh) through the
//!   `oauth2` crate, with typed outcomes ("sign in again", "client id wrong", "organisation must
//!   approve", "try later").
//! - [`sasl`]: the SASL initial responses and the server's error challenge (pure).
//! - [`refresher`]: one account's access token, refreshed before it expires, one refresh at a
//!   time, a rotated refresh token stored before the new access token is used.
//! - [`signin`]: the whole interactive sign-in (listener → URL → redirect → tokens) in one value.
//!
//! Secrets: access tokens, refresh tokens, codes and PKCE verifiers live in `SecretString` (or
//! the `oauth2` crate's secret types, whose `Debug` is redacted too); nothing here formats one
//! into an error, a `Debug` or a log line, and the server's words are scrubbed of the tokens
//! that were sent before they are kept (tests: `no_token_in_any_error_or_debug`).
//!
//! Not yet wired into the config, the IMAP login, the tray or the settings window; that
//! integration follows.

pub mod account;
pub mod authorization;
pub mod http_client;
pub mod provider;
pub mod refresher;
pub mod rfc8252_loopback;
pub mod sasl;
pub mod signin;
pub mod token;

use std::time::Duration;

pub use authorization::{AuthorizationOptions, AuthorizationRequest, PendingAuthorization};
pub use http_client::HttpClient;
pub use provider::{Provider, RedirectHost};
pub use refresher::{AccountTokens, RefreshSettings, RefreshTokenStore};
pub use rfc8252_loopback::{LoopbackListener, RedirectPage};
pub use sasl::SaslMechanism;
pub use signin::SignIn;
pub use token::{TokenClient, Tokens};

/// How long the user has to approve in the browser before the listener gives up (issue 11:
/// five minutes — a password manager, a second factor on the phone, and no longer: a listener
/// left open is a port a local process could try its luck on).
pub const DEFAULT_SIGNIN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What about the redirect to the loopback listener was wrong. Every one of them ends the
/// sign-in: the port is closed and no code is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedirectProblem {
    /// `state` missing or not the one sent: a request forged by someone else (CSRF), or a
    /// browser tab left over from an earlier attempt.
    WrongState,
    /// `iss` is not the provider's issuer (RFC 9207: a mix-up attack), or missing where the
    /// provider requires it. `got`: what came, if anything (an issuer is public, not a secret).
    WrongIssuer { got: Option<String> },
    /// `error=access_denied`: the user (or a policy) said no.
    AccessDenied,
    /// Another `error=` from the authorization server (its code).
    ProviderError { code: String },
    /// Neither a code nor an error.
    NoCode,
    /// A request to another path than the redirect path.
    WrongPath,
    /// Not a `GET`, not HTTP/1.x, a parameter twice, or bytes that do not parse.
    Malformed,
    /// The request line and headers were larger than the listener reads.
    Oversized,
    /// A second request on the connection (pipelined after the first).
    SecondRequest,
}

impl std::fmt::Display for RedirectProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectProblem::WrongState => f.write_str("its state is not the one sent"),
            RedirectProblem::WrongIssuer { got: Some(got) } => {
                write!(f, "it comes from another issuer ({got})")
            }
            RedirectProblem::WrongIssuer { got: None } => f.write_str("it names no issuer"),
            RedirectProblem::AccessDenied => f.write_str("access was denied"),
            RedirectProblem::ProviderError { code } => write!(f, "the provider said {code}"),
            RedirectProblem::NoCode => f.write_str("it carries no code"),
            RedirectProblem::WrongPath => f.write_str("a request came to another path"),
            RedirectProblem::Malformed => f.write_str("the request is malformed"),
            RedirectProblem::Oversized => f.write_str("the request is too large"),
            RedirectProblem::SecondRequest => f.write_str("a second request came"),
        }
    }
}

/// Why a sign-in or a token request did not give a usable token. Callers branch on the
/// variant: [`OAuthError::is_signin_required`] puts the account in `signin_required` and stops
/// asking; [`OAuthError::is_transient`] means back off and try again; everything else needs the
/// user or the configuration.
///
/// Like [`crate::error::ConnectError`] a problem is data: [`OAuthError::kind`] is a word for
/// scripts and [`OAuthError::hint_id`] the catalog id of what to do. The catalogs do not have
/// these ids yet (integration follows); until then `Display` is English. The other side's words
/// (`words`) are capped and scrubbed of every token that was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The provider has no client id: none was built in (`PUSHMAIL_OAUTH_<NAME>_CLIENT_ID` at
    /// build time) and none is configured.
    #[error("no OAuth client id is configured for {provider}")]
    NoClientId { provider: String },
    /// The provider's data cannot work (an endpoint that is not an https URL, no scope…).
    #[error("the OAuth settings of {provider} are invalid: {what}")]
    BadProvider { provider: String, what: String },
    /// The loopback listener could not be opened (the system's words).
    #[error("cannot listen on the loopback interface for the sign-in redirect: {words}")]
    Listener { words: String },
    /// Nobody came back within the time the caller gave.
    #[error("sign-in was not completed within {} s", .after.as_secs())]
    TimedOut { after: Duration },
    /// The redirect came back wrong (see [`RedirectProblem`]); `words`: the provider's
    /// `error_description`, if any.
    #[error("the sign-in redirect was refused: {problem}{}", said(.words))]
    Redirect {
        problem: RedirectProblem,
        words: Option<String>,
    },
    /// The grant is gone (`invalid_grant`: password changed, access revoked, consent withdrawn,
    /// refresh token expired) or the provider wants the user back (`interaction_required`):
    /// sign in again. No retry helps.
    #[error("sign-in required: the provider no longer accepts this account's authorization{}", said(.words))]
    SigninRequired { words: Option<String> },
    /// `invalid_client` / `unauthorized_client`: the client id (or secret) is wrong, or not
    /// allowed this flow.
    #[error("the provider refused the client id{}", said(.words))]
    ClientRejected { words: Option<String> },
    /// The organisation's administrator must approve the app first (Microsoft's admin consent:
    /// `AADSTS65001`, `AADSTS90094`, … or `consent_required`).
    #[error("the organisation must approve this app before it can be used{}", said(.words))]
    AdminApprovalRequired { words: Option<String> },
    /// The token endpoint said no for another reason (`invalid_scope`, `invalid_request`, …):
    /// its `error` code and words.
    #[error("the token endpoint refused the request ({code}){}", said(.words))]
    Refused { code: String, words: Option<String> },
    /// No answer, a 5xx or 429, an answer that is not the expected JSON (a captive portal):
    /// try again later.
    #[error("the token endpoint could not be reached or answered nonsense{}", said(.words))]
    Transient { words: Option<String> },
    /// The caller's store refused the rotated refresh token (the keyring's words). The new
    /// token is kept in memory and written again before anything uses it.
    #[error("the new refresh token could not be stored: {words}")]
    Store { words: String },
}

fn said(words: &Option<String>) -> String {
    match words {
        Some(w) => format!(" — {w}"),
        None => String::new(),
    }
}

impl OAuthError {
    /// What went wrong in the browser part of a sign-in (the local listener, the redirect,
    /// the wait), in `i18n`'s language, the provider's words in brackets. `None` for the token
    /// endpoint's and the settings' problems: those are a [`crate::error::ConnectError`]
    /// (`ConnectError::from((provider, e))`) with their catalog message and hint. One place for
    /// every front end (the CLI's `account login`, the settings window).
    pub fn browser_message_in(&self, i18n: &crate::i18n::I18n) -> Option<String> {
        use crate::i18n::{num, text};
        let message = match self {
            OAuthError::TimedOut { after } => i18n.tr_plain(
                "cli-signin-timed-out",
                &[("seconds", num(after.as_secs() as f64))],
            ),
            OAuthError::Listener { words } => {
                i18n.tr_plain("cli-signin-listener", &[("reason", text(words))])
            }
            OAuthError::Redirect { problem, words } => {
                let message = match problem {
                    RedirectProblem::AccessDenied => i18n.tr_plain("cli-signin-denied", &[]),
                    RedirectProblem::WrongState => i18n.tr_plain("cli-signin-wrong-state", &[]),
                    RedirectProblem::WrongIssuer { .. } => {
                        i18n.tr_plain("cli-signin-wrong-issuer", &[])
                    }
                    RedirectProblem::ProviderError { code } => {
                        i18n.tr_plain("cli-signin-provider-error", &[("code", text(code))])
                    }
                    _ => i18n.tr_plain("cli-signin-bad-redirect", &[]),
                };
                match words {
                    Some(w) => format!("{message} ({w})"),
                    None => message,
                }
            }
            _ => return None,
        };
        Some(message)
    }

    /// What failed, as a word for scripts.
    pub fn kind(&self) -> &'static str {
        match self {
            OAuthError::NoClientId { .. } => "oauth_no_client_id",
            OAuthError::BadProvider { .. } => "oauth_bad_provider",
            OAuthError::Listener { .. } => "oauth_listener",
            OAuthError::TimedOut { .. } => "oauth_timed_out",
            OAuthError::Redirect { .. } => "oauth_redirect",
            OAuthError::SigninRequired { .. } => "signin_required",
            OAuthError::ClientRejected { .. } => "oauth_client_rejected",
            OAuthError::AdminApprovalRequired { .. } => "oauth_admin_approval",
            OAuthError::Refused { .. } => "oauth_refused",
            OAuthError::Transient { .. } => "oauth_transient",
            OAuthError::Store { .. } => "oauth_store",
        }
    }

    /// The catalog id of what to do (`hint-oauth-*`; not in the catalogs yet).
    pub fn hint_id(&self) -> &'static str {
        match self {
            OAuthError::NoClientId { .. } => "hint-oauth-no-client-id",
            OAuthError::BadProvider { .. } => "hint-oauth-bad-provider",
            OAuthError::Listener { .. } => "hint-oauth-listener",
            OAuthError::TimedOut { .. } => "hint-oauth-timed-out",
            OAuthError::Redirect {
                problem: RedirectProblem::AccessDenied,
                ..
            } => "hint-oauth-access-denied",
            OAuthError::Redirect { .. } => "hint-oauth-redirect",
            OAuthError::SigninRequired { .. } => "hint-oauth-signin-required",
            OAuthError::ClientRejected { .. } => "hint-oauth-client-rejected",
            OAuthError::AdminApprovalRequired { .. } => "hint-oauth-admin-approval",
            OAuthError::Refused { .. } => "hint-oauth-refused",
            OAuthError::Transient { .. } => "hint-oauth-transient",
            OAuthError::Store { .. } => "hint-oauth-store",
        }
    }

    /// The grant is gone: the account waits for the user (`signin_required`), with no retries
    /// and no token requests until they sign in again.
    pub fn is_signin_required(&self) -> bool {
        matches!(self, OAuthError::SigninRequired { .. })
    }

    /// Worth trying again later without the user (a backoff, not a stop).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OAuthError::Transient { .. } | OAuthError::Store { .. }
        )
    }

    pub(crate) fn redirect(problem: RedirectProblem) -> Self {
        OAuthError::Redirect {
            problem,
            words: None,
        }
    }
}

#[cfg(test)]
mod tests;
