//! Issue 11, "When the grant is gone", on the desktop: the real `pushmail` tray with an account
//! that signs in (`auth = "oauth2"`) and has no sign-in in the keyring — what a revoked grant,
//! a changed password or an account never signed in all come to. The account goes to
//! `signin_required` and waits for the user: one "Sign in to Work again" popup whose action
//! opens Settings on that account, the attention look, the state over D-Bus, no IMAP connection
//! and no token request; `Reload` (what `pushmail-cli account login` calls after storing a new
//! sign-in) restarts it.
//!
//! Private everything (Xvfb, D-Bus, dunst, a StatusNotifierWatcher, and here an unlocked
//! gnome-keyring on the desktop's own bus, so the keyring the tray reads is empty for sure).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod desktop;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Pushmail, unique_id};
use desktop::{Daemon, Desktop, Tray, eventually, recorder};
use serde_json::{Value, json};

const SLOW: Duration = Duration::from_secs(20);

/// How long the account is watched for a retry that must not come. The watcher's fastest
/// retry after a failure is `backoff_min` (1 s here) and a restart is immediate, so a few
/// seconds would show any.
const HALTED_WINDOW: Duration = Duration::from_secs(4);

/// The line the watcher logs each time it halts an account.
const HALTED: &str = "login rejected; stopping until the account changes";

/// A loopback port that accepts connections, counts them and hangs up: where the account's
/// IMAP server and its sign-in endpoints are, so that any attempt to reach either is seen.
struct Counter {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Counter {
    fn start() -> Counter {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        // Ends with the test process; it only ever blocks in accept.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Counter { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

fn menu_labels(desk: &Desktop) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        if let Some(l) = v["label"].as_str()
            && !l.is_empty()
        {
            out.push(l.to_owned());
        }
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    walk(&desk.py(&["layout"]), &mut out);
    out
}

fn signin_popups(desk: &Desktop) -> usize {
    desk.notify_calls("Notify")
        .iter()
        .filter(|c| c["args"][3] == "Sign in to Work again")
        .count()
}

#[test]
fn a_grant_that_is_gone_pops_up_once_halts_the_account_and_opens_settings_on_it() {
    let imap = Counter::start();
    let sign_in = Counter::start();
    let pm = Pushmail::new();
    let id = unique_id("work");
    pm.write_config(&[format!(
        "[general]\nlanguage = \"en\"\n\n\
         [[accounts]]\nid = \"{id}\"\nname = \"Work\"\nhost = \"127.0.0.1\"\nport = {imap}\n\
         security = \"tls\"\nusername = \"ana@example.com\"\n\
         auth = \"oauth2\"\noauth_provider = \"custom\"\noauth_client_id = \"pushmail-test\"\n\
         oauth_authorization_endpoint = \"http://127.0.0.1:{http}/authorize\"\n\
         oauth_token_endpoint = \"http://127.0.0.1:{http}/token\"\n\
         oauth_scopes = [\"imap\"]\n\
         backoff_min_secs = 1\nbackoff_max_secs = 2\nmax_logins_per_minute = 60\n",
        imap = imap.port,
        http = sign_in.port,
    )]);
    let mut desk = Desktop::start(Daemon::Dunst);
    let _keyring = desk.start_keyring();
    let (settings, settings_args) = recorder(desk.dir.path(), "settings");
    let tray = Tray::start_with(
        &desk,
        &pm.config(),
        &[],
        &[("PUSHMAIL_SETTINGS_PROGRAM", settings.as_os_str())],
    );
    let dump = |desk: &Desktop| format!("tray log:\n{}\nbus: {:?}", tray.log(), desk.seen);

    // The popup: the title, the hint as its body, "Sign in…" as the click and as a button.
    let notify = desk.wait_message(SLOW, "the sign-in popup", |m| {
        m["kind"] == "call" && m["member"] == "Notify" && m["args"][3] == "Sign in to Work again"
    });
    let args = &notify["args"];
    assert_eq!(
        args[4],
        "Sign in again: Settings → Accounts → Sign in, or pushmail-cli account login ID."
    );
    assert_eq!(
        args[5],
        json!(["default", "Sign in…", "signin", "Sign in…"])
    );
    assert_eq!(args[6]["urgency"], 2, "stays until read");
    assert_eq!(args[6]["category"], "email");
    assert!(args[6].get("sound-name").is_none(), "{}", args[6]);

    // The state everywhere: D-Bus, the icon, the menu line.
    {
        let desk = &desk;
        eventually(
            SLOW,
            "signin_required over D-Bus and the attention look",
            || {
                let accounts = desk.try_py(&["call", "GetAccounts"]).ok()?;
                let status = desk.py(&["item"])["status"].as_str()?.to_owned();
                (accounts[0][2] == "signin_required" && status == "NeedsAttention").then_some(())
            },
        );
    }
    let accounts = desk.py(&["call", "GetAccounts"]);
    assert_eq!(accounts[0][0], id.as_str());
    assert!(
        accounts[0][3].as_str().unwrap().ends_with(
            "Sign in again: Settings → Accounts → Sign in, or pushmail-cli account login ID."
        ),
        "{accounts}"
    );
    assert!(
        menu_labels(&desk).contains(&"Work — sign-in required".to_owned()),
        "{:?}",
        menu_labels(&desk)
    );

    // Halted: nothing more is tried, nothing more pops up.
    desk.collect_for(HALTED_WINDOW);
    assert_eq!(signin_popups(&desk), 1, "one popup\n{}", dump(&desk));
    assert_eq!(tray.log().matches(HALTED).count(), 1, "{}", dump(&desk));
    assert_eq!(imap.accepted(), 0, "no IMAP connection without a sign-in");
    assert_eq!(sign_in.accepted(), 0, "no token request without a sign-in");
    assert_eq!(desk.py(&["call", "GetAccounts"])[0][2], "signin_required");

    // "Sign in…" opens Settings on that account.
    let popup = desk.notification_id(&notify).to_string();
    desk.py(&["action", &popup, "signin"]);
    let started = eventually(SLOW, "Settings to start", || {
        std::fs::read_to_string(&settings_args).ok()
    });
    assert_eq!(
        started,
        format!("--config\n{}\n--account\n{id}\n", pm.config().display()),
        "{}",
        dump(&desk)
    );

    // Reload (what `pushmail-cli account login` calls after storing the new sign-in) restarts
    // the account; here the keyring is still empty, so it halts again, without a second popup
    // (`connecting` on the way is no recovery) and still without reaching the servers.
    desk.py(&["call", "Reload"]);
    eventually(SLOW, "the account restarted and halted again", || {
        (tray.log().matches(HALTED).count() == 2).then_some(())
    });
    desk.collect_for(HALTED_WINDOW);
    assert_eq!(tray.log().matches(HALTED).count(), 2, "{}", dump(&desk));
    assert_eq!(desk.py(&["call", "GetAccounts"])[0][2], "signin_required");
    assert_eq!(signin_popups(&desk), 1, "still one popup\n{}", dump(&desk));
    assert_eq!(imap.accepted() + sign_in.accepted(), 0);
    // The popup is the only attention popup: no generic "needs attention" beside it.
    assert!(
        !desk
            .notify_calls("Notify")
            .iter()
            .any(|c| c["args"][3] == "Work needs attention"),
        "{}",
        dump(&desk)
    );
}
