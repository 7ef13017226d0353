//! Popups through the freedesktop notification service (`org.freedesktop.Notifications`), on a
//! task of their own so that a missing, slow or hung daemon never holds up anything else.
//!
//! The rest of the tray hands over [`Job`]s with [`Queue::push`], which never waits. The queue
//! coalesces: a newer version of a popup replaces one still waiting, and a popup withdrawn
//! before it was shown is never shown. Every call to the daemon is bounded by
//! `notify_timeout`. The daemon's answers (an action clicked, a popup closed) come back as
//! [`PopupEvent`]s.
//!
//! Why not notify-rust: it opens a new bus connection for every popup (and another per action
//! listener), uses zbus 6 next to the zbus 5 the rest of the process already has, and its
//! listeners match a notification id only after the fact. One connection, one signal stream
//! and a map of ids is simpler and lighter.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use pushmail_core::notify::policy::PopupId;
use tokio::sync::{Notify, mpsc};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use zbus::zvariant::{Structure, Value};
use zbus::{Connection, MatchRule, MessageStream};

use crate::badge;
use crate::model::Look;
use crate::notes::Note;

/// The notification service's path and interface (Desktop Notifications Specification 1.2).
pub const PATH: &str = "/org/freedesktop/Notifications";
pub const INTERFACE: &str = "org.freedesktop.Notifications";

/// Identifies Pushmail to the daemon as the app name.
pub const APP_NAME: &str = "pushmail";
/// The `desktop-entry` hint and the app icon: the installed launcher's id (without
/// `.desktop`) and icon name, so daemons group the popups under Pushmail and show its icon.
pub const DESKTOP_ENTRY: &str = pushmail_core::desktop::APP_ID;
/// The sound-naming-spec name for new mail.
pub const SOUND_NEW_MAIL: &str = "message-new-email";

/// Jobs waiting beyond this are dropped oldest first: by then the daemon is not keeping up
/// and the newest news matters most. (Coalescing keeps the queue short in normal use.)
pub const MAX_QUEUED: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    Show { popup: PopupId, note: Note },
    Close { popup: PopupId },
}

/// What the daemon said about one of our popups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PopupEvent {
    Action { popup: PopupId, key: String },
    Closed { popup: PopupId },
}

/// The hand-over point between the tray and the notifier task.
#[derive(Debug)]
pub struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    wake: Notify,
    timeout: Mutex<Duration>,
}

impl Queue {
    pub fn new(notify_timeout: Duration) -> Arc<Queue> {
        Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            timeout: Mutex::new(notify_timeout),
        })
    }

    pub fn set_timeout(&self, t: Duration) {
        if let Ok(mut guard) = self.timeout.lock() {
            *guard = t;
        }
    }

    fn timeout(&self) -> Duration {
        self.timeout
            .lock()
            .map(|t| *t)
            .unwrap_or(Duration::from_secs(5))
    }

    /// Queues a job without waiting. See the module docs for how jobs coalesce.
    pub fn push(&self, job: Job) {
        let Ok(mut q) = self.jobs.lock() else {
            return;
        };
        match &job {
            Job::Show { popup, .. } => {
                let popup = *popup;
                if let Some(slot) = q
                    .iter_mut()
                    .find(|j| matches!(j, Job::Show { popup: p, .. } if *p == popup))
                {
                    *slot = job;
                    self.wake.notify_one();
                    return;
                }
            }
            Job::Close { popup } => {
                let popup = *popup;
                q.retain(|j| !matches!(j, Job::Show { popup: p, .. } if *p == popup));
            }
        }
        q.push_back(job);
        while q.len() > MAX_QUEUED {
            let Some(i) = q.iter().position(|j| matches!(j, Job::Show { .. })) else {
                break;
            };
            q.remove(i);
            warn!("notification daemon is not keeping up; dropped a popup");
        }
        self.wake.notify_one();
    }

    fn pop(&self) -> Option<Job> {
        self.jobs.lock().ok().and_then(|mut q| q.pop_front())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.jobs.lock().map(|q| q.len()).unwrap_or(0)
    }
}

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications",
    gen_blocking = false
)]
trait Notifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    fn close_notification(&self, id: u32) -> zbus::Result<()>;

    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;
}

