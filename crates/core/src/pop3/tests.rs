//! Sessions against a scripted POP3 server on loopback: what a user would notice (a login
//! that works, mail told apart, a hostile or broken server refused without the password
//! leaving), and the commands the server saw.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::*;
use crate::error::{NetCause, UnsafeCause};
use crate::imap::transport::framing::LimitError;

/// One move of the scripted server.
enum Do {
    /// Send these bytes without waiting for anything (the greeting, injected data).
    Send(Vec<u8>),
    /// Read one command line (recorded), then send these bytes.
    Reply(Vec<u8>),
    /// Read one command line (recorded) and answer nothing.
    Ignore,
    /// Close the connection.
    Close,
}

fn send(s: &str) -> Do {
    Do::Send(s.as_bytes().to_vec())
}

fn reply(s: &str) -> Do {
    Do::Reply(s.as_bytes().to_vec())
}

const GREETING: &str = "+OK POP3 ready\r\n";
const CAPA_USER: &str = "+OK\r\nTOP\r\nUIDL\r\nUSER\r\n.\r\n";

/// A server on 127.0.0.1 that plays `script`, then records every further line until the
/// client closes; the handle gives the lines it received. The account points at it, in
/// plaintext (loopback), with short timeouts.
async fn server(script: Vec<Do>) -> (Account, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (r, mut w) = socket.into_split();
        let mut r = BufReader::new(r);
        let mut log = Vec::new();
        let mut line = String::new();
        for step in script {
            match step {
                Do::Close => return log,
                Do::Send(bytes) => {
                    let _ = w.write_all(&bytes).await;
                }
                Do::Reply(_) | Do::Ignore => {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return log;
                    }
                    log.push(line.trim_end().to_owned());
                    if let Do::Reply(bytes) = step {
                        let _ = w.write_all(&bytes).await;
                    }
                }
            }
        }
        // Whatever else the client sends, until it closes (or the test would hang).
        let rest = async {
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    break;
                }
                log.push(line.trim_end().to_owned());
                if line.trim_end() == "QUIT" {
                    let _ = w.write_all(b"+OK bye\r\n").await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), rest).await;
        log
    });
    let mut account = Account::new("t", "127.0.0.1", "alice");
    account.port = port;
    account.security = Security::Plain;
    account.timing.connect_timeout = Duration::from_secs(2);
    account.timing.command_timeout = Duration::from_secs(2);
    (account, handle)
}

/// A greeted session on `script` (greeting and CAPA included by the caller).
async fn session(script: Vec<Do>) -> (Pop3, JoinHandle<Vec<String>>) {
    let (account, server) = server(script).await;
    let pop = connect(&account, &TlsConfigs::default()).await.unwrap();
    (pop, server)
}

fn pw(s: &str) -> SecretString {
    SecretString::from(s)
}

fn no_credentials_sent(log: &[String]) {
    for line in log {
        for word in ["USER", "PASS", "AUTH"] {
            assert!(
                !line.starts_with(word),
                "{line:?} reached the server: {log:?}"
            );
        }
    }
}

fn protocol_cause(e: &ConnectError) -> Option<(&ProtoCause, Option<Step>)> {
    match e {
        ConnectError::Protocol { cause, step, .. } => Some((cause, *step)),
        _ => None,
    }
}

#[tokio::test]
async fn a_whole_poll_with_user_pass_reads_and_changes_nothing() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK alice\r\n"),
        reply("+OK logged in\r\n"),
        reply("+OK 2 320\r\n"),
        reply("+OK\r\n1 aaa\r\n2 bbb\r\n.\r\n"),
        reply("+OK\r\nSubject: hi\r\n\r\n.\r\n"),
    ])
    .await;
    assert_eq!(pop.capabilities(), ["TOP", "UIDL", "USER"]);
    assert!(pop.tls.is_none());
    pop.login("alice", &pw("pw")).await.unwrap();
    assert_eq!(pop.stat().await.unwrap(), (2, 320));
    assert_eq!(
        pop.uidl_all(Some(2)).await.unwrap(),
        [(1, "aaa".to_owned()), (2, "bbb".to_owned())]
    );
    assert_eq!(
        pop.top_headers(2, 1024).await.unwrap(),
        b"Subject: hi\r\n\r\n"
    );
    let (read, written) = pop.bytes();
    assert!(read > 50 && written > 30, "{read} {written}");
    pop.quit().await;
    assert_eq!(
        server.await.unwrap(),
        [
            "CAPA",
            "USER alice",
            "PASS pw",
            "STAT",
            "UIDL",
            "TOP 2 0",
            "QUIT"
        ]
    );
}

