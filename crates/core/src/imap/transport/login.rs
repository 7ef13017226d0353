//! Authentication on a greeted stream: LOGIN, or AUTHENTICATE PLAIN where LOGIN is disabled.
//!
//! async-imap writes the LOGIN line (password included) to its `log` target at trace level;
//! Pushmail never installs a `log` bridge and its subscriber forces `async_imap` and
//! `imap_proto` off, so that line reaches no output (proven by the RUST_LOG=trace test).
//!
//! A server may also echo what it received (`a1 BAD Unknown command LOGIN "alice" "pw"`):
//! whatever a failed login reports is scrubbed of the password and of the SASL PLAIN blob
//! before it can reach a log line or a status detail.

use async_imap::{Authenticator, Client, Session};
use secrecy::{ExposeSecret, SecretString};

use super::{Greeted, MailStream, StatusTap, has};
use base64::Engine as _;

use crate::error::{ConnectError, Step};

/// An authenticated session with the capabilities valid after login.
pub struct LoggedIn {
    pub session: Session<MailStream>,
    pub capabilities: Vec<String>,
    pub tap: StatusTap,
}

struct Plain<'a> {
    user: &'a str,
    password: &'a SecretString,
}

impl Authenticator for Plain<'_> {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        // RFC 4616: authzid NUL authcid NUL password; async-imap base64-encodes it.
        format!("\0{}\0{}", self.user, self.password.expose_secret())
    }
}

/// Answers a token login's challenges: the initial response to an empty `+` (a server
/// without SASL-IR), and to an error challenge (`+ <base64 JSON>`, RFC 7628 §3.2.2) what the
/// mechanism asks for so that the server ends with its tagged `NO`: 0x01 for OAUTHBEARER, an
/// empty line for XOAUTH2 (else the login hangs). The error challenge is kept for the caller.
struct Bearer {
    first: Option<SecretString>,
    mechanism: crate::oauth::SaslMechanism,
    refused: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Authenticator for Bearer {
    type Response = Vec<u8>;
    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if challenge.is_empty()
            && let Some(first) = self.first.take()
        {
            return first.expose_secret().as_bytes().to_vec();
        }
        if let Ok(mut said) = self.refused.lock() {
            *said = Some(crate::text::truncate_for_log(&String::from_utf8_lossy(
                challenge,
            )));
        }
        match self.mechanism {
            crate::oauth::SaslMechanism::OAuthBearer => vec![1],
            crate::oauth::SaslMechanism::XOAuth2 => Vec::new(),
        }
    }
}

/// How a token login ended when it did not succeed.
#[derive(Debug)]
pub enum TokenLogin {
    /// The server refused the token itself (an error challenge): a fresh one may do.
    Rejected(ConnectError),
    /// Anything else (the network, a server without a token mechanism, a plain `NO`).
    Failed(ConnectError),
}

/// Logs in with an OAuth2 access token: `AUTHENTICATE OAUTHBEARER` (RFC 7628) or `XOAUTH2`,
/// whichever the server offers (the provider's preference first), with the initial response
/// on the command line where the server has SASL-IR (RFC 4959: one round trip, as LOGIN).
pub async fn login_with_token(
    greeted: Greeted,
    username: &str,
    token: &SecretString,
    provider: &crate::oauth::Provider,
    command_timeout: std::time::Duration,
) -> Result<LoggedIn, TokenLogin> {
    use crate::oauth::sasl;
    let Greeted {
        stream,
        capabilities,
        ..
    } = greeted;
    let Some(mechanism) = sasl::choose_mechanism(&capabilities, provider.sasl) else {
        return Err(TokenLogin::Failed(ConnectError::sign_in(
            crate::error::SignInProblem::NoMechanism,
            &provider.name,
        )));
    };
    let initial = sasl::initial_response_base64(
        mechanism,
        username,
        &provider.imap_host,
        provider.imap_port,
        token,
    )
    .map_err(|e| {
        TokenLogin::Failed(
            ConnectError::sign_in(crate::error::SignInProblem::BadSettings, &provider.name)
                .with_words(e.to_string()),
        )
    })?;
    let raw = match mechanism {
        sasl::SaslMechanism::OAuthBearer => {
            sasl::oauthbearer(username, &provider.imap_host, provider.imap_port, token)
        }
        sasl::SaslMechanism::XOAuth2 => sasl::xoauth2(username, token),
    }
    .map_err(|e| {
        TokenLogin::Failed(
            ConnectError::sign_in(crate::error::SignInProblem::BadSettings, &provider.name)
                .with_words(e.to_string()),
        )
    })?;
    let tap = stream.tap();
    let client = Client::new(stream);
    let refused = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (command, first) = if has(&capabilities, "SASL-IR") {
        (
            format!("{} {}", mechanism.name(), initial.expose_secret()),
            None,
        )
    } else {
        (mechanism.name().to_owned(), Some(raw.clone()))
    };
    let bearer = Bearer {
        first,
        mechanism,
        refused: refused.clone(),
    };
    let attempt = async {
        client
            .authenticate(command, bearer)
            .await
            .map_err(|(e, _)| classify_login_error(e, &tap))
    };
    let secrets = [
        token.expose_secret().to_owned(),
        initial.expose_secret().to_owned(),
        raw.expose_secret().to_owned(),
    ];
    let session = match tokio::time::timeout(command_timeout, attempt).await {
        Err(_) => return Err(TokenLogin::Failed(ConnectError::Timeout(Step::LoggingIn))),
        Ok(Err(e)) => {
            let e = e.map_words(|t| scrub(t, &secrets));
            let challenge = refused.lock().ok().and_then(|mut c| c.take());
            return Err(match (e, challenge) {
                (ConnectError::Auth(w), Some(challenge)) => {
                    tracing::debug!("token refused: {challenge}");
                    TokenLogin::Rejected(ConnectError::Auth(w))
                }
                (e, _) => TokenLogin::Failed(e),
            });
        }
        Ok(Ok(s)) => s,
    };
    capabilities_after_login(session, tap, command_timeout)
        .await
        .map_err(TokenLogin::Failed)
}

