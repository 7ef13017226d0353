//! One account's supervisor: the connection budget, one session after another, backoff and
//! the login cap between them, and the state the account reports. What a session does on its
//! connection is [`super::conn`]; "what next" after a session is [`after_session`], pure and
//! table-tested.
//!
//! Lifecycle: `account_loop` runs until cancelled; each session is raced against cancellation,
//! holds a connection permit from the budget from before the TCP connect until the socket is
//! closed, and ends in an [`End`] that [`after_session`] turns into the next step. What the
//! account learns in one session and must remember in the next (an unreadable message, a
//! failed store) is in [`Memory`].

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::backoff::{Backoff, LoginLimiter};
use super::budget::Pool;
use super::conn::Conn;
use super::memory::Memory;
use super::{Reporter, Wake};
use crate::config::{Account, Protocol};
use crate::error::ConnectError;
use crate::event::State;
use crate::imap::session;
use crate::imap::transport::TlsConfigs;
use crate::sync::state::Store;

/// The key the account's connection state is reported under (folders that cannot be watched
/// report under their own name).
pub(super) const SESSION_KEY: &str = "";

/// Everything an account loop needs; owned by the loop.
pub(crate) struct AccountCtx {
    pub account: Arc<Account>,
    pub store: Store,
    pub reporter: Reporter,
    pub wake: Arc<Wake>,
    pub cancel: CancellationToken,
    /// The connection budget of this account's login.
    pub budget: Arc<Pool>,
    /// The engine's TLS configurations, shared by all its accounts.
    pub tls: Arc<TlsConfigs>,
    /// Cancelled when the watcher this one replaces has finished (its connection is closed).
    pub previous: Option<CancellationToken>,
    /// Cancelled when this loop returns.
    pub finished: CancellationToken,
}

/// Why a session ended.
#[derive(Debug)]
pub(super) enum End {
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
    // After a planned visit (a POP3 check, a shared-budget look) the account is still what it
    // was: no `connecting` flicker every poll interval.
    let mut visiting = false;
    loop {
        if !wait_before_connecting(&ctx, delay, &mut limiter, &mut memory).await {
            break;
        }
        if !attention && !visiting {
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
        visiting = matches!(end, End::Visited);
        if let End::Failed {
            error: ConnectError::Store { .. },
            ..
        } = end
        {
            // Nothing more is announced until a write to the store succeeds.
            memory.store_failed = true;
        }
        if let End::Failed { error, .. } = &end
            && crate::oauth::account::token_expired_bye(error)
        {
            // The server says the token expired sooner than its `expires_in` did.
            crate::oauth::account::forget_access(&ctx.account.id).await;
        }
        let next = after_session(&end, &mut backoff, &t, rand::random(), rand::random());
        attention = false;
        match (next, end) {
            (Next::Stop, _) => break,
            (Next::Halt(state), End::Failed { error, .. }) => {
                // No further LOGIN (nor token request) until the configuration, the password
                // or the sign-in changes (the engine restarts this loop then). Retrying a
                // wrong password gets accounts locked; a revoked grant does not come back.
                warn!(account = %ctx.account.id, state = state.as_str(), "login rejected; stopping until the account changes");
                ctx.reporter.state(SESSION_KEY, state, Some(error)).await;
                ctx.cancel.cancelled().await;
                break;
            }
            (Next::Again { delay: d, report }, end) => {
                delay = d;
                if let (Some(state), End::Failed { error, .. }) = (report, end) {
                    attention = state == State::Error;
                    info!(account = %ctx.account.id, retry_in_ms = delay.as_millis() as u64, "session ended: {error}");
                    ctx.reporter.state(SESSION_KEY, state, Some(error)).await;
                }
            }
            (Next::Halt(_), _) => break,
        }
    }
    ctx.reporter.state(SESSION_KEY, State::Stopped, None).await;
}

/// Waits out `delay` (a wake-up — Check now, network back — skips it) and then the login
/// cap, which nothing skips: it is what keeps a flapping server from a busy loop. `false` when
/// cancelled meanwhile. "The mail client was opened" is handled here without ending the wait
/// (it clears a POP3 account's count; no check is needed for it).
async fn wait_before_connecting(
    ctx: &AccountCtx,
    delay: Duration,
    limiter: &mut LoginLimiter,
    memory: &mut Memory,
) -> bool {
    if ctx.wake.take_opened() {
        super::pop3::clear_on_open(ctx, memory).await;
    }
    let until = Instant::now() + delay;
    while Instant::now() < until {
        tokio::select! {
            _ = ctx.cancel.cancelled() => return false,
            _ = sleep_until(until) => {}
            kind = ctx.wake.notified() => {
                if ctx.wake.take_opened() {
                    super::pop3::clear_on_open(ctx, memory).await;
                }
                if kind != super::WakeKind::Opened {
                    break;
                }
            }
        }
    }
    let cap = limiter.wait(Instant::now());
    if !cap.is_zero() {
        debug!(account = %ctx.account.id, wait_ms = cap.as_millis() as u64, "login cap reached");
        tokio::select! {
            _ = ctx.cancel.cancelled() => return false,
            _ = sleep(cap) => {}
        }
    }
    true
}

/// `base` ±10 %, so many accounts do not poll in lockstep.
pub(super) fn jittered(base: Duration) -> Duration {
    spread(base, rand::random())
}

/// `base` ±10 % for `jitter` in [0, 1).
fn spread(base: Duration, jitter: f64) -> Duration {
    base.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0))
}

