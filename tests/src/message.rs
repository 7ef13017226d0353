//! Building test messages and encoding IMAP strings, without pulling a mail crate into the
//! harness (the code under test has its own parser; the harness must not share its bugs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Makes Message-IDs unique inside one test process even when the clock does not move between
/// two calls. A counter is not shared *state* in the sense of STYLE.md: no test can observe
/// another's value, and parallel tests stay independent.
static MESSAGE_SEQ: AtomicU64 = AtomicU64::new(0);

/// An RFC 5322 message with `Date`, a unique `Message-ID`, and CRLF line ends throughout.
///
/// `subject` (and `from`/`to`) are written exactly as given: pass RFC 2047 encoded words when a
/// test wants them, or raw UTF-8 to imitate senders that break the rules. `body` may use `\n` or
/// `\r\n`; both come out as CRLF, which is what IMAP servers store and count sizes in.
pub fn message(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seq = MESSAGE_SEQ.fetch_add(1, Ordering::Relaxed);
    let mut out = String::with_capacity(256 + body.len());
    out.push_str(&format!("From: {from}\r\n"));
    out.push_str(&format!("To: {to}\r\n"));
    out.push_str(&format!("Subject: {subject}\r\n"));
    out.push_str(&format!("Date: {}\r\n", rfc5322_date(now.as_secs())));
    out.push_str(&format!(
        "Message-ID: <{}.{}.{}@pushmail.test>\r\n",
        now.as_nanos(),
        std::process::id(),
        seq
    ));
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str("Content-Transfer-Encoding: 8bit\r\n");
    out.push_str("\r\n");
    out.push_str(&to_crlf(body));
    if !out.ends_with("\r\n") {
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Normalises bare `\n` (and stray `\r`) to CRLF.
fn to_crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// `Sat, 22 Nov 2025 02:30:21 +0000` for a Unix time (UTC; the zone is irrelevant to tests).
pub(crate) fn rfc5322_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), Howard Hinnant's algorithm
/// restricted to dates after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Encodes a mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3), the only form Dovecot
/// accepts on the wire without `UTF8=ACCEPT` (which it does not offer).
/// Deliberately not `pushmail_core::imap::utf7::encode`: the harness creates the folders the
/// tests then watch, so sharing the encoder under test would let a bug in it agree with itself.
pub fn encode_mailbox_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush_utf7(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush_utf7(&mut out, &mut pending);
    out
}

fn flush_utf7(out: &mut String, pending: &mut Vec<u16>) {
    if pending.is_empty() {
        return;
    }
    // Modified base64: ',' instead of '/', no padding.
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = chunk.len() + 1;
        for i in 0..sextets {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out.push('-');
    pending.clear();
}

/// True when `s` can be sent as an IMAP quoted string; otherwise it needs a literal.
pub(crate) fn quotable(s: &[u8]) -> bool {
    s.len() < 1024 && s.iter().all(|&b| (0x20..0x7f).contains(&b))
}

/// `s` as an IMAP quoted string. Callers check [`quotable`] first.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_763_778_621),
            "Sat, 22 Nov 2025 02:30:21 +0000"
        );
    }

    #[test]
    fn mailbox_names_follow_rfc3501_examples() {
        assert_eq!(encode_mailbox_name("INBOX"), "INBOX");
        assert_eq!(encode_mailbox_name("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(
            encode_mailbox_name("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert_eq!(encode_mailbox_name("Über"), "&ANw-ber");
    }

    #[test]
    fn messages_are_crlf_and_unique() {
        let a = message("a@x", "b@x", "=?utf-8?q?caf=C3=A9?=", "one\ntwo");
        let b = message("a@x", "b@x", "s", "x");
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("Subject: =?utf-8?q?caf=C3=A9?=\r\n"));
        assert!(text.ends_with("\r\n\r\none\r\ntwo\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        let id = |m: &[u8]| {
            String::from_utf8_lossy(m)
                .lines()
                .find(|l| l.starts_with("Message-ID:"))
                .map(str::to_owned)
        };
        assert_ne!(id(&a), id(&b));
    }
}
