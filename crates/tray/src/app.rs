//! The tray process: one tokio runtime, the core [`Engine`], and one loop ([`App::run`]) that
//! owns every piece of state and is the only writer of it.
//!
//! ```text
//!   engine events ─┐                                  ┌─> tray item (ksni)
//!   D-Bus methods ─┤                                  ├─> D-Bus properties and signals
//!   menu clicks ───┼─> App::run ── TrayModel, Policy ─┼─> notifier queue ─> notifier task
//!   popup actions ─┤                                  └─> tracked tasks: mark read, open
//!   config watch ──┘
//! ```
//!
//! The loop decides nothing itself: `TrayModel` says what the tray shows, the core's
//! notification `Policy` which popups to show (new mail, summaries, "needs attention", and
//! what the preview level lets each show), [`notes`](crate::notes) puts them into words. A
//! resume from sleep is the core's business too: `Engine::watch_power` hears logind and
//! NetworkManager on `--power-bus` and watches the clock, and reconnects every account once.
//!
//! Nothing the loop does waits on the outside world for long: popups go through the notifier's
//! queue, "mark as read" and "open" run as tracked tasks, and updates of the tray item are
//! bounded. So a hung notification daemon or a slow server never holds up the watchers, whose
//! events the loop must keep reading.
//!
//! Lifecycle: `run` returns on Quit (menu, D-Bus, SIGTERM/SIGINT); then the engine is shut
//! down (bounded, while its events are drained), the tasks are cancelled and joined, and the
//! bus name is released by closing the connection.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use pushmail_core::ConnectError;
use pushmail_core::config::Config;
use pushmail_core::display;
use pushmail_core::error::Problem;
use pushmail_core::event::{Event, NewMail, State};
use pushmail_core::i18n::I18n;
use pushmail_core::notify::policy::{
    self, ATTENTION_POPUPS, Action, Mail, MessageKey, Pause, Policy, PopupId, Rules,
};
use pushmail_core::{Engine, Events, Store};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};
use zbus::Connection;

use crate::activity::{Activity, ErrorRecord, NotificationRecord};
use crate::clock;
use crate::delays::Delays;
use crate::model::{MenuAction, PauseChoice, TrayModel};
use crate::notes;
use crate::notifier::{self, Job, PopupEvent, Queue};
use crate::open::{self, Target};
use crate::service::{
    self, Claim, Control, OpenMessageError, OpenReply, Props, Publisher, Request,
};
use crate::status_item::{self, View};

/// How often the configuration file is checked for changes. A save in Settings takes effect
/// within this; a `stat` per second costs nothing measurable.
pub const CONFIG_POLL: Duration = Duration::from_secs(1);

/// Limit for one update of the tray item (it only talks to our own bus connection).
pub const TRAY_UPDATE_TIMEOUT: Duration = Duration::from_secs(2);

/// Capacity of the channels into the loop; the senders are people clicking and D-Bus callers.
const CHANNEL_CAPACITY: usize = 64;

/// The tray's own popups, numbered just below the policy's attention popups (ids the policy
/// never gives out). A newer one of each replaces the one on screen.
const OPEN_FAILED_POPUP: PopupId = PopupId(ATTENTION_POPUPS - 1);
const CONFIG_ERROR_POPUP: PopupId = PopupId(ATTENTION_POPUPS - 2);

/// Command-line options.
#[derive(Clone, Debug)]
pub struct Options {
    pub config_path: PathBuf,
    /// Where logind and NetworkManager announce sleep and network changes.
    pub power_bus: pushmail_core::watch::power::PowerBus,
}

