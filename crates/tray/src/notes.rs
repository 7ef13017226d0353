//! The words of every popup the tray shows, from the Fluent catalogs: pure functions of the
//! tray's language and of what the notification policy decided, tested here in more than one
//! language without a notification daemon.
//!
//! What a popup may say about a message (the preview level) is the policy's decision
//! ([`Policy::content`](pushmail_core::notify::policy::Policy::content)); this module only puts
//! it into words. Texts are plain: [`Note::body_for`] escapes the body for daemons that read
//! markup, so a subject such as `<b>x</b> Tom & Jerry` shows exactly as it was written.

use std::borrow::Cow;

use pushmail_core::display;
use pushmail_core::i18n::{I18n, num, text};
use pushmail_core::notify::policy::Content;

use crate::open::OpenError;

/// The freedesktop category for new mail.
pub const CATEGORY_NEW_MAIL: &str = "email.arrived";
/// The freedesktop category for Pushmail's other popups (an account's problem, a failure).
pub const CATEGORY_EMAIL: &str = "email";

/// Urgency of a popup that can wait its turn.
const URGENCY_NORMAL: u8 = 1;
/// Urgency of a popup that stays until dismissed: something needs the user.
const URGENCY_CRITICAL: u8 = 2;

/// A popup to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Title line; plain text (the specification allows no markup here).
    pub summary: String,
    /// Body; plain text, see [`Note::body_for`].
    pub body: String,
    /// (key, label) pairs; "default" is the click on the popup itself.
    pub actions: Vec<(String, String)>,
    pub category: &'static str,
    /// Play the new-mail sound.
    pub sound: bool,
    /// Urgency: 1 normal, 2 critical (stays until dismissed).
    pub urgency: u8,
}

impl Note {
    /// The body as the daemon must receive it: escaped where the daemon renders markup (its
    /// `body-markup` capability), where a sender's `<b>` would otherwise turn bold or a lone
    /// `&` hide the rest of the subject.
    pub fn body_for(&self, markup: bool) -> Cow<'_, str> {
        if markup {
            Cow::Owned(display::escape_markup(&self.body))
        } else {
            Cow::Borrowed(&self.body)
        }
    }
}

/// The subject a message shows: the display pipeline's; for a message whose headers could not
/// be read, a placeholder that says so (it still gets its popup); `None` when there is none.
pub fn subject(i18n: &I18n, raw: &str, unreadable: bool) -> Option<String> {
    display::subject(raw).or_else(|| unreadable.then(|| i18n.tr_plain("subject-unreadable", &[])))
}

/// Sender and subject as the tray's Activity and `NewMail` signal carry them: what the popup
/// shows, with the same placeholders, and empty where the preview level hides it.
pub fn listed(i18n: &I18n, content: &Content) -> (String, String) {
    match content {
        Content::Full { sender, subject } => (
            sender_or_unknown(i18n, sender.as_deref()),
            subject_or_none(i18n, subject.as_deref()),
        ),
        Content::Sender { sender } => (sender_or_unknown(i18n, sender.as_deref()), String::new()),
        Content::CountOnly => (String::new(), String::new()),
    }
}

/// The popup of one new message.
/// `mark_read`: offer "Mark as read" (IMAP; a POP3 server has no flags to set).
pub fn single(i18n: &I18n, account_name: &str, content: &Content, mark_read: bool) -> Note {
    let (summary, body) = match content {
        Content::Full { .. } => listed(i18n, content),
        Content::Sender { sender } => (
            sender_or_unknown(i18n, sender.as_deref()),
            i18n.tr_plain(
                "notify-sender-only-body",
                &[("account", text(account_name))],
            ),
        ),
        Content::CountOnly => (
            i18n.tr_plain(
                "notify-count-only",
                &[("count", num(1)), ("account", text(account_name))],
            ),
            String::new(),
        ),
    };
    Note {
        summary,
        body,
        actions: actions(i18n, mark_read),
        category: CATEGORY_NEW_MAIL,
        sound: true,
        urgency: URGENCY_NORMAL,
    }
}

/// The popup that stands for several messages ("12 new messages in Work", "from Ana, Li Wei and
/// 3 others"). `names` is empty where the preview level names nobody. No "mark as read": one
/// click should not mark a dozen messages the user has not seen.
pub fn summary(i18n: &I18n, account_name: &str, count: u32, names: &[String], others: u32) -> Note {
    let summary = i18n.tr_plain(
        "notify-summary-title",
        &[("count", num(count)), ("account", text(account_name))],
    );
    let body = if names.is_empty() {
        String::new()
    } else {
        i18n.tr_plain(
            "notify-summary-from",
            &[("names", text(&i18n.list(names))), ("others", num(others))],
        )
    };
    Note {
        summary,
        body,
        actions: actions(i18n, false),
        category: CATEGORY_NEW_MAIL,
        sound: true,
        urgency: URGENCY_NORMAL,
    }
}

