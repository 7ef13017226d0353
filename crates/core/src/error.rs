//! Errors callers branch on. Everything else is `anyhow` with context.

use std::io;

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
    /// The password could not be obtained.
    #[error(transparent)]
    Secret(#[from] crate::secret::SecretError),
    /// The account configuration cannot work as written.
    #[error("{0}")]
    Config(String),
}

impl ConnectError {
    /// A sentence a non-expert can act on.
    pub fn hint(&self) -> String {
        match self {
            ConnectError::Network(_) => {
                "Check the host name and port, and that this computer is online.".into()
            }
            ConnectError::Timeout(_) => {
                "The server did not answer in time. Check the host and port, or raise connect_timeout_secs (connecting) or command_timeout_secs (commands) on a slow network.".into()
            }
            ConnectError::Tls(_) => {
                "The server's certificate is not trusted for this host name. If the server uses its own certificate authority, set ca_file in the account's settings; otherwise check the host name.".into()
            }
            ConnectError::StarttlsUnavailable | ConnectError::StarttlsRefused(_) => {
                "Use security = \"tls\" (usually port 993) if the server supports it, or ask the provider; Pushmail never sends a password unencrypted.".into()
            }
            ConnectError::LoginDisabled => {
                "Use security = \"tls\" or \"starttls\" for this account.".into()
            }
            ConnectError::Auth(_) => {
                "Check the user name, and set the password again (pushmail-cli account password ID). Some providers need an app password.".into()
            }
            ConnectError::Throttled(_) => {
                "Pushmail will retry after a pause. Other mail programs may be using up the server's connection limit.".into()
            }
            ConnectError::Protocol(_) => {
                "The server misbehaved; Pushmail will retry. If it persists, report it with the log.".into()
            }
            ConnectError::Secret(e) => e.hint(),
            ConnectError::Config(_) => "Fix the account in the configuration file or in Settings.".into(),
        }
    }

    /// Whether retrying later can help without the user changing anything.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ConnectError::Auth(_) | ConnectError::Config(_) | ConnectError::LoginDisabled
        ) || matches!(self, ConnectError::Secret(e) if e.is_permanent())
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

fn describe_tls_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => "the server's certificate is signed by an unknown authority".into(),
            // The chain names a trusted CA but that CA did not sign it: a certificate from an
            // impostor CA with the same name, as an interception proxy would present.
            C::BadSignature => "the server's certificate is signed by an unknown authority (its signature does not verify against the trusted CA it names)".into(),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet (check this computer's clock)".into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate is for a different host name".into()
            }
            C::Revoked => "the server's certificate has been revoked".into(),
            other => format!("the server's certificate is invalid: {other:?}"),
        },
        rustls::Error::PeerIncompatible(p) => {
            format!("the server's TLS is too old or incompatible: {p:?}")
        }
        other => format!("{other}"),
    }
}
