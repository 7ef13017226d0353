//! Account discovery from an address (issue 12), against real components in the discovery lab
//! (`pushmail_tests::netns`): a private network and mount namespace where dnsmasq answers the
//! system resolver, HTTPS servers on 127.0.0.1:443 are trusted through the system store, and a
//! Dovecot listens on the standard ports — production's resolver and trust paths unchanged.
//!
//! Each test re-runs itself under `unshare` (root needed). The discovery is production's
//! (`pushmail_core::discover::discover`, or `pushmail-cli account add ADDRESS`), with short
//! timeouts so a missing server costs seconds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;

use std::time::Duration;

use common::Pushmail;
use pushmail_core::config::{Config, PasswordSource, Security};
use pushmail_core::discover::{
    self, AddressGuard, DiscoverError, Found, Login, Options, Source, Warning,
};
use pushmail_tests::netns::{self, Lab, Reply};
use pushmail_tests::{Dovecot, DovecotOptions, DovecotPorts};

const CONFIG_PATH: &str = "https://autoconfig.example.test/mail/config-v1.1.xml";
const WELL_KNOWN: &str = "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml";

fn options() -> Options {
    Options {
        http_timeout: Duration::from_secs(3),
        dns_timeout: Duration::from_secs(2),
        probe_timeout: Duration::from_secs(3),
        overall_timeout: Duration::from_secs(30),
        ..Options::default()
    }
}

/// Runs production's discovery for `address`; also returns the progress it reported.
fn find(address: &str) -> (Result<Found, DiscoverError>, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut progress = Vec::new();
    let result = rt.block_on(discover::discover(address, &options(), |p| {
        progress.push(p.to_string())
    }));
    (result, progress)
}

fn found(address: &str) -> Found {
    match find(address) {
        (Ok(found), _) => found,
        (Err(e), progress) => panic!("{address}: {e:?}; looked at {progress:?}"),
    }
}

fn not_found(address: &str) -> Vec<String> {
    match find(address).0 {
        Err(DiscoverError::NotFound { notes, .. }) => notes,
        other => panic!("{address}: expected nothing found, got {other:?}"),
    }
}

/// A Thunderbird configuration file with one IMAP server.
fn config_xml(host: &str, port: &str, socket: &str, username: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>{host}</hostname><port>{port}</port><socketType>{socket}</socketType>
      <username>{username}</username><authentication>password-cleartext</authentication>
    </incomingServer>
  </emailProvider>
</clientConfig>"#
    )
}

fn xml(body: String) -> Reply {
    Reply::ok("text/xml", body)
}

#[test]
fn the_provider_list_answers_without_asking_the_network() {
    if !netns::isolated("the_provider_list_answers_without_asking_the_network") {
        return;
    }
    let lab = Lab::builder().start().unwrap();
    let gmail = found("ana@gmail.com");
    assert_eq!(
        (gmail.host.as_str(), gmail.port, gmail.security),
        ("imap.gmail.com", 993, Security::Tls)
    );
    assert_eq!(
        gmail.source,
        Source::ProviderList {
            provider: gmail.provider.unwrap().name
        }
    );
    assert_eq!(
        gmail.login,
        Login::OAuth2 {
            provider: "google".into()
        }
    );
    let netease = found("li@163.com");
    assert_eq!(netease.host, "imap.163.com");
    assert!(netease.provider.unwrap().needs_id);
    let yahoo = found("carol@yahoo.com");
    assert!(!yahoo.provider.unwrap().idle, "Yahoo has no IDLE");
    assert!(lab.requests().is_empty(), "{:?}", lab.requests());
    assert!(lab.dns_queries().is_empty(), "{:?}", lab.dns_queries());
}

