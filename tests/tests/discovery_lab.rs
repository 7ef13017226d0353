//! Proves the discovery lab (`pushmail_tests::netns`) before any discovery test leans on it:
//! inside a private namespace, names resolve through the system resolver to the lab's dnsmasq,
//! HTTPS verifies through the system trust store alone (and refuses a wrong name or an unknown
//! CA), every request is logged, Dovecot answers on 993 and 143 for `imap.example.test` to
//! production's own connection test, and the host's `/etc` is untouched afterwards.
//!
//! Each test re-runs itself under `unshare` (root needed; see the module docs of `netns`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pushmail_core::account_test;
use pushmail_core::{Account, PasswordSource, Security};
use pushmail_tests::Dovecot;
use pushmail_tests::netns::{self, DnsRecord, Lab, RecordType, Reply};

/// The host files the lab mounts over, read outside and compared after the isolated run.
fn host_files() -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(netns::RESOLV_CONF).unwrap_or_default(),
        std::fs::read(netns::SYSTEM_BUNDLE).unwrap_or_default(),
    )
}

/// Where glibc's `getaddrinfo` (std, tokio, production) sends `name`.
fn system_lookup(name: &str) -> std::io::Result<Vec<IpAddr>> {
    Ok((name, 443).to_socket_addrs()?.map(|a| a.ip()).collect())
}

/// Production's TLS client configuration on Linux: ring, the platform verifier, no extra
/// roots, i.e. what `imap/transport.rs` builds for an account without `ca_file`.
fn system_tls() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .unwrap()
            .dangerous() // the platform verifier checks chain and name
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth(),
    )
}

/// One GET over `https` (`tls` given) or plain HTTP to `host` resolved by the system;
/// returns the whole response (head and body) or the error.
fn get(
    tls: Option<&Arc<rustls::ClientConfig>>,
    host: &str,
    target: &str,
) -> Result<Vec<u8>, String> {
    let port = if tls.is_some() { 443 } else { 80 };
    let tcp = TcpStream::connect((host, port)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lab-test\r\nConnection: close\r\n\r\n"
    );
    let mut response = Vec::new();
    match tls {
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
            let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
            let mut stream = rustls::StreamOwned::new(conn, tcp);
            stream
                .write_all(request.as_bytes())
                .map_err(|e| format!("tls: {e}"))?;
            stream
                .read_to_end(&mut response)
                .map_err(|e| format!("read: {e}"))?;
        }
        None => {
            let mut tcp = tcp;
            tcp.write_all(request.as_bytes()).unwrap();
            tcp.read_to_end(&mut response)
                .map_err(|e| format!("read: {e}"))?;
        }
    }
    Ok(response)
}

