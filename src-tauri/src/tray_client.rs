//! The bridge to the always-on tray process `pushmail`, over its D-Bus interface
//! (`docs/dbus.md`): live account states and counts, activity, reload, check now; starting it
//! when it is not running; and forwarding its change signals to the UI.
//!
//! The tray may be absent (not started, crashed, no session bus). Nothing in the window
//! depends on it: the configuration is edited through the core either way, and each call here
//! says plainly whether the tray is not running ([`ErrorKind::TrayNotRunning`], the UI then
//! offers to start it) or failed ([`ErrorKind::Tray`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use pushmail_core::control::PushmailProxy;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use zbus::Connection;
use zbus::fdo::DBusProxy;
use zbus::names::BusName;

use crate::error::{ErrorKind, UiError, chain};
use crate::events::{self, Sink};

/// The tray's well-known name (object `/io/github/pushmail/Pushmail`); owning it is the tray's
/// single-instance lock.
pub const TRAY_NAME: &str = pushmail_core::control::NAME;
pub const TRAY_INTERFACE: &str = pushmail_core::control::INTERFACE;

/// Limit for every call to the tray (and the bus daemon). The tray answers from memory within
/// milliseconds; a tray that takes longer is hung, and the window must stay usable.
pub const TRAY_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a freshly started tray may take to own its name: it only has to parse the
/// config and connect to the session bus, which takes well under a second even on a loaded
/// machine; more means it is stuck or failed without exiting.
pub const TRAY_START_TIMEOUT: Duration = Duration::from_secs(10);

/// One account as the tray sees it right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveAccount {
    pub id: String,
    pub name: String,
    /// `connecting push polling backoff error auth_failed stopped disabled` (or something
    /// newer, which the UI shows as is).
    pub state: String,
    /// A sentence, empty when all is well. Already cleaned by the tray.
    pub detail: String,
    pub unread: u32,
    /// The median time in ms from a message reaching the server to its announcement, over
    /// the last day (`GetDelays`); `None` without a figure (no live mail today, or a tray too
    /// old to say).
    pub delay_ms: Option<u32>,
    /// How many messages `delay_ms` is the median of.
    pub delay_messages: u32,
}

/// `GetActivity`, parsed: the last notifications and each account's last error.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(default)]
    pub notifications: Vec<ActivityNotification>,
    #[serde(default)]
    pub errors: Vec<ActivityError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityNotification {
    pub account: String,
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub uid: u64,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub at: Timestamp,
    /// From the message reaching the server to its announcement, when plausible.
    #[serde(
        default,
        rename(serialize = "delayMs", deserialize = "delay_ms"),
        skip_serializing_if = "Option::is_none"
    )]
    pub delay_ms: Option<u64>,
    /// What opens this message (`OpenMessage`); empty when the tray gave none (an id it would
    /// not use, or a tray from before the field).
    #[serde(
        default,
        rename(serialize = "messageId", deserialize = "message_id"),
        skip_serializing_if = "String::is_empty"
    )]
    pub message_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityError {
    pub account: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub detail: String,
    /// What to do, if the tray sends it separately from `detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default)]
    pub at: Timestamp,
}

/// `docs/dbus.md` does not fix the type of `at`: Unix seconds or an RFC 3339 text are both
/// accepted and passed on as they are; the UI formats either.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Unix(i64),
    Text(String),
    #[default]
    Unknown,
}

/// Whether a save reached the running tray.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "tray", rename_all = "snake_case")]
pub enum ReloadOutcome {
    /// The tray re-read the file.
    Reloaded,
    /// No tray is running; the change applies when it starts.
    NotRunning,
    /// The tray is running but did not take the reload.
    Failed { message: String },
}

/// The session bus connection, or why there is none. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tray {
    bus: Result<Connection, String>,
}

impl Tray {
    pub fn new(bus: Result<Connection, String>) -> Tray {
        Tray { bus }
    }