/// The domain's own file wins over SRV and guessing, and the whole `account add` works from
/// the address: found, confirmed with --yes, tested with the password against Dovecot, saved.
/// No request anywhere carried the password.
#[test]
fn the_domains_own_configuration_wins_and_the_account_is_added_from_the_address() {
    if !netns::isolated(
        "the_domains_own_configuration_wins_and_the_account_is_added_from_the_address",
    ) {
        return;
    }
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .a("imap.example.test")
        .https("autoconfig.example.test")
        .srv("_imaps._tcp.example.test", "imap.example.test", 993)
        .route(
            CONFIG_PATH,
            xml(config_xml(
                "imap.%EMAILDOMAIN%",
                "143",
                "STARTTLS",
                "%EMAILLOCALPART%",
            )),
        )
        .start()
        .unwrap();
    let _dc = Dovecot::start(lab.dovecot_options(&["imap.example.test"]).unwrap()).unwrap();

    let f = found("alice@example.test");
    assert_eq!(
        f.source,
        Source::Autoconfig {
            url: CONFIG_PATH.into()
        }
    );
    assert_eq!(
        (f.host.as_str(), f.port, f.security, f.username.as_str()),
        ("imap.example.test", 143, Security::Starttls, "alice")
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let first = &lab.requests()[0];
    assert_eq!(
        first.target,
        "/mail/config-v1.1.xml?emailaddress=alice%40example.test"
    );

    let pm = Pushmail::new();
    let pw = pm.password_file("alicepw");
    let command = format!("cat {}", pw.display());
    // No terminal to confirm on, no --yes: found, shown, not used.
    let out = pm.cli(
        &[
            "account",
            "add",
            "alice@example.test",
            "--password-command",
            &command,
        ],
        "",
        &[("LANG", "C.UTF-8")],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("add --yes"), "{}", out.stderr);
    assert!(!pm.config().exists());
    // An address nothing is known about: one sentence, nothing saved.
    let out = pm.cli(
        &[
            "account",
            "add",
            "bob@nothing.test",
            "--yes",
            "--password-command",
            &command,
        ],
        "",
        &[("LANG", "C.UTF-8")],
    );
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("No settings found for nothing.test. Enter the server by hand."),
        "{}",
        out.stderr
    );
    let out = pm.cli(
        &[
            "account",
            "add",
            "alice@example.test",
            "--yes",
            "--password-command",
            &command,
        ],
        "",
        &[("LANG", "C.UTF-8")],
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("from example.test's own configuration"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("Looking at"), "{}", out.stderr);
    let config = Config::load(&pm.config()).unwrap();
    let a = &config.accounts[0];
    assert_eq!(a.id, "alice");
    assert_eq!(a.email.as_deref(), Some("alice@example.test"));
    assert_eq!(
        (a.host.as_str(), a.port, a.security, a.username.as_str()),
        ("imap.example.test", 143, Security::Starttls, "alice")
    );
    assert!(matches!(a.password, PasswordSource::Command(_)));
    assert!(a.ca_file.is_none(), "trusted through the system store only");
    for r in lab.requests() {
        assert!(
            !r.contains("alicepw"),
            "a request carried the password: {r:?}"
        );
    }
}

#[test]
fn the_well_known_file_is_the_second_place_and_srv_the_third() {
    if !netns::isolated("the_well_known_file_is_the_second_place_and_srv_the_third") {
        return;
    }
    let lab = Lab::builder()
        .a("example.test")
        .a("imap.example.test")
        .https("example.test")
        .srv("_imaps._tcp.example.test", "imap.example.test", 993)
        .route(
            WELL_KNOWN,
            xml(config_xml(
                "imap.example.test",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        .start()
        .unwrap();
    let _dc = Dovecot::start(lab.dovecot_options(&["imap.example.test"]).unwrap()).unwrap();
    let f = found("alice@example.test");
    assert_eq!(
        f.source,
        Source::Autoconfig {
            url: WELL_KNOWN.into()
        }
    );
    assert_eq!(f.username, "alice@example.test");

    // Without any file, the SRV record, verified by a TLS probe that sends no credential.
    lab.route(WELL_KNOWN, Reply::status(404, "text/plain", "no"))
        .unwrap();
    let f = found("alice@example.test");
    assert_eq!(
        f.source,
        Source::Srv {
            record: "_imaps._tcp.example.test → imap.example.test:993".into()
        }
    );
    assert_eq!((f.port, f.security), (993, Security::Tls));
}

#[test]
fn srv_targets_outside_the_domain_are_flagged_and_wrong_names_refused() {
    if !netns::isolated("srv_targets_outside_the_domain_are_flagged_and_wrong_names_refused") {
        return;
    }
    let lab = Lab::builder()
        .a("imap.hoster.test")
        .srv("_imaps._tcp.example.test", "imap.hoster.test", 993)
        .start()
        .unwrap();
    let dc = Dovecot::start(lab.dovecot_options(&["imap.hoster.test"]).unwrap()).unwrap();
    let f = found("alice@example.test");
    assert_eq!(f.host, "imap.hoster.test");
    assert_eq!(
        f.warnings,
        vec![Warning::OutsideDomain {
            host: "imap.hoster.test".into(),
            registrable: "hoster.test".into()
        }]
    );
    drop(dc);

    // The same record, but the server's certificate is for another name: refused, said why.
    let _dc = Dovecot::start(lab.dovecot_options(&["elsewhere.test"]).unwrap()).unwrap();
    let notes = not_found("alice@example.test");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("imap.hoster.test:993") && n.contains("certificate")),
        "{notes:?}"
    );
}

#[test]
fn microsoft_365_and_other_hosters_are_recognised_by_the_mx() {
    if !netns::isolated("microsoft_365_and_other_hosters_are_recognised_by_the_mx") {
        return;
    }
    let _lab = Lab::builder()
        .mx(
            "contoso.test",
            "contoso-test.mail.protection.outlook.com",
            0,
        )
        .mx("example.test", "mx1.hoster.test", 10)
        .a("autoconfig.hoster.test")
        .https("autoconfig.hoster.test")
        .route(
            "https://autoconfig.hoster.test/mail/config-v1.1.xml",
            xml(config_xml(
                "imap.hoster.test",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        .start()
        .unwrap();
    let m365 = found("bob@contoso.test");
    assert_eq!(m365.host, "outlook.office365.com");
    assert_eq!(
        m365.login,
        Login::OAuth2 {
            provider: "microsoft".into()
        }
    );
    assert!(matches!(m365.source, Source::ProviderByMx { .. }));

    let hosted = found("alice@example.test");
    assert_eq!(
        hosted.source,
        Source::AutoconfigOfMx {
            url: "https://autoconfig.hoster.test/mail/config-v1.1.xml".into(),
            mx: "mx1.hoster.test".into()
        }
    );
    assert!(
        hosted.warnings.iter().any(
            |w| matches!(w, Warning::OutsideDomain { host, .. } if host == "imap.hoster.test")
        ),
        "{:?}",
        hosted.warnings
    );
}

#[test]
fn guessing_takes_a_valid_certificate_and_reports_a_self_signed_one() {
    if !netns::isolated("guessing_takes_a_valid_certificate_and_reports_a_self_signed_one") {
        return;
    }
    let lab = Lab::builder().a("imap.example.test").start().unwrap();
    let dc = Dovecot::start(lab.dovecot_options(&["imap.example.test"]).unwrap()).unwrap();
    let f = found("alice@example.test");
    assert_eq!(
        f.source,
        Source::Guess {
            host: "imap.example.test".into()
        }
    );
    assert_eq!((f.port, f.security), (993, Security::Tls));
    drop(dc);

    // A certificate nobody vouches for is never proposed, even though IMAP answers.
    let _dc = Dovecot::start(DovecotOptions {
        ports: Some(DovecotPorts::STANDARD),
        ..DovecotOptions::default()
    })
    .unwrap();
    let notes = not_found("alice@example.test");
    assert!(
        notes.iter().any(|n| n.starts_with("imap.example.test:993")),
        "{notes:?}"
    );
}

/// Each hostile answer is refused (or flagged), says why, and never leads anywhere: the next
/// place is tried and, with nothing else there, nothing is proposed.
#[test]
fn hostile_configuration_files_are_refused_one_by_one() {
    if !netns::isolated("hostile_configuration_files_are_refused_one_by_one") {
        return;
    }
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .https("autoconfig.example.test")
        .start()
        .unwrap();
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&lol2;</hostname>
</incomingServer></emailProvider></clientConfig>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&x;</hostname>
</incomingServer></emailProvider></clientConfig>"#;
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "https→http redirect",
            Reply::redirect(302, "http://autoconfig.example.test/mail/config-v1.1.xml"),
            "non-HTTPS",
        ),
        (
            "redirect loop",
            Reply::redirect(302, CONFIG_PATH),
            "redirects",
        ),
        (
            "10 MB body",
            Reply::huge("text/xml", 10 << 20),
            "larger than",
        ),
        ("billion laughs", xml(laughs.into()), "DTD"),
        ("external entity", xml(external.into()), "DTD"),
        (
            "control characters",
            xml(config_xml(
                "imap.example.test&#13;&#10;x",
                "993",
                "SSL",
                "a",
            )),
            "control",
        ),
        (
            "IP literal",
            xml(config_xml("127.0.0.1", "993", "SSL", "a")),
            "IP address",
        ),
        (
            "unreplaced placeholder",
            xml(config_xml("imap.example.test", "993", "SSL", "%EMAILUSER%")),
            "placeholder",
        ),
        (
            "plain text",
            xml(config_xml("imap.example.test", "143", "plain", "a")),
            "plain-text",
        ),
    ];
    for (what, reply, reason) in cases {
        lab.route(CONFIG_PATH, reply).unwrap();
        lab.clear_log();
        let notes = not_found("alice@example.test");
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(CONFIG_PATH) && n.contains(reason)),
            "{what}: {notes:?}"
        );
        assert!(
            lab.requests().iter().all(|r| r.scheme == "https"),
            "{what}: followed to plain HTTP: {:?}",
            lab.requests()
        );
    }
}

#[test]
fn a_look_alike_domain_is_flagged() {
    if !netns::isolated("a_look_alike_domain_is_flagged") {
        return;
    }
    // gmаil.com with a Cyrillic а: its own file points to its own server.
    let lab = Lab::builder()
        .a("autoconfig.xn--gmil-63d.com")
        .https("autoconfig.xn--gmil-63d.com")
        .route(
            "https://autoconfig.xn--gmil-63d.com/mail/config-v1.1.xml",
            xml(config_xml(
                "imap.xn--gmil-63d.com",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        .start()
        .unwrap();
    let f = found("ana@gmаil.com");
    assert_eq!(
        f.warnings.first(),
        Some(&Warning::LookAlike {
            domain: "gmаil.com".into(),
            imitates: "gmail.com".into()
        })
    );
    // The look-alike's own server is what would be used — never passed off as Gmail's.
    assert_eq!(f.host, "imap.xn--gmil-63d.com");
    assert!(f.provider.is_none());
    assert!(
        lab.dns_queries()
            .iter()
            .all(|q| !q.name.ends_with("gmail.com")),
        "{:?}",
        lab.dns_queries()
    );
}

/// A file that redirects to another site is not passed off as the domain's own; a timeout
/// names the limit that passed.
#[test]
fn redirects_away_and_timeouts_are_named() {
    if !netns::isolated("redirects_away_and_timeouts_are_named") {
        return;
    }
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .a("autoconfig.elsewhere.test")
        .https("autoconfig.example.test")
        .https("autoconfig.elsewhere.test")
        .route(
            CONFIG_PATH,
            Reply::redirect(
                302,
                "https://autoconfig.elsewhere.test/mail/config-v1.1.xml",
            ),
        )
        .route(
            "https://autoconfig.elsewhere.test/mail/config-v1.1.xml",
            xml(config_xml(
                "imap.elsewhere.test",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        .start()
        .unwrap();
    let notes = not_found("alice@example.test");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with(CONFIG_PATH) && n.contains("another site")),
        "{notes:?}"
    );

    lab.route(
        CONFIG_PATH,
        Reply::slow(Duration::from_secs(5), Reply::ok("text/xml", "x")),
    )
    .unwrap();
    let notes = not_found("alice@example.test");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with(CONFIG_PATH) && n.contains("3s")),
        "{notes:?}"
    );
}

/// A host that looks settings up for others (the relay) hands discovery a guard: no HTTPS
/// request goes to an address it refuses — not the domain's files, not the MX hoster's, not a
/// literal address built from an MX name (`mx.127.0x1` → `https://127.0x1/…`, which the URL
/// parser reads as 127.0.0.1 and no resolver sees), not a redirect's target — and the notes say
/// why. Without a guard (the desktop) the same lookups go where DNS says.
#[test]
fn a_hosts_address_guard_keeps_every_request_off_refused_addresses() {
    if !netns::isolated("a_hosts_address_guard_keeps_every_request_off_refused_addresses") {
        return;
    }
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .https("autoconfig.example.test")
        .route(
            CONFIG_PATH,
            xml(config_xml(
                "imap.example.test",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        .mx("example.test", "mx1.hoster.test", 10)
        .a("autoconfig.hoster.test")
        .https("autoconfig.hoster.test")
        .route(
            "https://autoconfig.hoster.test/mail/config-v1.1.xml",
            xml(config_xml(
                "imap.hoster.test",
                "993",
                "SSL",
                "%EMAILADDRESS%",
            )),
        )
        // An MX whose registrable part (`127.0x1`) the URL parser takes for an address.
        .mx("numeric.test", "mx.127.0x1", 10)
        // A redirect from an allowed address to a refused one (127.0.0.2).
        .a("autoconfig.moved.test")
        .https("autoconfig.moved.test")
        .route(
            "https://autoconfig.moved.test/mail/config-v1.1.xml",
            Reply::redirect(302, "https://files.moved.test/config.xml"),
        )
        .a_to("files.moved.test", std::net::Ipv4Addr::new(127, 0, 0, 2))
        .start()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = |address: &str, guard: Option<AddressGuard>| {
        let opts = Options {
            address_guard: guard,
            ..options()
        };
        rt.block_on(discover::discover(address, &opts, |_| {}))
    };
    let notes = |result: Result<Found, DiscoverError>| match result {
        Err(DiscoverError::NotFound { notes, .. }) => notes.join("\n"),
        other => panic!("expected nothing found, got {other:?}"),
    };
    // Loopback refused, as a relay without allow_private does.
    let strict = || {
        Some(AddressGuard::new(|ip| {
            if ip.is_loopback() || ip.to_canonical().is_loopback() {
                Err(format!("{ip} is a loopback address"))
            } else {
                Ok(())
            }
        }))
    };
    let n = notes(run("ana@example.test", strict()));
    println!("notes for ana@example.test:\n{n}");
    assert!(
        n.contains(&format!(
            "{CONFIG_PATH}: not fetched: autoconfig.example.test resolves only to addresses this server does not reach; 127.0.0.1 is a loopback address"
        )),
        "{n}"
    );
    assert!(
        n.contains("not fetched: autoconfig.hoster.test resolves only"),
        "{n}"
    );
    let n = notes(run("ana@numeric.test", strict()));
    println!("notes for ana@numeric.test:\n{n}");
    assert!(
        n.contains("https://127.0x1/.well-known/autoconfig/mail/config-v1.1.xml: not fetched: 127.0.0.1 is a loopback address"),
        "{n}"
    );
    assert!(lab.requests().is_empty(), "{:?}", lab.requests());
    assert!(lab.handshakes().is_empty(), "{:?}", lab.handshakes());

    // 127.0.0.1 allowed, 127.0.0.2 not (an operator's allow_private of one address): the
    // redirect's target is refused after the first request, and said so.
    let one = || {
        Some(AddressGuard::new(|ip| {
            if ip == std::net::IpAddr::from([127, 0, 0, 1]) {
                Ok(())
            } else {
                Err(format!("{ip} is not allowed"))
            }
        }))
    };
    let n = notes(run("ana@moved.test", one()));
    println!("notes for ana@moved.test:\n{n}");
    assert!(
        n.contains("not fetched: files.moved.test resolves only to addresses this server does not reach; 127.0.0.2 is not allowed"),
        "{n}"
    );
    assert_eq!(lab.requests().len(), 1, "{:?}", lab.requests());
    lab.clear_log();

    // No guard (the desktop): the domain's file is fetched as before.
    let f = run("ana@example.test", None).unwrap();
    assert_eq!(
        f.source,
        Source::Autoconfig {
            url: CONFIG_PATH.into()
        }
    );
    assert_eq!(lab.requests().len(), 1);
    // …and the address hidden in the MX name is reached (a TLS handshake, which fails: the
    // lab has no certificate for 127.0.0.1): what the guard kept the relay from.
    lab.clear_log();
    let _ = run("ana@numeric.test", None);
    assert!(!lab.handshakes().is_empty());
}
