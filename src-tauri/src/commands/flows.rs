//! The account commands end to end, without a window: the real core, the real OS keyring (the
//! test command runs inside `scripts/desktop-session`, with gnome-keyring on a private bus) and
//! a private Dovecot. What matters to users: a password typed in the form ends up in the
//! keyring under the account id and nowhere else — not in the file, not in an event, not in
//! anything sent back — a test leaves no keyring entry behind, and removing an account removes
//! its password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use pushmail_core::{Account, Config, PasswordSource, secret};
use pushmail_tests::{Dovecot, DovecotOptions};
use secrecy::{ExposeSecret, SecretString};

use super::{account_test, accounts};
use crate::error::ErrorKind;
use crate::events::{self, Sink};
use crate::state::AppState;
use crate::tray_client::{ReloadOutcome, Tray};
use crate::view::AccountView;

/// The tests below check that no throw-away keyring entry of this process is left over; run
/// one at a time so one test's entry (alive while its connection test runs) is not seen by the
/// other. (Other test binaries are other processes: their entries carry another pid.)
static KEYRING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Every event the commands sent, as JSON text.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl Sink for Recorder {
    fn send(&self, event: &str, payload: serde_json::Value) {
        self.0
            .lock()
            .unwrap()
            .push((event.to_owned(), payload.to_string()));
    }
}

