//! Proves the test ground itself against the real Dovecot: if these fail, no end-to-end result
//! built on the harness means anything.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use pushmail_tests::{
    CAPABILITIES_WITHOUT_PUSH, Dovecot, DovecotOptions, Pop3Logout, RawImap, RawPop3,
    SPECIAL_FOLDERS, live_members, message, wait_until,
};

/// Dovecot holds change notifications for ~0.5 s; 3 s leaves room for a loaded CI machine.
const PUSH_TIMEOUT: Duration = Duration::from_secs(3);

fn start_default() -> Result<Dovecot> {
    Dovecot::start(DovecotOptions::default())
}

fn timed<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let value = f()?;
    eprintln!("{what}: {:?}", started.elapsed());
    Ok(value)
}

#[test]
fn delivered_mail_gets_uids_1_2_3() -> Result<()> {
    let dovecot = timed("start", start_default)?;
    let mut uids = Vec::new();
    for i in 1..=3 {
        let raw = message(
            "a@example.org",
            "alice@example.org",
            &format!("Mail {i}"),
            "hi",
        );
        uids.push(timed("deliver", || {
            dovecot.deliver("alice", "INBOX", &raw)
        })?);
    }
    assert_eq!(uids, [1, 2, 3]);

    let mut imap = dovecot.login("alice")?;
    assert_eq!(imap.select("INBOX")?, 3);
    let lines = imap.command("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")?;
    // The header comes back as a literal; RawImap inlines it into the FETCH line.
    let subjects: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("Subject: Mail"))
        .collect();
    assert_eq!(subjects.len(), 3, "{lines:#?}");
    imap.logout()?;

    let status = dovecot.status("alice", "INBOX")?;
    assert_eq!((status.messages, status.unseen, status.uidnext), (3, 3, 4));
    Ok(())
}

#[test]
fn raw_idle_sees_a_delivery_within_3_s() -> Result<()> {
    let dovecot = start_default()?;
    let mut idler = dovecot.login("alice")?;
    idler.select("INBOX")?;
    let (seen_at, delivered_at) = thread::scope(|s| -> Result<_> {
        let delivery = s.spawn(|| -> Result<Instant> {
            // Let the idler reach IDLE first; a delivery before that would be reported by the
            // SELECT-time state, not pushed.
            thread::sleep(Duration::from_millis(300));
            dovecot.deliver_simple("alice", "INBOX", "Push me")?;
            Ok(Instant::now())
        });
        let seen = idler.idle_until_exists(PUSH_TIMEOUT)?;
        let delivered = delivery
            .join()
            .map_err(|_| anyhow::anyhow!("Delivery thread panicked"))??;
        Ok((seen, delivered))
    })?;
    let seen_at = seen_at.context("No EXISTS within 3 s of the delivery")?;
    let latency = seen_at.saturating_duration_since(delivered_at);
    eprintln!("raw IDLE latency: {latency:?}");
    assert!(latency < PUSH_TIMEOUT);
    // Dovecot batches notifications for ~0.5 s; far less would mean we measured something else.
    assert!(latency > Duration::from_millis(200), "{latency:?}");
    Ok(())
}

#[test]
fn idle_reports_flag_changes_and_expunges_made_elsewhere() -> Result<()> {
    let dovecot = start_default()?;
    let uid = dovecot.deliver_simple("alice", "INBOX", "Read me on the phone")?;
    let mut idler = dovecot.login("alice")?;
    idler.select("INBOX")?;

    let flagged = thread::scope(|s| -> Result<_> {
        let phone = s.spawn(|| {
            thread::sleep(Duration::from_millis(200));
            dovecot.set_seen("alice", "INBOX", uid)
        });
        let seen = idler.idle_until(PUSH_TIMEOUT, |l| {
            l.contains("FETCH") && l.contains("\\Seen")
        })?;
        phone
            .join()
            .map_err(|_| anyhow::anyhow!("Phone thread panicked"))??;
        Ok(seen)
    })?;
    ensure!(flagged.is_some(), "No FETCH (FLAGS (\\Seen)) pushed");
    assert_eq!(dovecot.status("alice", "INBOX")?.unseen, 0);

    let expunged = thread::scope(|s| -> Result<_> {
        let phone = s.spawn(|| {
            thread::sleep(Duration::from_millis(200));
            dovecot.expunge("alice", "INBOX", uid)
        });
        let seen = idler.idle_until(PUSH_TIMEOUT, |l| l.ends_with(" EXPUNGE"))?;
        phone
            .join()
            .map_err(|_| anyhow::anyhow!("Phone thread panicked"))??;
        Ok(seen)
    })?;
    ensure!(expunged.is_some(), "No EXPUNGE pushed");
    assert_eq!(dovecot.status("alice", "INBOX")?.messages, 0);

    // Asking for a UID that does not exist is a test bug and must say so.
    assert!(dovecot.set_seen("alice", "INBOX", 999).is_err());
    assert!(dovecot.expunge("alice", "INBOX", 999).is_err());
    Ok(())
}

