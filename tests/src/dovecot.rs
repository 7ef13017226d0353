//! A private Dovecot 2.3 per test: own directory, own ports, own CA, own processes.
//!
//! Lifecycle: [`Dovecot::start`] → (any number of [`Dovecot::stop`]/[`Dovecot::crash`] and
//! [`Dovecot::start_again`]) → drop. The master runs in the foreground (`-F`) as our child, in
//! a process group of its own, so one signal reaches every Dovecot process of this instance and
//! nothing of any other instance. Nothing here is global: parallel tests each get their own.
//!
//! Needs root (Dovecot's master switches to uid 10000 for mail) and the Debian packages
//! `dovecot-core dovecot-imapd dovecot-pop3d`.
//!
//! Every instance speaks IMAP and POP3 on the same mail store: [`Dovecot::pop3_port`] (USER/PASS,
//! SASL PLAIN, STLS) and [`Dovecot::pop3s_port`] (implicit TLS), so a test can watch a mailbox
//! over POP3 and check over IMAP (or `doveadm`) what the POP3 client did to it.
//!
//! # What a POP3 session does to the mailbox (verified on Dovecot 2.3.19, Debian 12)
//!
//! - `TOP n k` never sets `\Seen`: after `TOP 1 0`, `TOP 2 1` and `QUIT`, `doveadm mailbox
//!   status` still counts every message unseen.
//! - `RETR n` sets `\Seen` on that message when the session ends (QUIT or a dropped
//!   connection): `pop3_no_flag_updates` is left at Dovecot's default `no` on purpose, so a
//!   client that downloads a message where it should only peek is caught by an IMAP `UNSEEN`
//!   count, exactly as its user would see it in their mail client.
//! - Opening the mailbox over POP3 *does* change one thing IMAP can see: it moves Maildir files
//!   from `new/` to `cur/` and so clears `\Recent` (`recent=3` before a POP3 login, `recent=0`
//!   after), as any IMAP SELECT would. No test may rely on `\Recent` once a POP3 client has
//!   looked at the mailbox.
//! - `DELE` only counts when the session is committed by `QUIT`: `DELE` then a dropped
//!   connection, or `DELE` `RSET` `QUIT`, deletes nothing and logs `del=0/…`.
//!   [`Dovecot::pop3_logouts`] reads what each session really did from the log.
//! - UIDLs are Dovecot's default `%08Xu%08Xv` (IMAP UID then UIDVALIDITY in hex): stable across
//!   restarts, and all of them change when [`Dovecot::set_uidvalidity`] does, which is how a
//!   test simulates a server migration.
//! - From 127.0.0.1 to 127.0.0.1 USER/PASS is allowed without TLS (Dovecot counts the
//!   connection as secured), as for IMAP. With `listen = "127.0.0.2"` the plain port's CAPA
//!   lists neither `USER` nor any SASL mechanism (a bare `SASL` line) until STLS, and `USER`
//!   gets `-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS)
//!   connections.`

use std::fmt::{self, Write as _};
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt, chown, fchown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use tempfile::TempDir;

use crate::message::message;
use crate::process::{
    ProcessInfo, effective_uid, find_program, group_id, live_members, run, run_ok, signal_group,
    wait_group_gone,
};
use crate::raw_imap::{Arg, RawImap};
use crate::tls::{TlsFiles, make_tls};

/// Owner of every mail file. Dovecot refuses uid 0 for mail, and a numeric id needs no passwd
/// entry, so nothing on the host has to be set up.
pub const MAIL_UID: u32 = 10000;
/// Group of every mail file; see [`MAIL_UID`].
pub const MAIL_GID: u32 = 10000;

/// Dovecot 2.3.19's post-login capability list with `IDLE` and `NOTIFY` removed, for
/// `DovecotOptions::idle = false`. Everything else stays, so a client that wrongly keys off
/// CONDSTORE/QRESYNC instead of IDLE is caught. An explicit list replaces *everything*,
/// including what Dovecot would append itself, so `SPECIAL-USE` (from the namespace) and
/// `COMPRESS=DEFLATE` (from imap_zlib) are listed here too. The harness test compares this
/// against a default instance so a Dovecot upgrade that adds a capability is noticed.
/// Dovecot 2.3's capabilities with IDLE but without NOTIFY: a server that can push one folder
/// per connection only.
pub const CAPABILITIES_WITHOUT_NOTIFY: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
     SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
     CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC \
     ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY \
     PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE COMPRESS=DEFLATE";

/// Dovecot 2.3's capabilities without CONDSTORE and QRESYNC (IDLE and NOTIFY kept): a server
/// where a reconnect must re-read the unread set.
pub const CAPABILITIES_WITHOUT_QRESYNC: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
     SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
     CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 NOTIFY \
     ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY \
     PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE COMPRESS=DEFLATE";

pub const CAPABILITIES_WITHOUT_PUSH: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT \
     SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
     CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC \
     ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY \
     PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE COMPRESS=DEFLATE";

/// Folders every user has from the first login, with their RFC 6154 roles, like a typical
/// provider (and Debian's stock config). Lets tests check that Junk/Trash are not notified.
pub const SPECIAL_FOLDERS: [(&str, &str); 4] = [
    ("Drafts", "\\Drafts"),
    ("Sent", "\\Sent"),
    ("Junk", "\\Junk"),
    ("Trash", "\\Trash"),
];

/// From spawn to "greeting answered"; measured ~100 ms, so 10 s only trips on a real failure.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the master may take to exit after SIGTERM before the whole group is SIGKILLed.
/// Measured: ~10 ms, up to ~1 s on a loaded machine.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// After SIGKILL only the kernel's reaping is left; this bound only catches the impossible.
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
/// `doveadm` commands; force-resync over 100,000 messages is the slowest legitimate one.
const DOVEADM_TIMEOUT: Duration = Duration::from_secs(180);
/// Fresh ports per attempt if another process grabbed ours between probing and Dovecot's bind.
const START_ATTEMPTS: usize = 3;
/// `start_again` must reuse its ports (clients are configured for them), so it retries the same
/// ones for a while if a stray socket holds them.
const RESTART_BIND_ATTEMPTS: usize = 10;

