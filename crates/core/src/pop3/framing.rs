//! POP3's wire, byte by byte: lines in, lines out, and nothing kept that a limit does not allow.
//!
//! A POP3 server decides how long its lines are and how many it sends; a hostile or broken one
//! can send a 1 GiB "header" line or never send a line end at all. Every read here therefore
//! says up front how much of the line it keeps, and whether a longer line is a protocol error
//! (status and listing lines, where the whole line is the meaning) or is cut (header lines,
//! where the first bytes are what a notification shows). The part of a line that is not kept
//! is read from the socket and dropped on the spot, never buffered, so the cost of a huge line
//! is time, not memory, and the response can still be read to its end — which keeps the
//! session in step for the next command. A per-response [`Budget`] bounds that time.
//!
//! The buffer is our own (not a `BufReader`) so that STLS can ask "is anything buffered?"
//! before and after the command: bytes we did not ask for are the injection the strict
//! STARTTLS rules refuse (`super::rfc2595_stls`).

use secrecy::zeroize::Zeroizing;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{ConnectError, NetCause, ProtoCause};
use crate::imap::transport::framing::LimitError;

/// How much is read from the socket at once. Small: POP3 answers are lines, and the only big
/// responses (a header section) are consumed and dropped as they arrive.
const READ_CHUNK: usize = 8 * 1024;

/// What to do with a line longer than the caller keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Overlong {
    /// The line is the meaning (a status, a listing entry): a longer one is a protocol error,
    /// raised as soon as the limit is passed, without reading the rest.
    Fail,
    /// Keep the start and drop the rest (a header line): not an error.
    Cut,
}

/// One line as read: its full length (without the line end) and whether part of it was
/// dropped. The kept bytes are in the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub len: u64,
    pub cut: bool,
}

/// One line of a multi-line response (RFC 1939 §3): a line, or the `.` that ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Item {
    Line(Line),
    End,
}

/// How many more bytes one response may take, all lines and line ends counted.
#[derive(Debug)]
pub(crate) struct Budget {
    left: u64,
    max: u64,
}

impl Budget {
    pub fn new(max: u64) -> Self {
        Budget { left: max, max }
    }

    fn spend(&mut self, n: usize) -> Result<(), ConnectError> {
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            ConnectError::protocol(ProtoCause::Limit(LimitError::ResponseTooLarge(self.max)))
        })?;
        Ok(())
    }
}

/// A byte stream with a small read buffer and counters of the bytes that crossed it.
pub(crate) struct Wire<S> {
    stream: S,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    read: u64,
    written: u64,
    /// A command was sent and its answer not yet read to the end (see [`Wire::pending`]).
    pending: bool,
}

