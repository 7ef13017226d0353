//! One watched folder: connect, log in, select, announce, then wait for changes with IDLE (or
//! by polling where the server has no IDLE), forever, with backoff between sessions.
//!
//! Lifecycle: `folder_loop` owns the retry policy; `Watch` is one session on one connection.
//! Every network wait is bounded by a configured timeout, and every wait also listens for the
//! account's wake-up (Check now, network changed) and for cancellation.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use imap_proto::{MailboxDatum, Response};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tracing::{debug, info, warn};

use super::backoff::{Backoff, LoginLimiter};
use super::{Reporter, Wake, WakeKind};
use crate::config::Account;
use crate::error::ConnectError;
use crate::event::{NewMail, State};
use crate::imap::headers::{self, HEADER_FETCH};
use crate::imap::login::{LoggedIn, login};
use crate::imap::transport::{self, MailStream, has};
use crate::secret;
use crate::sync::decide::{self, Candidate, Reconcile};
use crate::sync::state::Store;
use crate::text::truncate_for_log;

/// Everything a folder loop needs; owned by the loop.
pub(crate) struct FolderCtx {
    pub account: Arc<Account>,
    pub folder: String,
    pub store: Store,
    pub reporter: Reporter,
    pub wake: Arc<Wake>,
    pub cancel: tokio_util::sync::CancellationToken,
}

/// Why a session ended.
enum End {
    /// Cancelled: the loop returns.
    Stopped,
    /// The network changed or the user asked: reconnect at once, no backoff.
    Reconnect,
    /// Something failed. `watched` says whether the session got as far as watching.
    Failed { error: ConnectError, watched: bool },
}

impl From<ConnectError> for End {
    fn from(error: ConnectError) -> Self {
        End::Failed {
            error,
            watched: false,
        }
    }
}

/// The per-folder supervisor: sessions, backoff, login cap, state reports.
pub(crate) async fn folder_loop(ctx: FolderCtx) {
    let t = ctx.account.timing.clone();
    let mut backoff = Backoff::new(t.backoff_min, t.backoff_max);
    let mut limiter = LoginLimiter::new(t.max_logins_per_minute);
    let mut delay = Duration::ZERO;
    loop {
        if !delay.is_zero() {
            // A wake-up (Check now, network back) skips the backoff wait.
            tokio::select! {
                _ = ctx.cancel.cancelled() => break,
                _ = sleep(delay) => {}
                _ = ctx.wake.notified() => {}
            }
        }
        // The login cap is not skippable: it is what keeps a flapping server from a busy loop.
        let cap = limiter.wait(Instant::now());
        if !cap.is_zero() {
            debug!(account = %ctx.account.id, folder = %ctx.folder, wait_ms = cap.as_millis() as u64, "login cap reached");
            tokio::select! {
                _ = ctx.cancel.cancelled() => break,
                _ = sleep(cap) => {}
            }
        }
        ctx.reporter
            .state(&ctx.folder, State::Connecting, None)
            .await;
        let end = tokio::select! {
            _ = ctx.cancel.cancelled() => End::Stopped,
            end = session(&ctx, &mut limiter) => end,
        };
        match end {
            End::Stopped => break,
            End::Reconnect => {
                backoff.reset();
                delay = Duration::ZERO;
            }
            End::Failed { error, watched } => {
                if watched {
                    backoff.reset();
                }
                let detail = format!("{error} — {}", error.hint());
                if let ConnectError::Auth(_) = error {
                    // No further LOGIN until the configuration or password changes (the engine
                    // restarts this loop then). Retrying a wrong password gets accounts locked.
                    warn!(account = %ctx.account.id, "login rejected; stopping until the account changes");
                    ctx.reporter
                        .state(&ctx.folder, State::AuthFailed, Some(detail))
                        .await;
                    ctx.cancel.cancelled().await;
                    break;
                }
                let jitter: f64 = rand::random();
                delay = backoff.next_delay(jitter);
                if let ConnectError::Throttled(_) = error {
                    delay = delay.max(t.throttle_backoff);
                }
                let state = if error.is_permanent() {
                    State::Error
                } else {
                    State::Backoff
                };
                info!(account = %ctx.account.id, folder = %ctx.folder, retry_in_ms = delay.as_millis() as u64, "session ended: {error}");
                ctx.reporter.state(&ctx.folder, state, Some(detail)).await;
            }
        }
    }
    ctx.reporter.state(&ctx.folder, State::Stopped, None).await;
}

