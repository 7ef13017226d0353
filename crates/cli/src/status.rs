//! `pushmail-cli status`: the running tray's counts and account states, read from its D-Bus
//! service (`docs/dbus.md`), as one line, as JSON, or as what a status bar reads.
//!
//! The CLI watches nothing itself here: the tray is the one process connected to the servers,
//! and this is a thin client of it. `--watch` stays connected and prints a new line only when
//! the tray signals a change (`AccountsChanged`, `UnreadChanged`, `PropertiesChanged`) or comes
//! and goes on the bus — a status bar then shows news at once, without polling.
//!
//! Each reading asks afresh (`GetAccounts` and the pause properties) instead of adding up
//! signals: signals say *that* something changed, the tray's state says what.

mod render;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Args};
use futures::StreamExt;
use pushmail_core::i18n::{I18n, text};
use tokio::time::{Instant, sleep_until, timeout};
use zbus::Connection;
use zbus::fdo::{DBusProxy, NameOwnerChangedStream};
use zbus::names::BusName;

use render::{Account, Form, Snapshot, View};

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("form").args(["json", "waybar", "polybar"])))]
pub struct StatusArgs {
    /// Print JSON: {"running", "total", "paused", "paused_until", "accounts": [{"id", "name",
    /// "state", "detail", "unread"}]} (see docs/dbus.md).
    #[arg(long)]
    json: bool,
    /// Print the JSON a waybar custom module reads with `"return-type": "json"`: "text" (the
    /// unread count), "alt" and "class" (attention, paused, unread, idle, not-running),
    /// "tooltip".
    #[arg(long)]
    waybar: bool,
    /// Print the one-line summary for a polybar custom/script module, with polybar's
    /// formatting tags made inert.
    #[arg(long)]
    polybar: bool,
    /// Keep running: print a new line each time the tray reports a change, and when it stops or
    /// starts (no polling; for status bars).
    #[arg(long)]
    watch: bool,
}

impl StatusArgs {
    fn form(&self) -> Form {
        if self.json {
            Form::Json
        } else if self.waybar {
            Form::Waybar
        } else if self.polybar {
            Form::Polybar
        } else {
            Form::Line
        }
    }
}

/// `status` when no tray owns its name, so scripts can tell it from a failure (1) and a usage
/// error (2, from clap).
const EXIT_NOT_RUNNING: u8 = 3;

use pushmail_core::control::{NAME, PATH, PushmailProxy};

/// Limit for reaching the session bus and for one reading of the tray. The tray answers from
/// memory within milliseconds; longer means it is hung, and a status bar must not hang with it.
const TRAY_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// After a change signal, how long to gather the rest of its burst before asking the tray: one
/// new message sends `UnreadChanged`, `PropertiesChanged` and `AccountsChanged` together, and a
/// burst of mail sends them per message. 50 ms is far below what anyone notices on a bar.
const BURST_WINDOW: Duration = Duration::from_millis(50);

