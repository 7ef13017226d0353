//! `account test`: every step from TCP to the folder list, each reported as it completes, with
//! a sentence a non-expert can act on when one fails.
//!
//! [`test_account_in`] writes the steps' `detail` and `hint` and the report's `strategy` in the
//! language it is given (`probe-*`, `error-*`, `hint-*` and `strategy-*` in the catalogs);
//! [`test_account`] in English. The server's own words inside them stay as it wrote them. The
//! step ids (`password`, `tcp`, …) never change with the language.

use std::time::Instant;

use futures::TryStreamExt;
use serde::Serialize;

use crate::config::Account;
use crate::error::{self, ConfigProblem, ConnectError, NetCause};
use crate::i18n::{I18n, num, text};
use crate::imap::login::login;
use crate::imap::transport::{self, has};
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
    let password = secret::password(account).await;
    let detail = match &account.password {
        crate::config::PasswordSource::Keyring => i18n.tr_plain("probe-password-keyring", &[]),
        crate::config::PasswordSource::Command(argv) => i18n.tr_plain(
            "probe-password-command",
            &[(
                "program",
                text(argv.first().map(String::as_str).unwrap_or("")),
            )],
        ),
    };
    let Ok(password) = (match password {
        Ok(p) => r.done("password", t, Ok(detail)).then_some(p).ok_or(()),
        Err(e) => {
            r.done("password", t, Err(e.into()));
            Err(())
        }
    }) else {
        return r.report;
    };

    let t = Instant::now();
    let tcp = tokio::time::timeout(
        timing.connect_timeout,
        tokio::net::TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await;
    let tcp = match tcp {
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
    };
    if !r.done("tcp", t, tcp) {
        return r.report;
    }

    let t = Instant::now();
    let greeted = match transport::connect(account).await {
        Ok(g) => {
            let detail = match &g.tls {
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
            };
            r.done("tls", t, Ok(detail));
            g
        }
        Err(e) => {
            r.done("tls", t, Err(e));
            return r.report;
        }
    };

    let t = Instant::now();
    let mut li = match login(
        greeted,
        &account.username,
        &password,
        timing.command_timeout,
    )
    .await
    {
        Ok(li) => {
            r.done(
                "login",
                t,
                Ok(i18n.tr_plain("probe-logged-in", &[("user", text(&account.username))])),
            );
            li
        }
        Err(e) => {
            r.done("login", t, Err(e));
            return r.report;
        }
    };
    drop(password);

    let t = Instant::now();
    let caps = li.capabilities.clone();
    let yes_no = |c: &str| {
        let present = if has(&caps, c) { "yes" } else { "no" };
        i18n.tr_plain(
            "probe-capability",
            &[("capability", text(c)), ("present", text(present))],
        )
    };
    let detail = i18n.list(&["IDLE", "NOTIFY", "CONDSTORE", "QRESYNC"].map(yes_no));
    r.done("capabilities", t, Ok(detail));
    let strategy = crate::watch::strategy::choose(
        crate::watch::strategy::Caps::from_list(&caps),
        &account.folders,
    );
    r.report.strategy = strategy.describe_in(i18n, timing.poll_interval.as_secs());
    r.report.capabilities = caps;

    let t = Instant::now();
    // Confirmed: async-imap reports a listing or a STATUS cut off by a closed connection as
    // complete, which would show as missing folders or empty ones.
    let tap = li.tap.clone();
    let listed = tokio::time::timeout(
        timing.command_timeout,
        tap.confirmed(async {
            let names = li.session.list(Some(""), Some("*")).await?;
            names.try_collect::<Vec<_>>().await
        }),
    )
    .await;
    let names = match listed {
        Err(_) => Err(ConnectError::Timeout(error::Step::ListingFolders)),
        Ok(Err(e)) => Err(crate::imap::session::imap_error(
            error::Step::ListingFolders,
            e,
            &tap,
        )),
        Ok(Ok(n)) => Ok(n),
    };
    let names = match names {
        Ok(n) => n,
        Err(e) => {
            r.done("folders", t, Err(e));
            return r.report;
        }
    };
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
            timing.command_timeout,
            tap.confirmed(li.session.status(name.name(), "(MESSAGES UNSEEN)")),
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
    let missing: Vec<&String> = account
        .folders
        .iter()
        .filter(|f| !folders.iter().any(|i| &i.name == *f || &i.raw_name == *f))
        .collect();
    let result = if missing.is_empty() {
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
    };
    r.report.folders = folders;
    r.done("folders", t, result);
    crate::imap::login::logout(&mut li.session).await;
    r.report
}

/// A count as a Fluent number (exact: far below 2^53).
#[allow(clippy::cast_precision_loss)]
fn count(n: usize) -> fluent_bundle::FluentValue<'static> {
    num(n as f64)
}
