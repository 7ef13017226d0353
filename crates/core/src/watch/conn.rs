//! One session on one connection: every watched folder of an account, the strategy chosen
//! from the server's capabilities ([`strategy`]), a look at every folder, then waiting for
//! changes until the connection fails, the network changes or the account stops.
//!
//! - **NOTIFY** (RFC 5465): the home folder (INBOX) stays selected in IDLE; `NOTIFY SET` asks
//!   for message events there and STATUS responses for every other folder. A STATUS that shows
//!   a change (merged, since they may be partial or redundant) ends the IDLE; the folder is
//!   selected, its new UIDs fetched and announced, and the home folder selected again.
//! - **IDLE + sweep**: the same, but the other folders are asked with STATUS every
//!   `poll_interval`, between IDLE rounds on the same connection.
//! - **Poll**: no IDLE: every folder is checked every `poll_interval`.
//!
//! Every network wait is bounded by a configured timeout and also listens for the account's
//! wake-up (Check now, network changed) and for cancellation. The protocol is in `imap/`
//! (IDLE: [`rfc2177_idle`], opening a folder: [`mailbox::open`], commands:
//! [`session::run`]); here is what the answers mean. Announcing new mail is [`announce`];
//! per folder the exactly-once rules are those of [`crate::sync::decide`].

mod announce;
#[cfg(test)]
mod paused;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use async_imap::Session;
use futures::TryStreamExt;
use imap_proto::StatusAttribute;
use tokio::time::{Instant, sleep_until, timeout};
use tracing::{debug, info, warn};

use super::WakeKind;
use super::account::{AccountCtx, End, SESSION_KEY, jittered};
use super::memory::Memory;
use super::strategy::{self, Caps, Mode, Strategy};
use crate::error::{ConnectError, NetCause, ProtoCause, Step, StoreCause};
use crate::event::State;
use crate::imap::mailbox::{self, Opened};
use crate::imap::one_flight;
use crate::imap::pipelined;
use crate::imap::rfc2177_idle::{self, Seen};
use crate::imap::rfc4731_esearch;
use crate::imap::rfc5465_notify::{self, FolderStatus, LocalView};
use crate::imap::rfc7162_qresync;
use crate::imap::session;
use crate::imap::transport::login::LoggedIn;
use crate::imap::transport::{MailStream, StatusTap};
use crate::imap::utf7;
use crate::sync::decide::{self, Reconcile};
use crate::text::truncate_for_log;

/// async-imap's queue of the lines it did not expect (a receiving end of it).
type Pending = async_channel::Receiver<async_imap::types::UnsolicitedResponse>;

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
    /// `unseen` is every unread UID (after `UID SEARCH UNSEEN`), not only the announced ones
    /// (after a QRESYNC resync): a flag change can then be counted without a re-count.
    unseen_complete: bool,
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
            unseen_complete: false,
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
pub(super) struct Conn<'a> {
    ctx: &'a AccountCtx,
    pub(super) session: Option<Session<MailStream>>,
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
    /// NOTIFY accepted fetch attributes for the selected folder: new mail comes with its
    /// envelope ([`Seen::Pushed`]) and is announced without leaving IDLE.
    notify_fetch: bool,
    /// Messages the server pushed, to announce.
    pushed: Vec<rfc2177_idle::Pushed>,
    /// Flag changes the server pushed with their UIDs, to count.
    flag_changes: Vec<(u32, bool)>,
    /// An `EXISTS` whose push has not come yet: the message count it announced, and when to
    /// stop waiting for the push and fetch instead (`push_wait_secs`).
    push_due: Option<(u32, Instant)>,
    /// Whose lines the server's unsolicited responses are: the folder selected (index), or
    /// `None` during a SELECT, when they may still be the previous folder's. Only the home
    /// folder's carry UIDs we act on.
    lines_of: Option<usize>,
    watched: bool,
    /// Says whether the server finished each command with a tagged OK (see [`Call`]).
    tap: StatusTap,
    /// Already in IDLE, with the queue of lines async-imap files as unsolicited: the home
    /// folder was opened in one flight ([`one_flight`]) and the first IDLE round takes it.
    idling: Option<(rfc2177_idle::Started, Pending)>,
    /// NOTIFY SET went with that flight: whether the server took it (`None`: not sent).
    flight_notify: Option<bool>,
    /// The flight found mail that arrived since the last session: the first IDLE round fetches
    /// it (with `DONE`, in one round trip) and announces it as found after an absence; then
    /// the watermark moves to the UIDNEXT the SELECT reported (this).
    catch_up_due: Option<u32>,
    /// What the account remembers between sessions (unreadable messages, a failed store).
    pub(super) memory: Memory,
}

