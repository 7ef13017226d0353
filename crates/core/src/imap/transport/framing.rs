//! A byte-level guard over the IMAP response stream.
//!
//! async-imap hands every byte the server sends to imap-proto, which will grow its buffer to
//! whatever a `{N}` literal announces (up to 4 GiB) and re-parse an unterminated line on every
//! read, and recurses on nested parentheses without a depth limit. [`Framer`] sees the bytes
//! *before* they reach that parser and enforces hard limits on line length, literal size,
//! response size and nesting depth, so a hostile server costs at most a few MiB and one dropped
//! connection.
//!
//! It also remembers the status and response code of the last tagged line (`a1 NO
//! [AUTHENTICATIONFAILED] …`). async-imap folds those into a Debug string; reading them here lets
//! the engine branch on IMAP's own codes instead of on another crate's message text.
//!
//! And it takes out what imap-proto cannot read: `* ESEARCH …` (RFC 4731), the compact answer
//! to `UID SEARCH RETURN (…)`. imap-proto 0.17 has no grammar for it, and async-imap would end
//! the session on it as an unparsable response. While a command of ours that asked for one is
//! outstanding ([`Framer::expect_esearch`], until the next tagged line), a response that starts
//! with `* ESEARCH` is kept here for the caller ([`Framer::take_esearch`]) and never handed on;
//! the parser sees the rest of the stream as if the line had not been sent. Unasked, the line
//! is passed on untouched and breaks the session as it always did: RFC 4731 sends ESEARCH only
//! in answer to a search that asked for it, so an unasked one is a server fault to surface, and
//! swallowing it silently could hide one we should have read.
//!
//! And it skips the answer to a command owed ahead of the session's first one (RFC 2971 `ID`,
//! [`Framer::skip_until`]): nobody reads that answer, so it never reaches the parser.

use std::fmt;

/// Limits applied to every response a server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest physical line (between CRLFs, literals excluded).
    pub max_line: usize,
    /// Largest `{N}` literal. Pushmail only ever fetches header fields, never bodies.
    pub max_literal: u64,
    /// Largest whole response (one logical line including its literals).
    pub max_response: u64,
    /// Deepest parenthesis nesting, outside quoted strings and literals.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_literal: 256 * 1024,
            max_response: 4 * 1024 * 1024,
            max_depth: 64,
        }
    }
}

/// Why a response was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitError {
    LineTooLong(usize),
    LiteralTooLarge(u64),
    ResponseTooLarge(u64),
    TooDeep(u32),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::LineTooLong(n) => write!(f, "server sent a line longer than {n} bytes"),
            LimitError::LiteralTooLarge(n) => {
                write!(f, "server announced a literal larger than {n} bytes")
            }
            LimitError::ResponseTooLarge(n) => {
                write!(f, "server sent a response larger than {n} bytes")
            }
            LimitError::TooDeep(n) => write!(f, "server nested parentheses deeper than {n}"),
        }
    }
}

impl std::error::Error for LimitError {}

/// Status of the last tagged response seen on the wire.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaggedStatus {
    /// `OK`, `NO` or `BAD`, upper-cased.
    pub status: String,
    /// The response code's atom, e.g. `AUTHENTICATIONFAILED`, `UNAVAILABLE`, upper-cased.
    pub code: Option<String>,
    /// Human-readable text after the code, truncated.
    pub text: String,
    /// A `[CAPABILITY …]` code's list, upper-cased — only when the whole code was seen (a
    /// list cut by the kept head would hide what comes after the cut).
    pub capabilities: Option<Vec<String>>,
}

/// The start of a SEARCH result line (`* SEARCH 1 2 3`).
const SEARCH_PREFIX: &[u8] = b"* SEARCH ";

/// Held responses ([`Framer::hold_until`]) may together be this many times `max_response`:
/// a QRESYNC SELECT after a long absence reports every flag change since (~50 bytes each), so
/// more than one response's worth, but never without bound.
const HOLD_CAP_RESPONSES: u64 = 4;

/// How much of a line's start is kept for tag/status parsing and for logs.
const HEAD_KEEP: usize = 512;

/// The start of an RFC 4731 answer (`* ESEARCH (TAG "A5") UID COUNT 3 ALL 4:6,9`); the next
/// byte is a space or the line's end.
const ESEARCH_PREFIX: &[u8] = b"* ESEARCH";

/// What happens to the bytes of the current response on their way to the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// Handed on.
    Pass,
    /// Held back (in `held`) while they could still be the start of `* ESEARCH`.
    Deciding,
    /// An ESEARCH answer: kept in `capture`, never handed on.
    Capturing,
    /// An answer to commands sent ahead of async-imap's own ([`Framer::hold_until`]), or to
    /// the owed command whose answer is skipped ([`Framer::skip_until`]): kept in `holding`
    /// until its end, never handed on.
    Holding,
}

