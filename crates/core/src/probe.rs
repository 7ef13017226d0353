//! `account test`: every step from TCP to the folder list, each reported as it completes, with
//! a sentence a non-expert can act on when one fails.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use serde::Serialize;

use crate::config::Account;
use crate::error::ConnectError;
use crate::imap::login::login;
use crate::imap::transport::{self, has};
use crate::secret;
use crate::text::truncate_for_log;

/// Folders listed with counts at most; a mailbox with thousands of folders is summarised.
pub const MAX_FOLDERS_LISTED: usize = 200;

/// One step of the test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `password`, `tcp`, `tls`, `login`, `capabilities`, `folders`.
    pub step: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What to do, when `ok` is false.
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
    /// How the account will be watched, in words.
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
                detail: e.to_string(),
                hint: Some(e.hint()),
                millis,
            },
        };
        (self.on_step)(&s);
        let ok = s.ok;
        self.report.steps.push(s);
        ok
    }
}

/// Runs every step, calling `on_step` as each finishes, and stops at the first failure.
pub async fn test_account<F: FnMut(&Step)>(account: &Account, mut on_step: F) -> Report {
    let mut r = Recorder {
        report: Report::default(),
        on_step: &mut on_step,
    };
    let timing = &account.timing;

    let t = Instant::now();
    let password = secret::password(account).await;
    let detail = match &account.password {
        crate::config::PasswordSource::Keyring => "found in the OS keyring".to_owned(),
        crate::config::PasswordSource::Command(argv) => {
            format!("from `{}`", argv.first().map(String::as_str).unwrap_or(""))
        }
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
        Err(_) => Err(ConnectError::Timeout("connecting")),
        Ok(Err(e)) => Err(ConnectError::Network(format!(
            "cannot reach {}:{}: {e}",
            account.host, account.port
        ))),
        Ok(Ok(s)) => Ok(format!(
            "connected to {}",
            s.peer_addr().map(|a| a.to_string()).unwrap_or_default()
        )),
    };
    if !r.done("tcp", t, tcp) {
        return r.report;
    }

    let t = Instant::now();
    let greeted = match transport::connect(account).await {
        Ok(g) => {
            let detail = match &g.tls {
                Some(info) => format!(
                    "{} {}; certificate {} issued by {}, valid until {}",
                    info.protocol, info.cipher, info.subject, info.issuer, info.not_after
                ),
                None => "plaintext (loopback only)".to_owned(),
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
            r.done("login", t, Ok(format!("logged in as {}", account.username)));
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
        if has(&caps, c) {
            format!("{c} yes")
        } else {
            format!("{c} no")
        }
    };
    let detail = ["IDLE", "NOTIFY", "CONDSTORE", "QRESYNC"]
        .map(yes_no)
        .join(", ");
    r.done("capabilities", t, Ok(detail));
    let strategy = crate::watch::strategy::choose(
        crate::watch::strategy::Caps::from_list(&caps),
        &account.folders,
    );
    r.report.strategy = strategy.describe(timing.poll_interval.as_secs());
    r.report.capabilities = caps;

    let t = Instant::now();
    let listed = tokio::time::timeout(timing.command_timeout, async {
        let names = li.session.list(Some(""), Some("*")).await?;
        names.try_collect::<Vec<_>>().await
    })
    .await;
    let names = match listed {
        Err(_) => Err(ConnectError::Timeout("listing folders")),
        Ok(Err(e)) => Err(ConnectError::Protocol(truncate_for_log(&e.to_string()))),
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
            li.session.status(name.name(), "(MESSAGES UNSEEN)"),
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
                format!(
                    "{} ({} unread)",
                    f.name,
                    f.unseen
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| "?".into())
                )
            })
            .collect();
        Ok(format!(
            "{} folders; watching {}",
            folders.len(),
            watched.join(", ")
        ))
    } else {
        Err(ConnectError::Config(format!(
            "watched folder{} not on the server: {}",
            plural(missing.len()),
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    };
    r.report.folders = folders;
    r.done("folders", t, result);
    let _ = tokio::time::timeout(Duration::from_secs(2), li.session.logout()).await;
    r.report
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
