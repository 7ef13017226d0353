// No console window next to the settings window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    pushmail_settings_lib::run()
}
