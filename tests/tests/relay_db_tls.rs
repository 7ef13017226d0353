//! The relay's database over TLS, against a real PostgreSQL 15 that rejects plain connections
//! (`hostnossl … reject`): with `sslmode=require` and the server's CA in `database_ca_file`,
//! the relay's pool, its LISTEN connections and its CLI all connect over TLS (as
//! `pg_stat_ssl` shows) and the relay works; without the CA the certificate is refused with a
//! sentence that says so; without `sslmode=require` the relay does not try TLS, and the
//! server's refusal is what the operator reads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod relay_common;

use std::process::Command;

use pushmail_tests::{Dovecot, DovecotOptions, Postgres, bin};
use relay_common::{Relay, RelaySetup, http};

/// `pushmail-relay user add` with `config`: its exit status and stderr.
fn user_add(config: &std::path::Path) -> (bool, String) {
    let out = Command::new(bin("pushmail-relay"))
        .args(["user", "add", "Dana", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_database_is_reached_over_verified_tls_when_the_operator_asks() {
    let pg = Postgres::start_tls().unwrap();
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    // RelaySetup creates the database through psql (which prefers TLS, so it passes).
    let setup = RelaySetup::new(&pg, &dc, 3.0);
    let plain = std::fs::read_to_string(&setup.config).unwrap();
    let conninfo = pg.conninfo(&setup.db);
    assert!(plain.contains(&conninfo));

    // No sslmode: no TLS from the relay, and the server says no.
    let (ok, err) = user_add(&setup.config);
    assert!(!ok, "a plain connection got through");
    assert!(
        err.contains("no encryption") || err.contains("pg_hba.conf"),
        "{err}"
    );

    // sslmode=require without the CA: the certificate is refused, and the error says why.
    let required = plain.replace(&conninfo, &format!("{conninfo} sslmode=require"));
    std::fs::write(&setup.config, &required).unwrap();
    let (ok, err) = user_add(&setup.config);
    assert!(!ok, "an unknown CA was trusted");
    assert!(err.to_ascii_lowercase().contains("certificate"), "{err}");

    // With the CA: the CLI, the pool and the LISTEN connections all use TLS.
    std::fs::write(
        &setup.config,
        format!(
            "database_ca_file = \"{}\"\n{required}",
            pg.ca_file().display()
        ),
    )
    .unwrap();
    let (ok, err) = user_add(&setup.config);
    assert!(ok, "{err}");
    // libpq's name for the same thing works too; a CA file without sslmode=require is an
    // error, not a silent connection in the clear.
    let ca_line = format!("database_ca_file = \"{}\"\n", pg.ca_file().display());
    std::fs::write(
        &setup.config,
        format!(
            "{ca_line}{}",
            required.replace("sslmode=require", "sslmode=verify-full")
        ),
    )
    .unwrap();
    let (ok, err) = user_add(&setup.config);
    assert!(ok, "{err}");
    std::fs::write(&setup.config, format!("{ca_line}{plain}")).unwrap();
    let (ok, err) = user_add(&setup.config);
    assert!(!ok);
    assert!(err.contains("does not say sslmode=require"), "{err}");
    std::fs::write(&setup.config, format!("{ca_line}{required}")).unwrap();
    let token = setup.add_user("Eve");
    let relay = Relay::start(&setup, "tls");
    let (status, me) = http(relay.port, "GET", "/api/me", Some(&token), None);
    assert_eq!(status, 200, "{me}\n{}", relay.log());
    assert_eq!(me["name"], "Eve");
    // Only TLS connections (`t`), and at least the pool's, the accounts listener's and the
    // senders' listener (they connect in the background after the start).
    let query = "SELECT s.ssl, count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name LIKE 'pushmail-relay%' GROUP BY s.ssl";
    let all_tls = pushmail_tests::wait_until(std::time::Duration::from_secs(15), || {
        let rows = setup.psql(query);
        let rows = rows.trim();
        Ok(rows
            .split_once('\t')
            .is_some_and(|(flag, n)| flag == "t" && n.parse::<u32>().unwrap_or(0) >= 3))
    })
    .unwrap();
    assert!(all_tls, "{}\n{}", setup.psql(query), relay.log());
}
