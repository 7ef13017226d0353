//! A deliberately tiny, synchronous POP3 client for tests: the harness's own hands on a POP3
//! server (the private Dovecot's [`pop3_port`](crate::Dovecot::pop3_port), or a
//! [`ScriptedPop3`](crate::ScriptedPop3)), to check what they serve without going through
//! `pushmail-core`. Like [`RawImap`](crate::RawImap) it shares no code with the client under
//! test, so a bug there cannot hide itself here.
//!
//! Plain TCP only (Dovecot lets 127.0.0.1 log in without TLS; TLS itself is Pushmail's job to
//! prove). Single-line answers come back as the status line without CRLF; multi-line answers
//! as their lines, dot-unstuffed, without the status line and the terminating `.`.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};

use anyhow::{Context, Result, bail, ensure};

use crate::raw_imap::COMMAND_TIMEOUT;

/// A synchronous POP3 connection over plain TCP.
#[derive(Debug)]
pub struct RawPop3 {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    greeting: String,
}

impl RawPop3 {
    /// Connects and reads the greeting, which must be `+OK`.
    pub fn connect(host: &str, port: u16) -> Result<RawPop3> {
        let addr = (host, port)
            .to_socket_addrs()
            .with_context(|| format!("Cannot resolve {host}:{port}"))?
            .next()
            .with_context(|| format!("{host}:{port} resolved to no address"))?;
        let stream = TcpStream::connect_timeout(&addr, COMMAND_TIMEOUT)
            .with_context(|| format!("Cannot connect to {addr}"))?;
        stream.set_nodelay(true).context("Cannot set TCP_NODELAY")?;
        // A failed PASS is delayed by Dovecot's auth_failure_delay (2 s): well inside this.
        stream
            .set_read_timeout(Some(COMMAND_TIMEOUT))
            .context("Cannot set a read timeout")?;
        let writer = stream.try_clone().context("Cannot clone the POP3 socket")?;
        let mut pop = RawPop3 {
            reader: BufReader::new(stream),
            writer,
            greeting: String::new(),
        };
        let greeting = pop.read_line().context("No POP3 greeting")?;
        ensure!(greeting.starts_with("+OK"), "POP3 greeting: {greeting}");
        pop.greeting = greeting;
        Ok(pop)
    }

    /// Connects and logs in with USER/PASS.
    pub fn connect_login(host: &str, port: u16, user: &str, password: &str) -> Result<RawPop3> {
        let mut pop = RawPop3::connect(host, port)?;
        pop.login(user, password)?;
        Ok(pop)
    }

    /// The greeting line, without CRLF.
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// USER then PASS; an error (with the server's words) on `-ERR`.
    pub fn login(&mut self, user: &str, password: &str) -> Result<()> {
        self.command(&format!("USER {user}"))?;
        self.command(&format!("PASS {password}"))
            .with_context(|| format!("PASS for {user} refused"))?;
        Ok(())
    }

    /// `AUTH PLAIN` with an initial response (RFC 5034).
    pub fn auth_plain(&mut self, user: &str, password: &str) -> Result<()> {
        let response = base64_encode(format!("\0{user}\0{password}").as_bytes());
        self.command(&format!("AUTH PLAIN {response}"))
            .with_context(|| format!("AUTH PLAIN for {user} refused"))?;
        Ok(())
    }

    /// `CAPA`: one entry per line (`"TOP"`, `"SASL PLAIN LOGIN"`, …).
    pub fn capa(&mut self) -> Result<Vec<String>> {
        Ok(self
            .multiline("CAPA")?
            .into_iter()
            .map(|l| String::from_utf8_lossy(&l).into_owned())
            .collect())
    }

