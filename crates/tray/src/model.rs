//! What the tray shows, as plain data: accounts with their states and unread counts, the
//! pause, and from them the badge look, the tooltip and the menu entries.
//!
//! Pure: events and configuration in, texts and entries out. The ksni glue ([`crate::status_item`])
//! and the D-Bus service only render what this computes.

use std::collections::BTreeMap;

use pushmail_core::ConnectError;
use pushmail_core::config::Config;
use pushmail_core::event::{Event, State};
use pushmail_core::i18n::{I18n, num, text};
use pushmail_core::notify::policy::Pause;

use crate::clock::PauseEnd;

/// How the icon looks, most urgent first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Look {
    /// An account needs the user: password rejected, sign-in gone, certificate not trusted,
    /// bad settings.
    Attention,
    /// Popups are paused (the badge keeps counting).
    Paused,
    /// There is unread mail.
    Unread,
    /// Nothing unread, all fine.
    Idle,
}

/// One account as the tray shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// `None` until the watcher reports (shown as "connecting").
    pub state: Option<State>,
    /// What is wrong, as data; written in the reader's language when shown.
    pub problem: Option<ConnectError>,
    /// Unread per watched folder, from the latest `unread` events.
    pub unread: BTreeMap<String, u32>,
    folders: Vec<String>,
    poll_secs: u64,
    /// A POP3 account: "polling" is said with what POP3 cannot do.
    pop3: bool,
}

impl AccountView {
    pub fn total_unread(&self) -> u32 {
        self.unread.values().copied().fold(0, u32::saturating_add)
    }

    /// The state word of the D-Bus interface (`docs/dbus.md`).
    pub fn state_name(&self) -> &'static str {
        if !self.enabled {
            return "disabled";
        }
        self.state.map_or("connecting", State::as_str)
    }

    fn needs_attention(&self) -> bool {
        self.enabled
            && matches!(
                self.state,
                Some(State::AuthFailed | State::SigninRequired | State::Error)
            )
    }

    fn state_text(&self, i18n: &I18n) -> String {
        if self.pop3 && self.state_name() == "polling" {
            return pushmail_core::watch::strategy::describe_pop3(i18n, self.poll_secs);
        }
        let id = format!("state-{}", self.state_name());
        let secs = u32::try_from(self.poll_secs).unwrap_or(u32::MAX);
        i18n.tr_plain(&id, &[("seconds", num(secs))])
    }

    /// "Work — 3 unread", or "Work — password rejected" when it needs attention or is off.
    pub fn line(&self, i18n: &I18n) -> String {
        if !self.enabled || self.needs_attention() {
            return i18n.tr_plain(
                "account-line-state",
                &[
                    ("name", text(&self.name)),
                    ("state", text(&self.state_text(i18n))),
                ],
            );
        }
        i18n.tr_plain(
            "account-line",
            &[
                ("name", text(&self.name)),
                ("count", num(self.total_unread())),
            ],
        )
    }
}

/// A row of `GetAccounts`: id, name, state, detail, unread.
pub type AccountRow = (String, String, String, String, u32);

/// What a menu entry does when clicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuAction {
    OpenAccount(String),
    OpenMailClient,
    CheckNow,
    Pause(PauseChoice),
    Resume,
    Settings,
    Quit,
}

/// The pause lengths offered in the menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseChoice {
    Minutes30,
    Hour1,
    /// Until 08:00 local time tomorrow.
    TomorrowMorning,
}

/// One menu entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuEntry {
    Item {
        label: String,
        action: MenuAction,
        enabled: bool,
    },
    Separator,
    Submenu {
        label: String,
        items: Vec<MenuEntry>,
    },
}

/// Which parts of the picture an event changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub unread: bool,
    pub accounts: bool,
}

/// The tray's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrayModel {
    accounts: Vec<AccountView>,
    pause: Pause,
    /// The pause's end in local time, computed by the caller who knows the zone.
    pause_until: Option<PauseEnd>,
}

