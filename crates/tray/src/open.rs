//! "Open": the user's mail client, an account's webmail page, or an account's own command —
//! and, from a new-mail popup that stands for one message, that message where the target
//! allows it.
//!
//! Everything is run as an argv, never through a shell. Which program runs is decided by the
//! configuration and the desktop's default `mailto:` application alone. The one thing from a
//! message that may reach it is the message's Message-ID ([`message_id_arg`]), and only when
//! it is a well-formed RFC 5322 msg-id: 1 to [`MESSAGE_ID_MAX`] bytes of `atext`, `.`, `@`,
//! `[` and `]` (ASCII, no space, no control character, no quote, no parenthesis, no `<>`,
//! no backslash), not starting with `-`. Anything else is dropped and "Open" opens what it
//! opened before. The id then goes to exactly two places:
//!
//! - **A provider's message link** ([`message_link`]): the account's `open_url` is its
//!   provider's webmail, and the provider has a link template (Gmail). The id is
//!   percent-encoded (everything but RFC 3986's unreserved characters), so it lands inside the
//!   fixed `https://` template's fragment and cannot change its scheme, host or path;
//!   `xdg-open` gets that URL as one argument, as it gets `open_url` today.
//! - **Thunderbird's command line** ([`with_message`]): when the default mail application is
//!   Thunderbird ([`THUNDERBIRD_IDS`]), its `Exec` argv gets one more argument, `mid:<id>`,
//!   which Thunderbird 87+ answers by looking the message up in its own folders.
//!
//! Why that is safe: no shell runs, so `$(…)`, backquotes, `;` and `|` mean nothing; the id is
//! one argv element and may not hold white space, so it cannot become two arguments; it starts
//! with `mid:`, so no program reads it as an option (and an id starting with `-` is refused
//! besides); it has no control characters or newlines to forge log lines or confuse a
//! launcher. The worst a crafted Message-ID can do is name another message the user already
//! has (Thunderbird opens that one) or none (Thunderbird says it is not found). Other mail
//! clients (Evolution, KMail, Geary) and configured commands get no id: docs/providers.md says
//! why.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pushmail_core::config::{Account, General, OpenTarget};
use pushmail_core::desktop;
use pushmail_core::discover::{self, percent_encode};

/// How long `xdg-mime` may take to name the default mail application.
pub const XDG_MIME_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest Message-ID used to open a message, in bytes. Real ones are 20 to 120 bytes
/// (a UUID or a counter, `@`, a host name); RFC 5322 sets no limit below its 998-byte line.
/// A longer one is a message built to test us, and its popup opens the mailbox instead.
pub const MESSAGE_ID_MAX: usize = 255;

/// Desktop-file ids of Thunderbird, as the default `mailto:` application. `thunderbird.desktop`:
/// Debian's and Ubuntu's package (checked in Debian 12's `thunderbird` 153 ESR:
/// `Exec=/usr/bin/thunderbird %u`, registered for `x-scheme-handler/mid` too) and Mozilla's
/// tarball instructions; `org.mozilla.Thunderbird.desktop`: Flathub and Arch;
/// `net.thunderbird.Thunderbird.desktop`: upstream's newer id; `thunderbird_thunderbird.desktop`:
/// the Snap; `mozilla-thunderbird.desktop`: older Fedora and openSUSE packages.
pub const THUNDERBIRD_IDS: &[&str] = &[
    "thunderbird.desktop",
    "org.mozilla.Thunderbird.desktop",
    "net.thunderbird.Thunderbird.desktop",
    "thunderbird_thunderbird.desktop",
    "mozilla-thunderbird.desktop",
];

/// What to open, decided from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The desktop's `x-scheme-handler/mailto` application, main window; with `message` (a
    /// Message-ID that passed [`message_id_arg`]), that message if the application is
    /// Thunderbird.
    MailClient { message: Option<String> },
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
            _ => Target::MailClient { message: None },
        },
    }
}