impl<'a> Conn<'a> {
    pub(super) fn new(ctx: &'a AccountCtx, li: LoggedIn, memory: Memory) -> Self {
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
            notify_fetch: false,
            pushed: Vec::new(),
            flag_changes: Vec::new(),
            push_due: None,
            lines_of: None,
            watched: false,
            tap: li.tap,
            idling: None,
            flight_notify: None,
            catch_up_due: None,
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
        self.fail(store_error(self.ctx, e))
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

    /// The session: a look at every folder, then watching until something ends it. `Ok` when
    /// cancelled; `resident` is false when the connection budget allows only one look.
    pub(super) async fn run(&mut self, resident: bool) -> Result<(), End> {
        if self.by_one_flight(resident) {
            self.look_at_other_folders(self.folders.len() > 1).await?;
            self.check_store()?;
            self.open_home_in_one_flight().await?;
            let mode = self.start_watching().await?;
            return self.watch(mode).await;
        }
        self.look_at_every_folder().await?;
        if !resident {
            // The budget is shared by more accounts than it has connections: this was one
            // look at every folder; the permit goes to the next account in line.
            debug!(account = %self.ctx.account.id, "visit done; giving the connection back");
            self.report_state(State::Polling).await;
            return Err(End::Visited);
        }
        self.check_store()?;
        let mode = self.start_watching().await?;
        self.watch(mode).await
    }

    /// After a store write failed, nothing new to announce proved nothing: the account shows
    /// the store's problem until a write succeeds, not "push" with a database that still
    /// refuses writes.
    fn check_store(&mut self) -> Result<(), End> {
        if self.memory.store_failed {
            self.ctx
                .store
                .check_writable()
                .map_err(|e| self.store_failed(e))?;
            self.memory.store_failed = false;
        }
        Ok(())
    }

    /// Whether this session opens the home folder in one flight with IDLE ([`one_flight`]):
    /// it stays connected, watches by NOTIFY or IDLE, and that way has not failed on this
    /// account since the program started.
    fn by_one_flight(&self, resident: bool) -> bool {
        resident
            && !self.memory.one_flight_failed
            && self.strategy.mode != Mode::Poll
            && !self.folders[0].missing
    }

    /// QRESYNC enabled where offered, then every folder selected, caught up and counted: the
    /// other folders first, the home folder last, so that it stays selected.
    async fn look_at_every_folder(&mut self) -> Result<(), End> {
        self.look_at_other_folders(true).await?;
        self.open(0, true).await
    }

    /// `ENABLE QRESYNC` where offered (with `enable`; else it goes with the home folder's
    /// flight), then every folder but the home one selected, caught up and counted.
    async fn look_at_other_folders(&mut self, enable: bool) -> Result<(), End> {
        if enable && self.caps.qresync {
            // RFC 7162: QRESYNC must be enabled before the SELECTs that use it. It also makes
            // the server say VANISHED instead of EXPUNGE, which the waits below understand.
            let call = self.call();
            let s = self.session()?;
            let fut = s.run_command_and_check_ok("ENABLE QRESYNC");
            call.run(Step::EnablingQresync, fut).await?;
        }
        for i in 1..self.folders.len() {
            self.open(i, true).await?;
        }
        Ok(())
    }

    /// Opens the home folder as [`Self::open`] does, but sends everything up to IDLE in one
    /// write ([`one_flight`]): `ENABLE QRESYNC` (for an account without other folders),
    /// `SELECT`, the unread search, `NOTIFY SET` and `IDLE`. What the answers settle needs no
    /// further command, so the session stays in IDLE for the first round; new mail since the
    /// last session (a fetch) or a refused NOTIFY cost a `DONE` first; an answer that cannot
    /// be used as a whole sends the folder the usual way.
    async fn open_home_in_one_flight(&mut self) -> Result<(), End> {
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        let name = self.folders[0].name.clone();
        self.drain_unsolicited()?;
        self.act_on_pushes().await?;
        self.lines_of = None;
        let stored = ctx
            .store
            .mark(account, &name)
            .map_err(|e| self.store_failed(e))?;
        let known = self.qresync_known(&name, stored)?;
        let notify = (self.strategy.mode == Mode::Notify)
            .then(|| rfc5465_notify::notify_set(&self.other_names(), true, true));
        let plan = one_flight::Plan {
            enable_qresync: self.caps.qresync && self.folders.len() == 1,
            wire: self.folders[0].wire.clone(),
            known,
            esearch: self.caps.esearch,
            notify,
        };
        let session = self
            .session
            .take()
            .ok_or_else(|| self.fail(ConnectError::protocol(ProtoCause::SessionLost)))?;
        let pending = session.unsolicited_responses.clone();
        let (tap, t) = (self.tap.clone(), &ctx.account.timing);
        let (started, answer) = one_flight::start(session, &plan, t.command_timeout, &tap).await;
        let identity = answer.selected.uidvalidity.zip(answer.selected.uidnext);
        let started = match started {
            Ok(started) => started,
            Err(e) => {
                if let Some((uidvalidity, uidnext)) = identity.filter(|_| answer.usable()) {
                    // Where the mailbox stood when selected: mail that arrived after it (while
                    // the server refused to IDLE, say) is caught up by the next session.
                    if let Reconcile::Baseline(m)
                    | Reconcile::Rebaseline(m)
                    | Reconcile::Rewind(m) = decide::reconcile(stored, uidvalidity, uidnext)
                    {
                        ctx.store
                            .set_mark(account, &name, m)
                            .map_err(|e| self.store_failed(e))?;
                    }
                }
                if matches!(e, ConnectError::Timeout(_) | ConnectError::Protocol { .. }) {
                    // The server did not take the flight as a whole (no `+ idling` in time,
                    // an answer it should not give): this account goes the usual way from now
                    // on. A goodbye or a lost link says nothing about the flight.
                    self.memory.one_flight_failed = true;
                }
                return Err(self.fail(e));
            }
        };
        if answer.enable.as_ref().is_some_and(|v| !v.ok) {
            self.caps.qresync = false;
        }
        let Some((uidvalidity, uidnext)) = identity.filter(|_| answer.usable()) else {
            debug!(
                account,
                broken = ?answer.broken,
                select = ?answer.select,
                search = ?answer.search,
                "the one-flight answer is not usable; opening the home folder the usual way"
            );
            self.session = Some(
                rfc2177_idle::done(started.idle, t.done_timeout, &tap)
                    .await
                    .map_err(|e| self.fail(e))?,
            );
            // A SELECT refused outright is taken as the usual way takes it, without asking
            // again (only a name that may be written another way is tried again there).
            if let Some(refused) = answer.select.filter(|v| !v.ok && answer.broken.is_none())
                && utf7::wire_names(&name).1.is_none()
            {
                let said = refused.status.text.clone();
                if mailbox::refused_for_now(Some(refused.status)) {
                    return Err(self.fail(
                        ConnectError::protocol(ProtoCause::Refused)
                            .at(Step::SelectingFolder)
                            .with_words(said),
                    ));
                }
                self.folder_missing(0, said).await;
                return Ok(());
            }
            return self.open(0, true).await;
        };
        self.selected = Some(0);
        let f = &mut self.folders[0];
        f.uidvalidity = uidvalidity;
        f.exists = answer.selected.exists;
        f.uidnext = uidnext;
        let fetch = matches!(
            decide::reconcile(stored, uidvalidity, uidnext),
            Reconcile::CatchUp(m) if m.watermark < uidnext
        );
        let notified = answer.notify.as_ref().map(|v| v.ok);
        if notified == Some(false) {
            // NOTIFY must be asked again, the usual way: leave IDLE (one round trip).
            self.session = Some(
                rfc2177_idle::done(started.idle, t.done_timeout, &tap)
                    .await
                    .map_err(|e| self.fail(e))?,
            );
            for seen in started.early {
                let _ = self.absorb(seen);
            }
        } else {
            self.idling = Some((started, pending));
        }
        self.flight_notify = notified;
        match decide::reconcile(stored, uidvalidity, uidnext) {
            Reconcile::CatchUp(m) if fetch && self.idling.is_some() => {
                // Mail arrived since the last session: the first IDLE round ends IDLE and
                // fetches it in one write (`done_and_fetch`), as for new mail in IDLE.
                self.folders[0].watermark = m.watermark;
                let announced = ctx
                    .store
                    .announced(account, &name, uidvalidity)
                    .map_err(|e| self.store_failed(e))?;
                self.folders[0].announced = announced.into_iter().collect();
                self.catch_up_due = Some(uidnext);
                self.home_dirty = true;
            }
            // Announces what arrived since the last session (a fetch only when `fetch`).
            _ => {
                self.catch_up(0, stored, uidvalidity, uidnext, true).await?;
            }
        }
        let mut selected = answer.selected;
        self.settle(0, &mut selected, uidvalidity, uidnext, answer.unseen)
            .await?;
        // The lines after the SELECT were the home folder's.
        self.lines_of = Some(0);
        for seen in answer.after {
            let _ = self.absorb(seen);
        }
        Ok(())
    }

    /// What QRESYNC can resynchronise folder `name` from: the stored HIGHESTMODSEQ, when the
    /// server offers QRESYNC and the stored mark is for the same UIDVALIDITY.
    fn qresync_known(
        &self,
        name: &str,
        stored: Option<decide::FolderMark>,
    ) -> Result<Option<rfc7162_qresync::Known>, End> {
        if !self.caps.qresync {
            return Ok(None);
        }
        Ok(self
            .ctx
            .store
            .modseq(&self.ctx.account.id, name)
            .map_err(|e| self.store_failed(e))?
            .filter(|r| stored.is_some_and(|m| m.uidvalidity == r.uidvalidity)))
    }

    /// The other folders' names, for `NOTIFY SET`.
    fn other_names(&self) -> Vec<String> {
        self.folders[1..]
            .iter()
            .filter(|f| !f.missing)
            .map(|f| f.name.clone())
            .collect()
    }

    /// Settles the strategy for this session (NOTIFY if the server accepts it for these
    /// folders, else IDLE and a sweep, or polling) and reports the account as watching.
    async fn start_watching(&mut self) -> Result<Mode, End> {
        let mut mode = if self.selected != Some(0) {
            // The home folder itself is missing: keep looking at the others by polling.
            Mode::Poll
        } else {
            self.strategy.mode
        };
        let accepted = match self.flight_notify.take() {
            Some(true) => {
                self.notify_fetch = true;
                true
            }
            _ if mode == Mode::Notify => self.ask_notify().await?,
            _ => true,
        };
        if mode == Mode::Notify && !accepted {
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
        // With a catch-up still to do in the first IDLE round, `push` is said after it, as
        // when the catch-up came before IDLE: "watching" means "and up to date".
        if self.catch_up_due.is_none() {
            self.report_state(state).await;
        }
        info!(
            account = %self.ctx.account.id,
            strategy = %self.strategy.describe(self.ctx.account.timing.poll_interval.as_secs()),
            "watching"
        );
        Ok(mode)
    }

    /// The watching loop: act on what changed, then wait (IDLE or a poll interval) for more.
    async fn watch(&mut self, mode: Mode) -> Result<(), End> {
        let ctx = self.ctx;
        // With NOTIFY the sweep is a safety net for the folders NOTIFY has not named yet (the
        // server reports every listed folder at NOTIFY SET, so normally none): one STATUS each
        // every `poll_interval`, a few dozen bytes.
        let sweeps = self.folders.len() > 1 || mode == Mode::Poll;
        let mut next_sweep = Instant::now() + jittered(ctx.account.timing.poll_interval);
        loop {
            if self.act_on_changes().await? {
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
                // Only POP3 accounts are told; an IMAP count follows the server's flags.
                Wait::Woken(WakeKind::Opened) => {
                    ctx.wake.take_opened();
                }
                Wait::Stopped => return Ok(()),
            }
        }
    }

    /// Handles one batch of what is known to have changed: queued lines, new mail or other
    /// changes in the home folder, other folders NOTIFY named. `true` if there was any (look
    /// again before waiting).
    async fn act_on_changes(&mut self) -> Result<bool, End> {
        if self.idling.is_some() {
            // Still in the IDLE the session started in; its first round acts on what came.
            return Ok(false);
        }
        self.drain_unsolicited()?;
        self.act_on_pushes().await?;
        if self.home_dirty {
            self.home_dirty = false;
            // The fetch below covers whatever a push was still due for.
            self.push_due = None;
            let recount = std::mem::take(&mut self.home_recount);
            if self.selected == Some(0) {
                self.announce_new(0, self.catch_up_due.is_some()).await?;
                self.finish_catch_up().await?;
                if recount {
                    self.sync_unseen(0).await?;
                } else {
                    self.report_unread(0).await;
                }
            }
            return Ok(true);
        }
        if !self.dirty.is_empty() {
            self.visit_dirty().await?;
            return Ok(true);
        }
        Ok(false)
    }

    async fn report_state(&self, state: State) {
        self.ctx.reporter.state(SESSION_KEY, state, None).await;
    }

    /// `NOTIFY SET` for every other folder; `false` if the server refused it even without the
    /// UTF-8 aliases (then the caller sweeps instead).
    async fn ask_notify(&mut self) -> Result<bool, End> {
        use async_imap::error::Error as E;
        let others = self.other_names();
        let mut aliases = vec![true];
        if rfc5465_notify::needs_alias(&others) {
            // A server stricter than Dovecot about 8-bit names may refuse the aliases.
            aliases.push(false);
        }
        // Fetch attributes first (the server pushes new mail with its envelope); a server
        // that refuses them still gets plain NOTIFY.
        let attempts: Vec<(bool, bool)> = [true, false]
            .into_iter()
            .flat_map(|fetch| aliases.iter().map(move |alias| (fetch, *alias)))
            .collect();
        let account = self.ctx.account.id.as_str();
        for (fetch, alias) in attempts {
            let limit = self.ctx.account.timing.command_timeout;
            let s = self.session()?;
            let fut = s.run_command_and_check_ok(rfc5465_notify::notify_set(&others, alias, fetch));
            match timeout(limit, fut).await {
                Ok(Ok(())) => {
                    self.notify_fetch = fetch;
                    return Ok(true);
                }
                Ok(Err(E::No(text) | E::Bad(text))) => {
                    warn!(
                        account,
                        alias,
                        fetch,
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
        // What the folder selected until now said is acted on as its own; from the SELECT on,
        // lines may be either folder's until the SELECT is done (see `absorb`).
        self.drain_unsolicited()?;
        self.act_on_pushes().await?;
        self.lines_of = None;
        let stored = self
            .ctx
            .store
            .mark(&self.ctx.account.id, &self.folders[i].name)
            .map_err(|e| self.store_failed(e))?;
        let Some(sel) = self.select(i, stored).await? else {
            return Ok(());
        };
        let (uidvalidity, uidnext) = self.identify(i, &sel).await?;
        self.catch_up(i, stored, uidvalidity, uidnext, catch_up)
            .await?;
        let mut sel = sel;
        self.settle(i, &mut sel, uidvalidity, uidnext, None).await?;
        // Queued while selecting: either folder's, so only a reason to look again.
        self.drain_unsolicited()?;
        self.lines_of = Some(i);
        Ok(())
    }

    /// Selects folder `i`, with QRESYNC from what we stored (`stored`) where the server offers
    /// it. `None` when the server does not have the folder: reported, and left out from now on.
    async fn select(
        &mut self,
        i: usize,
        stored: Option<decide::FolderMark>,
    ) -> Result<Option<rfc7162_qresync::Resync>, End> {
        let ctx = self.ctx;
        let name = self.folders[i].name.clone();
        let resync = self.qresync_known(&name, stored)?;
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
        let (limit, tap) = (ctx.account.timing.command_timeout, self.tap.clone());
        let wire = self.folders[i].wire.clone();
        let s = self.session()?;
        let opened = mailbox::open(s, &tap, &name, &wire, resync, limit).await;
        match opened.map_err(|e| self.fail(e))? {
            Opened::Selected(mut sel) => {
                if let Some(changes) = sel.changes.as_mut() {
                    changes.unseen = unseen_before;
                }
                self.selected = Some(i);
                Ok(Some(sel))
            }
            Opened::Missing(said) => {
                self.folder_missing(i, said).await;
                Ok(None)
            }
        }
    }

    /// The server has no folder `i` (it said NO to its SELECT, in `said`): reported, and left
    /// out from now on. The others go on.
    async fn folder_missing(&mut self, i: usize, said: String) {
        let name = self.folders[i].name.clone();
        let problem = ConnectError::FolderMissing {
            folder: name.clone(),
            words: String::new(),
        }
        .with_words(said);
        warn!(account = %self.ctx.account.id, folder = %name, "cannot select: {problem}");
        self.folders[i].missing = true;
        self.selected = None;
        self.ctx
            .reporter
            .state(&name, State::Error, Some(problem))
            .await;
    }

    /// The selected folder's identity: UIDVALIDITY, and UIDNEXT (asked for if the server did
    /// not say it).
    async fn identify(
        &mut self,
        i: usize,
        sel: &rfc7162_qresync::Resync,
    ) -> Result<(u32, u32), End> {
        let uidvalidity = sel.uidvalidity.ok_or_else(|| {
            self.fail(ConnectError::protocol(ProtoCause::NoUidvalidity {
                folder: self.folders[i].name.clone(),
            }))
        })?;
        let uidnext = match sel.uidnext {
            Some(n) => n,
            // Some servers omit UIDNEXT; the highest UID + 1 is what it would have said.
            None => self.highest_uid(sel.exists).await?.saturating_add(1),
        };
        let f = &mut self.folders[i];
        f.uidvalidity = uidvalidity;
        f.exists = sel.exists;
        f.uidnext = uidnext;
        Ok((uidvalidity, uidnext))
    }

    /// Reconciles the stored watermark with the server's identity ([`decide::reconcile`]) and
    /// announces what arrived since the last look.
    async fn catch_up(
        &mut self,
        i: usize,
        stored: Option<decide::FolderMark>,
        uidvalidity: u32,
        uidnext: u32,
        catch_up: bool,
    ) -> Result<(), End> {
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        let name = self.folders[i].name.clone();
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
                // Messages announced from a push above a UID gap are above the watermark but
                // done: the catch-up must know them.
                let announced = ctx
                    .store
                    .announced(account, &name, uidvalidity)
                    .map_err(|e| self.store_failed(e))?;
                self.folders[i].announced = announced.into_iter().collect();
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
        Ok(())
    }

    /// After the catch-up: which announced messages are still unread (`seen` for the others),
    /// the unread count, the HIGHESTMODSEQ for the next QRESYNC, and our view of the folder as
    /// STATUS would tell it.
    /// `unseen`: the unread set when it is already known (asked in the same flight as the
    /// SELECT); then nothing is asked here.
    async fn settle(
        &mut self,
        i: usize,
        sel: &mut rfc7162_qresync::Resync,
        uidvalidity: u32,
        uidnext: u32,
        unseen: Option<HashSet<u32>>,
    ) -> Result<(), End> {
        let ctx = self.ctx;
        let account = ctx.account.id.as_str();
        let name = self.folders[i].name.clone();
        let announced = ctx
            .store
            .announced(account, &name, uidvalidity)
            .map_err(|e| self.store_failed(e))?;
        self.folders[i].announced = announced.into_iter().collect();
        match (unseen, &sel.changes) {
            (Some(unseen), _) => self.apply_unseen(i, unseen).await?,
            (None, Some(changes)) => self.apply_resync(i, changes).await?,
            (None, None) => self.sync_unseen(i).await?,
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

    /// Re-reads the unread set of the selected folder `i`: the count, and `seen` for announced
    /// messages no longer unread.
    async fn sync_unseen(&mut self, i: usize) -> Result<(), End> {
        let unseen = if self.caps.esearch {
            // A count and ranges (`4:6,9`), not every unread UID: the same set, a few dozen
            // bytes instead of ~7 per unread message.
            let (limit, tap) = (self.ctx.account.timing.command_timeout, self.tap.clone());
            let s = self.session()?;
            let counted = rfc4731_esearch::unseen(s, &tap, limit).await;
            counted.map_err(|e| self.fail(e))?
        } else {
            let call = self.call();
            let s = self.session()?;
            let fut = s.uid_search("UNSEEN");
            call.run(Step::CountingUnread, fut).await?
        };
        self.apply_unseen(i, unseen).await
    }

    /// The unread set of folder `i` as the server listed it: the count, and `seen` for
    /// announced messages no longer in it.
    async fn apply_unseen(&mut self, i: usize, unseen: HashSet<u32>) -> Result<(), End> {
        let gone: Vec<u32> = self.folders[i]
            .announced
            .iter()
            .copied()
            .filter(|u| !unseen.contains(u))
            .collect();
        self.folders[i].unread = u32::try_from(unseen.len()).unwrap_or(u32::MAX);
        self.folders[i].unseen = unseen;
        self.folders[i].unseen_complete = true;
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
        f.unseen_complete = false;
        self.withdraw(i, gone).await?;
        self.report_unread(i).await;
        Ok(())
    }

    pub(super) async fn withdraw(&mut self, i: usize, mut gone: Vec<u32>) -> Result<(), End> {
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

    pub(super) async fn report_unread(&mut self, i: usize) {
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
        if self.lines_of != Some(0)
            && matches!(
                seen,
                Seen::New | Seen::Exists(_) | Seen::Pushed(_) | Seen::Flags { .. } | Seen::Change
            )
        {
            // Said while another folder was selected, or during a SELECT (when the lines may
            // be either folder's): its UIDs are not the home folder's. The visit's STATUS
            // covers the other folder; the home folder is looked at again and re-counted.
            self.home_dirty = true;
            self.home_recount = true;
            return None;
        }
        match seen {
            Seen::New => {
                // RECENT comes with EXISTS; with pushed envelopes the push says it all.
                if !self.notify_fetch {
                    self.home_dirty = true;
                }
            }
            Seen::Exists(n) => {
                if self.notify_fetch {
                    // Its envelope is due in the same breath; fetch only if it does not come.
                    let due = Instant::now() + self.ctx.account.timing.push_wait;
                    self.push_due = Some(match self.push_due {
                        Some((m, at)) => (m.max(n), at),
                        None => (n, due),
                    });
                } else {
                    self.home_dirty = true;
                }
            }
            Seen::Pushed(p) => {
                if self.push_due.is_some_and(|(n, _)| p.seq >= n) {
                    self.push_due = None;
                }
                self.pushed.push(*p);
            }
            Seen::Flags { uid, seen } => self.flag_changes.push((uid, seen)),
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
        let tap = self.tap.clone();
        let (started, pending) = match self.idling.take() {
            Some(idling) => idling,
            None => {
                let session = self
                    .session
                    .take()
                    .ok_or_else(|| self.fail(ConnectError::protocol(ProtoCause::SessionLost)))?;
                // Lines queued as unsolicited while idling (async-imap's own queue) are
                // changes too.
                let pending = session.unsolicited_responses.clone();
                let started = rfc2177_idle::start(session, t.command_timeout, &tap)
                    .await
                    .map_err(|e| self.fail(e))?;
                (started, pending)
            }
        };
        let mut idle = started.idle;
        for seen in started.early {
            // A BYE among them already ended the start.
            let _ = self.absorb(seen);
        }
        let refresh_at = Instant::now() + t.idle_refresh;
        let outcome = loop {
            // What the server pushed is announced and counted here, still in IDLE.
            self.act_on_pushes().await?;
            // Changes may arrive before "+ idling" (taken above), or be queued as unsolicited.
            if self.home_dirty || !self.dirty.is_empty() || !pending.is_empty() {
                break Wait::Changed;
            }
            let push_due = self.push_due.map(|(_, at)| at);
            let waited = tokio::select! {
                r = rfc2177_idle::wait(&mut idle, t.dead_after, &tap) => r,
                _ = sleep_until(push_due.unwrap_or(refresh_at)), if push_due.is_some() => {
                    // New mail whose envelope never came: fetch it the usual way.
                    debug!(account = %ctx.account.id, "no push after EXISTS; fetching");
                    self.push_due = None;
                    self.home_dirty = true;
                    break Wait::Changed;
                }
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
                    // STATUS may be partial or repeat what we know); keepalives never do, and
                    // neither do pushes (handled at the top of the loop).
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
        if matches!(outcome, Wait::Changed) && self.new_mail_only() {
            // New mail, nothing else: `DONE` and the `UID FETCH` leave together (one round
            // trip after the server's push instead of two).
            return self.done_and_fetch(idle).await.map(|()| outcome);
        }
        let s = rfc2177_idle::done(idle, t.done_timeout, &tap)
            .await
            .map_err(|e| self.fail(e))?;
        self.session = Some(s);
        Ok(outcome)
    }

    /// Whether what ended the IDLE is new mail in the home folder and nothing that needs
    /// another command first: a re-count, the careful way of reading, a store that must prove
    /// itself, or a push still to act on.
    fn new_mail_only(&self) -> bool {
        let Some(i) = self.selected else {
            return false;
        };
        let f = &self.folders[i];
        i == 0
            && self.home_dirty
            && !self.home_recount
            && !self.memory.store_failed
            && !self.memory.is_careful(&f.name, f.uidvalidity)
            && self.pushed.is_empty()
            && self.flag_changes.is_empty()
    }

    /// Ends the IDLE with `DONE` and fetches new mail in the same round trip
    /// ([`pipelined::done_and_fetch`]), then announces it exactly as [`Self::announce_new`]
    /// would; lines that came with the answers are taken as they would be in IDLE.
    async fn done_and_fetch(&mut self, idle: rfc2177_idle::Idle) -> Result<(), End> {
        let t = &self.ctx.account.timing;
        let tap = self.tap.clone();
        let (name, uidvalidity, watermark) = {
            let f = &self.folders[0];
            (f.name.clone(), f.uidvalidity, f.watermark)
        };
        let set = format!("{}:*", watermark.max(1));
        let query = announce::new_mail_fetch();
        let answer =
            pipelined::done_and_fetch(idle, &set, &query, t.done_timeout, t.command_timeout, &tap)
                .await;
        let (session, got) = match answer {
            Ok(a) => a,
            Err(error) => {
                // Only a failure of the fetch itself can be a message's fault; a DONE that is
                // not answered is a dead link.
                // Live mail is announced as such when read again carefully; mail found after
                // an absence (the flight's catch-up) as found after an absence.
                let live = self.catch_up_due.is_none();
                if error.step() == Some(Step::FetchingNew)
                    && self.memory.fetch_failed(&name, uidvalidity, &error, live)
                {
                    warn!(account = %self.ctx.account.id, folder = %name, "fetching new mail failed ({error}); the next session reads it one message at a time");
                }
                return Err(self.fail(error));
            }
        };
        self.session = Some(session);
        self.home_dirty = false;
        self.push_due = None;
        let mut bye = None;
        for seen in got.seen {
            if let Some(words) = self.absorb(seen) {
                bye = Some(words);
            }
        }
        let fetched = got
            .fetched
            .into_iter()
            .map(|m| announce::Fetched {
                uid: m.uid,
                seen: m.seen,
                header: m.header,
                received: m.received,
            })
            .collect();
        self.announce_fetched(0, fetched, self.catch_up_due.is_some())
            .await?;
        self.finish_catch_up().await?;
        self.report_unread(0).await;
        if let Some(words) = bye {
            return Err(self.fail(ConnectError::network(NetCause::Bye).with_words(words)));
        }
        Ok(())
    }

    /// After the fetch of mail that arrived since the last session ([`Self::catch_up_due`]):
    /// everything below the UIDNEXT the SELECT reported has been looked at, and the account
    /// is watching and up to date (`push`, held back until now by `start_watching`).
    async fn finish_catch_up(&mut self) -> Result<(), End> {
        let Some(uidnext) = self.catch_up_due.take() else {
            return Ok(());
        };
        let ctx = self.ctx;
        let (name, uidvalidity) = (self.folders[0].name.clone(), self.folders[0].uidvalidity);
        ctx.store
            .raise_watermark(&ctx.account.id, &name, uidvalidity, uidnext)
            .map_err(|e| self.store_failed(e))?;
        let f = &mut self.folders[0];
        f.watermark = f.watermark.max(uidnext);
        self.report_state(State::Push).await;
        Ok(())
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

/// What a failed read or write of the state database means for the account: the error names
/// the file and the cause (the disk is full, say). Shared by the IMAP and POP3 sessions.
pub(super) fn store_error(ctx: &AccountCtx, e: anyhow::Error) -> ConnectError {
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
    warn!(account = %ctx.account.id, "state database failed: {e:#}");
    ConnectError::Store {
        path: ctx.store.location(),
        cause,
        words: said.as_deref().and_then(crate::error::words),
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
}
