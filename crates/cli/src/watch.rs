//! `pushmail-cli watch`: events as text, JSON lines, or hook runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::Args;
use pushmail_core::display;
use pushmail_core::i18n::{I18n, num, text};
use pushmail_core::watch::power::{PowerBus, PowerOptions};
use pushmail_core::{Config, Engine, Event, NewMail, State, Store};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinSet;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Print one JSON object per line for every event (see docs/events.md).
    #[arg(long)]
    json: bool,
    /// Run PROGRAM for every new message, without a shell; the message is described in
    /// PUSHMAIL_* environment variables, never on its command line.
    #[arg(long, value_name = "PROGRAM")]
    exec: Option<PathBuf>,
    /// Watch only these accounts (repeatable; default: every enabled account).
    #[arg(long = "account", value_name = "ID")]
    accounts: Vec<String>,
    /// State database (default: $XDG_STATE_HOME/pushmail/state.sqlite3).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// D-Bus bus on which to listen for suspend/resume (logind) and network changes
    /// (NetworkManager), to reconnect at once: `system`, `session`, `off`, or a D-Bus address.
    #[arg(
        long,
        value_name = "BUS",
        default_value = "system",
        env = "PUSHMAIL_POWER_BUS"
    )]
    power_bus: PowerBus,
}

/// Hooks running at once at most; more wait, so a burst cannot fork-bomb the machine.
const MAX_HOOKS: usize = 8;

fn load(path: &Path, only: &[String]) -> Result<Config> {
    let mut config = Config::load(path)?;
    if !only.is_empty() {
        for id in only {
            if config.account(id).is_none() {
                bail!("no account `{id}` in {}", path.display());
            }
        }
        config.accounts.retain(|a| only.contains(&a.id));
    }
    Ok(config)
}

pub async fn run(args: WatchArgs, config_path: &Path) -> Result<ExitCode> {
    let config = load(config_path, &args.accounts)?;
    if !config.accounts.iter().any(|a| a.enabled) {
        bail!(
            "no enabled account in {}. Add one with: pushmail-cli account add",
            config_path.display()
        );
    }
    let state_path = match &args.state {
        Some(p) => p.clone(),
        None => Store::default_path()?,
    };
    let store = Store::open(&state_path)?;
    let mut i18n = crate::lang::of(&config);
    let (engine, mut events) = Engine::new(store);
    engine.apply(&config);
    engine.watch_power(PowerOptions {
        bus: args.power_bus.clone(),
    });

    let mut hooks = JoinSet::new();
    let mut sigint = signal(SignalKind::interrupt()).context("Cannot listen for Ctrl-C")?;
    let mut sigterm = signal(SignalKind::terminate()).context("Cannot listen for SIGTERM")?;
    let mut sighup = signal(SignalKind::hangup()).context("Cannot listen for SIGHUP")?;
    let mut sigusr1 = signal(SignalKind::user_defined1()).context("Cannot listen for SIGUSR1")?;
    // Accounts that stopped until the user acts (`auth_failed`, `signin_required`): a reload
    // restarts them, as the tray's does, since the password or the sign-in may be new.
    let mut halted = std::collections::HashSet::new();
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(ev) => {
                    if let Event::State { account, state, .. } = ev.event() {
                        if matches!(state, State::AuthFailed | State::SigninRequired) {
                            halted.insert(account.clone());
                        } else {
                            halted.remove(account);
                        }
                    }
                    handle(&args, &i18n, ev.event(), &mut hooks).await
                }
                None => break,
            },
            _ = sigint.recv() => break,
            _ = sigterm.recv() => break,
            // SIGHUP: re-read the configuration, as daemons do.
            _ = sighup.recv() => match load(config_path, &args.accounts) {
                Ok(c) => {
                    i18n = crate::lang::of(&c);
                    engine.apply(&c);
                    for id in halted.drain() {
                        engine.restart(&id);
                    }
                }
                Err(e) => eprintln!("error: configuration not reloaded: {e:#}"),
            },
            // SIGUSR1: check every account now.
            _ = sigusr1.recv() => engine.check_now(None),
            Some(_) = hooks.join_next(), if !hooks.is_empty() => {}
        }
    }
    // Keep printing while the watchers stop, so none blocks on a full channel.
    let shutdown = engine.shutdown();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(ev) = events.recv() => handle(&args, &i18n, ev.event(), &mut hooks).await,
        }
    }
    while hooks.join_next().await.is_some() {}
    Ok(ExitCode::SUCCESS)
}

