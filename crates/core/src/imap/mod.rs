//! IMAP: the guarded transport, login, header decoding and mailbox names.

pub mod charset;
pub mod framing;
pub mod headers;
pub mod login;
pub mod mailbox;
pub mod transport;
pub mod utf7;
