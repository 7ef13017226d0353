//! Sync state: what has been announced, durable across restarts.

pub mod backend;
pub mod decide;
pub mod state;