async fn session(ctx: &FolderCtx, limiter: &mut LoginLimiter) -> End {
    let account = &ctx.account;
    let password = match secret::password(account).await {
        Ok(p) => p,
        Err(e) => return ConnectError::Secret(e).into(),
    };
    let greeted = match transport::connect(account).await {
        Ok(g) => g,
        Err(e) => return e.into(),
    };
    let logged_in = match login(
        greeted,
        &account.username,
        &password,
        account.timing.command_timeout,
    )
    .await
    {
        Ok(l) => l,
        Err(e) => return e.into(),
    };
    drop(password);
    limiter.record(Instant::now());
    let mut watch = Watch::new(ctx, logged_in);
    let end = watch.run().await;
    if let Some(mut s) = watch.session.take() {
        // Be polite when we chose to leave. A dead link gets no LOGOUT, and neither does one
        // we reconnect because the network changed: it is suspect, and a LOGOUT into a dead
        // link would hold the reconnect up by its whole timeout.
        if matches!(end, End::Stopped) {
            let _ = timeout(Duration::from_secs(2), s.logout()).await;
        }
    }
    end
}

/// One session on one connection with one folder selected.
struct Watch<'a> {
    ctx: &'a FolderCtx,
    session: Option<Session<MailStream>>,
    idle: bool,
    uidvalidity: u32,
    watermark: u32,
    /// UIDs currently unread, from the last `UID SEARCH UNSEEN`.
    unseen: HashSet<u32>,
    /// Announced and still unread: a drop from `unseen` produces a `seen` event.
    announced: HashSet<u32>,
    last_unread: Option<u32>,
    watched: bool,
}

/// What ended one IDLE round.
enum IdleEnd {
    /// The server reported a change (or may have: EXISTS, EXPUNGE, FETCH, RECENT).
    Changed,
    /// Time to re-issue IDLE (refresh, or a silent link that answered DONE).
    Refresh,
    Woken(WakeKind),
    Stopped,
}

impl<'a> Watch<'a> {
    fn new(ctx: &'a FolderCtx, li: LoggedIn) -> Self {
        let idle = has(&li.capabilities, "IDLE");
        Watch {
            ctx,
            session: Some(li.session),
            idle,
            uidvalidity: 0,
            watermark: 0,
            unseen: HashSet::new(),
            announced: HashSet::new(),
            last_unread: None,
            watched: false,
        }
    }

    fn fail(&self, error: ConnectError) -> End {
        End::Failed {
            error,
            watched: self.watched,
        }
    }

    fn session(&mut self) -> Result<&mut Session<MailStream>, End> {
        let watched = self.watched;
        self.session.as_mut().ok_or(End::Failed {
            error: ConnectError::Protocol("session lost".into()),
            watched,
        })
    }

    async fn run(&mut self) -> End {
        match self.run_inner().await {
            Ok(()) => End::Stopped,
            Err(end) => end,
        }
    }

