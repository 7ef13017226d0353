//! `pushmail-cli` as a person or a script uses it: accounts in the real OS keyring (gnome-keyring
//! on a private D-Bus session), connection tests, hooks, and clear errors for broken input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Pushmail, keyring_lookup, read, unique_id};
use pushmail_tests::{Dovecot, DovecotOptions, message};

const SHORT: Duration = Duration::from_secs(10);

fn add_args<'a>(dc: &'a Dovecot, id: &'a str, port: &'a str) -> Vec<&'a str> {
    let ca = dc.ca_file().to_str().unwrap();
    vec![
        "account",
        "add",
        "--id",
        id,
        "--host",
        "127.0.0.1",
        "--port",
        port,
        "--security",
        "tls",
        "--username",
        "alice",
        "--email",
        "alice@example.org",
        "--ca-file",
        ca,
        "--password-stdin",
    ]
}

#[test]
fn account_add_stores_the_password_in_the_keyring_and_watch_uses_it() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("kr");
    let port = dc.imaps_port().to_string();
    let out = pm.cli(&add_args(&dc, &id, &port), "alicepw\n", &[]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("ok   login"), "{}", out.stdout);
    assert!(!out.stdout.contains("alicepw") && !out.stderr.contains("alicepw"));

    // The password is in the Secret Service, and nowhere in the configuration.
    assert_eq!(keyring_lookup(&id).as_deref(), Some("alicepw"));
    let config = read(&pm.config());
    assert!(config.contains(&format!("id = \"{id}\"")), "{config}");
    assert!(!config.contains("alicepw"), "{config}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&pm.config()), 0o600);
    assert_eq!(mode(pm.config().parent().unwrap()), 0o700);

    let listed = pm.cli(&["account", "list", "--json"], "", &[]);
    let rows: serde_json::Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(rows[0]["id"], id.as_str());

    let mut w = pm.watch(&[]);
    w.wait_state("push", SHORT);
    dc.deliver(
        "alice",
        "INBOX",
        &message("bob@example.com", "alice@example.org", "Via keyring", "x"),
    )
    .unwrap();
    w.wait_new_mail("Via keyring", SHORT);
    assert!(w.stop());

    // A second account with the same id is refused; removing deletes the keyring entry.
    let again = pm.cli(&add_args(&dc, &id, &port), "alicepw\n", &[]);
    assert_ne!(again.code, Some(0));
    assert!(again.stderr.contains("already exists"), "{again:?}");
    let removed = pm.cli(&["account", "remove", &id], "", &[]);
    assert_eq!(removed.code, Some(0), "{removed:?}");
    assert_eq!(keyring_lookup(&id), None);
    assert!(!read(&pm.config()).contains(&id));
}

#[test]
fn a_failed_add_saves_nothing_and_says_why() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("bad");
    let port = dc.imaps_port().to_string();
    let out = pm.cli(&add_args(&dc, &id, &port), "wrong-password\n", &[]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("FAIL login"), "{}", out.stdout);
    assert!(
        out.stdout.contains("password"),
        "the hint says what to do: {}",
        out.stdout
    );
    assert!(out.stderr.contains("not saved"), "{}", out.stderr);
    assert_eq!(keyring_lookup(&id), None, "no orphaned keyring entry");
    assert!(!pm.config().exists() || !read(&pm.config()).contains(&id));
}

#[test]
fn missing_keyring_is_reported_not_worked_around() {
    let pm = Pushmail::new();
    let id = unique_id("nokr");
    // No session bus at all: the keyring is unreachable. Nothing may be written anywhere.
    let out = pm.cli(
        &[
            "account",
            "add",
            "--id",
            &id,
            "--host",
            "imap.example.com",
            "--username",
            "a",
            "--password-stdin",
            "--no-test",
        ],
        "pw\n",
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("keyring"), "{}", out.stderr);
    assert!(!pm.config().exists());
}

