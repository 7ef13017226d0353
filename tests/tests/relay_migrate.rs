//! A database made by the relay before sign-in existed (its schema kept in
//! tests/relay/fixtures/schema-before-signin.sql), with a user and a mailbox in it, is brought
//! up to date by today's relay at its first start: the new columns appear with the defaults
//! that keep the old mailbox a password mailbox, nothing is lost, and starting again changes
//! nothing (the schema is applied at every start).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::path::Path;

use pushmail_tests::{Dovecot, DovecotOptions, Postgres};
use relay_common::{Relay, RelaySetup, http};

#[test]
fn a_database_from_before_sign_in_is_brought_up_to_date_without_loss() {
    let pg = Postgres::start().unwrap();
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    // RelaySetup only creates the database and writes the config; nothing has run yet.
    let setup = RelaySetup::new(&pg, &dc, 3.0);
    let old = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("relay/fixtures/schema-before-signin.sql"),
    )
    .unwrap();
    setup.psql(&old);
    setup.psql(
        "INSERT INTO relay_user (id, name) VALUES (7, 'Old');
         INSERT INTO account (id, user_id, bucket, name, host, port, security, username,
                              sealed_key, sealed_secret)
         VALUES ('00000000000000aa', 7, 3, 'Old mailbox', 'imap.example.org', 993, 'tls', 'old',
                 '\\x01', '\\x02')",
    );
    let columns = "SELECT count(*) FROM information_schema.columns
                   WHERE table_name = 'account' AND column_name IN
                         ('auth', 'signin_provider', 'secret_version')";
    assert_eq!(setup.psql(columns).trim(), "0");

    let token = setup.add_user("New"); // the CLI connects, hence migrates, first
    assert_eq!(setup.psql(columns).trim(), "3");
    assert_eq!(
        setup
            .psql(
                "SELECT name, auth, signin_provider, secret_version, encode(sealed_secret, 'hex')
                 FROM account WHERE id = '00000000000000aa'"
            )
            .trim(),
        "Old mailbox\tpassword\t\t0\t02"
    );
    assert_eq!(
        setup
            .psql(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'signin_pending'"
            )
            .trim(),
        "1"
    );
    // A relay process starts on it (applying the schema once more) and serves the new user.
    let relay = Relay::start(&setup, "migrated");
    let (status, me) = http(relay.port, "GET", "/api/me", Some(&token), None);
    assert_eq!(status, 200, "{me}\n{}", relay.log());
    assert_eq!(
        setup.psql("SELECT count(*) FROM account").trim(),
        "1",
        "{}",
        relay.log()
    );
}