impl TrayModel {
    /// Takes the account list from the configuration, in file order. Accounts that stay keep
    /// their state and counts (for folders still watched); new ones start as "connecting".
    pub fn set_config(&mut self, config: &Config) -> Change {
        let before_total = self.total_unread();
        let old = std::mem::take(&mut self.accounts);
        let mut previous: BTreeMap<String, AccountView> =
            old.into_iter().map(|a| (a.id.clone(), a)).collect();
        for account in &config.accounts {
            let mut view = previous.remove(&account.id).unwrap_or(AccountView {
                id: account.id.clone(),
                name: String::new(),
                enabled: true,
                state: None,
                problem: None,
                unread: BTreeMap::new(),
                folders: Vec::new(),
                poll_secs: 0,
                pop3: false,
            });
            if view.enabled != account.enabled || view.folders != account.folders {
                // A restarted watcher reports afresh.
                view.state = None;
                view.problem = None;
            }
            view.name = account.name.clone();
            view.enabled = account.enabled;
            view.folders = account.folders.clone();
            view.poll_secs = account.timing.poll_interval.as_secs();
            view.pop3 = account.protocol == pushmail_core::Protocol::Pop3;
            view.unread.retain(|f, _| account.folders.contains(f));
            if !account.enabled {
                view.unread.clear();
            }
            self.accounts.push(view);
        }
        Change {
            unread: before_total != self.total_unread(),
            accounts: true,
        }
    }

    /// Applies one engine event.
    pub fn apply(&mut self, event: &Event) -> Change {
        let Some(view) = self.accounts.iter_mut().find(|a| a.id == event.account()) else {
            return Change::default();
        };
        match event {
            Event::Unread { folder, count, .. } => {
                if !view.folders.contains(folder) || view.unread.get(folder) == Some(count) {
                    return Change::default();
                }
                view.unread.insert(folder.clone(), *count);
                Change {
                    unread: true,
                    accounts: true,
                }
            }
            Event::State { state, problem, .. } => {
                if view.state == Some(*state) && view.problem == *problem {
                    return Change::default();
                }
                view.state = Some(*state);
                view.problem = problem.clone();
                Change {
                    unread: false,
                    accounts: true,
                }
            }
            Event::NewMail(_) | Event::Seen { .. } => Change::default(),
        }
    }

    pub fn set_pause(&mut self, pause: Pause, until_local: Option<PauseEnd>) {
        self.pause = pause;
        self.pause_until = match pause {
            Pause::Until(_) => until_local,
            Pause::Off | Pause::Indefinite => None,
        };
    }

    pub fn accounts(&self) -> &[AccountView] {
        &self.accounts
    }

    pub fn total_unread(&self) -> u32 {
        self.accounts
            .iter()
            .map(AccountView::total_unread)
            .fold(0, u32::saturating_add)
    }

    pub fn look(&self) -> Look {
        if self.accounts.iter().any(AccountView::needs_attention) {
            Look::Attention
        } else if self.pause != Pause::Off {
            Look::Paused
        } else if self.total_unread() > 0 {
            Look::Unread
        } else {
            Look::Idle
        }
    }

