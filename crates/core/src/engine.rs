//! The engine: one supervisor value that owns every watcher task and the event stream.
//!
//! Front ends (CLI, tray) create one [`Engine`], give it a configuration with
//! [`Engine::apply`], read [`Events`], and call [`Engine::shutdown`] to stop: cancel ("please
//! stop"), then join ("everyone has stopped"), bounded by [`SHUTDOWN_GRACE`]; a watcher still
//! running then (a LOGOUT into a dead link) is logged and left to the runtime, which drops it
//! when the front end returns.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::config::{Account, Config, Protocol};
use crate::imap::transport::TlsConfigs;
use crate::sync::state::Store;
use crate::watch::account::{AccountCtx, account_loop};
use crate::watch::budget::{Budgets, Pool};
use crate::watch::power::{self, PowerOptions};
use crate::watch::{AccountStatus, Incoming, Reporter, Wake, WakeKind};

/// Capacity of the event channel. Watchers wait when it is full (a slow consumer slows
/// announcements down; nothing is dropped).
pub const EVENT_CAPACITY: usize = 1024;

/// How long shutdown waits for watchers to log out before giving up on them (they are
/// dropped with the runtime when the front end exits).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The receiving end of the engine's event stream.
#[derive(Debug)]
pub struct Events(mpsc::Receiver<Incoming>);

impl Events {
    /// The next event; `None` once the engine has shut down. Drop the returned value when
    /// done with it: that acknowledges a `new_mail`.
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.0.recv().await
    }
}

struct Running {
    account: Account,
    cancel: CancellationToken,
    wake: Arc<Wake>,
    status: Arc<Mutex<AccountStatus>>,
    /// Cancelled when the account's loop has returned (its connection is closed).
    finished: CancellationToken,
}

/// Owns the watchers of all enabled accounts.
pub struct Engine {
    store: Store,
    tx: mpsc::Sender<Incoming>,
    tracker: TaskTracker,
    cancel: CancellationToken,
    /// Shared with the power watcher, which wakes every account from its own task.
    running: Arc<Mutex<HashMap<String, Running>>>,
    /// Connection budgets, one per server login.
    budgets: Budgets,
    /// Loops being stopped, by account id: a replacement waits for its predecessor.
    retiring: Mutex<HashMap<String, CancellationToken>>,
    /// TLS configurations shared by every account of this engine (one per `ca_file`).
    tls: Arc<TlsConfigs>,
}

impl Engine {
    /// A new engine with no accounts yet, and its event stream.
    pub fn new(store: Store) -> (Engine, Events) {
        let (tx, rx) = mpsc::channel(EVENT_CAPACITY);
        let engine = Engine {
            store,
            tx,
            tracker: TaskTracker::new(),
            cancel: CancellationToken::new(),
            running: Arc::new(Mutex::new(HashMap::new())),
            budgets: Budgets::default(),
            retiring: Mutex::new(HashMap::new()),
            tls: Arc::default(),
        };
        (engine, Events(rx))
    }

