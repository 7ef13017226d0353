//! Selecting a folder by the name the config and the events use (decoded UTF-8), with the bytes
//! the server knows it by (modified UTF-7, [`super::utf7`]).

use async_imap::Session;
use async_imap::error::{Error, Result};
use async_imap::types::Mailbox;
use tracing::debug;

use super::transport::{MailStream, StatusTap};
use super::utf7;
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
