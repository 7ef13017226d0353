//! The POP3 commands Pushmail sends (RFC 1939, with CAPA and response codes from RFC 2449 and
//! RFC 3206) and what their answers mean.
//!
//! Only commands that read are here: USER/PASS, CAPA, STAT, UIDL, TOP and QUIT. DELE, RSET
//! and RETR are deliberately absent — Pushmail announces mail, it does not take it, so a POP3
//! mailbox looks exactly the same to the user's real mail program after Pushmail has been.
//!
//! Every function runs one command on a [`Wire`] and reads its whole answer, or fails; the
//! session (`super`) adds the timeout and the step, and keeps a session whose answer was cut
//! short from being used again. Pure parts (status lines, listings) are separate functions so
//! their rules are tested without sockets.

use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};

use super::framing::{Budget, Item, Overlong, Wire};
use crate::error::{ConnectError, ProtoCause};

/// Longest status line (`+OK …`/`-ERR …`) accepted. RFC 2449 §4 allows 512 octets; some
/// servers put long texts in their greeting, so twice that, and no more: the status line is
/// read whole before anything else.
pub(crate) const STATUS_MAX: usize = 1024;

/// Longest line of a CAPA or UIDL listing (an id is at most 70 bytes; 1024 is lenient).
pub(crate) const LISTING_LINE_MAX: usize = 1024;

/// Most bytes of one CAPA answer: a few dozen short lines in practice.
const CAPA_RESPONSE_MAX: u64 = 64 * 1024;

/// Most bytes of one UIDL listing. At ~40 bytes a line this is ~400,000 messages, and the
/// listing is kept in memory while it is checked, so the cap is also the memory a hostile
/// server can make us spend on it.
pub(crate) const UIDL_RESPONSE_MAX: u64 = 16 * 1024 * 1024;

/// Most bytes read for one TOP answer, kept or dropped. A header section is a few KiB; past
/// this the server is not sending one, and reading on would only waste the link.
pub(crate) const TOP_RESPONSE_MAX: u64 = 64 * 1024 * 1024;

/// Longest unique-id (RFC 1939 §7: 1 to 70 characters in 0x21..=0x7E).
const UNIQUE_ID_MAX: usize = 70;

/// A status line: `+OK` or `-ERR`, with the text after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok(String),
    Err(String),
}

/// Reads `line` as a status line; anything else is a protocol error carrying the line.
pub(crate) fn parse_status(line: &[u8]) -> Result<Status, ConnectError> {
    let text = String::from_utf8_lossy(line);
    let (word, rest) = match text.split_once(' ') {
        Some((w, r)) => (w, r),
        None => (text.as_ref(), ""),
    };
    // RFC 1939 says upper case; a lower-case `+ok` means the same and costs nothing to accept.
    if word.eq_ignore_ascii_case("+OK") {
        Ok(Status::Ok(rest.trim().to_owned()))
    } else if word.eq_ignore_ascii_case("-ERR") {
        Ok(Status::Err(rest.trim().to_owned()))
    } else {
        Err(ConnectError::protocol(ProtoCause::Unparsable).with_words(&text))
    }
}

/// Reads the status line that is a command's whole answer, at most [`STATUS_MAX`] bytes.
pub(crate) async fn read_status<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<Status, ConnectError> {
    let status = read_status_line(wire).await?;
    wire.done();
    Ok(status)
}

/// Reads the status line that starts a multi-line answer: after `+OK` the lines follow (the
/// answer is done at their `.`), after `-ERR` nothing does.
async fn read_listing_status<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<Status, ConnectError> {
    let status = read_status_line(wire).await?;
    if let Status::Err(_) = status {
        wire.done();
    }
    Ok(status)
}

async fn read_status_line<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<Status, ConnectError> {
    let mut line = Vec::new();
    let mut budget = Budget::new(STATUS_MAX as u64 + 2);
    wire.read_line(&mut line, STATUS_MAX, Overlong::Fail, &mut budget)
        .await?;
    parse_status(&line)
}

