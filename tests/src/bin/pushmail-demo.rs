//! `scripts/run --demo`: a private local Dovecot with a demo account, sample mail dropped into it
//! every few seconds, and a Pushmail front end watching it — push working end to end without a
//! real mailbox. Everything lives in a temporary directory and is gone when the demo stops.
//!
//! Usage: pushmail-demo APP [ARGS…]   (APP gets `--config FILE` prepended to ARGS)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a demo that cannot start should say so and stop

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pushmail_tests::{Dovecot, DovecotOptions, message};

const SAMPLES: &[(&str, &str)] = &[
    (
        "Ana Pérez <ana@example.com>",
        "Welcome to Pushmail — this arrived by push",
    ),
    ("李伟 <li.wei@example.cn>", "会议改到明天上午十点"),
    ("سارة <sara@example.eg>", "تم تأكيد الحجز"),
    (
        "Giulia Rossi <giulia@example.it>",
        "Riunione spostata a giovedì",
    ),
    ("Build bot <ci@example.org>", "Nightly build passed ✔"),
];

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Ctrl-C or SIGTERM must still stop the private Dovecot (its Drop), not orphan it.
fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        #[allow(unsafe_code)]
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Dovecot needs root, but the app belongs in the user's desktop session: a root process is
/// refused by the user's session bus. Under `sudo`, run the app as the user who asked for it,
/// with their home, and hand them the demo's files.
fn as_invoking_user(command: &mut Command, files: &[&std::path::Path]) {
    use std::os::unix::process::CommandExt;
    let (Ok(uid), Ok(gid)) = (
        std::env::var("SUDO_UID").map(|v| v.parse::<u32>()),
        std::env::var("SUDO_GID").map(|v| v.parse::<u32>()),
    ) else {
        return;
    };
    let (Ok(uid), Ok(gid)) = (uid, gid) else {
        return;
    };
    if uid == 0 {
        return;
    }
    for f in files {
        let _ = std::os::unix::fs::chown(f, Some(uid), Some(gid));
    }
    let home = std::process::Command::new("getent")
        .args(["passwd", &uid.to_string()])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|line| line.trim_end().split(':').nth(5).map(str::to_owned))
        .filter(|h| !h.is_empty());
    if let Some(home) = home {
        command.env("HOME", home);
    }
    command.uid(uid).gid(gid);
}

fn main() {
    catch_signals();
    let mut args = std::env::args().skip(1);
    let Some(app) = args.next() else {
        eprintln!("usage: pushmail-demo APP [ARGS…]");
        std::process::exit(2);
    };
    let rest: Vec<String> = args.collect();
    let dc = Dovecot::start(DovecotOptions {
        users: vec![("demo".into(), "demo".into())],
        ..Default::default()
    })
    .expect("cannot start the demo mail server (Dovecot; the demo needs root to run it)");
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("password");
    std::fs::write(&pw, "demo\n").unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::copy(dc.ca_file(), &ca).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[accounts]]\nid = \"demo\"\nname = \"Demo\"\nemail = \"demo@example.org\"\nhost = \"127.0.0.1\"\nport = {}\n\
             security = \"tls\"\nusername = \"demo\"\npassword_command = [\"cat\", \"{}\"]\nca_file = \"{}\"\n",
            dc.imaps_port(),
            pw.display(),
            ca.display()
        ),
    )
    .unwrap();
    eprintln!(
        "Demo mail server on 127.0.0.1:{} (TLS), configuration {}",
        dc.imaps_port(),
        config.display()
    );
    let mut command = Command::new(&app);
    command.arg("--config").arg(&config).args(&rest);
    as_invoking_user(&mut command, &[dir.path(), &pw, &ca, &config]);
    let mut child = command.spawn().expect("cannot start the app");
    let mut sender = dc.login("demo").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    'outer: for (i, (from, subject)) in SAMPLES.iter().cycle().enumerate() {
        if STOP.load(Ordering::SeqCst) || matches!(child.try_wait(), Ok(Some(_))) {
            break;
        }
        eprintln!("demo: delivering “{subject}”");
        if sender
            .append(
                "INBOX",
                &message(
                    from,
                    "demo@example.org",
                    subject,
                    "Sent by the Pushmail demo.",
                ),
            )
            .is_err()
        {
            sender = dc.login("demo").unwrap();
        }
        // A few at once first, then one every ten seconds.
        for _ in 0..(if i < 2 { 10 } else { 100 }) {
            if STOP.load(Ordering::SeqCst) {
                break 'outer;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let _ = child.wait();
}