/// The target for "Open" on the popup of one message whose Message-ID is `message_id`: the
/// account's [`target`], made to open that message where it can — the provider's
/// [`message_link`] instead of its webmail, Thunderbird with `mid:` — and left as it is for
/// anything else (a command, another webmail, an id [`message_id_arg`] refuses).
pub fn message_target(account: Option<&Account>, general: &General, message_id: &str) -> Target {
    let base = target(account, general);
    let Some(id) = message_id_arg(message_id) else {
        return base;
    };
    match base {
        Target::Url(url) => {
            let link = account.and_then(|a| message_link(a, &url, id));
            Target::Url(link.unwrap_or(url))
        }
        Target::MailClient { .. } => Target::MailClient {
            message: Some(id.to_owned()),
        },
        command @ Target::Command(_) => command,
    }
}

/// The Message-ID as it may be used to open a message (see the module documentation): angle
/// brackets, if still there, removed; `None` unless what is left is 1 to [`MESSAGE_ID_MAX`]
/// bytes of RFC 5322 msg-id characters — `atext`, `.`, `@`, and `[`/`]` for a domain literal —
/// not starting with `-`.
pub fn message_id_arg(raw: &str) -> Option<&str> {
    let id = raw
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(raw);
    let ok = !id.is_empty()
        && id.len() <= MESSAGE_ID_MAX
        && !id.starts_with('-')
        && id.bytes().all(is_msg_id_char);
    ok.then_some(id)
}

/// RFC 5322 §3.2.3 `atext` (letters, digits, ``!#$%&'*+-/=?^_`{|}~``) plus `.` (dot-atom),
/// `@` (between id-left and id-right) and `[`/`]` (a `no-fold-literal` id-right). Its `dtext`
/// would allow more inside brackets; nobody generates that, so it is not accepted.
fn is_msg_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.@[]".contains(&b)
}

/// The provider's link to one message, for an account whose `open_url` is `url`: only when
/// the account is at a provider of the table ([`discover::provider_for_account`]: its IMAP
/// server, else its `email` domain) that has a `message_link`, and `url` is that provider's
/// webmail (same host, `http` or `https`). `{message_id}` becomes [`percent_encode`]`(id)`.
pub fn message_link(account: &Account, url: &str, id: &str) -> Option<String> {
    let provider = discover::provider_for_account(account)?;
    let template = provider.message_link?;
    let webmail = provider.webmail?;
    if web_host(url)? != web_host(webmail)? {
        return None;
    }
    Some(template.replace("{message_id}", &percent_encode(id)))
}

/// The host of an `http`/`https` URL, lower case; `None` for another scheme or a URL with
/// user information (`https://mail.google.com@evil.example/` is not Gmail's webmail).
fn web_host(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(authority.trim_end_matches('.').to_owned())
}

/// Whether the desktop-file id `desktop_id` is Thunderbird ([`THUNDERBIRD_IDS`]).
pub fn is_thunderbird(desktop_id: &str) -> bool {
    THUNDERBIRD_IDS.contains(&desktop_id)
}

