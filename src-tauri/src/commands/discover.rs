//! Settings → Add account starts from the address, like Thunderbird's account hub: the core's
//! discovery ([`pushmail_core::discover`]) looks the server settings up, each place it looks
//! at goes to the window as a progress line ([`events::DISCOVER_PROGRESS`]), and the window
//! shows what was found with where it came from and anything to check before the password (or
//! the provider's sign-in) is sent to that server by the usual connection test.
//!
//! No credential is involved here: discovery sends the address and nothing else. The account
//! is then saved by the existing commands (`save_account`, `sign_in`) from the form the UI
//! pre-fills with [`Found::account`]'s values. Those carry everything the form edits (the
//! provider's webmail as what "Open" opens among them) but not the account's timing, so the
//! provider's push facts (a shorter IDLE refresh) are applied by [`apply_discovered`] once the
//! account exists, from the `Found` this window last showed.

use std::sync::Mutex;

use pushmail_core::Account;
use pushmail_core::config::Config;
use pushmail_core::discover::{self, DiscoverError, Found, Login, Options, Progress};
use pushmail_core::i18n::{I18n, text};
use serde::Serialize;
use tauri::{AppHandle, State};
use tokio_util::sync::CancellationToken;

use crate::error::UiError;
use crate::events::{self, Sink};
use crate::state::AppState;
use crate::tray_client::ReloadOutcome;
use crate::view::AccountView;

/// What this window's discoveries share: the running one's cancellation (one at a time, a
/// newer one or Cancel ends it) and the last result shown, for [`apply_discovered`].
#[derive(Default)]
pub struct Discoveries {
    running: Mutex<Option<CancellationToken>>,
    last: Mutex<Option<Found>>,
}

impl Discoveries {
    fn begin(&self) -> CancellationToken {
        let token = CancellationToken::new();
        let previous = lock(&self.running).replace(token.clone());
        if let Some(previous) = previous {
            previous.cancel();
        }
        token
    }

    fn cancel(&self) {
        if let Some(token) = lock(&self.running).take() {
            token.cancel();
        }
    }

    fn remember(&self, found: Option<Found>) {
        *lock(&self.last) = found;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Payload of [`events::DISCOVER_PROGRESS`]: where discovery `run` is looking now, in words.
#[derive(Clone, Debug, Serialize)]
pub struct ProgressEvent<'a> {
    pub run: u32,
    pub line: &'a str,
}

/// How the found account logs in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LoginView {
    Password,
    /// At its provider (`google`, `microsoft`, …, a built-in `oauth::Provider`).
    Oauth2 {
        provider: String,
    },
}

/// What discovery proposes, for the window to show and pre-fill the form with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundView {
    /// The form's values: [`Found::account`] under [`Self::suggested_id`] (server, port,
    /// security, user name, protocol, address, sign-in provider, the webmail as "Open").
    pub account: AccountView,
    pub login: LoginView,
    /// "with a password" / "by signing in with Microsoft".
    pub login_text: String,
    /// Where the settings came from, in words.
    pub source: String,
    /// What to check before continuing (a look-alike domain, a server outside the domain…).
    pub warnings: Vec<String>,
    /// What to do at the provider first (an app password, IMAP to be switched on), if anything.
    pub note: Option<String>,
    /// The provider table's name for the provider behind the result ("Outlook.com").
    pub provider: Option<String>,
    /// A free account id for the address (`Config::id_for_address`).
    pub suggested_id: String,
}

/// The outcome of [`discover_account`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Discovery {
    Found(Box<FoundView>),
    /// Nothing found: one sentence for the user, and what was seen on the way (English, for
    /// the curious).
    #[serde(rename_all = "camelCase")]
    NotFound {
        message: String,
        notes: Vec<String>,
    },
    /// Cancelled, or replaced by a newer discovery.
    Cancelled,
}

