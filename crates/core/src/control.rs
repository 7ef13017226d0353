//! The tray's D-Bus control service (`docs/dbus.md`) as its clients call it: the settings
//! window (`pushmail-settings`), `pushmail-cli status` and `forget-everything`. The tray serves
//! it (`crates/tray/src/service.rs`) under these names; one definition here, so a client and
//! the server cannot drift apart.

/// The tray's well-known name on the session bus; owning it is the single-instance lock.
pub const NAME: &str = "io.github.pushmail.Pushmail";
/// The one object the tray exports.
pub const PATH: &str = "/io/github/pushmail/Pushmail";
/// Its interface.
pub const INTERFACE: &str = "io.github.pushmail.Pushmail1";

/// A client of the tray's interface (`PushmailProxy`). Signals (`AccountsChanged`,
/// `UnreadChanged`, `NewMail`) are read with match rules on [`INTERFACE`] by the clients that
/// need them.
#[zbus::proxy(
    interface = "io.github.pushmail.Pushmail1",
    default_service = "io.github.pushmail.Pushmail",
    default_path = "/io/github/pushmail/Pushmail",
    gen_blocking = false
)]
pub trait Pushmail {
    /// `(id, display name, state, detail, unread)` per account, in the configuration's order;
    /// `detail` in the tray's language.
    fn get_accounts(&self) -> zbus::Result<Vec<(String, String, String, String, u32)>>;
    /// Total unread across accounts.
    fn get_unread_count(&self) -> zbus::Result<u32>;
    /// Recent notifications and problems, as JSON (`docs/dbus.md`).
    fn get_activity(&self) -> zbus::Result<String>;
    /// `(id, median delay ms, messages)` per account, in the configuration's order: how long
    /// after reaching the server its mail was announced, over the last day (`messages` 0: no
    /// figure).
    fn get_delays(&self) -> zbus::Result<Vec<(String, u32, u32)>>;
    /// Re-read the configuration file.
    fn reload(&self) -> zbus::Result<()>;
    /// Look for new mail now (`""`: every account).
    fn check_now(&self, account: &str) -> zbus::Result<()>;
    /// Stop watching and exit.
    fn quit(&self) -> zbus::Result<()>;
    #[zbus(property)]
    fn paused(&self) -> zbus::Result<bool>;
    #[zbus(property)]
    fn paused_until(&self) -> zbus::Result<i64>;
}