#[test]
fn stop_is_a_real_outage_and_start_again_keeps_the_mail() -> Result<()> {
    let mut dovecot = start_default()?;
    let (host, port, tls_port) = (
        dovecot.host().to_owned(),
        dovecot.imap_port(),
        dovecot.imaps_port(),
    );
    dovecot.deliver_simple("alice", "INBOX", "Survives the outage")?;
    // A live session, so there is an imap process that must die too.
    let mut session = dovecot.login("alice")?;
    session.select("INBOX")?;
    let pgid = dovecot.pid().context("No master while running")?;
    ensure!(
        dovecot.processes().iter().any(|p| p.name == "imap"),
        "No imap process for the open session: {:?}",
        dovecot.processes()
    );

    timed("stop", || dovecot.stop())?;
    assert!(!dovecot.is_running());
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
    assert!(TcpStream::connect((host.as_str(), port)).is_err());
    assert!(TcpStream::connect((host.as_str(), tls_port)).is_err());
    assert!(RawImap::connect(&host, port).is_err());
    // A polite stop says goodbye, like a server restart does.
    let bye = session.read_line(Duration::from_secs(1))?;
    assert!(
        bye.as_deref().is_some_and(|l| l.starts_with("* BYE")),
        "{bye:?}"
    );
    assert!(dovecot.deliver_simple("alice", "INBOX", "lost").is_err());

    timed("start_again", || dovecot.start_again())?;
    assert_eq!(
        (dovecot.imap_port(), dovecot.imaps_port()),
        (port, tls_port)
    );
    let mut imap = dovecot.login("alice")?;
    assert_eq!(imap.select("INBOX")?, 1);
    imap.logout()?;

    // A crash (SIGKILL, no BYE) must be just as total, and recoverable.
    dovecot.deliver_simple("alice", "INBOX", "Before the crash")?;
    let mut session = dovecot.login("alice")?;
    session.select("INBOX")?;
    timed("crash", || dovecot.crash())?;
    // A crash just drops the connection: no BYE, straight to end of stream.
    let after = session.read_line(Duration::from_secs(1));
    assert!(after.is_err(), "{after:?}");
    assert!(TcpStream::connect((host.as_str(), port)).is_err());
    dovecot.start_again()?;
    assert_eq!(
        dovecot.deliver_simple("alice", "INBOX", "After the crash")?,
        3
    );
    assert_eq!(dovecot.status("alice", "INBOX")?.messages, 3);
    Ok(())
}

#[test]
fn start_again_waits_out_a_port_held_by_someone_else() -> Result<()> {
    let mut dovecot = start_default()?;
    dovecot.stop()?;
    // Another program briefly sits on our port, as a parallel test's probe might.
    let squatter = std::net::TcpListener::bind((dovecot.host(), dovecot.imap_port()))?;
    let released = thread::spawn(move || {
        thread::sleep(Duration::from_millis(500));
        drop(squatter);
    });
    timed("start_again past a squatter", || dovecot.start_again())?;
    released
        .join()
        .map_err(|_| anyhow::anyhow!("Squatter thread panicked"))?;
    dovecot.deliver_simple("alice", "INBOX", "Back on the same port")?;
    Ok(())
}

#[test]
fn debug_output_hides_passwords() -> Result<()> {
    let dovecot = start_default()?;
    let shown = format!("{dovecot:?}");
    assert!(
        shown.contains("alice") && !shown.contains("alicepw"),
        "{shown}"
    );
    Ok(())
}