    async fn run_inner(&mut self) -> Result<(), End> {
        let ctx = self.ctx;
        let (account, folder) = (&ctx.account.id, &ctx.folder);
        self.select_and_reconcile().await?;
        self.watched = true;
        let state = if self.idle {
            State::Push
        } else {
            State::Polling
        };
        ctx.reporter.state(folder, state, None).await;
        info!(account = %account, folder = %folder, idle = self.idle, "watching");
        let mut dirty = false;
        loop {
            dirty |= self.drain_unsolicited()?;
            if dirty {
                dirty = false;
                self.announce_new(false).await?;
                self.sync_unseen().await?;
                continue;
            }
            if self.ctx.cancel.is_cancelled() {
                return Ok(());
            }
            let outcome = if self.idle {
                self.idle_round().await?
            } else {
                self.poll_wait().await
            };
            match outcome {
                IdleEnd::Changed => dirty = true,
                IdleEnd::Refresh => {}
                IdleEnd::Woken(WakeKind::Check) => {
                    // NOOP first: a dead link shows here, and the server flushes pending changes.
                    let (watched, limit) = (self.watched, self.ctx.account.timing.command_timeout);
                    let s = self.session()?;
                    let fut = s.noop();
                    cmd(limit, watched, "checking the connection", fut).await?;
                    dirty = true;
                }
                IdleEnd::Woken(WakeKind::Reconnect) => return Err(End::Reconnect),
                IdleEnd::Stopped => return Ok(()),
            }
        }
    }

    async fn select_and_reconcile(&mut self) -> Result<(), End> {
        let ctx = self.ctx;
        let (account, folder) = (ctx.account.id.as_str(), ctx.folder.as_str());
        let (watched, limit) = (self.watched, self.ctx.account.timing.command_timeout);
        let s = self.session()?;
        // The config's name is decoded UTF-8; the server wants modified UTF-7.
        let fut = crate::imap::mailbox::select(s, folder);
        let mbox = cmd(limit, watched, "selecting the folder", fut).await?;
        let uidvalidity = mbox.uid_validity.ok_or_else(|| {
            self.fail(ConnectError::Protocol(format!(
                "SELECT {folder} returned no UIDVALIDITY"
            )))
        })?;
        let uidnext = match mbox.uid_next {
            Some(n) => n,
            // Some servers omit UIDNEXT; the highest UID + 1 is what it would have said.
            None => self.highest_uid(mbox.exists).await?.saturating_add(1),
        };
        self.uidvalidity = uidvalidity;
        let stored = ctx
            .store
            .mark(account, folder)
            .map_err(|e| self.store_failed(e))?;
        let decision = decide::reconcile(stored, uidvalidity, uidnext);
        debug!(account, folder, ?decision, "selected");
        match decision {
            Reconcile::Baseline(m) | Reconcile::Rebaseline(m) | Reconcile::Rewind(m) => {
                if !matches!(decision, Reconcile::Baseline(_)) {
                    warn!(
                        account,
                        folder,
                        ?stored,
                        uidvalidity,
                        uidnext,
                        "mailbox identity changed; starting over without announcing old mail"
                    );
                }
                ctx.store
                    .set_mark(account, folder, m)
                    .map_err(|e| self.store_failed(e))?;
                self.watermark = m.watermark;
            }
            Reconcile::CatchUp(m) => {
                self.watermark = m.watermark;
                if m.watermark < uidnext {
                    self.announce_new(true).await?;
                }
                // Everything below UIDNEXT existed at SELECT and has now been looked at.
                ctx.store
                    .raise_watermark(account, folder, uidvalidity, uidnext)
                    .map_err(|e| self.store_failed(e))?;
                self.watermark = self.watermark.max(uidnext);
            }
        }
        self.announced = ctx
            .store
            .announced(account, folder, uidvalidity)
            .map_err(|e| self.store_failed(e))?
            .into_iter()
            .collect();
        self.sync_unseen().await
    }

    async fn highest_uid(&mut self, exists: u32) -> Result<u32, End> {
        if exists == 0 {
            return Ok(0);
        }
        let (watched, limit) = (self.watched, self.ctx.account.timing.command_timeout);
        let s = self.session()?;
        let fut = async {
            let stream = s.fetch("*", "(UID)").await?;
            stream.try_collect::<Vec<_>>().await
        };
        let fetches = cmd(limit, watched, "finding the highest UID", fut).await?;
        Ok(fetches.iter().filter_map(|f| f.uid).max().unwrap_or(0))
    }

    fn store_failed(&self, e: anyhow::Error) -> End {
        self.fail(ConnectError::Config(format!(
            "the state database failed: {e:#}"
        )))
    }

