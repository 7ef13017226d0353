//! A deliberately tiny, synchronous IMAP client for tests.
//!
//! It is the harness's own hands on the server (delivering, flagging, expunging) and the
//! "floor" against which Pushmail's latency is measured: it reads the socket directly, so the
//! instant it sees `* N EXISTS` is as early as any client could. It shares no code with
//! `pushmail-core` on purpose, so a bug there cannot hide itself here.
//!
//! Plain TCP only: tests talk to a loopback Dovecot. Responses are returned as logical lines
//! without CRLF; a literal inside a response (`{12}\r\n…`) is inlined (lossy UTF-8), so one
//! `FETCH` with a header literal is one string.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::message::{encode_mailbox_name, quotable, quote};

/// Default bound on any single wait for the server. Dovecot answers loopback commands in
/// milliseconds; 10 s is far above that yet fails a wedged test long before CI's own timeout.
/// The one legitimate slow answer is a failed LOGIN, which Dovecot delays by
/// `auth_failure_delay` (2 s).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// One argument of a command built with [`RawImap::command_args`].
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Sent verbatim (command names, atoms, parenthesised lists, sequence sets).
    Raw(&'a str),
    /// An astring: sent quoted when that is possible, otherwise as a synchronising literal.
    Str(&'a [u8]),
    /// A mailbox name: encoded to modified UTF-7, then quoted.
    Mailbox(&'a str),
    /// Always a literal (message bodies for APPEND).
    Literal(&'a [u8]),
}

/// How an `AUTHENTICATE` ended; see [`RawImap::authenticate`].
#[derive(Debug, Clone)]
pub struct SaslOutcome {
    /// `true` for a tagged `OK`.
    pub ok: bool,
    /// Every challenge the server sent after the initial response, base64-decoded (after a
    /// refused token Dovecot sends one: a JSON error, RFC 7628 §3.2.2).
    pub challenges: Vec<Vec<u8>>,
    /// The tagged line, e.g. `T1 NO [AUTHENTICATIONFAILED] Authentication failed.`
    pub tagged: String,
}

/// A synchronous IMAP connection over plain TCP.
#[derive(Debug)]
pub struct RawImap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_tag: u32,
    /// Bytes of a line whose end has not arrived yet. Kept across calls so a read timeout in
    /// the middle of a line loses nothing.
    partial: Vec<u8>,
    greeting: String,
    timeout: Duration,
}

/// How a tagged response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completion {
    Ok,
    No,
    Bad,
}

impl RawImap {
    /// Connects and reads the greeting. Fails if the greeting is `* BYE` or does not arrive.
    pub fn connect(host: &str, port: u16) -> Result<RawImap> {
        let addr = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("Cannot resolve {host}:{port}"))?
            .next()
            .with_context(|| format!("{host}:{port} resolved to no address"))?;
        let stream = TcpStream::connect_timeout(&addr, COMMAND_TIMEOUT)
            .with_context(|| format!("Cannot connect to {addr}"))?;
        // Small commands must not sit in Nagle's buffer: latency is what these tests measure.
        stream.set_nodelay(true).context("Cannot set TCP_NODELAY")?;
        let writer = stream.try_clone().context("Cannot clone the IMAP socket")?;
        let mut imap = RawImap {
            reader: BufReader::new(stream),
            writer,
            next_tag: 1,
            partial: Vec::new(),
            greeting: String::new(),
            timeout: COMMAND_TIMEOUT,
        };
        let greeting = imap
            .read_line(COMMAND_TIMEOUT)?
            .with_context(|| format!("No greeting from {addr} within {COMMAND_TIMEOUT:?}"))?;
        if !greeting.starts_with("* OK") && !greeting.starts_with("* PREAUTH") {
            bail!("Unexpected greeting from {addr}: {}", truncate(&greeting));
        }
        imap.greeting = greeting;
        Ok(imap)
    }

    /// Connects and logs in.
    pub fn connect_login(host: &str, port: u16, user: &str, password: &str) -> Result<RawImap> {
        let mut imap = RawImap::connect(host, port)?;
        imap.login(user, password)?;
        Ok(imap)
    }

    /// The greeting line, e.g. `* OK [CAPABILITY … STARTTLS LOGINDISABLED] Dovecot ready.`
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// Changes the bound on each wait for the server (default [`COMMAND_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// `LOGIN`; an error if the server says NO or BAD. The password is sent as a quoted string or
    /// literal, never logged by this crate.
    pub fn login(&mut self, user: &str, password: &str) -> Result<Vec<String>> {
        self.command_args(&[
            Arg::Raw("LOGIN"),
            Arg::Str(user.as_bytes()),
            Arg::Str(password.as_bytes()),
        ])
        .with_context(|| format!("LOGIN as {user} failed"))
    }

    /// `AUTHENTICATE mechanism` with `initial_response` sent at once (SASL-IR, RFC 4959),
    /// answering every further challenge with `answer_to_challenge` (an empty slice sends an
    /// empty line). Returns how it ended, a refusal included; an error only when the
    /// connection fails or the server keeps challenging. Neither the initial response nor the
    /// answer ever appears in an error.
    ///
    /// After a refused token Dovecot sends `+ <base64 JSON>` and waits: an XOAUTH2 client must
    /// answer with an empty line, an OAUTHBEARER client with `AQ==` (a single 0x01), RFC 7628
    /// §3.2.3; anything else and the login hangs until the client gives up.
    pub fn authenticate(
        &mut self,
        mechanism: &str,
        initial_response: &[u8],
        answer_to_challenge: &[u8],
    ) -> Result<SaslOutcome> {
        use base64::Engine as _;
        use base64::engine::general_purpose::STANDARD;
        /// More than one round means the server wants something this harness never sends.
        const MAX_CHALLENGES: usize = 3;
        let ir = if initial_response.is_empty() {
            "=".to_owned()
        } else {
            STANDARD.encode(initial_response)
        };
        let tag = self.send_line(&format!("AUTHENTICATE {mechanism} {ir}"))?;
        let mut challenges = Vec::new();
        loop {
            let line = self
                .read_line(self.timeout)?
                .with_context(|| format!("No answer to AUTHENTICATE {mechanism}"))?;
            if let Some(status) = tagged_status(&line, &tag) {
                return Ok(SaslOutcome {
                    ok: status == Completion::Ok,
                    challenges,
                    tagged: line,
                });
            }
            if let Some(challenge) = line.strip_prefix('+') {
                if challenges.len() == MAX_CHALLENGES {
                    bail!("AUTHENTICATE {mechanism}: more than {MAX_CHALLENGES} challenges");
                }
                challenges.push(STANDARD.decode(challenge.trim()).with_context(|| {
                    format!("AUTHENTICATE {mechanism}: challenge is not base64")
                })?);
                let mut reply = STANDARD.encode(answer_to_challenge).into_bytes();
                reply.extend_from_slice(b"\r\n");
                self.write_all(&reply)?;
            }
        }
    }

    /// The server's current capability list (asks `CAPABILITY` each time: Dovecot's list grows
    /// after login and `LOGIN`'s OK does not always carry it).
    pub fn capabilities(&mut self) -> Result<Vec<String>> {
        let lines = self.command("CAPABILITY")?;
        let line = lines
            .iter()
            .find_map(|l| l.strip_prefix("* CAPABILITY "))
            .context("CAPABILITY returned no capability list")?;
        Ok(line.split_whitespace().map(str::to_owned).collect())
    }

    /// `SELECT folder`; returns the number of messages (`* N EXISTS`).
    pub fn select(&mut self, folder: &str) -> Result<u32> {
        let lines = self.command_args(&[Arg::Raw("SELECT"), Arg::Mailbox(folder)])?;
        lines
            .iter()
            .find_map(|l| parse_untagged_number(l, "EXISTS"))
            .with_context(|| format!("SELECT {folder} returned no EXISTS"))
    }

    /// `STATUS folder (items)`; returns the numeric items, e.g. `[("MESSAGES", 3), …]`.
    pub fn status(&mut self, folder: &str, items: &str) -> Result<Vec<(String, u64)>> {
        let lines = self.command_args(&[
            Arg::Raw("STATUS"),
            Arg::Mailbox(folder),
            Arg::Raw(&format!("({items})")),
        ])?;
        let line = lines
            .iter()
            .find(|l| l.starts_with("* STATUS "))
            .with_context(|| format!("STATUS {folder} returned no STATUS line"))?;
        let list = line
            .rfind('(')
            .and_then(|start| line.get(start + 1..line.rfind(')')?))
            .with_context(|| format!("Malformed STATUS line: {}", truncate(line)))?;
        let words: Vec<&str> = list.split_whitespace().collect();
        words
            .chunks(2)
            .map(|pair| match pair {
                [name, value] => Ok((
                    (*name).to_owned(),
                    value
                        .parse()
                        .with_context(|| format!("Non-numeric STATUS item {name} {value}"))?,
                )),
                _ => bail!("Odd STATUS list: {list}"),
            })
            .collect()
    }

    /// `APPEND folder literal`; returns the UID from `APPENDUID` (UIDPLUS).
    pub fn append(&mut self, folder: &str, raw: &[u8]) -> Result<u32> {
        self.append_with_flags(folder, "", raw)
    }

    /// `APPEND folder (flags) literal`, e.g. `flags = "\\Seen"`; returns the new UID.
    pub fn append_with_flags(&mut self, folder: &str, flags: &str, raw: &[u8]) -> Result<u32> {
        let flag_list = format!("({flags})");
        let mut args = vec![Arg::Raw("APPEND"), Arg::Mailbox(folder)];
        if !flags.is_empty() {
            args.push(Arg::Raw(&flag_list));
        }
        args.push(Arg::Literal(raw));
        let lines = self.command_args(&args)?;
        let tagged = lines.last().map(String::as_str).unwrap_or_default();
        // "A1 OK [APPENDUID <uidvalidity> <uid>] Append completed."
        tagged
            .split_once("[APPENDUID ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|uid| uid.trim_end_matches(']').parse().ok())
            .with_context(|| format!("APPEND gave no APPENDUID: {}", truncate(tagged)))
    }

    /// Sends one command line (without tag and CRLF) and returns every line up to and including
    /// the tagged one. A tagged NO or BAD is an error that quotes the server.
    pub fn command(&mut self, command: &str) -> Result<Vec<String>> {
        self.command_args(&[Arg::Raw(command)])
    }

    /// Like [`command`](Self::command) but returns the lines whatever the tagged status is, so a
    /// test can look at a `NO [PRIVACYREQUIRED]` instead of an error.
    pub fn command_unchecked(&mut self, command: &str) -> Result<Vec<String>> {
        let (lines, _) = self.exec(&[Arg::Raw(command)])?;
        Ok(lines)
    }

    /// Like [`command_args`](Self::command_args) but returns the lines whatever the status.
    pub fn command_args_unchecked(&mut self, args: &[Arg<'_>]) -> Result<Vec<String>> {
        let (lines, _) = self.exec(args)?;
        Ok(lines)
    }

    /// A command built from arguments (quoting and literals handled); errors on NO/BAD.
    pub fn command_args(&mut self, args: &[Arg<'_>]) -> Result<Vec<String>> {
        let (lines, completion) = self.exec(args)?;
        if completion != Completion::Ok {
            let tagged = lines.last().map(String::as_str).unwrap_or_default();
            bail!("Server refused {}: {}", describe(args), truncate(tagged));
        }
        Ok(lines)
    }

    /// `IDLE` until a line satisfies `wanted` or `timeout` passes, then `DONE`.
    ///
    /// Returns the instant the wanted line was read (taken right after the socket read, before
    /// any further work) and the line itself, or `None` on timeout. It sends `IDLE` without
    /// looking at the capability list, so it also measures the floor on an `idle: false`
    /// instance (Dovecot still honours the command there).
    pub fn idle_until(
        &mut self,
        timeout: Duration,
        mut wanted: impl FnMut(&str) -> bool,
    ) -> Result<Option<(Instant, String)>> {
        let tag = self.send_line("IDLE")?;
        loop {
            let line = self
                .read_line(self.timeout)?
                .context("No continuation after IDLE")?;
            if line.starts_with('+') {
                break;
            }
            if line.starts_with(&format!("{tag} ")) {
                bail!("Server refused IDLE: {}", truncate(&line));
            }
        }
        let deadline = Instant::now() + timeout;
        let mut found = None;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.read_line(left)? {
                Some(line) => {
                    let at = Instant::now();
                    if line.starts_with("* BYE") {
                        bail!("Server closed the IDLE: {}", truncate(&line));
                    }
                    if wanted(&line) {
                        found = Some((at, line));
                        break;
                    }
                }
                None => break,
            }
        }
        self.write_all(b"DONE\r\n")?;
        let (_, completion) = self.read_tagged(&tag)?;
        if completion != Completion::Ok {
            bail!("IDLE did not end with OK");
        }
        Ok(found)
    }

    /// `IDLE` until `* N EXISTS` arrives; returns when it was read, or `None` after `timeout`.
    pub fn idle_until_exists(&mut self, timeout: Duration) -> Result<Option<Instant>> {
        Ok(self
            .idle_until(timeout, |line| {
                parse_untagged_number(line, "EXISTS").is_some()
            })?
            .map(|(at, _)| at))
    }

    /// Reads one response line, waiting at most `timeout`. `Ok(None)` means the time ran out;
    /// end of stream is an error ("Connection closed by server").
    pub fn read_line(&mut self, timeout: Duration) -> Result<Option<String>> {
        let deadline = Instant::now() + timeout;
        let mut logical = Vec::new();
        loop {
            let Some(mut line) = self.read_raw_line(deadline)? else {
                if !logical.is_empty() {
                    // Resuming after an inlined literal is not worth the complexity: no server
                    // pauses there on loopback, so treat it as the broken stream it would be.
                    bail!("Timed out in the middle of a response after a literal");
                }
                return Ok(None);
            };
            // Strip CRLF, then look for a trailing literal announcement "{N}".
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            let literal_len = literal_length(&line);
            logical.extend_from_slice(&line);
            let Some(len) = literal_len else {
                return Ok(Some(String::from_utf8_lossy(&logical).into_owned()));
            };
            let mut data = vec![0u8; len];
            self.read_exact_deadline(&mut data, deadline)?;
            logical.extend_from_slice(b"\r\n");
            logical.extend_from_slice(&data);
        }
    }

    /// `LOGOUT` and wait until the server closes the connection, so the session is really gone
    /// (for example from `doveadm who`) when this returns.
    pub fn logout(mut self) -> Result<()> {
        self.command("LOGOUT")?;
        // Dovecot closes after the tagged OK; reading to EOF proves the server side ended.
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.read_raw_line(deadline) {
                Ok(Some(_)) => continue,
                Ok(None) => bail!("Server kept the connection open after LOGOUT"),
                Err(_) => return Ok(()),
            }
        }
    }

    /// Closes the socket without a LOGOUT, like a client that vanished.
    pub fn abort(self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }

    fn exec(&mut self, args: &[Arg<'_>]) -> Result<(Vec<String>, Completion)> {
        let tag = self.next_tag();
        let mut line: Vec<u8> = tag.clone().into_bytes();
        let mut lines = Vec::new();
        for arg in args {
            line.push(b' ');
            let literal: Option<&[u8]> = match *arg {
                Arg::Raw(text) => {
                    line.extend_from_slice(text.as_bytes());
                    None
                }
                Arg::Mailbox(name) => {
                    line.extend_from_slice(quote(&encode_mailbox_name(name)).as_bytes());
                    None
                }
                Arg::Str(s) if quotable(s) => {
                    line.extend_from_slice(quote(&String::from_utf8_lossy(s)).as_bytes());
                    None
                }
                Arg::Str(s) | Arg::Literal(s) => Some(s),
            };
            if let Some(data) = literal {
                // Synchronising literal: works on any server, LITERAL+ or not.
                line.extend_from_slice(format!("{{{}}}\r\n", data.len()).as_bytes());
                self.write_all(&line)?;
                line.clear();
                loop {
                    let reply = self.read_line(self.timeout)?.with_context(|| {
                        format!("No continuation for literal in {}", describe(args))
                    })?;
                    if reply.starts_with('+') {
                        break;
                    }
                    if let Some(status) = tagged_status(&reply, &tag) {
                        lines.push(reply);
                        return Ok((lines, status));
                    }
                    lines.push(reply);
                }
                line.extend_from_slice(data);
            }
        }
        line.extend_from_slice(b"\r\n");
        self.write_all(&line)?;
        let (rest, completion) = self.read_tagged(&tag)?;
        lines.extend(rest);
        Ok((lines, completion))
    }

    /// Reads lines until the tagged completion of `tag`.
    fn read_tagged(&mut self, tag: &str) -> Result<(Vec<String>, Completion)> {
        let mut lines = Vec::new();
        loop {
            let line = self
                .read_line(self.timeout)?
                .with_context(|| format!("No tagged reply for {tag} within {:?}", self.timeout))?;
            let status = tagged_status(&line, tag);
            lines.push(line);
            if let Some(status) = status {
                return Ok((lines, status));
            }
        }
    }

    fn next_tag(&mut self) -> String {
        let tag = format!("T{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    fn send_line(&mut self, command: &str) -> Result<String> {
        let tag = self.next_tag();
        self.write_all(format!("{tag} {command}\r\n").as_bytes())?;
        Ok(tag)
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .set_write_timeout(Some(self.timeout))
            .context("Cannot set write timeout")?;
        self.writer
            .write_all(bytes)
            .and_then(|()| self.writer.flush())
            .context("Cannot write to the IMAP server")
    }

    /// One raw line including CRLF, or `None` if `deadline` passed first.
    fn read_raw_line(&mut self, deadline: Instant) -> Result<Option<Vec<u8>>> {
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Ok(None);
            };
            // A zero timeout means "block forever" to the OS; never pass it.
            let left = left.max(Duration::from_millis(1));
            self.reader
                .get_ref()
                .set_read_timeout(Some(left))
                .context("Cannot set read timeout")?;
            // read_until appends what it consumed to `partial` even when it then fails with a
            // timeout, so a line split across the deadline is completed by the next call.
            match self.reader.read_until(b'\n', &mut self.partial) {
                Ok(0) => bail!("Connection closed by server"),
                Ok(_) if self.partial.ends_with(b"\n") => {
                    return Ok(Some(std::mem::take(&mut self.partial)));
                }
                Ok(_) => bail!("Connection closed by server in the middle of a line"),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("Cannot read from the IMAP server"),
            }
        }
    }

    fn read_exact_deadline(&mut self, buf: &mut [u8], deadline: Instant) -> Result<()> {
        use std::io::Read;
        // Literal bytes are never buffered in `partial` (a literal always follows a complete
        // line), so a short read can safely resume from `filled`.
        let mut filled = 0;
        while filled < buf.len() {
            let left = deadline
                .checked_duration_since(Instant::now())
                .context("Timed out in the middle of a literal")?
                .max(Duration::from_millis(1));
            self.reader
                .get_ref()
                .set_read_timeout(Some(left))
                .context("Cannot set read timeout")?;
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => bail!("Connection closed by server in the middle of a literal"),
                Ok(n) => filled += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e).context("Cannot read a literal from the IMAP server"),
            }
        }
        Ok(())
    }
}