async fn handle(args: &WatchArgs, i18n: &I18n, event: &Event, hooks: &mut JoinSet<()>) {
    let mut out = std::io::stdout().lock();
    let line = if args.json {
        serde_json::to_string(event).unwrap_or_default()
    } else {
        human(i18n, event)
    };
    // A closed stdout (the reader went away) is not a reason to stop watching or to panic.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    drop(out);
    if let (Some(program), Event::NewMail(mail)) = (&args.exec, event) {
        while hooks.len() >= MAX_HOOKS {
            hooks.join_next().await;
        }
        spawn_hook(program, mail, hooks);
    }
}

fn human(i18n: &I18n, event: &Event) -> String {
    match event {
        Event::NewMail(m) => {
            // The same pipeline as a popup: a subject full of ANSI escapes or bidi overrides
            // must not repaint the terminal either.
            let from = display::sender(&m.from_name, &m.from_address)
                .unwrap_or_else(|| i18n.tr_plain("sender-unknown", &[]));
            let subject = display::subject(&m.subject).unwrap_or_else(|| {
                i18n.tr_plain(
                    if m.unreadable {
                        "subject-unreadable"
                    } else {
                        "subject-none"
                    },
                    &[],
                )
            });
            let id = if m.catch_up {
                "cli-new-mail-catch-up"
            } else {
                "cli-new-mail"
            };
            i18n.tr_plain(
                id,
                &[
                    ("where", text(&where_(&m.account, &m.folder))),
                    ("from", text(&from)),
                    ("subject", text(&subject)),
                ],
            )
        }
        Event::Unread {
            account,
            folder,
            count,
        } => i18n.tr_plain(
            "cli-unread",
            &[
                ("where", text(&where_(account, folder))),
                ("count", num(*count)),
            ],
        ),
        Event::Seen {
            account,
            folder,
            uid,
        } => i18n.tr_plain(
            "cli-seen",
            &[
                ("where", text(&where_(account, folder))),
                ("uid", num(*uid)),
            ],
        ),
        Event::State {
            account,
            state,
            problem,
            ..
        } => match problem {
            // The problem in the reader's language (`--json` keeps the English `detail`).
            Some(p) => format!(
                "[{account}] {}: {}",
                state.as_str(),
                p.shown_in(i18n).joined()
            ),
            None => format!("[{account}] {}", state.as_str()),
        },
    }
}

/// `account/folder`, with a hostile folder name made harmless like any other server text.
fn where_(account: &str, folder: &str) -> String {
    format!("{account}/{}", display::clean_text(folder, 200, false))
}