/// How long a tray asked to quit may take to leave the bus: it stops its account loops with a
/// bounded join (see the tray's shutdown), well under this.
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks a running tray to quit and waits until its name has left the bus. `Ok(false)`: there
/// was no session bus or no tray on it, so nothing had to stop.
pub async fn quit_running_tray() -> anyhow::Result<bool> {
    let Ok(client) = Client::connect().await else {
        return Ok(false);
    };
    let name = BusName::try_from(NAME)?;
    if !client.bus.name_has_owner(name.clone()).await? {
        return Ok(false);
    }
    client.tray.quit().await?;
    let gone = async {
        while client.bus.name_has_owner(name.clone()).await? {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok::<_, zbus::Error>(())
    };
    match timeout(QUIT_TIMEOUT, gone).await {
        Ok(result) => result?,
        Err(_) => anyhow::bail!(
            "Pushmail did not quit within {} s; quit it from its menu and run this again",
            QUIT_TIMEOUT.as_secs()
        ),
    }
    Ok(true)
}

/// Asks a running tray to re-read its configuration and restart the accounts that wait for
/// the user (after a new sign-in). `Ok(false)`: no session bus or no tray on it.
pub async fn reload_running_tray() -> anyhow::Result<bool> {
    let Ok(client) = Client::connect().await else {
        return Ok(false);
    };
    let name = BusName::try_from(NAME)?;
    if !client.bus.name_has_owner(name).await? {
        return Ok(false);
    }
    client.tray.reload().await?;
    Ok(true)
}

/// Why there is no reading.
#[derive(Debug)]
enum Failure {
    /// No session bus to ask on.
    NoBus(String),
    NotRunning,
    /// The tray is there but did not answer properly.
    NoAnswer(String),
}

impl Failure {
    fn message(&self, i18n: &I18n) -> String {
        match self {
            Failure::NoBus(why) => i18n.tr_plain("cli-status-no-bus", &[("reason", text(why))]),
            Failure::NotRunning => render::not_running(i18n),
            Failure::NoAnswer(why) => {
                i18n.tr_plain("cli-status-no-answer", &[("reason", text(why))])
            }
        }
    }

    fn exit_code(&self) -> ExitCode {
        match self {
            Failure::NotRunning => ExitCode::from(EXIT_NOT_RUNNING),
            Failure::NoBus(_) | Failure::NoAnswer(_) => ExitCode::FAILURE,
        }
    }
}

pub async fn run(args: StatusArgs, i18n: &I18n) -> ExitCode {
    let form = args.form();
    let client = match Client::connect().await {
        Ok(client) => client,
        Err(failure) => return fail(i18n, &failure),
    };
    if args.watch {
        return watch(&client, form, i18n).await;
    }
    match client.read().await {
        Ok(snapshot) => {
            // A closed stdout (`status | head -c0`) is no reason for an error message.
            let _ = emit(&render::render(form, i18n, View::Running(&snapshot)));
            ExitCode::SUCCESS
        }
        Err(failure) => fail(i18n, &failure),
    }
}

fn fail(i18n: &I18n, failure: &Failure) -> ExitCode {
    eprintln!("{}", failure.message(i18n));
    failure.exit_code()
}

/// Writes one line and flushes it (a bar reads line by line through a pipe); `false` once
/// nobody reads any more.
fn emit(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

/// The session bus, and the tray on it.
struct Client {
    conn: Connection,
    bus: DBusProxy<'static>,
    tray: PushmailProxy<'static>,
}

impl Client {
    async fn connect() -> Result<Client, Failure> {
        let connect = async {
            let conn = zbus::connection::Builder::session()?
                .method_timeout(TRAY_CALL_TIMEOUT)
                .build()
                .await?;
            let bus = DBusProxy::new(&conn).await?;
            // Uncached: every reading asks the tray, never a copy from an earlier one.
            let tray = PushmailProxy::builder(&conn)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await?;
            Ok::<_, zbus::Error>(Client { conn, bus, tray })
        };
        match timeout(TRAY_CALL_TIMEOUT, connect).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(Failure::NoBus(e.to_string())),
            Err(_) => Err(Failure::NoBus(no_answer_within())),
        }
    }

    /// One reading of the tray, bounded by [`TRAY_CALL_TIMEOUT`].
    async fn read(&self) -> Result<Snapshot, Failure> {
        match timeout(TRAY_CALL_TIMEOUT, self.read_unbounded()).await {
            Ok(result) => result,
            Err(_) => Err(Failure::NoAnswer(no_answer_within())),
        }
    }

    async fn read_unbounded(&self) -> Result<Snapshot, Failure> {
        // Ask the bus first: calling an absent name could make a bus with service activation
        // start something, and its error would read like a failure rather than "not running".
        let name = BusName::try_from(NAME).map_err(|e| Failure::NoAnswer(e.to_string()))?;
        if !self
            .bus
            .name_has_owner(name)
            .await
            .map_err(|e| answer_failure(e.into()))?
        {
            return Err(Failure::NotRunning);
        }
        let rows = self.tray.get_accounts().await.map_err(answer_failure)?;
        let paused = self.tray.paused().await.map_err(answer_failure)?;
        let paused_until = self.tray.paused_until().await.map_err(answer_failure)?;
        Ok(Snapshot {
            accounts: rows
                .into_iter()
                .map(|(id, name, state, detail, unread)| Account {
                    id,
                    name,
                    state,
                    detail,
                    unread,
                })
                .collect(),
            paused,
            paused_until,
        })
    }
}

fn no_answer_within() -> String {
    format!("no answer within {} s", TRAY_CALL_TIMEOUT.as_secs())
}

/// A failed call: "not running" if the tray left the bus between the check and the call.
fn answer_failure(e: zbus::Error) -> Failure {
    const GONE: [&str; 2] = [
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
    ];
    let gone = match &e {
        zbus::Error::MethodError(name, _, _) => GONE.contains(&name.as_str()),
        zbus::Error::FDO(fdo) => matches!(
            **fdo,
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_)
        ),
        _ => false,
    };
    if gone {
        Failure::NotRunning
    } else {
        Failure::NoAnswer(e.to_string())
    }
}