/// Counters only: the buffer holds the server's bytes, which are not for a Debug dump.
impl<S> std::fmt::Debug for Wire<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wire")
            .field("read", &self.read)
            .field("written", &self.written)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub fn new(stream: S) -> Self {
        Wire {
            stream,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            pos: 0,
            end: 0,
            read: 0,
            written: 0,
            pending: false,
        }
    }

    /// The stream, for the TLS handshake, and the counters to go on with
    /// ([`Wire::resume`]). The caller has made sure nothing is buffered.
    pub fn into_parts(self) -> (S, (u64, u64)) {
        (self.stream, (self.read, self.written))
    }

    /// A wire on `stream` (the TLS stream over the previous one) that goes on counting from
    /// `bytes`.
    pub fn resume(stream: S, bytes: (u64, u64)) -> Self {
        let mut wire = Wire::new(stream);
        (wire.read, wire.written) = bytes;
        wire
    }

    /// Bytes received but not yet read as a line: after a complete answer, bytes nobody asked
    /// for.
    pub fn buffered(&self) -> usize {
        self.end - self.pos
    }

    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Whether the last command's answer was left unfinished: it failed half-way, or its
    /// future was dropped (a timeout). The next line on the wire would belong to that answer,
    /// not to a new command, so the session cannot go on.
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// The answer to the last command was read to its end.
    pub fn done(&mut self) {
        self.pending = false;
    }

    /// (bytes read, bytes written) on this wire so far.
    pub fn bytes(&self) -> (u64, u64) {
        (self.read, self.written)
    }

    /// Sends `line` and CRLF in one write. A line break inside `line` would be a second
    /// command smuggled in (a user name with CRLF in it), so it is refused, never sent.
    pub async fn send(&mut self, line: &[u8]) -> Result<(), ConnectError> {
        if line.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ConnectError::protocol(ProtoCause::Other));
        }
        // The line may be `PASS …`: its copy is wiped when dropped. Sized up front, so no
        // reallocation leaves a copy behind.
        let mut out = Zeroizing::new(Vec::with_capacity(line.len() + 2));
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
        self.pending = true;
        self.stream
            .write_all(&out)
            .await
            .and(self.stream.flush().await)
            .map_err(|e| ConnectError::network(NetCause::Failed).with_words(e.to_string()))?;
        self.written += out.len() as u64;
        Ok(())
    }

    /// Reads more bytes into the (empty) buffer; 0 at end of stream.
    async fn fill(&mut self) -> Result<usize, ConnectError> {
        self.pos = 0;
        self.end = 0;
        let n = self
            .stream
            .read(&mut self.buf)
            .await
            .map_err(|e| ConnectError::network(NetCause::Failed).with_words(e.to_string()))?;
        self.end = n;
        self.read += n as u64;
        Ok(n)
    }

    /// Reads one line (CRLF, or a bare LF: some servers send those) and appends its first
    /// `keep` bytes, without the line end, to `out`.
    pub async fn read_line(
        &mut self,
        out: &mut Vec<u8>,
        keep: usize,
        overlong: Overlong,
        budget: &mut Budget,
    ) -> Result<Line, ConnectError> {
        let start = out.len();
        // One byte more than asked: the line's last byte may be the CR of its CRLF.
        let raw_keep = keep.saturating_add(1);
        let mut kept = 0usize;
        let mut len = 0u64;
        let mut last = 0u8;
        loop {
            if self.pos == self.end && self.fill().await? == 0 {
                return Err(ConnectError::network(NetCause::Closed));
            }
            let avail = &self.buf[self.pos..self.end];
            let (chunk, found) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (&avail[..i], true),
                None => (avail, false),
            };
            let take = chunk.len().min(raw_keep - kept);
            out.extend_from_slice(&chunk[..take]);
            kept += take;
            len += chunk.len() as u64;
            if let Some(&b) = chunk.last() {
                last = b;
            }
            let used = chunk.len() + usize::from(found);
            self.pos += used;
            if overlong == Overlong::Fail && len > raw_keep as u64 {
                return Err(overlong_line(keep));
            }
            budget.spend(used)?;
            if found {
                break;
            }
        }
        let content = if last == b'\r' { len - 1 } else { len };
        // `content` ≤ kept + dropped: cutting to it removes a kept CR.
        out.truncate(start + usize::try_from(content).unwrap_or(usize::MAX).min(keep));
        let cut = content > keep as u64;
        if cut && overlong == Overlong::Fail {
            return Err(overlong_line(keep));
        }
        Ok(Line { len: content, cut })
    }

    /// Reads one line of a multi-line response, dot-unstuffed (RFC 1939 §3), keeping at most
    /// `keep` bytes of it; the lone `.` that ends the response is [`Item::End`].
    pub async fn read_item(
        &mut self,
        out: &mut Vec<u8>,
        keep: usize,
        overlong: Overlong,
        budget: &mut Budget,
    ) -> Result<Item, ConnectError> {
        let start = out.len();
        // One more byte, for the stuffed dot that is not part of the line.
        let line = self
            .read_line(out, keep.saturating_add(1), overlong, budget)
            .await?;
        let mut len = line.len;
        if out.get(start) == Some(&b'.') {
            if len == 1 {
                out.truncate(start);
                return Ok(Item::End);
            }
            out.remove(start);
            len -= 1;
        }
        let cut = len > keep as u64;
        if cut && overlong == Overlong::Fail {
            return Err(overlong_line(keep));
        }
        out.truncate(start + usize::try_from(len).unwrap_or(usize::MAX).min(keep));
        Ok(Item::Line(Line { len, cut }))
    }
}