    fn bus(&self) -> Result<&Connection, UiError> {
        self.bus.as_ref().map_err(|why| {
            UiError::new(
                ErrorKind::Tray,
                format!(
                    "There is no D-Bus session bus ({why}), so Settings cannot talk to Pushmail's tray. Settings still edits the configuration."
                ),
            )
        })
    }

    /// Whether some process owns the tray's name.
    pub async fn is_running(&self) -> Result<bool, UiError> {
        let bus = self.bus()?;
        let dbus = DBusProxy::new(bus).await.map_err(tray_error)?;
        let name = BusName::try_from(TRAY_NAME).map_err(|e| tray_error(e.into()))?;
        dbus.name_has_owner(name)
            .await
            .map_err(|e| tray_error(e.into()))
    }

    async fn proxy(&self) -> Result<PushmailProxy<'_>, UiError> {
        let bus = self.bus()?;
        if !self.is_running().await? {
            return Err(not_running());
        }
        PushmailProxy::builder(bus)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(tray_error)
    }

    pub async fn accounts(&self) -> Result<Vec<LiveAccount>, UiError> {
        let proxy = self.proxy().await?;
        let list = proxy.get_accounts().await.map_err(tray_error)?;
        // Only a figure to show: a tray older than `GetDelays` has none, and says so by
        // refusing the method.
        let delays = proxy.get_delays().await.unwrap_or_default();
        Ok(live_accounts(list, &delays))
    }

    pub async fn activity(&self) -> Result<Activity, UiError> {
        let json = self
            .proxy()
            .await?
            .get_activity()
            .await
            .map_err(tray_error)?;
        parse_activity(&json)
    }

    pub async fn check_now(&self, account: &str) -> Result<(), UiError> {
        self.proxy()
            .await?
            .check_now(account)
            .await
            .map_err(tray_error)
    }

    /// Opens one announced message (`OpenMessage`). The tray checks the id; an unknown account
    /// (removed since the list was read) and a mail client that would not start come back as
    /// the tray's sentence.
    pub async fn open_message(&self, account: &str, message_id: &str) -> Result<(), UiError> {
        // Through the interface by name: the method is newer than the shared proxy
        // (`pushmail_core::control`), and a tray without it answers UnknownMethod.
        self.proxy()
            .await?
            .inner()
            .call::<_, _, ()>("OpenMessage", &(account, message_id))
            .await
            .map_err(open_error)
    }

    /// Asks the tray to re-read the configuration. Never an error: the file is saved either
    /// way, the outcome only tells the user whether the change is live yet.
    pub async fn reload(&self) -> ReloadOutcome {
        let result = async { self.proxy().await?.reload().await.map_err(tray_error) }.await;
        match result {
            Ok(()) => ReloadOutcome::Reloaded,
            Err(e) if e.kind == ErrorKind::TrayNotRunning => ReloadOutcome::NotRunning,
            Err(e) => ReloadOutcome::Failed { message: e.message },
        }
    }

    /// Starts `pushmail` (next to this program, else from `PATH`) with our configuration file
    /// and waits until it owns its name. Does nothing if it already runs.
    pub async fn start(&self, config_path: &Path) -> Result<(), UiError> {
        if self.is_running().await? {
            return Ok(());
        }
        let program = tray_program();
        let mut child = spawn_detached(&program, config_path)?;
        let started = Instant::now();
        loop {
            if self.is_running().await? {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(UiError::new(
                    ErrorKind::Spawn,
                    format!(
                        "Pushmail's tray ({}) stopped right after starting ({status}). Run `pushmail` in a terminal to see why.",
                        program.display()
                    ),
                ));
            }
            if started.elapsed() >= TRAY_START_TIMEOUT {
                return Err(UiError::new(
                    ErrorKind::Spawn,
                    format!(
                        "Pushmail's tray ({}) did not come up within {} s. Run `pushmail` in a terminal to see why.",
                        program.display(),
                        TRAY_START_TIMEOUT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        reap_in_background(child);
        Ok(())
    }
}

fn not_running() -> UiError {
    UiError::new(
        ErrorKind::TrayNotRunning,
        "Pushmail is not running, so there is no live state to show. Your settings are saved and apply when it starts.",
    )
}

fn tray_error(e: zbus::Error) -> UiError {
    if let zbus::Error::MethodError(name, _, _) = &e
        && matches!(
            name.as_str(),
            "org.freedesktop.DBus.Error.ServiceUnknown"
                | "org.freedesktop.DBus.Error.NameHasNoOwner"
        )
    {
        return not_running();
    }
    UiError::new(
        ErrorKind::Tray,
        format!(
            "Pushmail's tray did not answer: {}. Quit and restart Pushmail if this persists.",
            chain(&e)
        ),
    )
}

/// `OpenMessage`'s failures: the tray's own sentence when it gave one (an unknown account, a
/// mail client that would not start), a tray too old for the method said as such.
fn open_error(e: zbus::Error) -> UiError {
    if let zbus::Error::MethodError(name, detail, _) = &e {
        match name.as_str() {
            "org.freedesktop.DBus.Error.UnknownMethod" => {
                return UiError::new(
                    ErrorKind::Tray,
                    "The running Pushmail is too old to open a message from here. Quit and restart Pushmail.",
                );
            }
            "org.freedesktop.DBus.Error.InvalidArgs" => {
                return UiError::new(
                    ErrorKind::NotFound,
                    "The running Pushmail does not know this account: it may have been removed since. Refresh the list.",
                );
            }
            "org.freedesktop.DBus.Error.Failed" => {
                if let Some(detail) = detail.as_deref().filter(|d| !d.is_empty()) {
                    return UiError::new(ErrorKind::Tray, detail);
                }
            }
            _ => {}
        }
    }
    tray_error(e)
}

/// `GetAccounts` rows with each account's `GetDelays` figure.
pub fn live_accounts(
    rows: Vec<(String, String, String, String, u32)>,
    delays: &[(String, u32, u32)],
) -> Vec<LiveAccount> {
    rows.into_iter()
        .map(|(id, name, state, detail, unread)| {
            let (delay_ms, delay_messages) = delays
                .iter()
                .find(|(d, _, n)| *d == id && *n > 0)
                .map_or((None, 0), |(_, ms, n)| (Some(*ms), *n));
            LiveAccount {
                id,
                name,
                state,
                detail,
                unread,
                delay_ms,
                delay_messages,
            }
        })
        .collect()
}

/// `GetActivity`'s JSON → [`Activity`]. The tray is ours, but a mismatch between versions
/// must read as a message, not a crash.
pub fn parse_activity(json: &str) -> Result<Activity, UiError> {
    serde_json::from_str(json).map_err(|e| {
        UiError::new(
            ErrorKind::Tray,
            format!(
                "Pushmail's tray sent activity this window cannot read ({e}); are the tray and Settings the same version?"
            ),
        )
    })
}

/// `pushmail` in this program's directory (an installed or freshly built pair), else the
/// bare name for a `PATH` lookup.
pub fn tray_program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("pushmail")))
        .filter(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from("pushmail"))
}

fn spawn_detached(program: &Path, config_path: &Path) -> Result<std::process::Child, UiError> {
    use std::os::unix::process::CommandExt;
    Command::new(program)
        .arg("--config")
        .arg(config_path)
        // The tray outlives this window: it must not hold our terminal or pipes (a caller
        // reading our output would never see EOF), nor share our process group (a Ctrl-C
        // meant for Settings would stop it).
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            UiError::new(
                ErrorKind::Spawn,
                format!(
                    "Cannot start Pushmail's tray ({}): {e}. Is Pushmail installed?",
                    program.display()
                ),
            )
        })
}