/// Incremental scanner: feed it bytes as they arrive; it never buffers more than
/// [`HEAD_KEEP`] bytes of a line.
#[derive(Debug)]
pub struct Framer {
    limits: Limits,
    /// Bytes of literal still to pass through untouched.
    literal_left: u64,
    line_len: usize,
    response_len: u64,
    depth: u32,
    in_quote: bool,
    escaped: bool,
    /// Start of the current logical response, for tag/status parsing.
    head: Vec<u8>,
    /// Tail of the current physical line, to spot a `{N}` / `{N+}` literal announcement.
    tail: Vec<u8>,
    /// The current line is `* SEARCH` followed by nothing but numbers so far. Such a line is
    /// allowed past `max_line` (up to `max_response`): it is how a server lists the unread
    /// UIDs, and a mailbox with 10,000 unread messages makes a 70 KB one. It cannot nest or
    /// carry literals, so the only cost is its length, which the response cap bounds.
    search_numbers: bool,
    last_tagged: Option<TaggedStatus>,
    /// The text of the last `* BYE` (capped): why the server is leaving, for when the
    /// connection then simply ends (Cyrus in maintenance says `* BYE [ALERT] …` after LOGIN).
    last_bye: Option<String>,
    /// A command that asked for `* ESEARCH` is outstanding: responses starting with it are
    /// captured. Cleared by the next tagged line (the command's end) or by the caller.
    esearch_armed: bool,
    route: Route,
    /// The start of the current response, held back while `route` is [`Route::Deciding`].
    held: Vec<u8>,
    /// The ESEARCH response being captured.
    capture: Vec<u8>,
    /// The current physical line of a captured ESEARCH has, past its first [`HEAD_KEEP`]
    /// bytes, only a sequence set's bytes: like a long `* SEARCH`, it may pass `max_line`.
    esearch_numbers: bool,
    /// ESEARCH responses captured since armed, whole, with the tag of the tagged line that
    /// ended the command (its correlator should name it).
    captured: Vec<Vec<u8>>,
    captured_tag: Option<String>,
    /// Commands were sent ahead of async-imap's next one: every response is held back from
    /// the parser until the tagged line with this tag (the last of them) has come.
    hold_tag: Option<String>,
    /// The response being held.
    holding: Vec<u8>,
    /// A response that was being skipped but turned out to be another command's answer (the
    /// owed command was never answered): handed on at the end of its line.
    released: Vec<u8>,
    /// Responses held since [`Framer::hold_until`], each whole, in order.
    held_responses: Vec<Vec<u8>>,
    /// Their bytes together (bounded: [`HOLD_CAP_RESPONSES`] responses' worth).
    held_bytes: u64,
    /// A held response the parser could not read (capped): the session ends at once, as it
    /// would had async-imap read it, rather than after waiting for what follows.
    held_unreadable: Option<String>,
    /// A command was sent ahead of everything else whose answer nobody reads (RFC 2971 `ID`):
    /// every response up to and including the tagged line with this tag is dropped. Its
    /// responses come first (the server answers in order), so this is looked at before
    /// `hold_tag`.
    skip_tag: Option<String>,
    /// How the skipped command ended, once its tagged line has come.
    skipped: Option<TaggedStatus>,
}

impl Framer {
    pub fn new(limits: Limits) -> Self {
        Framer {
            limits,
            literal_left: 0,
            line_len: 0,
            response_len: 0,
            depth: 0,
            in_quote: false,
            escaped: false,
            head: Vec::with_capacity(64),
            tail: Vec::with_capacity(24),
            search_numbers: false,
            last_tagged: None,
            last_bye: None,
            esearch_armed: false,
            route: Route::Pass,
            held: Vec::new(),
            capture: Vec::new(),
            esearch_numbers: false,
            captured: Vec::new(),
            captured_tag: None,
            hold_tag: None,
            holding: Vec::new(),
            released: Vec::new(),
            held_responses: Vec::new(),
            held_bytes: 0,
            held_unreadable: None,
            skip_tag: None,
            skipped: None,
        }
    }

    /// A command tagged `tag` is about to be sent before anything else is answered: from the
    /// next response on, every response up to and including its tagged line is dropped, and
    /// that line kept for [`Self::take_skipped`]. Its answer may be anything (`* ID (…)`,
    /// `* ID NIL`, a `NO`, a `BAD`, a line imap-proto cannot read): it is not ours to act on.
    /// Every command gets a tagged line (RFC 3501 §2.2.2); a server that never sent this one
    /// would hold up the next command until its timeout, as it would this one sent alone.
    pub fn skip_until(&mut self, tag: &str) {
        self.skip_tag = Some(tag.to_owned());
        self.skipped = None;
    }

    /// How the command of [`Self::skip_until`] ended, once (its tagged line, when it came).
    pub fn take_skipped(&mut self) -> Option<TaggedStatus> {
        self.skipped.take()
    }

    /// A held response that cannot be parsed, if one came since the last call.
    pub fn take_unreadable(&mut self) -> Option<String> {
        self.held_unreadable.take()
    }

    /// Commands tagged up to `tag` are about to be sent ahead of the one async-imap sends
    /// next: from the next response on, every response up to and including the tagged line
    /// `tag …` is held back from the parser, for [`Self::take_held`]. async-imap then sees
    /// only what follows (the answer to its own command), so nothing of ours is misread as
    /// its, and nothing is lost to its bounded queue of unsolicited responses.
    pub fn hold_until(&mut self, tag: &str) {
        self.hold_tag = Some(tag.to_owned());
        self.held_responses.clear();
        self.held_bytes = 0;
    }

    /// The responses held since [`Self::hold_until`] (each whole, CRLF included), and whether
    /// the tagged line that ends them has come. Stops holding: what comes next is handed on.
    pub fn take_held(&mut self) -> (Vec<Vec<u8>>, bool) {
        let complete = self.hold_tag.take().is_none();
        self.held_bytes = 0;
        (std::mem::take(&mut self.held_responses), complete)
    }

