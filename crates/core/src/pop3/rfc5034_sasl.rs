//! AUTH PLAIN (RFC 5034, the PLAIN mechanism of RFC 4616) for POP3 servers that list
//! `SASL PLAIN` in CAPA.
//!
//! Preferred over USER/PASS when offered: it is one round trip instead of two, and servers
//! that restrict USER (some only allow it for legacy accounts) accept it. The credentials go
//! in the initial response on the AUTH line itself, unless that line would pass the 255
//! octets RFC 5034 §4 allows a command; then they follow the server's `+` continuation. PLAIN
//! is only ever used on a connection that is encrypted or to loopback (`super::Pop3::login`).

use base64::Engine as _;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};

use super::framing::{Budget, Overlong, Wire};
use super::rfc1939::{STATUS_MAX, Status, login_refused, parse_status};
use crate::error::{ConnectError, ProtoCause};

/// Longest command line, CRLF included (RFC 2449 §4, RFC 5034 §4).
const COMMAND_MAX: usize = 255;

/// The PLAIN response, base64: no authorization identity, NUL, user, NUL, password.
pub(crate) fn plain_response(user: &str, password: &SecretString) -> Zeroizing<String> {
    let raw = Zeroizing::new(format!("\0{user}\0{}", password.expose_secret()));
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()))
}

/// A line of the AUTH exchange: a status, or the server's `+` asking for more.
enum Reply {
    Status(Status),
    More,
}

async fn read_reply<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<Reply, ConnectError> {
    let mut line = Vec::new();
    let mut budget = Budget::new(STATUS_MAX as u64 + 2);
    wire.read_line(&mut line, STATUS_MAX, Overlong::Fail, &mut budget)
        .await?;
    // `+` alone or `+ challenge` (RFC 5034 §4); `+OK` is a status, and ends the exchange.
    if line == b"+" || line.starts_with(b"+ ") {
        return Ok(Reply::More);
    }
    let status = parse_status(&line)?;
    wire.done();
    Ok(Reply::Status(status))
}

/// Logs in with AUTH PLAIN. A `-ERR` is [`login_refused`]'s verdict, its words not yet
/// scrubbed of what the server may have echoed (the caller does that).
pub(crate) async fn auth_plain<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    user: &str,
    password: &SecretString,
) -> Result<(), ConnectError> {
    let response = plain_response(user, password);
    let initial = Zeroizing::new(format!("AUTH PLAIN {}", response.as_str()));
    if initial.len() + 2 <= COMMAND_MAX {
        wire.send(initial.as_bytes()).await?;
    } else {
        wire.send(b"AUTH PLAIN").await?;
        match read_reply(wire).await? {
            Reply::More => wire.send(response.as_bytes()).await?,
            Reply::Status(Status::Err(text)) => return Err(login_refused(&text)),
            Reply::Status(Status::Ok(text)) => {
                // Logged in without credentials: not a server we understand.
                return Err(ConnectError::protocol(ProtoCause::Unparsable).with_words(text));
            }
        }
    }
    match read_reply(wire).await? {
        Reply::Status(Status::Ok(_)) => Ok(()),
        Reply::Status(Status::Err(text)) => Err(login_refused(&text)),
        Reply::More => {
            // PLAIN has one step; a second challenge is cancelled (RFC 5034 §4: `*`), and
            // its answer read so the session stays in step.
            wire.send(b"*").await?;
            let said = match read_reply(wire).await? {
                Reply::Status(Status::Err(text) | Status::Ok(text)) => text,
                Reply::More => String::new(),
            };
            Err(ConnectError::protocol(ProtoCause::Refused).with_words(said))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_response_is_rfc_4616() {
        let pw = SecretString::from("pw");
        assert_eq!(plain_response("alice", &pw).as_str(), "AGFsaWNlAHB3");
    }
}