#[test]
fn idle_false_hides_idle_and_notify_but_nothing_else() -> Result<()> {
    let normal = start_default()?;
    let no_idle = Dovecot::start(DovecotOptions {
        idle: false,
        ..DovecotOptions::default()
    })?;

    let caps = |d: &Dovecot| -> Result<(String, BTreeSet<String>)> {
        let mut imap = d.login("alice")?;
        let set = imap.capabilities()?.into_iter().collect();
        let greeting = imap.greeting().to_owned();
        imap.logout()?;
        Ok((greeting, set))
    };
    let (greeting_normal, mut expected) = caps(&normal)?;
    let (greeting_no_idle, actual) = caps(&no_idle)?;
    assert!(greeting_normal.contains(" IDLE"), "{greeting_normal}");
    assert!(!greeting_no_idle.contains(" IDLE"), "{greeting_no_idle}");

    assert!(
        expected.remove("IDLE") && expected.remove("NOTIFY"),
        "{expected:?}"
    );
    // If this fails after a Dovecot upgrade, update CAPABILITIES_WITHOUT_PUSH.
    assert_eq!(
        actual, expected,
        "CAPABILITIES_WITHOUT_PUSH = {CAPABILITIES_WITHOUT_PUSH}"
    );
    for cap in [
        "CONDSTORE",
        "QRESYNC",
        "UIDPLUS",
        "SPECIAL-USE",
        "COMPRESS=DEFLATE",
    ] {
        assert!(actual.contains(cap), "{cap} missing from {actual:?}");
    }
    Ok(())
}

#[test]
fn insecure_address_shows_logindisabled_until_starttls() -> Result<()> {
    let dovecot = Dovecot::start(DovecotOptions {
        listen: "127.0.0.2".to_owned(),
        ..DovecotOptions::default()
    })?;
    assert_eq!(dovecot.host(), "127.0.0.2");
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let caps = imap.capabilities()?;
    assert!(caps.iter().any(|c| c == "LOGINDISABLED"), "{caps:?}");
    assert!(caps.iter().any(|c| c == "STARTTLS"), "{caps:?}");
    let refused = imap.command_unchecked("LOGIN alice alicepw")?;
    let tagged = refused.last().map(String::as_str).unwrap_or_default();
    assert!(tagged.contains("NO [PRIVACYREQUIRED]"), "{tagged}");
    // Refused before any password check, so it is not a failed login.
    assert_eq!(dovecot.login_failures("alice"), 0);

    // From 127.0.0.1 to 127.0.0.1 Dovecot counts the link as secure: no LOGINDISABLED.
    let secure = start_default()?;
    let mut imap = RawImap::connect(secure.host(), secure.imap_port())?;
    let caps = imap.capabilities()?;
    assert!(!caps.iter().any(|c| c == "LOGINDISABLED"), "{caps:?}");
    Ok(())
}

#[test]
fn starttls_off_means_no_starttls_and_no_tls_port() -> Result<()> {
    let dovecot = Dovecot::start(DovecotOptions {
        starttls: false,
        ..DovecotOptions::default()
    })?;
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let caps = imap.capabilities()?;
    assert!(!caps.iter().any(|c| c == "STARTTLS"), "{caps:?}");
    assert!(TcpStream::connect((dovecot.host(), dovecot.imaps_port())).is_err());
    assert!(
        Dovecot::start(DovecotOptions {
            starttls: false,
            ssl_required: true,
            ..DovecotOptions::default()
        })
        .is_err()
    );
    Ok(())
}

