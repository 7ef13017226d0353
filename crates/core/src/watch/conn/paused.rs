//! The session loop over hours of virtual time, against an in-process IMAP server, in
//! milliseconds: tokio's paused clock (as mini-redis tests its server) advances only when
//! every task waits, and a loopback socket in the same runtime wakes its reader at once, so
//! timers fire exactly when the loop's timings say and never because the machine was slow.
//!
//! The end-to-end tests prove the same behaviours against a real Dovecot in real time, where
//! a 10-minute IDLE refresh or a 5-minute silent link cannot be waited for; these prove the
//! timings themselves: IDLE refreshed every `idle_refresh` with the unread set re-read, a
//! silent link declared dead after `dead_after` + `done_timeout`, a server without IDLE polled
//! every `poll_interval` (±10 %), and "Check now" looking again at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Conn;
use crate::config::{Account, Security, Timing};
use crate::error::{ConnectError, Step};
use crate::imap::transport::login::login;
use crate::imap::transport::{self, TlsConfigs};
use crate::sync::state::Store;
use crate::watch::account::{AccountCtx, End};
use crate::watch::budget::Pool;
use crate::watch::memory::Memory;
use crate::watch::{AccountStatus, Reporter, Wake, WakeKind};

/// How the in-process server behaves.
#[derive(Clone, Copy)]
struct Behaviour {
    idle: bool,
    /// After `+ idling`, never answer again (a black-holed link).
    silent_in_idle: bool,
}

/// Commands the server received, with the virtual time since the test started.
type Log = Arc<Mutex<Vec<(Duration, String)>>>;

/// A tiny IMAP server: one empty INBOX, just enough for a session to watch it.
async fn serve(listener: TcpListener, how: Behaviour, log: Log, t0: Instant) {
    let Ok((socket, _)) = listener.accept().await else {
        return;
    };
    // As real servers do: without it, Nagle holds each answer to commands that came in one
    // write until the client ACKs the previous one, a delay the paused clock cannot see (it
    // jumps to the next timeout instead).
    socket.set_nodelay(true).unwrap();
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let caps = if how.idle {
        "IMAP4rev1 IDLE"
    } else {
        "IMAP4rev1"
    };
    let greeting = format!("* OK [CAPABILITY {caps}] in-process server ready\r\n");
    if write.write_all(greeting.as_bytes()).await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        log.lock().unwrap().push((t0.elapsed(), line.clone()));
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let mut verb = words.next().unwrap_or("").to_ascii_uppercase();
        if verb == "UID" {
            verb = words.next().unwrap_or("").to_ascii_uppercase();
        }
        let answer = match verb.as_str() {
            "CAPABILITY" => format!("* CAPABILITY {caps}\r\n{tag} OK done\r\n"),
            "SELECT" => format!(
                "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 1] ok\r\n{tag} OK [READ-WRITE] done\r\n"
            ),
            "SEARCH" => format!("* SEARCH\r\n{tag} OK done\r\n"),
            "IDLE" => {
                if write.write_all(b"+ idling\r\n").await.is_err() {
                    return;
                }
                if how.silent_in_idle {
                    // Read and ignore whatever comes (DONE), answer nothing: a dead link.
                    while let Ok(Some(line)) = lines.next_line().await {
                        log.lock().unwrap().push((t0.elapsed(), line));
                    }
                    return;
                }
                match lines.next_line().await {
                    Ok(Some(done)) => {
                        log.lock().unwrap().push((t0.elapsed(), done));
                        format!("{tag} OK idle done\r\n")
                    }
                    _ => return,
                }
            }
            "LOGOUT" => format!("* BYE bye\r\n{tag} OK done\r\n"),
            // LOGIN, NOOP, FETCH, STATUS, ENABLE: nothing to report.
            _ => format!("{tag} OK done\r\n"),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

struct Rig {
    ctx: AccountCtx,
    log: Log,
    t0: Instant,
    /// Keeps the event channel open; events are not looked at here.
    _events: mpsc::Receiver<crate::watch::Incoming>,
}

impl Rig {
    async fn start(how: Behaviour, timing: Timing) -> Rig {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Log::default();
        let t0 = Instant::now();
        tokio::spawn(serve(listener, how, log.clone(), t0));
        let mut account = Account::new("paused", "127.0.0.1", "alice");
        account.port = port;
        account.security = Security::Plain;
        account.timing = timing;
        let (tx, rx) = mpsc::channel(64);
        let status = Arc::new(Mutex::new(AccountStatus::new("paused")));
        let ctx = AccountCtx {
            account: Arc::new(account),
            store: Store::in_memory().unwrap(),
            reporter: Reporter::new("paused", tx, status),
            wake: Arc::new(Wake::default()),
            cancel: CancellationToken::new(),
            budget: Arc::new(Pool::new(1)),
            tls: Arc::new(TlsConfigs::default()),
            previous: None,
            finished: CancellationToken::new(),
        };
        Rig {
            ctx,
            log,
            t0,
            _events: rx,
        }
    }

    /// One session, as the supervisor runs it, until it ends or `cancel` is cancelled.
    async fn session(&self) -> Result<(), End> {
        let account = &self.ctx.account;
        let greeted = transport::connect(account, &self.ctx.tls).await.unwrap();
        let password = secrecy::SecretString::from("pw");
        let li = login(greeted, "alice", &password, account.timing.command_timeout)
            .await
            .unwrap();
        let mut conn = Conn::new(&self.ctx, li, Memory::default());
        conn.run(true).await
    }

    /// When each command containing `verb` arrived, in virtual seconds.
    fn times(&self, verb: &str) -> Vec<u64> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, l)| l.to_ascii_uppercase().contains(verb))
            .map(|(t, _)| t.as_secs())
            .collect()
    }
}

