//! `pushmail`: the always-on tray process of Pushmail. Parses its one option and runs
//! [`app::run`]; everything else lives in the modules below.

mod activity;
mod app;
mod badge;
mod clock;
mod model;
mod notes;
mod notifier;
mod open;
mod service;
mod status_item;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "pushmail",
    version,
    about = "Real-time IMAP mail notifications in the system tray"
)]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/pushmail/config.toml).
    #[arg(long, value_name = "FILE", env = "PUSHMAIL_CONFIG")]
    config: Option<PathBuf>,
    /// Bus to hear sleep/resume (logind) and network changes (NetworkManager) on: `system`,
    /// `session`, `off`, or a D-Bus address.
    #[arg(
        long,
        value_name = "BUS",
        default_value = "system",
        env = "PUSHMAIL_POWER_BUS"
    )]
    power_bus: pushmail_core::watch::power::PowerBus,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    pushmail_core::logging::init("info");
    let config_path = match cli
        .config
        .map(Ok)
        .unwrap_or_else(pushmail_core::Config::default_path)
    {
        Ok(path) => path,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    app::run(app::Options {
        config_path,
        power_bus: cli.power_bus,
    })
}