#[test]
fn plaintext_auth_options_on_an_insecure_address() -> Result<()> {
    let login_reply = |opts: DovecotOptions| -> Result<(Vec<String>, String)> {
        let dovecot = Dovecot::start(opts)?;
        let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
        let caps = imap.capabilities()?;
        let lines = imap.command_unchecked("LOGIN alice alicepw")?;
        Ok((caps, lines.last().cloned().unwrap_or_default()))
    };
    let insecure = || DovecotOptions {
        listen: "127.0.0.2".to_owned(),
        ..DovecotOptions::default()
    };

    // A server that takes passwords in clear text: the client must be the one to refuse.
    let (caps, tagged) = login_reply(DovecotOptions {
        allow_plaintext_auth: true,
        ..insecure()
    })?;
    assert!(!caps.iter().any(|c| c == "LOGINDISABLED"), "{caps:?}");
    assert!(tagged.contains(" OK "), "{tagged}");

    // ssl_required wins over allow_plaintext_auth.
    let (caps, tagged) = login_reply(DovecotOptions {
        allow_plaintext_auth: true,
        ssl_required: true,
        ..insecure()
    })?;
    assert!(caps.iter().any(|c| c == "LOGINDISABLED"), "{caps:?}");
    assert!(tagged.contains(" NO "), "{tagged}");

    // Dovecot's blind spot, documented on DovecotOptions::ssl_required: loopback is "secure".
    let (_, tagged) = login_reply(DovecotOptions {
        ssl_required: true,
        ..DovecotOptions::default()
    })?;
    assert!(tagged.contains(" OK "), "{tagged}");
    Ok(())
}

/// The certificate chain must satisfy a strict verifier on every address a test may use, on
/// both the implicit-TLS port and STARTTLS.
#[test]
fn tls_verifies_against_the_instance_ca() -> Result<()> {
    let dovecot = start_default()?;
    let check = |port: u16, starttls: bool, verify: &[&str]| -> Result<String> {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-brief", "-verify_return_error", "-CAfile"])
            .arg(dovecot.ca_file())
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .args(verify)
            .stdin(std::process::Stdio::null());
        if starttls {
            cmd.args(["-starttls", "imap"]);
        }
        let out = cmd.output().context("Cannot run openssl s_client")?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ensure!(out.status.success(), "TLS on port {port} failed: {text}");
        Ok(text)
    };
    for (port, starttls) in [(dovecot.imaps_port(), false), (dovecot.imap_port(), true)] {
        let text = check(port, starttls, &["-verify_ip", "127.0.0.1"])?;
        assert!(text.contains("TLSv1.3"), "{text}");
        check(port, starttls, &["-verify_hostname", "localhost"])?;
    }
    // A different instance's CA must not be trusted.
    let other = start_default()?;
    let mut cmd = Command::new("openssl");
    let out = cmd
        .args(["s_client", "-brief", "-verify_return_error", "-CAfile"])
        .arg(other.ca_file())
        .args(["-connect", &format!("127.0.0.1:{}", dovecot.imaps_port())])
        .stdin(std::process::Stdio::null())
        .output()?;
    assert!(!out.status.success(), "A foreign CA was accepted");
    Ok(())
}

#[test]
fn wrong_password_is_counted_and_never_logged() -> Result<()> {
    let dovecot = start_default()?;
    assert_eq!(dovecot.login_failures("alice"), 0);
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let err = imap
        .login("alice", "not-the-Password-42")
        .err()
        .context("A wrong password was accepted")?;
    assert!(
        format!("{err:#}").contains("AUTHENTICATIONFAILED"),
        "{err:#}"
    );
    assert!(!format!("{err:#}").contains("not-the-Password-42"));
    assert_eq!(dovecot.login_failures("alice"), 1);

    // AUTHENTICATE counts too (SASL PLAIN: "\0alice\0wrong" in base64).
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    let lines = imap.command_unchecked("AUTHENTICATE PLAIN AGFsaWNlAHdyb25n")?;
    assert!(
        lines.last().is_some_and(|l| l.contains(" NO ")),
        "{lines:?}"
    );
    assert_eq!(dovecot.login_failures("alice"), 2);

    // So does a user that does not exist; nobody else's count moves.
    let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
    assert!(imap.login("mallory", "guess").is_err());
    assert_eq!(dovecot.login_failures("mallory"), 1);
    assert_eq!(dovecot.login_failures("alice"), 2);

    // The right password still works and is not a failure.
    dovecot.login("alice")?.logout()?;
    assert_eq!(dovecot.login_failures("alice"), 2);
    // With the (default-off) penalty nothing slows the good login down beyond normal.
    let started = Instant::now();
    dovecot.login("alice")?.logout()?;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let log = dovecot.log();
    assert!(
        !log.contains("not-the-Password-42") && !log.contains("alicepw"),
        "{log}"
    );
    Ok(())
}

