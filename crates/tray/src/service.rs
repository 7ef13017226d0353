//! The D-Bus control service, exactly as documented in `docs/dbus.md`: name
//! `io.github.pushmail.Pushmail`, object `/io/github/pushmail/Pushmail`, interface
//! `io.github.pushmail.Pushmail1`.
//!
//! Methods validate their arguments and forward a [`Command`] to the app's loop, which owns
//! all state; answers come back on a oneshot channel. The interface itself holds only the
//! values of its properties, behind a plain mutex the loop updates, so a method call waiting for
//! the loop never blocks the loop (which would deadlock on zbus's interface lock).

use std::sync::{Arc, Mutex};

use pushmail_core::notify::policy::{MessageKey, Pause};
use tokio::sync::{mpsc, oneshot};
use zbus::object_server::SignalEmitter;
use zbus::{Connection, fdo, interface};

use crate::model::AccountRow;

/// A row of `GetDelays`: account id, median delay in ms, how many messages it is the median
/// of (0: no figure).
pub type DelayRow = (String, u32, u32);

pub use pushmail_core::control::{INTERFACE, NAME, PATH};

/// What a method asks the app to do.
#[derive(Debug)]
pub enum Request {
    GetAccounts(oneshot::Sender<Vec<AccountRow>>),
    GetActivity(oneshot::Sender<String>),
    GetDelays(oneshot::Sender<Vec<DelayRow>>),
    /// `None` = every account. Answers `false` for an unknown account.
    CheckNow(Option<String>, oneshot::Sender<bool>),
    Pause(Pause),
    Resume,
    MarkRead(MessageKey, oneshot::Sender<Result<(), String>>),
    /// Open one announced message as its popup's "Open" does.
    OpenMessage {
        account: String,
        message_id: String,
        reply: OpenReply,
    },
    Reload(oneshot::Sender<Result<(), String>>),
    OpenSettings,
    Quit,
}

/// The answer to [`Request::OpenMessage`], once the target was started (or could not be).
pub type OpenReply = oneshot::Sender<Result<(), OpenMessageError>>;

/// Why `OpenMessage` opened nothing.
#[derive(Debug)]
pub enum OpenMessageError {
    /// No configured account has that id.
    NoAccount,
    /// The mail client, browser or command could not be started: a sentence in the tray's
    /// language, as the "could not open" popup says it.
    Failed(String),
}

/// The values of the read-only properties.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Props {
    pub unread: u32,
    pub paused: bool,
    pub paused_until: i64,
}

pub struct Control {
    tx: mpsc::Sender<Request>,
    props: Arc<Mutex<Props>>,
}

impl Control {
    pub fn new(tx: mpsc::Sender<Request>, props: Arc<Mutex<Props>>) -> Control {
        Control { tx, props }
    }

    async fn send(&self, r: Request) -> fdo::Result<()> {
        self.tx
            .send(r)
            .await
            .map_err(|_| fdo::Error::Failed("Pushmail is shutting down".into()))
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> fdo::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx)).await?;
        rx.await
            .map_err(|_| fdo::Error::Failed("Pushmail is shutting down".into()))
    }

    fn props(&self) -> Props {
        self.props.lock().map(|p| *p).unwrap_or_default()
    }
}

#[interface(name = "io.github.pushmail.Pushmail1")]
impl Control {
    /// Every configured account: (id, display name, state, detail, unread).
    async fn get_accounts(&self) -> fdo::Result<Vec<AccountRow>> {
        self.ask(Request::GetAccounts).await
    }

    /// Total unread across accounts and watched folders.
    async fn get_unread_count(&self) -> u32 {
        self.props().unread
    }

    /// Look for new mail now, skipping any backoff; "" = every account.
    async fn check_now(&self, account: String) -> fdo::Result<()> {
        let which = (!account.is_empty()).then(|| account.clone());
        if self.ask(|tx| Request::CheckNow(which, tx)).await? {
            Ok(())
        } else {
            Err(fdo::Error::InvalidArgs(format!("no account {account:?}")))
        }
    }

    /// Pause popups for `seconds` (0 = until resumed).
    async fn pause(&self, seconds: u32) -> fdo::Result<()> {
        let pause = if seconds == 0 {
            Pause::Indefinite
        } else {
            Pause::Until(crate::clock::unix_now() + i64::from(seconds))
        };
        self.send(Request::Pause(pause)).await
    }

    async fn resume(&self) -> fdo::Result<()> {
        self.send(Request::Resume).await
    }

    /// Set \Seen on that message on the server.
    async fn mark_read(
        &self,
        account: String,
        folder: String,
        uidvalidity: u32,
        uid: u32,
    ) -> fdo::Result<()> {
        let key = MessageKey {
            account,
            folder,
            uidvalidity,
            uid,
        };
        self.ask(|tx| Request::MarkRead(key, tx))
            .await?
            .map_err(fdo::Error::Failed)
    }

    /// Open one message of Activity as "Open" on its popup does: the account's target, made to
    /// open that message where it can (`open::message_target`). Returns once it was started.
    async fn open_message(&self, account: String, message_id: String) -> fdo::Result<()> {
        let asked = account.clone();
        let outcome = self
            .ask(|reply| Request::OpenMessage {
                account,
                message_id,
                reply,
            })
            .await?;
        outcome.map_err(|e| match e {
            OpenMessageError::NoAccount => fdo::Error::InvalidArgs(format!("no account {asked:?}")),
            OpenMessageError::Failed(why) => fdo::Error::Failed(why),
        })
    }

