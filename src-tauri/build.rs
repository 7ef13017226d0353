//! Tauri's code generation, with every app command listed so that each one gets a permission
//! and is denied unless a capability grants it (`capabilities/main.json`). Keep this list equal
//! to `commands::NAMES`; a unit test checks it.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
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
    ]);
    let ui_dist = std::path::Path::new("../ui/dist/index.html");
    if !ui_dist.is_file() {
        // Tauri embeds ui/dist at compile time; say how to make it instead of failing later
        // with a bare "path doesn't exist".
        println!(
            "cargo::error=ui/dist is missing: build the UI first with `ui/build.sh` (npm ci && npm run build)"
        );
        return;
    }
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|e| panic!("tauri-build failed: {e:#}"));
}