/// How a test wants its server to look.
#[derive(Clone)]
pub struct DovecotOptions {
    /// `true`: Dovecot's normal capabilities. `false`: `imap_capability` is set to
    /// [`CAPABILITIES_WITHOUT_PUSH`] (no IDLE, no NOTIFY), before and after login.
    pub idle: bool,
    /// Address to listen on. `127.0.0.1` (default) counts as a secure connection for clients
    /// from 127.0.0.1 (Dovecot treats local IP == remote IP as secured). `127.0.0.2` makes those
    /// clients insecure: plaintext login shows `LOGINDISABLED` and STARTTLS is needed.
    pub listen: String,
    /// `true` (default): TLS on, STARTTLS offered on the plain port and implicit TLS on the
    /// imaps port. `false`: `ssl = no`, so STARTTLS is not offered and nothing listens on
    /// [`Dovecot::imaps_port`] (connections there are refused).
    pub starttls: bool,
    /// `ssl = required` (and `disable_plaintext_auth = yes` whatever
    /// [`allow_plaintext_auth`](Self::allow_plaintext_auth) says): no authentication before TLS.
    /// Dovecot still counts 127.0.0.1 → 127.0.0.1 as secure and lets LOGIN through there; combine
    /// with `listen = "127.0.0.2"` to see the refusal.
    pub ssl_required: bool,
    /// `false` (default, Dovecot's default): `disable_plaintext_auth = yes`, so clients on an
    /// insecure address must use TLS. `true` allows LOGIN in clear text from anywhere, to test
    /// that a client refuses to send a password unencrypted even when the server would take it.
    pub allow_plaintext_auth: bool,
    /// `imap_idle_notify_interval`: Dovecot sends `* OK Still here` this often during IDLE
    /// (Dovecot's default is 2 minutes).
    pub keepalive_secs: Option<u32>,
    /// Dovecot's auth penalty: after failed logins from an IP, *every* login from it (right
    /// password or not) is delayed 2, 4, 8, up to 15 s. Off by default, so that one
    /// wrong-password test does not turn the next login into a 15 s wait that looks like a
    /// client bug; turn it on to test a client's patience. The fixed 2 s delay on each failure
    /// (`auth_failure_delay`) applies either way.
    pub auth_penalty: bool,
    /// Users and passwords. Default: `alice` / `alicepw`.
    pub users: Vec<(String, String)>,
    /// `imap_capability` verbatim (before and after login), e.g.
    /// [`CAPABILITIES_WITHOUT_NOTIFY`]; overrides [`idle`](Self::idle). `None`: Dovecot's own.
    pub capabilities: Option<String>,
    /// `mail_max_userip_connections` (Dovecot's default is 10 per user and IP).
    pub max_userip_connections: Option<u32>,
    /// `Some`: Dovecot also accepts OAuth2 access tokens (XOAUTH2 and OAUTHBEARER, or XOAUTH2
    /// alone), checked at the authorization server by introspection; see [`OAuth2Passdb`].
    /// `None` (default): passwords only, and neither mechanism is offered.
    pub oauth2: Option<OAuth2Passdb>,
    /// `Some`: listen on exactly these ports, e.g. [`DovecotPorts::STANDARD`] inside the
    /// discovery lab's private network namespace (`netns`), where discovery guesses 993 and
    /// 143. A port in use is then an error, not a reason to pick others. `None` (default):
    /// four free ports, chosen afresh if another process takes one first.
    pub ports: Option<DovecotPorts>,
    /// `Some`: serve this certificate (for names a test chose, signed by a CA the test
    /// controls) and report its CA from [`Dovecot::ca_file`]. `None` (default): a CA of the
    /// instance's own and a certificate for `localhost`, 127.0.0.1 and 127.0.0.2.
    pub certificate: Option<ServerCertificate>,
}

/// Fixed ports for [`DovecotOptions::ports`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DovecotPorts {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
}

impl DovecotPorts {
    /// 143, 993, 110 and 995: where a client that only knows a host name looks. Only usable
    /// where nothing else listens on them, i.e. in a private network namespace.
    pub const STANDARD: DovecotPorts = DovecotPorts {
        imap: 143,
        imaps: 993,
        pop3: 110,
        pop3s: 995,
    };
}

/// A certificate for [`DovecotOptions::certificate`]: PEM files, readable by root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertificate {
    /// The server certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// The CA that signed it ([`Dovecot::ca_file`] returns this path).
    pub ca: PathBuf,
}

/// Which SASL mechanisms carry OAuth2 tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuth2Mechanisms {
    /// `AUTH=XOAUTH2 AUTH=OAUTHBEARER`, as Dovecot, Gmail and Outlook offer.
    Both,
    /// `AUTH=XOAUTH2` only, as some providers (Yahoo, older Exchange) offer.
    Xoauth2Only,
}

/// Dovecot's `passdb { driver = oauth2 }`: every token login is checked by RFC 7662
/// introspection (POST, with a confidential client's HTTP basic auth) at an authorization
/// server, with the auth cache off, so a revoked token fails at the next login. The user name
/// of the login must equal the token's `sub`. Users that exist only through tokens work (a
/// static userdb after the passwd-file one), for IMAP and for delivery.
#[derive(Clone)]
pub struct OAuth2Passdb {
    /// `https://HOST:PORT/token/introspection`.
    pub introspection_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// CA that issued the authorization server's certificate (Dovecot verifies it).
    pub ca_file: PathBuf,
    pub mechanisms: OAuth2Mechanisms,
}

impl OAuth2Passdb {
    /// Tokens of `server`, over both mechanisms.
    pub fn for_server(server: &crate::oidc::OidcServer) -> OAuth2Passdb {
        let (client_id, client_secret) = server.introspection_client();
        OAuth2Passdb {
            introspection_url: server.introspection_endpoint(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            ca_file: server.ca_file().to_owned(),
            mechanisms: OAuth2Mechanisms::Both,
        }
    }

    /// The same with XOAUTH2 alone.
    pub fn xoauth2_only(mut self) -> OAuth2Passdb {
        self.mechanisms = OAuth2Mechanisms::Xoauth2Only;
        self
    }

    fn mechanism_names(&self) -> &'static str {
        match self.mechanisms {
            OAuth2Mechanisms::Both => "xoauth2 oauthbearer",
            OAuth2Mechanisms::Xoauth2Only => "xoauth2",
        }
    }
}

/// The secret stays out of `{:?}`.
impl fmt::Debug for OAuth2Passdb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Passdb")
            .field("introspection_url", &self.introspection_url)
            .field("client_id", &self.client_id)
            .field("ca_file", &self.ca_file)
            .field("mechanisms", &self.mechanisms)
            .finish_non_exhaustive()
    }
}

impl Default for DovecotOptions {
    fn default() -> Self {
        DovecotOptions {
            idle: true,
            listen: "127.0.0.1".to_owned(),
            starttls: true,
            ssl_required: false,
            allow_plaintext_auth: false,
            keepalive_secs: None,
            auth_penalty: false,
            users: vec![("alice".to_owned(), "alicepw".to_owned())],
            capabilities: None,
            max_userip_connections: None,
            oauth2: None,
            ports: None,
            certificate: None,
        }
    }
}

/// Hand-written so passwords stay out of `{:?}` output, even throw-away ones: a habit worth
/// keeping in a project where some day a real one might pass through.
impl fmt::Debug for DovecotOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DovecotOptions")
            .field("idle", &self.idle)
            .field("listen", &self.listen)
            .field("starttls", &self.starttls)
            .field("ssl_required", &self.ssl_required)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .field("keepalive_secs", &self.keepalive_secs)
            .field("auth_penalty", &self.auth_penalty)
            .field("users", &user_names(&self.users))
            .field("capabilities", &self.capabilities)
            .field("max_userip_connections", &self.max_userip_connections)
            .field("oauth2", &self.oauth2)
            .field("ports", &self.ports)
            .field("certificate", &self.certificate)
            .finish()
    }
}

fn user_names(users: &[(String, String)]) -> Vec<&str> {
    users.iter().map(|(user, _)| user.as_str()).collect()
}

/// Numbers `doveadm mailbox status` reports for one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: u64,
    pub unseen: u64,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub highestmodseq: u64,
}

/// What one POP3 session did, from Dovecot's log line when it ended; see
/// [`Dovecot::pop3_logouts`]. Byte counts are what Dovecot sent, CRLF included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Logout {
    /// Why the session ended, in Dovecot's words: `Logged out` (after QUIT), `Connection
    /// closed`, `Server shutting down`, …
    pub reason: String,
    /// `TOP` commands answered, and the bytes they sent.
    pub top: u64,
    pub top_bytes: u64,
    /// `RETR` commands answered, and the bytes they sent. A client that only announces mail
    /// has no reason to download a whole message.
    pub retr: u64,
    pub retr_bytes: u64,
    /// Messages really deleted: `DELE` committed by `QUIT` (a `DELE` undone by `RSET` or by a
    /// dropped connection counts 0).
    pub del: u64,
    /// Messages in the mailbox when the session began.
    pub messages: u64,
    /// Size of the mailbox in bytes (as POP3 counts it, with CRLF) when the session began.
    pub size: u64,
}