    /// A command asking for `* ESEARCH` is about to be sent: until the next tagged line, a
    /// response starting with `* ESEARCH` is captured instead of handed on. Forgets what an
    /// earlier command captured.
    pub fn expect_esearch(&mut self) {
        self.esearch_armed = true;
        self.captured.clear();
        self.captured_tag = None;
    }

    /// No ESEARCH is expected any more (the command is over, or was given up): responses are
    /// handed on again from the next one, and whatever was captured is dropped. A response
    /// already being captured is captured to its end.
    pub fn stop_esearch(&mut self) {
        self.esearch_armed = false;
        self.captured.clear();
        self.captured_tag = None;
    }

    /// The ESEARCH responses captured since [`Self::expect_esearch`] (each a whole response,
    /// CRLF included), and the tag of the tagged line that ended the command, if it came.
    pub fn take_esearch(&mut self) -> (Vec<Vec<u8>>, Option<String>) {
        (std::mem::take(&mut self.captured), self.captured_tag.take())
    }

    /// The text of the last `* BYE` the server sent, if any (kept until taken).
    pub fn take_last_bye(&mut self) -> Option<String> {
        self.last_bye.take()
    }

    /// The last tagged status line, taken (so each is read once).
    pub fn take_last_tagged(&mut self) -> Option<TaggedStatus> {
        self.last_tagged.take()
    }

    /// Scans `buf` as it arrives from the server and appends to `out` what the parser may
    /// see: everything but captured ESEARCH responses. Bytes that may yet turn out to start
    /// one are held back until they tell (at most `* ESEARCH` and one more byte); at the end
    /// of the stream [`Self::release_held`] hands them on.
    pub fn filter(&mut self, buf: &[u8], out: &mut Vec<u8>) -> Result<(), LimitError> {
        let mut i = 0;
        while i < buf.len() {
            if self.literal_left > 0 {
                let n =
                    (buf.len() - i).min(usize::try_from(self.literal_left).unwrap_or(usize::MAX));
                self.literal_left -= n as u64;
                self.add_response(n)?;
                self.route(&buf[i..i + n], out);
                i += n;
                continue;
            }
            let b = buf[i];
            i += 1;
            if self.response_len == 0 {
                // A response begins: while an ESEARCH is expected, it may be one.
                self.route = if self.skip_tag.is_some() || self.hold_tag.is_some() {
                    Route::Holding
                } else if self.esearch_armed {
                    Route::Deciding
                } else {
                    Route::Pass
                };
            }
            self.add_response(1)?;
            self.line_len += 1;
            if self.head.len() < HEAD_KEEP {
                self.head.push(b);
            }
            if self.line_len == SEARCH_PREFIX.len() {
                self.search_numbers = self.head.len() == self.line_len
                    && self.head.eq_ignore_ascii_case(SEARCH_PREFIX);
            } else if self.search_numbers && !matches!(b, b'0'..=b'9' | b' ' | b'\r' | b'\n') {
                self.search_numbers = false;
            }
            if self.line_len > HEAD_KEEP
                && !matches!(b, b'0'..=b'9' | b',' | b':' | b' ' | b'\r' | b'\n')
            {
                self.esearch_numbers = false;
            }
            self.route(&[b], out);
            let long_ok =
                self.search_numbers || (self.route == Route::Capturing && self.esearch_numbers);
            if self.line_len > self.limits.max_line && !long_ok {
                return Err(LimitError::LineTooLong(self.limits.max_line));
            }
            if b == b'\n' {
                self.end_of_physical_line()?;
                out.append(&mut self.released);
                continue;
            }
            if self.tail.len() == 24 {
                self.tail.remove(0);
            }
            self.tail.push(b);
            self.track_depth(b)?;
        }
        Ok(())
    }

    /// [`Self::filter`] for tests that only care about limits and statuses.
    #[cfg(test)]
    pub fn feed(&mut self, buf: &[u8]) -> Result<(), LimitError> {
        self.filter(buf, &mut Vec::new())
    }

    /// The stream ended: bytes held back while deciding whether they start an ESEARCH are
    /// handed on (an unfinished line, for the parser to fail on as it would have).
    pub fn release_held(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
        self.route = Route::Pass;
    }

    /// Sends `bytes` of the current response where [`Route`] says.
    fn route(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        match self.route {
            Route::Pass => out.extend_from_slice(bytes),
            Route::Capturing => self.capture.extend_from_slice(bytes),
            Route::Holding => self.holding.extend_from_slice(bytes),
            Route::Deciding => {
                // Only ever one byte at a time: a response cannot start inside a literal.
                self.held.extend_from_slice(bytes);
                let n = self.held.len();
                let still = if n <= ESEARCH_PREFIX.len() {
                    self.held.eq_ignore_ascii_case(&ESEARCH_PREFIX[..n])
                } else {
                    false
                };
                if still {
                    return;
                }
                if n == ESEARCH_PREFIX.len() + 1 && matches!(self.held[n - 1], b' ' | b'\r') {
                    self.route = Route::Capturing;
                    self.esearch_numbers = true;
                    self.capture = std::mem::take(&mut self.held);
                } else {
                    self.route = Route::Pass;
                    out.append(&mut self.held);
                }
            }
        }
    }

    fn add_response(&mut self, n: usize) -> Result<(), LimitError> {
        self.response_len += n as u64;
        if self.response_len > self.limits.max_response {
            return Err(LimitError::ResponseTooLarge(self.limits.max_response));
        }
        Ok(())
    }

