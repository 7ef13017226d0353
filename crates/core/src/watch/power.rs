//! Suspend/resume and network changes: the moments when every open connection is suspect.
//!
//! After a laptop wakes up, or moves to another network, its IMAP connections usually look
//! alive (no RST ever arrived) but lead nowhere; waiting for `dead_after` to notice would
//! leave mail unannounced for minutes. So the engine listens for the moments that say "the
//! link changed" and rebuilds every connection at once, skipping backoff:
//!
//! - logind's `org.freedesktop.login1.Manager.PrepareForSleep(false)` (resumed),
//! - NetworkManager's `StateChanged(u)` reaching a connected state, and its `Connectivity`
//!   property reaching FULL,
//! - and, where neither bus service exists (or as a backstop), a wall-clock jump: the monotonic
//!   clock that drives every timer stops during suspend while the wall clock does not, so a
//!   wall clock that ran [`CLOCK_JUMP`] ahead of the monotonic one between two checks means the
//!   machine was asleep.
//!
//! The decisions ([`ClockJump`], [`NetworkState`], [`Debounce`]) are pure and tested with
//! tables; [`power_loop`] only feeds them D-Bus signals and clock readings.
//!
//! Spoofing: on the system bus any process may emit a signal with logind's path and interface.
//! The worst a spoofed signal does is one reconnect per [`DEBOUNCE`], which the login cap
//! bounds anyway, so senders are not checked (which also lets tests emit them).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime};

use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use zbus::message::Type as MessageType;
use zbus::{Connection, MatchRule, Message, MessageStream};

/// How often the wall clock is compared with the monotonic clock. After a resume the jump is
/// seen at the next check, so this bounds the fallback's delay; one comparison costs nothing.
pub const CLOCK_CHECK: Duration = Duration::from_secs(5);

/// A wall clock this far ahead of the monotonic clock since the last check means a suspend.
/// Far above scheduling jitter and NTP slewing (which never steps by more than a few seconds
/// on a running machine), far below any sleep worth noticing.
pub const CLOCK_JUMP: Duration = Duration::from_secs(10);

/// Triggers within this long of a reconnect are folded into one trailing reconnect at its end:
/// a resume typically brings `PrepareForSleep(false)`, a NetworkManager state change and a
/// connectivity change within a second, and each reconnect costs a login.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// Connecting to the bus; a local socket answers in milliseconds or not at all.
const BUS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Signals queued per subscription before zbus drops the oldest; they come one at a time.
const SIGNAL_QUEUE: usize = 16;

const LOGIN1_MANAGER: &str = "org.freedesktop.login1.Manager";
const LOGIN1_PATH: &str = "/org/freedesktop/login1";
const NM: &str = "org.freedesktop.NetworkManager";
const NM_PATH: &str = "/org/freedesktop/NetworkManager";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// Which D-Bus bus to listen on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PowerBus {
    /// The system bus, where logind and NetworkManager live (honours
    /// `DBUS_SYSTEM_BUS_ADDRESS`). The default.
    #[default]
    System,
    /// The session bus (for tests on a private bus).
    Session,
    /// A bus at this D-Bus address, e.g. `unix:path=/run/test/bus`.
    Address(String),
    /// No bus: only the wall-clock jump detector runs.
    Off,
}

impl FromStr for PowerBus {
    type Err = String;
    /// `system`, `session`, `off`, or a D-Bus address (it contains a `:`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "system" => Ok(PowerBus::System),
            "session" => Ok(PowerBus::Session),
            "off" => Ok(PowerBus::Off),
            a if a.contains(':') => Ok(PowerBus::Address(a.to_owned())),
            other => Err(format!(
                "`{other}` is not a bus: use system, session, off or a D-Bus address such as unix:path=/run/bus"
            )),
        }
    }
}

impl fmt::Display for PowerBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PowerBus::System => f.write_str("the system bus"),
            PowerBus::Session => f.write_str("the session bus"),
            PowerBus::Address(a) => write!(f, "the bus at {a}"),
            PowerBus::Off => f.write_str("no bus"),
        }
    }
}