/// What the supervisor does once a session has ended.
#[derive(Debug, PartialEq)]
enum Next {
    /// Cancelled: the loop returns.
    Stop,
    /// The password was rejected (`auth_failed`) or the sign-in is gone (`signin_required`):
    /// report that state and wait for the account to change.
    Halt(State),
    /// Connect again after `delay`; meanwhile show `report` (for a failure: `backoff`, or
    /// `error` when the user must know) or nothing new (a reconnect, a finished visit).
    Again {
        delay: Duration,
        report: Option<State>,
    },
}

/// The supervisor's "what next", pure: after `end`, with the backoff state and the account's
/// timings; `jitter` and `poll_jitter` in [0, 1) spread the waits of accounts that failed or
/// polled together.
fn after_session(
    end: &End,
    backoff: &mut Backoff,
    timing: &crate::config::Timing,
    jitter: f64,
    poll_jitter: f64,
) -> Next {
    match end {
        End::Stopped => Next::Stop,
        // The network changed or the user asked: at once, from a fresh backoff.
        End::Reconnect => {
            backoff.reset();
            Next::Again {
                delay: Duration::ZERO,
                report: None,
            }
        }
        // A shared-budget visit: the permit goes to the next account; back in a poll interval.
        End::Visited => {
            backoff.reset();
            Next::Again {
                delay: spread(timing.poll_interval, poll_jitter),
                report: None,
            }
        }
        End::Failed { error, watched } => {
            if *watched {
                // The session worked for a while: the next failure starts from `backoff_min`.
                backoff.reset();
            }
            if let ConnectError::Auth(_) = error {
                return Next::Halt(State::AuthFailed);
            }
            if let ConnectError::SignIn { problem, .. } = error {
                use crate::error::SignInProblem as P;
                match problem {
                    P::Required | P::AdminApproval => return Next::Halt(State::SigninRequired),
                    // A password refused counts towards a lockout at the provider.
                    P::PasswordsRefused => return Next::Halt(State::AuthFailed),
                    // Only a change to the account's settings helps; that restarts it.
                    P::ClientRejected | P::NoClientId | P::BadSettings | P::NoMechanism => {
                        return Next::Halt(State::Error);
                    }
                    P::Unavailable => {}
                }
            }
            if crate::oauth::account::token_expired_bye(error) {
                // Exchange ends a session whose token expired (`* BYE Session invalidated -
                // AccessTokenExpired`): an ordinary reconnect with a fresh token, at once
                // and without a word to the user (the login refreshes it).
                backoff.reset();
                return Next::Again {
                    delay: Duration::ZERO,
                    report: None,
                };
            }
            let mut delay = backoff.next_delay(jitter);
            if let ConnectError::Throttled(_) = error {
                delay = delay.max(timing.throttle_backoff);
            }
            // A certificate that does not verify, STARTTLS stripped, a full disk: retried
            // like any failure, but shown as needing attention while it lasts.
            let state = if error.needs_attention() {
                State::Error
            } else {
                State::Backoff
            };
            Next::Again {
                delay,
                report: Some(state),
            }
        }
    }
}