    /// Fetches headers of UIDs ≥ watermark and announces the unread ones, in UID order.
    /// Each announcement is acknowledged by the consumer before it is recorded, so a crash
    /// repeats at most the message in flight and never skips one.
    async fn announce_new(&mut self, catch_up: bool) -> Result<(), End> {
        let ctx = self.ctx;
        let (account, folder) = (ctx.account.id.as_str(), ctx.folder.as_str());
        let set = format!("{}:*", self.watermark.max(1));
        let query = format!("(UID FLAGS {HEADER_FETCH})");
        let (watched, limit) = (self.watched, self.ctx.account.timing.command_timeout);
        let s = self.session()?;
        let fut = async {
            let stream = s.uid_fetch(&set, &query).await?;
            stream.try_collect::<Vec<_>>().await
        };
        let fetches = cmd(limit, watched, "fetching new messages", fut).await?;
        let mut candidates = Vec::with_capacity(fetches.len());
        let mut by_uid = std::collections::HashMap::with_capacity(fetches.len());
        for f in &fetches {
            let Some(uid) = f.uid else { continue };
            let seen = f
                .flags()
                .any(|fl| matches!(fl, async_imap::types::Flag::Seen));
            candidates.push(Candidate { uid, seen });
            by_uid.insert(uid, f);
        }
        let uids = decide::to_announce(self.watermark, &candidates);
        for uid in &uids {
            let raw = by_uid.get(uid).and_then(|f| f.header()).unwrap_or_default();
            let h = headers::decode(raw);
            let mail = NewMail {
                account: account.to_owned(),
                folder: folder.to_owned(),
                uidvalidity: self.uidvalidity,
                uid: *uid,
                from_name: h.from_name,
                from_address: h.from_address,
                subject: h.subject,
                date: h.date,
                message_id: h.message_id,
                catch_up,
            };
            ctx.reporter.new_mail(mail).await;
            ctx.store
                .record_announced(account, folder, self.uidvalidity, *uid)
                .map_err(|e| self.store_failed(e))?;
            self.announced.insert(*uid);
            self.unseen.insert(*uid);
        }
        let next = decide::next_watermark(self.watermark, &candidates);
        if next > self.watermark {
            ctx.store
                .raise_watermark(account, folder, self.uidvalidity, next)
                .map_err(|e| self.store_failed(e))?;
            self.watermark = next;
        }
        if !uids.is_empty() {
            debug!(account, folder, count = uids.len(), catch_up, "announced");
        }
        Ok(())
    }

    /// Re-reads the unread set: the count, and `seen` for announced messages no longer unread.
    async fn sync_unseen(&mut self) -> Result<(), End> {
        let ctx = self.ctx;
        let (account, folder) = (ctx.account.id.as_str(), ctx.folder.as_str());
        let (watched, limit) = (self.watched, self.ctx.account.timing.command_timeout);
        let s = self.session()?;
        let fut = s.uid_search("UNSEEN");
        let unseen = cmd(limit, watched, "counting unread messages", fut).await?;
        let gone: Vec<u32> = self
            .announced
            .iter()
            .copied()
            .filter(|u| !unseen.contains(u))
            .collect();
        if !gone.is_empty() {
            let mut gone = gone;
            gone.sort_unstable();
            ctx.store
                .forget_announced(account, folder, self.uidvalidity, &gone)
                .map_err(|e| self.store_failed(e))?;
            for uid in gone {
                self.announced.remove(&uid);
                ctx.reporter.seen(folder, uid).await;
            }
        }
        self.unseen = unseen;
        let count = u32::try_from(self.unseen.len()).unwrap_or(u32::MAX);
        if self.last_unread != Some(count) {
            self.last_unread = Some(count);
            ctx.reporter.unread(folder, count).await;
        }
        Ok(())
    }

    /// Empties async-imap's unsolicited channel (it silently drops past 100). Returns whether
    /// anything in it may mean new, read or deleted mail.
    fn drain_unsolicited(&mut self) -> Result<bool, End> {
        let s = self.session()?;
        let mut changed = false;
        let mut bye = None;
        while let Ok(r) = s.unsolicited_responses.try_recv() {
            match classify(&r) {
                Unsolicited::Change => changed = true,
                Unsolicited::Bye(text) => bye = Some(text),
                Unsolicited::Other => {}
            }
        }
        if let Some(text) = bye {
            return Err(self.fail(ConnectError::Network(format!(
                "the server closed the session: {}",
                truncate_for_log(&text)
            ))));
        }
        Ok(changed)
    }