/// The mail client's argv, opening `message` (a Message-ID that passed [`message_id_arg`])
/// when the client is Thunderbird: `mid:<id>` as one more argument. Any other client opens as
/// before: none documents opening a message by its Message-ID (docs/providers.md).
pub fn with_message(desktop_id: &str, mut argv: Vec<String>, message: Option<&str>) -> Vec<String> {
    if let Some(id) = message.and_then(message_id_arg)
        && is_thunderbird(desktop_id)
    {
        argv.push(format!("mid:{id}"));
    }
    argv
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
        Target::MailClient { message } => {
            let id = default_mail_client().await?;
            let argv = mail_client_argv(&id, &desktop::data_dirs())?;
            Ok(with_message(&id, argv, message.as_deref()))
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
        assert_eq!(
            target(Some(&a), &general),
            Target::MailClient { message: None }
        );
        assert_eq!(target(None, &general), Target::MailClient { message: None });
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

    /// Ids as a message may carry them: only well-formed RFC 5322 msg-ids are used.
    #[test]
    fn only_well_formed_message_ids_reach_a_target() {
        for good in [
            "abc@example.com",
            "CAJ+x=Y_1.2/3%4@mail.gmail.com",
            "a!#$%&'*+-/=?^_`{|}~.z@host",
            "1234@[192.0.2.1]",
            "no-at-sign",
        ] {
            assert_eq!(message_id_arg(good), Some(good), "{good:?}");
        }
        assert_eq!(message_id_arg("<abc@example.com>"), Some("abc@example.com"));
        let longest = format!("{}@x", "a".repeat(MESSAGE_ID_MAX - 2));
        assert_eq!(message_id_arg(&longest), Some(longest.as_str()));
        let kib = format!("{}@example.com", "a".repeat(1024));
        let too_long = format!("{}@x", "a".repeat(MESSAGE_ID_MAX - 1));
        for bad in [
            "",
            "<>",
            "a b@example.com",
            " abc@example.com",
            "\"quoted\"@example.com",
            "-x",
            "--help@example.com",
            "-remote@x",
            "$(touch /tmp/pwned)@example.com",
            "a;b@x",
            "a\\b@x",
            "a,b@x",
            "a<b>@x",
            "abc@example.com\n--new-instance",
            "abc\r@x",
            "abc\0@x",
            "abc\t@x",
            "müller@example.com",
            "abc@exämple.com",
            "<<abc@x>>",
            kib.as_str(),
            too_long.as_str(),
        ] {
            assert_eq!(message_id_arg(bad), None, "{bad:?}");
        }
    }

    /// From the header as a sender writes it, through the header decoder every popup's
    /// Message-ID comes from, to what may be used: hostile ids never come out usable.
    #[test]
    fn hostile_message_id_headers_are_never_used() {
        let usable = |header: &str| {
            let block = format!("From: a@example.com\r\nMessage-ID: {header}\r\n\r\n");
            let decoded = pushmail_core::mail::headers::decode(block.as_bytes()).message_id;
            message_id_arg(&decoded).map(str::to_owned)
        };
        assert_eq!(
            usable("<CAJ+k7=Op/1.2@mail.gmail.com>").as_deref(),
            Some("CAJ+k7=Op/1.2@mail.gmail.com")
        );
        for hostile in [
            "<$(touch /tmp/pwned)@pushmail.test>",
            "<-remote@pushmail.test>",
            "<quo\"te@pushmail.test>",
            "<a b@pushmail.test>",
            "<m\u{fc}ller@pushmail.test>",
            "<`id`;rm -rf ~@x>",
        ] {
            assert_eq!(usable(hostile), None, "{hostile:?}");
        }
        let long = format!("<{}@example.com>", "a".repeat(1024));
        assert_eq!(usable(&long), None);
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("abc.123_x~y-z"), "abc.123_x~y-z");
        assert_eq!(percent_encode("a@b"), "a%40b");
        assert_eq!(
            percent_encode("CAJ+x=Y/3%4#?&[1]"),
            "CAJ%2Bx%3DY%2F3%254%23%3F%26%5B1%5D"
        );
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    fn gmail_account(host: &str, email: Option<&str>, url: &str) -> Account {
        let mut a = Account::new("g", host, "ana");
        a.email = email.map(str::to_owned);
        a.open = OpenTarget::Url(url.to_owned());
        a
    }

    const GMAIL_LINK: &str =
        "https://mail.google.com/mail/u/0/#search/rfc822msgid%3ACAJ%2Bx%3DY%40mail.gmail.com";

    #[test]
    fn gmail_webmail_opens_the_message_by_its_id() {
        let general = General::default();
        let id = "CAJ+x=Y@mail.gmail.com";
        // By the IMAP server, by the address's domain (a server of its own, as in tests and
        // behind a local bridge), with the brackets still on, with http or upper case.
        for (host, email, url) in [
            ("imap.gmail.com", None, "https://mail.google.com/"),
            (
                "IMAP.gmail.com",
                None,
                "https://mail.google.com/mail/u/0/#inbox",
            ),
            (
                "127.0.0.1",
                Some("ana@gmail.com"),
                "https://mail.google.com/",
            ),
            (
                "127.0.0.1",
                Some("ana@GoogleMail.com"),
                "http://MAIL.GOOGLE.COM",
            ),
        ] {
            let a = gmail_account(host, email, url);
            assert_eq!(
                message_target(Some(&a), &general, id),
                Target::Url(GMAIL_LINK.into()),
                "{host} {email:?} {url}"
            );
            assert_eq!(
                message_target(Some(&a), &general, &format!("<{id}>")),
                Target::Url(GMAIL_LINK.into())
            );
        }
    }

    #[test]
    fn other_webmails_and_hostile_ids_open_the_configured_page() {
        let general = General::default();
        let id = "abc@example.com";
        for (host, email, url) in [
            // Another page than the provider's webmail.
            ("imap.gmail.com", None, "https://mail.example.com/"),
            (
                "imap.gmail.com",
                None,
                "https://mail.google.com.evil.example/",
            ),
            (
                "imap.gmail.com",
                None,
                "https://mail.google.com@evil.example/",
            ),
            ("imap.gmail.com", None, "https://mail.google.com:8443/"),
            // Not at a provider with a message link.
            (
                "outlook.office365.com",
                None,
                "https://outlook.live.com/mail/",
            ),
            (
                "mail.example.com",
                Some("ana@example.com"),
                "https://mail.google.com/",
            ),
            ("mail.example.com", None, "https://mail.google.com/"),
        ] {
            let a = gmail_account(host, email, url);
            assert_eq!(
                message_target(Some(&a), &general, id),
                Target::Url(url.into()),
                "{host} {email:?} {url}"
            );
        }
        let a = gmail_account("imap.gmail.com", None, "https://mail.google.com/");
        for hostile in ["", "a b@x", "-x", "$(id)@x", "a\n@x", "é@x"] {
            assert_eq!(
                message_target(Some(&a), &general, hostile),
                Target::Url("https://mail.google.com/".into()),
                "{hostile:?}"
            );
        }
    }

    #[test]
    fn commands_never_get_the_message_id() {
        let mut general = General::default();
        let mut a = Account::new("work", "imap.gmail.com", "ana");
        a.open = OpenTarget::Command(vec!["thunderbird".into(), "-P".into(), "work".into()]);
        assert_eq!(
            message_target(Some(&a), &general, "abc@x"),
            Target::Command(vec!["thunderbird".into(), "-P".into(), "work".into()])
        );
        general.open_command = Some(vec!["mutt".into()]);
        a.open = OpenTarget::Default;
        assert_eq!(
            message_target(Some(&a), &general, "abc@x"),
            Target::Command(vec!["mutt".into()])
        );
    }

    #[test]
    fn thunderbird_gets_mid_and_other_clients_open_as_before() {
        let general = General::default();
        let a = Account::new("work", "imap.example.com", "ana");
        assert_eq!(
            message_target(Some(&a), &general, "<abc@example.com>"),
            Target::MailClient {
                message: Some("abc@example.com".into())
            }
        );
        assert_eq!(
            message_target(Some(&a), &general, "a b@x"),
            Target::MailClient { message: None }
        );

        let dir = tempfile::tempdir().unwrap();
        let apps = dir.path().join("applications");
        std::fs::create_dir_all(&apps).unwrap();
        std::fs::write(
            apps.join("thunderbird.desktop"),
            "[Desktop Entry]\nName=Thunderbird\nExec=/usr/bin/thunderbird %u\n",
        )
        .unwrap();
        std::fs::write(
            apps.join("org.gnome.Evolution.desktop"),
            "[Desktop Entry]\nName=Evolution\nExec=evolution %U\n",
        )
        .unwrap();
        let dirs = vec![dir.path().to_owned()];
        let tb = mail_client_argv("thunderbird.desktop", &dirs).unwrap();
        assert_eq!(
            with_message("thunderbird.desktop", tb.clone(), Some("abc@example.com")),
            ["/usr/bin/thunderbird", "mid:abc@example.com"]
        );
        assert_eq!(
            with_message("thunderbird.desktop", tb.clone(), None),
            ["/usr/bin/thunderbird"]
        );
        // Checked again where it is used, whatever the caller passed.
        assert_eq!(
            with_message("thunderbird.desktop", tb, Some("-P x")),
            ["/usr/bin/thunderbird"]
        );
        let evo = mail_client_argv("org.gnome.Evolution.desktop", &dirs).unwrap();
        assert_eq!(
            with_message("org.gnome.Evolution.desktop", evo, Some("abc@example.com")),
            ["evolution"]
        );
        for id in THUNDERBIRD_IDS {
            assert!(is_thunderbird(id));
        }
        for id in [
            "org.gnome.Evolution.desktop",
            "org.kde.kmail2.desktop",
            "org.gnome.Geary.desktop",
            "Thunderbird.desktop",
            "",
        ] {
            assert!(!is_thunderbird(id), "{id}");
        }
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