/// How the engine watches for suspend/resume and network changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PowerOptions {
    pub bus: PowerBus,
}

/// Why the connections became suspect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// logind announced the end of a suspend.
    Resumed,
    /// NetworkManager reached a connected state, or full connectivity.
    NetworkUp,
    /// The wall clock jumped ahead of the monotonic clock by this much: a suspend nobody
    /// announced.
    ClockJump(Duration),
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Resumed => f.write_str("resumed from sleep"),
            Change::NetworkUp => f.write_str("the network changed"),
            Change::ClockJump(d) => write!(
                f,
                "the clock jumped {} s ahead (resumed from sleep?)",
                d.as_secs()
            ),
        }
    }
}

/// Detects a suspend from the wall clock running ahead of the monotonic clock.
#[derive(Clone, Copy, Debug)]
pub struct ClockJump {
    wall: SystemTime,
    mono: Instant,
}

impl ClockJump {
    pub fn new(wall: SystemTime, mono: Instant) -> Self {
        ClockJump { wall, mono }
    }

    /// Compares with the previous reading and keeps this one. Returns how far the wall clock
    /// ran ahead when that is at least [`CLOCK_JUMP`]. A wall clock set *back* is not a suspend.
    pub fn observe(&mut self, wall: SystemTime, mono: Instant) -> Option<Duration> {
        let wall_elapsed = wall.duration_since(self.wall).unwrap_or(Duration::ZERO);
        let mono_elapsed = mono.saturating_duration_since(self.mono);
        *self = ClockJump { wall, mono };
        let ahead = wall_elapsed.saturating_sub(mono_elapsed);
        (ahead >= CLOCK_JUMP).then_some(ahead)
    }
}

/// NetworkManager's state and connectivity, as far as they say "the network came (back)".
#[derive(Clone, Copy, Debug, Default)]
pub struct NetworkState {
    state: Option<u32>,
    connectivity: Option<u32>,
}

/// `NM_STATE_CONNECTED_LOCAL`: the lowest state with a usable link (a LAN server works).
const NM_STATE_CONNECTED_LOCAL: u32 = 50;
/// `NM_CONNECTIVITY_FULL`.
const NM_CONNECTIVITY_FULL: u32 = 4;

impl NetworkState {
    /// A `StateChanged(state)`: true when it is connected and better than before (a new link,
    /// or site → global after a captive portal). Going down says nothing useful: the
    /// connections fail on their own and the next "up" skips their backoff.
    pub fn state_changed(&mut self, state: u32) -> bool {
        let before = self.state.replace(state);
        state >= NM_STATE_CONNECTED_LOCAL && before.is_none_or(|b| state > b)
    }

    /// A new `Connectivity` value: true when it reaches FULL from anything else.
    pub fn connectivity_changed(&mut self, connectivity: u32) -> bool {
        let before = self.connectivity.replace(connectivity);
        connectivity == NM_CONNECTIVITY_FULL && before != Some(NM_CONNECTIVITY_FULL)
    }
}

/// How long after one report of a resume another is taken for the same resume. Logind's
/// `PrepareForSleep(false)` usually comes first and resets the clock baseline, so the clock
/// never reports that resume again; the other order happens when the clock check (every
/// [`CLOCK_CHECK`]) runs before D-Bus delivers logind's signal, a second or two at most. One
/// clock-check period covers it without hiding a real resume on a machine without logind
/// (whose resumes are clock jumps, never seconds apart). A `PrepareForSleep(true)` in between
/// makes the next resume a new one whatever the time.
pub const SAME_RESUME: Duration = CLOCK_CHECK;