/// The icon sent with every popup as `image-data`, so it shows without an installed theme icon.
const POPUP_ICON_SIZE: u32 = 48;

fn image_data() -> Value<'static> {
    let img = badge::render(Look::Unread, 0, POPUP_ICON_SIZE);
    let side = i32::try_from(img.width).unwrap_or(0);
    Value::from(Structure::from((
        side,
        side,
        side * 4,
        true,
        8i32,
        4i32,
        img.rgba,
    )))
}

/// Shows and closes popups, and reports the daemon's signals, until cancelled.
pub async fn notifier_loop(
    conn: Connection,
    queue: Arc<Queue>,
    events: mpsc::Sender<PopupEvent>,
    cancel: CancellationToken,
) {
    let mut n = Notifier {
        proxy: None,
        conn: conn.clone(),
        markup: None,
        daemon_ids: HashMap::new(),
        popups: HashMap::new(),
        icon: image_data(),
    };
    // Signals are matched by interface and member only: a notification daemon that restarts
    // gets a new unique name, and our ids are checked against the map anyway.
    let mut signals = match signal_stream(&conn).await {
        Ok(s) => Some(s),
        Err(e) => {
            warn!("cannot listen to notification signals: {e}");
            None
        }
    };
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            msg = async {
                match signals.as_mut() {
                    Some(s) => s.next().await,
                    None => std::future::pending().await,
                }
            } => {
                match msg {
                    Some(Ok(msg)) => {
                        if let Some(ev) = n.on_signal(&msg) {
                            let _ = events.try_send(ev);
                        }
                    }
                    Some(Err(e)) => debug!("bad notification signal: {e}"),
                    None => signals = None,
                }
            }
            _ = queue.wake.notified() => {
                while let Some(job) = queue.pop() {
                    if cancel.is_cancelled() {
                        break;
                    }
                    n.perform(job, queue.timeout()).await;
                }
            }
        }
    }
}

async fn signal_stream(
    conn: &Connection,
) -> zbus::Result<futures::stream::Select<MessageStream, MessageStream>> {
    let rule = |member: &'static str| -> zbus::Result<MatchRule<'static>> {
        Ok(MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(INTERFACE)?
            .member(member)?
            .path(PATH)?
            .build())
    };
    let actions = MessageStream::for_match_rule(rule("ActionInvoked")?, conn, Some(64)).await?;
    let closed = MessageStream::for_match_rule(rule("NotificationClosed")?, conn, Some(64)).await?;
    Ok(futures::stream::select(actions, closed))
}

struct Notifier {
    proxy: Option<NotificationsProxy<'static>>,
    conn: Connection,
    /// Whether the daemon renders body markup; asked once, again after a failure.
    markup: Option<bool>,
    daemon_ids: HashMap<u32, PopupId>,
    popups: HashMap<PopupId, u32>,
    icon: Value<'static>,
}

impl Notifier {
    async fn proxy(&mut self) -> zbus::Result<NotificationsProxy<'static>> {
        if let Some(p) = &self.proxy {
            return Ok(p.clone());
        }
        let p = NotificationsProxy::builder(&self.conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        self.proxy = Some(p.clone());
        Ok(p)
    }

