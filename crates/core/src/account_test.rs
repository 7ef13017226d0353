//! `account test`: every step from TCP to the folder list, each reported as it completes, with
//! a sentence a non-expert can act on when one fails.
//!
//! [`test_account_in`] writes the steps' `detail` and `hint` and the report's `strategy` in the
//! language it is given (`probe-*`, `error-*`, `hint-*` and `strategy-*` in the catalogs);
//! [`test_account`] in English. The server's own words inside them stay as it wrote them. The
//! step ids (`password`, `tcp`, …) never change with the language.
//!
//! It does what [`crate::imap::session::open`] does (password → TCP → TLS → login) but one
//! step at a time, because timing and reporting each step is its whole purpose; the steps are
//! the same functions the watcher uses (`transport::connect`, `login`).

use std::time::{Duration, Instant};

use async_imap::types::Name;
use futures::TryStreamExt;
use secrecy::SecretString;
use serde::Serialize;

use crate::config::{Account, Protocol};
use crate::error::{self, ConfigProblem, ConnectError, NetCause};
use crate::i18n::{I18n, num, text};
use crate::imap::transport::login::{LoggedIn, login};
use crate::imap::transport::{self, Greeted, has};
use crate::secret;

/// Folders listed with counts at most; a mailbox with thousands of folders is summarised.
pub const MAX_FOLDERS_LISTED: usize = 200;

/// One step of the test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `password`, `tcp`, `tls`, `login`, `capabilities`, `folders`.
    pub step: &'static str,
    pub ok: bool,
    /// What happened, in the test's language.
    pub detail: String,
    /// What to do, when `ok` is false, in the test's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub millis: u64,
}

/// A folder on the server, with counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FolderInfo {
    /// The name as people and the config see it: decoded from modified UTF-7 (`收件箱`), or
    /// exactly as the server wrote it when that is not valid modified UTF-7.
    pub name: String,
    /// The name as the server lists it (`&ZTZO9nux-`), sent back byte-exact.
    pub raw_name: String,
    pub messages: Option<u32>,
    pub unseen: Option<u32>,
    pub watched: bool,
}

/// The outcome of a full test.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub steps: Vec<Step>,
    pub capabilities: Vec<String>,
    pub folders: Vec<FolderInfo>,
    /// How the account will be watched, in words, in the test's language.
    pub strategy: String,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }
}

struct Recorder<'a, F: FnMut(&Step)> {
    report: Report,
    on_step: &'a mut F,
    i18n: &'a I18n,
}

impl<F: FnMut(&Step)> Recorder<'_, F> {
    /// Records a finished step; whether it passed.
    fn done(
        &mut self,
        step: &'static str,
        started: Instant,
        result: Result<String, ConnectError>,
    ) -> bool {
        let millis = started.elapsed().as_millis() as u64;
        let s = match result {
            Ok(detail) => Step {
                step,
                ok: true,
                detail,
                hint: None,
                millis,
            },
            Err(e) => Step {
                step,
                ok: false,
                detail: e.message_in(self.i18n),
                hint: Some(e.hint_in(self.i18n)),
                millis,
            },
        };
        (self.on_step)(&s);
        let ok = s.ok;
        self.report.steps.push(s);
        ok
    }

    /// Records a step whose success yields what the next steps need: that value when it
    /// passed, `None` when it failed (the test stops there).
    fn passed<T>(
        &mut self,
        step: &'static str,
        started: Instant,
        result: Result<(T, String), ConnectError>,
    ) -> Option<T> {
        match result {
            Ok((value, detail)) => {
                self.done(step, started, Ok(detail));
                Some(value)
            }
            Err(e) => {
                self.done(step, started, Err(e));
                None
            }
        }
    }
}

/// Runs every step, calling `on_step` as each finishes, and stops at the first failure. Texts
/// in English; [`test_account_in`] writes them in another language.
pub async fn test_account<F: FnMut(&Step)>(account: &Account, on_step: F) -> Report {
    test_account_in(account, I18n::english(), on_step).await
}