#[test]
fn auth_penalty_slows_every_login_after_failures() -> Result<()> {
    let dovecot = Dovecot::start(DovecotOptions {
        auth_penalty: true,
        ..DovecotOptions::default()
    })?;
    for _ in 0..2 {
        let mut imap = RawImap::connect(dovecot.host(), dovecot.imap_port())?;
        assert!(imap.login("alice", "wrong").is_err());
    }
    let started = Instant::now();
    dovecot.login("alice")?.logout()?;
    let took = started.elapsed();
    eprintln!("login after 2 failures with auth_penalty: {took:?}");
    assert!(took > Duration::from_secs(1), "{took:?}");
    Ok(())
}

#[test]
fn fill_100k_messages_quickly() -> Result<()> {
    let dovecot = start_default()?;
    dovecot.deliver_simple("alice", "INBOX", "Already there")?;
    let started = Instant::now();
    dovecot.fill("alice", "INBOX", 100_000, true)?;
    let took = started.elapsed();
    eprintln!("fill 100k: {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");

    let mut imap = dovecot.login("alice")?;
    let status = imap.status("INBOX", "MESSAGES UNSEEN UIDNEXT")?;
    assert!(
        status.contains(&("MESSAGES".to_owned(), 100_001)),
        "{status:?}"
    );
    assert!(status.contains(&("UNSEEN".to_owned(), 1)), "{status:?}");
    assert!(
        status.contains(&("UIDNEXT".to_owned(), 100_002)),
        "{status:?}"
    );
    imap.select("INBOX")?;
    for (uid, n) in [(2, 1), (50_001, 50_000), (100_001, 100_000)] {
        let lines = imap.command(&format!(
            "UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
        ))?;
        let want = format!("Subject: Fill message {n}\r\n");
        assert!(
            lines.iter().any(|l| l.contains(&want)),
            "UID {uid}: {lines:#?}"
        );
    }
    imap.logout()?;
    Ok(())
}

#[test]
fn fill_and_deliver_into_other_folders() -> Result<()> {
    let dovecot = start_default()?;
    dovecot
        .add_user("bob", "b:ad")
        .err()
        .context("':' accepted in a password")?;
    dovecot.add_user("bob", "bobpw")?;
    assert!(dovecot.add_user("bob", "again").is_err());

    dovecot.fill("bob", "Archiv Über", 50, false)?;
    dovecot.create_folder("bob", "Archiv Über")?; // exists already: fine
    assert_eq!(
        dovecot.deliver_simple("bob", "Archiv Über", "one more")?,
        51
    );
    let status = dovecot.status("bob", "Archiv Über")?;
    assert_eq!((status.messages, status.unseen), (51, 51));

    // A user who never logged in: fill has to bring INBOX into existence itself.
    dovecot.add_user("carol", "carolpw")?;
    dovecot.fill("carol", "INBOX", 5, true)?;
    assert_eq!(dovecot.status("carol", "INBOX")?.messages, 5);
    assert_eq!(dovecot.deliver_simple("carol", "INBOX", "sixth")?, 6);

    let mut imap = dovecot.login("bob")?;
    imap.select("Archiv Über")?;
    // Fill order is UID order, so tests can reason about "message n".
    for uid in [1, 2, 10, 50] {
        let lines = imap.command(&format!(
            "UID FETCH {uid} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
        ))?;
        let want = format!("Subject: Fill message {uid}\r\n");
        assert!(
            lines.iter().any(|l| l.contains(&want)),
            "UID {uid}: {lines:#?}"
        );
    }
    let list = imap.command("LIST \"\" \"*\" RETURN (SPECIAL-USE)")?;
    for (name, role) in SPECIAL_FOLDERS {
        assert!(
            list.iter().any(|l| l.contains(role) && l.ends_with(name)),
            "{name} {role} not in {list:#?}"
        );
    }
    assert!(
        list.iter().any(|l| l.contains("Archiv &ANw-ber")),
        "{list:#?}"
    );
    imap.logout()?;
    Ok(())
}