/// Runs the tray until Quit. Exit code 0 also when another instance was already running.
pub fn run(options: Options) -> ExitCode {
    // One thread: the work is waiting, not computing, and each extra worker costs memory.
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
    match runtime.block_on(main_async(options)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Messages from helper tasks to the loop.
#[derive(Debug)]
enum Internal {
    ConfigChanged,
    /// Opening the mail client or a target failed: a popup says so, or, when a D-Bus caller
    /// asked for it (`OpenMessage`), the caller's answer.
    OpenFailed {
        account: String,
        error: open::OpenError,
        reply: Option<OpenReply>,
    },
    /// A helper task failed; shown in Activity.
    Failed {
        account: String,
        what: &'static str,
        detail: String,
    },
}

async fn main_async(options: Options) -> anyhow::Result<ExitCode> {
    let (req_tx, req_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let props = Arc::new(Mutex::new(Props::default()));
    let conn = match service::claim(Control::new(req_tx, props.clone())).await? {
        Claim::AlreadyRunning => {
            info!("Pushmail is already running; asked it to open Settings");
            return Ok(ExitCode::SUCCESS);
        }
        Claim::Owner(conn) => conn,
    };
    let (config, config_error) = match Config::load(&options.config_path) {
        Ok(c) => (c, None),
        Err(e) => {
            warn!("{e:#}");
            (Config::default(), Some(e.to_string()))
        }
    };
    let store_path = Store::default_path()?;
    let store = Store::open(&store_path)
        .with_context(|| format!("Cannot open the state database {}", store_path.display()))?;
    let (engine, events) = Engine::new(store);
    // After a suspend or on a new network every connection is suspect: reconnect at once
    // instead of waiting for `dead_after`. This is the process's only resume detector (it
    // also watches the clock, for machines without logind): a second one here would
    // reconnect every account twice per resume.
    engine.watch_power(pushmail_core::watch::power::PowerOptions {
        bus: options.power_bus.clone(),
    });

    let tracker = TaskTracker::new();
    let cancel = CancellationToken::new();
    let queue = Queue::new(config.notifications.notify_timeout);
    let (popup_tx, popup_rx) = mpsc::channel(CHANNEL_CAPACITY);
    tracker.spawn(notifier::notifier_loop(
        conn.clone(),
        queue.clone(),
        popup_tx,
        cancel.child_token(),
    ));
    let (internal_tx, internal_rx) = mpsc::channel(CHANNEL_CAPACITY);
    tracker.spawn(config_watch_loop(
        options.config_path.clone(),
        internal_tx.clone(),
        cancel.child_token(),
    ));
    let (click_tx, click_rx) = mpsc::channel(CHANNEL_CAPACITY);

    let mut app = App {
        first_run: config.accounts.is_empty() && !options.config_path.exists(),
        config_path: options.config_path,
        i18n: I18n::new(config.general.language.as_str()),
        model: TrayModel::default(),
        policy: Policy::new(Rules::from_config(&config)),
        activity: Activity::new(usize::try_from(config.notifications.history_size).unwrap_or(0)),
        delays: Delays::default(),
        config: Config::default(),
        engine,
        queue,
        publisher: Publisher::new(conn.clone(), props),
        tray: None,
        tracker: tracker.clone(),
        internal_tx,
        signin_popups: HashMap::new(),
        last_view: None,
        dirty: Dirty::all(),
    };
    app.apply_config(config);
    if let Some(error) = config_error {
        app.config_failed(&error);
    }
    match status_item::spawn(app.view(), click_tx).await {
        Ok(handle) => app.tray = Some(handle),
        Err(e) => warn!("no tray icon: {e}"),
    }
    if app.first_run {
        app.open_settings(None);
    }
    let events = app
        .run(events, req_rx, click_rx, popup_rx, internal_rx)
        .await;
    app.shutdown(events, &conn, cancel).await;
    Ok(ExitCode::SUCCESS)
}

/// What needs publishing after the current step.
#[derive(Clone, Copy, Debug, Default)]
struct Dirty {
    view: bool,
    accounts: bool,
}

impl Dirty {
    fn all() -> Dirty {
        Dirty {
            view: true,
            accounts: true,
        }
    }
}

struct App {
    config_path: PathBuf,
    config: Config,
    first_run: bool,
    i18n: I18n,
    model: TrayModel,
    policy: Policy,
    activity: Activity,
    delays: Delays,
    engine: Engine,
    queue: Arc<Queue>,
    publisher: Publisher,
    tray: Option<status_item::Handle>,
    tracker: TaskTracker,
    internal_tx: mpsc::Sender<Internal>,
    /// The "Sign in to Work again" popup of each account whose sign-in is gone, for its
    /// action (Settings on that account) and to withdraw it once the account works again.
    /// One per account at most: the policy pops up once per problem.
    signin_popups: HashMap<String, PopupId>,
    last_view: Option<View>,
    dirty: Dirty,
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

impl App {
    async fn run(
        &mut self,
        mut events: Events,
        mut requests: mpsc::Receiver<Request>,
        mut clicks: mpsc::Receiver<MenuAction>,
        mut popups: mpsc::Receiver<PopupEvent>,
        mut internal: mpsc::Receiver<Internal>,
    ) -> Events {
        let mut terminate = signal(tokio::signal::unix::SignalKind::terminate());
        let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt());
        let mut hangup = signal(tokio::signal::unix::SignalKind::hangup());
        loop {
            self.publish().await;
            let deadline = self.policy.next_deadline();
            let pause_left = match self.policy.pause() {
                Pause::Until(end) => Some(Duration::from_secs(
                    u64::try_from(end - clock::unix_now()).unwrap_or(0),
                )),
                Pause::Off | Pause::Indefinite => None,
            };
            let flow = tokio::select! {
                incoming = events.recv() => match incoming {
                    Some(incoming) => {
                        self.on_event(incoming.event());
                        // Dropping `incoming` here acknowledges a new_mail.
                        Flow::Continue
                    }
                    None => Flow::Quit,
                },
                Some(request) = requests.recv() => self.on_request(request),
                Some(action) = clicks.recv() => self.on_menu(action),
                Some(event) = popups.recv() => {
                    self.on_popup(event);
                    Flow::Continue
                }
                Some(message) = internal.recv() => {
                    self.on_internal(message);
                    Flow::Continue
                }
                _ = sleep_until_opt(deadline.map(tokio::time::Instant::from_std)) => {
                    let actions = self.policy.tick(Instant::now());
                    self.perform(actions);
                    Flow::Continue
                }
                _ = sleep_opt(pause_left) => {
                    self.set_pause(Pause::Off);
                    Flow::Continue
                }
                _ = recv_signal(&mut terminate) => Flow::Quit,
                _ = recv_signal(&mut interrupt) => Flow::Quit,
                _ = recv_signal(&mut hangup) => {
                    let _ = self.reload();
                    Flow::Continue
                }
            };
            if flow == Flow::Quit {
                break;
            }
        }
        events
    }

    async fn shutdown(mut self, mut events: Events, conn: &Connection, cancel: CancellationToken) {
        info!("quitting");
        // Watchers may be blocked on a full event channel: keep reading while they stop.
        let engine = &self.engine;
        let drain = async { while events.recv().await.is_some() {} };
        tokio::select! {
            _ = engine.shutdown() => {}
            _ = drain => {}
        }
        cancel.cancel();
        if let Some(tray) = self.tray.take() {
            let _ = tokio::time::timeout(TRAY_UPDATE_TIMEOUT, tray.shutdown()).await;
        }
        self.tracker.close();
        if tokio::time::timeout(Duration::from_secs(2), self.tracker.wait())
            .await
            .is_err()
        {
            warn!("some tasks did not stop in time");
        }
        let _ = conn.release_name(service::NAME).await;
    }

    // --- inputs ---------------------------------------------------------------------------

    fn on_event(&mut self, event: &Event) {
        let change = self.model.apply(event);
        self.dirty.view |= change.unread || change.accounts;
        self.dirty.accounts |= change.accounts;
        match event {
            Event::NewMail(mail) => self.on_new_mail(mail),
            Event::Seen {
                account,
                folder,
                uid,
            } => {
                let actions = self.policy.on_seen(account, folder, *uid);
                self.perform(actions);
            }
            Event::State {
                account,
                state,
                problem,
                ..
            } => self.on_state(account, *state, problem.as_ref()),
            Event::Unread { .. } => {}
        }
    }

    fn on_new_mail(&mut self, mail: &NewMail) {
        let announced = Mail {
            key: MessageKey {
                account: mail.account.clone(),
                folder: mail.folder.clone(),
                uidvalidity: mail.uidvalidity,
                uid: mail.uid,
            },
            from_address: mail.from_address.clone(),
            sender: display::sender(&mail.from_name, &mail.from_address),
            short_name: display::sender(&mail.from_name, "")
                .or_else(|| display::sender("", &mail.from_address)),
            subject: notes::subject(&self.i18n, &mail.subject, mail.unreadable),
            message_id: mail.message_id.clone(),
            catch_up: mail.catch_up,
        };
        // What other tools (Activity, the NewMail signal) may show follows the same preview
        // level as the popup: the policy decides it for both.
        let (shown_from, shown_subject) =
            notes::listed(&self.i18n, &self.policy.content(&announced));
        self.activity.notified(NotificationRecord {
            account: mail.account.clone(),
            folder: mail.folder.clone(),
            uid: mail.uid,
            from: shown_from.clone(),
            subject: shown_subject.clone(),
            at: clock::rfc3339_now(),
            delay_ms: mail.delay_ms,
            // For Settings → Activity's "Open": what the popup's "Open" would use.
            message_id: open::message_id_arg(&mail.message_id)
                .unwrap_or_default()
                .to_owned(),
        });
        // How fast push is: live mail only (a catch-up measures how long we were away).
        if let (Some(ms), false) = (mail.delay_ms, mail.catch_up) {
            self.delays.record(&mail.account, clock::unix_now(), ms);
        }
        let publisher = self.publisher.clone();
        let (account, folder, uid) = (mail.account.clone(), mail.folder.clone(), mail.uid);
        self.tracker.spawn(async move {
            let _ = publisher
                .new_mail(&account, &folder, uid, &shown_from, &shown_subject)
                .await;
        });
        let actions = self.policy.on_new_mail(&clock::now(), announced);
        self.perform(actions);
    }

    fn on_state(&mut self, account: &str, state: State, problem: Option<&ConnectError>) {
        // The problem is data; people read it in the tray's language.
        let problem = problem.map(|p| p.shown_in(&self.i18n));
        if let Some(problem) = problem.as_ref().filter(|_| {
            matches!(
                state,
                State::AuthFailed | State::SigninRequired | State::Error | State::Backoff
            )
        }) {
            self.activity.error(ErrorRecord {
                account: account.to_owned(),
                state: state.as_str().to_owned(),
                detail: problem.what.clone(),
                hint: problem.hint.clone(),
                at: clock::rfc3339_now(),
            });
        }
        if matches!(state, State::Push | State::Polling)
            && let Some(popup) = self.signin_popups.remove(account)
        {
            // Signed in again: "Sign in to Work again" is no longer true.
            self.queue.push(Job::Close { popup });
        }
        let Some(attention) = self.policy.on_state(&clock::now(), account, state) else {
            return;
        };
        let note = if state == State::SigninRequired {
            self.signin_popups
                .insert(attention.account.clone(), attention.popup);
            notes::signin_required(&self.i18n, &attention.account_name)
        } else {
            let detail = problem.as_ref().map(Problem::joined).unwrap_or_default();
            notes::attention(&self.i18n, &attention.account_name, &detail)
        };
        self.queue.push(Job::Show {
            popup: attention.popup,
            note,
        });
    }

    fn on_request(&mut self, request: Request) -> Flow {
        match request {
            Request::GetAccounts(reply) => {
                // Each account's problem in the tray's language, like the popup.
                let _ = reply.send(self.model.rows(&self.i18n));
            }
            Request::GetActivity(reply) => {
                let _ = reply.send(self.activity.to_json());
            }
            Request::GetDelays(reply) => {
                let now = clock::unix_now();
                let rows = self
                    .model
                    .accounts()
                    .iter()
                    .map(|a| {
                        let m = self.delays.median(&a.id, now);
                        (
                            a.id.clone(),
                            m.map_or(0, |m| m.delay_ms),
                            m.map_or(0, |m| m.messages),
                        )
                    })
                    .collect();
                let _ = reply.send(rows);
            }
            Request::CheckNow(account, reply) => {
                let known = account
                    .as_deref()
                    .is_none_or(|id| self.config.account(id).is_some());
                if known {
                    self.engine.check_now(account.as_deref());
                }
                let _ = reply.send(known);
            }
            Request::Pause(pause) => self.set_pause(pause),
            Request::Resume => self.set_pause(Pause::Off),
            Request::MarkRead(key, reply) => self.mark_read(key, Some(reply)),
            Request::OpenMessage {
                account,
                message_id,
                reply,
            } => self.open_message(&account, &message_id, reply),
            Request::Reload(reply) => {
                let _ = reply.send(self.reload());
            }
            Request::OpenSettings => self.open_settings(None),
            Request::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    fn on_menu(&mut self, action: MenuAction) -> Flow {
        info!(?action, "menu");
        match action {
            MenuAction::OpenAccount(id) => {
                let target = open::target(self.config.account(&id), &self.config.general);
                self.open(target, &id, None);
                self.engine.mail_client_opened(Some(&id));
            }
            MenuAction::OpenMailClient => {
                let target = open::target(None, &self.config.general);
                self.open(target, "", None);
                self.engine.mail_client_opened(None);
            }
            MenuAction::CheckNow => self.engine.check_now(None),
            MenuAction::Pause(choice) => {
                let now = clock::unix_now();
                let until = match choice {
                    PauseChoice::Minutes30 => Some(now + 30 * 60),
                    PauseChoice::Hour1 => Some(now + 60 * 60),
                    PauseChoice::TomorrowMorning => clock::next_morning_local(now),
                };
                self.set_pause(until.map_or(Pause::Indefinite, Pause::Until));
            }
            MenuAction::Resume => self.set_pause(Pause::Off),
            MenuAction::Settings => self.open_settings(None),
            MenuAction::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    fn on_popup(&mut self, event: PopupEvent) {
        match event {
            PopupEvent::Closed { popup } => {
                self.policy.on_popup_closed(popup);
                self.signin_popups.retain(|_, p| *p != popup);
            }
            PopupEvent::Action { popup, key } => {
                // "Needs attention" and a broken configuration are fixed in Settings; a sign-in
                // that is gone, in Settings on that account.
                if policy::is_attention(popup) || popup == CONFIG_ERROR_POPUP {
                    let account = self
                        .signin_popups
                        .iter()
                        .find(|(_, p)| **p == popup)
                        .map(|(id, _)| id.clone());
                    let on = account.as_deref().unwrap_or("");
                    info!(popup = popup.0, %key, account = on, "attention popup action");
                    self.open_settings(account.as_deref());
                    return;
                }
                let Some(info) = self.policy.popup(popup) else {
                    return;
                };
                let account = info.account.to_owned();
                let messages = info.messages.to_vec();
                // Set only for a popup of exactly one message: "Open" opens that message
                // where the target can (`open::message_target`); a summary opens the mailbox.
                let message_id = info.message_id.map(str::to_owned);
                info!(popup = popup.0, %key, "popup action");
                match key.as_str() {
                    "mark-read" => {
                        for key in messages {
                            self.mark_read(key, None);
                        }
                    }
                    _ => {
                        let found = self.config.account(&account);
                        let general = &self.config.general;
                        let target = match &message_id {
                            Some(id) => open::message_target(found, general, id),
                            None => open::target(found, general),
                        };
                        self.open(target, &account, None);
                        self.engine.mail_client_opened(Some(&account));
                    }
                }
            }
        }
    }

    /// `OpenMessage`: Settings → Activity's "Open" on one announced message, opened exactly
    /// as "Open" on that message's popup ([`open::message_target`]; an id it refuses opens
    /// the account's usual target) and, like it, counted as the user opening their mail
    /// (POP3 accounts start their count of new mail over). An unknown account opens nothing.
    fn open_message(&mut self, account: &str, message_id: &str, reply: OpenReply) {
        let Some(found) = self.config.account(account) else {
            let _ = reply.send(Err(OpenMessageError::NoAccount));
            return;
        };
        let target = open::message_target(Some(found), &self.config.general, message_id);
        info!(account, "open message (D-Bus)");
        self.open(target, account, Some(reply));
        self.engine.mail_client_opened(Some(account));
    }

    fn on_internal(&mut self, message: Internal) {
        match message {
            Internal::ConfigChanged => {
                let _ = self.reload();
            }
            Internal::OpenFailed {
                account,
                error,
                reply,
            } => self.open_failed(account, error, reply),
            Internal::Failed {
                account,
                what,
                detail,
            } => {
                warn!(%account, "{what} failed: {detail}");
                self.activity.error(ErrorRecord {
                    account,
                    state: what.to_owned(),
                    detail,
                    hint: None,
                    at: clock::rfc3339_now(),
                });
            }
        }
    }

    // --- doing ----------------------------------------------------------------------------

    fn perform(&mut self, actions: Vec<Action>) {
        for action in actions {
            let job = match action {
                Action::ShowSingle {
                    popup,
                    message,
                    account_name,
                    content,
                } => {
                    let mark_read = self
                        .config
                        .account(&message.account)
                        .is_none_or(|a| a.protocol == pushmail_core::Protocol::Imap);
                    Job::Show {
                        popup,
                        note: notes::single(&self.i18n, &account_name, &content, mark_read),
                    }
                }
                Action::ShowSummary {
                    popup,
                    account_name,
                    count,
                    names,
                    others,
                    ..
                } => Job::Show {
                    popup,
                    note: notes::summary(&self.i18n, &account_name, count, &names, others),
                },
                Action::Withdraw { popup, .. } => Job::Close { popup },
            };
            self.queue.push(job);
        }
    }

    fn set_pause(&mut self, pause: Pause) {
        let now = clock::unix_now();
        let pause = match pause {
            Pause::Until(end) if end <= now => Pause::Off,
            other => other,
        };
        info!(?pause, "pause");
        self.policy.set_pause(pause);
        let end = match pause {
            Pause::Until(end) => clock::pause_end(end, now),
            Pause::Off | Pause::Indefinite => None,
        };
        self.model.set_pause(pause, end);
        self.dirty.view = true;
    }

    fn mark_read(&self, key: MessageKey, reply: Option<oneshot::Sender<Result<(), String>>>) {
        let Some(account) = self.config.account(&key.account).cloned() else {
            if let Some(reply) = reply {
                let _ = reply.send(Err(format!("no account {:?}", key.account)));
            }
            return;
        };
        let failed = self.internal_tx.clone();
        self.tracker.spawn(async move {
            let result =
                pushmail_core::actions::mark_read(&account, &key.folder, key.uidvalidity, key.uid)
                    .await
                    .map_err(|e| e.to_string());
            info!(account = %key.account, uid = key.uid, ok = result.is_ok(), "mark as read");
            if let Err(detail) = &result {
                let _ = failed
                    .send(Internal::Failed {
                        account: key.account.clone(),
                        what: "mark_read",
                        detail: detail.clone(),
                    })
                    .await;
            }
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
        });
    }

    /// Opens `target` on a tracked task. A failure reaches `reply` when a D-Bus caller waits
    /// for the outcome, else a popup; Activity records it either way.
    fn open(&self, target: Target, account: &str, reply: Option<OpenReply>) {
        let failed = self.internal_tx.clone();
        let account = account.to_owned();
        self.tracker.spawn(async move {
            match open::open(&target).await {
                Ok(()) => {
                    if let Some(reply) = reply {
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(error) => {
                    let _ = failed
                        .send(Internal::OpenFailed {
                            account,
                            error,
                            reply,
                        })
                        .await;
                }
            }
        });
    }

    fn open_failed(&mut self, account: String, error: open::OpenError, reply: Option<OpenReply>) {
        // In the tray's language, as the popup would say it.
        let note = notes::open_failed(&self.i18n, &error);
        match reply {
            Some(reply) => {
                let _ = reply.send(Err(OpenMessageError::Failed(note.body)));
            }
            None => self.queue.push(Job::Show {
                popup: OPEN_FAILED_POPUP,
                note,
            }),
        }
        self.on_internal(Internal::Failed {
            account,
            what: "open",
            detail: error.to_string(),
        });
    }

    /// Starts the settings window ([`open::settings_args`]), on `account`'s page if given.
    ///
    /// Without an account, a window already open is left as it is. With one, the program is
    /// started even then: the settings window is single-instance on the bus, so the second
    /// process hands `--account` to the open window and exits (only the first one counts as
    /// "the window is open" here).
    /// Starts `pushmail-settings`. Always a new process: when a window is already open, the
    /// new one hands over to it on the session bus (it comes to the front, on `account`'s page
    /// if given) and exits, so a click is never lost — not even one right after the window
    /// closed, while the tray had not yet reaped the old process (a flag kept here used to
    /// swallow that click).
    fn open_settings(&self, account: Option<&str>) {
        let program = open::settings_program();
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(open::settings_args(&self.config_path, account))
            .stdin(std::process::Stdio::null())
            .process_group(0);
        match cmd.spawn() {
            Ok(mut child) => {
                let on = account.unwrap_or("");
                info!(program = %program.display(), account = on, "Settings opened");
                self.tracker.spawn(async move {
                    let _ = child.wait().await;
                });
            }
            Err(e) => warn!("cannot start {}: {e}", program.display()),
        }
    }

    fn reload(&mut self) -> Result<(), String> {
        match Config::load(&self.config_path) {
            Ok(config) => {
                info!(accounts = config.accounts.len(), "configuration reloaded");
                self.apply_config(config);
                // Only a restart gets an account out of auth_failed or signin_required; a reload
                // is when the user may have fixed the password or signed in again (Settings
                // and `pushmail-cli account login` write the keyring, then reload).
                for account in self.model.accounts() {
                    if matches!(
                        account.state,
                        Some(State::AuthFailed | State::SigninRequired)
                    ) {
                        self.engine.restart(&account.id);
                    }
                }
                Ok(())
            }
            Err(e) => {
                let message = e.to_string();
                self.config_failed(&message);
                Err(message)
            }
        }
    }

    fn config_failed(&mut self, message: &str) {
        warn!("configuration not loaded: {message}");
        self.activity.error(ErrorRecord {
            account: String::new(),
            state: "config".into(),
            detail: message.to_owned(),
            hint: None,
            at: clock::rfc3339_now(),
        });
        self.queue.push(Job::Show {
            popup: CONFIG_ERROR_POPUP,
            note: notes::config_error(&self.i18n, message),
        });
    }

    fn apply_config(&mut self, config: Config) {
        self.engine.apply(&config);
        let change = self.model.set_config(&config);
        self.dirty.view = true;
        self.dirty.accounts |= change.accounts;
        self.policy.set_rules(Rules::from_config(&config));
        self.queue.set_timeout(config.notifications.notify_timeout);
        self.activity
            .set_capacity(usize::try_from(config.notifications.history_size).unwrap_or(0));
        self.activity
            .retain_accounts(|id| config.account(id).is_some());
        self.delays
            .retain_accounts(|id| config.account(id).is_some());
        self.signin_popups
            .retain(|id, _| config.account(id).is_some());
        if config.general.language != self.config.general.language {
            self.i18n = I18n::new(config.general.language.as_str());
        }
        self.config = config;
    }

    // --- publishing -----------------------------------------------------------------------

    fn view(&self) -> View {
        let (tooltip_title, tooltip_body) = self.model.tooltip(&self.i18n);
        View {
            look: Some(self.model.look()),
            unread: self.model.total_unread(),
            title: self.i18n.tr_plain("app-name", &[]),
            tooltip_title,
            tooltip_body,
            menu: self.model.menu(&self.i18n),
        }
    }

    async fn publish(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        if dirty.view {
            let view = self.view();
            if self.last_view.as_ref() != Some(&view) {
                if let Some(tray) = &self.tray
                    && tokio::time::timeout(TRAY_UPDATE_TIMEOUT, tray.show(view.clone()))
                        .await
                        .is_err()
                {
                    warn!("the tray item did not update in time");
                }
                self.last_view = Some(view);
            }
            let pause = self.policy.pause();
            let props = Props {
                unread: self.model.total_unread(),
                paused: pause != Pause::Off,
                paused_until: match pause {
                    Pause::Until(t) => t,
                    Pause::Off | Pause::Indefinite => 0,
                },
            };
            if let Err(e) = self.publisher.set_props(props).await {
                warn!("cannot publish properties: {e}");
            }
        }
        if dirty.accounts
            && let Err(e) = self.publisher.accounts_changed().await
        {
            warn!("cannot signal AccountsChanged: {e}");
        }
    }
}

/// Watches the configuration file (size, mtime, inode: an atomic save replaces the inode).
async fn config_watch_loop(path: PathBuf, tx: mpsc::Sender<Internal>, cancel: CancellationToken) {
    let mut last = stamp(&path);
    let mut ticker = tokio::time::interval(CONFIG_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let now = stamp(&path);
        if now != last {
            last = now;
            if tx.send(Internal::ConfigChanged).await.is_err() {
                break;
            }
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn recv_signal(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
