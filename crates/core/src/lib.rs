//! `pushmail-core`: the headless engine behind Pushmail.
//!
//! Layers, one direction: transport ([`imap::transport`]: TCP, TLS, STARTTLS, limits) →
//! protocol session ([`imap`]: login, select, fetch, IDLE) → orchestration ([`watch`],
//! [`engine`]: one supervisor and one session per account, backoff, events). Decisions that can be pure are
//! ([`sync::decide`], [`watch::backoff`]); the tokio driver only performs them.

pub mod account_test;
pub mod actions;
pub mod config;
pub mod control;
pub mod desktop;
pub mod discover;
pub mod display;
pub mod engine;
pub mod error;
pub mod event;
pub mod folders;
pub mod i18n;
pub mod imap;
pub mod logging;
pub mod mail;
pub mod notify;
pub mod oauth;
pub mod pop3;
pub mod secret;
pub mod sync;
pub mod text;
pub mod watch;

pub use config::{Account, Config, PasswordSource, Protocol, Security, Timing};
pub use engine::{Engine, Events};
pub use error::ConnectError;
pub use event::{Event, NewMail, State};
pub use sync::state::Store;
pub use watch::{AccountStatus, Incoming};