/// The response code at the start of a status text (RFC 2449 §8), upper-cased: `[IN-USE] …`
/// → `IN-USE`, `[SYS/TEMP] …` → `SYS/TEMP`.
pub(crate) fn response_code(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some(inner[..end].trim().to_ascii_uppercase())
}

/// Whether a `-ERR` says "not now" rather than "no": the mailbox is locked by another client
/// (`[IN-USE]`, RFC 2449 §8.1.1), a login came too soon after the last one (`[LOGIN-DELAY]`,
/// §8.1.2), or the server has a temporary problem (`[SYS/TEMP]`, RFC 3206 §4).
pub(crate) fn is_busy(text: &str) -> bool {
    response_code(text).is_some_and(|c| {
        matches!(c.as_str(), "IN-USE" | "LOGIN-DELAY" | "SYS/TEMP") || c.starts_with("SYS/TEMP/")
    })
}

/// What a `-ERR` to USER, PASS or AUTH means: busy, or the credentials (or the account) were
/// refused. The words still hold whatever the server echoed; the caller scrubs them.
pub(crate) fn login_refused(text: &str) -> ConnectError {
    if is_busy(text) {
        ConnectError::Throttled(String::new()).with_words(text)
    } else {
        ConnectError::Auth(String::new()).with_words(text)
    }
}

/// The greeting (RFC 1939 §4). A `-ERR` greeting is a server that will not talk to us now:
/// busy if it says so, a refusal otherwise, in its words.
pub(crate) async fn greeting<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<(), ConnectError> {
    match read_status(wire).await? {
        Status::Ok(_) => Ok(()),
        Status::Err(text) if is_busy(&text) => {
            Err(ConnectError::Throttled(String::new()).with_words(text))
        }
        Status::Err(text) => Err(ConnectError::protocol(ProtoCause::Refused).with_words(text)),
    }
}

/// CAPA (RFC 2449 §5): the capability lines as sent, or `None` for a server that predates it
/// (`-ERR`), which RFC 2449 tells clients to expect.
pub(crate) async fn capa<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<Option<Vec<String>>, ConnectError> {
    wire.send(b"CAPA").await?;
    if let Status::Err(_) = read_listing_status(wire).await? {
        return Ok(None);
    }
    let mut budget = Budget::new(CAPA_RESPONSE_MAX);
    let mut caps = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match wire
            .read_item(&mut line, LISTING_LINE_MAX, Overlong::Fail, &mut budget)
            .await?
        {
            Item::End => {
                wire.done();
                return Ok(Some(caps));
            }
            Item::Line(_) => {
                let cap = String::from_utf8_lossy(&line).trim().to_owned();
                if !cap.is_empty() {
                    caps.push(cap);
                }
            }
        }
    }
}

/// Whether a capability is listed: a CAPA line's first word, in any case (`SASL PLAIN` has
/// `SASL`).
pub(crate) fn has_capability(caps: &[String], name: &str) -> bool {
    caps.iter().any(|c| {
        c.split_ascii_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(name))
    })
}

/// Whether the `SASL` capability lists `mechanism`.
pub(crate) fn offers_sasl(caps: &[String], mechanism: &str) -> bool {
    caps.iter().any(|c| {
        let mut words = c.split_ascii_whitespace();
        words.next().is_some_and(|w| w.eq_ignore_ascii_case("SASL"))
            && words.any(|m| m.eq_ignore_ascii_case(mechanism))
    })
}