    /// Starts, stops or restarts account watchers so they match `config`. Accounts whose
    /// connection settings did not change keep their connections; if only their notification
    /// settings (name, email, mute, preview, open) changed, the new values are stored without
    /// reconnecting (see [`Account::same_connection`]). Must be called inside a tokio runtime.
    pub fn apply(&self, config: &Config) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        let wanted: HashMap<&str, &Account> = config
            .accounts
            .iter()
            .filter(|a| a.enabled)
            .map(|a| (a.id.as_str(), a))
            .collect();
        running.retain(|id, r| match wanted.get(id.as_str()) {
            Some(account) if account.same_connection(&r.account) => {
                // The watchers only use connection settings, so they keep their copy.
                if **account != r.account {
                    r.account = (*account).clone();
                }
                true
            }
            _ => {
                info!(account = %id, "stopping watcher");
                r.cancel.cancel();
                self.retire(id, r.finished.clone());
                false
            }
        });
        // Budgets follow the accounts that will run, including those about to start.
        let (pools, shrink) = self.budgets.plan(wanted.values().copied());
        for task in shrink {
            self.tracker.spawn(task);
        }
        for (id, account) in wanted {
            if running.contains_key(id) {
                continue;
            }
            let Some(pool) = pools.get(id) else { continue };
            info!(account = %id, folders = account.folders.len(), "starting watcher");
            running.insert(id.to_owned(), self.spawn_account(account, pool.clone()));
        }
    }

    /// Remembers a stopping loop so that its replacement (same id) waits until it is gone.
    fn retire(&self, id: &str, finished: CancellationToken) {
        if let Ok(mut retiring) = self.retiring.lock() {
            retiring.retain(|_, f| !f.is_cancelled());
            retiring.insert(id.to_owned(), finished);
        }
    }

    fn spawn_account(&self, account: &Account, budget: Arc<Pool>) -> Running {
        let cancel = self.cancel.child_token();
        let status = Arc::new(Mutex::new(AccountStatus::new(&account.id)));
        let reporter = Reporter::new(&account.id, self.tx.clone(), status.clone());
        let wake = Arc::new(Wake::default());
        let finished = CancellationToken::new();
        let previous = self
            .retiring
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&account.id))
            .filter(|f| !f.is_cancelled());
        let ctx = AccountCtx {
            account: Arc::new(account.clone()),
            store: self.store.clone(),
            reporter,
            wake: wake.clone(),
            cancel: cancel.clone(),
            budget,
            tls: self.tls.clone(),
            previous,
            finished: finished.clone(),
        };
        self.tracker.spawn(account_loop(ctx));
        Running {
            account: account.clone(),
            cancel,
            wake,
            status,
            finished,
        }
    }

    fn wake(&self, account: Option<&str>, kind: WakeKind) {
        wake(&self.running, account, kind);
    }

    /// "Check now": look for new mail at once on every (or one) account, skipping backoff.
    pub fn check_now(&self, account: Option<&str>) {
        self.wake(account, WakeKind::Check);
    }

    /// The user opened their mail client (from the tray, a notification or the menu), for one
    /// account or all: POP3 accounts start their count of new mail over, since POP3 cannot say
    /// what was read. IMAP accounts are not told: their count follows the server's flags.
    pub fn mail_client_opened(&self, account: Option<&str>) {
        let Ok(running) = self.running.lock() else {
            return;
        };
        for (id, r) in running.iter() {
            if account.is_none_or(|a| a == id) && r.account.protocol == Protocol::Pop3 {
                r.wake.wake(WakeKind::Opened);
            }
        }
    }

    /// The network changed or the machine resumed: rebuild every connection at once.
    pub fn network_changed(&self) {
        self.wake(None, WakeKind::Reconnect);
    }

    /// Watches for suspend/resume and network changes (logind and NetworkManager on D-Bus, and
    /// a wall-clock jump detector) and calls [`Engine::network_changed`] on each, until
    /// shutdown. One call per engine; front ends make it right after creating the engine.
    /// Must be called inside a tokio runtime.
    pub fn watch_power(&self, options: PowerOptions) {
        let running = self.running.clone();
        let on_change = move |change: power::Change| {
            info!("{change}: reconnecting every account");
            wake(&running, None, WakeKind::Reconnect);
        };
        self.tracker.spawn(power::power_loop(
            options,
            on_change,
            self.cancel.child_token(),
        ));
    }

    /// Restarts one account's watchers, e.g. after its password changed (this is the only way
    /// out of `auth_failed` besides a configuration change).
    pub fn restart(&self, account: &str) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        if let Some(r) = running.remove(account) {
            r.cancel.cancel();
            self.retire(account, r.finished.clone());
            let acc = r.account.clone();
            let (pools, shrink) = self
                .budgets
                .plan(running.values().map(|r| &r.account).chain([&acc]));
            for task in shrink {
                self.tracker.spawn(task);
            }
            if let Some(pool) = pools.get(account) {
                running.insert(account.to_owned(), self.spawn_account(&acc, pool.clone()));
            }
        }
    }

    /// Live status of every running account, sorted by id.
    pub fn status(&self) -> Vec<AccountStatus> {
        let Ok(running) = self.running.lock() else {
            return Vec::new();
        };
        let mut out: Vec<AccountStatus> = running
            .values()
            .filter_map(|r| r.status.lock().ok().map(|s| s.clone()))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Cancels every watcher and waits (at most [`SHUTDOWN_GRACE`]) for them to finish.
    /// Keep reading [`Events`] meanwhile, or watchers blocked on a full channel cannot finish.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("watchers did not stop in time");
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

fn wake(running: &Mutex<HashMap<String, Running>>, account: Option<&str>, kind: WakeKind) {
    let Ok(running) = running.lock() else {
        return;
    };
    for (id, r) in running.iter() {
        if account.is_none_or(|a| a == id) {
            r.wake.wake(kind);
        }
    }
}
