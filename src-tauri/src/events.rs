//! Event names the shell emits to the UI. The TypeScript twin is `EVENTS` in `ui/src/ipc.ts`.

/// One step of a running connection test: `{run, step}` (`commands::account_test`).
pub const PROBE_STEP: &str = "probe://step";
/// The configuration file was saved by this window; views re-read it.
pub const SETTINGS_UPDATED: &str = "settings://updated";
/// The tray started or stopped, or its accounts or activity changed: re-query it
/// (payload: `presence`, `accounts` or `activity`).
pub const TRAY_CHANGED: &str = "tray://changed";

/// A sign-in of run `run` started: `{run, url}`, the provider's page the browser was asked to
/// open, shown with a Copy button (`commands::signin`).
pub const SIGNIN_URL: &str = "signin://url";
/// Where discovery `run` is looking now: `{run, line}`, the line in the window's language
/// (`commands::discover`).
pub const DISCOVER_PROGRESS: &str = "discover://progress";
/// `pushmail-settings --account ID` (or `ShowAccount` on D-Bus) asked to show an account: the
/// UI takes it with `take_shown_account` (no payload, so an early one is not lost).
pub const SHOW_ACCOUNT: &str = "settings://show-account";

/// Where the shell's events go: the app (and so the UI) in production, a recorder in tests,
/// so command bodies can be exercised without a window.
pub trait Sink: Send + Sync {
    fn send(&self, event: &str, payload: serde_json::Value);
}

impl<R: tauri::Runtime> Sink for tauri::AppHandle<R> {
    fn send(&self, event: &str, payload: serde_json::Value) {
        if let Err(e) = tauri::Emitter::emit(self, event, payload) {
            tracing::debug!("cannot send {event} to the UI: {e}");
        }
    }
}