#[test]
fn set_uidvalidity_changes_what_clients_see() -> Result<()> {
    let dovecot = start_default()?;
    dovecot.deliver_simple("alice", "INBOX", "x")?;
    let before = dovecot.status("alice", "INBOX")?.uidvalidity;
    let wanted = before.wrapping_add(1000);
    dovecot.set_uidvalidity("alice", "INBOX", wanted)?;
    let mut imap = dovecot.login("alice")?;
    let status = imap.status("INBOX", "UIDVALIDITY")?;
    assert_eq!(status, [("UIDVALIDITY".to_owned(), u64::from(wanted))]);
    imap.logout()?;
    Ok(())
}

#[test]
fn connections_counts_sessions_and_kick_ends_them() -> Result<()> {
    let dovecot = start_default()?;
    assert_eq!(dovecot.connections("alice")?, 0);
    let mut one = dovecot.login("alice")?;
    let two = dovecot.login("alice")?;
    ensure!(
        wait_until(Duration::from_secs(2), || Ok(dovecot
            .connections("alice")?
            == 2))?,
        "doveadm who did not show two sessions"
    );
    two.logout()?;
    ensure!(
        wait_until(Duration::from_secs(2), || Ok(dovecot
            .connections("alice")?
            == 1))?,
        "A logged-out session stayed in doveadm who"
    );
    // deliver() logs out before returning, so it never shows up as a session.
    dovecot.deliver_simple("alice", "INBOX", "x")?;
    assert_eq!(dovecot.connections("alice")?, 1);

    one.select("INBOX")?;
    dovecot.kick("alice")?;
    let line = one.read_line(Duration::from_secs(3))?;
    assert!(
        line.as_deref().is_some_and(|l| l.starts_with("* BYE")),
        "{line:?}"
    );
    ensure!(
        wait_until(Duration::from_secs(2), || Ok(dovecot
            .connections("alice")?
            == 0))?,
        "Kicked session stayed in doveadm who"
    );
    assert!(
        dovecot.kick("alice").is_err(),
        "Kicking nobody should be reported"
    );
    Ok(())
}

#[test]
fn keepalive_interval_sends_still_here_during_idle() -> Result<()> {
    let dovecot = Dovecot::start(DovecotOptions {
        keepalive_secs: Some(1),
        ..DovecotOptions::default()
    })?;
    let mut imap = dovecot.login("alice")?;
    imap.select("INBOX")?;
    let ping = imap.idle_until(Duration::from_secs(4), |l| l.starts_with("* OK Still here"))?;
    ensure!(ping.is_some(), "No keepalive within 4 s at a 1 s interval");
    Ok(())
}

#[test]
fn drop_leaves_no_process_behind() -> Result<()> {
    let dovecot = start_default()?;
    let session = dovecot.login("alice")?;
    let processes = dovecot.processes();
    let pgid = dovecot.pid().context("No master while running")?;
    let dir = dovecot.dir().to_owned();
    ensure!(
        processes.len() >= 4,
        "Expected master, log, config, auth…: {processes:?}"
    );
    let started = Instant::now();
    drop(dovecot);
    eprintln!("drop: {:?}", started.elapsed());
    assert!(live_members(pgid).is_empty(), "{:?}", live_members(pgid));
    for p in &processes {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", p.pid)).unwrap_or_default();
        // Gone, or a zombie waiting for init: either way it runs nothing.
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "{} survived: {stat}",
            p.pid
        );
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
    session.abort();
    Ok(())
}

#[test]
fn parallel_instances_are_independent() -> Result<()> {
    let instances = thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(start_default)).collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow::anyhow!("start panicked"))?)
            .collect::<Result<Vec<_>>>()
    })?;
    let ports: BTreeSet<u16> = instances
        .iter()
        .flat_map(|d| [d.imap_port(), d.imaps_port(), d.pop3_port(), d.pop3s_port()])
        .collect();
    assert_eq!(ports.len(), 16);
    for (i, d) in instances.iter().enumerate() {
        for _ in 0..=i {
            d.deliver_simple("alice", "INBOX", "x")?;
        }
    }
    for (i, d) in instances.iter().enumerate() {
        assert_eq!(d.status("alice", "INBOX")?.messages, i as u64 + 1);
    }
    Ok(())
}

