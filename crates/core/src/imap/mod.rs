//! IMAP: the guarded transport, login, and header decoding.

pub mod framing;
pub mod headers;
pub mod login;
pub mod transport;