/// Logs in and learns the capabilities again (RFC 3501: they may change after authentication):
/// from the login's `OK [CAPABILITY …]` when the server sends them there, else by asking.
pub async fn login(
    greeted: Greeted,
    username: &str,
    password: &SecretString,
    command_timeout: std::time::Duration,
) -> Result<LoggedIn, ConnectError> {
    let Greeted {
        stream,
        capabilities,
        ..
    } = greeted;
    let tap = stream.tap();
    let client = Client::new(stream);
    let attempt = async {
        if has(&capabilities, "LOGINDISABLED") {
            if !has(&capabilities, "AUTH=PLAIN") {
                return Err(ConnectError::LoginDisabled);
            }
            client
                .authenticate(
                    "PLAIN",
                    Plain {
                        user: username,
                        password,
                    },
                )
                .await
                .map_err(|(e, _)| e)
        } else {
            client
                .login(username, password.expose_secret())
                .await
                .map_err(|(e, _)| e)
        }
        .map_err(|e| classify_login_error(e, &tap))
    };
    let session = tokio::time::timeout(command_timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout(Step::LoggingIn))?
        .map_err(|e| redact(e, username, password))?;
    capabilities_after_login(session, tap, command_timeout).await
}

/// The capabilities valid after login (RFC 3501: they may change with authentication): from
/// the login's `OK [CAPABILITY …]` when the server sends them there, else by asking. Where
/// they include `ID`, the session owes the server an `ID` (`imap/rfc2971_id.rs`), which
/// leaves with its next command.
async fn capabilities_after_login(
    mut session: Session<MailStream>,
    tap: StatusTap,
    command_timeout: std::time::Duration,
) -> Result<LoggedIn, ConnectError> {
    // Most servers (Dovecot, Cyrus) put the new capabilities in the login's OK
    // (`[CAPABILITY …]`, RFC 3501 §7.1): asking again would cost a round trip per connect.
    let capabilities = match tap
        .take()
        .filter(|s| s.status == "OK")
        .and_then(|s| s.capabilities)
    {
        Some(capabilities) => capabilities,
        None => ask_capabilities(&mut session, &tap, command_timeout).await?,
    };
    if let Some(id) = crate::imap::rfc2971_id::owed(&capabilities) {
        session.get_mut().owe(&id);
    }
    Ok(LoggedIn {
        session,
        capabilities,
        tap,
    })
}

/// `CAPABILITY`, for a server whose login's `OK` did not carry them.
async fn ask_capabilities(
    session: &mut Session<MailStream>,
    tap: &StatusTap,
    command_timeout: std::time::Duration,
) -> Result<Vec<String>, ConnectError> {
    let caps = tokio::time::timeout(command_timeout, tap.confirmed(session.capabilities()))
        .await
        .map_err(|_| ConnectError::Timeout(Step::CapabilitiesAfterLogin))?
        .map_err(|e| super::imap_error(Step::CapabilitiesAfterLogin, e, tap))?;
    Ok(caps
        .iter()
        .map(|c| match c {
            async_imap::types::Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
            async_imap::types::Capability::Auth(a) => format!("AUTH={}", a.to_ascii_uppercase()),
            async_imap::types::Capability::Atom(a) => a.to_ascii_uppercase(),
        })
        .collect())
}