/// Leading-edge debounce with one trailing call: the first trigger fires at once; triggers
/// within [`DEBOUNCE`] of that are folded into one more at the end of the window (the network
/// may only be usable by then). A second report of the same resume ([`SAME_RESUME`]) is
/// dropped: it must not rebuild the connections the first one just made.
#[derive(Clone, Copy, Debug, Default)]
pub struct Debounce {
    last_fired: Option<Instant>,
    trailing: Option<Instant>,
    last_resume: Option<Instant>,
}

impl Debounce {
    /// A trigger at `now`: true to fire at once (otherwise one may be scheduled, see
    /// [`Debounce::due`]).
    pub fn trigger(&mut self, now: Instant, change: Change) -> bool {
        if matches!(change, Change::Resumed | Change::ClockJump(_)) {
            if self
                .last_resume
                .is_some_and(|t| now.saturating_duration_since(t) < SAME_RESUME)
            {
                return false;
            }
            self.last_resume = Some(now);
        }
        match self.last_fired {
            Some(t) if now.saturating_duration_since(t) < DEBOUNCE => {
                self.trailing = Some(t + DEBOUNCE);
                false
            }
            _ => {
                self.last_fired = Some(now);
                self.trailing = None;
                true
            }
        }
    }

    /// When the scheduled trailing call is due, if one is.
    pub fn due(&self) -> Option<Instant> {
        self.trailing
    }

    /// The machine is going to sleep (`PrepareForSleep(true)`): the next resume is a new one,
    /// however soon it comes.
    pub fn going_to_sleep(&mut self) {
        self.last_resume = None;
    }

    /// The trailing call fired at `now`.
    pub fn fired_trailing(&mut self, now: Instant) {
        self.trailing = None;
        self.last_fired = Some(now);
    }
}

/// The signals we listen to, on one connection.
struct Signals {
    sleep: MessageStream,
    nm_state: MessageStream,
    nm_props: MessageStream,
}

async fn connect(bus: &PowerBus) -> zbus::Result<Option<Connection>> {
    let conn = match bus {
        PowerBus::Off => return Ok(None),
        PowerBus::System => Connection::system().await?,
        PowerBus::Session => Connection::session().await?,
        PowerBus::Address(a) => {
            zbus::connection::Builder::address(a.as_str())?
                .build()
                .await?
        }
    };
    Ok(Some(conn))
}

async fn subscribe(conn: &Connection) -> zbus::Result<Signals> {
    let rule = |path: &'static str, interface: &'static str, member: &'static str| {
        MatchRule::builder()
            .msg_type(MessageType::Signal)
            .path(path)
            .and_then(|b| b.interface(interface))
            .and_then(|b| b.member(member))
            .map(|b| b.build())
    };
    let props = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .path(NM_PATH)?
        .interface(PROPERTIES)?
        .member("PropertiesChanged")?
        .arg(0, NM)?
        .build();
    Ok(Signals {
        sleep: MessageStream::for_match_rule(
            rule(LOGIN1_PATH, LOGIN1_MANAGER, "PrepareForSleep")?,
            conn,
            Some(SIGNAL_QUEUE),
        )
        .await?,
        nm_state: MessageStream::for_match_rule(
            rule(NM_PATH, NM, "StateChanged")?,
            conn,
            Some(SIGNAL_QUEUE),
        )
        .await?,
        nm_props: MessageStream::for_match_rule(props, conn, Some(SIGNAL_QUEUE)).await?,
    })
}

/// The next message of a stream, or never once it ended or if there is none.
async fn next(stream: &mut Option<MessageStream>) -> Message {
    loop {
        match stream.as_mut() {
            Some(s) => match s.next().await {
                Some(Ok(m)) => return m,
                Some(Err(e)) => debug!("ignoring an unreadable D-Bus message: {e}"),
                None => {
                    warn!("the D-Bus connection closed; only the clock now detects resumes");
                    *stream = None;
                }
            },
            None => std::future::pending::<()>().await,
        }
    }
}