impl Recorder {
    fn all(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

struct Fixture {
    dc: Dovecot,
    dir: tempfile::TempDir,
    state: AppState,
    ui: Recorder,
    id: String,
}

fn fixture(tag: &str) -> Fixture {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need the OS keyring: run them inside scripts/desktop-session"
    );
    let dc = Dovecot::start(DovecotOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(
        dir.path().join("pushmail/config.toml"),
        // No tray in these tests: saving must work without one.
        Tray::new(Err("not used in this test".to_owned())),
    );
    let id = format!("settings-{tag}-{}", std::process::id());
    Fixture {
        dc,
        dir,
        state,
        ui: Recorder::default(),
        id,
    }
}

impl Fixture {
    fn form(&self) -> AccountView {
        let mut account = Account::new(self.id.clone(), self.dc.host(), "alice");
        account.port = self.dc.imaps_port();
        account.ca_file = Some(self.dc.ca_file().to_owned());
        account.name = "Alice <b>at</b> work".to_owned();
        AccountView::from_account(&account)
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.state.config_path()).unwrap_or_default()
    }

    async fn stored_password(&self) -> Option<String> {
        let mut account = Account::new(self.id.clone(), "x", "y");
        account.password = PasswordSource::Keyring;
        secret::password(&account)
            .await
            .ok()
            .map(|p| p.expose_secret().to_owned())
    }

    fn dispose(self) -> tempfile::TempDir {
        self.dir
    }
}

fn pw(text: &str) -> Option<SecretString> {
    Some(SecretString::from(text.to_owned()))
}

/// `secret-tool search` for test entries this process left behind.
fn leftover_test_entries() -> String {
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "pushmail"])
        .output()
        .expect("secret-tool (libsecret-tools)");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter(|l| l.contains(&format!("settings-test-{}-", std::process::id())))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_password_goes_to_the_keyring_only_and_leaves_with_the_account() {
    let _one_at_a_time = KEYRING.lock().await;
    let f = fixture("flow");
    let secret_text = "alicepw";

    // Test before saving: the typed password works, each step is an event, nothing is kept.
    let report = account_test::test(&f.ui, &f.state, 7, None, f.form(), pw(secret_text))
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.steps);
    let steps: Vec<String> =
        f.ui.all()
            .into_iter()
            .filter(|(e, _)| e == events::PROBE_STEP)
            .map(|(_, p)| p)
            .collect();
    assert_eq!(steps.len(), 6, "{steps:?}");
    for (payload, name) in
        steps
            .iter()
            .zip(["password", "tcp", "tls", "login", "capabilities", "folders"])
    {
        assert!(payload.contains(r#""run":7"#), "{payload}");
        assert!(
            payload.contains(&format!(r#""step":"{name}""#)),
            "{payload}"
        );
    }
    assert_eq!(
        f.stored_password().await,
        None,
        "the test stored the password"
    );
    assert_eq!(leftover_test_entries(), "", "the test left a keyring entry");
    assert!(!f.config_text().contains(secret_text));

    // Save: the password is in the keyring under the id, not in the file.
    let outcome = accounts::save(&f.ui, &f.state, None, f.form(), pw(secret_text))
        .await
        .unwrap();
    assert!(
        matches!(outcome, ReloadOutcome::Failed { .. }),
        "{outcome:?}"
    );
    assert_eq!(f.stored_password().await.as_deref(), Some(secret_text));
    let text = f.config_text();
    assert!(
        text.contains(&f.id) && !text.contains(secret_text),
        "{text}"
    );
    let config = Config::load(f.state.config_path()).unwrap();
    assert_eq!(config.accounts[0].name, "Alice <b>at</b> work");

    // Edit without a password keeps the stored one; the test then uses it.
    let mut edited = f.form();
    edited.name = "Alice".to_owned();
    accounts::save(&f.ui, &f.state, Some(f.id.clone()), edited, None)
        .await
        .unwrap();
    assert_eq!(f.stored_password().await.as_deref(), Some(secret_text));
    let report = account_test::test(&f.ui, &f.state, 8, Some(f.id.clone()), f.form(), None)
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.steps);

    // Nothing any command sent out carries the password.
    for (event, payload) in f.ui.all() {
        assert!(!payload.contains(secret_text), "{event}: {payload}");
    }

    // Remove: gone from the file and from the keyring.
    accounts::remove(&f.ui, &f.state, f.id.clone())
        .await
        .unwrap();
    assert!(
        Config::load(f.state.config_path())
            .unwrap()
            .accounts
            .is_empty()
    );
    assert_eq!(f.stored_password().await, None);
    drop(f.dispose());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_at_login_with_advice_and_a_bad_form_changes_nothing() {
    let _one_at_a_time = KEYRING.lock().await;
    let f = fixture("wrong");
    let report = account_test::test(&f.ui, &f.state, 1, None, f.form(), pw("not-it"))
        .await
        .unwrap();
    assert!(!report.ok);
    let login = report.steps.iter().find(|s| s.step == "login").unwrap();
    assert!(!login.ok);
    assert!(
        login.hint.as_deref().unwrap_or("").contains("password"),
        "{login:?}"
    );
    assert_eq!(leftover_test_entries(), "");

    // A new keyring account needs a password; plain text only to loopback; ids are unique.
    let err = accounts::save(&f.ui, &f.state, None, f.form(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    let mut plain = f.form();
    plain.host = "mail.example.com".to_owned();
    plain.security = pushmail_core::Security::Plain;
    let err = accounts::save(&f.ui, &f.state, None, plain, pw("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("loopback"), "{}", err.message);
    assert!(
        !f.state.config_path().exists(),
        "a refused save wrote the file"
    );
    assert_eq!(
        f.stored_password().await,
        None,
        "a refused save stored the password"
    );
}

/// The test's steps, hints and strategy read in the window's language (`[general] language`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_test_speaks_the_configured_language() {
    let _one_at_a_time = KEYRING.lock().await;
    let f = fixture("lang");
    let path = f.state.config_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, "[general]\nlanguage = \"it\"\n").unwrap();

    let report = account_test::test(&f.ui, &f.state, 1, None, f.form(), pw("alicepw"))
        .await
        .unwrap();
    assert!(report.ok, "{:?}", report.steps);
    assert_eq!(
        report.steps[0].detail,
        "digitata nel modulo (verrà salvata quando salvi)"
    );
    assert!(
        report.strategy.contains("su una sola connessione"),
        "{}",
        report.strategy
    );

    let report = account_test::test(&f.ui, &f.state, 2, None, f.form(), pw("not-it"))
        .await
        .unwrap();
    let login = report.steps.iter().find(|s| s.step == "login").unwrap();
    assert!(
        login.detail.starts_with("accesso non riuscito: "),
        "{login:?}"
    );
    assert!(
        login
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("password per le app"),
        "{login:?}"
    );
    assert_eq!(leftover_test_entries(), "");
    drop(f.dispose());
}