    async fn perform(&mut self, job: Job, limit: Duration) {
        let result = timeout(limit, self.perform_inner(&job)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                self.markup = None;
                warn!("notification daemon refused: {e}");
            }
            Err(_) => {
                self.markup = None;
                warn!(
                    limit_ms = limit.as_millis() as u64,
                    "notification daemon did not answer in time"
                );
            }
        }
    }

    async fn perform_inner(&mut self, job: &Job) -> zbus::Result<()> {
        let proxy = self.proxy().await?;
        match job {
            Job::Show { popup, note } => {
                let markup = match self.markup {
                    Some(m) => m,
                    None => {
                        let caps = proxy.get_capabilities().await?;
                        let m = caps.iter().any(|c| c == "body-markup");
                        self.markup = Some(m);
                        m
                    }
                };
                let body = note.body_for(markup);
                let actions: Vec<&str> = note
                    .actions
                    .iter()
                    .flat_map(|(k, l)| [k.as_str(), l.as_str()])
                    .collect();
                let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
                hints.insert("category", Value::from(note.category));
                hints.insert("desktop-entry", Value::from(DESKTOP_ENTRY));
                hints.insert("urgency", Value::from(note.urgency));
                hints.insert("image-data", self.icon.try_clone()?);
                if note.sound {
                    hints.insert("sound-name", Value::from(SOUND_NEW_MAIL));
                }
                let replaces = self.popups.get(popup).copied().unwrap_or(0);
                let id = proxy
                    .notify(
                        APP_NAME,
                        replaces,
                        DESKTOP_ENTRY,
                        &note.summary,
                        &body,
                        &actions,
                        hints,
                        -1,
                    )
                    .await?;
                if replaces != 0 && replaces != id {
                    self.daemon_ids.remove(&replaces);
                }
                self.popups.insert(*popup, id);
                self.daemon_ids.insert(id, *popup);
                debug!(popup = popup.0, id, "popup shown");
            }
            Job::Close { popup } => {
                if let Some(id) = self.popups.remove(popup) {
                    self.daemon_ids.remove(&id);
                    proxy.close_notification(id).await?;
                    debug!(popup = popup.0, id, "popup withdrawn");
                }
            }
        }
        Ok(())
    }

    fn on_signal(&mut self, msg: &zbus::Message) -> Option<PopupEvent> {
        let header = msg.header();
        match header.member()?.as_str() {
            "ActionInvoked" => {
                let (id, key): (u32, String) = msg.body().deserialize().ok()?;
                let popup = *self.daemon_ids.get(&id)?;
                Some(PopupEvent::Action { popup, key })
            }
            "NotificationClosed" => {
                let (id, _reason): (u32, u32) = msg.body().deserialize().ok()?;
                let popup = self.daemon_ids.remove(&id)?;
                self.popups.remove(&popup);
                Some(PopupEvent::Closed { popup })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::notes::CATEGORY_NEW_MAIL;

    fn note(s: &str) -> Note {
        Note {
            summary: s.into(),
            body: String::new(),
            actions: Vec::new(),
            category: CATEGORY_NEW_MAIL,
            sound: true,
            urgency: 1,
        }
    }

    #[test]
    fn newer_versions_of_a_popup_replace_waiting_ones() {
        let q = Queue::new(Duration::from_secs(1));
        q.push(Job::Show {
            popup: PopupId(1),
            note: note("1 new"),
        });
        q.push(Job::Show {
            popup: PopupId(2),
            note: note("other"),
        });
        q.push(Job::Show {
            popup: PopupId(1),
            note: note("5 new"),
        });
        assert_eq!(q.len(), 2);
        assert_eq!(
            q.pop(),
            Some(Job::Show {
                popup: PopupId(1),
                note: note("5 new")
            })
        );
    }

    #[test]
    fn a_popup_withdrawn_before_it_was_shown_is_never_shown() {
        let q = Queue::new(Duration::from_secs(1));
        q.push(Job::Show {
            popup: PopupId(1),
            note: note("x"),
        });
        q.push(Job::Close { popup: PopupId(1) });
        assert_eq!(q.pop(), Some(Job::Close { popup: PopupId(1) }));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn the_queue_is_bounded() {
        let q = Queue::new(Duration::from_secs(1));
        for i in 0..1000 {
            q.push(Job::Show {
                popup: PopupId(i),
                note: note("x"),
            });
        }
        assert_eq!(q.len(), MAX_QUEUED);
        // The newest survive.
        let mut last = None;
        while let Some(Job::Show { popup, .. }) = q.pop() {
            last = Some(popup);
        }
        assert_eq!(last, Some(PopupId(999)));
    }
}
