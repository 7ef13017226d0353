//! Announcing new mail in a selected folder, exactly once: one `UID FETCH` for everything
//! new ([`new_mail_fetch`]: bounded headers, and INTERNALDATE for how late the announcement
//! is), acknowledged by the front end before it is recorded; and, after a fetch that failed in
//! a way a message could cause, the careful way ([`Conn::announce_carefully`],
//! `watch/memory.rs`) so that one unreadable message never holds up the next. A failed store
//! write is remembered too, so nothing is announced twice.

use futures::TryStreamExt;
use tracing::{debug, info, warn};

use super::Conn;
use crate::error::Step;
use crate::event::NewMail;
use crate::imap::internal_date::InternalDate;
use crate::mail::headers::{self, HEADER_FETCH};
use crate::sync::decide::{self, Candidate};
use crate::watch::account::End;

/// One message as a `UID FETCH` answered it: what announcing needs.
pub(super) struct Fetched {
    pub uid: u32,
    pub seen: bool,
    /// The header fields (at most [`headers::HEADER_MAX`] bytes), if asked for and sent.
    pub header: Option<Vec<u8>>,
    /// When it reached the server (INTERNALDATE), if sent and readable.
    pub received: Option<InternalDate>,
}

/// What a `UID FETCH` of new mail asks for, here and ending IDLE in the same round trip
/// (`conn.rs`): UID, flags, INTERNALDATE (when the message reached the server — ~40 bytes, no
/// extra round trip) and the bounded headers.
pub(super) fn new_mail_fetch() -> String {
    format!("(UID FLAGS INTERNALDATE {HEADER_FETCH})")
}

/// What a `UID FETCH` of new mail asks for.
#[derive(Clone, Copy)]
enum HeaderFetch {
    Headers,
    /// UIDs and flags only: the careful listing, which no header can break.
    FlagsOnly,
}

