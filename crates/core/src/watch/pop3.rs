//! One check of a POP3 maildrop: log in, list, announce what is new, `QUIT`.
//!
//! POP3 has no push, and a POP3 session sees the maildrop as it was at login (RFC 1939 §8),
//! so every check is a session of its own; the supervisor (`watch/account.rs`) runs one every
//! `poll_interval` (±10 %) like a shared-budget visit, with the same backoff, login cap and
//! connection budget as IMAP. The session never changes the maildrop: no `DELE` exists in
//! [`crate::pop3`], and `TOP n 0` reads headers without retrieving the message.
//!
//! What is new is decided by the store ([`Store::pop3_reconcile`]): each `UIDL` unique-id gets
//! a number of Pushmail's own, and the same watermark and `announced` rows as an IMAP folder
//! make every message announced exactly once, through restarts and outages.
//!
//! The count a POP3 account shows is "announced since you last opened your mail client, and
//! still on the server": POP3 cannot tell what was read. Opening the mail client from the tray
//! clears it ([`clear_on_open`]).
//!
//! Bytes per check: a full `UIDL` listing costs ~20 bytes per message on the server, every
//! minute (22 KB with 1,000 messages). Servers append new mail at the end of the maildrop, so
//! when the message that was last at the previous listing is still at its number (`UIDL n`):
//! with the same count and size nothing has arrived and the listing is skipped; with more
//! messages, only the new ones are asked for, one `UIDL n` each (up to
//! [`MAX_APPENDED`]). Anything else — fewer messages, a changed size, a different unique-id
//! at that number — gets a full listing, and so does every [`FULL_LISTING_EVERY`]th check, as a
//! safety net for a server that orders its maildrop some other way.

use tracing::{debug, info, warn};

use super::account::{AccountCtx, End, SESSION_KEY};
use super::backoff::LoginLimiter;
use super::conn::store_error;
use super::memory::Memory;
use crate::error::ConnectError;
use crate::event::{NewMail, State};
use crate::mail::headers::{self, HEADER_MAX};
use crate::pop3::{self, Pop3};
use crate::sync::state::{POP3_FOLDER, POP3_UIDVALIDITY};

/// A full `UIDL` listing at least every this many checks, even when `STAT` and the last
/// unique-id say nothing changed (see the module documentation): an hour at the default
/// `poll_interval_secs`, proportionally sooner or later with another interval.
pub(crate) const FULL_LISTING_EVERY: u32 = 60;

/// At most this many new messages are listed one `UIDL n` at a time; more, and one full
/// listing is cheaper in round trips.
pub(crate) const MAX_APPENDED: u32 = 20;

/// What the last full listing ended with, to recognise a maildrop that has not changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LastListing {
    count: u32,
    size: u64,
    last_uidl: Option<String>,
    /// Checks since the last full listing.
    quick_checks: u32,
}

/// One POP3 session: connect, log in, check, quit. A planned check ends as
/// [`End::Visited`], so the supervisor comes back after `poll_interval`.
pub(super) async fn session(
    ctx: &AccountCtx,
    limiter: &mut LoginLimiter,
    memory: &mut Memory,
) -> End {
    let end = check_once(ctx, limiter, memory).await;
    // Whatever failed (the network, the login, the check), what the next good check finds
    // arrived while the account could not be checked: a catch-up, summarised.
    memory.pop3_ok = matches!(end, End::Visited);
    end
}