/// "Work needs attention", with the problem (`detail`, already in the tray's language) as the
/// body; a click opens Settings, where it is fixed. Critical: it stays until read.
pub fn attention(i18n: &I18n, account_name: &str, detail: &str) -> Note {
    Note {
        summary: i18n.tr_plain("notify-attention-title", &[("account", text(account_name))]),
        body: i18n.tr_plain("notify-attention-body", &[("detail", text(detail))]),
        actions: vec![("default".into(), i18n.tr_plain("menu-settings", &[]))],
        category: CATEGORY_EMAIL,
        sound: false,
        urgency: URGENCY_CRITICAL,
    }
}

/// The action key of [`signin_required`]'s button. The click on the popup itself
/// (`default`) does the same; daemons that show buttons (GNOME, KDE) show this one.
pub const ACTION_SIGNIN: &str = "signin";

/// "Sign in to Work again": the account's grant is gone (`signin_required`) and the account
/// waits for the user. The body says how (the hint, in the tray's language), and "Sign in…"
/// opens Settings on that account. Critical, like every attention popup: it stays until read.
pub fn signin_required(i18n: &I18n, account_name: &str) -> Note {
    let label = i18n.tr_plain("notify-signin-action", &[]);
    Note {
        summary: i18n.tr_plain("notify-signin-title", &[("account", text(account_name))]),
        body: i18n.tr_plain("hint-signin-required", &[]),
        actions: vec![
            ("default".into(), label.clone()),
            (ACTION_SIGNIN.into(), label),
        ],
        category: CATEGORY_EMAIL,
        sound: false,
        urgency: URGENCY_CRITICAL,
    }
}

/// Opening the mail client (or an account's webmail or command) failed.
pub fn open_failed(i18n: &I18n, error: &OpenError) -> Note {
    let body = match error {
        OpenError::NoMailClient => i18n.tr_plain("open-no-mail-client", &[]),
        OpenError::Spawn { program, source } => i18n.tr_plain(
            "open-failed-command",
            &[
                ("program", text(program)),
                ("reason", text(&source.to_string())),
            ],
        ),
        OpenError::Entry(detail) => detail.clone(),
    };
    Note {
        summary: i18n.tr_plain("open-failed-title", &[]),
        body,
        actions: Vec::new(),
        category: CATEGORY_EMAIL,
        sound: false,
        urgency: URGENCY_NORMAL,
    }
}

/// The configuration file could not be read (`message` says where and why); a click opens
/// Settings.
pub fn config_error(i18n: &I18n, message: &str) -> Note {
    Note {
        summary: i18n.tr_plain("config-error-title", &[]),
        body: message.to_owned(),
        actions: vec![("default".into(), i18n.tr_plain("menu-settings", &[]))],
        category: CATEGORY_EMAIL,
        sound: false,
        urgency: URGENCY_CRITICAL,
    }
}

fn actions(i18n: &I18n, mark_read: bool) -> Vec<(String, String)> {
    let mut actions = vec![(
        "default".to_owned(),
        i18n.tr_plain("notify-action-open", &[]),
    )];
    if mark_read {
        actions.push((
            "mark-read".to_owned(),
            i18n.tr_plain("notify-action-mark-read", &[]),
        ));
    }
    actions
}

fn sender_or_unknown(i18n: &I18n, sender: Option<&str>) -> String {
    sender.map_or_else(|| i18n.tr_plain("sender-unknown", &[]), str::to_owned)
}