fn status_line(response: &[u8]) -> String {
    String::from_utf8_lossy(response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn body(response: &[u8]) -> &[u8] {
    let at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    &response[at + 4..]
}

#[test]
fn dns_records_reach_the_system_resolver_and_the_host_keeps_its_resolv_conf() {
    let host_before = host_files();
    if !netns::isolated("dns_records_reach_the_system_resolver_and_the_host_keeps_its_resolv_conf")
    {
        assert!(
            host_files() == host_before,
            "the host's /etc/resolv.conf or CA bundle changed"
        );
        return;
    }
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .a_to("mx.hoster.test", Ipv4Addr::new(127, 0, 0, 2))
        .mx("example.test", "mx.hoster.test", 10)
        .srv("_imaps._tcp.example.test", "imap.example.test", 993)
        .start()
        .unwrap();

    assert_eq!(
        netns::system_nameservers().unwrap(),
        vec![IpAddr::from(Ipv4Addr::LOCALHOST)]
    );
    // glibc's getaddrinfo, as production connects.
    assert_eq!(
        system_lookup("autoconfig.example.test").unwrap(),
        vec![IpAddr::from(Ipv4Addr::LOCALHOST)]
    );
    assert_eq!(
        system_lookup("mx.hoster.test").unwrap(),
        vec![IpAddr::from(Ipv4Addr::new(127, 0, 0, 2))]
    );
    assert!(
        system_lookup("nothing.example.test").is_err(),
        "an unknown name must not resolve"
    );
    // MX and SRV through the server /etc/resolv.conf names.
    assert_eq!(
        netns::query("example.test", RecordType::Mx).unwrap(),
        vec![DnsRecord::Mx {
            preference: 10,
            exchange: "mx.hoster.test".to_owned()
        }]
    );
    assert_eq!(
        netns::query("_imaps._tcp.example.test", RecordType::Srv).unwrap(),
        vec![DnsRecord::Srv {
            priority: 0,
            weight: 0,
            port: 993,
            target: "imap.example.test".to_owned()
        }]
    );
    assert_eq!(
        netns::query("_imap._tcp.example.test", RecordType::Srv).unwrap(),
        vec![]
    );
    let asked: Vec<(String, String)> = lab
        .dns_queries()
        .into_iter()
        .map(|q| (q.kind, q.name))
        .collect();
    for wanted in [
        ("A", "autoconfig.example.test"),
        ("MX", "example.test"),
        ("SRV", "_imaps._tcp.example.test"),
    ] {
        assert!(
            asked.contains(&(wanted.0.to_owned(), wanted.1.to_owned())),
            "{wanted:?} not in dnsmasq's log: {asked:?}"
        );
    }
    // Inside, the mount is what glibc reads; outside it never existed (checked above).
    assert!(
        std::fs::read_to_string(netns::RESOLV_CONF)
            .unwrap()
            .contains("nameserver 127.0.0.1")
    );
}

#[test]
fn https_is_trusted_through_the_system_store_for_the_right_name_only() {
    if !netns::isolated("https_is_trusted_through_the_system_store_for_the_right_name_only") {
        return;
    }
    const XML: &str = "<clientConfig version=\"1.1\"/>";
    let lab = Lab::builder()
        .a("autoconfig.example.test")
        .a("wrong.example.test")
        .a("untrusted.example.test")
        .https("autoconfig.example.test")
        .https_cert("wrong.example.test", &["somewhere-else.test"])
        .https_untrusted("untrusted.example.test")
        .route(
            "https://autoconfig.example.test/mail/config-v1.1.xml",
            Reply::ok("text/xml", XML),
        )
        .route(
            "https://autoconfig.example.test/old",
            Reply::redirect(301, "http://autoconfig.example.test/plain"),
        )
        .route(
            "http://autoconfig.example.test/plain",
            Reply::ok("text/xml", XML),
        )
        .route(
            "https://autoconfig.example.test/huge",
            Reply::huge("text/xml", 5 << 20),
        )
        .route(
            "https://autoconfig.example.test/slow",
            Reply::slow(Duration::from_millis(600), Reply::ok("text/xml", XML)),
        )
        .start()
        .unwrap();
    // No env var points anywhere: the system store, with the lab CA in its bundle, is all.
    assert!(std::env::var_os("SSL_CERT_FILE").is_none());
    assert!(std::env::var_os("SSL_CERT_DIR").is_none());
    let ca = std::fs::read_to_string(lab.ca_file()).unwrap();
    assert!(
        std::fs::read_to_string(netns::SYSTEM_BUNDLE)
            .unwrap()
            .contains(ca.trim())
    );
    let tls = system_tls();

    let ok = get(
        Some(&tls),
        "autoconfig.example.test",
        "/mail/config-v1.1.xml?emailaddress=ana%40example.test",
    )
    .unwrap();
    assert_eq!(status_line(&ok), "HTTP/1.1 200 OK");
    assert_eq!(body(&ok), XML.as_bytes());

    let wrong = get(Some(&tls), "wrong.example.test", "/").unwrap_err();
    assert!(wrong.contains("not valid for name"), "{wrong}");
    let stranger = get(Some(&tls), "untrusted.example.test", "/").unwrap_err();
    assert!(
        stranger.contains("UnknownIssuer") || stranger.contains("unknown issuer"),
        "{stranger}"
    );

    let moved = get(Some(&tls), "autoconfig.example.test", "/old").unwrap();
    assert_eq!(status_line(&moved), "HTTP/1.1 301 Moved Permanently");
    assert!(
        String::from_utf8_lossy(&moved).contains("Location: http://autoconfig.example.test/plain")
    );
    let plain = get(None, "autoconfig.example.test", "/plain").unwrap();
    assert_eq!(body(&plain), XML.as_bytes());

    let huge = get(Some(&tls), "autoconfig.example.test", "/huge").unwrap();
    assert_eq!(body(&huge).len(), 5 << 20);
    let started = Instant::now();
    let slow = get(Some(&tls), "autoconfig.example.test", "/slow").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(body(&slow), XML.as_bytes());

    // The log: every request as sent, nothing for the refused handshakes.
    let requests = lab.requests();
    let first = &requests[0];
    assert_eq!(
        (
            first.scheme,
            first.sni.as_deref(),
            first.host.as_str(),
            first.method.as_str(),
            first.target.as_str(),
            first.header("user-agent"),
            first.status,
        ),
        (
            "https",
            Some("autoconfig.example.test"),
            "autoconfig.example.test",
            "GET",
            "/mail/config-v1.1.xml?emailaddress=ana%40example.test",
            Some("lab-test"),
            200,
        )
    );
    assert!(first.contains("ana@example.test"));
    assert_eq!(
        requests
            .iter()
            .map(|r| (r.scheme, r.path().to_owned()))
            .collect::<Vec<_>>(),
        vec![
            ("https", "/mail/config-v1.1.xml".to_owned()),
            ("https", "/old".to_owned()),
            ("http", "/plain".to_owned()),
            ("https", "/huge".to_owned()),
            ("https", "/slow".to_owned()),
        ]
    );
    assert!(requests.iter().all(|r| !r.contains("alicepw")));
    let refused: Vec<_> = lab
        .handshakes()
        .into_iter()
        .filter(|h| h.error.is_some())
        .map(|h| h.sni.unwrap_or_default())
        .collect();
    assert_eq!(refused, ["wrong.example.test", "untrusted.example.test"]);
}

#[test]
fn dovecot_answers_on_993_and_143_for_imap_example_test() {
    if !netns::isolated("dovecot_answers_on_993_and_143_for_imap_example_test") {
        return;
    }
    let lab = Lab::builder()
        .a("imap.example.test")
        .srv("_imaps._tcp.example.test", "imap.example.test", 993)
        .start()
        .unwrap();
    let dovecot = Dovecot::start(lab.dovecot_options(&["imap.example.test"]).unwrap()).unwrap();
    assert_eq!((dovecot.imaps_port(), dovecot.imap_port()), (993, 143));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Production's own connection test, with nothing but a host name: DNS from the lab, trust
    // from the system store (no ca_file).
    let account = |host: &str, security: Security| {
        let mut a = Account::new("lab", host, "alice");
        a.security = security;
        a.port = security.default_port();
        a.password = PasswordSource::Command(vec!["echo".to_owned(), "alicepw".to_owned()]);
        assert_eq!(a.ca_file, None);
        a
    };
    for security in [Security::Tls, Security::Starttls] {
        let report = rt.block_on(account_test::test_account(
            &account("imap.example.test", security),
            |_| {},
        ));
        eprintln!("{security:?}: {:?}", report.steps);
        assert!(report.ok(), "{security:?}: {:#?}", report.steps);
    }
    // The certificate names imap.example.test only: the same server by address is refused.
    let by_ip = rt.block_on(account_test::test_account(
        &account("127.0.0.1", Security::Tls),
        |_| {},
    ));
    let failed = by_ip.steps.iter().find(|s| !s.ok).expect("a failed step");
    assert_eq!(failed.step, "tls", "{:#?}", by_ip.steps);
}
