//! One account, every watched folder, one connection: connect, log in, choose a strategy from
//! the server's capabilities ([`strategy`]), look at every folder once, then wait for changes —
//! forever, with backoff between sessions.
//!
//! - **NOTIFY** (RFC 5465): the home folder (INBOX) stays selected in IDLE; `NOTIFY SET` asks
//!   for message events there and STATUS responses for every other folder. A STATUS that shows
//!   a change (merged, since they may be partial or redundant) ends the IDLE; the folder is
//!   selected, its new UIDs fetched and announced, and the home folder selected again.
//! - **IDLE + sweep**: the same, but the other folders are asked with STATUS every
//!   `poll_interval`, between IDLE rounds on the same connection.
//! - **Poll**: no IDLE: every folder is checked every `poll_interval`.
//!
//! Lifecycle: `account_loop` owns the retry policy and the connection budget; `Conn` is one
//! session on one connection. Every network wait is bounded by a configured timeout and also
//! listens for the account's wake-up (Check now, network changed) and for cancellation.
//! Per folder the exactly-once rules are those of [`crate::sync::decide`], unchanged.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt;
use imap_proto::StatusAttribute;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::backoff::{Backoff, LoginLimiter};
use super::budget::Pool;
use super::memory::Memory;
use super::strategy::{self, Caps, Mode, Strategy};
use super::{Reporter, Wake, WakeKind};
use crate::config::Account;
use crate::error::{ConnectError, NetCause, ProtoCause, Step, StoreCause};
use crate::event::{NewMail, State};
use crate::imap::framing::TaggedStatus;
use crate::imap::headers::{self, HEADER_FETCH};
use crate::imap::login::LoggedIn;
use crate::imap::rfc2177_idle::{self, Seen};
use crate::imap::rfc5465_notify::{self, FolderStatus, LocalView};
use crate::imap::rfc7162_qresync::{self, Resync};
use crate::imap::session;
use crate::imap::transport::{MailStream, StatusTap};
use crate::imap::utf7;
use crate::sync::decide::{self, Candidate, Reconcile};
use crate::sync::state::Store;
use crate::text::truncate_for_log;

/// The key the account's connection state is reported under (folders that cannot be watched
/// report under their own name).
const SESSION_KEY: &str = "";

/// Everything an account loop needs; owned by the loop.
pub(crate) struct AccountCtx {
    pub account: Arc<Account>,
    pub store: Store,
    pub reporter: Reporter,
    pub wake: Arc<Wake>,
    pub cancel: CancellationToken,
    /// The connection budget of this account's login.
    pub budget: Arc<Pool>,
    /// Cancelled when the watcher this one replaces has finished (its connection is closed).
    pub previous: Option<CancellationToken>,
    /// Cancelled when this loop returns.
    pub finished: CancellationToken,
}

/// Why a session ended.
enum End {
    /// Cancelled: the loop returns.
    Stopped,
    /// The network changed or the user asked: reconnect at once, no backoff.
    Reconnect,
    /// A shared-budget visit is done: give the permit back and come again in `poll_interval`.
    Visited,
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

/// The per-account supervisor: budget, sessions, backoff, login cap, state reports.
pub(crate) async fn account_loop(ctx: AccountCtx) {
    let _finished = ctx.finished.clone().drop_guard();
    if let Some(previous) = &ctx.previous {
        // A restarted account: its old connection still counts until it is closed.
        tokio::select! {
            _ = ctx.cancel.cancelled() => return,
            _ = previous.cancelled() => {}
        }
    }
    let t = ctx.account.timing.clone();
    let mut backoff = Backoff::new(t.backoff_min, t.backoff_max);
    let mut limiter = LoginLimiter::new(t.max_logins_per_minute);
    let mut memory = Memory::default();
    let mut delay = Duration::ZERO;
    // The last report was `error` (a problem that needs the user): it stays shown through
    // every retry until a session works, instead of flickering to `connecting` and back.
    let mut attention = false;
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
            debug!(account = %ctx.account.id, wait_ms = cap.as_millis() as u64, "login cap reached");
            tokio::select! {
                _ = ctx.cancel.cancelled() => break,
                _ = sleep(cap) => {}
            }
        }
        if !attention {
            ctx.reporter
                .state(SESSION_KEY, State::Connecting, None)
                .await;
        }
        // Counted from before the TCP connect until the socket is closed: the lease is dropped
        // only after the session future (which owns the stream) is gone.
        let lease = tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            lease = ctx.budget.acquire() => lease,
        };
        let end = tokio::select! {
            _ = ctx.cancel.cancelled() => End::Stopped,
            end = session(&ctx, &mut limiter, &mut memory, lease.resident()) => end,
        };
        drop(lease);
        attention = false;
        match end {
            End::Stopped => break,
            End::Reconnect => {
                backoff.reset();
                delay = Duration::ZERO;
            }
            End::Visited => {
                backoff.reset();
                delay = jittered(t.poll_interval);
            }
            End::Failed { error, watched } => {
                if let ConnectError::Store { .. } = error {
                    // Nothing more is announced until a write to the store succeeds.
                    memory.store_failed = true;
                }
                if watched {
                    backoff.reset();
                }
                if let ConnectError::Auth(_) = error {
                    // No further LOGIN until the configuration or password changes (the engine
                    // restarts this loop then). Retrying a wrong password gets accounts locked.
                    warn!(account = %ctx.account.id, "login rejected; stopping until the account changes");
                    ctx.reporter
                        .state(SESSION_KEY, State::AuthFailed, Some(error))
                        .await;
                    ctx.cancel.cancelled().await;
                    break;
                }
                let jitter: f64 = rand::random();
                delay = backoff.next_delay(jitter);
                if let ConnectError::Throttled(_) = error {
                    delay = delay.max(t.throttle_backoff);
                }
                // A certificate that does not verify, STARTTLS stripped, a full disk: retried
                // like any failure, but shown as needing attention while it lasts.
                attention = error.needs_attention();
                let state = if attention {
                    State::Error
                } else {
                    State::Backoff
                };
                info!(account = %ctx.account.id, retry_in_ms = delay.as_millis() as u64, "session ended: {error}");
                ctx.reporter.state(SESSION_KEY, state, Some(error)).await;
            }
        }
    }
    ctx.reporter.state(SESSION_KEY, State::Stopped, None).await;
}