/// The last POP3 logout of `user`, waited for: Dovecot writes it just after the session ends.
fn last_pop3_logout(dovecot: &Dovecot, user: &str, count: usize) -> Result<Pop3Logout> {
    ensure!(
        wait_until(Duration::from_secs(3), || Ok(dovecot
            .pop3_logouts(user)
            .len()
            >= count))?,
        "Fewer than {count} POP3 logouts logged:\n{}",
        dovecot.log()
    );
    dovecot
        .pop3_logouts(user)
        .pop()
        .context("No POP3 logout logged")
}

/// Dovecot's POP3 side serves the same mailbox as IMAP; what a POP3 client may do to it is
/// exactly what the module docs of `dovecot.rs` say: TOP changes nothing, RETR sets `\Seen`,
/// DELE only counts when QUIT commits it, and every session is one line in the log.
#[test]
fn pop3_serves_the_imap_mailbox_and_top_changes_nothing() -> Result<()> {
    let dovecot = start_default()?;
    for i in 1..=3 {
        dovecot.deliver_simple("alice", "INBOX", &format!("Pop {i}"))?;
    }
    let uidvalidity = dovecot.status("alice", "INBOX")?.uidvalidity;
    let mut pop = RawPop3::connect(dovecot.host(), dovecot.pop3_port())?;
    // Our greeting (login_greeting is shared), so a recycled port cannot fool a test.
    assert!(
        pop.greeting().contains("Pushmail test Dovecot"),
        "{}",
        pop.greeting()
    );
    let caps = pop.capa()?;
    for cap in ["TOP", "UIDL", "USER", "STLS", "SASL PLAIN LOGIN"] {
        assert!(caps.iter().any(|c| c == cap), "{cap} missing: {caps:?}");
    }
    pop.login("alice", "alicepw")?;
    let (count, size) = pop.stat()?;
    assert_eq!(count, 3);
    // Dovecot's default pop3_uidl_format %08Xu%08Xv: IMAP UID, then UIDVALIDITY, in hex.
    let uidl = pop.uidl()?;
    let expected: Vec<(u32, String)> = (1..=3)
        .map(|uid| (uid, format!("{uid:08X}{uidvalidity:08X}").to_lowercase()))
        .collect();
    assert_eq!(
        uidl.iter()
            .map(|(n, id)| (*n, id.to_lowercase()))
            .collect::<Vec<_>>(),
        expected
    );
    let header = String::from_utf8_lossy(&pop.top(2, 0)?).into_owned();
    assert!(header.contains("Subject: Pop 2\r\n"), "{header}");
    assert!(
        header.ends_with("\r\n\r\n"),
        "header and blank line only: {header:?}"
    );
    assert!(
        !header.contains("Hello from"),
        "no body with TOP n 0: {header}"
    );
    pop.quit()?;

    let logout = last_pop3_logout(&dovecot, "alice", 1)?;
    assert_eq!(
        (
            logout.top,
            logout.retr,
            logout.del,
            logout.messages,
            logout.size
        ),
        (1, 0, 0, 3, size),
        "{logout:?}"
    );
    assert_eq!(logout.reason, "Logged out");
    assert_eq!(dovecot.pop3_logins("alice"), 1);
    // TOP does not set \Seen.
    assert_eq!(dovecot.status("alice", "INBOX")?.unseen, 3);

    // RETR does, once the session ends (QUIT here, a dropped connection below).
    let mut pop = RawPop3::connect_login(dovecot.host(), dovecot.pop3_port(), "alice", "alicepw")?;
    assert!(String::from_utf8_lossy(&pop.retr(3)?).contains("Hello from"));
    pop.quit()?;
    let logout = last_pop3_logout(&dovecot, "alice", 2)?;
    assert_eq!((logout.retr, logout.del), (1, 0), "{logout:?}");
    assert_eq!(dovecot.status("alice", "INBOX")?.unseen, 2);
    let mut pop = RawPop3::connect_login(dovecot.host(), dovecot.pop3_port(), "alice", "alicepw")?;
    pop.retr(2)?;
    pop.abort();
    let logout = last_pop3_logout(&dovecot, "alice", 3)?;
    assert_eq!(logout.reason, "Connection closed", "{logout:?}");
    assert_eq!(dovecot.status("alice", "INBOX")?.unseen, 1);

    // DELE undone by a dropped connection or by RSET deletes nothing, and says so.
    let mut pop = RawPop3::connect_login(dovecot.host(), dovecot.pop3_port(), "alice", "alicepw")?;
    pop.command("DELE 1")?;
    pop.abort();
    assert_eq!(last_pop3_logout(&dovecot, "alice", 4)?.del, 0);
    let mut pop = RawPop3::connect_login(dovecot.host(), dovecot.pop3_port(), "alice", "alicepw")?;
    pop.command("DELE 1")?;
    pop.command("RSET")?;
    pop.quit()?;
    assert_eq!(last_pop3_logout(&dovecot, "alice", 5)?.del, 0);
    assert_eq!(dovecot.status("alice", "INBOX")?.messages, 3);
    // Committed, it counts.
    let mut pop = RawPop3::connect(dovecot.host(), dovecot.pop3_port())?;
    pop.auth_plain("alice", "alicepw")?;
    pop.command("DELE 1")?;
    pop.quit()?;
    let logout = last_pop3_logout(&dovecot, "alice", 6)?;
    assert_eq!((logout.del, logout.messages), (1, 3), "{logout:?}");
    assert_eq!(dovecot.status("alice", "INBOX")?.messages, 2);
    assert_eq!(dovecot.pop3_logins("alice"), 6);
    Ok(())
}

