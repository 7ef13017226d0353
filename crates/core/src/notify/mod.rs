//! Notifications: what to show for new mail and for accounts in trouble, decided without any
//! I/O.
//!
//! [`policy`] turns engine events and the user's rules (pause, quiet hours, mute, VIP senders,
//! preview level, burst summaries) into popup actions, and an account's problems into one
//! "needs attention" popup each. Front ends perform them (the tray through the freedesktop
//! notification service) and report back what the daemon did.

pub mod policy;
