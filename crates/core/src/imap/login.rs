//! Authentication on a greeted stream: LOGIN, or AUTHENTICATE PLAIN where LOGIN is disabled.
//!
//! async-imap writes the LOGIN line (password included) to its `log` target at trace level;
//! Pushmail never installs a `log` bridge and its subscriber forces `async_imap` and
//! `imap_proto` off, so that line reaches no output (proven by the RUST_LOG=trace test).

use async_imap::{Authenticator, Client, Session};
use secrecy::{ExposeSecret, SecretString};

use super::transport::{Greeted, MailStream, StatusTap, has};
use crate::error::ConnectError;

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

/// Logs in and asks for capabilities again (RFC 3501: they may change after authentication).
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
    let mut session = tokio::time::timeout(command_timeout, attempt)
        .await
        .map_err(|_| ConnectError::Timeout("logging in"))??;
    let caps = tokio::time::timeout(command_timeout, session.capabilities())
        .await
        .map_err(|_| ConnectError::Timeout("reading capabilities after login"))?
        .map_err(|e| ConnectError::Network(format!("reading capabilities failed: {e}")))?;
    let capabilities = caps
        .iter()
        .map(|c| match c {
            async_imap::types::Capability::Imap4rev1 => "IMAP4REV1".to_owned(),
            async_imap::types::Capability::Auth(a) => format!("AUTH={}", a.to_ascii_uppercase()),
            async_imap::types::Capability::Atom(a) => a.to_ascii_uppercase(),
        })
        .collect();
    Ok(LoggedIn {
        session,
        capabilities,
        tap,
    })
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
                "UNAVAILABLE" | "LIMIT" | "INUSE" | "OVERQUOTA" => ConnectError::Throttled(text),
                "PRIVACYREQUIRED" => ConnectError::LoginDisabled,
                _ => ConnectError::Auth(if text.is_empty() {
                    "the server rejected the user name or password".into()
                } else {
                    text
                }),
            }
        }
        E::ConnectionLost => {
            ConnectError::Network("the server closed the connection during login".into())
        }
        E::Io(io) => ConnectError::Network(format!("connection failed during login: {io}")),
        other => ConnectError::Protocol(crate::text::truncate_for_log(&other.to_string())),
    }
}
