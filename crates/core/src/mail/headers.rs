//! Turning a fetched header block into the fields a notification needs.
//!
//! Only `BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]<0.32768>` is
//! ever fetched, so the input is usually a few hundred bytes and at most 32 KiB (possibly cut
//! in the middle of a field, which then decodes as far as it goes). [`charset::normalise`] first repairs what
//! mail-parser gets wrong (encoded-words that split a character, raw legacy 8-bit bytes,
//! wrong labels); mail-parser (with `full_encoding`) then parses addresses and dates.
//! `Content-Type` is fetched only for its `charset`, the best hint for raw 8-bit headers.

use mail_parser::{HeaderValue, MessageParser};

use super::charset;

/// The IMAP fetch item for exactly these headers, never the body, without setting `\Seen`,
/// and at most [`HEADER_MAX`] bytes of them (a partial FETCH, RFC 3501 §6.4.5): anyone can
/// send a message with a 1 MiB subject, and asked for in full it would arrive as a literal
/// beyond the framer's limit, refused — every time, blocking every message after it. Cut, it
/// arrives like any other and is shown as far as it goes.
pub const HEADER_FETCH: &str =
    "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]<0.32768>";

/// The most header bytes fetched per message: 32 KiB, far more than any real sender, subject,
/// date and Message-ID need (a long subject in CJK encoded-words is ~6 KB), and well under
/// the framer's 256 KiB literal limit.
pub const HEADER_MAX: usize = 32 * 1024;

/// Decoded header fields of one message. Empty strings where a header is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    pub from_name: String,
    pub from_address: String,
    pub subject: String,
    /// RFC 3339, or empty if the Date header is missing or unparsable.
    pub date: String,
    pub message_id: String,
}

/// Decodes a header block. Never fails: what cannot be decoded is left empty or lossy.
pub fn decode(raw: &[u8]) -> Headers {
    let mut out = Headers::default();
    // mail-parser wants a message; a header block followed by an empty line is one.
    let mut buf = charset::normalise(raw);
    if !buf.ends_with(b"\r\n\r\n") && !buf.ends_with(b"\n\n") {
        buf.extend_from_slice(b"\r\n\r\n");
    }
    let Some(msg) = MessageParser::default().parse_headers(&buf[..]) else {
        return out;
    };
    if let Some(from) = msg.from().and_then(|a| a.first()) {
        out.from_name = from.name().unwrap_or_default().trim().to_owned();
        out.from_address = from.address().unwrap_or_default().trim().to_owned();
    } else if let Some(HeaderValue::Text(t)) = msg.header("From") {
        out.from_name = t.trim().to_owned();
    }
    out.subject = msg.subject().unwrap_or_default().trim().to_owned();
    if out.subject.is_empty() {
        // Never show nothing for a subject that has text: fall back to it as written.
        out.subject = raw_subject(&buf);
    }
    out.date = msg.date().map(|d| d.to_rfc3339()).unwrap_or_default();
    out.message_id = msg.message_id().unwrap_or_default().to_owned();
    out
}

/// The Subject field's value as written (unfolded, lossy), for when parsing yields nothing.
fn raw_subject(block: &[u8]) -> String {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split('\n');
    let Some(first) = lines.find(|l| {
        l.get(..8)
            .is_some_and(|name| name.eq_ignore_ascii_case("subject:"))
    }) else {
        return String::new();
    };
    let mut value = first[8..].trim().to_owned();
    for line in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        value.push(' ');
        value.push_str(line.trim());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plain_and_encoded_headers() {
        let h = decode(
            b"From: =?UTF-8?B?QW5hIFDDqXJleg==?= <ana@example.com>\r\nSubject: =?ISO-8859-1?Q?Caf=E9?= ok\r\nDate: Sun, 22 Nov 2026 10:00:00 +0100\r\nMessage-ID: <abc@example.com>\r\n\r\n",
        );
        assert_eq!(h.from_name, "Ana Pérez");
        assert_eq!(h.from_address, "ana@example.com");
        assert_eq!(h.subject, "Café ok");
        assert_eq!(h.message_id, "abc@example.com");
        assert!(h.date.starts_with("2026-11-22T10:00:00"), "{}", h.date);
    }

    #[test]
    fn raw_utf8_and_big5_and_gb2312() {
        let h = decode("Subject: 你好，世界\r\nFrom: 李伟 <li@example.cn>\r\n".as_bytes());
        assert_eq!(h.subject, "你好，世界");
        assert_eq!(h.from_name, "李伟");
        // "中文" in GB2312 and Big5, as encoded-words.
        assert_eq!(
            decode(b"Subject: =?GB2312?B?1tDOxA==?=\r\n").subject,
            "中文"
        );
        assert_eq!(decode(b"Subject: =?Big5?B?pKSk5Q==?=\r\n").subject, "中文");
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"From:\r\n",
            b"Subject: =?x-unknown?Q?a=ZZ?=\r\n",
        ] {
            let _ = decode(raw);
        }
    }
}
