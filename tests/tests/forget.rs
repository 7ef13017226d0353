//! `pushmail-cli forget-everything`: the per-user data a package purge leaves behind
//! (configuration, state database, keyring passwords, start-at-login entry) is removed by one
//! command that says what it removed — and nothing else is touched. Runs in the private D-Bus
//! session with gnome-keyring that scripts/test provides (the real Secret Service).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::time::Duration;

use common::{Pushmail, keyring_lookup, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions};

const SHORT: Duration = Duration::from_secs(10);

#[test]
fn forget_everything_removes_config_state_password_and_autostart_and_says_so() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("forget");
    let port = dc.imaps_port().to_string();
    let ca = dc.ca_file().to_str().unwrap().to_owned();
    let config_home = pm.dir.path().join("config");
    let env = [("XDG_CONFIG_HOME", config_home.to_str().unwrap())];
    let add = [
        "account",
        "add",
        "--id",
        &id,
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "tls",
        "--username",
        "alice",
        "--email",
        "alice@example.org",
        "--ca-file",
        &ca,
        "--password-stdin",
    ];
    let out = pm.cli(&add, "alicepw\n", &env);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(keyring_lookup(&id).as_deref(), Some("alicepw"));
    // A state database, as a watch leaves it.
    let mut w = pm.watch(&env);
    w.wait_state("push", SHORT);
    assert!(w.stop());
    assert!(pm.state().exists());
    // Start at login, as the settings window writes it.
    let autostart = config_home.join("autostart/io.github.pushmail.Pushmail.desktop");
    pushmail_core::desktop::set_autostart_at(&autostart, true, "/usr/bin/pushmail".as_ref())
        .unwrap();
    // Something of the user's own next to them stays.
    let other = config_home.join("autostart/other.desktop");
    std::fs::write(&other, "[Desktop Entry]\n").unwrap();

    // Without a terminal and without --yes: refused, nothing removed.
    let refused = pm.cli(&["forget-everything"], "", &env);
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(pm.config().exists() && pm.state().exists() && autostart.exists());
    assert!(keyring_lookup(&id).is_some());

    let out = pm.cli(&["forget-everything", "--yes"], "", &env);
    assert_eq!(out.code, Some(0), "{out:?}");
    let said = out.stdout;
    for what in [
        format!("the password of account “{id}” in the OS keyring"),
        format!("the start-at-login entry {}", autostart.display()),
        format!("the state database {}", pm.state().display()),
        format!("the configuration {}", pm.config().display()),
    ] {
        assert!(said.contains(&format!("Removed {what}")), "{what}\n{said}");
    }
    assert!(
        keyring_lookup(&id).is_none(),
        "the password is still in the keyring"
    );
    assert!(!pm.config().exists() && !pm.state().exists() && !autostart.exists());
    assert!(
        !pm.config().parent().unwrap().exists(),
        "the empty config dir stays"
    );
    assert!(
        other.exists(),
        "another program's autostart entry was removed"
    );

    // Once more: nothing left to forget.
    let again = pm.cli(&["forget-everything", "--yes"], "", &env);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert!(
        again.stdout.contains("Nothing to forget"),
        "{}",
        again.stdout
    );
}
