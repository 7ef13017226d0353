//! `pushmail-settings`: Pushmail's settings window, a Tauri 2 shell around the web UI in `ui/`.
//!
//! It lives only while its window is open (the always-on part is the tray, `pushmail`, which
//! links no web engine) and exits when the window closes. It edits the configuration through
//! `pushmail-core` directly and reads live state from the tray over D-Bus, so it works — minus
//! the live state — when the tray is not running, and offers to start it.
//!
//! Wiring only: [`state`] owns the config path and write lock, [`tray_client`] is the D-Bus bridge,
//! [`instance`] keeps one window per session, [`commands`] are thin, one job each, and
//! [`view`] converts between the core's types and what the UI edits.

mod commands;
mod error;
mod events;
mod instance;
mod state;
mod tray_client;
mod view;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use pushmail_core::config::{Config, Language};
use pushmail_core::i18n::I18n;
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, RunEvent, Url, WebviewUrl, WebviewWindowBuilder};
use tokio_util::sync::CancellationToken;

use crate::instance::Claim;
use crate::state::{AppState, ShownAccount};
use crate::tray_client::Tray;

/// The label of the one window; `capabilities/main.json` grants the commands to it.
pub const MAIN_WINDOW: &str = "main";

/// How long the tray-signal task may take to stop at exit before it is aborted. It only
/// waits on a D-Bus stream, so it stops at once when cancelled; the bound keeps a wedged bus
/// from delaying the exit.
const SHUTDOWN_JOIN_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Parser, Debug)]
#[command(
    name = "pushmail-settings",
    version,
    about = "Pushmail's settings window: accounts, folders, notification rules"
)]
struct Args {
    /// Configuration file (default: $XDG_CONFIG_HOME/pushmail/config.toml).
    #[arg(long, value_name = "FILE", env = "PUSHMAIL_CONFIG")]
    config: Option<PathBuf>,
    /// Open on this account's page (its sign-in, for an account that signs in at its
    /// provider). A window that is already open shows it instead (`ShowAccount` on D-Bus).
    #[arg(long, value_name = "ID")]
    account: Option<String>,
    /// Write this program's man page, `pushmail-settings.1`, into DIR and exit (for packagers).
    #[arg(long, value_name = "DIR", hide = true)]
    man_pages: Option<PathBuf>,
}

/// `--man-pages DIR`: the man page from the same definition `--help` prints.
fn write_man_page(dir: &std::path::Path) -> std::io::Result<()> {
    let cmd = <Args as clap::CommandFactory>::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("pushmail-settings.1"), page)
}