/// Looks the settings for `address` up, sending each place looked at as
/// [`events::DISCOVER_PROGRESS`] tagged with `run`. An address that is not one is an
/// `invalid` error; nothing found is an answer, not an error.
#[tauri::command]
pub async fn discover_account(
    app: AppHandle,
    state: State<'_, AppState>,
    discoveries: State<'_, Discoveries>,
    run: u32,
    address: String,
) -> Result<Discovery, UiError> {
    let cancel = discoveries.begin();
    let result = find(&app, &state, &cancel, run, &address, &Options::default()).await;
    match result {
        // A newer discovery is running: what it finds is what the window shows.
        Ok((Discovery::Cancelled, _)) => Ok(Discovery::Cancelled),
        Ok((outcome, found)) => {
            discoveries.remember(found);
            Ok(outcome)
        }
        Err(e) => {
            discoveries.remember(None);
            Err(e)
        }
    }
}

/// Ends a running discovery (the user pressed Cancel or left the page).
#[tauri::command]
pub fn cancel_discovery(discoveries: State<'_, Discoveries>) {
    discoveries.cancel();
}

/// Applies the provider's push facts of the last discovery shown to account `id`, just saved
/// from it (the form does not carry timing). Does nothing, and writes nothing, when the
/// account is not on the server that was found or needs no change.
#[tauri::command]
pub async fn apply_discovered(
    app: AppHandle,
    state: State<'_, AppState>,
    discoveries: State<'_, Discoveries>,
    id: String,
) -> Result<Option<ReloadOutcome>, UiError> {
    let Some(found) = lock(&discoveries.last).clone() else {
        return Ok(None);
    };
    apply(&app, &state, &found, &id).await
}

/// The body of [`discover_account`]: the outcome and, when found, the core's result.
pub async fn find(
    ui: &dyn Sink,
    state: &AppState,
    cancel: &CancellationToken,
    run: u32,
    address: &str,
    options: &Options,
) -> Result<(Discovery, Option<Found>), UiError> {
    let i18n = state.i18n();
    let progress = |p: &Progress| {
        let line = p.describe_in(&i18n);
        match serde_json::to_value(ProgressEvent { run, line: &line }) {
            Ok(payload) => ui.send(events::DISCOVER_PROGRESS, payload),
            Err(e) => tracing::debug!("cannot encode a discovery step: {e}"),
        }
    };
    let result = tokio::select! {
        result = discover::discover(address.trim(), options, progress) => result,
        () = cancel.cancelled() => return Ok((Discovery::Cancelled, None)),
    };
    match result {
        Ok(found) => {
            let config = state.load()?;
            let view = describe(&found, &config, &i18n);
            Ok((Discovery::Found(Box::new(view)), Some(found)))
        }
        Err(e @ DiscoverError::Address(_)) => Err(UiError::invalid(e.message_in(&i18n))),
        Err(e) => {
            let notes = match &e {
                DiscoverError::NotFound { notes, .. } => notes.clone(),
                DiscoverError::Address(_) => Vec::new(),
            };
            Ok((
                Discovery::NotFound {
                    message: e.message_in(&i18n),
                    notes,
                },
                None,
            ))
        }
    }
}

/// `found` as the window shows it, in the window's language, with an id free in `config`.
pub fn describe(found: &Found, config: &Config, i18n: &I18n) -> FoundView {
    let domain = &found.address.domain_display;
    let suggested_id = config.id_for_address(&found.address.local, &found.address.domain);
    let account = found.account(&suggested_id, None);
    FoundView {
        account: AccountView::from_account(&account),
        login: match &found.login {
            Login::Password => LoginView::Password,
            Login::OAuth2 { provider } => LoginView::Oauth2 {
                provider: provider.clone(),
            },
        },
        login_text: found.login.describe_in(i18n),
        source: found.source.describe_in(i18n, domain),
        warnings: found
            .warnings
            .iter()
            .map(|w| w.describe_in(i18n, domain))
            .collect(),
        note: found.provider.and_then(|p| {
            p.note
                .map(|note| i18n.tr(note, &[("provider", text(p.name))]))
        }),
        provider: found.provider.map(|p| p.name.to_owned()),
        suggested_id,
    }
}

/// The body of [`apply_discovered`].
pub async fn apply(
    ui: &dyn Sink,
    state: &AppState,
    found: &Found,
    id: &str,
) -> Result<Option<ReloadOutcome>, UiError> {
    let _guard = state.lock().await;
    let mut config = state.load()?;
    let Some(account) = config.accounts.iter_mut().find(|a| a.id == id) else {
        return Err(UiError::not_found(id));
    };
    if !adopt(account, found) {
        return Ok(None);
    }
    config.validate().map_err(|e| UiError::unsaved(&e))?;
    state.save(ui, &config).await.map(Some)
}