fn subject_or_none(i18n: &I18n, subject: Option<&str>) -> String {
    subject.map_or_else(|| i18n.tr_plain("subject-none", &[]), str::to_owned)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn en() -> I18n {
        I18n::new("en")
    }

    fn it() -> I18n {
        I18n::new("it")
    }

    fn full(sender: Option<&str>, subject: Option<&str>) -> Content {
        Content::Full {
            sender: sender.map(str::to_owned),
            subject: subject.map(str::to_owned),
        }
    }

    /// (language, content, popup title, popup body) for one new message in "Work".
    #[test]
    fn single_popups_by_preview_level_and_language() {
        let ana = Some("Ana Pérez <ana@example.com>");
        let table = [
            (
                en(),
                full(ana, Some("Lunch?")),
                "Ana Pérez <ana@example.com>",
                "Lunch?",
            ),
            (en(), full(None, None), "(unknown sender)", "(no subject)"),
            (
                it(),
                full(None, None),
                "(mittente sconosciuto)",
                "(nessun oggetto)",
            ),
            (
                en(),
                Content::Sender {
                    sender: ana.map(str::to_owned),
                },
                "Ana Pérez <ana@example.com>",
                "New message in Work",
            ),
            (
                it(),
                Content::Sender { sender: None },
                "(mittente sconosciuto)",
                "Nuovo messaggio in Work",
            ),
            (en(), Content::CountOnly, "1 new message in Work", ""),
            (it(), Content::CountOnly, "1 nuovo messaggio in Work", ""),
            (
                I18n::new("zh-CN"),
                Content::CountOnly,
                "Work 有 1 封新邮件",
                "",
            ),
        ];
        for (i18n, content, summary, body) in table {
            let note = single(&i18n, "Work", &content, true);
            assert_eq!(
                (note.summary.as_str(), note.body.as_str()),
                (summary, body),
                "{} {content:?}",
                i18n.lang()
            );
            assert_eq!(note.category, CATEGORY_NEW_MAIL);
            assert!(note.sound);
        }
    }

    #[test]
    fn a_single_popup_offers_open_and_mark_as_read_in_the_language() {
        let note = single(&it(), "Work", &Content::CountOnly, true);
        assert_eq!(
            note.actions,
            [
                ("default".to_owned(), "Apri".to_owned()),
                ("mark-read".to_owned(), "Segna come letto".to_owned())
            ]
        );
    }

    #[test]
    fn a_pop3_popup_offers_no_mark_as_read_there_is_no_flag_to_set() {
        let note = single(&it(), "Vecchia", &Content::CountOnly, false);
        assert_eq!(note.actions, [("default".to_owned(), "Apri".to_owned())]);
    }

    /// What Activity and the NewMail signal carry: the popup's words, nothing the preview level
    /// hides.
    #[test]
    fn listed_texts_follow_the_popup() {
        let table = [
            (full(Some("Ana"), Some("Hi")), ("Ana", "Hi"), ("Ana", "Hi")),
            (
                full(None, None),
                ("(unknown sender)", "(no subject)"),
                ("(mittente sconosciuto)", "(nessun oggetto)"),
            ),
            (
                Content::Sender {
                    sender: Some("Ana".into()),
                },
                ("Ana", ""),
                ("Ana", ""),
            ),
            (Content::CountOnly, ("", ""), ("", "")),
        ];
        for (content, english, italian) in table {
            for (i18n, want) in [(en(), english), (it(), italian)] {
                let (from, subject) = listed(&i18n, &content);
                assert_eq!((from.as_str(), subject.as_str()), want, "{content:?}");
            }
        }
    }

    #[test]
    fn summaries_count_and_name_senders_in_the_language() {
        let names = ["Ana".to_owned(), "Li Wei".to_owned()];
        let table = [
            (
                en(),
                12,
                &names[..],
                3,
                "12 new messages in Work",
                "from Ana, Li Wei and 3 others",
            ),
            (
                en(),
                2,
                &names[..],
                0,
                "2 new messages in Work",
                "from Ana, Li Wei",
            ),
            (en(), 1, &names[..1], 0, "1 new message in Work", "from Ana"),
            (en(), 12, &[][..], 0, "12 new messages in Work", ""),
            (
                it(),
                12,
                &names[..],
                3,
                "12 nuovi messaggi in Work",
                "da Ana, Li Wei e altri 3",
            ),
            (
                it(),
                3,
                &names[..],
                1,
                "3 nuovi messaggi in Work",
                "da Ana, Li Wei e un altro mittente",
            ),
            (
                I18n::new("zh-CN"),
                12,
                &names[..],
                3,
                "Work 有 12 封新邮件",
                "来自 Ana、Li Wei 及另外 3 人",
            ),
        ];
        for (i18n, count, names, others, title, body) in table {
            let note = summary(&i18n, "Work", count, names, others);
            assert_eq!(
                (note.summary.as_str(), note.body.as_str()),
                (title, body),
                "{}",
                i18n.lang()
            );
            assert_eq!(note.actions.len(), 1, "no mark-as-read on a summary");
        }
    }

    #[test]
    fn attention_names_the_account_and_opens_settings() {
        let detail = "the server does not offer STARTTLS";
        for (i18n, title, settings) in [
            (en(), "Shop needs attention", "Settings…"),
            (it(), "Shop richiede attenzione", "Impostazioni…"),
        ] {
            let note = attention(&i18n, "Shop", detail);
            assert_eq!(note.summary, title);
            assert_eq!(note.body, detail);
            assert_eq!(note.actions, [("default".to_owned(), settings.to_owned())]);
            assert_eq!((note.urgency, note.sound), (2, false), "stays, silently");
        }
    }

    /// (language, title, body, action label) of "Work" needing a new sign-in, in every
    /// language the tray speaks.
    #[test]
    fn signin_required_asks_to_sign_in_again_in_every_language() {
        let table = [
            (
                "en",
                "Sign in to Work again",
                "Sign in again: Settings → Accounts → Sign in, or pushmail-cli account login ID.",
                "Sign in…",
            ),
            (
                "it",
                "Accedi di nuovo a Work",
                "Accedi di nuovo: Impostazioni → Account → Accedi, oppure pushmail-cli account login ID.",
                "Accedi…",
            ),
            (
                "ar",
                "سجّل الدخول إلى Work من جديد",
                "سجّل الدخول من جديد: الإعدادات ← الحسابات ← تسجيل الدخول، أو pushmail-cli account login ID.",
                "تسجيل الدخول…",
            ),
            (
                "zh-CN",
                "请重新登录 Work",
                "请重新登录：设置 → 账户 → 登录，或运行 pushmail-cli account login ID。",
                "登录…",
            ),
            (
                "zh-TW",
                "請重新登入 Work",
                "請重新登入：設定 → 帳號 → 登入，或執行 pushmail-cli account login ID。",
                "登入…",
            ),
        ];
        for (lang, title, body, label) in table {
            let note = signin_required(&I18n::new(lang), "Work");
            assert_eq!(
                (note.summary.as_str(), note.body.as_str()),
                (title, body),
                "{lang}"
            );
            assert_eq!(
                note.actions,
                [
                    ("default".to_owned(), label.to_owned()),
                    (ACTION_SIGNIN.to_owned(), label.to_owned())
                ],
                "{lang}"
            );
            assert_eq!(
                (note.urgency, note.sound, note.category),
                (2, false, CATEGORY_EMAIL),
                "stays, silently"
            );
        }
    }

    #[test]
    fn failures_to_open_say_what_to_do() {
        let note = open_failed(&en(), &OpenError::NoMailClient);
        assert_eq!(note.summary, "Cannot open your mail");
        assert!(
            note.body.starts_with("No default mail application"),
            "{note:?}"
        );
        let spawn = OpenError::Spawn {
            program: "thunderbird".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let note = open_failed(&it(), &spawn);
        assert!(
            note.body.starts_with("Impossibile avviare thunderbird: "),
            "{note:?}"
        );
        let note = config_error(&en(), "config.toml: unknown key `bogus`");
        assert_eq!(note.summary, "Pushmail's configuration has an error");
        assert_eq!(note.body, "config.toml: unknown key `bogus`");
    }

    #[test]
    fn the_body_is_escaped_only_for_daemons_that_read_markup() {
        let hostile = "<b>x</b> Tom & Jerry <3 'quoted' \"too\"";
        let note = single(
            &en(),
            "Work",
            &full(Some("<i>Ana</i>"), Some(hostile)),
            true,
        );
        assert_eq!(
            note.body_for(true),
            "&lt;b&gt;x&lt;/b&gt; Tom &amp; Jerry &lt;3 &#39;quoted&#39; &quot;too&quot;"
        );
        assert_eq!(note.body_for(false), hostile);
        // The title is plain text by the specification: it goes as it is.
        assert_eq!(note.summary, "<i>Ana</i>");
        // Catalog text around the account name is escaped with it.
        let note = single(&en(), "R&D <lab>", &Content::Sender { sender: None }, false);
        assert_eq!(note.body_for(true), "New message in R&amp;D &lt;lab&gt;");
    }

    #[test]
    fn an_unreadable_message_says_so_instead_of_having_no_subject() {
        assert_eq!(subject(&en(), "Hello", false).as_deref(), Some("Hello"));
        assert_eq!(subject(&en(), "", false), None);
        assert_eq!(
            subject(&en(), "", true).as_deref(),
            Some("(this message could not be read)")
        );
        assert_eq!(
            subject(&it(), "", true).as_deref(),
            Some("(impossibile leggere questo messaggio)")
        );
    }
}
