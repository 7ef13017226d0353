//! `pushmail`: the always-on tray process of Pushmail. Parses its one option and runs
//! [`app::run`]; everything else lives in the modules below.

mod activity;
mod app;
mod badge;
mod clock;
mod delays;
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
    /// Write this program's man page, `pushmail.1`, into DIR and exit (for packagers).
    #[arg(long, value_name = "DIR", hide = true)]
    man_pages: Option<PathBuf>,
}

/// `--man-pages DIR`: the man page from the same definition `--help` prints.
fn write_man_page(dir: &std::path::Path) -> std::io::Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("pushmail.1"), page)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = &cli.man_pages {
        return match write_man_page(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "error: cannot write the man page into {}: {e}",
                    dir.display()
                );
                ExitCode::FAILURE
            }
        };
    }
    pushmail_core::logging::init("info");
    // Which build is running, first in every log: after a package upgrade the old process runs
    // on until it is restarted, and this line tells them apart.
    tracing::info!("Pushmail {} starting", env!("CARGO_PKG_VERSION"));
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
