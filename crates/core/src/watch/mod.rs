//! Per-account watching: wake-ups, state aggregation and reporting. The loop itself is in
//! [`account`] (one connection per account, whatever the number of folders); how it watches is
//! chosen by [`strategy`]; the connection budget is [`budget`]; the pure pacing policy is in
//! [`backoff`].

pub(crate) mod account;
pub mod backoff;
pub(crate) mod budget;
mod conn;
pub(crate) mod memory;
mod pop3;
pub mod power;
pub mod strategy;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc, oneshot};

use crate::error::ConnectError;
use crate::event::{Event, NewMail, State};

/// What a wake-up asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WakeKind {
    /// "Check now": look for changes on the existing connection; skip any backoff wait.
    Check,
    /// The network changed or the machine resumed: the connection is suspect, rebuild it.
    Reconnect,
    /// The user opened their mail client: a POP3 account's count of new mail starts over
    /// (POP3 cannot tell what was read). Nothing is checked for it.
    Opened,
}

/// A one-slot wake-up for an account loop. `Notify` keeps one permit when nobody waits, so a
/// wake-up sent while the loop is busy is seen at its next wait — none is lost.
#[derive(Debug, Default)]
pub(crate) struct Wake {
    notify: Notify,
    reconnect: AtomicBool,
    check: AtomicBool,
    opened: AtomicBool,
}

impl Wake {
    pub fn wake(&self, kind: WakeKind) {
        let flag = match kind {
            WakeKind::Check => &self.check,
            WakeKind::Reconnect => &self.reconnect,
            WakeKind::Opened => &self.opened,
        };
        flag.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// The strongest wake-up pending: a reconnect covers a check. `Opened` only when nothing
    /// else is pending; a caller that acts on it also calls [`Wake::take_opened`] after any
    /// other kind, since one permit can stand for several wake-ups.
    pub async fn notified(&self) -> WakeKind {
        loop {
            self.notify.notified().await;
            if self.reconnect.swap(false, Ordering::SeqCst) {
                self.check.store(false, Ordering::SeqCst);
                return WakeKind::Reconnect;
            }
            if self.check.swap(false, Ordering::SeqCst) {
                return WakeKind::Check;
            }
            if self.opened.load(Ordering::SeqCst) {
                return WakeKind::Opened;
            }
            // A permit whose flags were taken by an earlier wake-up: nothing to do.
        }
    }

    /// Whether the mail client was opened since the last call.
    pub fn take_opened(&self) -> bool {
        self.opened.swap(false, Ordering::SeqCst)
    }
}

/// An event from the engine. Dropping it acknowledges it: for `new_mail`, the watcher records
/// the message as announced only after the consumer is done with it, so a crash in between
/// repeats that one message instead of losing it.
#[derive(Debug)]
pub struct Incoming {
    event: Event,
    _ack: Option<oneshot::Sender<()>>,
}

impl Incoming {
    pub fn event(&self) -> &Event {
        &self.event
    }
}

impl std::ops::Deref for Incoming {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

/// Live status of one account, for front ends that re-query instead of replaying events.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AccountStatus {
    pub id: String,
    pub state: State,
    /// What is wrong, as data: each front end writes it in its reader's language.
    pub problem: Option<ConnectError>,
    /// The problem in English, "what — hint" (logs, scripts).
    pub detail: Option<String>,
    /// Unread count per watched folder.
    pub unread: BTreeMap<String, u32>,
}

impl AccountStatus {
    pub fn new(id: &str) -> Self {
        AccountStatus {
            id: id.to_owned(),
            state: State::Stopped,
            problem: None,
            detail: None,
            unread: BTreeMap::new(),
        }
    }

    pub fn total_unread(&self) -> u32 {
        self.unread
            .values()
            .copied()
            .fold(0u32, u32::saturating_add)
    }
}

#[derive(Debug, Default)]
struct Folders {
    states: BTreeMap<String, (State, Option<ConnectError>)>,
}

/// Reports one account's events and keeps its [`AccountStatus`] current.
#[derive(Clone, Debug)]
pub(crate) struct Reporter {
    account: String,
    tx: mpsc::Sender<Incoming>,
    status: Arc<Mutex<AccountStatus>>,
    folders: Arc<Mutex<Folders>>,
}

impl Reporter {
    pub fn new(
        account: &str,
        tx: mpsc::Sender<Incoming>,
        status: Arc<Mutex<AccountStatus>>,
    ) -> Self {
        Reporter {
            account: account.to_owned(),
            tx,
            status,
            folders: Arc::default(),
        }
    }

    async fn send(&self, event: Event) {
        // A closed channel means the front end is shutting down; nothing left to tell.
        let _ = self.tx.send(Incoming { event, _ack: None }).await;
    }

    /// Sends `new_mail` and waits until the consumer has handled (dropped) it.
    pub async fn new_mail(&self, mail: NewMail) {
        let (ack, done) = oneshot::channel();
        if self
            .tx
            .send(Incoming {
                event: Event::NewMail(mail),
                _ack: Some(ack),
            })
            .await
            .is_ok()
        {
            let _ = done.await;
        }
    }

    pub async fn unread(&self, folder: &str, count: u32) {
        if let Ok(mut s) = self.status.lock() {
            s.unread.insert(folder.to_owned(), count);
        }
        self.send(Event::Unread {
            account: self.account.clone(),
            folder: folder.to_owned(),
            count,
        })
        .await;
    }

    pub async fn seen(&self, folder: &str, uid: u32) {
        self.send(Event::Seen {
            account: self.account.clone(),
            folder: folder.to_owned(),
            uid,
        })
        .await;
    }

    /// Records a folder's state; emits the account's state when the aggregate (the worst
    /// folder) changes.
    pub async fn state(&self, folder: &str, state: State, problem: Option<ConnectError>) {
        let aggregate = {
            let Ok(mut f) = self.folders.lock() else {
                return;
            };
            f.states.insert(folder.to_owned(), (state, problem));
            f.states.values().max_by_key(|(s, _)| *s).cloned()
        };
        let Some((state, problem)) = aggregate else {
            return;
        };
        let changed = match self.status.lock() {
            Ok(mut s) if s.state != state || s.problem != problem => {
                s.state = state;
                s.detail = problem.as_ref().map(ConnectError::detail);
                s.problem = problem.clone();
                true
            }
            _ => false,
        };
        if changed {
            self.send(Event::State {
                account: self.account.clone(),
                state,
                detail: problem.as_ref().map(ConnectError::detail),
                problem,
            })
            .await;
        }
    }
}
