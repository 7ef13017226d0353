//! STLS (RFC 2595 §4): POP3's STARTTLS, strict in the same ways as IMAP's
//! (`imap/transport.rs`).
//!
//! Everything said before the handshake is in clear and may come from an attacker between us
//! and the server, so the only thing believed from it is "STLS is offered", and every way to
//! make a client go on without encryption is a refusal before any credential exists on the
//! wire:
//!
//! - no STLS in CAPA (or no CAPA at all): [`ConnectError::StarttlsUnavailable`], never a
//!   fall-back to plaintext — stripping the capability is the classic downgrade;
//! - bytes already waiting when we are about to send STLS: an early `+OK` would be taken as
//!   its answer ([`UnsafeCause::DataBeforeStarttls`]);
//! - bytes after the `+OK`: they arrived before the handshake and are not covered by it, yet
//!   a careless client would read them as the TLS session's first answers (CVE-2011-0411)
//!   ([`UnsafeCause::DataAfterStarttls`]);
//! - `-ERR`: [`ConnectError::StarttlsRefused`].
//!
//! After the handshake CAPA is asked again and the answer from before is thrown away
//! (RFC 2595 §4: the client must discard it).

use tokio::net::TcpStream;

use super::framing::Wire;
use super::rfc1939::{self, Status, has_capability};
use super::{Greeted, greet, tls_wire};
use crate::config::Account;
use crate::error::{ConnectError, Step, UnsafeCause};
use crate::imap::transport::{TlsConfigs, step};

/// Greeting and CAPA in clear, STLS, the handshake, CAPA again.
pub(super) async fn upgrade(
    account: &Account,
    tls: &TlsConfigs,
    tcp: TcpStream,
) -> Result<Greeted, ConnectError> {
    let t = account.timing.connect_timeout;
    let mut clear = Wire::new(tcp);
    let caps = greet(t, &mut clear).await?;
    if !caps.as_deref().is_some_and(|c| has_capability(c, "STLS")) {
        return Err(ConnectError::StarttlsUnavailable);
    }
    if clear.buffered() > 0 {
        return Err(ConnectError::unsafe_(UnsafeCause::DataBeforeStarttls));
    }
    let answer = step(t, Step::Starttls, async {
        clear.send(b"STLS").await?;
        rfc1939::read_status(&mut clear).await
    })
    .await
    .map_err(|e| e.at(Step::Starttls))?;
    if let Status::Err(text) = answer {
        return Err(ConnectError::StarttlsRefused(String::new()).with_words(text));
    }
    if clear.buffered() > 0 {
        return Err(ConnectError::unsafe_(UnsafeCause::DataAfterStarttls));
    }
    let (mut wire, info) = tls_wire(account, tls, clear).await?;
    let capabilities = step(t, Step::Capabilities, rfc1939::capa(&mut wire))
        .await
        .map_err(|e| e.at(Step::Capabilities))?;
    Ok(Greeted {
        wire,
        capabilities,
        tls: Some(info),
    })
}