    /// The rows of `GetAccounts`, each problem in `i18n`'s language.
    pub fn rows(&self, i18n: &I18n) -> Vec<AccountRow> {
        self.accounts
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.name.clone(),
                    a.state_name().to_owned(),
                    a.problem
                        .as_ref()
                        .map(|p| p.shown_in(i18n).joined())
                        .unwrap_or_default(),
                    a.total_unread(),
                )
            })
            .collect()
    }

    fn pause_line(&self, i18n: &I18n) -> Option<String> {
        match (self.pause, &self.pause_until) {
            (Pause::Off, _) => None,
            (Pause::Until(_), Some(end @ (PauseEnd::Today(_) | PauseEnd::Later(_)))) => {
                Some(i18n.tr_plain("tray-paused-until", &[("time", text(&end.text(i18n)))]))
            }
            (Pause::Until(_), Some(end @ PauseEnd::Tomorrow(_))) => Some(i18n.tr_plain(
                "tray-paused-until-tomorrow",
                &[("time", text(&end.text(i18n)))],
            )),
            _ => Some(i18n.tr_plain("tray-paused", &[])),
        }
    }

    /// Tooltip title ("3 unread messages") and body (one line per account, then the pause).
    /// The body is plain text; the SNI glue escapes it for hosts that read markup.
    pub fn tooltip(&self, i18n: &I18n) -> (String, String) {
        let title = i18n.tr_plain("tray-unread-total", &[("count", num(self.total_unread()))]);
        let mut lines: Vec<String> = self
            .accounts
            .iter()
            .map(|a| {
                let line = a.line(i18n);
                // A POP3 account says what it can and cannot do even when all is well: its
                // count is not "unread" the way an IMAP account's is.
                let fine = a.needs_attention()
                    || !a.enabled
                    || (matches!(a.state, Some(State::Push | State::Polling)) && !a.pop3);
                if fine {
                    line
                } else {
                    i18n.tr_plain(
                        "account-line-with-state",
                        &[("line", text(&line)), ("state", text(&a.state_text(i18n)))],
                    )
                }
            })
            .collect();
        lines.extend(self.pause_line(i18n));
        (title, lines.join("\n"))
    }

    /// The menu, top to bottom.
    pub fn menu(&self, i18n: &I18n) -> Vec<MenuEntry> {
        let item = |id: &str, action: MenuAction, enabled: bool| MenuEntry::Item {
            label: i18n.tr_plain(id, &[]),
            action,
            enabled,
        };
        let mut menu: Vec<MenuEntry> = self
            .accounts
            .iter()
            .map(|a| MenuEntry::Item {
                label: a.line(i18n),
                action: MenuAction::OpenAccount(a.id.clone()),
                enabled: a.enabled,
            })
            .collect();
        if !menu.is_empty() {
            menu.push(MenuEntry::Separator);
        }
        let paused = self.pause != Pause::Off;
        let mut pause_items = Vec::new();
        if let Some(line) = self.pause_line(i18n) {
            pause_items.push(MenuEntry::Item {
                label: line,
                action: MenuAction::Resume,
                enabled: false,
            });
            pause_items.push(MenuEntry::Separator);
        }
        pause_items.extend([
            item(
                "menu-pause-30m",
                MenuAction::Pause(PauseChoice::Minutes30),
                true,
            ),
            item("menu-pause-1h", MenuAction::Pause(PauseChoice::Hour1), true),
            item(
                "menu-pause-tomorrow",
                MenuAction::Pause(PauseChoice::TomorrowMorning),
                true,
            ),
            item("menu-resume", MenuAction::Resume, paused),
        ]);
        menu.extend([
            item("menu-open-mail-client", MenuAction::OpenMailClient, true),
            item(
                "menu-check-now",
                MenuAction::CheckNow,
                self.accounts.iter().any(|a| a.enabled),
            ),
            MenuEntry::Submenu {
                label: i18n.tr_plain("menu-pause", &[]),
                items: pause_items,
            },
            MenuEntry::Separator,
            item("menu-settings", MenuAction::Settings, true),
            item("menu-quit", MenuAction::Quit, true),
        ]);
        menu
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use pushmail_core::config::Account;

    fn config() -> Config {
        let mut work = Account::new("work", "imap.example.com", "ana");
        work.name = "Work".into();
        work.folders = vec!["INBOX".into(), "Lists".into()];
        let mut home = Account::new("home", "imap.example.com", "ana");
        home.name = "Home".into();
        let mut off = Account::new("off", "imap.example.com", "ana");
        off.name = "Old".into();
        off.enabled = false;
        Config {
            accounts: vec![work, home, off],
            ..Config::default()
        }
    }

    fn unread(account: &str, folder: &str, count: u32) -> Event {
        Event::Unread {
            account: account.into(),
            folder: folder.into(),
            count,
        }
    }

    /// A state event whose problem (if any) is a login refused with the server's `words`.
    fn state(account: &str, state: State, words: Option<&str>) -> Event {
        let problem = words.map(|w| ConnectError::Auth(w.into()));
        Event::State {
            account: account.into(),
            state,
            detail: problem.as_ref().map(ConnectError::detail),
            problem,
        }
    }

    /// 08:00 tomorrow morning, local.
    fn morning() -> jiff::civil::DateTime {
        jiff::civil::date(2026, 3, 11).at(8, 0, 0, 0)
    }

    fn labels(menu: &[MenuEntry]) -> Vec<String> {
        menu.iter()
            .map(|e| match e {
                MenuEntry::Item { label, .. } => label.clone(),
                MenuEntry::Separator => "---".into(),
                MenuEntry::Submenu { label, items } => {
                    format!("{label} > [{}]", labels(items).join(" | "))
                }
            })
            .collect()
    }

    #[test]
    fn counts_add_up_across_folders_and_accounts() {
        let mut m = TrayModel::default();
        m.set_config(&config());
        assert_eq!(m.look(), Look::Idle);
        assert_eq!(
            m.apply(&unread("work", "INBOX", 3)),
            Change {
                unread: true,
                accounts: true
            }
        );
        m.apply(&unread("work", "Lists", 2));
        m.apply(&unread("home", "INBOX", 1));
        assert_eq!(m.total_unread(), 6);
        assert_eq!(m.look(), Look::Unread);
        // Repeats and unknown folders/accounts change nothing.
        assert_eq!(m.apply(&unread("work", "INBOX", 3)), Change::default());
        assert_eq!(m.apply(&unread("work", "Spam", 9)), Change::default());
        assert_eq!(m.apply(&unread("nobody", "INBOX", 9)), Change::default());
        assert_eq!(m.total_unread(), 6);
        m.apply(&unread("work", "INBOX", 0));
        assert_eq!(m.total_unread(), 3);
    }

    #[test]
    fn menu_lists_accounts_then_actions() {
        let i18n = I18n::new("en");
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("work", "INBOX", 3));
        m.apply(&state("work", State::Push, None));
        m.apply(&unread("home", "INBOX", 1));
        assert_eq!(
            labels(&m.menu(&i18n)),
            [
                "Work — 3 unread",
                "Home — 1 unread",
                "Old — disabled",
                "---",
                "Open mail client",
                "Check now",
                "Pause notifications > [For 30 minutes | For 1 hour | Until tomorrow morning | Resume notifications]",
                "---",
                "Settings…",
                "Quit",
            ]
        );
        let menu = m.menu(&i18n);
        assert!(matches!(
            &menu[0],
            MenuEntry::Item { action: MenuAction::OpenAccount(id), enabled: true, .. } if id == "work"
        ));
        assert!(matches!(&menu[2], MenuEntry::Item { enabled: false, .. }));
        // Resume is greyed out while not paused.
        let MenuEntry::Submenu { items, .. } = &menu[6] else {
            panic!("{menu:?}")
        };
        assert!(matches!(
            &items[3],
            MenuEntry::Item {
                action: MenuAction::Resume,
                enabled: false,
                ..
            }
        ));
    }

    #[test]
    fn attention_beats_pause_beats_unread() {
        let i18n = I18n::new("en");
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("home", "INBOX", 2));
        m.set_pause(Pause::Until(100), Some(PauseEnd::Tomorrow(morning())));
        assert_eq!(m.look(), Look::Paused);
        let (_, body) = m.tooltip(&i18n);
        assert!(
            body.ends_with("Notifications paused until tomorrow at 08:00"),
            "{body}"
        );
        let menu = labels(&m.menu(&i18n));
        assert!(
            menu[6].starts_with(
                "Pause notifications > [Notifications paused until tomorrow at 08:00 | --- |"
            ),
            "{menu:?}"
        );
        m.apply(&state("work", State::AuthFailed, Some("login failed")));
        assert_eq!(m.look(), Look::Attention);
        assert_eq!(labels(&m.menu(&i18n))[0], "Work — password rejected");
        m.apply(&state("work", State::Push, None));
        m.set_pause(Pause::Off, None);
        assert_eq!(m.look(), Look::Unread);
        // A disabled account in error does not call for attention.
        m.apply(&state("off", State::Error, Some("x")));
        assert_eq!(m.look(), Look::Unread);
    }

    /// An account whose sign-in is gone needs the user like a rejected password: the icon,
    /// the menu line, the tooltip and `GetAccounts` say so, in the reader's language.
    #[test]
    fn signin_required_needs_attention_everywhere() {
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("work", "INBOX", 2));
        m.apply(&state("home", State::Push, None));
        m.apply(&Event::State {
            account: "work".into(),
            state: State::SigninRequired,
            detail: None,
            problem: Some(ConnectError::sign_in(
                pushmail_core::error::SignInProblem::Required,
                "custom",
            )),
        });
        assert_eq!(m.look(), Look::Attention);
        for (lang, line) in [
            ("en", "Work — sign-in required"),
            ("it", "Work — accesso richiesto"),
            ("zh-TW", "Work — 需要登入"),
        ] {
            let i18n = I18n::new(lang);
            assert_eq!(labels(&m.menu(&i18n))[0], line, "{lang}");
            assert_eq!(m.tooltip(&i18n).1.lines().next(), Some(line), "{lang}");
        }
        let row = &m.rows(&I18n::new("en"))[0];
        assert_eq!(row.2, "signin_required");
        assert!(
            row.3.ends_with(
                "Sign in again: Settings → Accounts → Sign in, or pushmail-cli account login ID."
            ),
            "{row:?}"
        );
        // Disabled, it asks nothing.
        let mut c = config();
        c.accounts[0].enabled = false;
        m.set_config(&c);
        assert_ne!(m.look(), Look::Attention);
    }

    #[test]
    fn tooltip_has_total_and_per_account_lines_with_states() {
        let i18n = I18n::new("en");
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("work", "INBOX", 1));
        m.apply(&state("work", State::Push, None));
        m.apply(&state("home", State::Backoff, Some("offline")));
        let (title, body) = m.tooltip(&i18n);
        assert_eq!(title, "1 unread message");
        assert_eq!(
            body,
            "Work — 1 unread\nHome — no unread (offline, retrying)\nOld — disabled"
        );
        m.set_pause(Pause::Indefinite, None);
        assert!(m.tooltip(&i18n).1.ends_with("\nNotifications paused"));
    }

    #[test]
    fn a_pop3_account_says_what_pop3_cannot_do_in_the_tooltip() {
        let mut isp = Account::new("isp", "pop.example.com", "ana");
        isp.name = "ISP".into();
        isp.protocol = pushmail_core::Protocol::Pop3;
        let mut m = TrayModel::default();
        m.set_config(&Config {
            accounts: vec![isp],
            ..Config::default()
        });
        m.apply(&unread("isp", "INBOX", 2));
        m.apply(&state("isp", State::Polling, None));
        assert_eq!(
            m.tooltip(&I18n::new("en")).1,
            "ISP — 2 unread (POP3: checked every 60 s; POP3 cannot tell when you read mail elsewhere)"
        );
        assert!(
            m.tooltip(&I18n::new("zh-CN"))
                .1
                .contains("POP3 无法得知你何时在别处读过邮件"),
            "{}",
            m.tooltip(&I18n::new("zh-CN")).1
        );
    }

    /// The same model read in another language, as after a configuration reload that changed
    /// `[general] language` (the app builds a new `I18n` and republishes the view).
    #[test]
    fn menu_and_tooltip_follow_the_language() {
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("work", "INBOX", 3));
        m.apply(&state("work", State::Push, None));
        m.apply(&unread("home", "INBOX", 1));
        m.apply(&state("home", State::Push, None));
        m.set_pause(Pause::Until(100), Some(PauseEnd::Tomorrow(morning())));
        let view = |lang: &str| {
            let i18n = I18n::new(lang);
            (labels(&m.menu(&i18n)), m.tooltip(&i18n))
        };
        let (menu, (title, body)) = view("it");
        assert_eq!(menu[0], "Work — 3 non letti");
        assert_eq!(menu[1], "Home — 1 non letto");
        assert_eq!(menu[4], "Apri il programma di posta");
        assert_eq!(menu[menu.len() - 1], "Esci");
        assert_eq!(title, "4 messaggi non letti");
        assert!(
            body.ends_with("Notifiche in pausa fino a domani alle 08:00"),
            "{body}"
        );
        let (menu, (title, body)) = view("ar");
        assert_eq!(menu[0], "Work — 3 رسائل غير مقروءة");
        assert_eq!(menu[1], "Home — رسالة غير مقروءة");
        assert_eq!(menu[menu.len() - 1], "إنهاء");
        assert_eq!(title, "4 رسائل غير مقروءة");
        assert!(
            body.ends_with("الإشعارات متوقفة مؤقتًا حتى الغد الساعة 08:00"),
            "{body}"
        );
        let (menu, (title, _)) = view("zh-TW");
        assert_eq!(menu[0], "Work — 3 封未讀");
        assert_eq!(menu[5], "立即檢查");
        assert_eq!(title, "4 封未讀郵件");
        let (menu, _) = view("zh-CN");
        assert_eq!(menu[5], "立即检查");
    }

    #[test]
    fn rows_follow_the_dbus_vocabulary() {
        let mut m = TrayModel::default();
        m.set_config(&config());
        m.apply(&unread("work", "INBOX", 4));
        m.apply(&state("home", State::AuthFailed, Some("rejected")));
        let en = I18n::new("en");
        assert_eq!(
            m.rows(&en),
            [
                (
                    "work".into(),
                    "Work".into(),
                    "connecting".into(),
                    String::new(),
                    4
                ),
                (
                    "home".into(),
                    "Home".into(),
                    "auth_failed".into(),
                    "login failed: rejected — Check the user name, and set the password again (pushmail-cli account password ID). Some providers need an app password.".into(),
                    0
                ),
                (
                    "off".into(),
                    "Old".into(),
                    "disabled".into(),
                    String::new(),
                    0
                ),
            ]
        );
    }

    #[test]
    fn reconfiguring_keeps_counts_of_what_is_still_watched() {
        let mut m = TrayModel::default();
        let mut c = config();
        m.set_config(&c);
        m.apply(&unread("work", "INBOX", 3));
        m.apply(&unread("work", "Lists", 2));
        m.apply(&unread("home", "INBOX", 1));
        m.apply(&state("home", State::Push, None));
        c.accounts[0].folders = vec!["INBOX".into()];
        c.accounts[1].name = "Family".into();
        c.accounts.retain(|a| a.id != "off");
        let change = m.set_config(&c);
        assert!(change.unread && change.accounts);
        assert_eq!(m.total_unread(), 4);
        assert_eq!(m.accounts()[1].name, "Family");
        assert_eq!(
            m.accounts()[1].state,
            Some(State::Push),
            "unchanged account keeps its state"
        );
        assert_eq!(m.accounts().len(), 2);
        c.accounts[1].enabled = false;
        m.set_config(&c);
        assert_eq!(m.total_unread(), 3);
        assert_eq!(m.rows(&I18n::new("en"))[1].2, "disabled");
    }
}