fn spawn_hook(program: &Path, mail: &NewMail, hooks: &mut JoinSet<()>) {
    let mut cmd = tokio::process::Command::new(program);
    cmd.env("PUSHMAIL_ACCOUNT", &mail.account)
        .env("PUSHMAIL_FOLDER", &mail.folder)
        .env("PUSHMAIL_UID", mail.uid.to_string())
        .env("PUSHMAIL_UIDVALIDITY", mail.uidvalidity.to_string())
        .env("PUSHMAIL_FROM", &mail.from_address)
        .env("PUSHMAIL_FROM_NAME", &mail.from_name)
        .env("PUSHMAIL_SUBJECT", &mail.subject)
        .env("PUSHMAIL_DATE", &mail.date)
        .env("PUSHMAIL_MESSAGE_ID", &mail.message_id)
        .env("PUSHMAIL_CATCH_UP", if mail.catch_up { "1" } else { "0" })
        .env(
            "PUSHMAIL_RECEIVED_AT",
            mail.received_at.as_deref().unwrap_or_default(),
        )
        .env(
            "PUSHMAIL_DELAY_MS",
            mail.delay_ms.map(|ms| ms.to_string()).unwrap_or_default(),
        )
        .stdin(Stdio::null())
        .kill_on_drop(false);
    match cmd.spawn() {
        Ok(mut child) => {
            let name = program.display().to_string();
            hooks.spawn(async move {
                match child.wait().await {
                    Ok(status) if !status.success() => {
                        eprintln!("warning: hook {name} exited with {status}")
                    }
                    Err(e) => eprintln!("warning: hook {name} failed: {e}"),
                    Ok(_) => {}
                }
            });
        }
        Err(e) => eprintln!("warning: cannot run hook {}: {e}", program.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(from_name: &str, subject: &str) -> Event {
        Event::NewMail(NewMail {
            account: "work".into(),
            folder: "INBOX".into(),
            uidvalidity: 1,
            uid: 7,
            from_name: from_name.into(),
            from_address: "ana@example.com".into(),
            subject: subject.into(),
            date: String::new(),
            message_id: String::new(),
            catch_up: false,
            unreadable: false,
            received_at: None,
            delay_ms: None,
        })
    }

    #[test]
    fn a_hostile_subject_cannot_drive_the_terminal() {
        let en = I18n::new("en");
        let line = human(
            &en,
            &mail(
                "Ana\u{202E}moc.lapyap",
                "\u{1b}[2J\u{1b}]0;owned\u{7}Invoice\r\nBcc: x",
            ),
        );
        assert!(!line.contains('\u{1b}'), "{line:?}");
        assert!(!line.contains('\u{202E}'), "{line:?}");
        assert!(!line.contains(['\r', '\n']), "{line:?}");
        assert!(line.starts_with("[work/INBOX] new mail from "), "{line:?}");
        // A name that looks like a domain comes after the real address, never instead of it.
        assert!(
            line.contains("ana@example.com (\"Anamoc.lapyap\")"),
            "{line:?}"
        );
        assert!(line.contains("Invoice"), "{line:?}");
    }

    #[test]
    fn empty_values_get_placeholders_and_counts_plurals() {
        let en = I18n::new("en");
        assert_eq!(
            human(&en, &mail("", "")),
            "[work/INBOX] new mail from ana@example.com: (no subject)"
        );
        let unread = |count| Event::Unread {
            account: "work".into(),
            folder: "INBOX".into(),
            count,
        };
        assert_eq!(human(&en, &unread(0)), "[work/INBOX] no unread");
        assert_eq!(human(&en, &unread(1)), "[work/INBOX] 1 unread");
        assert_eq!(human(&en, &unread(12)), "[work/INBOX] 12 unread");
    }

    #[test]
    fn a_state_detail_reads_in_the_configured_language() {
        let state = Event::State {
            account: "work".into(),
            state: pushmail_core::event::State::AuthFailed,
            detail: None,
            problem: Some(pushmail_core::ConnectError::Auth(
                "[AUTHENTICATIONFAILED] nope".into(),
            )),
        };
        let en = human(&I18n::new("en"), &state);
        assert!(
            en.starts_with("[work] auth_failed: login failed: [AUTHENTICATIONFAILED] nope — Check"),
            "{en}"
        );
        let it = human(&I18n::new("it"), &state);
        assert!(
            it.starts_with(
                "[work] auth_failed: accesso non riuscito: [AUTHENTICATIONFAILED] nope — Controlla"
            ),
            "{it}"
        );
    }
}