    /// One IDLE round: until a change, the refresh deadline, a silent link, a wake-up or stop.
    async fn idle_round(&mut self) -> Result<IdleEnd, End> {
        let ctx = self.ctx;
        let t = &ctx.account.timing;
        let session = self
            .session
            .take()
            .ok_or_else(|| self.fail(ConnectError::Protocol("session lost".into())))?;
        // A clone of the unsolicited queue: the IDLE handle hides the session's own.
        let pending = session.unsolicited_responses.clone();
        let mut handle = session.idle();
        // Until "+ idling" arrives, async-imap queues everything else as unsolicited: EXISTS
        // that raced the IDLE command (a change to act on), or `* BYE` instead of `+` (the
        // server is leaving; without watching for it we would wait `command_timeout` for a
        // "+" that never comes when the server does not also close the connection).
        let mut early_change = false;
        let started = timeout(t.command_timeout, async {
            let init = handle.init();
            tokio::pin!(init);
            loop {
                tokio::select! {
                    r = &mut init => return r.map_err(|e| imap_error("starting IDLE", e)),
                    r = pending.recv() => match r.as_ref().map(classify) {
                        Ok(Unsolicited::Bye(text)) => {
                            return Err(ConnectError::Network(format!(
                                "the server closed the session instead of idling: {text}"
                            )));
                        }
                        Ok(Unsolicited::Change) => early_change = true,
                        Ok(Unsolicited::Other) => {}
                        // The session owns the sender, so this cannot close while we wait.
                        Err(_) => std::future::pending::<()>().await,
                    },
                }
            }
        })
        .await;
        match started {
            Err(_) => return Err(self.fail(ConnectError::Timeout("starting IDLE"))),
            Ok(Err(e)) => return Err(self.fail(e)),
            Ok(Ok(())) => {}
        }
        let refresh_at = Instant::now() + t.idle_refresh;
        let outcome = loop {
            // EXISTS may arrive before "+ idling" (taken above), or be queued as unsolicited.
            if early_change || !pending.is_empty() {
                break IdleEnd::Changed;
            }
            let (fut, stop) = handle.wait_with_timeout(t.dead_after);
            tokio::pin!(fut);
            let r = tokio::select! {
                r = &mut fut => r,
                _ = sleep_until(refresh_at) => break IdleEnd::Refresh,
                kind = ctx.wake.notified() => break IdleEnd::Woken(kind),
                _ = ctx.cancel.cancelled() => break IdleEnd::Stopped,
            };
            drop(stop);
            match r {
                Ok(IdleResponse::NewData(data)) => match data.parsed() {
                    Response::MailboxData(MailboxDatum::Exists(_) | MailboxDatum::Recent(_))
                    | Response::Expunge(_)
                    | Response::Fetch(..)
                    | Response::Vanished { .. } => break IdleEnd::Changed,
                    Response::Data {
                        status: imap_proto::Status::Bye,
                        outcome,
                    } => {
                        let text = truncate_for_log(outcome.information.as_deref().unwrap_or(""));
                        return Err(self.fail(ConnectError::Network(format!(
                            "the server closed the session: {text}"
                        ))));
                    }
                    // Anything else (ALERTs, keepalives with codes, stray tagged lines) is
                    // harmless while idling: keep waiting.
                    _ => continue,
                },
                // Silence for `dead_after`: DONE below asks whether anyone is still there.
                Ok(IdleResponse::Timeout) => break IdleEnd::Refresh,
                // async-imap reports EOF as a manual interrupt; we did not interrupt.
                Ok(IdleResponse::ManualInterrupt) => {
                    return Err(self.fail(ConnectError::Network(
                        "the server closed the connection".into(),
                    )));
                }
                Err(e) => return Err(self.fail(imap_error("waiting in IDLE", e))),
            }
        };
        if matches!(outcome, IdleEnd::Woken(WakeKind::Reconnect)) {
            // The network changed or the machine resumed: the link is suspect. A DONE into a
            // dead link would wait `done_timeout` and then count as a failure (backoff) — the
            // opposite of "reconnect at once". Dropping the handle closes the socket.
            drop(handle);
            return Err(End::Reconnect);
        }
        if matches!(outcome, IdleEnd::Stopped) {
            // Leaving anyway; a polite DONE is best-effort.
            if let Ok(Ok(s)) = timeout(Duration::from_secs(2), handle.done()).await {
                self.session = Some(s);
            }
            return Ok(outcome);
        }
        match timeout(t.done_timeout, handle.done()).await {
            Err(_) => Err(self.fail(ConnectError::Timeout("ending IDLE (the link looks dead)"))),
            Ok(Err(e)) => Err(self.fail(imap_error("ending IDLE", e))),
            Ok(Ok(s)) => {
                self.session = Some(s);
                Ok(outcome)
            }
        }
    }