/// [`test_account`] with the steps' details and hints and the strategy in `i18n`'s language.
pub async fn test_account_in<F: FnMut(&Step)>(
    account: &Account,
    i18n: &I18n,
    mut on_step: F,
) -> Report {
    let mut r = Recorder {
        report: Report::default(),
        on_step: &mut on_step,
        i18n,
    };
    let timing = &account.timing;

    let t = Instant::now();
    let Some(password) = r.passed("password", t, read_password(account, i18n).await) else {
        return r.report;
    };

    let t = Instant::now();
    if !r.done("tcp", t, reach(account, i18n).await) {
        return r.report;
    }
    if account.protocol == Protocol::Pop3 {
        // Validation keeps sign-in to IMAP accounts.
        if let Credential::Password(password) = &password {
            test_pop3(&mut r, account, password).await;
        }
        return r.report;
    }

    let t = Instant::now();
    let Some(greeted) = r.passed("tls", t, greet(account, i18n).await) else {
        return r.report;
    };

    let t = Instant::now();
    let logged_in = log_in(greeted, account, &password, i18n).await;
    let Some(mut li) = r.passed("login", t, logged_in) else {
        return r.report;
    };
    drop(password);

    let t = Instant::now();
    let caps = li.capabilities.clone();
    r.done("capabilities", t, Ok(describe_capabilities(&caps, i18n)));
    let strategy = crate::watch::strategy::choose(
        crate::watch::strategy::Caps::from_list(&caps),
        &account.folders,
    );
    r.report.strategy = strategy.describe_in(i18n, timing.poll_interval.as_secs());
    r.report.capabilities = caps;

    let t = Instant::now();
    let names = match list_folders(&mut li, timing.command_timeout).await {
        Ok(n) => n,
        Err(e) => {
            r.done("folders", t, Err(e));
            return r.report;
        }
    };
    let folders = folders_with_counts(&mut li, &names, account).await;
    let result = check_watched_folders(&folders, &account.folders, i18n);
    r.report.folders = folders;
    r.done("folders", t, result);
    crate::imap::transport::login::logout(&mut li.session).await;
    r.report
}

/// The POP3 steps after `tcp`: `tls` (TLS or strict STLS, greeting, CAPA), `login`,
/// `capabilities` (UIDL and TOP, which watching needs) and `folders` (the one mailbox: STAT and
/// a UIDL listing, exactly what every check does). Nothing is changed on the server.
async fn test_pop3<F: FnMut(&Step)>(
    r: &mut Recorder<'_, F>,
    account: &Account,
    password: &SecretString,
) {
    let i18n = r.i18n;
    let t = Instant::now();
    let connected = crate::pop3::connect(account, &transport::TlsConfigs::default())
        .await
        .map(|pop| {
            let detail = tls_detail(pop.tls.as_ref(), i18n);
            (pop, detail)
        });
    let Some(mut pop) = r.passed("tls", t, connected) else {
        return;
    };

    let t = Instant::now();
    let logged_in = pop
        .login(&account.username, password)
        .await
        .map(|()| i18n.tr_plain("probe-logged-in", &[("user", text(&account.username))]));
    if !r.done("login", t, logged_in) {
        return;
    }

    let t = Instant::now();
    let caps = pop.capabilities().to_vec();
    let yes_no = |c: &str| {
        let present = if has(&caps, c) { "yes" } else { "no" };
        i18n.tr_plain(
            "probe-capability",
            &[("capability", text(c)), ("present", text(present))],
        )
    };
    r.done(
        "capabilities",
        t,
        Ok(i18n.list(&["UIDL", "TOP"].map(yes_no))),
    );
    r.report.strategy =
        crate::watch::strategy::describe_pop3(i18n, account.timing.poll_interval.as_secs());
    r.report.capabilities = caps;

    let t = Instant::now();
    let listed = async {
        let (count, _) = pop.stat().await?;
        let ids = pop.uidl_all(Some(count)).await?;
        Ok::<_, ConnectError>(u32::try_from(ids.len()).unwrap_or(u32::MAX))
    }
    .await;
    let result = listed.map(|count| {
        r.report.folders = vec![FolderInfo {
            name: crate::sync::state::POP3_FOLDER.to_owned(),
            raw_name: crate::sync::state::POP3_FOLDER.to_owned(),
            messages: Some(count),
            unseen: None,
            watched: true,
        }];
        i18n.tr_plain("probe-pop3-messages", &[("count", num(count))])
    });
    let ok = r.done("folders", t, result);
    if ok {
        pop.quit().await;
    }
}

