//! Selecting a folder by the name the config and the events use (decoded UTF-8), with the bytes
//! the server knows it by (modified UTF-7, [`super::utf7`]); and [`open`], how the watcher opens
//! one: with QRESYNC where it can, telling a folder that is gone from one refused for now.

use std::time::Duration;

use async_imap::Session;
use async_imap::error::{Error, Result};
use async_imap::types::Mailbox;
use tokio::time::timeout;
use tracing::debug;

use super::rfc7162_qresync::{self, Known, Resync};
use super::session::imap_error;
use super::transport::framing::TaggedStatus;
use super::transport::{MailStream, StatusTap};
use super::utf7;
use crate::error::{ConnectError, Step};
use crate::text::truncate_for_log;

/// `SELECT` the folder called `name`: its modified UTF-7 encoding, which is byte-exact for
/// every name the server listed and Pushmail decoded. A name shown raw because it was not valid
/// modified UTF-7 (`Tom&Jerry` from a server that does not escape `&`) does not survive
/// encoding, so when the server says NO to the encoded name, the name as written is tried.
/// Each SELECT counts only once the server has said OK to it (see [`StatusTap::confirmed`]).
pub async fn select(
    session: &mut Session<MailStream>,
    tap: &StatusTap,
    name: &str,
) -> Result<Mailbox> {
    let (encoded, raw) = utf7::wire_names(name);
    let result = tap.confirmed(session.select(&encoded)).await;
    match (result, raw) {
        (Err(Error::No(text)), Some(raw)) => {
            debug!(
                folder = %name,
                "the server has no {encoded:?} ({}); trying the name as written",
                truncate_for_log(&text)
            );
            tap.confirmed(session.select(&raw)).await
        }
        (result, _) => result,
    }
}

/// What opening a folder found.
#[derive(Debug)]
pub enum Opened {
    /// Selected: what the server said about it (and, with QRESYNC, what changed since `known`).
    Selected(Resync),
    /// The server said NO (not a temporary one): the folder does not exist there. Its words.
    Missing(String),
}

/// Opens folder `name` (`wire`: its modified UTF-7 name) for watching: `SELECT … (QRESYNC …)`
/// when `known` holds what we saw last (RFC 7162), else a plain [`select`]; bounded by
/// `limit`, counted only on the server's tagged OK.
///
/// A `NO` that says "not now" rather than "no such folder" (RFC 5530 codes `UNAVAILABLE`,
/// `INUSE`, `SERVERBUG`, `LIMIT`) is an error, not [`Opened::Missing`]: skipping the folder until
/// the next reconnect could mean days without its mail, so the session is rebuilt (with
/// backoff) and the folder tried again.
pub async fn open(
    session: &mut Session<MailStream>,
    tap: &StatusTap,
    name: &str,
    wire: &str,
    known: Option<Known>,
    limit: Duration,
) -> std::result::Result<Opened, ConnectError> {
    let selected = match known {
        Some(known) => {
            timeout(
                limit,
                tap.confirmed(rfc7162_qresync::select(session, wire, known)),
            )
            .await
        }
        None => {
            timeout(limit, async {
                select(session, tap, name).await.map(Resync::from_mailbox)
            })
            .await
        }
    };
    match selected {
        Ok(Ok(m)) => Ok(Opened::Selected(m)),
        Ok(Err(Error::No(text))) => {
            // async-imap's own text for a refused SELECT is a Debug dump of the response; the
            // framer kept the tagged line itself: its code says "gone" or "not now", and its
            // text is the server's words.
            let status = tap.take();
            if refused_for_now(status.clone()) {
                let said = status.map_or(text, |s| s.text);
                return Err(ConnectError::protocol(crate::error::ProtoCause::Refused)
                    .at(Step::SelectingFolder)
                    .with_words(said));
            }
            Ok(Opened::Missing(truncate_for_log(
                &status.map_or(text, |s| s.text),
            )))
        }
        Ok(Err(e)) => Err(imap_error(Step::SelectingFolder, e, tap)),
        Err(_) => Err(ConnectError::Timeout(Step::SelectingFolder)),
    }
}

/// A `NO` with a response code that means "not now" (see [`open`]).
pub fn refused_for_now(status: Option<TaggedStatus>) -> bool {
    status
        .and_then(|s| s.code)
        .is_some_and(|c| matches!(c.as_str(), "UNAVAILABLE" | "INUSE" | "SERVERBUG" | "LIMIT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_temporary_refusal_keeps_a_folder_in_play() {
        let no = |code: Option<&str>| {
            Some(TaggedStatus {
                status: "NO".into(),
                code: code.map(str::to_owned),
                text: "x".into(),
                capabilities: None,
            })
        };
        for code in ["UNAVAILABLE", "INUSE", "SERVERBUG", "LIMIT"] {
            assert!(refused_for_now(no(Some(code))), "{code}");
        }
        // Dovecot: `NO [NONEXISTENT] Mailbox doesn't exist`; many servers give no code at all.
        assert!(!refused_for_now(no(Some("NONEXISTENT"))));
        assert!(!refused_for_now(no(None)));
        assert!(!refused_for_now(None));
    }
}