impl Pop3Logout {
    /// Parses `pop3(USER)<pid><session>: Info: Disconnected: REASON top=T/P retr=R/B del=D/M
    /// size=S`; `None` for any other line of a pop3 process.
    fn parse(line: &str) -> Option<Pop3Logout> {
        let rest = &line[line.find(": Info: Disconnected: ")? + ": Info: Disconnected: ".len()..];
        let stats_at = rest.find(" top=")?;
        let (reason, stats) = (&rest[..stats_at], &rest[stats_at + 1..]);
        let pair = |key: &str| -> Option<(u64, u64)> {
            let word = stats
                .split_ascii_whitespace()
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))?;
            let (a, b) = word.split_once('/')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let (top, top_bytes) = pair("top")?;
        let (retr, retr_bytes) = pair("retr")?;
        let (del, messages) = pair("del")?;
        let size = stats
            .split_ascii_whitespace()
            .find_map(|w| w.strip_prefix("size="))?
            .parse()
            .ok()?;
        Some(Pop3Logout {
            reason: reason.to_owned(),
            top,
            top_bytes,
            retr,
            retr_bytes,
            del,
            messages,
            size,
        })
    }
}

/// Counts logged-in IMAP sessions (`doveadm who`); see [`Dovecot::connection_counter`].
#[derive(Clone, Debug)]
pub struct ConnectionCounter {
    doveadm: PathBuf,
    conf: PathBuf,
}

impl ConnectionCounter {
    /// Sessions of `user` right now; an error while the server is down.
    pub fn count(&self, user: &str) -> Result<usize> {
        let out = run_ok(
            Command::new(&self.doveadm)
                .arg("-c")
                .arg(&self.conf)
                .args(["-f", "tab", "who", "-1", user]),
            DOVEADM_TIMEOUT,
        )?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter(|line| line.split('\t').next() == Some(user))
            .count())
    }
}

/// One running (or stopped) private Dovecot.
pub struct Dovecot {
    /// Removed on drop, after the processes are gone (field order does not matter: `Drop` runs
    /// first).
    dir: TempDir,
    conf: PathBuf,
    ca: PathBuf,
    /// One passwd-file per user (`users/<user>`), see [`Dovecot::write_user`].
    users_dir: PathBuf,
    /// Unique per instance; appears in the greeting so we never mistake another server on a
    /// recycled port for ours.
    token: String,
    opts: DovecotOptions,
    /// Passwords the harness uses to log in on a user's behalf. A Mutex because `add_user`
    /// takes `&self` so helpers can be shared across threads in a test.
    users: Mutex<Vec<(String, String)>>,
    imap_port: u16,
    imaps_port: u16,
    pop3_port: u16,
    pop3s_port: u16,
    dovecot_bin: PathBuf,
    doveadm_bin: PathBuf,
    /// The master process; its pid is also the process group of every Dovecot process here.
    master: Option<Child>,
    /// Length of Dovecot's stderr file when the current master was spawned, so a failed start
    /// is judged by its own output only.
    stderr_offset: u64,
}

impl Dovecot {
    /// Starts a private instance and waits until it answers with a greeting.
    pub fn start(opts: DovecotOptions) -> Result<Dovecot> {
        ensure!(
            opts.starttls || !opts.ssl_required,
            "ssl_required needs starttls: Dovecot cannot require TLS it does not offer"
        );
        ensure!(!opts.users.is_empty(), "At least one user is needed");
        for (user, password) in &opts.users {
            validate_user(user, password)?;
        }
        ensure!(
            effective_uid()? == 0,
            "The Dovecot test ground needs root: Dovecot's master must switch to uid {MAIL_UID} \
             for mail"
        );
        let dovecot_bin = find_program("dovecot").context(
            "Dovecot is not installed: apt-get install --no-install-recommends dovecot-core \
             dovecot-imapd dovecot-pop3d",
        )?;
        let doveadm_bin = find_program("doveadm").context("doveadm is not installed")?;

        let dir = tempfile::Builder::new()
            .prefix("pushmail-dovecot-")
            .tempdir()
            .context("Cannot create a temporary directory for Dovecot")?;
        let root = dir.path().to_owned();
        // Dovecot's unprivileged processes (auth as `dovecot`, imap as uid 10000, login as
        // `dovenull`) must traverse this directory; tempfile makes it 0700.
        set_mode(&root, 0o755)?;
        for sub in ["run", "state"] {
            fs::create_dir(root.join(sub))
                .with_context(|| format!("Cannot create {}", root.join(sub).display()))?;
        }
        let mail = root.join("mail");
        fs::create_dir(&mail).with_context(|| format!("Cannot create {}", mail.display()))?;
        // imap (as uid 10000) creates each user's home here on first login.
        chown(&mail, Some(MAIL_UID), Some(MAIL_GID))
            .with_context(|| format!("Cannot chown {}", mail.display()))?;
        let tls = match &opts.certificate {
            Some(given) => TlsFiles {
                ca: given.ca.clone(),
                cert: given.cert.clone(),
                key: given.key.clone(),
            },
            None => make_tls(&root.join("tls"))?,
        };

        let token = root
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("pushmail-dovecot-"))
            .unwrap_or("x")
            .to_owned();
        let mut dovecot = Dovecot {
            conf: root.join("dovecot.conf"),
            ca: tls.ca.clone(),
            users_dir: root.join("users"),
            token,
            users: Mutex::new(opts.users.clone()),
            opts,
            imap_port: 0,
            imaps_port: 0,
            pop3_port: 0,
            pop3s_port: 0,
            dovecot_bin,
            doveadm_bin,
            master: None,
            stderr_offset: 0,
            dir,
        };
        dovecot.create_users_dir()?;
        dovecot.write_oauth2_files()?;
        for (user, password) in dovecot.users_snapshot()? {
            dovecot.write_user(&user, &password)?;
        }

