//! `pushmail-cli`: the headless front end over `pushmail-core`.
//!
//! Thin on purpose: it parses arguments, reads the configuration, and turns engine events into
//! lines, JSON or hook runs. Every decision lives in the core; `status` only asks the running
//! tray over D-Bus.

mod account;
mod forget;
mod lang;
mod man;
mod signin;
mod status;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "pushmail-cli",
    version,
    about = "Real-time IMAP mail notifications from the command line"
)]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/pushmail/config.toml).
    #[arg(long, global = true, value_name = "FILE", env = "PUSHMAIL_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Add, list, test and remove accounts.
    #[command(subcommand)]
    Account(account::AccountCmd),
    /// Watch every enabled account and report events until Ctrl-C.
    Watch(watch::WatchArgs),
    /// Show the running tray's unread counts and account states: one line, JSON, or what a
    /// waybar or polybar module reads.
    #[command(
        after_help = "Reads the tray `pushmail` over D-Bus (docs/dbus.md); it does not connect to mail servers itself.\n\
Exit status: 0 done, 1 no session bus or the tray did not answer, 3 Pushmail is not running (with --watch, \
that is shown as a state and the command waits for the tray)."
    )]
    Status(status::StatusArgs),
    /// Remove everything Pushmail keeps for you: configuration, state database, the accounts'
    /// passwords in the OS keyring and the start-at-login entry. Says what it removed.
    #[command(
        after_help = "Quits a running tray first. The installed programs stay: remove them with your package manager (sudo apt purge pushmail pushmail-settings), which leaves per-user data alone."
    )]
    ForgetEverything(forget::ForgetArgs),
    /// Write the man pages of pushmail-cli and its subcommands into DIR (for packagers).
    #[command(hide = true)]
    ManPages {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::ManPages { dir } = &cli.command {
        return match man::write_all(<Cli as clap::CommandFactory>::command(), dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    pushmail_core::logging::init("warn");
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config_path = match cli
        .config
        .clone()
        .map(Ok)
        .unwrap_or_else(pushmail_core::Config::default_path)
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Account(cmd) => account::run(cmd, &config_path).await,
            Command::Watch(args) => watch::run(args, &config_path).await,
            Command::Status(args) => Ok(status::run(args, &lang::for_config(&config_path)).await),
            Command::ForgetEverything(args) => forget::run(args, &config_path).await,
            Command::ManPages { .. } => Ok(ExitCode::SUCCESS),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
