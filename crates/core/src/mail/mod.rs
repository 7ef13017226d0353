//! Mail text: the header fields a notification needs, decoded from the bytes any server sends
//! (RFC 5322 headers, RFC 2047 encoded-words in every charset mail uses, raw 8-bit UTF-8).
//! Not IMAP: a POP3 `TOP` or a file would give the same bytes.

pub mod charset;
pub mod headers;