#[test]
fn broken_configuration_names_the_line_and_key() {
    let pm = Pushmail::new();
    pm.write_config(&[
        "[[accounts]]\nid = \"w\"\nhost = \"h\"\nusername = \"u\"\nidle_refresh = 5\n".to_owned(),
    ]);
    let out = pm.cli(&["watch", "--json"], "", &[]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("line 5") && out.stderr.contains("idle_refresh"),
        "{}",
        out.stderr
    );
    pm.write_config(&["[[accounts]]\nid = \"w\"\nhost = \"mail.example.com\"\nusername = \"u\"\nsecurity = \"plain\"\n".to_owned()]);
    let out = pm.cli(&["watch", "--json"], "", &[]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("plain") && out.stderr.contains("loopback"),
        "{}",
        out.stderr
    );
    pm.write_config(&[
        "[[accounts]]\nid = \"w\"\nhost = \"mail.example.com\"\nusername = \"u\"\n".to_owned(),
    ]);
    let out = pm.cli(&["account", "test", "nope"], "", &[]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("No account `nope`"), "{}", out.stderr);
}

#[test]
fn exec_hook_gets_the_message_in_its_environment_never_its_argv() {
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let pm = Pushmail::new();
    let id = unique_id("hook");
    pm.write_config(&[pm.account_toml(&dc, &id, "alice", common::Via::Tls, "alicepw", "")]);
    let out_file = pm.dir.path().join("hook.out");
    let pwned = pm.dir.path().join("pwned");
    let hook = pm.dir.path().join("hook.sh");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\n{{ echo \"argc=$#\"; echo \"account=$PUSHMAIL_ACCOUNT\"; echo \"folder=$PUSHMAIL_FOLDER\"; echo \"uid=$PUSHMAIL_UID\"; \
             echo \"from=$PUSHMAIL_FROM\"; echo \"subject=$PUSHMAIL_SUBJECT\"; echo \"mid=$PUSHMAIL_MESSAGE_ID\"; }} >> {}\n",
            out_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut w = pm.watch_args(&["--exec", hook.to_str().unwrap()], &[]);
    w.wait_state("push", SHORT);
    let subject = format!(
        "$(touch {}); `touch {}` & echo",
        pwned.display(),
        pwned.display()
    );
    let uid = dc
        .deliver(
            "alice",
            "INBOX",
            &message("Eve <eve@example.com>", "alice@example.org", &subject, "x"),
        )
        .unwrap();
    w.wait_new_mail(&subject, SHORT);
    assert!(pushmail_tests::wait_until(SHORT, || Ok(read(&out_file).contains("mid="))).unwrap());
    let got = read(&out_file);
    assert!(got.contains("argc=0"), "{got}");
    assert!(
        got.contains(&format!("account={id}")) && got.contains("folder=INBOX"),
        "{got}"
    );
    assert!(
        got.contains(&format!("uid={uid}")) && got.contains("from=eve@example.com"),
        "{got}"
    );
    assert!(got.contains(&format!("subject={subject}")), "{got}");
    assert!(!pwned.exists(), "the subject was executed by a shell");
}

/// Ids are one rule everywhere (core's, ignoring case): `account add --id WORK` next to `work`
/// is refused up front with the catalog's message in the user's language, as `--id work` is,
/// and the file keeps its one account. Before, the CLI compared exactly and `WORK` got as far
/// as validation, which answered with a different, English-only sentence.
#[test]
fn account_add_refuses_an_id_that_differs_only_in_case() {
    let pm = Pushmail::new();
    let existing = "[[accounts]]\nid = \"work\"\nhost = \"imap.example.com\"\nusername = \"u\"\n\
                    password_command = [\"true\"]\n";
    pm.write_config(&[existing.to_owned()]);
    let before = read(&pm.config());
    let add = |id: &str, locale: &str| {
        pm.cli(
            &[
                "account",
                "add",
                "--id",
                id,
                "--host",
                "imap.example.com",
                "--username",
                "u",
                "--password-command",
                "true",
                "--no-test",
            ],
            "",
            &[("LC_ALL", locale)],
        )
    };
    for id in ["WORK", "Work", "work"] {
        let out = add(id, "C");
        assert_eq!(out.code, Some(1), "{id}: {out:?}");
        assert!(
            out.stderr
                .contains("An account “work” already exists (IDs that differ only in upper and lower case count as the same)"),
            "{id}: {}",
            out.stderr
        );
        assert_eq!(read(&pm.config()), before, "{id}: the file changed");
    }
    let out = add("WORK", "it_IT.UTF-8");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("Esiste già un account «work»"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&pm.config()), before);
}