/// `Some(n)` when `line` ends with a literal announcement `{n}` (or `{n+}`).
fn literal_length(line: &[u8]) -> Option<usize> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = body.get(open + 1..)?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn tagged_status(line: &str, tag: &str) -> Option<Completion> {
    let rest = line.strip_prefix(tag)?.strip_prefix(' ')?;
    let word = rest.split_whitespace().next()?;
    Some(match word.to_ascii_uppercase().as_str() {
        "OK" => Completion::Ok,
        "NO" => Completion::No,
        _ => Completion::Bad,
    })
}

/// `Some(n)` for `* n KEYWORD` (e.g. `* 3 EXISTS`).
pub fn parse_untagged_number(line: &str, keyword: &str) -> Option<u32> {
    let mut words = line.strip_prefix("* ")?.split_whitespace();
    let n = words.next()?.parse().ok()?;
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
        .then_some(n)
}

/// The command for error messages, with every string argument hidden: a LOGIN password must
/// never reach a test log.
fn describe(args: &[Arg<'_>]) -> String {
    args.iter()
        .map(|arg| match arg {
            Arg::Raw(text) => truncate(text),
            Arg::Mailbox(name) => quote(name),
            Arg::Str(_) => "<string>".to_owned(),
            Arg::Literal(data) => format!("<{} bytes>", data.len()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Caps server text echoed into errors so a runaway response can't flood the test output.
fn truncate(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_announcements_are_recognised() {
        assert_eq!(literal_length(b"* 1 FETCH (BODY[HEADER] {42}"), Some(42));
        assert_eq!(literal_length(b"* 1 FETCH (X {7+}"), Some(7));
        assert_eq!(literal_length(b"* OK {not a literal}"), None);
        assert_eq!(literal_length(b"* OK done"), None);
    }

    #[test]
    fn tagged_status_needs_the_exact_tag() {
        assert_eq!(tagged_status("T1 OK done", "T1"), Some(Completion::Ok));
        assert_eq!(tagged_status("T12 OK done", "T1"), None);
        assert_eq!(tagged_status("T1 NO [X] y", "T1"), Some(Completion::No));
        assert_eq!(tagged_status("T1 BAD y", "T1"), Some(Completion::Bad));
    }

    #[test]
    fn untagged_numbers() {
        assert_eq!(parse_untagged_number("* 3 EXISTS", "EXISTS"), Some(3));
        assert_eq!(parse_untagged_number("* 3 RECENT", "EXISTS"), None);
        assert_eq!(parse_untagged_number("* OK Still here", "EXISTS"), None);
    }

    #[test]
    fn passwords_never_appear_in_descriptions() {
        let text = describe(&[Arg::Raw("LOGIN"), Arg::Str(b"alice"), Arg::Str(b"s3cret")]);
        assert!(!text.contains("s3cret"));
    }
}