    /// `STAT`: (messages, octets).
    pub fn stat(&mut self) -> Result<(u64, u64)> {
        let line = self.command("STAT")?;
        let mut words = line.split_ascii_whitespace().skip(1);
        let mut number = || -> Result<u64> {
            words
                .next()
                .and_then(|w| w.parse().ok())
                .with_context(|| format!("Bad STAT answer: {line}"))
        };
        Ok((number()?, number()?))
    }

    /// `UIDL`: (message number, unique-id) for every message.
    pub fn uidl(&mut self) -> Result<Vec<(u32, String)>> {
        self.multiline("UIDL")?
            .into_iter()
            .map(|l| {
                let text = String::from_utf8_lossy(&l).into_owned();
                let (n, id) = text
                    .split_once(' ')
                    .with_context(|| format!("Bad UIDL line: {text}"))?;
                Ok((
                    n.parse()
                        .with_context(|| format!("Bad UIDL line: {text}"))?,
                    id.to_owned(),
                ))
            })
            .collect()
    }

    /// `TOP n lines`: the header, blank line and first `lines` body lines, CRLF-joined.
    pub fn top(&mut self, n: u32, lines: u32) -> Result<Vec<u8>> {
        Ok(join(self.multiline(&format!("TOP {n} {lines}"))?))
    }

    /// `RETR n`: the whole message, CRLF-joined.
    pub fn retr(&mut self, n: u32) -> Result<Vec<u8>> {
        Ok(join(self.multiline(&format!("RETR {n}"))?))
    }

    /// Sends a command and reads its one-line answer, which must be `+OK`.
    pub fn command(&mut self, command: &str) -> Result<String> {
        let line = self.command_unchecked(command)?;
        ensure!(line.starts_with("+OK"), "{}: {line}", verb(command));
        Ok(line)
    }

    /// Sends a command and returns its one-line answer, `+OK` or `-ERR`.
    pub fn command_unchecked(&mut self, command: &str) -> Result<String> {
        self.send(command)?;
        self.read_line()
    }

    /// Sends a command whose `+OK` answer is multi-line; returns the lines (dot-unstuffed,
    /// without CRLF), or an error with the server's words on `-ERR`.
    pub fn multiline(&mut self, command: &str) -> Result<Vec<Vec<u8>>> {
        let status = self.command(command)?;
        let mut lines = Vec::new();
        loop {
            let mut line = self
                .read_raw_line()
                .with_context(|| format!("{} answer ({status}) cut short", verb(command)))?;
            if line == b"." {
                return Ok(lines);
            }
            if line.starts_with(b"..") {
                line.remove(0);
            }
            lines.push(line);
        }
    }

    /// Reads one line (lossy UTF-8, without CRLF).
    pub fn read_line(&mut self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.read_raw_line()?).into_owned())
    }

    /// `QUIT`, then closes.
    pub fn quit(mut self) -> Result<()> {
        self.command("QUIT")?;
        let _ = self.writer.shutdown(Shutdown::Both);
        Ok(())
    }

    /// Closes without QUIT (Dovecot logs `Connection closed`, and commits nothing).
    pub fn abort(self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }

    fn send(&mut self, command: &str) -> Result<()> {
        self.writer
            .write_all(format!("{command}\r\n").as_bytes())
            .with_context(|| format!("Cannot send {}", verb(command)))
    }

    fn read_raw_line(&mut self) -> Result<Vec<u8>> {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => bail!("The server closed the connection"),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                bail!("No answer within {COMMAND_TIMEOUT:?}")
            }
            Err(e) => return Err(e).context("Cannot read from the POP3 server"),
        }
        ensure!(line.ends_with(b"\n"), "The server closed mid-line");
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        Ok(line)
    }
}

/// The verb only, so a PASS line never reaches an error message.
fn verb(command: &str) -> &str {
    command.split(' ').next().unwrap_or(command)
}

fn join(lines: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_for_sasl_plain() {
        assert_eq!(base64_encode(b"\0alice\0alicepw"), "AGFsaWNlAGFsaWNlcHc=");
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
    }
}