/// `base` ±10 %, so many accounts do not poll in lockstep.
fn jittered(base: Duration) -> Duration {
    let jitter: f64 = rand::random();
    base.mul_f64(0.9 + 0.2 * jitter)
}

async fn session(
    ctx: &AccountCtx,
    limiter: &mut LoginLimiter,
    memory: &mut Memory,
    resident: bool,
) -> End {
    let logged_in = match session::open(&ctx.account).await {
        Ok(l) => l,
        Err(e) => return e.into(),
    };
    limiter.record(Instant::now());
    let mut conn = Conn::new(ctx, logged_in, std::mem::take(memory));
    let end = match conn.run(resident).await {
        Ok(()) => End::Stopped,
        Err(end) => end,
    };
    *memory = std::mem::take(&mut conn.memory);
    if let Some(mut s) = conn.session.take() {
        // Be polite when we chose to leave. A dead link gets no LOGOUT, and neither does one
        // we reconnect because the network changed: it is suspect, and a LOGOUT into a dead
        // link would hold the reconnect up by its whole timeout.
        if matches!(end, End::Stopped | End::Visited) {
            crate::imap::login::logout(&mut s).await;
        }
    }
    end
}

/// One watched folder: what is stored and what this session has learnt.
struct Folder {
    /// As configured (decoded UTF-8); used in events and the store.
    name: String,
    /// As the server knows it (modified UTF-7).
    wire: String,
    /// The name as written, for a server that does not escape `&` (see `mailbox::select`).
    raw: Option<String>,
    uidvalidity: u32,
    watermark: u32,
    /// Messages at the last SELECT.
    exists: u32,
    /// UIDNEXT at the last SELECT: how far a skip of unreadable new mail may go.
    uidnext: u32,
    /// UIDs currently unread, from the last `UID SEARCH UNSEEN`.
    unseen: HashSet<u32>,
    /// Announced and still unread: a drop from `unseen` produces a `seen` event.
    announced: HashSet<u32>,
    /// Unread messages: `unseen.len()`, or after a QRESYNC resync the count from STATUS (the
    /// set then holds only the announced ones).
    unread: u32,
    last_unread: Option<u32>,
    /// The server's view from STATUS responses, merged.
    known: FolderStatus,
    /// The folder could not be selected (deleted or renamed on the server): skipped.
    missing: bool,
    /// A STATUS event named it this session (NOTIFY covers it): the sweep can skip it.
    notified: bool,
}

impl Folder {
    fn new(name: &str) -> Folder {
        let (wire, raw) = utf7::wire_names(name);
        Folder {
            name: name.to_owned(),
            wire,
            raw,
            uidvalidity: 0,
            watermark: 0,
            exists: 0,
            uidnext: 0,
            unseen: HashSet::new(),
            announced: HashSet::new(),
            unread: 0,
            last_unread: None,
            known: FolderStatus::default(),
            missing: false,
            notified: false,
        }
    }

    fn local(&self) -> LocalView {
        LocalView {
            uidvalidity: self.uidvalidity,
            watermark: self.watermark,
            messages: self.exists,
            unseen: self.unread,
        }
    }

    /// Whether a name from the server (STATUS) is this folder: in modified UTF-7 as it should
    /// be, as written (a server that does not escape `&`), or in UTF-8 (Dovecot 2.3's NOTIFY
    /// STATUS, see [`rfc5465_notify::notify_names`]).
    fn is(&self, wire_name: &str) -> bool {
        if self.name.eq_ignore_ascii_case("INBOX") {
            return wire_name.eq_ignore_ascii_case("INBOX");
        }
        self.wire == wire_name
            || self.raw.as_deref() == Some(wire_name)
            || self.name == wire_name
            || utf7::decode(wire_name) == self.name
    }
}

/// One message as a `UID FETCH` answered it: what announcing needs.
struct Fetched {
    uid: u32,
    seen: bool,
    /// The header fields (at most [`headers::HEADER_MAX`] bytes), if asked for and sent.
    header: Option<Vec<u8>>,
}

/// What a `UID FETCH` of new mail asks for.
#[derive(Clone, Copy)]
enum HeaderFetch {
    Headers,
    /// UIDs and flags only: the careful listing, which no header can break.
    FlagsOnly,
}

/// What ended one wait.
enum Wait {
    /// The selected folder changed (EXISTS, EXPUNGE, FETCH, VANISHED), or may have.
    Changed,
    /// Time to re-issue IDLE (refresh, or a silent link that answered DONE).
    Refresh,
    /// Time to sweep the other folders with STATUS (and, when polling, the home folder).
    Sweep,
    Woken(WakeKind),
    Stopped,
}

/// One session on one connection.
struct Conn<'a> {
    ctx: &'a AccountCtx,
    session: Option<Session<MailStream>>,
    caps: Caps,
    strategy: Strategy,
    /// Index 0 is the home folder; the rest in configuration order.
    folders: Vec<Folder>,
    selected: Option<usize>,
    /// Folders whose STATUS says they changed since our last look.
    dirty: BTreeSet<usize>,
    /// The selected folder changed.
    home_dirty: bool,
    /// Something other than new mail may have changed in the home folder (flags, expunges, a
    /// poll, a refresh): re-read the whole unread set. When only EXISTS/RECENT arrived, the
    /// fetch of the new UIDs says which are unread, and the count is kept without a
    /// `UID SEARCH UNSEEN` whose answer grows with every unread message (with 20,000 unread,
    /// 140 KB per new mail).
    home_recount: bool,
    watched: bool,
    /// Says whether the server finished each command with a tagged OK (see [`Call`]).
    tap: StatusTap,
    /// What the account remembers between sessions (unreadable messages, a failed store).
    memory: Memory,
}