fn timing() -> Timing {
    Timing {
        idle_refresh: Duration::from_secs(600),
        dead_after: Duration::from_secs(3600),
        poll_interval: Duration::from_secs(60),
        command_timeout: Duration::from_secs(30),
        done_timeout: Duration::from_secs(10),
        ..Timing::default()
    }
}

/// IDLE is ended and issued again every `idle_refresh` (10 minutes), each time re-reading the
/// unread set, for hours on one connection.
#[tokio::test(start_paused = true)]
async fn idle_is_refreshed_every_idle_refresh_for_hours() {
    let rig = Rig::start(
        Behaviour {
            idle: true,
            silent_in_idle: false,
        },
        timing(),
    )
    .await;
    let watching = rig.session();
    tokio::select! {
        end = watching => panic!("the session ended: {:?}", end.err()),
        _ = tokio::time::sleep(Duration::from_secs(3 * 3600 + 60)) => {}
    }
    // IDLE at 0, 10, 20, … 180 minutes; DONE before each refresh.
    let idles = rig.times(" IDLE");
    assert_eq!(idles.len(), 19, "{idles:?}");
    for (n, t) in idles.iter().enumerate() {
        assert_eq!(*t, n as u64 * 600, "IDLE #{n} at {t} s: {idles:?}");
    }
    assert_eq!(rig.times("DONE").len(), 18);
    // The unread set is read on connect and again at every refresh.
    assert_eq!(rig.times("SEARCH").len(), 19);
    assert!(rig.t0.elapsed() >= Duration::from_secs(3 * 3600));
}

/// A link that goes silent in IDLE is found dead after `dead_after` of silence plus
/// `done_timeout` for the unanswered DONE — not earlier, not later.
#[tokio::test(start_paused = true)]
async fn a_silent_link_is_declared_dead_after_dead_after_and_done_timeout() {
    let mut t = timing();
    t.dead_after = Duration::from_secs(300);
    let rig = Rig::start(
        Behaviour {
            idle: true,
            silent_in_idle: true,
        },
        t,
    )
    .await;
    let end = rig.session().await;
    let elapsed = rig.t0.elapsed();
    match end {
        Err(End::Failed {
            error: ConnectError::Timeout(Step::EndingIdle),
            watched: true,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(elapsed.as_secs(), 310, "{elapsed:?}");
    assert_eq!(rig.times("DONE"), [300]);
}

/// Without IDLE the folder is looked at every `poll_interval` ±10 %: over an hour of 60 s
/// polls, 55 to 66 looks, each 54 to 66 s after the previous.
#[tokio::test(start_paused = true)]
async fn a_server_without_idle_is_polled_every_poll_interval() {
    let rig = Rig::start(
        Behaviour {
            idle: false,
            silent_in_idle: false,
        },
        timing(),
    )
    .await;
    tokio::select! {
        end = rig.session() => panic!("the session ended: {:?}", end.err()),
        _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
    }
    assert!(
        rig.times(" IDLE").is_empty(),
        "IDLE sent to a server without it"
    );
    let looks = rig.times("SEARCH");
    assert!(
        (55..=67).contains(&looks.len()),
        "{} looks: {looks:?}",
        looks.len()
    );
    for pair in looks[1..].windows(2) {
        let gap = pair[1] - pair[0];
        assert!((53..=67).contains(&gap), "{gap} s between looks: {looks:?}");
    }
}

/// "Check now" during a 10-minute IDLE looks again at once (NOOP, then a fresh look), on the
/// same connection, without waiting for the refresh.
#[tokio::test(start_paused = true)]
async fn check_now_looks_at_once_on_the_same_connection() {
    let rig = Rig::start(
        Behaviour {
            idle: true,
            silent_in_idle: false,
        },
        timing(),
    )
    .await;
    let wake = rig.ctx.wake.clone();
    tokio::select! {
        end = rig.session() => panic!("the session ended: {:?}", end.err()),
        _ = async {
            tokio::time::sleep(Duration::from_secs(125)).await;
            wake.wake(WakeKind::Check);
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => {}
    }
    assert_eq!(rig.times("NOOP"), [125]);
    assert_eq!(rig.times("SEARCH"), [0, 125]);
    assert_eq!(rig.times(" IDLE"), [0, 125]);
}