    /// Polling for servers without IDLE: wait `poll_interval` (jittered ±10 %), then recheck.
    async fn poll_wait(&mut self) -> IdleEnd {
        let ctx = self.ctx;
        let base = ctx.account.timing.poll_interval;
        let jitter: f64 = rand::random();
        let wait = base.mul_f64(0.9 + 0.2 * jitter);
        tokio::select! {
            _ = sleep(wait) => IdleEnd::Changed,
            kind = ctx.wake.notified() => IdleEnd::Woken(kind),
            _ = ctx.cancel.cancelled() => IdleEnd::Stopped,
        }
    }
}

/// What an unsolicited response means to the watcher.
enum Unsolicited {
    /// New, read or deleted mail (or maybe: the queue may have dropped some): look again.
    Change,
    /// `* BYE`: the server is leaving; its text, capped.
    Bye(String),
    Other,
}

fn classify(r: &UnsolicitedResponse) -> Unsolicited {
    match r {
        UnsolicitedResponse::Exists(_)
        | UnsolicitedResponse::Expunge(_)
        | UnsolicitedResponse::Recent(_) => Unsolicited::Change,
        UnsolicitedResponse::Other(data) => match data.parsed() {
            Response::Fetch(..) | Response::Vanished { .. } => Unsolicited::Change,
            Response::Data {
                status: imap_proto::Status::Bye,
                outcome,
            } => Unsolicited::Bye(truncate_for_log(
                outcome.information.as_deref().unwrap_or(""),
            )),
            _ => Unsolicited::Other,
        },
        _ => Unsolicited::Other,
    }
}

/// Runs one IMAP command future under `limit`, mapping errors.
async fn cmd<T>(
    limit: Duration,
    watched: bool,
    what: &'static str,
    fut: impl Future<Output = async_imap::error::Result<T>>,
) -> Result<T, End> {
    let error = match timeout(limit, fut).await {
        Ok(Ok(v)) => return Ok(v),
        Err(_) => ConnectError::Timeout(what),
        Ok(Err(e)) => imap_error(what, e),
    };
    Err(End::Failed { error, watched })
}

fn imap_error(what: &str, e: async_imap::error::Error) -> ConnectError {
    use async_imap::error::Error as E;
    // Every branch caps its text: async-imap's parse errors carry the whole unparsed buffer
    // (up to the framer's 4 MiB) of server bytes.
    match e {
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            ConnectError::Protocol(truncate_for_log(&format!("{what}: {io}")))
        }
        E::Io(io) => ConnectError::Network(truncate_for_log(&format!("{what}: {io}"))),
        E::ConnectionLost => ConnectError::Network(format!("{what}: connection lost")),
        E::No(m) | E::Bad(m) => {
            ConnectError::Protocol(format!("{what}: server said {}", truncate_for_log(&m)))
        }
        other => {
            ConnectError::Protocol(format!("{what}: {}", truncate_for_log(&other.to_string())))
        }
    }
}