impl Conn<'_> {
    /// Fetches headers of UIDs ≥ watermark in the selected folder `i` and announces the unread
    /// ones, in UID order. Each announcement is acknowledged by the consumer before it is
    /// recorded, so a crash repeats at most the message in flight and never skips one.
    ///
    /// One `UID FETCH` for all of them. If that fails in a way a message could cause, the
    /// folder is read with care from the next session on ([`Self::announce_carefully`]).
    pub(super) async fn announce_new(&mut self, i: usize, catch_up: bool) -> Result<(), End> {
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
        self.announce_fetched(i, fetched, catch_up).await
    }

    /// Announces what a `UID FETCH <watermark>:*` of folder `i` returned, in UID order, and
    /// raises the watermark past all of it (read or not).
    pub(super) async fn announce_fetched(
        &mut self,
        i: usize,
        fetched: Vec<Fetched>,
        catch_up: bool,
    ) -> Result<(), End> {
        let name = self.folders[i].name.clone();
        let watermark = self.folders[i].watermark;
        let candidates: Vec<Candidate> = fetched
            .iter()
            .map(|f| Candidate {
                uid: f.uid,
                seen: f.seen,
            })
            .collect();
        let mut uids = decide::to_announce(watermark, &candidates);
        // Announced from a push already (above a UID gap, so the watermark stayed put).
        uids.retain(|u| !self.folders[i].announced.contains(u));
        for uid in &uids {
            // A UID can be answered twice (our FETCH, and a flag change or a push that crossed
            // it): the answer with headers wins.
            let answers = || fetched.iter().filter(|f| f.uid == *uid);
            let header = answers().find_map(|f| f.header.clone()).unwrap_or_default();
            let received = answers().find_map(|f| f.received);
            self.announce_one(i, *uid, Some(&header), received, catch_up, true)
                .await?;
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
            if self.folders[i].announced.contains(&uid) {
                continue;
            }
            if self.memory.unreadable(&name, uidvalidity, uid) {
                warn!(account, folder = %name, uid, "announcing a message whose headers cannot be read");
                let received = listed
                    .iter()
                    .find(|f| f.uid == uid)
                    .and_then(|f| f.received);
                self.announce_one(i, uid, None, received, catch_up, true)
                    .await?;
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
                self.announce_one(i, uid, Some(&header), f.received, catch_up, true)
                    .await?;
            }
        }
        self.raise_watermark(i, decide::next_watermark(watermark, &candidates))?;
        self.memory.caught_up(&name);
        Ok(())
    }

    /// `UID FETCH set (UID FLAGS INTERNALDATE [headers])`, each answer reduced to what
    /// announcing needs.
    async fn fetch(
        &mut self,
        set: &str,
        what: HeaderFetch,
        step: Step,
    ) -> Result<Vec<Fetched>, End> {
        let query = match what {
            HeaderFetch::Headers => new_mail_fetch(),
            // The server's own date, never a sender's bytes: it cannot break the listing.
            HeaderFetch::FlagsOnly => "(UID FLAGS INTERNALDATE)".to_owned(),
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
                    // A NOTIFY push that crossed this FETCH comes back among its answers
                    // with an envelope instead of the header section.
                    header: f
                        .header()
                        .map(<[u8]>::to_vec)
                        .or_else(|| f.envelope().map(crate::imap::rfc2177_idle::envelope_header)),
                    received: f.internal_date().map(|d| {
                        InternalDate::from_offset(d.timestamp(), d.offset().local_minus_utc())
                    }),
                })
            })
            .collect())
    }

    /// Announces message `uid` of folder `i` (`header`: `None` when it cannot be read;
    /// `received`: its INTERNALDATE, for how late the announcement is) and records it,
    /// exactly once — also when the store fails ([`Memory`]). With `raise`, the
    /// watermark moves past it; without (a pushed message above a UID gap), only the
    /// announcement is recorded and the fetch that closes the gap skips it.
    async fn announce_one(
        &mut self,
        i: usize,
        uid: u32,
        header: Option<&[u8]>,
        received: Option<InternalDate>,
        catch_up: bool,
        raise: bool,
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
                received_at: received.map(|r| r.to_rfc3339()),
                // Measured last, as the message is handed over.
                delay_ms: received.and_then(|r| r.delay_ms(std::time::SystemTime::now())),
            };
            ctx.reporter.new_mail(mail).await;
        }
        let recorded = if raise {
            ctx.store.record_announced(account, &name, uidvalidity, uid)
        } else {
            ctx.store
                .record_announced_only(account, &name, uidvalidity, uid)
        };
        if let Err(e) = recorded {
            self.memory.announced_unrecorded(&name, uidvalidity, uid);
            return Err(self.store_failed(e));
        }
        self.memory.recorded(&name, uidvalidity, uid);
        let f = &mut self.folders[i];
        f.announced.insert(uid);
        if raise {
            f.watermark = f.watermark.max(uid.saturating_add(1));
        }
        if f.unseen.insert(uid) {
            f.unread = f.unread.saturating_add(1);
        }
        Ok(())
    }

    /// What the server pushed while we idled (NOTIFY with fetch attributes), acted on without
    /// a command: new messages announced from their envelope, flag changes counted.
    ///
    /// Exactly once, like fetched mail: a pushed message at the watermark is announced,
    /// recorded and the watermark raised past it in one store transaction; one above it (a
    /// UID gap — a message in between may not have been pushed) is announced and recorded
    /// without raising it, and the folder is looked at with a fetch, which skips what was
    /// announced. A message already read when it arrived only moves the watermark.
    pub(super) async fn act_on_pushes(&mut self) -> Result<(), End> {
        if self.pushed.is_empty() && self.flag_changes.is_empty() {
            return Ok(());
        }
        // Pushes are only ever kept from the home folder's lines (`absorb`).
        let i = 0;
        if self.selected != Some(i) {
            self.pushed.clear();
            self.flag_changes.clear();
            return Ok(());
        }
        let mut pushed = std::mem::take(&mut self.pushed);
        pushed.sort_by_key(|p| p.uid);
        for p in pushed {
            let f = &self.folders[i];
            if p.uid < f.watermark || f.announced.contains(&p.uid) {
                continue;
            }
            if self.memory.is_careful(&f.name, f.uidvalidity) || self.memory.store_failed {
                // The careful ways (one message at a time; a store that must prove itself)
                // are the fetch's.
                self.home_dirty = true;
                continue;
            }
            let at_watermark = p.uid == f.watermark;
            if p.seen {
                if at_watermark {
                    self.raise_watermark(i, p.uid.saturating_add(1))?;
                } else {
                    self.home_dirty = true;
                }
                continue;
            }
            let received = p.internal_date.as_deref().and_then(InternalDate::parse);
            self.announce_one(i, p.uid, Some(&p.header), received, false, at_watermark)
                .await?;
            if !at_watermark {
                self.home_dirty = true;
            }
            debug!(account = %self.ctx.account.id, uid = p.uid, gap = !at_watermark, "announced from the push");
        }
        let changes = std::mem::take(&mut self.flag_changes);
        let mut gone = Vec::new();
        for (uid, seen) in changes {
            let f = &mut self.folders[i];
            if uid >= f.watermark {
                // Mail not looked at yet: the fetch decides (and counts) it.
                if !seen {
                    self.home_dirty = true;
                }
                continue;
            }
            if seen {
                if f.unseen.remove(&uid) {
                    f.unread = f.unread.saturating_sub(1);
                } else if !f.unseen_complete {
                    // Maybe an unread message we never listed (after a QRESYNC resync).
                    self.home_dirty = true;
                    self.home_recount = true;
                }
                if f.announced.contains(&uid) {
                    gone.push(uid);
                }
            } else if !f.unseen.contains(&uid) {
                if f.unseen_complete {
                    f.unseen.insert(uid);
                    f.unread = f.unread.saturating_add(1);
                } else {
                    self.home_dirty = true;
                    self.home_recount = true;
                }
            }
        }
        self.withdraw(i, gone).await?;
        self.report_unread(i).await;
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
}