    fn track_depth(&mut self, b: u8) -> Result<(), LimitError> {
        if self.in_quote {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_quote = false;
            }
            return Ok(());
        }
        match b {
            b'"' => self.in_quote = true,
            b'(' | b'[' => {
                self.depth += 1;
                if self.depth > self.limits.max_depth {
                    return Err(LimitError::TooDeep(self.limits.max_depth));
                }
            }
            b')' | b']' => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(())
    }

    fn end_of_physical_line(&mut self) -> Result<(), LimitError> {
        self.line_len = 0;
        self.search_numbers = false;
        self.esearch_numbers = true;
        // A quoted string cannot span lines; a server that leaves one open is broken, and
        // resetting keeps the depth count honest for the next line.
        self.in_quote = false;
        self.escaped = false;
        if let Some(n) = literal_announcement(&self.tail) {
            self.tail.clear();
            if n > self.limits.max_literal {
                return Err(LimitError::LiteralTooLarge(self.limits.max_literal));
            }
            self.literal_left = n;
            if n == 0 {
                // `{0}\r\n` is legal and carries nothing; the line simply continues.
            }
            return Ok(());
        }
        self.tail.clear();
        self.finish_response()
    }

    fn finish_response(&mut self) -> Result<(), LimitError> {
        if self.route == Route::Holding
            && let Some(tag) = self.skip_tag.as_deref()
        {
            // The owed command's answer: dropped, only how it ended is kept. A goodbye in it
            // is still the server's last word.
            let status = parse_tagged(&self.head);
            if status.is_some() && self.head.split(|&c| c == b' ').next() == Some(tag.as_bytes()) {
                self.skip_tag = None;
                self.skipped = status;
            } else if status.is_some() {
                // Another command's tagged line while the owed one's is still awaited: tagged
                // answers come in order, so the owed command will never be answered. Skipping
                // ends here and this line goes where it would have gone (the parser, or the
                // held answers of a flight), rather than every later answer being dropped.
                self.skip_tag = None;
                if self.hold_tag.is_none() {
                    self.released.append(&mut self.holding);
                    self.route = Route::Pass;
                }
                return self.finish_response();
            } else if let Some(text) = parse_bye(&self.head) {
                self.last_bye = Some(text);
            }
            self.holding.clear();
        } else if self.route == Route::Holding {
            let response = std::mem::take(&mut self.holding);
            self.held_bytes += response.len() as u64;
            if self.held_bytes > self.limits.max_response.saturating_mul(HOLD_CAP_RESPONSES) {
                return Err(LimitError::ResponseTooLarge(
                    self.limits.max_response.saturating_mul(HOLD_CAP_RESPONSES),
                ));
            }
            let ends = self.hold_tag.as_deref().is_some_and(|tag| {
                parse_tagged(&self.head).is_some()
                    && self.head.split(|&c| c == b' ').next() == Some(tag.as_bytes())
            });
            if ends {
                self.hold_tag = None;
            }
            if let Some(text) = parse_bye(&self.head) {
                self.last_bye = Some(text);
            }
            // ESEARCH is read by hand (imap-proto does not know it); all else must parse.
            let esearch = response.len() > ESEARCH_PREFIX.len()
                && response[..ESEARCH_PREFIX.len()].eq_ignore_ascii_case(ESEARCH_PREFIX);
            if !esearch && imap_proto::Response::parse(&response).is_err() {
                self.held_unreadable.get_or_insert_with(|| {
                    crate::text::truncate_for_log(String::from_utf8_lossy(&response).trim_end())
                });
            }
            self.held_responses.push(response);
        } else if self.route == Route::Capturing {
            // All ESEARCH captured for one command together stay within one response's cap.
            let total: usize =
                self.captured.iter().map(Vec::len).sum::<usize>() + self.capture.len();
            if total as u64 > self.limits.max_response {
                return Err(LimitError::ResponseTooLarge(self.limits.max_response));
            }
            self.captured.push(std::mem::take(&mut self.capture));
        } else if let Some(status) = parse_tagged(&self.head) {
            if self.esearch_armed {
                // The command that asked for ESEARCH is over; nothing after it is captured.
                self.esearch_armed = false;
                self.captured_tag = self
                    .head
                    .split(|&c| c == b' ')
                    .next()
                    .map(|t| String::from_utf8_lossy(t).into_owned());
            }
            self.last_tagged = Some(status);
        } else if let Some(text) = parse_bye(&self.head) {
            self.last_bye = Some(text);
        }
        self.route = Route::Pass;
        self.head.clear();
        self.response_len = 0;
        self.depth = 0;
        Ok(())
    }
}