/// What the `tls` step says about the connection: the certificate and cipher, or plain text.
fn tls_detail(info: Option<&transport::TlsInfo>, i18n: &I18n) -> String {
    match info {
        Some(info) => i18n.tr_plain(
            "probe-tls",
            &[
                ("protocol", text(&info.protocol)),
                ("cipher", text(&info.cipher)),
                ("subject", text(&info.subject)),
                ("issuer", text(&info.issuer)),
                ("until", text(&info.not_after)),
            ],
        ),
        None => i18n.tr_plain("probe-plaintext", &[]),
    }
}

/// What the login step presents: a password, or a sign-in's access token with its provider.
enum Credential {
    Password(SecretString),
    Token(SecretString, Box<crate::oauth::Provider>),
}

/// Step `password`: the password from the keyring or `password_command` — or, for an account
/// that signs in, an access token (refreshed if needed) — and a detail that says where it came
/// from (never the secret itself).
async fn read_password(
    account: &Account,
    i18n: &I18n,
) -> Result<(Credential, String), ConnectError> {
    if let crate::config::PasswordSource::OAuth2(settings) = &account.password {
        let (token, provider) = crate::oauth::account::access_token(account, settings).await?;
        let detail = i18n.tr_plain(
            "probe-signin-token",
            &[("provider", text(settings.provider.as_str()))],
        );
        return Ok((Credential::Token(token, Box::new(provider)), detail));
    }
    let password = secret::password(account).await;
    let detail = match &account.password {
        crate::config::PasswordSource::Keyring => i18n.tr_plain("probe-password-keyring", &[]),
        crate::config::PasswordSource::OAuth2(_) | crate::config::PasswordSource::Vault => {
            String::new()
        }
        crate::config::PasswordSource::Command(argv) => i18n.tr_plain(
            "probe-password-command",
            &[(
                "program",
                text(argv.first().map(String::as_str).unwrap_or("")),
            )],
        ),
    };
    match password {
        Ok(p) => Ok((Credential::Password(p), detail)),
        Err(e) => Err(e.into()),
    }
}