impl<'a> Conn<'a> {
    fn new(ctx: &'a AccountCtx, li: LoggedIn, memory: Memory) -> Self {
        let caps = Caps::from_list(&li.capabilities);
        let strategy = strategy::choose(caps, &ctx.account.folders);
        let mut folders = vec![Folder::new(&strategy.home)];
        folders.extend(strategy.others.iter().map(|f| Folder::new(f)));
        Conn {
            ctx,
            session: Some(li.session),
            caps,
            strategy,
            folders,
            selected: None,
            dirty: BTreeSet::new(),
            home_dirty: false,
            home_recount: false,
            watched: false,
            tap: li.tap,
            memory,
        }
    }

    fn fail(&self, error: ConnectError) -> End {
        End::Failed {
            error,
            watched: self.watched,
        }
    }

    /// A read or write of the state database failed: the error names the file and the cause
    /// (the disk is full, say), and the session ends. Announcing on without recording would
    /// repeat every message at each reconnect.
    fn store_failed(&self, e: anyhow::Error) -> End {
        let full = e.chain().any(|c| {
            let code = match c.downcast_ref::<rusqlite::Error>() {
                Some(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
                _ => c.downcast_ref::<rusqlite::ffi::Error>().map(|f| f.code),
            };
            code == Some(rusqlite::ErrorCode::DiskFull)
        });
        let (cause, said) = if full {
            (StoreCause::DiskFull, None)
        } else {
            (StoreCause::Other, Some(e.root_cause().to_string()))
        };
        warn!(account = %self.ctx.account.id, "state database failed: {e:#}");
        self.fail(ConnectError::Store {
            path: self.ctx.store.location(),
            cause,
            words: said.as_deref().and_then(crate::error::words),
        })
    }

    fn call(&self) -> Call {
        Call {
            watched: self.watched,
            limit: self.ctx.account.timing.command_timeout,
            tap: self.tap.clone(),
        }
    }

    fn session(&mut self) -> Result<&mut Session<MailStream>, End> {
        let watched = self.watched;
        self.session.as_mut().ok_or(End::Failed {
            error: ConnectError::protocol(ProtoCause::SessionLost),
            watched,
        })
    }

    async fn run(&mut self, resident: bool) -> Result<(), End> {
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        if self.caps.qresync {
            // RFC 7162: QRESYNC must be enabled before the SELECTs that use it. It also makes
            // the server say VANISHED instead of EXPUNGE, which the waits below understand.
            let call = self.call();
            let s = self.session()?;
            let fut = s.run_command_and_check_ok("ENABLE QRESYNC");
            call.run(Step::EnablingQresync, fut).await?;
        }
        // Every other folder first, the home folder last: it stays selected.
        for i in (1..self.folders.len()).chain([0]) {
            self.open(i, true).await?;
        }
        if !resident {
            // The budget is shared by more accounts than it has connections: this was one
            // look at every folder; the permit goes to the next account in line.
            debug!(account, "visit done; giving the connection back");
            self.report_state(State::Polling).await;
            return Err(End::Visited);
        }
        let mut mode = if self.selected != Some(0) {
            // The home folder itself is missing: keep looking at the others by polling.
            Mode::Poll
        } else {
            self.strategy.mode
        };
        if mode == Mode::Notify && !self.ask_notify().await? {
            // Refused (too many names, say): the sweep covers the others instead.
            mode = Mode::IdleAndSweep;
            self.strategy.mode = mode;
        }
        self.watched = true;
        let state = if mode == Mode::Poll {
            State::Polling
        } else {
            State::Push
        };
        self.report_state(state).await;
        info!(
            account,
            strategy = %self.strategy.describe(ctx.account.timing.poll_interval.as_secs()),
            "watching"
        );
        // With NOTIFY the sweep is a safety net for the folders NOTIFY has not named yet (the
        // server reports every listed folder at NOTIFY SET, so normally none): one STATUS each
        // every `poll_interval`, a few dozen bytes.
        let sweeps = self.folders.len() > 1 || mode == Mode::Poll;
        let mut next_sweep = Instant::now() + jittered(ctx.account.timing.poll_interval);
        loop {
            self.drain_unsolicited()?;
            if self.home_dirty {
                self.home_dirty = false;
                let recount = std::mem::take(&mut self.home_recount);
                if self.selected == Some(0) {
                    self.announce_new(0, false).await?;
                    if recount {
                        self.sync_unseen(0).await?;
                    } else {
                        self.report_unread(0).await;
                    }
                }
                continue;
            }
            if !self.dirty.is_empty() {
                self.visit_dirty().await?;
                continue;
            }
            if ctx.cancel.is_cancelled() {
                return Ok(());
            }
            let until = (sweeps && self.needs_sweep(mode)).then_some(next_sweep);
            let outcome = if mode == Mode::Poll {
                self.poll_wait(next_sweep).await
            } else {
                self.idle_round(until).await?
            };
            match outcome {
                // The flags are set; queued responses are drained at the top of the loop.
                Wait::Changed => {}
                // Every `idle_refresh` the count is re-read even if only new mail arrived, so
                // a change the server reported in a response async-imap dropped (its queue
                // holds 100) is corrected within minutes.
                Wait::Refresh => {
                    self.home_dirty = true;
                    self.home_recount = true;
                }
                Wait::Sweep => {
                    next_sweep = Instant::now() + jittered(ctx.account.timing.poll_interval);
                    self.sweep(mode == Mode::Poll, mode == Mode::Notify).await?;
                }
                Wait::Woken(WakeKind::Check) => {
                    // NOOP first: a dead link shows here, and the server flushes pending changes.
                    let call = self.call();
                    let s = self.session()?;
                    let fut = s.noop();
                    call.run(Step::CheckingConnection, fut).await?;
                    self.sweep(true, false).await?;
                }
                Wait::Woken(WakeKind::Reconnect) => return Err(End::Reconnect),
                Wait::Stopped => return Ok(()),
            }
        }
    }

    async fn report_state(&self, state: State) {
        self.ctx.reporter.state(SESSION_KEY, state, None).await;
    }

    /// `NOTIFY SET` for every other folder; `false` if the server refused it even without the
    /// UTF-8 aliases (then the caller sweeps instead).
    async fn ask_notify(&mut self) -> Result<bool, End> {
        use async_imap::error::Error as E;
        let others: Vec<String> = self.folders[1..]
            .iter()
            .filter(|f| !f.missing)
            .map(|f| f.name.clone())
            .collect();
        let mut attempts = vec![true];
        if rfc5465_notify::needs_alias(&others) {
            // A server stricter than Dovecot about 8-bit names may refuse the aliases.
            attempts.push(false);
        }
        let account = self.ctx.account.id.as_str();
        for alias in attempts {
            let limit = self.ctx.account.timing.command_timeout;
            let s = self.session()?;
            let fut = s.run_command_and_check_ok(rfc5465_notify::notify_set(&others, alias));
            match timeout(limit, fut).await {
                Ok(Ok(())) => return Ok(true),
                Ok(Err(E::No(text) | E::Bad(text))) => {
                    warn!(
                        account,
                        alias,
                        "NOTIFY SET refused: {}",
                        truncate_for_log(&text)
                    );
                }
                Ok(Err(e)) => {
                    let tap = self.tap.clone();
                    return Err(self.fail(session::imap_error(Step::AskingForNotify, e, &tap)));
                }
                Err(_) => return Err(self.fail(ConnectError::Timeout(Step::AskingForNotify))),
            }
        }
        Ok(false)
    }

    /// Whether a sweep has anything to ask: with NOTIFY only folders it has not named.
    fn needs_sweep(&self, mode: Mode) -> bool {
        mode == Mode::Poll
            || self.folders[1..]
                .iter()
                .any(|f| !f.missing && (mode != Mode::Notify || !f.notified))
    }

    /// STATUS for every other folder — with `skip_notified`, only those NOTIFY has not named —
    /// and, with `home`, a fresh look at the home folder.
    async fn sweep(&mut self, home: bool, skip_notified: bool) -> Result<(), End> {
        if home {
            self.home_dirty = true;
            self.home_recount = true;
        }
        for i in 1..self.folders.len() {
            let f = &self.folders[i];
            if !f.missing && (!skip_notified || !f.notified) {
                self.status(i).await?;
            }
        }
        Ok(())
    }

    /// `STATUS folder (…)`, merged into what the server told us before.
    async fn status(&mut self, i: usize) -> Result<(), End> {
        let items = rfc5465_notify::status_items(self.caps.condstore);
        let wire = self.folders[i].wire.clone();
        let call = self.call();
        let s = self.session()?;
        let fut = s.status(&wire, items);
        let mbox = call.run(Step::AskingFolderStatus, fut).await?;
        let update = FolderStatus {
            messages: Some(mbox.exists),
            uidnext: mbox.uid_next,
            uidvalidity: mbox.uid_validity,
            unseen: mbox.unseen,
            highestmodseq: mbox.highest_modseq,
        };
        self.merge_status(i, update);
        Ok(())
    }

    fn merge_status(&mut self, i: usize, update: FolderStatus) {
        let f = &mut self.folders[i];
        f.known.merge(update);
        if Some(i) == self.selected {
            // A STATUS for the selected folder: its own events cover it, but look anyway.
            if rfc5465_notify::stale(&f.known, &f.local()) {
                self.home_dirty = true;
                self.home_recount = true;
            }
        } else if rfc5465_notify::stale(&f.known, &f.local()) {
            debug!(account = %self.ctx.account.id, folder = %f.name, "changed elsewhere");
            self.dirty.insert(i);
        }
    }

    fn on_status(&mut self, mailbox: &str, attrs: &[StatusAttribute]) {
        match self.folders.iter().position(|f| f.is(mailbox)) {
            Some(i) => {
                self.folders[i].notified = true;
                self.merge_status(i, FolderStatus::from_attributes(attrs));
            }
            None => debug!(
                account = %self.ctx.account.id,
                mailbox = %truncate_for_log(mailbox),
                "STATUS for a folder we do not watch"
            ),
        }
    }

    /// Looks at every folder STATUS said changed, then selects the home folder again and
    /// looks there too (its events were not watched meanwhile). A STATUS asked afterwards
    /// catches what arrived while we were busy.
    async fn visit_dirty(&mut self) -> Result<(), End> {
        let visited: Vec<usize> = std::mem::take(&mut self.dirty).into_iter().collect();
        for &i in &visited {
            self.open(i, false).await?;
        }
        self.open(0, false).await?;
        for &i in &visited {
            if !self.folders[i].missing {
                self.status(i).await?;
            }
        }
        Ok(())
    }

    /// SELECT folder `i`, reconcile with the stored state, announce what is new, count unread.
    /// A folder the server does not have is reported and skipped, not fatal to the others.
    async fn open(&mut self, i: usize, catch_up: bool) -> Result<(), End> {
        if self.folders[i].missing {
            return Ok(());
        }
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        let name = self.folders[i].name.clone();
        let stored = ctx
            .store
            .mark(account, &name)
            .map_err(|e| self.store_failed(e))?;
        let resync = if self.caps.qresync {
            ctx.store
                .modseq(account, &name)
                .map_err(|e| self.store_failed(e))?
                .filter(|r| stored.is_some_and(|m| m.uidvalidity == r.uidvalidity))
        } else {
            None
        };
        // With QRESYNC the exact unread count comes from STATUS, asked while the folder is not
        // selected (RFC 3501 discourages STATUS on the selected one).
        let unseen_before = match resync {
            Some(_) if self.selected != Some(i) => {
                let call = self.call();
                let wire = self.folders[i].wire.clone();
                let s = self.session()?;
                let fut = s.status(&wire, "(UNSEEN)");
                call.run(Step::CountingUnread, fut).await?.unseen
            }
            _ => None,
        };
        let Call {
            watched,
            limit,
            tap,
        } = self.call();
        let wire = self.folders[i].wire.clone();
        let s = self.session()?;
        let selected = match resync {
            Some(known) => {
                timeout(
                    limit,
                    tap.confirmed(rfc7162_qresync::select(s, &wire, known)),
                )
                .await
            }
            None => {
                timeout(limit, async {
                    crate::imap::mailbox::select(s, &tap, &name)
                        .await
                        .map(Resync::from_mailbox)
                })
                .await
            }
        };
        let mut sel = match selected {
            Ok(Ok(m)) => m,
            Ok(Err(async_imap::error::Error::No(text))) if !refused_for_now(tap.take()) => {
                // NO to SELECT: the folder is gone or was never there. The others go on.
                let problem = ConnectError::FolderMissing {
                    folder: name.clone(),
                    words: String::new(),
                }
                .with_words(&text);
                warn!(account, folder = %name, "cannot select: {problem}");
                self.folders[i].missing = true;
                self.selected = None;
                ctx.reporter.state(&name, State::Error, Some(problem)).await;
                return Ok(());
            }
            Ok(Err(e)) => {
                return Err(End::Failed {
                    error: session::imap_error(Step::SelectingFolder, e, &tap),
                    watched,
                });
            }
            Err(_) => {
                return Err(End::Failed {
                    error: ConnectError::Timeout(Step::SelectingFolder),
                    watched,
                });
            }
        };
        if let Some(changes) = sel.changes.as_mut() {
            changes.unseen = unseen_before;
        }
        self.selected = Some(i);
        let uidvalidity = sel.uidvalidity.ok_or_else(|| {
            self.fail(ConnectError::protocol(ProtoCause::NoUidvalidity {
                folder: name.clone(),
            }))
        })?;
        let uidnext = match sel.uidnext {
            Some(n) => n,
            // Some servers omit UIDNEXT; the highest UID + 1 is what it would have said.
            None => self.highest_uid(sel.exists).await?.saturating_add(1),
        };
        {
            let f = &mut self.folders[i];
            f.uidvalidity = uidvalidity;
            f.exists = sel.exists;
            f.uidnext = uidnext;
        }
        let decision = decide::reconcile(stored, uidvalidity, uidnext);
        debug!(account, folder = %name, ?decision, "selected");
        match decision {
            Reconcile::Baseline(m) | Reconcile::Rebaseline(m) | Reconcile::Rewind(m) => {
                if !matches!(decision, Reconcile::Baseline(_)) {
                    warn!(
                        account,
                        folder = %name,
                        ?stored,
                        uidvalidity,
                        uidnext,
                        "mailbox identity changed; starting over without announcing old mail"
                    );
                }
                ctx.store
                    .set_mark(account, &name, m)
                    .map_err(|e| self.store_failed(e))?;
                self.folders[i].watermark = m.watermark;
            }
            Reconcile::CatchUp(m) => {
                self.folders[i].watermark = m.watermark;
                if m.watermark < uidnext {
                    self.announce_new(i, catch_up).await?;
                }
                // Everything below UIDNEXT existed at SELECT and has now been looked at.
                ctx.store
                    .raise_watermark(account, &name, uidvalidity, uidnext)
                    .map_err(|e| self.store_failed(e))?;
                let f = &mut self.folders[i];
                f.watermark = f.watermark.max(uidnext);
            }
        }
        let announced = ctx
            .store
            .announced(account, &name, uidvalidity)
            .map_err(|e| self.store_failed(e))?;
        self.folders[i].announced = announced.into_iter().collect();
        match &sel.changes {
            Some(changes) => self.apply_resync(i, changes).await?,
            None => self.sync_unseen(i).await?,
        }
        if let Some(modseq) = sel.highestmodseq.filter(|_| self.caps.qresync) {
            ctx.store
                .set_modseq(account, &name, uidvalidity, modseq)
                .map_err(|e| self.store_failed(e))?;
        }
        // Our view is now the server's, as far as STATUS can tell.
        let local = self.folders[i].local();
        let f = &mut self.folders[i];
        f.known = FolderStatus {
            messages: Some(local.messages),
            uidnext: Some(uidnext),
            uidvalidity: Some(uidvalidity),
            unseen: Some(local.unseen),
            highestmodseq: sel.highestmodseq,
        };
        // NOTIFY news about other folders that arrived during a QRESYNC SELECT.
        for (mailbox, attrs) in std::mem::take(&mut sel.statuses) {
            self.on_status(&mailbox, &attrs);
        }
        Ok(())
    }

    async fn highest_uid(&mut self, exists: u32) -> Result<u32, End> {
        if exists == 0 {
            return Ok(0);
        }
        let call = self.call();
        let s = self.session()?;
        let fut = async {
            let stream = s.fetch("*", "(UID)").await?;
            stream.try_collect::<Vec<_>>().await
        };
        let fetches = call.run(Step::FindingHighestUid, fut).await?;
        Ok(fetches.iter().filter_map(|f| f.uid).max().unwrap_or(0))
    }

    /// Fetches headers of UIDs ≥ watermark in the selected folder `i` and announces the unread
    /// ones, in UID order. Each announcement is acknowledged by the consumer before it is
    /// recorded, so a crash repeats at most the message in flight and never skips one.
    ///
    /// One `UID FETCH` for all of them. If that fails in a way a message could cause, the
    /// folder is read with care from the next session on ([`Self::announce_carefully`]).
    async fn announce_new(&mut self, i: usize, catch_up: bool) -> Result<(), End> {
        let name = self.folders[i].name.clone();
        let watermark = self.folders[i].watermark;
        let uidvalidity = self.folders[i].uidvalidity;
        if self.memory.is_careful(&name, uidvalidity) {
            return self.announce_carefully(i, catch_up).await;
        }
        let set = format!("{}:*", watermark.max(1));
        let fetched = match self
            .fetch(&set, HeaderFetch::Headers, Step::FetchingNew)
            .await
        {
            Ok(f) => f,
            Err(end) => {
                if let End::Failed { error, watched } = &end
                    && self
                        .memory
                        .fetch_failed(&name, uidvalidity, error, *watched)
                {
                    warn!(account = %self.ctx.account.id, folder = %name, "fetching new mail failed ({error}); the next session reads it one message at a time");
                }
                return Err(end);
            }
        };
        let candidates: Vec<Candidate> = fetched
            .iter()
            .map(|f| Candidate {
                uid: f.uid,
                seen: f.seen,
            })
            .collect();
        let uids = decide::to_announce(watermark, &candidates);
        for uid in &uids {
            let header = fetched
                .iter()
                .find(|f| f.uid == *uid)
                .and_then(|f| f.header.clone())
                .unwrap_or_default();
            self.announce_one(i, *uid, Some(&header), catch_up).await?;
        }
        self.raise_watermark(i, decide::next_watermark(watermark, &candidates))?;
        if !uids.is_empty() {
            debug!(account = %self.ctx.account.id, folder = %name, count = uids.len(), catch_up, "announced");
        }
        Ok(())
    }

    /// The careful way, after a fetch of new mail failed: list the new UIDs and their flags
    /// without headers, then read each message's headers on its own. A message whose headers
    /// failed before (see [`Memory`]) is announced without them, so it is shown once and
    /// never again holds up the ones after it.
    async fn announce_carefully(&mut self, i: usize, catch_up: bool) -> Result<(), End> {
        let account = self.ctx.account.id.clone();
        let name = self.folders[i].name.clone();
        let watermark = self.folders[i].watermark;
        let uidvalidity = self.folders[i].uidvalidity;
        // Mail that was pushed while we watched is live mail, though it took a reconnect or
        // two to read: a popup each, not a summary of what arrived while away.
        let catch_up = catch_up && !self.memory.cared_for_live(&name, uidvalidity);
        if self.memory.listing_unreadable(&name, uidvalidity) {
            // Not even the UIDs can be read: skip what was there at SELECT, said loudly, so
            // the folder is watched again for what comes next.
            let skip_to = self.folders[i].uidnext;
            warn!(account, folder = %name, from = watermark, to = skip_to, "the server's list of new messages cannot be read; skipping them");
            self.raise_watermark(i, skip_to)?;
            self.memory.caught_up(&name);
            return Ok(());
        }
        let set = format!("{}:*", watermark.max(1));
        let listed = match self
            .fetch(&set, HeaderFetch::FlagsOnly, Step::ListingNew)
            .await
        {
            Ok(l) => l,
            Err(end) => {
                if let End::Failed { error, .. } = &end {
                    self.memory.listing_failed(&name, uidvalidity, error);
                }
                return Err(end);
            }
        };
        let candidates: Vec<Candidate> = listed
            .iter()
            .map(|f| Candidate {
                uid: f.uid,
                seen: f.seen,
            })
            .collect();
        for uid in decide::to_announce(watermark, &candidates) {
            if self.memory.unreadable(&name, uidvalidity, uid) {
                warn!(account, folder = %name, uid, "announcing a message whose headers cannot be read");
                self.announce_one(i, uid, None, catch_up).await?;
                continue;
            }
            let one = match self
                .fetch(&uid.to_string(), HeaderFetch::Headers, Step::FetchingNew)
                .await
            {
                Ok(one) => one,
                Err(end) => {
                    if let End::Failed { error, .. } = &end {
                        self.memory.message_failed(&name, uidvalidity, uid, error);
                    }
                    return Err(end);
                }
            };
            // Not there any more (expunged since the listing): nothing to announce.
            if let Some(f) = one.into_iter().find(|f| f.uid == uid) {
                let header = f.header.unwrap_or_default();
                self.announce_one(i, uid, Some(&header), catch_up).await?;
            }
        }
        self.raise_watermark(i, decide::next_watermark(watermark, &candidates))?;
        self.memory.caught_up(&name);
        Ok(())
    }

    /// `UID FETCH set (UID FLAGS [headers])`, each answer reduced to what announcing needs.
    async fn fetch(
        &mut self,
        set: &str,
        what: HeaderFetch,
        step: Step,
    ) -> Result<Vec<Fetched>, End> {
        let query = match what {
            HeaderFetch::Headers => format!("(UID FLAGS {HEADER_FETCH})"),
            HeaderFetch::FlagsOnly => "(UID FLAGS)".to_owned(),
        };
        let call = self.call();
        let s = self.session()?;
        let fut = async {
            let stream = s.uid_fetch(set, &query).await?;
            stream.try_collect::<Vec<_>>().await
        };
        let fetches = call.run(step, fut).await?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                Some(Fetched {
                    uid: f.uid?,
                    seen: f
                        .flags()
                        .any(|fl| matches!(fl, async_imap::types::Flag::Seen)),
                    header: f.header().map(<[u8]>::to_vec),
                })
            })
            .collect())
    }

    /// Announces message `uid` of folder `i` (`header`: `None` when it cannot be read) and
    /// records it, exactly once — also when the store fails ([`Memory`]).
    async fn announce_one(
        &mut self,
        i: usize,
        uid: u32,
        header: Option<&[u8]>,
        catch_up: bool,
    ) -> Result<(), End> {
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        let name = self.folders[i].name.clone();
        let uidvalidity = self.folders[i].uidvalidity;
        // Already shown by this process, but the store failed to record it: record only.
        if !self.memory.was_announced(&name, uidvalidity, uid) {
            if self.memory.store_failed {
                // Show nothing that cannot be recorded: after a failed write, prove the store
                // takes writes again first.
                ctx.store
                    .check_writable()
                    .map_err(|e| self.store_failed(e))?;
                info!(account, "the state database can be written again");
                self.memory.store_failed = false;
            }
            let h = header.map(headers::decode).unwrap_or_default();
            let mail = NewMail {
                account: account.to_owned(),
                folder: name.clone(),
                uidvalidity,
                uid,
                from_name: h.from_name,
                from_address: h.from_address,
                subject: h.subject,
                date: h.date,
                message_id: h.message_id,
                catch_up,
                unreadable: header.is_none(),
            };
            ctx.reporter.new_mail(mail).await;
        }
        if let Err(e) = ctx.store.record_announced(account, &name, uidvalidity, uid) {
            self.memory.announced_unrecorded(&name, uidvalidity, uid);
            return Err(self.store_failed(e));
        }
        self.memory.recorded(&name, uidvalidity, uid);
        let f = &mut self.folders[i];
        f.announced.insert(uid);
        f.watermark = f.watermark.max(uid.saturating_add(1));
        if f.unseen.insert(uid) {
            f.unread = f.unread.saturating_add(1);
        }
        Ok(())
    }

    /// Raises folder `i`'s watermark to `next`, in the store and here (never lowers it).
    fn raise_watermark(&mut self, i: usize, next: u32) -> Result<(), End> {
        let ctx = self.ctx;
        let f = &self.folders[i];
        if next <= f.watermark {
            return Ok(());
        }
        ctx.store
            .raise_watermark(&ctx.account.id, &f.name, f.uidvalidity, next)
            .map_err(|e| self.store_failed(e))?;
        self.folders[i].watermark = next;
        Ok(())
    }

    /// Re-reads the unread set of the selected folder `i`: the count, and `seen` for announced
    /// messages no longer unread.
    async fn sync_unseen(&mut self, i: usize) -> Result<(), End> {
        let call = self.call();
        let s = self.session()?;
        let fut = s.uid_search("UNSEEN");
        let unseen = call.run(Step::CountingUnread, fut).await?;
        let gone: Vec<u32> = self.folders[i]
            .announced
            .iter()
            .copied()
            .filter(|u| !unseen.contains(u))
            .collect();
        self.folders[i].unread = u32::try_from(unseen.len()).unwrap_or(u32::MAX);
        self.folders[i].unseen = unseen;
        self.withdraw(i, gone).await?;
        self.report_unread(i).await;
        Ok(())
    }

    /// After `SELECT … (QRESYNC …)`: the server told us which UIDs vanished and which changed
    /// flags since the stored HIGHESTMODSEQ. Announced messages among them that are gone or
    /// read become `seen`; the unread count comes from STATUS asked before the SELECT.
    async fn apply_resync(
        &mut self,
        i: usize,
        changes: &rfc7162_qresync::Changes,
    ) -> Result<(), End> {
        let gone = rfc7162_qresync::withdrawn(&self.folders[i].announced, changes);
        let Some(unseen) = changes.unseen else {
            return self.sync_unseen(i).await;
        };
        // The unread set itself is not listed (that is the point): keep the announced ones
        // that are still unread, and the exact count from STATUS.
        let f = &mut self.folders[i];
        f.unseen = f
            .announced
            .iter()
            .copied()
            .filter(|u| !gone.contains(u))
            .collect();
        f.unread = unseen;
        self.withdraw(i, gone).await?;
        self.report_unread(i).await;
        Ok(())
    }

    async fn withdraw(&mut self, i: usize, mut gone: Vec<u32>) -> Result<(), End> {
        if gone.is_empty() {
            return Ok(());
        }
        let ctx = self.ctx;
        gone.sort_unstable();
        let (name, uidvalidity) = (self.folders[i].name.clone(), self.folders[i].uidvalidity);
        ctx.store
            .forget_announced(&ctx.account.id, &name, uidvalidity, &gone)
            .map_err(|e| self.store_failed(e))?;
        for uid in gone {
            self.folders[i].announced.remove(&uid);
            ctx.reporter.seen(&name, uid).await;
        }
        Ok(())
    }

    async fn report_unread(&mut self, i: usize) {
        let f = &mut self.folders[i];
        let count = f.unread;
        if f.last_unread != Some(count) {
            f.last_unread = Some(count);
            self.ctx.reporter.unread(&f.name, count).await;
        }
    }

    /// Notes what one server line means ([`rfc2177_idle::classify`]): a change in the selected
    /// folder, a NOTIFY STATUS for another; the words of a `* BYE` are returned for the caller
    /// to end on.
    fn absorb(&mut self, seen: Seen) -> Option<String> {
        match seen {
            Seen::New => self.home_dirty = true,
            Seen::Change => {
                self.home_dirty = true;
                self.home_recount = true;
            }
            Seen::Status {
                mailbox,
                attributes,
            } => self.on_status(&mailbox, &attributes),
            Seen::Bye(said) => return Some(said),
            Seen::Other => {}
        }
        None
    }

    /// Empties async-imap's unsolicited channel (it silently drops past 100): changes in the
    /// selected folder, and STATUS responses (NOTIFY) for the others.
    fn drain_unsolicited(&mut self) -> Result<(), End> {
        let mut bye = None;
        loop {
            let s = self.session()?;
            let Ok(r) = s.unsolicited_responses.try_recv() else {
                break;
            };
            if let Some(text) = self.absorb(rfc2177_idle::classify_unsolicited(&r)) {
                bye = Some(text);
            }
        }
        if let Some(text) = bye {
            return Err(self.fail(ConnectError::network(NetCause::Bye).with_words(text)));
        }
        Ok(())
    }

    /// One IDLE round: until a change, the refresh deadline, the sweep time `until`, a silent
    /// link, a wake-up or stop. The protocol is in [`rfc2177_idle`]; here is what it means.
    async fn idle_round(&mut self, until: Option<Instant>) -> Result<Wait, End> {
        let ctx = self.ctx;
        let t = &ctx.account.timing;
        let session = self
            .session
            .take()
            .ok_or_else(|| self.fail(ConnectError::protocol(ProtoCause::SessionLost)))?;
        // Lines queued as unsolicited while idling (async-imap's own queue) are changes too.
        let pending = session.unsolicited_responses.clone();
        let tap = self.tap.clone();
        let started = rfc2177_idle::start(session, t.command_timeout, &tap)
            .await
            .map_err(|e| self.fail(e))?;
        let mut idle = started.idle;
        for seen in started.early {
            // A BYE among them already ended the start.
            let _ = self.absorb(seen);
        }
        let refresh_at = Instant::now() + t.idle_refresh;
        let outcome = loop {
            // Changes may arrive before "+ idling" (taken above), or be queued as unsolicited.
            if self.home_dirty || !self.dirty.is_empty() || !pending.is_empty() {
                break Wait::Changed;
            }
            let waited = tokio::select! {
                r = rfc2177_idle::wait(&mut idle, t.dead_after, &tap) => r,
                _ = sleep_until(refresh_at) => break Wait::Refresh,
                _ = sleep_until(until.unwrap_or(refresh_at)), if until.is_some() => break Wait::Sweep,
                kind = ctx.wake.notified() => break Wait::Woken(kind),
                _ = ctx.cancel.cancelled() => break Wait::Stopped,
            };
            match waited.map_err(|e| self.fail(e))? {
                rfc2177_idle::Waited::Line(seen) => {
                    if let Some(said) = self.absorb(seen) {
                        return Err(
                            self.fail(ConnectError::network(NetCause::Bye).with_words(said))
                        );
                    }
                    // A NOTIFY STATUS ends the IDLE only if it shows a real change (merged:
                    // STATUS may be partial or repeat what we know); keepalives never do.
                    if self.home_dirty || !self.dirty.is_empty() {
                        break Wait::Changed;
                    }
                }
                // Silence for `dead_after`: DONE below asks whether anyone is still there.
                rfc2177_idle::Waited::Silent => break Wait::Refresh,
            }
        };
        if matches!(outcome, Wait::Woken(WakeKind::Reconnect)) {
            // The network changed or the machine resumed: the link is suspect. A DONE into a
            // dead link would wait `done_timeout` and then count as a failure (backoff) — the
            // opposite of "reconnect at once". Dropping the handle closes the socket.
            drop(idle);
            return Err(End::Reconnect);
        }
        if matches!(outcome, Wait::Stopped) {
            // Leaving anyway; a polite DONE is best-effort.
            if let Ok(s) = rfc2177_idle::done(idle, Duration::from_secs(2), &tap).await {
                self.session = Some(s);
            }
            return Ok(outcome);
        }
        let s = rfc2177_idle::done(idle, t.done_timeout, &tap)
            .await
            .map_err(|e| self.fail(e))?;
        self.session = Some(s);
        Ok(outcome)
    }

    /// Polling for servers without IDLE: wait until the next sweep.
    async fn poll_wait(&mut self, until: Instant) -> Wait {
        let ctx = self.ctx;
        tokio::select! {
            _ = sleep_until(until) => Wait::Sweep,
            kind = ctx.wake.notified() => Wait::Woken(kind),
            _ = ctx.cancel.cancelled() => Wait::Stopped,
        }
    }
}