/// Listens until cancelled; calls `on_change` whenever the connections should be rebuilt.
/// Connects to `bus` and subscribes to logind's and NetworkManager's signals. Without a bus
/// (or when it does not answer in [`BUS_CONNECT_TIMEOUT`]) resumes are still found from the
/// clock; the reason is logged once.
async fn listen(bus: &PowerBus) -> (Option<Connection>, Option<Signals>) {
    match tokio::time::timeout(BUS_CONNECT_TIMEOUT, connect(bus)).await {
        Ok(Ok(Some(conn))) => match subscribe(&conn).await {
            Ok(s) => {
                info!("listening for suspend/resume and network changes on {bus}");
                (Some(conn), Some(s))
            }
            Err(e) => {
                warn!("cannot subscribe to suspend/resume signals on {bus}: {e}");
                (None, None)
            }
        },
        Ok(Ok(None)) => (None, None),
        Ok(Err(e)) => {
            info!("no {bus} ({e}); resumes are detected from the clock only");
            (None, None)
        }
        Err(_) => {
            warn!("connecting to {bus} timed out; resumes are detected from the clock only");
            (None, None)
        }
    }
}

pub(crate) async fn power_loop(
    options: PowerOptions,
    on_change: impl Fn(Change) + Send + 'static,
    cancel: CancellationToken,
) {
    // The connection must live as long as its streams.
    let (_conn, signals) = listen(&options.bus).await;
    let (mut sleep, mut nm_state, mut nm_props) = match signals {
        Some(s) => (Some(s.sleep), Some(s.nm_state), Some(s.nm_props)),
        None => (None, None, None),
    };
    let mut clock = ClockJump::new(SystemTime::now(), Instant::now());
    let mut net = NetworkState::default();
    let mut debounce = Debounce::default();
    let mut tick = tokio::time::interval(CLOCK_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let trailing = debounce.due();
        let change = tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => clock.observe(SystemTime::now(), Instant::now()).map(Change::ClockJump),
            () = async {
                match trailing {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => {
                debounce.fired_trailing(Instant::now());
                clock = ClockJump::new(SystemTime::now(), Instant::now());
                on_change(Change::NetworkUp);
                continue;
            }
            m = next(&mut sleep) => match m.body().deserialize::<bool>() {
                Ok(true) => {
                    info!("going to sleep");
                    debounce.going_to_sleep();
                    None
                }
                Ok(false) => Some(Change::Resumed),
                Err(e) => {
                    debug!("malformed PrepareForSleep: {e}");
                    None
                }
            },
            m = next(&mut nm_state) => match m.body().deserialize::<u32>() {
                Ok(state) => {
                    debug!(state, "NetworkManager state");
                    net.state_changed(state).then_some(Change::NetworkUp)
                }
                Err(e) => {
                    debug!("malformed StateChanged: {e}");
                    None
                }
            },
            m = next(&mut nm_props) => connectivity(&m)
                .and_then(|c| net.connectivity_changed(c).then_some(Change::NetworkUp)),
        };
        let Some(change) = change else { continue };
        // Whatever told us, the clock jump of this resume is now explained: without this the
        // next clock check would reconnect a second time.
        clock = ClockJump::new(SystemTime::now(), Instant::now());
        if debounce.trigger(Instant::now(), change) {
            on_change(change);
        } else {
            debug!(%change, "folded into the reconnect already under way");
        }
    }
}

/// `Connectivity` from a `PropertiesChanged(s, a{sv}, as)` of NetworkManager, if present.
fn connectivity(m: &Message) -> Option<u32> {
    type Changed = (
        String,
        std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        Vec<String>,
    );
    let (_, changed, _): Changed = m.body().deserialize().ok()?;
    u32::try_from(changed.get("Connectivity")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bus_names_parse() {
        assert_eq!("system".parse(), Ok(PowerBus::System));
        assert_eq!("session".parse(), Ok(PowerBus::Session));
        assert_eq!("off".parse(), Ok(PowerBus::Off));
        assert_eq!(
            "unix:path=/run/x".parse(),
            Ok(PowerBus::Address("unix:path=/run/x".into()))
        );
        assert!("sytem".parse::<PowerBus>().is_err());
    }

    #[test]
    fn clock_jump_table() {
        let (w0, m0) = (
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
            Instant::now(),
        );
        let s = Duration::from_secs;
        // (wall elapsed, monotonic elapsed, jump reported)
        let table = [
            (s(5), s(5), None),                // awake
            (s(5) + s(9), s(5), None),         // NTP step below the threshold
            (s(5) + s(10), s(5), Some(s(10))), // slept 10 s
            (s(3605), s(5), Some(s(3600))),    // slept an hour
            (s(0), s(5), None),                // clock set back
        ];
        for (wall, mono, want) in table {
            let mut c = ClockJump::new(w0, m0);
            assert_eq!(
                c.observe(w0 + wall, m0 + mono),
                want,
                "{wall:?} vs {mono:?}"
            );
            // The reading becomes the new baseline: the same jump is reported once.
            assert_eq!(c.observe(w0 + wall + s(5), m0 + mono + s(5)), None);
        }
    }

    #[test]
    fn network_state_table() {
        // (sequence of StateChanged values, which of them fire)
        let table: [(&[u32], &[bool]); 5] = [
            (&[70], &[true]),                       // first news is "connected"
            (&[20, 40, 70], &[false, false, true]), // Wi-Fi came back
            (&[70, 70], &[true, false]),            // repeated value
            (&[60, 70], &[true, true]),             // captive portal passed
            (&[70, 20, 70], &[true, false, true]),  // down and up again
        ];
        for (states, fires) in table {
            let mut n = NetworkState::default();
            let got: Vec<bool> = states.iter().map(|s| n.state_changed(*s)).collect();
            assert_eq!(got, fires, "{states:?}");
        }
        let mut n = NetworkState::default();
        let got: Vec<bool> = [1, 4, 4, 3, 4]
            .iter()
            .map(|c| n.connectivity_changed(*c))
            .collect();
        assert_eq!(got, [false, true, false, false, true]);
    }

    #[test]
    fn debounce_fires_at_once_then_folds_into_one_trailing() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        let up = Change::NetworkUp;
        assert!(d.trigger(t0, up));
        assert_eq!(d.due(), None);
        assert!(!d.trigger(t0 + Duration::from_millis(200), up));
        assert!(!d.trigger(t0 + Duration::from_millis(400), up));
        assert_eq!(d.due(), Some(t0 + DEBOUNCE));
        d.fired_trailing(t0 + DEBOUNCE);
        assert_eq!(d.due(), None);
        // Long after, a new trigger fires at once again.
        assert!(d.trigger(t0 + DEBOUNCE * 3, up));
    }

    /// One resume reported twice — the clock jump seen first, logind's signal a moment later,
    /// or the other way round — reconnects once; the network coming up after it still counts.
    #[test]
    fn one_resume_told_twice_reconnects_once() {
        let t0 = Instant::now();
        let jump = Change::ClockJump(Duration::from_secs(3600));
        for (first, second) in [(jump, Change::Resumed), (Change::Resumed, jump)] {
            let mut d = Debounce::default();
            assert!(d.trigger(t0, first));
            assert!(!d.trigger(t0 + Duration::from_millis(300), second));
            assert_eq!(d.due(), None, "no trailing reconnect for the same resume");
            assert!(!d.trigger(t0 + Duration::from_millis(4900), second));
            assert_eq!(d.due(), None);
            // The network comes back after the resume: that is news, and is acted on.
            assert!(d.trigger(t0 + Duration::from_secs(5), Change::NetworkUp));
            // A resume much later is another resume.
            assert!(d.trigger(t0 + SAME_RESUME * 3, Change::Resumed));
            // So is one right after, if the machine went to sleep again in between (a lid
            // closed and opened again within seconds).
            d.going_to_sleep();
            assert!(d.trigger(
                t0 + SAME_RESUME * 3 + Duration::from_secs(3),
                Change::Resumed
            ));
        }
    }
}