/// Replaces the password, and the SASL PLAIN response carrying it, in an error's text: as
/// sent (LOGIN quotes it, so `"` and `\` come back escaped), and — because the server's text
/// was capped at 1 KiB before it reaches us — also a start of any of them left at the cut.
fn redact(e: ConnectError, username: &str, password: &SecretString) -> ConnectError {
    let pw = password.expose_secret();
    if pw.is_empty() {
        return e;
    }
    let blob = base64::engine::general_purpose::STANDARD.encode(format!("\0{username}\0{pw}"));
    let quoted = pw.replace('\\', "\\\\").replace('"', "\\\"");
    let secrets = [blob, quoted, pw.to_owned()];
    e.map_words(|text| scrub(text, &secrets))
}

/// `text` without any of `secrets`, nor a start of one (3 characters or more) at its end.
/// Shared with the POP3 login (`pop3/mod.rs`), whose server words are scrubbed the same way.
pub(crate) fn scrub<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        out = out.replace(s.as_ref(), "[REDACTED]");
    }
    // A capped text (`…` at the end) may end in the start of a secret.
    let body = out.strip_suffix('…').unwrap_or(&out).to_owned();
    for s in secrets {
        let s = s.as_ref();
        let cut = s
            .char_indices()
            .map(|(i, _)| i)
            .chain([s.len()])
            .filter(|&i| i >= 3 && body.ends_with(&s[..i]))
            .max();
        if let Some(i) = cut {
            return format!("{}[REDACTED]…", &body[..body.len() - i]);
        }
    }
    out
}

fn classify_login_error(e: async_imap::error::Error, tap: &StatusTap) -> ConnectError {
    use async_imap::error::Error as E;
    match e {
        E::No(_) | E::Bad(_) => {
            let status = tap.take();
            let code = status
                .as_ref()
                .and_then(|s| s.code.clone())
                .unwrap_or_default();
            let text = status.map(|s| s.text).unwrap_or_default();
            match code.as_str() {
                // RFC 5530: the server is temporarily unable, or limits connections.
                "UNAVAILABLE" | "LIMIT" | "INUSE" | "OVERQUOTA" => {
                    ConnectError::Throttled(String::new()).with_words(&text)
                }
                "PRIVACYREQUIRED" => ConnectError::LoginDisabled,
                // Microsoft 365 and Outlook.com to a password: `NO LOGIN failed` or
                // `NO … Basic authentication is disabled`. Only signing in helps.
                _ if text
                    .to_ascii_lowercase()
                    .contains("basic authentication is disabled") =>
                {
                    ConnectError::sign_in(crate::error::SignInProblem::PasswordsRefused, "")
                        .with_words(&text)
                }
                _ => ConnectError::Auth(String::new()).with_words(&text),
            }
        }
        other => super::imap_error(Step::LoggingIn, other, tap),
    }
}

/// How long a polite `LOGOUT` may take before the connection is simply dropped: whatever the
/// session was for is done, so a slow goodbye is not waited for.
const LOGOUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `LOGOUT`, bounded by [`LOGOUT_TIMEOUT`]; its outcome does not matter to anyone.
pub(crate) async fn logout(session: &mut async_imap::Session<super::MailStream>) {
    let _ = tokio::time::timeout(LOGOUT_TIMEOUT, session.logout()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
            ("\0alice\0pw", "AGFsaWNlAHB3"),
        ] {
            assert_eq!(base64::engine::general_purpose::STANDARD.encode(raw), enc);
        }
    }

    #[test]
    fn an_escaped_or_cut_password_is_scrubbed_too() {
        let pw = SecretString::from("p\"ss\\word-42");
        let escaped =
            ConnectError::Auth(r#"Unknown command LOGIN "alice" "p\"ss\\word-42""#.into());
        let text = redact(escaped, "alice", &pw).to_string();
        assert!(!text.contains("ss"), "{text}");
        // The server's text was capped in the middle of the echoed password.
        let cut = ConnectError::Auth("You sent p\"ss\\wo…".into());
        let text = redact(cut, "alice", &pw).to_string();
        assert!(!text.contains("ss\\wo"), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }

    #[test]
    fn echoed_credentials_are_scrubbed() {
        let pw = SecretString::from("s3cr3t-pw");
        let echoed = ConnectError::Auth(
            "Unknown command LOGIN \"alice\" \"s3cr3t-pw\" / AGFsaWNlAHMzY3IzdC1wdw==".into(),
        );
        let text = redact(echoed, "alice", &pw).to_string();
        assert!(!text.contains("s3cr3t-pw"), "{text}");
        assert!(!text.contains("AGFsaWNlAHMzY3IzdC1wdw=="), "{text}");
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}