/// USER then PASS (RFC 1939 §7). PASS is never sent after a `-ERR` to USER.
pub(crate) async fn user_pass<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    user: &str,
    password: &SecretString,
) -> Result<(), ConnectError> {
    wire.send(format!("USER {user}").as_bytes()).await?;
    if let Status::Err(text) = read_status(wire).await? {
        return Err(login_refused(&text));
    }
    let pw = password.expose_secret();
    let mut line = Zeroizing::new(Vec::with_capacity(5 + pw.len()));
    line.extend_from_slice(b"PASS ");
    line.extend_from_slice(pw.as_bytes());
    wire.send(&line).await?;
    match read_status(wire).await? {
        Status::Ok(_) => Ok(()),
        Status::Err(text) => Err(login_refused(&text)),
    }
}

/// A `-ERR` to a command that should work on any POP3 server, in its words.
fn refused(text: &str) -> ConnectError {
    ConnectError::protocol(ProtoCause::Refused).with_words(text)
}

/// STAT (RFC 1939 §5): `+OK count octets`.
pub(crate) async fn stat<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<(u32, u64), ConnectError> {
    wire.send(b"STAT").await?;
    match read_status(wire).await? {
        Status::Ok(text) => parse_stat(&text)
            .ok_or_else(|| ConnectError::protocol(ProtoCause::Unparsable).with_words(&text)),
        Status::Err(text) => Err(refused(&text)),
    }
}

/// `count octets`, and any text after them (RFC 1939 discourages it, some servers add it).
pub(crate) fn parse_stat(text: &str) -> Option<(u32, u64)> {
    let mut words = text.split_ascii_whitespace();
    let count = words.next()?.parse().ok()?;
    let octets = words.next()?.parse().ok()?;
    Some((count, octets))
}

/// `n unique-id` of a UIDL answer, the id not yet checked.
fn parse_uidl(text: &str) -> Option<(u32, &str)> {
    let (n, id) = text.split_once(' ')?;
    Some((n.parse().ok().filter(|&n| n > 0)?, id))
}

/// RFC 1939 §7: 1 to 70 characters, each 0x21 to 0x7E. Anything else is not an id we can
/// store and compare safely (spaces would break the listing, control bytes the logs).
pub(crate) fn valid_unique_id(id: &str) -> bool {
    (1..=UNIQUE_ID_MAX).contains(&id.len()) && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn bad_listing(line: &str) -> ConnectError {
    ConnectError::protocol(ProtoCause::BadListing).with_words(line)
}

/// The rules a UIDL listing must follow to be trusted, checked one line at a time. A message
/// number is only an index for this session; the unique-id is what tells mail apart across
/// sessions, so an id that repeats, or a listing that skips or reorders messages, would make
/// Pushmail announce the wrong mail or miss some: refused, not repaired.
#[derive(Debug)]
pub(crate) struct Listing {
    count: Option<u32>,
    entries: Vec<(u32, String)>,
}

impl Listing {
    /// A listing of `count` messages (from STAT in the same session), if known.
    pub fn new(count: Option<u32>) -> Self {
        // The count is the server's word, not a size to trust with memory.
        let capacity = count.map_or(0, |c| c.min(65_536) as usize);
        Listing {
            count,
            entries: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, line: &str) -> Result<(), ConnectError> {
        let (n, id) = parse_uidl(line).ok_or_else(|| bad_listing(line))?;
        let after_last = self.entries.last().is_none_or(|&(last, _)| n > last);
        let in_range = self.count.is_none_or(|c| n <= c);
        if !after_last || !in_range || !valid_unique_id(id) {
            return Err(bad_listing(line));
        }
        self.entries.push((n, id.to_owned()));
        Ok(())
    }

    /// The listing, once its end was read: as many messages as STAT counted (we delete
    /// nothing, so every message is listed), no id twice.
    pub fn finish(self) -> Result<Vec<(u32, String)>, ConnectError> {
        if let Some(count) = self.count
            && self.entries.len() as u64 != u64::from(count)
        {
            return Err(bad_listing(&format!(
                "STAT {count}, UIDL {}",
                self.entries.len()
            )));
        }
        let mut ids: Vec<&str> = self.entries.iter().map(|(_, id)| id.as_str()).collect();
        ids.sort_unstable();
        if let Some(twice) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(bad_listing(twice[0]));
        }
        drop(ids);
        Ok(self.entries)
    }
}

/// UIDL for every message (RFC 1939 §7). `-ERR` means the server has no UIDL, and without it
/// Pushmail cannot work ([`ProtoCause::NoUidl`]).
pub(crate) async fn uidl_all<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    count: Option<u32>,
) -> Result<Vec<(u32, String)>, ConnectError> {
    wire.send(b"UIDL").await?;
    if let Status::Err(text) = read_listing_status(wire).await? {
        return Err(ConnectError::protocol(ProtoCause::NoUidl).with_words(text));
    }
    let mut budget = Budget::new(UIDL_RESPONSE_MAX);
    let mut listing = Listing::new(count);
    let mut line = Vec::new();
    loop {
        line.clear();
        match wire
            .read_item(&mut line, LISTING_LINE_MAX, Overlong::Fail, &mut budget)
            .await?
        {
            Item::End => {
                wire.done();
                return listing.finish();
            }
            Item::Line(_) => listing.push(&String::from_utf8_lossy(&line))?,
        }
    }
}