#[tokio::test]
async fn sasl_plain_sends_the_credentials_in_the_initial_response() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply("+OK\r\nUSER\r\nSASL LOGIN PLAIN\r\n.\r\n"),
        reply("+OK welcome\r\n"),
    ])
    .await;
    pop.login("alice", &pw("pw")).await.unwrap();
    pop.quit().await;
    assert_eq!(
        server.await.unwrap(),
        ["CAPA", "AUTH PLAIN AGFsaWNlAHB3", "QUIT"]
    );
}

#[tokio::test]
async fn sasl_plain_too_long_for_one_line_waits_for_the_continuation() {
    let user = "u".repeat(200);
    let blob = rfc5034_sasl::plain_response(&user, &pw("pw"));
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply("+OK\r\nSASL PLAIN\r\n.\r\n"),
        reply("+ \r\n"),
        reply("+OK welcome\r\n"),
    ])
    .await;
    pop.login(&user, &pw("pw")).await.unwrap();
    pop.quit().await;
    assert_eq!(
        server.await.unwrap(),
        ["CAPA", "AUTH PLAIN", blob.as_str(), "QUIT"]
    );
}

#[tokio::test]
async fn a_server_without_capa_gets_user_pass() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply("-ERR unknown command\r\n"),
        reply("+OK\r\n"),
        reply("+OK\r\n"),
    ])
    .await;
    assert!(pop.capabilities().is_empty());
    pop.login("alice", &pw("pw")).await.unwrap();
    pop.quit().await;
    assert_eq!(
        server.await.unwrap(),
        ["CAPA", "USER alice", "PASS pw", "QUIT"]
    );
}

#[tokio::test]
async fn a_wrong_password_is_auth_and_the_password_never_shows() {
    let secret = "s3cr3t-Pa55";
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK\r\n"),
        reply(&format!("-ERR [AUTH] Invalid login: you sent {secret}\r\n")),
    ])
    .await;
    let e = pop.login("alice", &pw(secret)).await.unwrap_err();
    assert!(matches!(e, ConnectError::Auth(_)), "{e:?}");
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        e.detail(),
        format!("{pop:?}"),
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(e.to_string().contains("[AUTH] Invalid login"), "{e}");
    assert!(e.to_string().contains("[REDACTED]"), "{e}");
    // A clean -ERR: the session can still say goodbye properly.
    pop.quit().await;
    assert_eq!(server.await.unwrap().last().unwrap(), "QUIT");
}

#[tokio::test]
async fn an_echoed_plain_response_is_scrubbed_too() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply("+OK\r\nSASL PLAIN\r\n.\r\n"),
        reply("-ERR bad AGFsaWNlAHMzY3IzdA==\r\n"),
    ])
    .await;
    let e = pop.login("alice", &pw("s3cr3t")).await.unwrap_err();
    assert!(matches!(e, ConnectError::Auth(_)), "{e:?}");
    assert!(!format!("{e:?}").contains("AGFsaWNlAHMzY3IzdA=="), "{e:?}");
}

#[tokio::test]
async fn a_locked_mailbox_is_throttling_not_a_wrong_password() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK\r\n"),
        reply("-ERR [IN-USE] Mailbox is locked by another POP3 session\r\n"),
    ])
    .await;
    let e = pop.login("alice", &pw("pw")).await.unwrap_err();
    assert!(matches!(e, ConnectError::Throttled(_)), "{e:?}");
}

