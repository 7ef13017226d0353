//! IMAP: the guarded transport, login, header decoding and mailbox names.

pub mod charset;
pub mod framing;
pub mod headers;
pub mod login;
pub mod mailbox;
pub mod rfc2177_idle;
pub mod rfc5465_notify;
pub mod rfc7162_qresync;
pub mod session;
pub mod transport;
pub mod utf7;