/// `…{123}\r` or `…{123+}\r` at the end of a line (the `\n` was already consumed).
fn literal_announcement(tail: &[u8]) -> Option<u64> {
    let t = tail.strip_suffix(b"\r").unwrap_or(tail);
    let t = t.strip_suffix(b"}")?;
    let t = t.strip_suffix(b"+").unwrap_or(t);
    let open = t.iter().rposition(|&c| c == b'{')?;
    let digits = &t[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The text after `* BYE `, capped.
fn parse_bye(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let head = text.get(..6)?;
    head.eq_ignore_ascii_case("* BYE ")
        .then(|| crate::text::truncate_for_log(text[6..].trim()))
}

/// Parses `TAG SP (OK|NO|BAD) [SP "[" CODE …]`, ignoring untagged (`*`) and continuation (`+`).
pub(crate) fn parse_tagged(line: &[u8]) -> Option<TaggedStatus> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut parts = text.splitn(3, ' ');
    let tag = parts.next()?;
    if tag.is_empty() || tag == "*" || tag == "+" {
        return None;
    }
    let status = parts.next()?.to_ascii_uppercase();
    if !matches!(status.as_str(), "OK" | "NO" | "BAD") {
        return None;
    }
    let rest = parts.next().unwrap_or("");
    let mut capabilities = None;
    let (code, text) = match rest.strip_prefix('[') {
        Some(r) => {
            let closed = r.find(']');
            let end = closed.unwrap_or(r.len());
            let mut words = r[..end].split(' ');
            let atom = words.next().unwrap_or("").to_ascii_uppercase();
            if atom == "CAPABILITY" && closed.is_some() {
                capabilities = Some(
                    words
                        .filter(|w| !w.is_empty())
                        .map(str::to_ascii_uppercase)
                        .collect(),
                );
            }
            (Some(atom), r.get(end + 1..).unwrap_or("").trim_start())
        }
        None => (None, rest),
    };
    Some(TaggedStatus {
        status,
        code,
        text: crate::text::truncate_for_log(text),
        capabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_bye_is_kept_for_when_the_connection_ends() {
        let mut f = Framer::new(Limits::default());
        f.feed(b"* BYE [ALERT] Down for maintenance\r\n").unwrap();
        assert_eq!(f.take_last_tagged(), None);
        assert_eq!(
            f.take_last_bye().as_deref(),
            Some("[ALERT] Down for maintenance")
        );
        assert_eq!(f.take_last_bye(), None);
    }

    fn framer() -> Framer {
        Framer::new(Limits::default())
    }

    #[test]
    fn passes_ordinary_responses_and_records_tagged_status() {
        let mut f = framer();
        f.feed(b"* OK [CAPABILITY IMAP4rev1] ready\r\n").unwrap();
        assert_eq!(f.take_last_tagged(), None);
        f.feed(b"a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
            .unwrap();
        let s = f.take_last_tagged().unwrap();
        assert_eq!(s.status, "NO");
        assert_eq!(s.code.as_deref(), Some("AUTHENTICATIONFAILED"));
        assert_eq!(s.text, "Authentication failed.");
    }

    /// Dovecot's LOGIN answer carries the capabilities after login (saving a CAPABILITY round
    /// trip); a list cut by the kept head is not believed, so nothing after the cut is lost.
    #[test]
    fn the_capabilities_in_a_login_ok_are_kept_whole_or_not_at_all() {
        let mut f = framer();
        f.feed(b"A1 OK [CAPABILITY IMAP4rev1 SASL-IR IDLE QRESYNC ESEARCH NOTIFY] Logged in\r\n")
            .unwrap();
        let s = f.take_last_tagged().unwrap();
        assert_eq!(s.code.as_deref(), Some("CAPABILITY"));
        assert_eq!(
            s.capabilities.unwrap(),
            [
                "IMAP4REV1",
                "SASL-IR",
                "IDLE",
                "QRESYNC",
                "ESEARCH",
                "NOTIFY"
            ]
        );
        assert_eq!(s.text, "Logged in");
        let long = format!(
            "A1 OK [CAPABILITY {} NOTIFY] Logged in\r\n",
            "X-CAP ".repeat(120)
        );
        f.feed(long.as_bytes()).unwrap();
        assert_eq!(f.take_last_tagged().unwrap().capabilities, None);
        f.feed(b"A2 OK Logged in\r\n").unwrap();
        assert_eq!(f.take_last_tagged().unwrap().capabilities, None);
    }

    #[test]
    fn literal_contents_are_not_parsed_as_lines() {
        let mut f = framer();
        // The literal contains a CRLF and something that looks like a tagged line.
        f.feed(b"* 1 FETCH (BODY[HEADER] {16}\r\na1 NO [X] boo\r\n\r\n)\r\n")
            .unwrap();
        assert_eq!(f.take_last_tagged(), None);
        f.feed(b"a2 OK done\r\n").unwrap();
        assert_eq!(f.take_last_tagged().unwrap().status, "OK");
    }

    #[test]
    fn split_feeds_behave_like_one() {
        let data =
            b"* 1 FETCH (UID 5 BODY[HEADER.FIELDS (FROM)] {12}\r\nFrom: a@b\r\n\r\n)\r\nx OK y\r\n";
        for cut in 0..data.len() {
            let mut f = framer();
            f.feed(&data[..cut]).unwrap();
            f.feed(&data[cut..]).unwrap();
            assert_eq!(f.take_last_tagged().unwrap().text, "y", "cut at {cut}");
        }
    }

    #[test]
    fn huge_literal_is_refused_at_announcement() {
        let mut f = framer();
        let err = f.feed(b"* 1 FETCH (BODY[] {4294967295}\r\n").unwrap_err();
        assert_eq!(err, LimitError::LiteralTooLarge(256 * 1024));
    }

    #[test]
    fn endless_line_is_refused() {
        let mut f = framer();
        let chunk = vec![b'a'; 8192];
        let mut result = Ok(());
        for _ in 0..20 {
            result = f.feed(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(LimitError::LineTooLong(64 * 1024)));
    }

    #[test]
    fn a_long_search_result_passes_but_not_a_long_line_pretending_to_be_one() {
        // 20,000 unread UIDs: ~140 KB on one line, past the 64 KiB line limit.
        let mut line = b"* SEARCH".to_vec();
        for uid in 100_000..120_000u32 {
            line.extend_from_slice(format!(" {uid}").as_bytes());
        }
        line.extend_from_slice(b"\r\na3 OK Search completed\r\n");
        assert!(line.len() > 128 * 1024);
        let mut f = framer();
        assert_eq!(f.feed(&line), Ok(()));
        assert_eq!(f.take_last_tagged().map(|t| t.status), Some("OK".into()));

        // The same length of anything else on a SEARCH line is still refused...
        let mut evil = b"* SEARCH 1 2 3 x".to_vec();
        evil.resize(70 * 1024, b'Z');
        assert_eq!(
            framer().feed(&evil),
            Err(LimitError::LineTooLong(64 * 1024))
        );
        // ...and so is a search line longer than a whole response may be.
        let mut huge = b"* SEARCH".to_vec();
        while huge.len() <= 4 * 1024 * 1024 {
            huge.extend_from_slice(b" 1234567");
        }
        assert_eq!(
            framer().feed(&huge),
            Err(LimitError::ResponseTooLarge(4 * 1024 * 1024))
        );
    }

    #[test]
    fn deep_nesting_is_refused_but_quoted_parens_are_not_counted() {
        let mut f = framer();
        let quoted = format!("* LIST () \"/\" \"{}\"\r\n", "(".repeat(1000));
        f.feed(quoted.as_bytes()).unwrap();
        let deep = "(".repeat(100_000);
        assert_eq!(f.feed(deep.as_bytes()), Err(LimitError::TooDeep(64)));
    }

    #[test]
    fn many_literals_in_one_response_hit_the_response_cap() {
        let mut f = framer();
        let lit = vec![b'x'; 200 * 1024];
        let mut err = None;
        for _ in 0..30 {
            if let Err(e) = f.feed(b" {204800}\r\n").and_then(|()| f.feed(&lit)) {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(LimitError::ResponseTooLarge(4 * 1024 * 1024)));
    }

    /// Feeds `chunks` as separate reads; returns what the parser would see.
    fn through(f: &mut Framer, chunks: &[&[u8]]) -> Result<Vec<u8>, LimitError> {
        let mut out = Vec::new();
        for c in chunks {
            f.filter(c, &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn an_esearch_asked_for_is_taken_out_of_the_stream_and_kept() {
        let data: &[u8] = b"* 7 EXISTS\r\n* ESEARCH (TAG \"A5\") UID COUNT 3 ALL 4:6,9\r\nA5 OK done\r\n* 3 EXPUNGE\r\n";
        // Any split across two reads (and every byte on its own) gives the same.
        let mut splits: Vec<Vec<&[u8]>> = (0..=data.len())
            .map(|cut| vec![&data[..cut], &data[cut..]])
            .collect();
        splits.push(data.chunks(1).collect());
        for chunks in splits {
            let mut f = framer();
            f.expect_esearch();
            let out = through(&mut f, &chunks).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out),
                "* 7 EXISTS\r\nA5 OK done\r\n* 3 EXPUNGE\r\n",
                "{chunks:?}"
            );
            let (lines, tag) = f.take_esearch();
            assert_eq!(
                lines,
                vec![b"* ESEARCH (TAG \"A5\") UID COUNT 3 ALL 4:6,9\r\n".to_vec()]
            );
            assert_eq!(tag.as_deref(), Some("A5"));
            assert_eq!(f.take_last_tagged().map(|t| t.status), Some("OK".into()));
        }
    }

    #[test]
    fn answers_to_commands_sent_ahead_are_held_whole_and_the_rest_passes() {
        // The answers to P1 and P2 (one with a literal, one with an ESEARCH), then IDLE's
        // continuation for async-imap; cut anywhere, or byte by byte.
        let data: &[u8] = b"* 2 EXISTS\r\nP1 OK [READ-WRITE] done\r\n* 1 FETCH (UID 1 BODY[HEADER] {4}\r\nP2 O)\r\n* ESEARCH (TAG \"P2\") UID COUNT 1 ALL 2\r\nP2 OK searched\r\n+ idling\r\n* 3 EXISTS\r\n";
        let mut splits: Vec<Vec<&[u8]>> = (0..=data.len())
            .map(|cut| vec![&data[..cut], &data[cut..]])
            .collect();
        splits.push(data.chunks(1).collect());
        for chunks in splits {
            let mut f = framer();
            f.hold_until("P2");
            let out = through(&mut f, &chunks).unwrap();
            assert_eq!(out, b"+ idling\r\n* 3 EXISTS\r\n", "{chunks:?}");
            let (held, complete) = f.take_held();
            assert!(complete);
            let held: Vec<_> = held
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            assert_eq!(
                held,
                [
                    "* 2 EXISTS\r\n",
                    "P1 OK [READ-WRITE] done\r\n",
                    "* 1 FETCH (UID 1 BODY[HEADER] {4}\r\nP2 O)\r\n",
                    "* ESEARCH (TAG \"P2\") UID COUNT 1 ALL 2\r\n",
                    "P2 OK searched\r\n",
                ]
            );
            // Ours, not async-imap's: no tagged status is left to vouch for its commands.
            assert_eq!(f.take_last_tagged(), None);
        }
        // The stream ends before the last tag: incomplete, and nothing reaches the parser.
        let mut f = framer();
        f.hold_until("P2");
        assert!(
            through(&mut f, &[b"P1 OK x\r\n* BYE going\r\n"])
                .unwrap()
                .is_empty()
        );
        let (held, complete) = f.take_held();
        assert_eq!(held.len(), 2);
        assert!(!complete);
        assert_eq!(f.take_last_bye().as_deref(), Some("going"));
    }

    /// The answer to an owed `ID` — whatever it is — never reaches the parser, and never
    /// vouches for the next command: cut anywhere, only what follows its tagged line passes.
    #[test]
    fn the_answer_to_an_owed_command_is_skipped_whatever_it_says() {
        for (answer, status) in [
            (
                &b"* ID (\"name\" \"Coremail Imap\" \"vendor\" \"Mailtech\")\r\nP1 OK ID completed\r\n"[..],
                "OK",
            ),
            (b"* ID NIL\r\nP1 OK done\r\n", "OK"),
            (b"P1 NO ID not allowed\r\n", "NO"),
            (b"P1 BAD Unknown command\r\n", "BAD"),
            // Not IMAP imap-proto reads: skipped all the same, not a broken session.
            (b"* ID (\"name\" {3}\r\nabc)\r\n* ID (((\r\nP1 OK x\r\n", "OK"),
        ] {
            let data = [answer, b"* OK [UIDVALIDITY 3] x\r\nA1 OK [READ-WRITE] done\r\n"].concat();
            for cut in 0..=data.len() {
                let mut f = framer();
                f.skip_until("P1");
                let out = through(&mut f, &[&data[..cut], &data[cut..]]).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    "* OK [UIDVALIDITY 3] x\r\nA1 OK [READ-WRITE] done\r\n"
                );
                assert_eq!(f.take_skipped().map(|s| s.status).as_deref(), Some(status));
                assert_eq!(f.take_last_tagged().map(|s| s.status).as_deref(), Some("OK"));
                assert_eq!(f.take_unreadable(), None);
            }
        }
    }

    /// Owed `ID` ahead of a flight: its answer is skipped, the flight's is held, async-imap's
    /// passes — each in its place, as the server answers them in order.
    #[test]
    fn an_owed_command_before_commands_sent_ahead() {
        let mut f = framer();
        f.hold_until("P3");
        f.skip_until("P1");
        let out = through(
            &mut f,
            &[b"* ID NIL\r\nP1 OK x\r\n* 0 EXISTS\r\nP2 OK sel\r\n* SEARCH\r\nP3 OK s\r\n+ idling\r\n"],
        )
        .unwrap();
        assert_eq!(out, b"+ idling\r\n");
        let (held, complete) = f.take_held();
        assert!(complete);
        assert_eq!(held.len(), 4, "{held:?}");
        assert_eq!(f.take_skipped().map(|s| s.status).as_deref(), Some("OK"));
        // A goodbye in answer to the owed command is still the server's last word.
        let mut f = framer();
        f.skip_until("P1");
        assert!(through(&mut f, &[b"* BYE no\r\n"]).unwrap().is_empty());
        assert_eq!(f.take_last_bye().as_deref(), Some("no"));
        assert_eq!(f.take_skipped(), None);
    }

    /// A server that advertises `ID` and never answers it: the next command's tagged line ends
    /// the skip and reaches the parser, so the session goes on instead of timing out on every
    /// later command.
    #[test]
    fn an_owed_command_never_answered_does_not_swallow_the_next_answer() {
        let data = b"A1 OK [READ-WRITE] done\r\n* 3 EXISTS\r\nA2 OK more\r\n";
        for cut in 0..=data.len() {
            let mut f = framer();
            f.skip_until("P1");
            let out = through(&mut f, &[&data[..cut], &data[cut..]]).unwrap();
            assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(data));
            assert_eq!(f.take_skipped(), None);
            assert_eq!(
                f.take_last_tagged().map(|s| s.status).as_deref(),
                Some("OK")
            );
        }
        // Ahead of a flight, the unanswered owed command leaves the flight's answers held.
        let mut f = framer();
        f.hold_until("P3");
        f.skip_until("P1");
        let out = through(
            &mut f,
            &[b"P2 OK sel\r\n* SEARCH\r\nP3 OK s\r\n+ idling\r\n"],
        )
        .unwrap();
        assert_eq!(out, b"+ idling\r\n");
        let (held, complete) = f.take_held();
        assert!(complete);
        assert_eq!(held.len(), 3, "{held:?}");
    }

    #[test]
    fn without_uid_with_count_zero_and_several_in_one_read_all_are_kept() {
        let mut f = framer();
        f.expect_esearch();
        let out = through(
            &mut f,
            &[b"* ESEARCH (TAG \"A1\") COUNT 0\r\n* esearch (tag \"A1\") UID COUNT 0\r\n* ESEARCH\r\n* ESEARCH UID MIN 2\r\nA1 OK x\r\n"],
        )
        .unwrap();
        assert_eq!(out, b"A1 OK x\r\n");
        let (lines, _) = f.take_esearch();
        let lines: Vec<_> = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert_eq!(
            lines,
            [
                "* ESEARCH (TAG \"A1\") COUNT 0\r\n",
                "* esearch (tag \"A1\") UID COUNT 0\r\n",
                "* ESEARCH\r\n",
                "* ESEARCH UID MIN 2\r\n"
            ]
        );
    }

    #[test]
    fn an_unasked_esearch_and_lookalikes_reach_the_parser_untouched() {
        // Not armed: passed on (imap-proto then fails the session, as before).
        let data: &[u8] = b"* ESEARCH (TAG \"A5\") UID COUNT 3\r\nA5 OK done\r\n";
        let mut f = framer();
        assert_eq!(through(&mut f, &[data]).unwrap(), data);
        assert!(f.take_esearch().0.is_empty());
        // Armed, but only `* ESEARCH` itself is taken: not a longer word, not a literal's
        // contents, not a line that merely contains it.
        let data: &[u8] = b"* ESEARCHING x\r\n* 1 FETCH (BODY[] {13}\r\n* ESEARCH 1\r\n)\r\n* OK * ESEARCH\r\n* E\r\nA2 OK y\r\n";
        for cut in 0..data.len() {
            let mut f = framer();
            f.expect_esearch();
            assert_eq!(
                through(&mut f, &[&data[..cut], &data[cut..]]).unwrap(),
                data,
                "cut at {cut}"
            );
            assert!(f.take_esearch().0.is_empty());
        }
        // The command's tagged line ends the capture: one after it is passed on.
        let mut f = framer();
        f.expect_esearch();
        let out = through(&mut f, &[b"A3 OK done\r\n* ESEARCH COUNT 1\r\n"]).unwrap();
        assert_eq!(out, b"A3 OK done\r\n* ESEARCH COUNT 1\r\n");
        // And given up (the command timed out): from the next response on, nothing is kept.
        let mut f = framer();
        f.expect_esearch();
        f.stop_esearch();
        let out = through(&mut f, &[b"* ESEARCH COUNT 1\r\n"]).unwrap();
        assert_eq!(out, b"* ESEARCH COUNT 1\r\n");
    }

    #[test]
    fn a_held_back_start_is_handed_on_when_the_stream_ends() {
        let mut f = framer();
        f.expect_esearch();
        let mut out = through(&mut f, &[b"* ESEA"]).unwrap();
        assert!(out.is_empty());
        f.release_held(&mut out);
        assert_eq!(out, b"* ESEA");
    }

    #[test]
    fn a_long_esearch_passes_only_if_it_is_a_sequence_set() {
        // 20,000 scattered unread: ALL lists every other UID, ~140 KB past the line limit.
        let mut line = b"* ESEARCH (TAG \"A9\") UID COUNT 20000 ALL ".to_vec();
        let set: Vec<String> = (0..20_000u32)
            .map(|i| (100_000 + 2 * i).to_string())
            .collect();
        line.extend_from_slice(set.join(",").as_bytes());
        line.extend_from_slice(b"\r\n");
        assert!(line.len() > 128 * 1024);
        let mut f = framer();
        f.expect_esearch();
        let out = through(&mut f, &[&line, b"A9 OK done\r\n"]).unwrap();
        assert_eq!(out, b"A9 OK done\r\n");
        assert_eq!(f.take_esearch().0, vec![line.clone()]);

        // Anything else that long is refused, asked for or not...
        let mut evil = b"* ESEARCH (TAG \"A9\") UID ALL 1,".to_vec();
        evil.resize(70 * 1024, b'Z');
        let mut f = framer();
        f.expect_esearch();
        assert_eq!(
            through(&mut f, &[&evil]),
            Err(LimitError::LineTooLong(64 * 1024))
        );
        assert_eq!(
            framer().feed(&evil),
            Err(LimitError::LineTooLong(64 * 1024))
        );
        // ...and the numbers too past the response cap, also summed over several answers.
        let mut huge = b"* ESEARCH UID ALL 1".to_vec();
        while huge.len() <= 4 * 1024 * 1024 {
            huge.extend_from_slice(b",1234567");
        }
        let mut f = framer();
        f.expect_esearch();
        assert_eq!(
            through(&mut f, &[&huge]),
            Err(LimitError::ResponseTooLarge(4 * 1024 * 1024))
        );
        let mut f = framer();
        f.expect_esearch();
        let mut result = Ok(Vec::new());
        for _ in 0..40 {
            result = through(&mut f, &[&line]);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(LimitError::ResponseTooLarge(4 * 1024 * 1024)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_respects_limits(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let mut f = Framer::new(Limits { max_line: 256, max_literal: 64, max_response: 1024, max_depth: 8 });
            let _ = f.feed(&data);
        }

        /// Armed or not, however the bytes are cut into reads, the parser sees the stream
        /// minus the captured ESEARCH responses, and those are kept whole.
        #[test]
        fn filtering_is_the_same_however_the_reads_are_cut(
            lines in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::Just("* ESEARCH (TAG \"A1\") UID COUNT 2 ALL 3:4\r\n"),
                proptest::prelude::Just("* ESEARCH\r\n"),
                proptest::prelude::Just("* ESEARC\r\n"),
                proptest::prelude::Just("* 4 EXISTS\r\n"),
                proptest::prelude::Just("* 1 FETCH (BODY[] {11}\r\n* ESEARCH\r\n)\r\n"),
                proptest::prelude::Just("* SEARCH 1 2\r\n"),
            ], 0..12),
            armed in proptest::prelude::any::<bool>(),
            cuts in proptest::collection::vec(0usize..400, 0..6),
        ) {
            let data: String = lines.concat();
            let data = data.as_bytes();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut f = Framer::new(Limits::default());
            if armed {
                f.expect_esearch();
            }
            let mut out = Vec::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([data.len()]) {
                f.filter(&data[from..cut], &mut out).unwrap();
                from = cut;
            }
            let kept: Vec<&str> = lines.iter().copied().filter(|l| armed && l.starts_with("* ESEARCH")).collect();
            let passed: String = lines.iter().copied().filter(|l| !(armed && l.starts_with("* ESEARCH"))).collect();
            proptest::prop_assert_eq!(String::from_utf8_lossy(&out), passed);
            let (got, _) = f.take_esearch();
            let got: Vec<String> = got.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect();
            proptest::prop_assert_eq!(got, kept);
        }
    }
}