/// UIDL of one message: `+OK n unique-id` on the status line.
pub(crate) async fn uidl_one<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    n: u32,
) -> Result<String, ConnectError> {
    wire.send(format!("UIDL {n}").as_bytes()).await?;
    let text = match read_status(wire).await? {
        Status::Ok(text) => text,
        Status::Err(text) => return Err(refused(&text)),
    };
    match parse_uidl(&text) {
        Some((m, id)) if m == n && valid_unique_id(id) => Ok(id.to_owned()),
        _ => Err(bad_listing(&text)),
    }
}

/// TOP n 0 (RFC 1939 §7): the header section of message `n`, lines ended by CRLF and
/// dot-unstuffed, its first `max` bytes kept. The rest of the answer, however long, is read
/// and dropped as it arrives, so the next command finds the wire in step.
pub(crate) async fn top<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
    n: u32,
    max: usize,
) -> Result<Vec<u8>, ConnectError> {
    wire.send(format!("TOP {n} 0").as_bytes()).await?;
    if let Status::Err(text) = read_listing_status(wire).await? {
        return Err(refused(&text));
    }
    let mut budget = Budget::new(TOP_RESPONSE_MAX);
    let mut headers = Vec::with_capacity(max.min(8 * 1024));
    loop {
        let room = max - headers.len();
        match wire
            .read_item(&mut headers, room, Overlong::Cut, &mut budget)
            .await?
        {
            Item::End => {
                wire.done();
                return Ok(headers);
            }
            Item::Line(line) => {
                if !line.cut {
                    let crlf = (max - headers.len()).min(2);
                    headers.extend_from_slice(&b"\r\n"[..crlf]);
                }
            }
        }
    }
}