/// A NO that says "not now" rather than "no such folder" (RFC 5530 response codes): skipping
/// the folder until the next reconnect could mean days without its mail, so the session is
/// rebuilt (with backoff) and the folder tried again.
fn refused_for_now(status: Option<TaggedStatus>) -> bool {
    status
        .and_then(|s| s.code)
        .is_some_and(|c| matches!(c.as_str(), "UNAVAILABLE" | "INUSE" | "SERVERBUG" | "LIMIT"))
}

/// How one command runs: under `limit`, confirmed by the server's tagged OK (through `tap`,
/// see [`session::run`]), and failing with `watched` for the backoff.
struct Call {
    watched: bool,
    limit: Duration,
    tap: StatusTap,
}

impl Call {
    /// Runs one IMAP command future as `step`.
    async fn run<T>(
        self,
        step: Step,
        fut: impl Future<Output = async_imap::error::Result<T>>,
    ) -> Result<T, End> {
        session::run(step, self.limit, &self.tap, fut)
            .await
            .map_err(|error| End::Failed {
                error,
                watched: self.watched,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder is recognised under every name a server uses for it: modified UTF-7, UTF-8
    /// (Dovecot 2.3's NOTIFY STATUS), and as written for a server that does not escape `&`.
    #[test]
    fn folder_matches_its_names_on_the_wire() {
        for (name, wire) in [
            ("客户", "&W6JiNw-"),
            ("العملاء", "&BicGRAY5BkUGRAYnBiE-"),
            ("Clients Ünïcode", "Clients &ANw-n&AO8-code"),
            ("R&D", "R&-D"),
        ] {
            let f = Folder::new(name);
            assert!(f.is(wire), "{name} as {wire}");
            assert!(f.is(name), "{name} in UTF-8");
            assert!(!f.is("Clients X"), "{name}");
        }
        assert!(Folder::new("INBOX").is("inbox"));
        assert!(!Folder::new("客户").is("&W6JiNw-x"));
    }

    #[test]
    fn only_a_temporary_refusal_keeps_a_folder_in_play() {
        let no = |code: Option<&str>| {
            Some(TaggedStatus {
                status: "NO".into(),
                code: code.map(str::to_owned),
                text: "x".into(),
            })
        };
        for code in ["UNAVAILABLE", "INUSE", "SERVERBUG", "LIMIT"] {
            assert!(refused_for_now(no(Some(code))), "{code}");
        }
        // Dovecot: `NO [NONEXISTENT] Mailbox doesn't exist`; many servers give no code at all.
        assert!(!refused_for_now(no(Some("NONEXISTENT"))));
        assert!(!refused_for_now(no(None)));
        assert!(!refused_for_now(None));
    }
}
