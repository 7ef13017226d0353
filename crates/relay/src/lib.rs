//! `pushmail-relay`: watches many people's mailboxes with pushmail-core's watchers and pushes
//! each new-mail notice to their phones and browsers (Web Push) and to signed webhooks. Several
//! identical processes share one PostgreSQL database; see docs/relay.md for the design and its
//! failure cases.

pub mod api;
pub mod config;
pub mod crypto;
pub mod db;
pub mod guard;
pub mod host;
pub mod lease;
pub mod listen;
pub mod notice;
pub mod sender;
pub mod store;
pub mod users;
pub mod webhook;
pub mod webpush;
