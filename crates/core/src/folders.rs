//! The server's folder list, for choosing which folders to watch (Settings → Folders).
//!
//! [`list`] connects and logs in exactly like the watcher (same transport, TLS rules and
//! timeouts), sends one `LIST "" "*"` and logs out. Unlike [`crate::account_test::test_account`] it
//! does no `STATUS` per folder, so it stays fast on mailboxes with hundreds of folders.
//!
//! Names are decoded from modified UTF-7 ([`crate::imap::utf7`]) like everywhere else in
//! Pushmail: [`Folder::name`] is what `folders = [...]` holds, [`Folder::raw_name`] the server's
//! bytes. [`Folder::display`] is the name with control characters made visible. All three are
//! server data: front ends render them as text, never as markup.

use futures::TryStreamExt;
use secrecy::SecretString;
use serde::Serialize;

use crate::config::Account;
use crate::error::{ConnectError, Step};
use crate::imap::utf7;
use crate::secret;

/// Folders returned at most. Far above any real account; a server that lists more is either
/// broken or hostile, and a settings window with more checkboxes than that is unusable anyway.
pub const MAX_FOLDERS: usize = 5000;

/// RFC 6154 special-use attributes, so the UI can label and order well-known folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

/// One folder on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    /// The name as people and the config see it (decoded): what goes into `folders`.
    pub name: String,
    /// The name as the server lists it (modified UTF-7).
    pub raw_name: String,
    /// [`Folder::name`] with control characters replaced by `�`, for showing.
    pub display: String,
    /// The hierarchy delimiter (`/` or `.`), if the server has a hierarchy.
    pub delimiter: Option<String>,
    /// False for `\Noselect` folders, which only hold other folders and cannot be watched.
    pub selectable: bool,
    pub special_use: Option<SpecialUse>,
}

impl Folder {
    /// A folder from the parts of one `LIST` response line (`raw_name` as the server sent it).
    pub fn new(
        raw_name: &str,
        delimiter: Option<&str>,
        selectable: bool,
        special_use: Option<SpecialUse>,
    ) -> Folder {
        let name = utf7::decode(raw_name);
        Folder {
            display: display_name(&name),
            name,
            raw_name: raw_name.to_owned(),
            delimiter: delimiter.map(str::to_owned),
            selectable,
            special_use,
        }
    }
}

/// Lists the account's folders, getting the password as the watcher does (keyring or
/// `password_command`).
pub async fn list(account: &Account) -> Result<Vec<Folder>, ConnectError> {
    let password = secret::password(account).await?;
    list_with_password(account, &password).await
}

/// Lists the account's folders with a password the caller already has (a settings form
/// before the password is stored).
pub async fn list_with_password(
    account: &Account,
    password: &SecretString,
) -> Result<Vec<Folder>, ConnectError> {
    let timeout = account.timing.command_timeout;
    let tls = crate::imap::transport::TlsConfigs::default();
    let mut logged_in = crate::imap::session::open_with(account, password, &tls).await?;
    // Read to the end even past MAX_FOLDERS, so the tagged OK confirms a complete listing
    // (async-imap reports one cut off by a closed connection as complete).
    let tap = logged_in.tap.clone();
    let listed = tokio::time::timeout(
        timeout,
        tap.confirmed(async {
            let names = logged_in.session.list(Some(""), Some("*")).await?;
            names
                .try_fold(Vec::new(), |mut folders, name| async move {
                    if folders.len() < MAX_FOLDERS {
                        folders.push(folder_of(&name));
                    }
                    Ok(folders)
                })
                .await
        }),
    )
    .await;
    let mut folders = match listed {
        Err(_) => return Err(ConnectError::Timeout(Step::ListingFolders)),
        Ok(Err(e)) => {
            return Err(crate::imap::session::imap_error(
                Step::ListingFolders,
                e,
                &tap,
            ));
        }
        Ok(Ok(folders)) => folders,
    };
    crate::imap::transport::login::logout(&mut logged_in.session).await;
    sort(&mut folders);
    Ok(folders)
}

fn folder_of(name: &async_imap::types::Name) -> Folder {
    use async_imap::types::NameAttribute as A;
    let attributes = name.attributes();
    let selectable = !attributes
        .iter()
        .any(|a| matches!(a, A::NoSelect) || is_extension(a, "\\NonExistent"));
    let special_use = attributes.iter().find_map(|a| match a {
        A::All => Some(SpecialUse::All),
        A::Archive => Some(SpecialUse::Archive),
        A::Drafts => Some(SpecialUse::Drafts),
        A::Flagged => Some(SpecialUse::Flagged),
        A::Junk => Some(SpecialUse::Junk),
        A::Sent => Some(SpecialUse::Sent),
        A::Trash => Some(SpecialUse::Trash),
        _ => None,
    });
    Folder::new(name.name(), name.delimiter(), selectable, special_use)
}

fn is_extension(attribute: &async_imap::types::NameAttribute<'_>, name: &str) -> bool {
    matches!(attribute, async_imap::types::NameAttribute::Extension(e) if e.eq_ignore_ascii_case(name))
}

/// INBOX first (where new mail lands, RFC 3501 makes it special), then the rest by name,
/// ignoring case, so children follow their parent. Duplicates (a broken server listing a
/// name twice) are dropped.
pub fn sort(folders: &mut Vec<Folder>) {
    folders.sort_by(|a, b| {
        let inbox = |f: &Folder| !f.name.eq_ignore_ascii_case("INBOX");
        inbox(a)
            .cmp(&inbox(b))
            .then_with(|| a.display.to_lowercase().cmp(&b.display.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    folders.dedup_by(|a, b| a.name == b.name);
}

/// A (decoded) name for showing: control characters, which no real folder name has and which
/// could garble a UI or a log, replaced by U+FFFD.
pub fn display_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_decoded_and_shown_without_controls() {
        let f = Folder::new("Entw&APw-rfe", Some("/"), true, Some(SpecialUse::Drafts));
        assert_eq!(
            (f.name.as_str(), f.raw_name.as_str()),
            ("Entwürfe", "Entw&APw-rfe")
        );
        assert_eq!(f.display, "Entwürfe");
        // Not valid modified UTF-7: kept as written.
        assert_eq!(
            Folder::new("50% & more", None, true, None).name,
            "50% & more"
        );
        assert_eq!(display_name("a\u{7}b\u{1b}[31m"), "a\u{FFFD}b\u{FFFD}[31m");
        // Markup is not our business here: it stays text for the UI to render as text.
        assert_eq!(
            display_name("<img src=x onerror=alert(1)>"),
            "<img src=x onerror=alert(1)>"
        );
    }

    #[test]
    fn inbox_comes_first_then_names_ignoring_case_without_duplicates() {
        let f = |name: &str| Folder::new(name, Some("/"), true, None);
        let mut folders = vec![
            f("work"),
            f("Archive"),
            f("INBOX"),
            f("archive/2024"),
            f("Work"),
            f("work"),
        ];
        sort(&mut folders);
        let names: Vec<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["INBOX", "Archive", "archive/2024", "Work", "work"]);
    }

    proptest! {
        #[test]
        fn any_listed_name_is_shown_without_control_characters(raw in "(?s).{0,40}") {
            let folder = Folder::new(&raw, Some("/"), true, None);
            prop_assert!(!folder.display.chars().any(char::is_control));
            prop_assert_eq!(folder.raw_name, raw);
        }
    }
}