#[tokio::test]
async fn a_refused_user_gets_no_password() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("-ERR no such user\r\n"),
    ])
    .await;
    let e = pop.login("alice", &pw("pw")).await.unwrap_err();
    assert!(matches!(e, ConnectError::Auth(_)), "{e:?}");
    pop.quit().await;
    assert_eq!(server.await.unwrap(), ["CAPA", "USER alice", "QUIT"]);
}

#[tokio::test]
async fn no_usable_login_method_is_said_and_nothing_is_sent() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply("+OK\r\nSASL CRAM-MD5 GSSAPI\r\nUIDL\r\n.\r\n"),
    ])
    .await;
    let e = pop.login("alice", &pw("pw")).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::NoLoginMethod, Some(Step::LoggingIn)))
    );
    assert!(e.to_string().contains("CRAM-MD5"), "{e}");
    assert!(e.is_permanent());
    pop.quit().await;
    assert_eq!(server.await.unwrap(), ["CAPA", "QUIT"]);
}

#[tokio::test]
async fn a_user_name_with_a_line_break_is_never_sent() {
    let (mut pop, server) = session(vec![send(GREETING), reply(CAPA_USER)]).await;
    let e = pop.login("alice\r\nDELE 1", &pw("pw")).await.unwrap_err();
    // Said in the reader's language from the catalogs, not as words the server never said.
    assert!(
        matches!(
            e,
            ConnectError::Config {
                problem: crate::error::ConfigProblem::UnsendablePassword,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.message_in(crate::i18n::I18n::english())
            .contains("control character")
    );
    pop.quit().await;
    assert_eq!(server.await.unwrap(), ["CAPA", "QUIT"]);
}

#[tokio::test]
async fn listings_that_cannot_tell_mail_apart_are_refused() {
    for (count, listing) in [
        // The same id twice.
        (None, "1 a\r\n2 a\r\n"),
        // A space and a byte outside 0x21..=0x7E.
        (None, "1 a b\r\n"),
        (None, "1 caf\u{e9}\r\n"),
        // 71 bytes.
        (None, &format!("1 {}\r\n", "x".repeat(71))),
        // Decreasing numbers.
        (None, "2 a\r\n1 b\r\n"),
        // Not what STAT counted.
        (Some(3), "1 a\r\n2 b\r\n"),
        (Some(1), "1 a\r\n2 b\r\n"),
    ] {
        let (mut pop, _server) = session(vec![
            send(GREETING),
            reply(CAPA_USER),
            reply(&format!("+OK\r\n{listing}.\r\n")),
        ])
        .await;
        let e = pop.uidl_all(count).await.unwrap_err();
        assert_eq!(
            protocol_cause(&e),
            Some((&ProtoCause::BadListing, Some(Step::ListingNew))),
            "{listing:?}: {e:?}"
        );
    }
    // Exactly 70 bytes is an id.
    let id = "x".repeat(70);
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply(&format!("+OK\r\n1 {id}\r\n.\r\n")),
    ])
    .await;
    assert_eq!(pop.uidl_all(Some(1)).await.unwrap(), [(1, id)]);
}

#[tokio::test]
async fn a_server_without_uidl_is_said_plainly_and_the_session_goes_on() {
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("-ERR command not implemented\r\n"),
        reply("+OK 1 10\r\n"),
    ])
    .await;
    let e = pop.uidl_all(None).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::NoUidl, Some(Step::ListingNew)))
    );
    assert!(e.to_string().contains("UIDL"), "{e}");
    assert!(e.is_permanent());
    assert_eq!(pop.stat().await.unwrap(), (1, 10));
    pop.quit().await;
    assert_eq!(server.await.unwrap(), ["CAPA", "UIDL", "STAT", "QUIT"]);
}

#[tokio::test]
async fn one_uidl_is_the_probe_and_must_name_the_message_asked() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK 3 zzz\r\n"),
        reply("+OK 2 zzz\r\n"),
    ])
    .await;
    assert_eq!(pop.uidl_one(3).await.unwrap(), "zzz");
    let e = pop.uidl_one(3).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::BadListing, Some(Step::ListingNew)))
    );
}