async fn session(
    ctx: &AccountCtx,
    limiter: &mut LoginLimiter,
    memory: &mut Memory,
    resident: bool,
) -> End {
    if ctx.account.protocol == Protocol::Pop3 {
        return super::pop3::session(ctx, limiter, memory).await;
    }
    let logged_in = match session::open(&ctx.account, &ctx.tls).await {
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
            crate::imap::transport::login::logout(&mut s).await;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Timing;
    use crate::error::{NetCause, SignInProblem, Step};

    /// The supervisor's decision after each way a session can end, as a table.
    #[test]
    fn what_next_after_each_kind_of_ending() {
        let timing = Timing {
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(60),
            poll_interval: Duration::from_secs(100),
            throttle_backoff: Duration::from_secs(30),
            ..Timing::default()
        };
        let failed = |error, watched| End::Failed { error, watched };
        let again = |secs: u64, report| Next::Again {
            delay: Duration::from_secs(secs),
            report,
        };
        // (how it ended, failures before it, what next) — jitter 1.0 gives the full delay.
        let table = vec![
            (End::Stopped, 0, Next::Stop),
            (End::Reconnect, 3, again(0, None)),
            (End::Visited, 3, again(110, None)),
            (
                failed(ConnectError::network(NetCause::Closed), false),
                0,
                again(2, Some(State::Backoff)),
            ),
            (
                failed(ConnectError::network(NetCause::Closed), false),
                2,
                again(8, Some(State::Backoff)),
            ),
            // A session that got as far as watching starts the backoff over.
            (
                failed(ConnectError::network(NetCause::Closed), true),
                5,
                again(2, Some(State::Backoff)),
            ),
            (
                failed(ConnectError::Timeout(Step::FetchingNew), false),
                10,
                again(60, Some(State::Backoff)),
            ),
            // Throttled: never sooner than throttle_backoff.
            (
                failed(ConnectError::Throttled("[UNAVAILABLE]".into()), false),
                0,
                again(30, Some(State::Backoff)),
            ),
            // Security problems and a full disk need the user; retried all the same.
            (
                failed(ConnectError::StarttlsUnavailable, false),
                0,
                again(2, Some(State::Error)),
            ),
            (
                failed(
                    ConnectError::Tls {
                        reason: crate::error::TlsReason::Expired,
                        host: None,
                        words: None,
                    },
                    false,
                ),
                1,
                again(4, Some(State::Error)),
            ),
            (
                failed(
                    ConnectError::Store {
                        path: "/s".into(),
                        cause: crate::error::StoreCause::DiskFull,
                        words: None,
                    },
                    true,
                ),
                0,
                again(2, Some(State::Error)),
            ),
            // A rejected password: no more logins.
            (
                failed(ConnectError::Auth("no".into()), true),
                0,
                Next::Halt(State::AuthFailed),
            ),
            // Sign-in: a grant that is gone waits for the user; a refused password must not
            // be sent again; a wrong client id waits for the settings; a token endpoint down
            // is retried; Exchange's "token expired" goodbye reconnects at once, silently.
            (
                failed(
                    ConnectError::sign_in(SignInProblem::Required, "google"),
                    true,
                ),
                0,
                Next::Halt(State::SigninRequired),
            ),
            (
                failed(
                    ConnectError::sign_in(SignInProblem::PasswordsRefused, ""),
                    false,
                ),
                0,
                Next::Halt(State::AuthFailed),
            ),
            (
                failed(
                    ConnectError::sign_in(SignInProblem::ClientRejected, "google"),
                    false,
                ),
                0,
                Next::Halt(State::Error),
            ),
            (
                failed(
                    ConnectError::sign_in(SignInProblem::Unavailable, "google"),
                    false,
                ),
                1,
                again(4, Some(State::Backoff)),
            ),
            (
                failed(
                    ConnectError::network(NetCause::Bye)
                        .with_words("Session invalidated - AccessTokenExpired"),
                    true,
                ),
                3,
                again(0, None),
            ),
        ];
        for (end, failures, want) in table {
            let mut backoff = Backoff::new(timing.backoff_min, timing.backoff_max);
            for _ in 0..failures {
                backoff.next_delay(1.0);
            }
            let got = after_session(&end, &mut backoff, &timing, 1.0, 1.0);
            assert_eq!(got, want, "after {failures} failures, then {end:?}");
        }
    }
}