/// QUIT (RFC 1939 §6): ends the session. Its answer is read so that the server, not we,
/// closes first; what it says does not matter.
pub(crate) async fn quit<S: AsyncRead + AsyncWrite + Unpin>(
    wire: &mut Wire<S>,
) -> Result<(), ConnectError> {
    wire.send(b"QUIT").await?;
    read_status(wire).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"+OK").unwrap(), Status::Ok(String::new()));
        assert_eq!(
            parse_status(b"+OK 2 320").unwrap(),
            Status::Ok("2 320".into())
        );
        assert_eq!(
            parse_status(b"-ERR [IN-USE] locked").unwrap(),
            Status::Err("[IN-USE] locked".into())
        );
        assert_eq!(
            parse_status(b"+ok fine").unwrap(),
            Status::Ok("fine".into())
        );
        for bad in [&b"* OK IMAP"[..], b"+OKAY", b"", b"OK", b"+ "] {
            assert!(
                matches!(
                    parse_status(bad),
                    Err(ConnectError::Protocol {
                        cause: ProtoCause::Unparsable,
                        ..
                    })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn busy_codes_are_throttling_and_the_rest_is_auth() {
        for busy in [
            "[IN-USE] Mailbox locked by another session",
            "[SYS/TEMP] Try later",
            "[sys/temp/overload] Try later",
            "[LOGIN-DELAY] Wait 5 minutes",
        ] {
            assert!(
                matches!(login_refused(busy), ConnectError::Throttled(_)),
                "{busy}"
            );
        }
        for no in [
            "[AUTH] Invalid credentials",
            "[SYS/PERM] Account disabled",
            "Invalid password",
            "",
            "IN-USE without brackets",
        ] {
            assert!(matches!(login_refused(no), ConnectError::Auth(_)), "{no}");
        }
    }

    #[test]
    fn stat_answers() {
        assert_eq!(parse_stat("2 320"), Some((2, 320)));
        assert_eq!(parse_stat("0 0 messages"), Some((0, 0)));
        assert_eq!(parse_stat("2"), None);
        assert_eq!(parse_stat("-1 0"), None);
        assert_eq!(parse_stat("two 320"), None);
    }

    #[test]
    fn capabilities_are_the_first_word_of_a_line() {
        let caps: Vec<String> = [
            "TOP",
            "UIDL",
            "SASL PLAIN LOGIN",
            "IMPLEMENTATION STLS-less",
        ]
        .map(String::from)
        .into();
        assert!(has_capability(&caps, "uidl"));
        assert!(!has_capability(&caps, "STLS"));
        assert!(!has_capability(&caps, "PLAIN"));
        assert!(offers_sasl(&caps, "plain"));
        assert!(!offers_sasl(&caps, "CRAM-MD5"));
    }

    fn listing(count: Option<u32>, lines: &[&str]) -> Result<Vec<(u32, String)>, ConnectError> {
        let mut l = Listing::new(count);
        for line in lines {
            l.push(line)?;
        }
        l.finish()
    }

    fn is_bad(r: Result<Vec<(u32, String)>, ConnectError>) -> bool {
        matches!(
            r,
            Err(ConnectError::Protocol {
                cause: ProtoCause::BadListing,
                ..
            })
        )
    }

    #[test]
    fn a_listing_is_trusted_only_when_it_tells_every_message_apart() {
        assert_eq!(
            listing(Some(2), &["1 a", "2 b"]).unwrap(),
            [(1, "a".to_owned()), (2, "b".to_owned())]
        );
        assert_eq!(listing(Some(0), &[]).unwrap(), []);
        assert_eq!(listing(None, &["1 a", "3 c"]).unwrap().len(), 2);
        let id70 = "x".repeat(70);
        let id71 = "x".repeat(71);
        assert!(listing(None, &[&format!("1 {id70}")]).is_ok());
        assert!(is_bad(listing(None, &[&format!("1 {id71}")])));
        // The same id twice: two messages we could not tell apart.
        assert!(is_bad(listing(None, &["1 a", "2 b", "3 a"])));
        // Out of order, repeated or zero message numbers.
        assert!(is_bad(listing(None, &["2 a", "1 b"])));
        assert!(is_bad(listing(None, &["1 a", "1 b"])));
        assert!(is_bad(listing(None, &["0 a"])));
        // Bytes outside 0x21..=0x7E, an empty id, a missing id.
        for line in ["1 a b", "1 é", "1 a\u{7f}", "1 ", "1", "x a", "1  a"] {
            assert!(is_bad(listing(None, &[line])), "{line:?}");
        }
        // Not what STAT counted: more, fewer, or past the count.
        assert!(is_bad(listing(Some(3), &["1 a", "2 b"])));
        assert!(is_bad(listing(Some(1), &["1 a", "2 b"])));
        assert!(is_bad(listing(Some(2), &["1 a", "3 b"])));
    }
}
