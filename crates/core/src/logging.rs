//! Log setup shared by every Pushmail binary.
//!
//! Two rules keep secrets out of logs whatever `RUST_LOG` says:
//! - async-imap and imap-proto log through the `log` crate, and async-imap writes the LOGIN line
//!   with the password at trace level. No `log` → `tracing` bridge is ever installed
//!   (tracing-subscriber is built without `tracing-log`), so those records go nowhere.
//! - As a second belt, their targets are forced off in the filter.

use tracing_subscriber::EnvFilter;

/// Targets that are never logged, at any level, because they can echo credentials.
pub const SILENCED_TARGETS: &[&str] = &["async_imap", "imap_proto"];

/// The filter: `RUST_LOG` (or `default`), with [`SILENCED_TARGETS`] off.
pub fn filter(default: &str) -> EnvFilter {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    let mut filter = EnvFilter::builder().parse_lossy(spec);
    for target in SILENCED_TARGETS {
        if let Ok(d) = format!("{target}=off").parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Installs a compact stderr logger. Safe to call more than once (later calls do nothing).
pub fn init(default: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default))
        .with_writer(std::io::stderr)
        // Colours only for a terminal: journald and log files get plain `key=value` text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .compact()
        .try_init();
}