#[tokio::test]
async fn headers_are_dot_unstuffed() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK\r\nSubject: x\r\n..hidden: y\r\n...\r\nX-Bare: lf\n\r\n.\r\n"),
    ])
    .await;
    assert_eq!(
        pop.top_headers(1, 1024).await.unwrap(),
        b"Subject: x\r\n.hidden: y\r\n..\r\nX-Bare: lf\r\n\r\n"
    );
}

#[tokio::test]
async fn a_1_mib_header_is_cut_and_the_next_message_still_reads() {
    let huge = format!(
        "+OK\r\nSubject: {}\r\nFrom: a@example.com\r\n\r\n.\r\n",
        "x".repeat(1024 * 1024)
    );
    let (mut pop, server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply(&huge),
        reply("+OK\r\nSubject: small\r\n\r\n.\r\n"),
    ])
    .await;
    let first = pop.top_headers(1, 100).await.unwrap();
    assert_eq!(first.len(), 100);
    assert!(first.starts_with(b"Subject: xxx"));
    assert_eq!(
        pop.top_headers(2, crate::mail::headers::HEADER_MAX)
            .await
            .unwrap(),
        b"Subject: small\r\n\r\n"
    );
    assert!(pop.bytes().0 > 1024 * 1024);
    pop.quit().await;
    assert_eq!(
        server.await.unwrap(),
        ["CAPA", "TOP 1 0", "TOP 2 0", "QUIT"]
    );
}

#[tokio::test]
async fn headers_are_cut_at_exactly_max_bytes() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK\r\nA: 1\r\nB: 2\r\n\r\n.\r\n"),
    ])
    .await;
    // "A: 1\r\n" is 6 bytes; the 7th is the start of the next line.
    assert_eq!(pop.top_headers(1, 7).await.unwrap(), b"A: 1\r\nB");
}

#[tokio::test]
async fn an_overlong_status_line_is_a_protocol_error() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply(&format!("+OK {}\r\n", "9".repeat(2000))),
    ])
    .await;
    let e = pop.stat().await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((
            &ProtoCause::Limit(LimitError::LineTooLong(1024)),
            Some(Step::CountingUnread)
        ))
    );
    // Its answer was not read to the end: no other command may read it as its own.
    let e = pop.stat().await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::SessionLost, Some(Step::CountingUnread)))
    );
}

#[tokio::test]
async fn a_line_that_is_no_status_is_refused_in_its_words() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("* OK this is IMAP\r\n"),
    ])
    .await;
    let e = pop.stat().await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::Unparsable, Some(Step::CountingUnread)))
    );
    assert!(e.to_string().contains("this is IMAP"), "{e}");
}

#[tokio::test]
async fn the_end_of_stream_mid_listing_is_a_closed_connection() {
    let (mut pop, _server) = session(vec![
        send(GREETING),
        reply(CAPA_USER),
        reply("+OK\r\n1 a\r\n2 b"),
        Do::Close,
    ])
    .await;
    let e = pop.uidl_all(None).await.unwrap_err();
    assert!(
        matches!(
            e,
            ConnectError::Network {
                cause: NetCause::Closed,
                step: Some(Step::ListingNew),
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_silent_server_times_out_and_the_session_is_not_reused() {
    let (mut account, _server) = server(vec![send(GREETING), reply(CAPA_USER), Do::Ignore]).await;
    account.timing.command_timeout = Duration::from_millis(100);
    let mut pop = connect(&account, &TlsConfigs::default()).await.unwrap();
    assert_eq!(
        pop.stat().await.unwrap_err(),
        ConnectError::Timeout(Step::CountingUnread)
    );
    let e = pop.uidl_all(None).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::SessionLost, Some(Step::ListingNew)))
    );
}

#[tokio::test]
async fn a_server_that_never_greets_times_out_connecting() {
    let (mut account, _server) = server(vec![Do::Ignore]).await;
    account.timing.connect_timeout = Duration::from_millis(100);
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    assert_eq!(e, ConnectError::Timeout(Step::Greeting));
}

#[tokio::test]
async fn a_greeting_error_is_said_in_the_servers_words() {
    let (account, _server) = server(vec![send("-ERR [IN-USE] too many connections\r\n")]).await;
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    assert!(matches!(e, ConnectError::Throttled(_)), "{e:?}");
    let (account, _server) = server(vec![send("-ERR go away\r\n")]).await;
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((&ProtoCause::Refused, Some(Step::Greeting)))
    );
    assert!(e.to_string().contains("go away"), "{e}");
}