    /// Re-read the configuration file.
    async fn reload(&self) -> fdo::Result<()> {
        self.ask(Request::Reload).await?.map_err(fdo::Error::Failed)
    }

    async fn open_settings(&self) -> fdo::Result<()> {
        self.send(Request::OpenSettings).await
    }

    /// JSON: recent notifications and each account's last error, newest first.
    async fn get_activity(&self) -> fdo::Result<String> {
        self.ask(Request::GetActivity).await
    }

    /// Per account, in the configuration's order: (id, median ms from a message reaching the
    /// server to its announcement over the last day, how many messages; 0 = no figure).
    async fn get_delays(&self) -> fdo::Result<Vec<DelayRow>> {
        self.ask(Request::GetDelays).await
    }

    async fn quit(&self) -> fdo::Result<()> {
        self.send(Request::Quit).await
    }

    #[zbus(property)]
    async fn unread_count(&self) -> u32 {
        self.props().unread
    }

    #[zbus(property)]
    async fn paused(&self) -> bool {
        self.props().paused
    }

    #[zbus(property)]
    async fn paused_until(&self) -> i64 {
        self.props().paused_until
    }

    #[zbus(signal)]
    pub async fn accounts_changed(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    pub async fn unread_changed(emitter: &SignalEmitter<'_>, total: u32) -> zbus::Result<()>;

    #[zbus(signal)]
    pub async fn new_mail(
        emitter: &SignalEmitter<'_>,
        account: &str,
        folder: &str,
        uid: u32,
        from: &str,
        subject: &str,
    ) -> zbus::Result<()>;
}

/// Publishes property changes and signals from the app's loop.
#[derive(Clone)]
pub struct Publisher {
    conn: Connection,
    props: Arc<Mutex<Props>>,
}

impl Publisher {
    pub fn new(conn: Connection, props: Arc<Mutex<Props>>) -> Publisher {
        Publisher { conn, props }
    }

    fn emitter(&self) -> zbus::Result<SignalEmitter<'static>> {
        SignalEmitter::new(&self.conn, PATH).map(SignalEmitter::into_owned)
    }

    /// Sets the properties; emits `PropertiesChanged` (and `UnreadChanged`) for what changed.
    pub async fn set_props(&self, new: Props) -> zbus::Result<()> {
        let old = match self.props.lock() {
            Ok(mut p) => std::mem::replace(&mut *p, new),
            Err(_) => return Ok(()),
        };
        if old == new {
            return Ok(());
        }
        let iface = self
            .conn
            .object_server()
            .interface::<_, Control>(PATH)
            .await?;
        let control = iface.get().await;
        let emitter = iface.signal_emitter();
        if old.unread != new.unread {
            control.unread_count_changed(emitter).await?;
            Control::unread_changed(emitter, new.unread).await?;
        }
        if old.paused != new.paused {
            control.paused_changed(emitter).await?;
        }
        if old.paused_until != new.paused_until {
            control.paused_until_changed(emitter).await?;
        }
        Ok(())
    }

    pub async fn accounts_changed(&self) -> zbus::Result<()> {
        Control::accounts_changed(&self.emitter()?).await
    }

    pub async fn new_mail(
        &self,
        account: &str,
        folder: &str,
        uid: u32,
        from: &str,
        subject: &str,
    ) -> zbus::Result<()> {
        Control::new_mail(&self.emitter()?, account, folder, uid, from, subject).await
    }
}

/// Outcome of claiming the bus name.
pub enum Claim {
    /// We own the name and serve the interface.
    Owner(Connection),
    /// Another `pushmail` runs; it was asked to open Settings.
    AlreadyRunning,
}

/// Connects to the session bus, serves the interface, and claims the well-known name without
/// queueing: owning it is the single-instance lock. If another instance owns it, asks that
/// one to open Settings.
pub async fn claim(control: Control) -> anyhow::Result<Claim> {
    use anyhow::Context as _;
    let conn = zbus::connection::Builder::session()
        .context("Cannot reach the D-Bus session bus")?
        .serve_at(PATH, control)
        .context("Cannot serve the control interface")?
        .build()
        .await
        .context("Cannot connect to the D-Bus session bus")?;
    let reply = conn
        .request_name_with_flags(NAME, zbus::fdo::RequestNameFlags::DoNotQueue.into())
        .await;
    match reply {
        Ok(fdo::RequestNameReply::PrimaryOwner | fdo::RequestNameReply::AlreadyOwner) => {
            Ok(Claim::Owner(conn))
        }
        Ok(fdo::RequestNameReply::Exists | fdo::RequestNameReply::InQueue)
        | Err(zbus::Error::NameTaken) => {
            conn.call_method(Some(NAME), PATH, Some(INTERFACE), "OpenSettings", &())
                .await
                .context("Another Pushmail is running but did not answer")?;
            Ok(Claim::AlreadyRunning)
        }
        Err(e) => Err(e).context("Cannot claim the Pushmail bus name"),
    }
}