        let mut last_error = None;
        // Fixed ports get one attempt: another process on them is the test's problem to see.
        let attempts = if dovecot.opts.ports.is_some() {
            1
        } else {
            START_ATTEMPTS
        };
        for _ in 0..attempts {
            let [imap, imaps, pop3, pop3s] = match dovecot.opts.ports {
                Some(p) => [p.imap, p.imaps, p.pop3, p.pop3s],
                None => free_ports(&dovecot.opts.listen)?,
            };
            dovecot.imap_port = imap;
            dovecot.imaps_port = imaps;
            dovecot.pop3_port = pop3;
            dovecot.pop3s_port = pop3s;
            let config = dovecot.config_text(&tls.cert, &tls.key);
            fs::write(&dovecot.conf, config)
                .with_context(|| format!("Cannot write {}", dovecot.conf.display()))?;
            match dovecot.spawn_and_wait() {
                Ok(()) => return Ok(dovecot),
                Err(err) if dovecot.lost_port_race() => last_error = Some(err),
                Err(err) => return Err(err),
            }
        }
        let why = match dovecot.opts.ports {
            Some(p) => format!("Ports {p:?} are in use by another process"),
            None => format!("Dovecot lost its ports {START_ATTEMPTS} times in a row"),
        };
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("Dovecot did not start"))
            .context(why))
    }

    /// The address clients connect to (the listen address).
    pub fn host(&self) -> &str {
        &self.opts.listen
    }

    /// Plain IMAP port (143-style) where STARTTLS is offered when `starttls` is on.
    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }

    /// Implicit-TLS port (993-style). Refuses connections when `starttls` is off.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// Plain POP3 port (110-style), where `STLS` is offered when `starttls` is on. USER/PASS and
    /// `AUTH PLAIN` work on it from 127.0.0.1 without TLS (see the module docs).
    pub fn pop3_port(&self) -> u16 {
        self.pop3_port
    }

    /// Implicit-TLS POP3 port (995-style). Refuses connections when `starttls` is off.
    pub fn pop3s_port(&self) -> u16 {
        self.pop3s_port
    }

    /// PEM file of this instance's throw-away CA: the only certificate a client should trust.
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The instance's private directory (config, log, mail under `mail/USER/Maildir`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The generated `dovecot.conf`.
    pub fn conf_file(&self) -> &Path {
        &self.conf
    }

    /// The options this instance was started with.
    pub fn options(&self) -> &DovecotOptions {
        &self.opts
    }

    /// The password the harness knows for `user`.
    pub fn password(&self, user: &str) -> Option<String> {
        self.users
            .lock()
            .ok()?
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, p)| p.clone())
    }

    /// True while the master runs.
    pub fn is_running(&mut self) -> bool {
        match &mut self.master {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The master's pid, which is also the process group of every process of this instance.
    /// `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.master.as_ref().map(Child::id)
    }

    /// Every live (non-zombie) process of this instance: master, log, config, anvil, auth,
    /// imap-login, imap, …
    pub fn processes(&self) -> Vec<ProcessInfo> {
        self.master
            .as_ref()
            .map(|m| live_members(m.id()))
            .unwrap_or_default()
    }

    /// A real outage, politely: SIGTERM to every process of the instance (sessions get
    /// `* BYE Server shutting down`), then, once the master has exited (~10 ms) or
    /// 3 s have passed, SIGKILL to whatever is left. Returns once no process of the
    /// instance is alive (checked in `/proc`, zombies excluded) and every port (IMAP and POP3,
    /// plain and TLS) refuses connections. A no-op when already stopped.
    ///
    /// SIGTERM to the master alone is not enough: Dovecot 2.3's master exits but leaves imap
    /// sessions (and the log process serving them) running until their clients leave.
    pub fn stop(&mut self) -> Result<()> {
        let Some(pgid) = self.pid() else {
            return Ok(());
        };
        signal_group(pgid, "TERM");
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline && self.is_running() {
            thread::sleep(Duration::from_millis(5));
        }
        // Stragglers (log, stats, a slow imap) would keep the outage from being total.
        signal_group(pgid, "KILL");
        self.reap(pgid)
    }

    /// A crash: SIGKILL to every process of the instance at once. Sessions see their TCP
    /// connection closed with no `* BYE`. Mail and indexes survive (Dovecot is crash-safe);
    /// [`start_again`](Self::start_again) works as after [`stop`](Self::stop).
    pub fn crash(&mut self) -> Result<()> {
        let Some(pgid) = self.master.as_ref().map(Child::id) else {
            return Ok(());
        };
        signal_group(pgid, "KILL");
        self.reap(pgid)
    }

    /// Starts the same instance again after [`stop`](Self::stop) or [`crash`](Self::crash): same
    /// ports (IMAP and POP3), config, users, CA, mail and indexes.
    pub fn start_again(&mut self) -> Result<()> {
        ensure!(!self.is_running(), "Dovecot is already running");
        // After a crash the pid file survives; if its pid were reused by an unrelated process,
        // Dovecot would refuse to start ("already running").
        let pid_file = self.dir().join("run/master.pid");
        if pid_file.exists() {
            fs::remove_file(&pid_file)
                .with_context(|| format!("Cannot remove {}", pid_file.display()))?;
        }
        let mut last_error = None;
        for _ in 0..RESTART_BIND_ATTEMPTS {
            match self.spawn_and_wait() {
                Ok(()) => return Ok(()),
                Err(err) if self.lost_port_race() => {
                    last_error = Some(err);
                    thread::sleep(Duration::from_millis(200));
                }
                Err(err) => return Err(err),
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("Dovecot did not start"))
            .context(format!(
                "Ports {}, {}, {} and {} stayed in use by another process",
                self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port
            )))
    }

    /// Dovecot's log file (lossy UTF-8; empty if it does not exist yet).
    pub fn log(&self) -> String {
        fs::read(self.log_path())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// How many LOGIN/AUTHENTICATE attempts for `user` failed so far (wrong password or unknown
    /// user), counted from the auth process's `auth_verbose` lines.
    ///
    /// The line is logged before Dovecot delays the NO by `auth_failure_delay` (2 s), so by the
    /// time a client has seen the failure it is counted. Passwords are never logged
    /// (`auth_verbose_passwords` stays off).
    pub fn login_failures(&self, user: &str) -> usize {
        // Dovecot lowercases user names (auth_username_format = %Lu) before logging them:
        //   "auth: Info: passwd-file(alice,127.0.0.1,<sess>): Password mismatch"
        //   "auth: Info: missing passwd file: DIR/users/bob"   (no such user)
        let user = user.to_lowercase();
        let mismatch = format!("passwd-file({user},");
        let missing = format!(
            "missing passwd file: {}",
            self.users_dir.join(&user).display()
        );
        self.log()
            .lines()
            .filter(|line| {
                (line.contains(&mismatch) && line.ends_with("Password mismatch"))
                    || line.ends_with(&missing)
            })
            .count()
    }

    /// What every finished POP3 session of `user` did, in log order, from the one line Dovecot
    /// logs when a session ends (see `pop3_logout_format` in the config):
    ///
    /// ```text
    /// pop3(alice)<2338><Oje5hAhirNd/AAAB>: Info: Disconnected: Logged out top=2/205 retr=0/0 del=0/3 size=330
    /// pop3(alice)<2558><yt5FhQhiXMd/AAAB>: Info: Disconnected: Connection closed top=1/96 retr=0/0 del=0/3 size=330
    /// ```
    ///
    /// The line is written when the session ends, so a session still open (or one killed with
    /// SIGKILL by [`crash`](Self::crash)) is not listed. A failed login never reaches a `pop3`
    /// process and is not listed either: count those with [`login_failures`](Self::login_failures).
    pub fn pop3_logouts(&self, user: &str) -> Vec<Pop3Logout> {
        // Dovecot logs the user name as its lookup key (lowercased, auth_username_format = %Lu).
        let prefix = format!("pop3({})<", user.to_lowercase());
        self.log()
            .lines()
            .filter_map(|line| {
                let at = line.find(&prefix)?;
                Pop3Logout::parse(&line[at..])
            })
            .collect()
    }

    /// How many times `user` logged in over POP3 so far (each Pushmail check is one login),
    /// counted from pop3-login's `Login: user=<alice>, …` lines. Failed attempts are not counted.
    pub fn pop3_logins(&self, user: &str) -> usize {
        let needle = format!("pop3-login: Info: Login: user=<{}>,", user.to_lowercase());
        self.log()
            .lines()
            .filter(|line| line.contains(&needle))
            .count()
    }

    /// Adds a user, usable at once: each user has a passwd-file of their own, which Dovecot
    /// opens on the first lookup. (With one shared file a user added within a second of the
    /// last login stays invisible: Dovecot checks the file's mtime at most once a second.)
    pub fn add_user(&self, user: &str, password: &str) -> Result<()> {
        validate_user(user, password)?;
        let mut users = self
            .users
            .lock()
            .map_err(|_| anyhow::anyhow!("User list lock poisoned"))?;
        ensure!(
            !users.iter().any(|(u, _)| u.eq_ignore_ascii_case(user)),
            "User {user} already exists"
        );
        self.write_user(user, password)?;
        users.push((user.to_owned(), password.to_owned()));
        Ok(())
    }

    /// Logs in as `user` with the harness's copy of the password.
    pub fn login(&self, user: &str) -> Result<RawImap> {
        let password = self
            .password(user)
            .with_context(|| format!("Unknown user {user}: add_user first"))?;
        RawImap::connect_login(self.host(), self.imap_port, user, &password)
    }

    /// Creates and subscribes `folder` (UTF-8; encoded to modified UTF-7 on the wire). Creating
    /// a folder that exists is not an error. Hierarchy separator is `.` (Maildir++ default).
    pub fn create_folder(&self, user: &str, folder: &str) -> Result<()> {
        let mut imap = self.login(user)?;
        let lines = imap.command_args_unchecked(&[Arg::Raw("CREATE"), Arg::Mailbox(folder)])?;
        let tagged = lines.last().map(String::as_str).unwrap_or_default();
        let mut words = tagged.split_whitespace().skip(1);
        let (status, code) = (words.next(), words.next());
        // RFC 5530's ALREADYEXISTS is a standard response code, not free text.
        ensure!(
            status == Some("OK") || (status == Some("NO") && code == Some("[ALREADYEXISTS]")),
            "Cannot create folder {folder} for {user}: {tagged}"
        );
        imap.command_args(&[Arg::Raw("SUBSCRIBE"), Arg::Mailbox(folder)])
            .with_context(|| format!("Cannot subscribe {user} to {folder}"))?;
        imap.logout()
    }

    /// Delivers `raw` into `folder` with APPEND on a fresh loopback connection (≈10 ms), and
    /// returns its UID. The connection is logged out and closed before this returns, so it
    /// does not linger in [`connections`](Self::connections).
    pub fn deliver(&self, user: &str, folder: &str, raw: &[u8]) -> Result<u32> {
        let mut imap = self.login(user)?;
        let uid = imap
            .append(folder, raw)
            .with_context(|| format!("Cannot deliver to {user}/{folder}"))?;
        imap.logout()?;
        Ok(uid)
    }

    /// Delivers `raw` into `folder` with `doveadm save`, as a local delivery agent would: no IMAP
    /// session is opened, so nothing shows up in [`connections`](Self::connections) (a test
    /// counting the client's connections can deliver meanwhile). ~30 ms per message.
    pub fn deliver_quietly(&self, user: &str, folder: &str, raw: &[u8]) -> Result<()> {
        use std::io::Write as _;
        let mut child = Command::new(&self.doveadm_bin)
            .arg("-c")
            .arg(&self.conf)
            .args(["save", "-u", user, "-m", folder])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("Cannot start doveadm save")?;
        child
            .stdin
            .take()
            .context("doveadm save has no stdin")?
            .write_all(raw)
            .context("Cannot feed doveadm save")?;
        let out = child.wait_with_output().context("doveadm save")?;
        ensure!(
            out.status.success(),
            "doveadm save to {user}/{folder} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(())
    }

    /// Delivers a simple generated message; returns its UID.
    pub fn deliver_simple(&self, user: &str, folder: &str, subject: &str) -> Result<u32> {
        let raw = message(
            "Sender <sender@example.org>",
            &format!("{user} <{user}@example.org>"),
            subject,
            "Hello from the Pushmail test ground.",
        );
        self.deliver(user, folder, &raw)
    }

    /// Sets `\Seen` on one message, as another client (a phone) would.
    pub fn set_seen(&self, user: &str, folder: &str, uid: u32) -> Result<()> {
        self.store_flag(user, folder, uid, "+FLAGS (\\Seen)")
    }

    /// Clears `\Seen` on one message.
    pub fn set_unseen(&self, user: &str, folder: &str, uid: u32) -> Result<()> {
        self.store_flag(user, folder, uid, "-FLAGS (\\Seen)")
    }

    /// Removes one message (`\Deleted` + `UID EXPUNGE`), as another client would.
    pub fn expunge(&self, user: &str, folder: &str, uid: u32) -> Result<()> {
        let mut imap = self.login(user)?;
        imap.select(folder)?;
        imap.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"))?;
        let lines = imap.command(&format!("UID EXPUNGE {uid}"))?;
        ensure!(
            lines
                .iter()
                .any(|l| crate::raw_imap::parse_untagged_number(l, "EXPUNGE").is_some()),
            "No message with UID {uid} in {user}/{folder}"
        );
        imap.logout()
    }

    /// Puts `n` messages into `folder` fast: writes Maildir files directly (tmp/ then rename to
    /// cur/, the Maildir protocol, so a live session never sees half a file), then runs
    /// `doveadm force-resync` so Dovecot assigns UIDs at once. `seen` marks them all read.
    /// Subjects are `Fill message 1` … `Fill message n`, in UID order (Dovecot numbers new
    /// Maildir files in name order). Creates the folder if needed. Works with the server running
    /// or stopped. 100,000 messages take about 7 s.
    pub fn fill(&self, user: &str, folder: &str, n: usize, seen: bool) -> Result<()> {
        self.ensure_user_known(user)?;
        let maildir = self.maildir_of(user, folder)?;
        let (tmp, cur) = (maildir.join("tmp"), maildir.join("cur"));
        ensure!(
            tmp.is_dir() && cur.is_dir(),
            "{} is not a Maildir after creating {folder}",
            maildir.display()
        );
        let flags = if seen { "S" } else { "" };
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let prefix = format!(
            "{}.M{}P{}",
            stamp.as_secs(),
            stamp.subsec_micros(),
            std::process::id()
        );
        let to = format!("{user} <{user}@example.org>");
        // The work is syscalls (create, write, chown, rename per message), so a few threads
        // overlap them; one thread manages ~10k messages/s.
        let workers = thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, 4);
        let write_range = |range: std::ops::Range<usize>| -> Result<()> {
            for i in range {
                let raw = message(
                    "Filler <filler@example.org>",
                    &to,
                    &format!("Fill message {}", i + 1),
                    "Bulk message written by the Pushmail test ground.",
                );
                // Maildir unique name; S= and W= (size, and size with CRLF, equal here) spare
                // Dovecot a stat and a read per message.
                let base = format!(
                    "{prefix}Q{i:09}.pushmail-fill,S={len},W={len}",
                    len = raw.len()
                );
                write_maildir_file(&tmp, &cur, &base, flags, &raw)?;
            }
            Ok(())
        };
        let chunk = n.div_ceil(workers).max(1);
        thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    let range = start..(start + chunk).min(n);
                    s.spawn(move || write_range(range))
                })
                .collect();
            handles.into_iter().try_for_each(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("A fill worker panicked"))?
            })
        })?;
        self.doveadm(&["force-resync", "-u", user, folder])
            .with_context(|| format!("Cannot resync {user}/{folder} after filling it"))?;
        Ok(())
    }

    /// Changes a folder's UIDVALIDITY (as after a server-side rebuild), so clients must drop
    /// what they know about its UIDs. Verified by reading it back.
    pub fn set_uidvalidity(&self, user: &str, folder: &str, uidvalidity: u32) -> Result<()> {
        self.doveadm(&[
            "mailbox",
            "update",
            "--uid-validity",
            &uidvalidity.to_string(),
            "-u",
            user,
            folder,
        ])?;
        let now = self.status(user, folder)?.uidvalidity;
        ensure!(
            now == uidvalidity,
            "UIDVALIDITY of {user}/{folder} is {now} after setting {uidvalidity}"
        );
        Ok(())
    }

    /// Counts straight from the mail store via `doveadm mailbox status` (works while stopped).
    pub fn status(&self, user: &str, folder: &str) -> Result<MailboxStatus> {
        let out = self.doveadm(&[
            "-f",
            "flow",
            "mailbox",
            "status",
            "-u",
            user,
            "messages unseen uidnext uidvalidity highestmodseq",
            folder,
        ])?;
        let field = |name: &str| -> Result<u64> {
            let prefix = format!("{name}=");
            out.split_whitespace()
                .find_map(|w| w.strip_prefix(&prefix))
                .with_context(|| format!("doveadm mailbox status printed no {name}: {out}"))?
                .parse()
                .with_context(|| format!("Bad {name} in doveadm output: {out}"))
        };
        Ok(MailboxStatus {
            messages: field("messages")?,
            unseen: field("unseen")?,
            uidnext: u32::try_from(field("uidnext")?).context("uidnext out of range")?,
            uidvalidity: u32::try_from(field("uidvalidity")?)
                .context("uidvalidity out of range")?,
            highestmodseq: field("highestmodseq")?,
        })
    }

    /// Runs `doveadm -c <this instance's config> ARGS…` and returns its stdout.
    pub fn doveadm(&self, args: &[&str]) -> Result<String> {
        let out = run_ok(
            Command::new(&self.doveadm_bin)
                .arg("-c")
                .arg(&self.conf)
                .args(args),
            DOVEADM_TIMEOUT,
        )?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Logged-in IMAP sessions of `user` right now (`doveadm who`), including the harness's own
    /// if one is open. Needs the server running.
    pub fn connections(&self, user: &str) -> Result<usize> {
        let out = self.doveadm(&["-f", "tab", "who", "-1", user])?;
        // Header "username\tproto\tpid\tip", then one row per connection.
        Ok(out
            .lines()
            .skip(1)
            .filter(|line| line.split('\t').next() == Some(user))
            .count())
    }

    /// A cheap, clonable handle that counts `user`'s sessions like
    /// [`connections`](Self::connections), usable from a sampling thread while the test holds
    /// the server mutably (to stop and restart it).
    pub fn connection_counter(&self) -> ConnectionCounter {
        ConnectionCounter {
            doveadm: self.doveadm_bin.clone(),
            conf: self.conf.clone(),
        }
    }

    /// Disconnects every session of `user` (`doveadm kick`): each gets `* BYE` and EOF. An error
    /// if nobody was logged in, which almost always means the test raced its client.
    pub fn kick(&self, user: &str) -> Result<()> {
        let out = run(
            Command::new(&self.doveadm_bin)
                .arg("-c")
                .arg(&self.conf)
                .args(["kick", user]),
            DOVEADM_TIMEOUT,
        )?;
        match out.status.code() {
            Some(0) => Ok(()),
            // EX_NOUSER: "no users kicked".
            Some(68) => bail!("Nobody is logged in as {user}, so nobody was kicked"),
            _ => bail!(
                "doveadm kick {user} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("dovecot.log")
    }

    fn stderr_path(&self) -> PathBuf {
        self.dir().join("dovecot.stderr")
    }

    fn users_snapshot(&self) -> Result<Vec<(String, String)>> {
        Ok(self
            .users
            .lock()
            .map_err(|_| anyhow::anyhow!("User list lock poisoned"))?
            .clone())
    }

    fn ensure_user_known(&self, user: &str) -> Result<()> {
        ensure!(
            self.password(user).is_some(),
            "Unknown user {user}: add_user first"
        );
        Ok(())
    }

    fn create_users_dir(&self) -> Result<()> {
        fs::create_dir(&self.users_dir)
            .with_context(|| format!("Cannot create {}", self.users_dir.display()))?;
        self.give_to_dovecot(&self.users_dir, 0o750)
    }

    /// Writes `users/<user>` atomically (tmp + rename) so auth never reads half a file. The
    /// name is lowercased like Dovecot's own lookup key (`auth_username_format = %Lu`).
    fn write_user(&self, user: &str, password: &str) -> Result<()> {
        let user = user.to_lowercase();
        let path = self.users_dir.join(&user);
        let tmp = self.users_dir.join(format!(".{user}.new"));
        // user:{PLAIN}password:uid:gid:gecos:home:shell:extra — empty fields take the userdb's
        // default_fields.
        fs::write(&tmp, format!("{user}:{{PLAIN}}{password}::::::\n"))
            .with_context(|| format!("Cannot write {}", tmp.display()))?;
        self.give_to_dovecot(&tmp, 0o640)?;
        fs::rename(&tmp, &path).with_context(|| format!("Cannot create {}", path.display()))
    }

    /// Makes `path` readable by the auth process (user `dovecot`) and nobody else but root.
    fn give_to_dovecot(&self, path: &Path, mode: u32) -> Result<()> {
        chown(path, None, Some(group_id("dovecot")?))
            .with_context(|| format!("Cannot chown {}", path.display()))?;
        set_mode(path, mode)
    }

    fn config_text(&self, cert: &Path, key: &Path) -> String {
        let root = self.dir().display().to_string();
        let o = &self.opts;
        let ssl = match (o.starttls, o.ssl_required) {
            (false, _) => "no",
            (true, false) => "yes",
            (true, true) => "required",
        };
        let disable_plaintext = if o.allow_plaintext_auth && !o.ssl_required {
            "no"
        } else {
            "yes"
        };
        // With ssl = no an `ssl = yes` listener is a fatal config error; port 0 disables it.
        let imaps_port = if o.starttls { self.imaps_port } else { 0 };
        let pop3s_port = if o.starttls { self.pop3s_port } else { 0 };
        let mut c = String::new();
        let _ = write!(
            c,
            "# Private Dovecot for one Pushmail end-to-end test, written by pushmail-tests.\n\
             # Nothing from /etc/dovecot is read: Dovecot's built-in defaults plus this file.\n\
             instance_name = pushmail-{token}\n\
             base_dir = {root}/run\n\
             state_dir = {root}/state\n\
             log_path = {root}/dovecot.log\n\
             login_greeting = Pushmail test Dovecot {token} ready.\n\
             protocols = imap pop3\n\
             listen = {listen}\n\
             ssl = {ssl}\n\
             ssl_cert = <{cert}\n\
             ssl_key = <{key}\n\
             disable_plaintext_auth = {disable_plaintext}\n\
             auth_mechanisms = plain login{oauth2_mechanisms}\n\
             # Logs each failed login (login_failures); auth_verbose_passwords stays off.\n\
             auth_verbose = yes\n\
             mail_location = maildir:~/Maildir\n\
             # Tests never survive a power cut; skipping fsync keeps APPEND at a few ms.\n\
             mail_fsync = never\n\
             # Room for hundreds of sessions at once (the 500-account benchmark): over TLS each\n\
             # session keeps its imap-login process as the TLS proxy, and every process is a\n\
             # client of the log and anvil services; the defaults (100 login processes, 1000\n\
             # clients per service) would refuse the rest.\n\
             default_client_limit = 5000\n\
             # One line per POP3 session with what it did (pop3_logouts); Dovecot's default\n\
             # format without the commas, so each field is one word.\n\
             pop3_logout_format = top=%t/%p retr=%r/%b del=%d/%m size=%s\n\
             # Dovecot's default, written out: a RETR marks the message \\Seen (see the module\n\
             # docs), so a client that downloads instead of peeking shows in IMAP's UNSEEN.\n\
             pop3_no_flag_updates = no\n",
            token = self.token,
            listen = o.listen,
            cert = cert.display(),
            key = key.display(),
            oauth2_mechanisms = match &o.oauth2 {
                Some(oauth2) => format!(" {}", oauth2.mechanism_names()),
                None => String::new(),
            },
        );
        if let Some(secs) = o.keepalive_secs {
            let _ = writeln!(c, "imap_idle_notify_interval = {secs} secs");
        }
        if !o.auth_penalty {
            // Dovecot's documented switch: auth cannot reach anvil's penalty socket.
            c.push_str(
                "service anvil {\n  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n}\n",
            );
        }
        c.push_str("protocol imap {\n  mail_plugins = $mail_plugins imap_zlib\n");
        if let Some(caps) = &o.capabilities {
            let _ = writeln!(c, "  imap_capability = {caps}");
        } else if !o.idle {
            // Also applies to imap-login, so IDLE is hidden before login too.
            let _ = writeln!(c, "  imap_capability = {CAPABILITIES_WITHOUT_PUSH}");
        }
        if let Some(n) = o.max_userip_connections {
            let _ = writeln!(c, "  mail_max_userip_connections = {n}");
        }
        c.push_str("}\nnamespace inbox {\n  inbox = yes\n");
        for (name, role) in SPECIAL_FOLDERS {
            let _ = writeln!(
                c,
                "  mailbox {name} {{\n    special_use = {role}\n    auto = subscribe\n  }}"
            );
        }
        let _ = write!(
            c,
            "}}\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {root}/users/%u\n{password_mechanisms}}}\n\
             {oauth2_passdb}\
             userdb {{\n  driver = passwd-file\n  args = {root}/users/%u\n  \
             default_fields = uid={MAIL_UID} gid={MAIL_GID} home={root}/mail/%u\n}}\n\
             {oauth2_userdb}\
             service imap-login {{\n  process_limit = 2000\n  \
             inet_listener imap {{\n    port = {imap}\n  }}\n  \
             inet_listener imaps {{\n    port = {imaps_port}\n    ssl = yes\n  }}\n}}\n\
             service pop3-login {{\n  process_limit = 2000\n  \
             inet_listener pop3 {{\n    port = {pop3}\n  }}\n  \
             inet_listener pop3s {{\n    port = {pop3s_port}\n    ssl = yes\n  }}\n}}\n",
            imap = self.imap_port,
            pop3 = self.pop3_port,
            // With tokens on, passwords stay with PLAIN/LOGIN: a token is never looked up as a
            // password (and never counted by login_failures), and a password never reaches the
            // authorization server.
            password_mechanisms = if o.oauth2.is_some() {
                "  mechanisms = plain login\n"
            } else {
                ""
            },
            oauth2_passdb = match &o.oauth2 {
                Some(oauth2) => format!(
                    "passdb {{\n  driver = oauth2\n  mechanisms = {}\n  args = {root}/oauth2.conf\n}}\n",
                    oauth2.mechanism_names()
                ),
                None => String::new(),
            },
            // Users known only to the authorization server have no passwd-file: a static
            // userdb gives them a home (allow_all_users: also for lookups without a passdb,
            // i.e. delivery with doveadm or LMTP).
            oauth2_userdb = if o.oauth2.is_some() {
                format!(
                    "userdb {{\n  driver = static\n  args = uid={MAIL_UID} gid={MAIL_GID} \
                     home={root}/mail/%u allow_all_users=yes\n}}\n"
                )
            } else {
                String::new()
            },
        );
        if o.oauth2.is_some() {
            // Dovecot's default, written out because the tests depend on it: a revoked token must
            // fail at the next login, not when a cached answer expires.
            c.push_str("auth_cache_size = 0\n");
        }
        c
    }

    /// With [`DovecotOptions::oauth2`]: the oauth2 passdb's settings file (it holds the
    /// introspection secret, so readable by Dovecot's auth only) and a copy of the
    /// authorization server's CA where the auth process (user `dovecot`) can read it.
    fn write_oauth2_files(&self) -> Result<()> {
        let Some(oauth2) = &self.opts.oauth2 else {
            return Ok(());
        };
        let ca = self.dir().join("oauth2-ca.pem");
        fs::copy(&oauth2.ca_file, &ca).with_context(|| {
            format!(
                "Cannot copy the authorization server's CA {}",
                oauth2.ca_file.display()
            )
        })?;
        set_mode(&ca, 0o644)?;
        let url = &oauth2.introspection_url;
        let (scheme, rest) = url
            .split_once("://")
            .with_context(|| format!("Introspection URL without a scheme: {url}"))?;
        ensure!(
            !oauth2.client_id.contains([':', '@', '/'])
                && !oauth2.client_secret.contains([':', '@', '/', '%']),
            "Client id and secret must be usable in a URL's user info"
        );
        // Dovecot 2.3 sends the URL's user info as HTTP basic auth (client_secret_basic).
        let path = self.dir().join("oauth2.conf");
        let tmp = self.dir().join(".oauth2.conf.new");
        fs::write(
            &tmp,
            format!(
                "# OAuth2 passdb of this test Dovecot, written by pushmail-tests.\n\
                 introspection_mode = post\n\
                 introspection_url = {scheme}://{id}:{secret}@{rest}\n\
                 username_attribute = sub\n\
                 active_attribute = active\n\
                 active_value = true\n\
                 tls_ca_cert_file = {ca}\n",
                id = oauth2.client_id,
                secret = oauth2.client_secret,
                ca = ca.display(),
            ),
        )
        .with_context(|| format!("Cannot write {}", tmp.display()))?;
        self.give_to_dovecot(&tmp, 0o640)?;
        fs::rename(&tmp, &path).with_context(|| format!("Cannot create {}", path.display()))
    }

    /// Spawns the master in its own process group and waits for our greeting on the IMAP port.
    fn spawn_and_wait(&mut self) -> Result<()> {
        // Files, never pipes: the master keeps stdout/stderr open for its whole life, and a pipe
        // nobody drains would block it (or us).
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stderr_path())
            .context("Cannot open Dovecot's stderr file")?;
        let stdout = stderr
            .try_clone()
            .context("Cannot share Dovecot's output file")?;
        self.stderr_offset = stderr
            .metadata()
            .context("Cannot stat Dovecot's stderr file")?
            .len();
        let started = Instant::now();
        let child = Command::new(&self.dovecot_bin)
            .arg("-F")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            // Group id = master pid: one signal reaches every process of this instance.
            .process_group(0)
            .spawn()
            .with_context(|| format!("Cannot start {}", self.dovecot_bin.display()))?;
        self.master = Some(child);
        match self.wait_ready(started) {
            Ok(()) => Ok(()),
            Err(err) => {
                // Never leave half an instance behind after a failed start.
                let _ = self.crash();
                let output = fs::read_to_string(self.stderr_path()).unwrap_or_default();
                // "Fatal: service(pop3) access(/usr/lib/dovecot/pop3) failed: No such file or
                // directory": every instance speaks POP3 too, so its package is needed.
                let hint = if output.contains("service(pop3") {
                    "\n(POP3 is part of every test instance: apt-get install \
                     --no-install-recommends dovecot-pop3d, or run scripts/setup --test)"
                } else {
                    ""
                };
                Err(err.context(format!(
                    "Dovecot did not start; its output:\n{}{hint}\nlog:\n{}",
                    tail(&output),
                    tail(&self.log())
                )))
            }
        }
    }

    fn wait_ready(&mut self, started: Instant) -> Result<()> {
        let addr = self.socket_addr(self.imap_port)?;
        loop {
            if let Some(child) = &mut self.master
                && let Some(status) = child.try_wait().context("Cannot poll Dovecot's master")?
            {
                bail!("Dovecot's master exited with {status}");
            }
            // Refused until the master has bound its listeners (~50 ms); after that the greeting
            // comes from a freshly forked imap-login.
            match RawImap::connect(self.host(), self.imap_port) {
                Ok(imap) => {
                    ensure!(
                        imap.greeting().contains(&self.token),
                        "Another server answers on {addr}: {}",
                        imap.greeting()
                    );
                    imap.abort();
                    return Ok(());
                }
                Err(err) if started.elapsed() > START_TIMEOUT => {
                    return Err(
                        err.context(format!("No greeting on {addr} within {START_TIMEOUT:?}"))
                    );
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// True if the last failed start was Dovecot losing a port to another process.
    fn lost_port_race(&self) -> bool {
        // Dovecot's own words: "Error: service(imap-login): listen(127.0.0.1, 40123) failed:
        // Address already in use" then "Fatal: Failed to start listeners". Matching them is
        // tolerable here: this crate pins the Dovecot it drives, and a mismatch only costs the
        // retry, never a wrong result.
        let output = fs::read(self.stderr_path()).unwrap_or_default();
        let start = usize::try_from(self.stderr_offset)
            .unwrap_or(usize::MAX)
            .min(output.len());
        String::from_utf8_lossy(&output[start..]).contains("Address already in use")
    }

    /// After the signals: waits for the group to vanish, reaps the master, checks the ports.
    fn reap(&mut self, pgid: u32) -> Result<()> {
        let gone = wait_group_gone(pgid, KILL_TIMEOUT);
        if let Some(mut master) = self.master.take() {
            // Already dead (or a zombie) here, so this returns at once.
            let _ = master.wait();
        }
        if let Err(left) = gone {
            bail!("Dovecot processes survived SIGKILL: {left:?}");
        }
        for port in [
            self.imap_port,
            self.imaps_port,
            self.pop3_port,
            self.pop3s_port,
        ] {
            let addr = self.socket_addr(port)?;
            if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
                bail!("{addr} still accepts connections after Dovecot stopped");
            }
        }
        Ok(())
    }

    fn socket_addr(&self, port: u16) -> Result<SocketAddr> {
        format!("{}:{port}", self.opts.listen)
            .parse()
            .with_context(|| format!("Listen address {} is not an IP", self.opts.listen))
    }

    /// The Maildir of `folder`, created (and for INBOX initialised) if needed.
    fn maildir_of(&self, user: &str, folder: &str) -> Result<PathBuf> {
        let path = PathBuf::from(
            self.doveadm(&["mailbox", "path", "-u", user, folder])?
                .trim(),
        );
        if !path.join("cur").is_dir() {
            if folder.eq_ignore_ascii_case("INBOX") {
                // Opening INBOX makes Dovecot create it, with the right owner.
                self.doveadm(&["mailbox", "status", "-u", user, "messages", "INBOX"])?;
            } else {
                self.doveadm(&["mailbox", "create", "-s", "-u", user, folder])?;
            }
        }
        Ok(path)
    }

    fn store_flag(&self, user: &str, folder: &str, uid: u32, change: &str) -> Result<()> {
        let mut imap = self.login(user)?;
        imap.select(folder)?;
        // Not .SILENT: the FETCH reply proves the UID exists (STORE on a missing UID is OK).
        let lines = imap.command(&format!("UID STORE {uid} {change}"))?;
        ensure!(
            lines
                .iter()
                .any(|l| l.starts_with("* ") && l.contains(" FETCH ")),
            "No message with UID {uid} in {user}/{folder}"
        );
        imap.logout()
    }
}

impl fmt::Debug for Dovecot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dovecot")
            .field("dir", &self.dir.path())
            .field("host", &self.opts.listen)
            .field("imap_port", &self.imap_port)
            .field("imaps_port", &self.imaps_port)
            .field("pop3_port", &self.pop3_port)
            .field("pop3s_port", &self.pop3s_port)
            .field("pid", &self.pid())
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGKILL, not a polite stop: nothing can be learned from a clean shutdown here and
        // every test pays for it. The temp dir is removed after this, with nothing running in it.
        if let Err(err) = self.crash() {
            eprintln!(
                "pushmail-tests: Dovecot in {} did not stop: {err:#}",
                self.dir().display()
            );
        }
    }
}

/// Writes one message the Maildir way: into tmp/, owned by the mail user, then renamed into
/// cur/ so a live session never sees half a file.
fn write_maildir_file(tmp: &Path, cur: &Path, base: &str, flags: &str, raw: &[u8]) -> Result<()> {
    let tmp_path = tmp.join(base);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp_path)
        .with_context(|| format!("Cannot create {}", tmp_path.display()))?;
    file.write_all(raw)
        .with_context(|| format!("Cannot write {}", tmp_path.display()))?;
    fchown(&file, Some(MAIL_UID), Some(MAIL_GID))
        .with_context(|| format!("Cannot chown {}", tmp_path.display()))?;
    drop(file);
    let cur_path = cur.join(format!("{base}:2,{flags}"));
    fs::rename(&tmp_path, &cur_path)
        .with_context(|| format!("Cannot move {} into cur/", tmp_path.display()))
}

/// Rejects names and passwords that would corrupt a passwd-file or its path.
fn validate_user(user: &str, password: &str) -> Result<()> {
    let bad = |s: &str| s.is_empty() || s.contains([':', '\n', '\r', '\0']);
    ensure!(
        !bad(user) && !user.contains(['%', '/', ' ']),
        "Unusable user name {user:?}"
    );
    ensure!(
        !bad(password),
        "Passwords must be non-empty without ':' or newlines"
    );
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("Cannot chmod {}", path.display()))
}

