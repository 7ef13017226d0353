//! "Open": the user's mail client, an account's webmail page, or an account's own command.
//!
//! Everything is run as an argv, never through a shell, and nothing from a message (sender,
//! subject, ids) is ever put on the command line: what runs is decided by the configuration
//! and the desktop's default `mailto:` application alone.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pushmail_core::config::{Account, General, OpenTarget};
use pushmail_core::desktop;

/// How long `xdg-mime` may take to name the default mail application.
pub const XDG_MIME_TIMEOUT: Duration = Duration::from_secs(5);

/// What to open, decided from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The desktop's `x-scheme-handler/mailto` application, main window.
    MailClient,
    /// A webmail page, opened with `xdg-open`.
    Url(String),
    /// A configured command.
    Command(Vec<String>),
}

/// The target for an account (`None`: "Open mail client" in the menu): the account's own
/// `open_url`/`open_command`, else `[general] open_command`, else the desktop default.
pub fn target(account: Option<&Account>, general: &General) -> Target {
    match account.map(|a| &a.open) {
        Some(OpenTarget::Url(url)) => Target::Url(url.clone()),
        Some(OpenTarget::Command(argv)) => Target::Command(argv.clone()),
        Some(OpenTarget::Default) | None => match &general.open_command {
            Some(argv) if !argv.is_empty() => Target::Command(argv.clone()),
            _ => Target::MailClient,
        },
    }
}

/// Why nothing was opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no default mail application is set")]
    NoMailClient,
    #[error("{0}")]
    Entry(String),
    #[error("could not start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
}

/// The argv for a desktop-file id: found in `dirs`, its `Exec` without file/URL codes.
pub fn mail_client_argv(id: &str, dirs: &[PathBuf]) -> Result<Vec<String>, OpenError> {
    let path = desktop::find_desktop_file(id, dirs).ok_or(OpenError::NoMailClient)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| OpenError::Entry(format!("cannot read {}: {e}", path.display())))?;
    let entry = desktop::parse_desktop_entry(&text);
    desktop::exec_argv(&entry, &path)
        .map_err(|e| OpenError::Entry(format!("{}: {e}", path.display())))
}

/// Asks `xdg-mime` for the default `mailto:` application's desktop-file id.
async fn default_mail_client() -> Result<String, OpenError> {
    let run = tokio::process::Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/mailto"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(XDG_MIME_TIMEOUT, run)
        .await
        .map_err(|_| OpenError::NoMailClient)?
        .map_err(|source| OpenError::Spawn {
            program: "xdg-mime".into(),
            source,
        })?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // xdg-mime may list several ids separated by ';'; the first is the default.
    let id = id.split(';').next().unwrap_or("").trim().to_owned();
    if id.is_empty() {
        return Err(OpenError::NoMailClient);
    }
    Ok(id)
}

/// The argv that opens `target`.
pub async fn argv(target: &Target) -> Result<Vec<String>, OpenError> {
    match target {
        Target::Url(url) => Ok(vec!["xdg-open".into(), url.clone()]),
        Target::Command(argv) => Ok(argv.clone()),
        Target::MailClient => {
            let id = default_mail_client().await?;
            mail_client_argv(&id, &desktop::data_dirs())
        }
    }
}

/// Starts `argv` detached: its own process group (so it outlives the tray and a Ctrl-C in our
/// terminal), no stdin, output discarded. Tokio reaps it when it exits.
pub fn spawn(argv: &[String]) -> Result<(), OpenError> {
    let (program, args) = argv.split_first().ok_or_else(|| OpenError::Spawn {
        program: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
    })?;
    tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|source| OpenError::Spawn {
            program: program.clone(),
            source,
        })
}

/// Opens `target`.
pub async fn open(target: &Target) -> Result<(), OpenError> {
    let argv = argv(target).await?;
    tracing::info!(program = %argv[0], "opening");
    spawn(&argv)
}

/// The settings window's program: `$PUSHMAIL_SETTINGS_PROGRAM` if set (packagers with
/// another layout, and tests), else `pushmail-settings` next to the running executable, else
/// that name on `PATH`.
pub fn settings_program() -> PathBuf {
    match std::env::var_os("PUSHMAIL_SETTINGS_PROGRAM") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => sibling("pushmail-settings"),
    }
}

/// The settings window's arguments: `--config FILE`, and `--account ID` to open it on that
/// account's page (the "Sign in…" action of a `signin_required` popup). The account id is the
/// configuration's own, never anything a server or a message said.
pub fn settings_args(config: &Path, account: Option<&str>) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--config".into(), config.as_os_str().to_owned()];
    if let Some(id) = account {
        args.extend(["--account".into(), id.into()]);
    }
    args
}

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| Path::new(name).to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn targets_follow_account_then_general_then_desktop() {
        let mut general = General::default();
        let mut a = Account::new("work", "imap.example.com", "ana");
        assert_eq!(target(Some(&a), &general), Target::MailClient);
        assert_eq!(target(None, &general), Target::MailClient);
        general.open_command = Some(vec!["thunderbird".into(), "-P".into(), "work".into()]);
        assert_eq!(
            target(None, &general),
            Target::Command(vec!["thunderbird".into(), "-P".into(), "work".into()])
        );
        a.open = OpenTarget::Url("https://mail.example.com/".into());
        assert_eq!(
            target(Some(&a), &general),
            Target::Url("https://mail.example.com/".into())
        );
        a.open = OpenTarget::Command(vec!["mutt".into()]);
        assert_eq!(
            target(Some(&a), &general),
            Target::Command(vec!["mutt".into()])
        );
    }

    #[test]
    fn the_mail_client_opens_without_a_mailto_argument() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("applications")).unwrap();
        std::fs::write(
            dir.path().join("applications/mail.desktop"),
            "[Desktop Entry]\nType=Application\nName=Mail\nExec=/usr/bin/mail-app --new %u\n",
        )
        .unwrap();
        let dirs = vec![dir.path().to_owned()];
        assert_eq!(
            mail_client_argv("mail.desktop", &dirs).unwrap(),
            ["/usr/bin/mail-app", "--new"]
        );
        assert!(matches!(
            mail_client_argv("other.desktop", &dirs),
            Err(OpenError::NoMailClient)
        ));
    }

    #[test]
    fn settings_opens_on_an_account_only_when_asked() {
        let config = Path::new("/home/ana/.config/pushmail/config.toml");
        assert_eq!(
            settings_args(config, None),
            ["--config", "/home/ana/.config/pushmail/config.toml"]
        );
        assert_eq!(
            settings_args(config, Some("work")),
            [
                "--config",
                "/home/ana/.config/pushmail/config.toml",
                "--account",
                "work"
            ]
        );
    }

    #[tokio::test]
    async fn urls_go_through_xdg_open_as_one_argument() {
        let t = Target::Url("https://mail.example.com/?a=1;b=$(x)".into());
        assert_eq!(
            argv(&t).await.unwrap(),
            ["xdg-open", "https://mail.example.com/?a=1;b=$(x)"]
        );
    }
}