fn overlong_line(max: usize) -> ConnectError {
    ConnectError::protocol(ProtoCause::Limit(LimitError::LineTooLong(max)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{DuplexStream, duplex};

    /// A wire whose peer already sent `bytes` and then closed.
    async fn wire(bytes: &[u8]) -> Wire<DuplexStream> {
        let (ours, mut theirs) = duplex(4 * 1024 * 1024);
        theirs.write_all(bytes).await.unwrap();
        drop(theirs);
        Wire::new(ours)
    }

    async fn line(w: &mut Wire<DuplexStream>, keep: usize, o: Overlong) -> (String, Line) {
        let mut out = Vec::new();
        let l = w
            .read_line(&mut out, keep, o, &mut Budget::new(1 << 30))
            .await
            .unwrap();
        (String::from_utf8(out).unwrap(), l)
    }

    #[tokio::test]
    async fn lines_end_in_crlf_or_a_bare_lf_and_lose_only_the_line_end() {
        let mut w = wire(b"+OK a\r\n-ERR b\nc\r\r\n\r\n").await;
        assert_eq!(line(&mut w, 100, Overlong::Fail).await.0, "+OK a");
        assert_eq!(line(&mut w, 100, Overlong::Fail).await.0, "-ERR b");
        // Only the last CR belongs to the line end.
        assert_eq!(line(&mut w, 100, Overlong::Fail).await.0, "c\r");
        assert_eq!(line(&mut w, 100, Overlong::Fail).await.0, "");
        let mut out = Vec::new();
        let end = w
            .read_line(&mut out, 100, Overlong::Fail, &mut Budget::new(100))
            .await;
        assert!(matches!(
            end,
            Err(ConnectError::Network {
                cause: NetCause::Closed,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_line_exactly_at_the_limit_is_whole_and_one_byte_more_is_not() {
        let mut w = wire(b"abcd\r\nabcde\r\nabcde\r\n").await;
        let (s, l) = line(&mut w, 4, Overlong::Fail).await;
        assert_eq!((s.as_str(), l.cut), ("abcd", false));
        let (s, l) = line(&mut w, 4, Overlong::Cut).await;
        assert_eq!((s.as_str(), l.len, l.cut), ("abcd", 5, true));
        let mut out = Vec::new();
        let e = w
            .read_line(&mut out, 4, Overlong::Fail, &mut Budget::new(100))
            .await;
        assert!(matches!(
            e,
            Err(ConnectError::Protocol {
                cause: ProtoCause::Limit(LimitError::LineTooLong(4)),
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_line_without_end_fails_at_the_limit_not_at_end_of_stream() {
        // 64 KiB with no line end: refused after the first chunk, not read to the end.
        let mut w = wire(&vec![b'x'; 64 * 1024]).await;
        let mut out = Vec::new();
        let e = w
            .read_line(&mut out, 1024, Overlong::Fail, &mut Budget::new(1 << 30))
            .await;
        assert!(matches!(e, Err(ConnectError::Protocol { .. })), "{e:?}");
        assert!(w.bytes().0 <= 2 * READ_CHUNK as u64);
        assert!(out.len() <= 1025);
    }

    #[tokio::test]
    async fn dots_are_unstuffed_and_the_lone_dot_ends() {
        let mut w = wire(b"..a\r\n.\r\n..\r\nb\r\n.\r\n").await;
        let mut out = Vec::new();
        let mut b = Budget::new(1000);
        let mut items = Vec::new();
        loop {
            out.clear();
            let i = w
                .read_item(&mut out, 10, Overlong::Fail, &mut b)
                .await
                .unwrap();
            if i == Item::End {
                break;
            }
            items.push(String::from_utf8(out.clone()).unwrap());
        }
        // "..a" is ".a", and the lone "." ends the response: "..", after it, is the next one's.
        assert_eq!(items, [".a"]);
        out.clear();
        assert_eq!(
            w.read_item(&mut out, 10, Overlong::Fail, &mut b)
                .await
                .unwrap(),
            Item::Line(Line { len: 1, cut: false })
        );
        assert_eq!(out, b".");
        // A stuffed line cut at the limit keeps `keep` bytes of the unstuffed line.
        let mut w = wire(b"..abcdef\r\n").await;
        out.clear();
        let i = w
            .read_item(&mut out, 3, Overlong::Cut, &mut b)
            .await
            .unwrap();
        assert_eq!(i, Item::Line(Line { len: 7, cut: true }));
        assert_eq!(out, b".ab");
        // With nothing kept, the end is still recognised.
        let mut w = wire(b"abc\r\n.\r\n").await;
        out.clear();
        assert!(matches!(
            w.read_item(&mut out, 0, Overlong::Cut, &mut b)
                .await
                .unwrap(),
            Item::Line(_)
        ));
        assert_eq!(
            w.read_item(&mut out, 0, Overlong::Cut, &mut b)
                .await
                .unwrap(),
            Item::End
        );
        assert!(out.is_empty());
    }

    #[tokio::test]
    async fn a_response_past_its_budget_is_refused() {
        let mut w = wire(&b"0123456789\r\n".repeat(100)).await;
        let mut b = Budget::new(50);
        let mut out = Vec::new();
        let mut result = Ok(Item::End);
        for _ in 0..10 {
            out.clear();
            result = w.read_item(&mut out, 100, Overlong::Cut, &mut b).await;
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(
            result,
            Err(ConnectError::Protocol {
                cause: ProtoCause::Limit(LimitError::ResponseTooLarge(50)),
                ..
            })
        ));
    }

    #[tokio::test]
    async fn a_line_break_in_a_command_is_never_sent() {
        let (ours, mut theirs) = duplex(1024);
        let mut w = Wire::new(ours);
        assert!(w.send(b"USER alice\r\nDELE 1").await.is_err());
        w.send(b"NOOP").await.unwrap();
        drop(w);
        let mut got = String::new();
        theirs.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "NOOP\r\n");
    }
}