#[tokio::test]
async fn plaintext_is_for_loopback_only() {
    let mut account = Account::new("t", "192.0.2.1", "alice");
    account.security = Security::Plain;
    account.port = 110;
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ConnectError::Config {
                problem: ConfigProblem::PlainNotLoopback { .. },
                ..
            }
        ),
        "{e:?}"
    );
}

/// An account on a scripted server that is to be upgraded with STLS.
async fn stls(script: Vec<Do>) -> (ConnectError, Vec<String>) {
    let (mut account, server) = server(script).await;
    account.security = Security::Starttls;
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    (e, server.await.unwrap())
}

#[tokio::test]
async fn stls_missing_is_refused_before_any_credential() {
    let (e, log) = stls(vec![send(GREETING), reply(CAPA_USER)]).await;
    assert_eq!(e, ConnectError::StarttlsUnavailable);
    assert_eq!(log, ["CAPA"]);
    // No CAPA at all: no STLS either.
    let (e, log) = stls(vec![send(GREETING), reply("-ERR what?\r\n")]).await;
    assert_eq!(e, ConnectError::StarttlsUnavailable);
    no_credentials_sent(&log);
}

#[tokio::test]
async fn stls_refused_is_said_in_the_servers_words() {
    let (e, log) = stls(vec![
        send(GREETING),
        reply("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
        reply("-ERR TLS not available right now\r\n"),
    ])
    .await;
    assert!(
        matches!(&e, ConnectError::StarttlsRefused(w) if w.contains("not available")),
        "{e:?}"
    );
    assert_eq!(log, ["CAPA", "STLS"]);
}

#[tokio::test]
async fn data_injected_around_stls_is_refused() {
    // After the +OK, in the same segment: would be read as the first answer inside TLS.
    let (e, log) = stls(vec![
        send(GREETING),
        reply("+OK\r\nSTLS\r\nUSER\r\n.\r\n"),
        reply("+OK Begin TLS\r\n+OK injected\r\n"),
    ])
    .await;
    assert_eq!(e, ConnectError::unsafe_(UnsafeCause::DataAfterStarttls));
    assert_eq!(log, ["CAPA", "STLS"]);
    // Before STLS was sent: an early +OK would be taken as its answer.
    let (e, log) = stls(vec![
        send(GREETING),
        reply("+OK\r\nSTLS\r\nUSER\r\n.\r\n+OK Begin TLS\r\n"),
    ])
    .await;
    assert_eq!(e, ConnectError::unsafe_(UnsafeCause::DataBeforeStarttls));
    assert_eq!(log, ["CAPA"]);
}

#[tokio::test]
async fn unrequested_bytes_after_capa_are_refused() {
    let (account, _server) = server(vec![
        send(GREETING),
        reply(&format!("{CAPA_USER}+OK extra\r\n")),
    ])
    .await;
    let e = connect(&account, &TlsConfigs::default()).await.unwrap_err();
    assert_eq!(
        protocol_cause(&e),
        Some((
            &ProtoCause::UnrequestedAfterGreeting,
            Some(Step::Capabilities)
        ))
    );
}

#[test]
fn a_password_cut_short_in_the_servers_words_is_scrubbed() {
    let e = ConnectError::Auth("you sent s3cr3t-pa…".into());
    let text = redact(e, "alice", &pw("s3cr3t-password")).to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
}