/// What wakes `--watch`: the tray's signals, and its name changing owner (it started or quit).
struct Changes {
    signals: zbus::MessageStream,
    owners: NameOwnerChangedStream,
}

impl Changes {
    /// Subscribes before the first reading, so no change between the two is missed.
    async fn subscribe(client: &Client) -> zbus::Result<Changes> {
        // Every signal from the tray's object: its own (AccountsChanged, UnreadChanged,
        // NewMail) and PropertiesChanged (Paused, PausedUntil). Any sender: a signal only
        // triggers a fresh reading, so a stray one costs a call, nothing more.
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .path(PATH)?
            .build();
        let signals = zbus::MessageStream::for_match_rule(rule, &client.conn, Some(64)).await?;
        let owners = client
            .bus
            .receive_name_owner_changed_with_args(&[(0, NAME)])
            .await?;
        Ok(Changes { signals, owners })
    }

    /// Waits for the next change; `false` when the bus connection ended.
    async fn next(&mut self) -> bool {
        tokio::select! {
            signal = self.signals.next() => signal.is_some(),
            owner = self.owners.next() => owner.is_some(),
        }
    }

    /// Waits for the next change and the rest of its burst; `false` when the bus connection
    /// ended.
    async fn next_burst(&mut self) -> bool {
        if !self.next().await {
            return false;
        }
        let deadline = Instant::now() + BURST_WINDOW;
        loop {
            tokio::select! {
                () = sleep_until(deadline) => return true,
                more = self.next() => if !more {
                    return false;
                },
            }
        }
    }
}

/// `--watch`: a line now, then one per change that alters it, until stdout closes (the bar
/// went away) or the session bus does. Ctrl-C and SIGTERM end it by their default action:
/// there is nothing to flush, every line is written whole.
async fn watch(client: &Client, form: Form, i18n: &I18n) -> ExitCode {
    let mut changes = match Changes::subscribe(client).await {
        Ok(changes) => changes,
        Err(e) => return fail(i18n, &Failure::NoBus(e.to_string())),
    };
    let mut last: Option<String> = None;
    loop {
        let line = match client.read().await {
            Ok(snapshot) => Some(render::render(form, i18n, View::Running(&snapshot))),
            Err(Failure::NotRunning) => Some(render::render(form, i18n, View::NotRunning)),
            // A hung tray: say so once on stderr and keep the last line; the next change
            // (or the tray's restart) brings a fresh reading.
            Err(failure) => {
                eprintln!("{}", failure.message(i18n));
                None
            }
        };
        // Bursts often change nothing visible (a flag on a message already counted): print
        // only what differs, so a bar redraws only for news.
        if let Some(line) = line
            && last.as_deref() != Some(line.as_str())
        {
            if !emit(&line) {
                return ExitCode::SUCCESS;
            }
            last = Some(line);
        }
        if !changes.next_burst().await {
            return fail(
                i18n,
                &Failure::NoBus("the session bus closed the connection".to_owned()),
            );
        }
    }
}