#[test]
fn pop3_ports_are_kept_across_restarts_and_closed_by_stop() -> Result<()> {
    let mut dovecot = start_default()?;
    dovecot.deliver_simple("alice", "INBOX", "Kept")?;
    let (host, pop3, pop3s) = (
        dovecot.host().to_owned(),
        dovecot.pop3_port(),
        dovecot.pop3s_port(),
    );
    let before = RawPop3::connect_login(&host, pop3, "alice", "alicepw")?.uidl()?;
    assert!(TcpStream::connect((host.as_str(), pop3s)).is_ok());
    dovecot.stop()?;
    assert!(TcpStream::connect((host.as_str(), pop3)).is_err());
    assert!(TcpStream::connect((host.as_str(), pop3s)).is_err());
    dovecot.start_again()?;
    assert_eq!((dovecot.pop3_port(), dovecot.pop3s_port()), (pop3, pop3s));
    let mut pop = RawPop3::connect_login(&host, pop3, "alice", "alicepw")?;
    assert_eq!(pop.uidl()?, before, "UIDLs survive a restart");
    pop.quit()?;

    // A new UIDVALIDITY (a server migration) changes every UIDL.
    dovecot.set_uidvalidity("alice", "INBOX", 4242)?;
    let mut pop = RawPop3::connect_login(&host, pop3, "alice", "alicepw")?;
    let after = pop.uidl()?;
    pop.quit()?;
    assert_eq!(after.len(), 1);
    assert_ne!(after, before);
    assert!(after[0].1.to_lowercase().ends_with("00001092"), "{after:?}");

    // Without TLS there is no pop3s listener and no STLS.
    let plain = Dovecot::start(DovecotOptions {
        starttls: false,
        ..Default::default()
    })?;
    assert!(TcpStream::connect((plain.host(), plain.pop3s_port())).is_err());
    let mut pop = RawPop3::connect(plain.host(), plain.pop3_port())?;
    assert!(!pop.capa()?.iter().any(|c| c == "STLS"));
    pop.quit()?;
    Ok(())
}

#[test]
fn pop3_wrong_password_is_a_login_failure_and_no_session() -> Result<()> {
    let dovecot = start_default()?;
    let mut pop = RawPop3::connect(dovecot.host(), dovecot.pop3_port())?;
    let err = pop
        .login("alice", "not-the-Password-42")
        .err()
        .context("A wrong password was accepted")?;
    assert!(
        !format!("{err:#}").contains("not-the-Password-42"),
        "{err:#}"
    );
    pop.abort();
    assert_eq!(dovecot.login_failures("alice"), 1);
    assert_eq!(dovecot.pop3_logins("alice"), 0);
    assert!(dovecot.pop3_logouts("alice").is_empty());
    assert!(!dovecot.log().contains("not-the-Password-42"));
    Ok(())
}