/// `N` distinct free ports on `ip`, probed by binding port 0 and letting go. Another process
/// can still take one before Dovecot binds; `start` notices and retries with fresh ports.
fn free_ports<const N: usize>(ip: &str) -> Result<[u16; N]> {
    // All held at once, so the kernel cannot hand out the same port twice.
    let mut held = Vec::with_capacity(N);
    let mut ports = [0; N];
    for port in &mut ports {
        let listener = TcpListener::bind((ip, 0))
            .with_context(|| format!("Cannot bind a free port on {ip}"))?;
        *port = listener
            .local_addr()
            .context("Cannot read a bound port")?
            .port();
        held.push(listener);
    }
    Ok(ports)
}

/// The last lines of `text`, for error messages.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pop3_logout_lines_as_dovecot_2_3_writes_them() {
        let line = "Dec 07 10:16:27 pop3(alice)<2338><Oje5hAhirNd/AAAB>: Info: Disconnected: \
                    Logged out top=2/205 retr=0/0 del=0/3 size=330";
        let at = line.find("pop3(alice)<").unwrap_or(0);
        assert_eq!(
            Pop3Logout::parse(&line[at..]),
            Some(Pop3Logout {
                reason: "Logged out".to_owned(),
                top: 2,
                top_bytes: 205,
                retr: 0,
                retr_bytes: 0,
                del: 0,
                messages: 3,
                size: 330,
            })
        );
        let closed = "pop3(alice)<2558><yt5F>: Info: Disconnected: Connection closed \
                      top=1/96 retr=1/126 del=1/4 size=363";
        let parsed = Pop3Logout::parse(closed);
        assert_eq!(
            parsed.as_ref().map(|l| (l.reason.as_str(), l.retr, l.del)),
            Some(("Connection closed", 1, 1))
        );
        assert_eq!(
            Pop3Logout::parse("pop3(alice)<1><x>: Error: Mailbox INBOX: something"),
            None
        );
    }

    #[test]
    fn free_ports_are_distinct() {
        let ports = free_ports::<4>("127.0.0.1").unwrap_or_default();
        let mut sorted = ports.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 4, "{ports:?}");
        assert!(ports.iter().all(|&p| p != 0), "{ports:?}");
    }
}