async fn check_once(ctx: &AccountCtx, limiter: &mut LoginLimiter, memory: &mut Memory) -> End {
    let mut pop = match pop3::open(&ctx.account, &ctx.tls).await {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    match check(ctx, &mut pop, memory).await {
        Ok(()) => {
            // Only after reading: QUIT is what a POP3 server would commit deletions on, and
            // there are none.
            pop.quit().await;
            End::Visited
        }
        Err(end) => {
            // A planned check is not a reconnect; a failed one is, and the login cap is what
            // keeps a server that accepts the login and then fails from a busy loop.
            limiter.record(tokio::time::Instant::now());
            if let End::Failed {
                error: ConnectError::Store { .. },
                ..
            } = &end
            {
                // The server is fine; leave politely.
                pop.quit().await;
            }
            end
        }
    }
}

/// `STAT`, the listing (or the quick check), the store's verdict, and an announcement for each
/// new message, in the server's order.
async fn check(ctx: &AccountCtx, pop: &mut Pop3, memory: &mut Memory) -> Result<(), End> {
    let id = ctx.account.id.as_str();
    let (count, size) = pop.stat().await.map_err(failed)?;
    let mut appended = None;
    if let Some(last) = memory.pop3_last.clone()
        && last.quick_checks + 1 < FULL_LISTING_EVERY
        && count >= last.count
        && (count > last.count || last.size == size)
        && count - last.count <= MAX_APPENDED
    {
        // Is the message that was last still where it was?
        let same_start = match last.count {
            0 => true,
            n => Some(pop.uidl_one(n).await.map_err(failed)?) == last.last_uidl,
        };
        if same_start && count == last.count {
            if let Some(l) = &mut memory.pop3_last {
                l.quick_checks += 1;
            }
            debug!(account = id, count, "POP3 maildrop unchanged");
            return watching(ctx, memory).await;
        }
        if same_start {
            let mut added: Vec<(u32, String)> = Vec::new();
            for n in last.count + 1..=count {
                added.push((n, pop.uidl_one(n).await.map_err(failed)?));
            }
            // Two messages with one unique-id cannot be told apart: the full listing, which
            // refuses such a maildrop, decides.
            let mut ids: Vec<&str> = added.iter().map(|(_, u)| u.as_str()).collect();
            ids.extend(last.last_uidl.as_deref());
            ids.sort_unstable();
            if ids.windows(2).all(|w| w[0] != w[1]) {
                appended = Some((added, last.quick_checks + 1));
            }
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let store_failed = |e| failed(store_error(ctx, e));
    let matched = match appended {
        Some((added, quick_checks)) => ctx
            .store
            .pop3_reconcile_added(id, &added, now)
            .map_err(store_failed)?
            .map(|known| (added, quick_checks, known)),
        None => None,
    };
    let (listing, quick_checks, known) = match matched {
        Some(m) => m,
        None => {
            let listing = pop.uidl_all(Some(count)).await.map_err(failed)?;
            let known = ctx
                .store
                .pop3_reconcile(id, &listing, now)
                .map_err(store_failed)?;
            (listing, 0, known)
        }
    };
    for uid in &known.gone {
        ctx.reporter.seen(POP3_FOLDER, *uid).await;
    }
    if known.renumbered {
        warn!(
            account = id,
            messages = listing.len(),
            "none of the POP3 server's unique ids is known any more (renumbered?): what it lists is announced as found, not as new"
        );
    }
    let catch_up = !memory.pop3_ok || known.renumbered;
    let mut unread = known.unread;
    if known.baseline {
        info!(
            account = id,
            messages = listing.len(),
            "first look at this POP3 maildrop: what is there now is not announced"
        );
    } else {
        // One number once, even if a listing named its unique-id twice.
        let mut done = std::collections::HashSet::new();
        for &(n, uid) in known
            .messages
            .iter()
            .filter(|(_, uid)| *uid >= known.watermark)
        {
            if !done.insert(uid) {
                continue;
            }
            if announce(ctx, pop, memory, n, uid, catch_up).await? {
                unread = unread.saturating_add(1);
            }
        }
    }
    let last_uidl = match listing.last() {
        Some((_, u)) => Some(u.clone()),
        // Nothing new was listed: the last message is the one it was.
        None => memory.pop3_last.as_ref().and_then(|l| l.last_uidl.clone()),
    };
    memory.pop3_last = Some(LastListing {
        count,
        size,
        last_uidl,
        quick_checks,
    });
    if memory.pop3_unread != Some(unread) {
        memory.pop3_unread = Some(unread);
        ctx.reporter.unread(POP3_FOLDER, unread).await;
    }
    watching(ctx, memory).await
}

/// The check worked: the account is polling (and a store that failed before has proved it
/// takes writes again).
async fn watching(ctx: &AccountCtx, memory: &mut Memory) -> Result<(), End> {
    if memory.store_failed {
        ctx.store
            .check_writable()
            .map_err(|e| failed(store_error(ctx, e)))?;
        memory.store_failed = false;
    }
    if memory.pop3_unread.is_none() {
        // Nothing was listed this time (a quick check after a restart of the loop): the count
        // still has to be said once.
        let count = ctx
            .store
            .announced(&ctx.account.id, POP3_FOLDER, POP3_UIDVALIDITY)
            .map_err(|e| failed(store_error(ctx, e)))?
            .len();
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        memory.pop3_unread = Some(count);
        ctx.reporter.unread(POP3_FOLDER, count).await;
    }
    ctx.reporter.state(SESSION_KEY, State::Polling, None).await;
    Ok(())
}

/// Reads message `n`'s headers with `TOP n 0` and announces it as number `uid`, then records
/// it: exactly once, like an IMAP message (see `watch/conn/announce.rs`). A message whose
/// headers fail twice is announced as unreadable instead of holding up the ones after it
/// ([`Memory`]). Returns whether it was recorded now (it then adds to the count).
async fn announce(
    ctx: &AccountCtx,
    pop: &mut Pop3,
    memory: &mut Memory,
    n: u32,
    uid: u32,
    catch_up: bool,
) -> Result<bool, End> {
    let id = ctx.account.id.as_str();
    let already = memory.was_announced(POP3_FOLDER, POP3_UIDVALIDITY, uid);
    if !already {
        // A server that lists its capabilities without TOP has no way to give the headers:
        // announced at once as unreadable, not after two failed checks.
        let no_top = !pop.capabilities().is_empty()
            && !pop
                .capabilities()
                .iter()
                .any(|c| c.eq_ignore_ascii_case("TOP"));
        let header = if no_top || memory.unreadable(POP3_FOLDER, POP3_UIDVALIDITY, uid) {
            warn!(
                account = id,
                n, "announcing a POP3 message whose headers cannot be read"
            );
            None
        } else {
            match pop.top_headers(n, HEADER_MAX).await {
                Ok(h) => Some(h),
                Err(error) => {
                    memory.message_failed(POP3_FOLDER, POP3_UIDVALIDITY, uid, &error);
                    return Err(failed(error));
                }
            }
        };
        if memory.store_failed {
            // Show nothing that cannot be recorded (see `Memory::store_failed`).
            ctx.store
                .check_writable()
                .map_err(|e| failed(store_error(ctx, e)))?;
            info!(account = id, "the state database can be written again");
            memory.store_failed = false;
        }
        let h = header.as_deref().map(headers::decode).unwrap_or_default();
        ctx.reporter
            .new_mail(NewMail {
                account: id.to_owned(),
                folder: POP3_FOLDER.to_owned(),
                uidvalidity: POP3_UIDVALIDITY,
                uid,
                from_name: h.from_name,
                from_address: h.from_address,
                subject: h.subject,
                date: h.date,
                message_id: h.message_id,
                catch_up,
                unreadable: header.is_none(),
                // POP3 has no INTERNALDATE, and a `Received:` header is the sender's word.
                received_at: None,
                delay_ms: None,
            })
            .await;
    }
    if let Err(e) = ctx
        .store
        .record_announced(id, POP3_FOLDER, POP3_UIDVALIDITY, uid)
    {
        memory.announced_unrecorded(POP3_FOLDER, POP3_UIDVALIDITY, uid);
        return Err(failed(store_error(ctx, e)));
    }
    memory.recorded(POP3_FOLDER, POP3_UIDVALIDITY, uid);
    // Recorded now, so not in the count the store gave before: whether shown now or (after a
    // failed write) before, it counts.
    Ok(true)
}

/// The user opened their mail client: the announced messages count as seen, their
/// notifications go, and the count is 0 — without a login.
pub(super) async fn clear_on_open(ctx: &AccountCtx, memory: &mut Memory) {
    match ctx.store.pop3_clear(&ctx.account.id) {
        Ok(cleared) => {
            for uid in cleared {
                ctx.reporter.seen(POP3_FOLDER, uid).await;
            }
            memory.pop3_unread = Some(0);
            ctx.reporter.unread(POP3_FOLDER, 0).await;
        }
        Err(e) => {
            warn!(account = %ctx.account.id, "cannot record that the mail client was opened: {e:#}");
        }
    }
}

fn failed(error: ConnectError) -> End {
    End::Failed {
        error,
        watched: false,
    }
}