/// Parses the command line, opens the window and runs until it is closed; then exits the
/// process (status 1 if it could not start).
pub fn run() {
    let args = Args::parse();
    if let Some(dir) = &args.man_pages {
        if let Err(e) = write_man_page(dir) {
            eprintln!(
                "error: cannot write the man page into {}: {e}",
                dir.display()
            );
            std::process::exit(1);
        }
        return;
    }
    pushmail_core::logging::init("warn");
    if let Err(e) = start(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn start(args: Args) -> anyhow::Result<()> {
    let config_path = match args.config {
        // Absolute, because it is also handed to a tray started from here.
        Some(path) => std::path::absolute(&path)
            .with_context(|| format!("Cannot resolve {}", path.display()))?,
        None => Config::default_path()?,
    };

    let (bus, app_slot) =
        match tauri::async_runtime::block_on(instance::claim(args.account.as_deref())) {
            Claim::AlreadyOpen => {
                tracing::info!("Settings is already open; brought it to the front");
                return Ok(());
            }
            Claim::First { bus, app } => (Ok(bus), Some(app)),
            Claim::NoBus(why) => {
                tracing::warn!("no D-Bus session bus ({why}); running without the tray");
                (Err(why), None)
            }
        };

    // The title follows the configured language from the first frame; a broken file is
    // reported by the UI, so it only falls back to "auto" here.
    let language = Config::load(&config_path)
        .map(|c| c.general.language)
        .unwrap_or_default();
    let app = tauri::Builder::default()
        .manage(AppState::new(config_path, Tray::new(bus.clone())))
        .manage(ShownAccount::new(args.account))
        .manage(commands::discover::Discoveries::default())
        .invoke_handler(tauri::generate_handler![
            commands::settings::get_settings,
            commands::accounts::save_account,
            commands::accounts::remove_account,
            commands::accounts::save_folders,
            commands::settings::save_notification_rules,
            commands::settings::save_general,
            commands::desktop::set_autostart,
            commands::account_test::test_connection,
            commands::account_test::list_folders,
            commands::tray::tray_accounts,
            commands::tray::tray_activity,
            commands::tray::start_tray,
            commands::tray::check_now,
            commands::tray::open_message,
            commands::signin::sign_in,
            commands::signin::cancel_sign_in,
            commands::signin::provider_for_address,
            commands::signin::take_shown_account,
            commands::discover::discover_account,
            commands::discover::cancel_discovery,
            commands::discover::apply_discovered,
        ])
        .setup(move |app| {
            if let Some(slot) = &app_slot {
                let _ = slot.set(app.handle().clone());
            }
            open_window(app.handle(), language)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("Cannot start the settings window")?;

    let cancel = CancellationToken::new();
    let mut follower = bus.ok().map(|bus| {
        tauri::async_runtime::spawn(tray_client::changes_loop(
            bus,
            app.handle().clone(),
            cancel.clone(),
        ))
    });
    // The default behaviour is what we want: closing the last (only) window exits the event
    // loop and the process, so no web engine outlives the window.
    app.run(move |_, event| {
        if let RunEvent::Exit = event {
            cancel.cancel();
            if let Some(task) = follower.take() {
                let abort = task.inner().abort_handle();
                // The timer must be created inside the runtime, hence the async block.
                let joined = tauri::async_runtime::block_on(async {
                    tokio::time::timeout(SHUTDOWN_JOIN_TIMEOUT, task).await
                });
                if joined.is_err() {
                    abort.abort();
                }
            }
        }
    });
    Ok(())
}

fn open_window(app: &AppHandle, language: Language) -> tauri::Result<()> {
    WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App("index.html".into()))
        .title(window_title(language))
        .inner_size(900.0, 640.0)
        .min_inner_size(680.0, 480.0)
        .on_navigation(|url| {
            let allowed = is_app_url(url);
            if !allowed {
                tracing::warn!("blocked navigation away from the app to {url}");
            }
            allowed
        })
        .on_new_window(|url, _| {
            tracing::warn!("blocked a new window for {url}");
            NewWindowResponse::Deny
        })
        .build()?;
    Ok(())
}

/// Only the app's own pages may be shown: Tauri serves them as `tauri://localhost` (Linux,
/// macOS) or `http(s)://tauri.localhost` (Windows). Everything else — a link in server text
/// that slipped through, a dropped URL, a redirect — is refused.
pub fn is_app_url(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// "Pushmail Settings" in the configured language.
pub fn window_title(language: Language) -> String {
    I18n::new(language.as_str()).tr_plain("settings-window-title", &[])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_the_app_itself_may_be_navigated_to() {
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#accounts",
            "http://tauri.localhost/index.html",
            "https://tauri.localhost/",
        ] {
            assert!(is_app_url(&Url::parse(ok).unwrap()), "{ok}");
        }
        for blocked in [
            "https://example.com/",
            "http://localhost:1420/",
            "tauri://evil.example/",
            "http://tauri.localhost.evil.example/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "mailto:a@example.com",
            "about:blank",
        ] {
            assert!(!is_app_url(&Url::parse(blocked).unwrap()), "{blocked}");
        }
    }

    #[test]
    fn the_window_title_is_localised() {
        assert_eq!(window_title(Language::En), "Pushmail Settings");
    }

    #[test]
    fn the_command_line_takes_a_config_file() {
        let args = Args::try_parse_from(["pushmail-settings", "--config", "/x/c.toml"]).unwrap();
        assert_eq!(args.config, Some(PathBuf::from("/x/c.toml")));
        assert!(Args::try_parse_from(["pushmail-settings", "extra"]).is_err());
        let args = Args::try_parse_from(["pushmail-settings", "--account", "work"]).unwrap();
        assert_eq!(args.account.as_deref(), Some("work"));
    }
}