/// Step `tcp`: a bare TCP connection to the server, closed again at once, so that a server
/// that cannot be reached is told apart from one that fails in TLS or the greeting (the next
/// step connects anew).
async fn reach(account: &Account, i18n: &I18n) -> Result<String, ConnectError> {
    let tcp = tokio::time::timeout(
        account.timing.connect_timeout,
        tokio::net::TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await;
    match tcp {
        Err(_) => Err(ConnectError::Timeout(error::Step::Connecting)),
        Ok(Err(e)) => Err(ConnectError::network(NetCause::Unreachable {
            host: account.host.clone(),
            port: account.port,
        })
        .with_words(e.to_string())),
        Ok(Ok(s)) => Ok(i18n.tr_plain(
            "probe-connected",
            &[(
                "address",
                text(&s.peer_addr().map(|a| a.to_string()).unwrap_or_default()),
            )],
        )),
    }
}

/// Step `tls`: the connection the watcher would make (TLS or STARTTLS, greeting,
/// capabilities), with the certificate and cipher it got, or that it is plain text.
async fn greet(account: &Account, i18n: &I18n) -> Result<(Greeted, String), ConnectError> {
    let g = transport::connect(account, &transport::TlsConfigs::default()).await?;
    let detail = tls_detail(g.tls.as_ref(), i18n);
    Ok((g, detail))
}

/// Step `login`: logs in on the greeted connection, as whom.
async fn log_in(
    greeted: Greeted,
    account: &Account,
    credential: &Credential,
    i18n: &I18n,
) -> Result<(LoggedIn, String), ConnectError> {
    let li = match credential {
        Credential::Password(password) => {
            login(
                greeted,
                &account.username,
                password,
                account.timing.command_timeout,
            )
            .await?
        }
        Credential::Token(token, provider) => {
            use crate::imap::transport::login::{TokenLogin, login_with_token};
            match login_with_token(
                greeted,
                &account.username,
                token,
                provider,
                account.timing.command_timeout,
            )
            .await
            {
                Ok(li) => li,
                Err(TokenLogin::Rejected(e)) => {
                    // The next ask refreshes (the watcher's login does the same, once).
                    crate::oauth::account::rejected(&account.id, token).await;
                    return Err(e);
                }
                Err(TokenLogin::Failed(e)) => return Err(e),
            }
        }
    };
    let detail = i18n.tr_plain("probe-logged-in", &[("user", text(&account.username))]);
    Ok((li, detail))
}

/// Step `capabilities`: whether the server offers the extensions that decide how the account
/// is watched (push with IDLE or NOTIFY, cheap resyncs with CONDSTORE and QRESYNC).
fn describe_capabilities(caps: &[String], i18n: &I18n) -> String {
    let yes_no = |c: &str| {
        let present = if has(caps, c) { "yes" } else { "no" };
        i18n.tr_plain(
            "probe-capability",
            &[("capability", text(c)), ("present", text(present))],
        )
    };
    i18n.list(&["IDLE", "NOTIFY", "CONDSTORE", "QRESYNC"].map(yes_no))
}

/// Step `folders`, first half: every folder on the server (`LIST "" *`).
async fn list_folders(li: &mut LoggedIn, limit: Duration) -> Result<Vec<Name>, ConnectError> {
    // Confirmed: async-imap reports a listing or a STATUS cut off by a closed connection as
    // complete, which would show as missing folders or empty ones.
    let LoggedIn { session, tap, .. } = li;
    let listed = tokio::time::timeout(
        limit,
        tap.confirmed(async {
            let names = session.list(Some(""), Some("*")).await?;
            names.try_collect::<Vec<_>>().await
        }),
    )
    .await;
    match listed {
        Err(_) => Err(ConnectError::Timeout(error::Step::ListingFolders)),
        Ok(Err(e)) => Err(crate::imap::session::imap_error(
            error::Step::ListingFolders,
            e,
            tap,
        )),
        Ok(Ok(n)) => Ok(n),
    }
}

/// The selectable folders among the first [`MAX_FOLDERS_LISTED`], each with its counts when
/// `STATUS` answers in time (a folder without them is still listed) and whether the account
/// watches it, by its decoded or its raw name.
async fn folders_with_counts(
    li: &mut LoggedIn,
    names: &[Name],
    account: &Account,
) -> Vec<FolderInfo> {
    let LoggedIn { session, tap, .. } = li;
    let mut folders = Vec::new();
    for name in names.iter().take(MAX_FOLDERS_LISTED) {
        if name
            .attributes()
            .iter()
            .any(|a| matches!(a, async_imap::types::NameAttribute::NoSelect))
        {
            continue;
        }
        let status = tokio::time::timeout(
            account.timing.command_timeout,
            tap.confirmed(session.status(name.name(), "(MESSAGES UNSEEN)")),
        )
        .await;
        let (messages, unseen) = match status {
            Ok(Ok(m)) => (Some(m.exists), m.unseen),
            _ => (None, None),
        };
        let raw_name = name.name().to_owned();
        let decoded = crate::imap::utf7::decode(&raw_name);
        folders.push(FolderInfo {
            watched: account
                .folders
                .iter()
                .any(|f| *f == decoded || *f == raw_name),
            name: decoded,
            raw_name,
            messages,
            unseen,
        });
    }
    folders
}

/// Step `folders`, the verdict: every watched folder is on the server (the detail then gives
/// each one's unread count), or the missing ones are named.
fn check_watched_folders(
    folders: &[FolderInfo],
    watched: &[String],
    i18n: &I18n,
) -> Result<String, ConnectError> {
    let missing: Vec<&String> = watched
        .iter()
        .filter(|f| !folders.iter().any(|i| &i.name == *f || &i.raw_name == *f))
        .collect();
    if missing.is_empty() {
        let watched: Vec<String> = folders
            .iter()
            .filter(|f| f.watched)
            .map(|f| {
                i18n.tr_plain(
                    "probe-folder-unread",
                    &[
                        ("folder", text(&f.name)),
                        ("unread", f.unseen.map_or_else(|| text("?"), num)),
                    ],
                )
            })
            .collect();
        Ok(i18n.tr_plain(
            "probe-folders",
            &[
                ("count", count(folders.len())),
                ("watched", text(&i18n.list(&watched))),
            ],
        ))
    } else {
        Err(ConnectError::config(ConfigProblem::FoldersMissing {
            count: missing.len(),
            folders: i18n.list(&missing),
        }))
    }
}

/// A count as a Fluent number (exact: far below 2^53).
#[allow(clippy::cast_precision_loss)]
fn count(n: usize) -> fluent_bundle::FluentValue<'static> {
    num(n as f64)
}
