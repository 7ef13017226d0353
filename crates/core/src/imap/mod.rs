//! IMAP, in two layers:
//!
//! - [`transport`]: TCP, TLS and strict STARTTLS, the greeting and capabilities by hand, the
//!   byte-level limits every response passes first ([`transport::framing`]) and the login
//!   ([`transport::login`]): everything before a session exists.
//! - the protocol on a session: commands confirmed by their tagged OK ([`session`]), opening
//!   a folder ([`mailbox`]), IDLE ([`rfc2177_idle`]) and ending it with `UID FETCH` in the
//!   same round trip ([`pipelined`]), unread counts with ESEARCH ([`rfc4731_esearch`]),
//!   NOTIFY ([`rfc5465_notify`]), QRESYNC ([`rfc7162_qresync`]), mailbox names in modified
//!   UTF-7 ([`utf7`]) and when a message reached the server ([`internal_date`]); the `ID` a
//!   server may ask for after login ([`rfc2971_id`]).
//!
//! Turning fetched header bytes into text is not IMAP: it is [`crate::mail`].

pub mod internal_date;
pub mod mailbox;
pub mod one_flight;
pub mod pipelined;
pub mod rfc2177_idle;
pub mod rfc2971_id;
pub mod rfc4731_esearch;
pub mod rfc5465_notify;
pub mod rfc7162_qresync;
pub mod session;
pub mod transport;
pub mod utf7;
