//! The relay (crates/relay, docs/relay.md) against a real PostgreSQL 15 and Dovecot.

use pushmail_tests::Postgres;

#[test]
fn a_private_postgres_starts_and_answers() {
    let pg = Postgres::start().unwrap();
    pg.create_database("relay").unwrap();
    let out = pg.psql("relay", "SELECT 40 + 2").unwrap();
    assert_eq!(out.trim(), "42");
}