/// Gives `account` the push facts [`Found::account`] gives an account from `found` (a shorter
/// IDLE refresh), when it is on the server that was found. Whether anything changed.
pub fn adopt(account: &mut Account, found: &Found) -> bool {
    if !account.host.eq_ignore_ascii_case(&found.host) {
        return false;
    }
    let proposed = found.account(&account.id, None);
    if proposed.timing.idle_refresh < account.timing.idle_refresh {
        account.timing.idle_refresh = proposed.timing.idle_refresh;
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use pushmail_core::Protocol;
    use pushmail_core::discover::domain::Address;
    use pushmail_core::discover::{Source, Warning};

    use super::*;
    use crate::tray_client::Tray;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, serde_json::Value)>>);

    impl Sink for Recorder {
        fn send(&self, event: &str, payload: serde_json::Value) {
            self.0.lock().unwrap().push((event.to_owned(), payload));
        }
    }

    fn address(local: &str, domain: &str) -> Address {
        Address {
            address: format!("{local}@{domain}"),
            local: local.into(),
            domain: domain.into(),
            domain_display: domain.into(),
        }
    }

    fn outlook() -> Found {
        let entry = discover::provider_for_domain("outlook.com").unwrap();
        Found {
            address: address("ana.maria", "outlook.com"),
            protocol: Protocol::Imap,
            host: entry.imap_host.into(),
            port: entry.imap_port,
            security: entry.security,
            username: "ana.maria@outlook.com".into(),
            login: Login::OAuth2 {
                provider: "microsoft".into(),
            },
            source: Source::ProviderList {
                provider: entry.name,
            },
            provider: Some(entry),
            warnings: Vec::new(),
        }
    }

    fn state(dir: &tempfile::TempDir, config: &str) -> AppState {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        AppState::new(path, Tray::new(Err("no bus in tests".into())))
    }

    #[test]
    fn a_provider_account_is_described_with_its_sign_in_source_and_webmail() {
        let found = outlook();
        let view = describe(&found, &Config::default(), &I18n::new("en"));
        assert_eq!(view.suggested_id, "ana-maria");
        assert_eq!(view.account.id, "ana-maria");
        assert_eq!(view.account.host, found.host);
        assert_eq!(view.account.email, "ana.maria@outlook.com");
        assert_eq!(view.account.oauth_provider, "microsoft");
        assert_eq!(
            view.login,
            LoginView::Oauth2 {
                provider: "microsoft".into()
            }
        );
        assert!(view.source.contains("provider list"), "{}", view.source);
        assert!(view.login_text.contains("Microsoft"), "{}", view.login_text);
        assert_eq!(view.provider.as_deref(), Some(found.provider.unwrap().name));
        // The webmail rides in the form's "Open".
        assert_eq!(
            view.account.open.value,
            found.provider.unwrap().webmail.unwrap()
        );
        let json = serde_json::to_value(Discovery::Found(Box::new(view))).unwrap();
        assert_eq!(json["outcome"], "found");
        assert_eq!(json["login"]["kind"], "oauth2");
        assert_eq!(json["suggestedId"], "ana-maria");
    }

    #[test]
    fn warnings_and_the_provider_note_are_translated() {
        let entry = discover::provider_for_domain("gmail.com").unwrap();
        let found = Found {
            address: address("ana", "gmaiI.com"),
            warnings: vec![
                Warning::LookAlike {
                    domain: "gmaiI.com".into(),
                    imitates: "gmail.com".into(),
                },
                Warning::OutsideDomain {
                    host: "imap.gmail.com".into(),
                    registrable: "gmail.com".into(),
                },
            ],
            login: Login::Password,
            provider: Some(entry),
            ..outlook()
        };
        let it = describe(&found, &Config::default(), &I18n::new("it"));
        assert_eq!(it.warnings.len(), 2);
        let en = describe(&found, &Config::default(), &I18n::new("en"));
        assert!(en.warnings[0].contains("looks like"), "{:?}", en.warnings);
        assert!(
            en.warnings[1].contains("imap.gmail.com"),
            "{:?}",
            en.warnings
        );
        let note = en.note.unwrap();
        assert!(note.contains(entry.name), "{note}");
        assert!(note.contains("app password"), "{note}");
        assert_ne!(it.note.unwrap(), note);
        assert_eq!(en.login, LoginView::Password);
    }

    #[test]
    fn the_suggested_id_is_free_in_the_configuration() {
        let mut config = Config::default();
        config.accounts.push(Account::new("ana-maria", "h", "u"));
        let view = describe(&outlook(), &config, &I18n::new("en"));
        assert_ne!(view.suggested_id, "ana-maria");
        assert_eq!(view.account.id, view.suggested_id);
    }

    #[test]
    fn the_push_facts_reach_only_the_account_on_the_found_server() {
        let found = outlook();
        let facts = found.account("x", None).timing.idle_refresh;
        let mut saved = Account::new("ana", &found.host, "ana@outlook.com");
        assert!(
            facts < saved.timing.idle_refresh,
            "Outlook refreshes IDLE early"
        );
        assert!(adopt(&mut saved, &found));
        assert_eq!(saved.timing.idle_refresh, facts);
        // Already there: nothing to write.
        assert!(!adopt(&mut saved, &found));
        // Changed to another server in the manual form: not this provider's facts.
        let mut other = Account::new("ana", "imap.example.org", "ana");
        let default = other.timing.idle_refresh;
        assert!(!adopt(&mut other, &found));
        assert_eq!(other.timing.idle_refresh, default);
    }

    #[tokio::test]
    async fn apply_writes_the_facts_into_the_saved_account() {
        let dir = tempfile::tempdir().unwrap();
        let found = outlook();
        let state = state(
            &dir,
            &format!(
                "[[accounts]]\nid = \"ana\"\nhost = \"{}\"\nusername = \"ana@outlook.com\"\n",
                found.host
            ),
        );
        let ui = Recorder::default();
        assert!(apply(&ui, &state, &found, "ana").await.unwrap().is_some());
        let config = state.load().unwrap();
        assert_eq!(
            config.accounts[0].timing.idle_refresh,
            found.account("ana", None).timing.idle_refresh
        );
        assert!(apply(&ui, &state, &found, "ana").await.unwrap().is_none());
        assert!(apply(&ui, &state, &found, "gone").await.is_err());
    }

    #[tokio::test]
    async fn an_invalid_address_is_refused_and_a_cancelled_one_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir, "");
        let ui = Recorder::default();
        let cancel = CancellationToken::new();
        let err = find(&ui, &state, &cancel, 1, "no address", &Options::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        cancel.cancel();
        let (outcome, found) = find(
            &ui,
            &state,
            &cancel,
            2,
            "ana@example.invalid",
            &Options::default(),
        )
        .await
        .unwrap();
        assert_eq!(outcome, Discovery::Cancelled);
        assert!(found.is_none());
    }

    #[tokio::test]
    async fn a_known_provider_is_found_with_progress_in_the_windows_language() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(&dir, "[general]\nlanguage = \"it\"\n");
        let ui = Recorder::default();
        let (outcome, found) = find(
            &ui,
            &state,
            &CancellationToken::new(),
            7,
            " ana@gmail.com ",
            &Options::default(),
        )
        .await
        .unwrap();
        let Discovery::Found(view) = outcome else {
            panic!("gmail.com is in the provider list: {outcome:?}");
        };
        assert_eq!(view.account.host, "imap.gmail.com");
        assert!(found.is_some());
        let events = ui.0.lock().unwrap();
        let (name, payload) = events.first().unwrap();
        assert_eq!(name, events::DISCOVER_PROGRESS);
        assert_eq!(payload["run"], 7);
        let line = payload["line"].as_str().unwrap();
        assert_eq!(
            line,
            Progress::ProviderList.describe_in(&I18n::new("it")),
            "{line}"
        );
    }

    #[test]
    fn not_found_reads_as_one_sentence() {
        let e = DiscoverError::NotFound {
            domain: "example.org".into(),
            notes: vec!["https://autoconfig.example.org/…: 404".into()],
        };
        let json = serde_json::to_value(Discovery::NotFound {
            message: e.message_in(&I18n::new("en")),
            notes: vec!["n".into()],
        })
        .unwrap();
        assert_eq!(json["outcome"], "notFound");
        assert!(
            json["message"].as_str().unwrap().contains("example.org"),
            "{json}"
        );
    }
}