/// Waits for the tray on a plain thread so it never lingers as a zombie while this window is
/// open. Bounded by the tray's life or ours, whichever ends first; when Settings exits, the
/// tray is re-parented and keeps running.
fn reap_in_background(mut child: std::process::Child) {
    let spawned = std::thread::Builder::new()
        .name("tray-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot watch the started tray: {e}");
    }
}

/// Why the UI should re-query, forwarded as the payload of [`events::TRAY_CHANGED`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The tray started or stopped.
    Presence,
    /// An account's state or count changed (`AccountsChanged`, `UnreadChanged`).
    Accounts,
    /// A message was announced (`NewMail`): the Activity page is stale.
    Activity,
}

/// Forwards the tray's signals and its coming and going to the UI as [`events::TRAY_CHANGED`]
/// until `cancel`. The UI re-queries the tray on each: events say *that* something changed,
/// state is read fresh (one source of truth).
pub async fn changes_loop(bus: Connection, ui: impl Sink, cancel: CancellationToken) {
    let subscribe = async {
        let rule = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(TRAY_INTERFACE)?
            .build();
        let signals = zbus::MessageStream::for_match_rule(rule, &bus, Some(64)).await?;
        let dbus = DBusProxy::new(&bus).await?;
        let owners = dbus
            .receive_name_owner_changed_with_args(&[(0, TRAY_NAME)])
            .await?;
        Ok::<_, zbus::Error>((signals, owners))
    };
    let (mut signals, mut owners) = match subscribe.await {
        Ok(streams) => streams,
        Err(e) => {
            tracing::warn!("cannot follow the tray's changes: {e:#}");
            return;
        }
    };
    loop {
        let change = tokio::select! {
            () = cancel.cancelled() => return,
            msg = signals.next() => match msg {
                Some(Ok(msg)) => match msg.header().member().map(|m| m.as_str()) {
                    Some("NewMail") => Change::Activity,
                    _ => Change::Accounts,
                },
                Some(Err(_)) => continue,
                None => return,
            },
            owner = owners.next() => match owner {
                Some(_) => Change::Presence,
                None => return,
            },
        };
        match serde_json::to_value(change) {
            Ok(payload) => ui.send(events::TRAY_CHANGED, payload),
            Err(e) => tracing::debug!("cannot encode a tray change: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn activity_accepts_both_timestamp_forms_and_keeps_text_as_data() {
        let json = r#"{"notifications":[
            {"account":"work","folder":"INBOX","uid":7,"from":"<img src=x onerror=alert(1)>","subject":"<script>alert(1)</script>","at":1700000000},
            {"account":"work","folder":"INBOX","uid":8,"from":"Ana","subject":"Hi","at":"2026-11-22T10:00:00Z"}],
            "errors":[{"account":"home","state":"auth_failed","detail":"Password rejected.","at":1700000001}]}"#;
        let a = parse_activity(json).unwrap();
        assert_eq!(a.notifications[0].at, Timestamp::Unix(1_700_000_000));
        assert_eq!(a.notifications[0].from, "<img src=x onerror=alert(1)>");
        assert_eq!(
            a.notifications[1].at,
            Timestamp::Text("2026-11-22T10:00:00Z".into())
        );
        assert_eq!(a.errors[0].state, "auth_failed");
        assert_eq!(a.notifications[0].delay_ms, None);
        assert_eq!(a.notifications[0].message_id, "");
        assert_eq!(parse_activity("{}").unwrap(), Activity::default());
        assert_eq!(parse_activity("[").unwrap_err().kind, ErrorKind::Tray);
    }

    /// How late each message was, and each account's median, reach the UI in its own
    /// spelling; an account without a figure has none (not a 0 ms median).
    #[test]
    fn delays_reach_the_ui() {
        let a = parse_activity(
            r#"{"notifications":[{"account":"work","uid":7,"at":1,"delay_ms":640,"message_id":"7.a@x"},{"account":"work","uid":8,"at":1}]}"#,
        )
        .unwrap();
        assert_eq!(a.notifications[0].delay_ms, Some(640));
        let ui = serde_json::to_value(&a.notifications[0]).unwrap();
        assert_eq!(ui["delayMs"], 640);
        // What opens it, in the UI's spelling; absent when the tray gave none.
        assert_eq!(ui["messageId"], "7.a@x");
        let older = serde_json::to_value(&a.notifications[1]).unwrap();
        assert!(older.get("messageId").is_none());
        let rows = vec![
            (
                "work".into(),
                "Work".into(),
                "push".into(),
                String::new(),
                2,
            ),
            (
                "home".into(),
                "Home".into(),
                "push".into(),
                String::new(),
                0,
            ),
            ("new".into(), "New".into(), "push".into(), String::new(), 0),
        ];
        let delays = [("work".into(), 700, 12), ("home".into(), 0, 0)];
        let live = live_accounts(rows, &delays);
        assert_eq!(
            serde_json::to_value(&live).unwrap(),
            serde_json::json!([
                {"id":"work","name":"Work","state":"push","detail":"","unread":2,"delayMs":700,"delayMessages":12},
                {"id":"home","name":"Home","state":"push","detail":"","unread":0,"delayMs":null,"delayMessages":0},
                {"id":"new","name":"New","state":"push","detail":"","unread":0,"delayMs":null,"delayMessages":0},
            ])
        );
    }

    #[test]
    fn reload_outcome_serialises_for_the_ui() {
        assert_eq!(
            serde_json::to_value(ReloadOutcome::NotRunning).unwrap(),
            serde_json::json!({"tray": "not_running"})
        );
        assert_eq!(
            serde_json::to_value(ReloadOutcome::Failed {
                message: "x".into()
            })
            .unwrap(),
            serde_json::json!({"tray": "failed", "message": "x"})
        );
    }

    #[tokio::test]
    async fn without_a_bus_everything_says_so_and_reload_is_not_an_error() {
        let tray = Tray::new(Err("no DBUS_SESSION_BUS_ADDRESS".into()));
        let err = tray.accounts().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Tray);
        assert!(
            err.message.contains("no DBUS_SESSION_BUS_ADDRESS"),
            "{}",
            err.message
        );
        assert!(matches!(tray.reload().await, ReloadOutcome::Failed { .. }));
    }

    /// A private `dbus-daemon` for one test; stopped on drop.
    struct Bus(std::process::Child, String);

    impl Bus {
        fn start() -> Bus {
            use std::io::BufRead;
            let mut child = Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("dbus-daemon (apt-get install dbus)");
            let mut address = String::new();
            std::io::BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut address)
                .unwrap();
            Bus(child, address.trim().to_owned())
        }

        async fn connect(&self) -> Connection {
            zbus::connection::Builder::address(self.1.as_str())
                .unwrap()
                .method_timeout(TRAY_CALL_TIMEOUT)
                .build()
                .await
                .unwrap()
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// The tray's side of `docs/dbus.md`, as much as Settings uses, recording reloads.
    struct FakeTray {
        reloads: std::sync::Arc<std::sync::atomic::AtomicU32>,
        opened: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    }

    #[zbus::interface(name = "io.github.pushmail.Pushmail1")]
    impl FakeTray {
        fn get_accounts(&self) -> Vec<(String, String, String, String, u32)> {
            vec![
                (
                    "work".into(),
                    "Work".into(),
                    "push".into(),
                    String::new(),
                    3,
                ),
                (
                    "home".into(),
                    "Home".into(),
                    "auth_failed".into(),
                    "<b>Password</b> rejected".into(),
                    0,
                ),
            ]
        }

        fn get_activity(&self) -> String {
            r#"{"notifications":[{"account":"work","folder":"INBOX","uid":1,"from":"Ana","subject":"Hi","at":"2026-11-22T10:00:00Z"}],"errors":[]}"#.into()
        }

        fn reload(&self) {
            self.reloads
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }

        fn open_message(&self, account: String, message_id: String) -> zbus::fdo::Result<()> {
            match account.as_str() {
                "work" => {
                    self.opened.lock().unwrap().push(message_id);
                    Ok(())
                }
                "broken" => Err(zbus::fdo::Error::Failed(
                    "No default mail application is set.".into(),
                )),
                _ => Err(zbus::fdo::Error::InvalidArgs(format!(
                    "no account {account:?}"
                ))),
            }
        }

        #[zbus(signal)]
        async fn accounts_changed(
            emitter: &zbus::object_server::SignalEmitter<'_>,
        ) -> zbus::Result<()>;
    }

    #[derive(Clone, Default)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl Sink for Recorder {
        fn send(&self, event: &str, payload: serde_json::Value) {
            self.0.lock().unwrap().push(format!("{event} {payload}"));
        }
    }

    async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
        for _ in 0..200 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn talks_to_a_running_tray_and_notices_it_come_and_go() {
        let bus = Bus::start();
        let settings = bus.connect().await;
        let tray = Tray::new(Ok(settings.clone()));
        let ui = Recorder::default();
        let cancel = CancellationToken::new();
        let follower = tokio::spawn(changes_loop(settings, ui.clone(), cancel.clone()));

        // No tray yet: a state, not a failure.
        assert!(!tray.is_running().await.unwrap());
        assert_eq!(
            tray.accounts().await.unwrap_err().kind,
            ErrorKind::TrayNotRunning
        );
        assert_eq!(tray.reload().await, ReloadOutcome::NotRunning);
        assert_eq!(
            tray.open_message("work", "a@x").await.unwrap_err().kind,
            ErrorKind::TrayNotRunning
        );

        // The tray comes up.
        let reloads = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let opened = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let service = zbus::connection::Builder::address(bus.1.as_str())
            .unwrap()
            .serve_at(
                "/io/github/pushmail/Pushmail",
                FakeTray {
                    reloads: reloads.clone(),
                    opened: opened.clone(),
                },
            )
            .unwrap()
            .name(TRAY_NAME)
            .unwrap()
            .build()
            .await
            .unwrap();
        eventually("the presence change", || {
            ui.0.lock()
                .unwrap()
                .iter()
                .any(|e| e == r#"tray://changed "presence""#)
        })
        .await;
        let accounts = tray.accounts().await.unwrap();
        assert_eq!(accounts[0].unread, 3);
        assert_eq!(accounts[1].state, "auth_failed");
        assert_eq!(accounts[1].detail, "<b>Password</b> rejected");
        let activity = tray.activity().await.unwrap();
        assert_eq!(activity.notifications[0].subject, "Hi");
        assert_eq!(tray.reload().await, ReloadOutcome::Reloaded);
        assert_eq!(reloads.load(std::sync::atomic::Ordering::SeqCst), 1);

        // "Open" in Activity: the id goes to the tray as it is; its refusals come back as
        // sentences.
        tray.open_message("work", "7.ana@example.com")
            .await
            .unwrap();
        assert_eq!(*opened.lock().unwrap(), ["7.ana@example.com"]);
        let gone = tray.open_message("removed", "a@x").await.unwrap_err();
        assert_eq!(gone.kind, ErrorKind::NotFound);
        let failed = tray.open_message("broken", "a@x").await.unwrap_err();
        assert_eq!(
            (failed.kind, failed.message.as_str()),
            (ErrorKind::Tray, "No default mail application is set.")
        );

        // Its signals reach the UI as "re-query" events.
        let iface = service
            .object_server()
            .interface::<_, FakeTray>("/io/github/pushmail/Pushmail")
            .await
            .unwrap();
        FakeTray::accounts_changed(iface.signal_emitter())
            .await
            .unwrap();
        eventually("the accounts change", || {
            ui.0.lock()
                .unwrap()
                .iter()
                .any(|e| e == r#"tray://changed "accounts""#)
        })
        .await;

        // The tray goes away.
        drop(iface);
        drop(service);
        eventually("the tray to be gone", || {
            ui.0.lock()
                .unwrap()
                .iter()
                .filter(|e| e.ends_with(r#""presence""#))
                .count()
                >= 2
        })
        .await;
        assert_eq!(tray.reload().await, ReloadOutcome::NotRunning);

        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(2), follower)
            .await
            .unwrap()
            .unwrap();
    }
}
