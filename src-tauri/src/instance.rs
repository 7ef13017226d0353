//! One settings window per session: the first `pushmail-settings` owns
//! `io.github.pushmail.Settings` on the session bus; a second one asks it to come to the front
//! (`Present`) and exits, so the tray's "Settings…" or the launcher clicked twice never opens
//! two windows editing the same file.
//!
//! `ShowAccount(id)` does the same and opens that account's page: the tray's "Sign in…" action
//! runs `pushmail-settings --account ID`, also while a window is open.
//!
//! The object also offers `Close()`, for the tray's Quit and for tests that want to close the
//! window the way a user does (it goes through the same close request as the title bar's ×).

use std::sync::{Arc, OnceLock};

use tauri::{AppHandle, Manager};
use zbus::Connection;
use zbus::fdo::{RequestNameFlags, RequestNameReply};

use crate::MAIN_WINDOW;
use crate::state::ShownAccount;

pub const SETTINGS_NAME: &str = "io.github.pushmail.Settings";
pub const SETTINGS_PATH: &str = "/io/github/pushmail/Settings";
pub const SETTINGS_INTERFACE: &str = "io.github.pushmail.Settings1";

/// The outcome of start-up on the bus.
pub enum Claim {
    /// We are the only settings window; the service is exported. Set the app handle once the
    /// app exists, so `Present` and `Close` can reach the window.
    First {
        bus: Connection,
        app: Arc<OnceLock<AppHandle>>,
    },
    /// Another settings window is open and was asked to come to the front.
    AlreadyOpen,
    /// No session bus: run without single-instance and without the tray bridge.
    NoBus(String),
}

struct SettingsService {
    app: Arc<OnceLock<AppHandle>>,
}

#[zbus::interface(name = "io.github.pushmail.Settings1")]
impl SettingsService {
    /// Brings the window to the front (un-minimises, shows, focuses). Fails when there is no
    /// window — not yet, or no longer: this process is closing, and the caller should ask again
    /// for the name rather than give up on showing one.
    fn present(&self) -> zbus::fdo::Result<()> {
        let window = self
            .app
            .get()
            .and_then(|a| a.get_webview_window(MAIN_WINDOW))
            .ok_or_else(|| zbus::fdo::Error::Failed("the settings window is closing".into()))?;
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        Ok(())
    }

    /// Brings the window to the front on account `id`'s page (its sign-in, for an account that
    /// signs in at its provider). An id the window does not know shows "no such account".
    fn show_account(&self, id: String) -> zbus::fdo::Result<()> {
        self.present()?;
        if let Some(app) = self.app.get() {
            app.state::<ShownAccount>().set(id);
            crate::events::Sink::send(app, crate::events::SHOW_ACCOUNT, serde_json::Value::Null);
        }
        Ok(())
    }

    /// Closes the window as its close button does; the process then exits.
    fn close(&self) {
        if let Some(window) = self
            .app
            .get()
            .and_then(|a| a.get_webview_window(MAIN_WINDOW))
        {
            let _ = window.close();
        }
    }
}

/// Connects to the session bus, exports the service and claims the name. When another window
/// has it, that one is asked to come to the front (on `account`'s page, if given).
pub async fn claim(account: Option<&str>) -> Claim {
    let bus = match zbus::connection::Builder::session()
        .map(|b| b.method_timeout(crate::tray_client::TRAY_CALL_TIMEOUT))
    {
        Ok(builder) => match builder.build().await {
            Ok(bus) => bus,
            Err(e) => return Claim::NoBus(e.to_string()),
        },
        Err(e) => return Claim::NoBus(e.to_string()),
    };
    let app = Arc::new(OnceLock::new());
    // Export before claiming the name, so a Present arriving right after the claim is served.
    if let Err(e) = bus
        .object_server()
        .at(SETTINGS_PATH, SettingsService { app: app.clone() })
        .await
    {
        tracing::warn!("cannot export {SETTINGS_INTERFACE}: {e}");
        return Claim::First { bus, app };
    }
    // A window that is closing still owns the name for a moment but no longer answers: then
    // its name is about to be free, so ask again rather than exit with nothing shown.
    let mut attempts = 0;
    let claimed = loop {
        let claimed = bus
            .request_name_with_flags(SETTINGS_NAME, RequestNameFlags::DoNotQueue.into())
            .await;
        let taken = matches!(
            claimed,
            Ok(RequestNameReply::Exists | RequestNameReply::InQueue) | Err(zbus::Error::NameTaken)
        );
        if !taken {
            break claimed;
        }
        match bring_forward(&bus, account).await {
            Ok(()) => return Claim::AlreadyOpen,
            Err(e) if attempts < CLAIM_ATTEMPTS => {
                tracing::debug!("the open settings window did not answer ({e}); asking again");
                attempts += 1;
                tokio::time::sleep(CLAIM_RETRY).await;
            }
            Err(e) => {
                tracing::warn!(
                    "another settings window holds {SETTINGS_NAME} but does not answer: {e}"
                );
                return Claim::AlreadyOpen;
            }
        }
    };
    match claimed {
        Ok(RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner) => {
            Claim::First { bus, app }
        }
        Ok(RequestNameReply::Exists | RequestNameReply::InQueue) | Err(zbus::Error::NameTaken) => {
            Claim::AlreadyOpen
        }
        Err(e) => {
            // The bus refused the name (policy): still useful as a window, just not unique.
            tracing::warn!("cannot own {SETTINGS_NAME}: {e}");
            Claim::First { bus, app }
        }
    }
}

/// How often a start asks again for the name of a window that is closing, and how long it
/// waits in between: a closing window lets go of the name within a second.
const CLAIM_ATTEMPTS: u32 = 15;
const CLAIM_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

/// Asks the open window to come to the front (on `account`'s page, if given).
async fn bring_forward(bus: &Connection, account: Option<&str>) -> zbus::Result<()> {
    match account {
        Some(id) => bus
            .call_method(
                Some(SETTINGS_NAME),
                SETTINGS_PATH,
                Some(SETTINGS_INTERFACE),
                "ShowAccount",
                &(id,),
            )
            .await
            .map(drop),
        None => bus
            .call_method(
                Some(SETTINGS_NAME),
                SETTINGS_PATH,
                Some(SETTINGS_INTERFACE),
                "Present",
                &(),
            )
            .await
            .map(drop),
    }
}
