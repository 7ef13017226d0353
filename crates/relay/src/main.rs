//! `pushmail-relay`: the relay's one binary.
//!
//! - `pushmail-relay serve --config FILE` runs one relay process (run as many as you like on
//!   the same database; docs/relay.md).
//! - `pushmail-relay user add NAME --config FILE` makes a user and prints its access token.
//! - `pushmail-relay gen-key FILE` writes a new master key (mode 600).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pushmail_relay::config::Config;
use pushmail_relay::crypto::Key;
use pushmail_relay::{api, db, host, sender, users, webpush};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

#[derive(Parser)]
#[command(
    name = "pushmail-relay",
    version,
    about = "Pushmail's relay: push new-mail notices to phones, browsers and webhooks",
    long_about = "Pushmail's relay: push new-mail notices to phones, browsers and webhooks.\n\n\
        It watches many people's mailboxes with the Pushmail desktop's engine and sends each new \
        mail to their devices with Web Push and to signed webhooks. Users add their mailboxes and \
        devices in its web app. Run one process, or several identical ones sharing one \
        PostgreSQL database.\n\n\
        The config file (the Debian package's: /etc/pushmail-relay/relay.toml) names the \
        database, the master key and everything else; every setting, the design and the failure \
        cases: /usr/share/doc/pushmail-relay/relay.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one relay process: watch the accounts of the buckets it leases, send notices, serve
    /// the API and the web app.
    Serve {
        #[arg(long, short, env = "PUSHMAIL_RELAY_CONFIG")]
        config: PathBuf,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write a new random master key to FILE (refuses to overwrite one).
    GenKey { file: PathBuf },
    /// Write this program's man page, `pushmail-relay.1`, into DIR (for packagers).
    #[command(hide = true)]
    ManPages { dir: PathBuf },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Make a user and print its access token (shown once; keep it like a password).
    Add {
        name: String,
        #[arg(long, short, env = "PUSHMAIL_RELAY_CONFIG")]
        config: PathBuf,
    },
}

/// `man-pages DIR`: the man page from the same definition `--help` prints.
fn write_man_page(dir: &std::path::Path) -> std::io::Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("pushmail-relay.1"), page)
}

fn main() -> ExitCode {
    pushmail_core::logging::init("info");
    let cli = Cli::parse();
    if let Command::ManPages { dir } = &cli.command {
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
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::GenKey { file } => gen_key(&file),
        // Answered in `main`, before the runtime.
        Command::ManPages { .. } => Ok(()),
        Command::User {
            command: UserCommand::Add { name, config },
        } => {
            let config = Config::load(&config)?;
            let db = db::connect(&config, 2).await?;
            let (_, token) = users::create_user(&db, &name).await?;
            println!("{token}");
            eprintln!(
                "User {name} created. Give them this access token once; it is not stored anywhere."
            );
            Ok(())
        }
        Command::Serve { config } => serve(Config::load(&config)?).await,
    }
}

fn gen_key(file: &std::path::Path) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = Key::random();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("Cannot create {} (it must not exist yet)", file.display()))?;
    writeln!(f, "{}", key.to_hex())?;
    eprintln!(
        "Wrote a new master key to {}. Back it up: without it no stored password can be read.",
        file.display()
    );
    Ok(())
}

async fn serve(config: Config) -> Result<()> {
    let master = Key::load_master(&config.master_key_path()?)?;
    // IMAP hosts come from users: every mail connection of this process (watchers, the API's
    // connection test, discovery's probes) passes the same guard as push endpoints and
    // webhooks, on the addresses actually connected to (docs/relay.md).
    let allow = pushmail_relay::guard::parse_allow(&config.allow_private)?;
    if pushmail_core::imap::transport::install_address_guard(Box::new(
        pushmail_relay::guard::address_check(allow),
    ))
    .is_err()
    {
        anyhow::bail!("an address guard is already installed in this process");
    }
    // Watchers hold a connection only while they write; the senders and the API share the rest.
    let db = db::connect(&config, config.senders + 16).await?;
    let vapid = webpush::Vapid::load_or_create(&db, &master).await?;
    let cancel = CancellationToken::new();
    let shutdown = cancel.clone();
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        info!("stopping (signal)");
        shutdown.cancel();
    });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("Cannot listen on {}", config.listen))?;
    info!(listen = %config.listen, "API and web app listening");
    let state = Arc::new(api::ApiState::new(
        db.clone(),
        master.clone(),
        config.clone(),
        vapid.public_key_base64(),
    )?);
    let app = api::router(state);
    let api_cancel = cancel.clone();
    let api_task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move { api_cancel.cancelled().await })
        .await
    });

    let sender_ctx = Arc::new(sender::SenderCtx::new(&config, vapid, master.clone())?);
    let sender_task = tokio::spawn(sender::run(db.clone(), sender_ctx, cancel.clone()));

    let result = host::run(config, db, master, cancel.clone()).await;
    if let Err(e) = &result {
        error!(error = %format!("{e:#}"), "the watching side stopped");
    }
    cancel.cancel();
    let _ = sender_task.await;
    let _ = api_task.await;
    result
}
