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
}

/// The start of a SEARCH result line (`* SEARCH 1 2 3`).
const SEARCH_PREFIX: &[u8] = b"* SEARCH ";

/// How much of a line's start is kept for tag/status parsing and for logs.
const HEAD_KEEP: usize = 512;

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
        }
    }

    /// The text of the last `* BYE` the server sent, if any (kept until taken).
    pub fn take_last_bye(&mut self) -> Option<String> {
        self.last_bye.take()
    }

    /// The last tagged status line, taken (so each is read once).
    pub fn take_last_tagged(&mut self) -> Option<TaggedStatus> {
        self.last_tagged.take()
    }

    /// Scans `buf`, which the caller is about to hand on to the parser.
    pub fn feed(&mut self, buf: &[u8]) -> Result<(), LimitError> {
        let mut i = 0;
        while i < buf.len() {
            if self.literal_left > 0 {
                let n =
                    (buf.len() - i).min(usize::try_from(self.literal_left).unwrap_or(usize::MAX));
                self.literal_left -= n as u64;
                self.add_response(n)?;
                i += n;
                continue;
            }
            let b = buf[i];
            i += 1;
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
            if self.line_len > self.limits.max_line && !self.search_numbers {
                return Err(LimitError::LineTooLong(self.limits.max_line));
            }
            if b == b'\n' {
                self.end_of_physical_line()?;
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
        self.finish_response();
        Ok(())
    }

    fn finish_response(&mut self) {
        if let Some(status) = parse_tagged(&self.head) {
            self.last_tagged = Some(status);
        } else if let Some(text) = parse_bye(&self.head) {
            self.last_bye = Some(text);
        }
        self.head.clear();
        self.response_len = 0;
        self.depth = 0;
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
fn parse_tagged(line: &[u8]) -> Option<TaggedStatus> {
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
    let (code, text) = match rest.strip_prefix('[') {
        Some(r) => {
            let end = r.find(']').unwrap_or(r.len());
            let atom = r[..end]
                .split(' ')
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            (Some(atom), r.get(end + 1..).unwrap_or("").trim_start())
        }
        None => (None, rest),
    };
    Some(TaggedStatus {
        status,
        code,
        text: crate::text::truncate_for_log(text),
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

    proptest::proptest! {
        #[test]
        fn never_panics_and_respects_limits(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let mut f = Framer::new(Limits { max_line: 256, max_literal: 64, max_response: 1024, max_depth: 8 });
            let _ = f.feed(&data);
        }
    }
}
