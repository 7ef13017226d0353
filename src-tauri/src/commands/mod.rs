//! Tauri commands: each one validates its input, does one job through the core or the tray
//! bridge, and returns `Result<T, UiError>`. No business logic lives here.
//!
//! Every name in [`NAMES`] must also be listed in `build.rs` (so Tauri generates its
//! permission), granted in `capabilities/main.json`, and named in `ui/src/ipc.ts`; the tests
//! below check all four agree.

pub mod account_test;
pub mod accounts;
pub mod desktop;
pub mod discover;
pub mod settings;
pub mod signin;
pub mod tray;

#[cfg(test)]
mod flows;

/// Every app command, as the UI invokes it (`generate_handler!` in `lib.rs` is the runtime
/// list; this one is what the tests compare the other three against).
#[cfg(test)]
pub const NAMES: &[&str] = &[
    "get_settings",
    "save_account",
    "remove_account",
    "save_folders",
    "save_notification_rules",
    "save_general",
    "set_autostart",
    "test_connection",
    "list_folders",
    "tray_accounts",
    "tray_activity",
    "start_tray",
    "check_now",
    "open_message",
    "sign_in",
    "cancel_sign_in",
    "provider_for_address",
    "take_shown_account",
    "discover_account",
    "cancel_discovery",
    "apply_discovered",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::NAMES;

    fn read(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap()
    }

    #[test]
    fn build_rs_lists_exactly_the_commands() {
        let build = read("build.rs");
        let start = build.find(".commands(&[").unwrap();
        let end = start + build[start..].find("])").unwrap();
        let mut listed: Vec<&str> = build[start..end].split('"').skip(1).step_by(2).collect();
        listed.sort_unstable();
        let mut names = NAMES.to_vec();
        names.sort_unstable();
        assert_eq!(listed, names);
    }

    #[test]
    fn the_main_window_is_granted_exactly_the_commands() {
        let capability: serde_json::Value =
            serde_json::from_str(&read("capabilities/main.json")).unwrap();
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .filter_map(|p| p.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect();
        granted.sort_unstable();
        let mut names: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        names.sort_unstable();
        assert_eq!(granted, names);
        // Nothing broad: only the event listener permissions besides our own commands.
        for p in capability["permissions"].as_array().unwrap() {
            let p = p.as_str().unwrap();
            assert!(
                p.starts_with("allow-")
                    || p == "core:event:allow-listen"
                    || p == "core:event:allow-unlisten",
                "unexpected permission {p}"
            );
        }
    }

    #[test]
    fn the_ui_names_every_command() {
        let ipc = read("../ui/src/ipc.ts");
        for name in NAMES {
            assert!(
                ipc.contains(&format!("\"{name}\"")),
                "ui/src/ipc.ts lacks {name}"
            );
        }
    }
}
