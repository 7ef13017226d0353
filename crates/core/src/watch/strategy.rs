//! How an account's folders are watched, chosen from the server's capabilities (pure).
//!
//! One connection per account whatever the number of folders: with NOTIFY (RFC 5465) the server
//! reports changes in every folder on it; without, the most important folder is in IDLE and the
//! others are swept with STATUS every `poll_interval` between IDLE rounds; without IDLE, all are
//! polled. Folder counts never multiply connections, so a dozen folders on two accounts stay
//! far inside any provider's connection limit.

/// What the server offers that matters here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    pub idle: bool,
    pub notify: bool,
    pub condstore: bool,
    pub qresync: bool,
    /// RFC 4731: unread re-counts as a count and a compact UID set
    /// (`imap/rfc4731_esearch.rs`) instead of one number per unread message.
    pub esearch: bool,
}

impl Caps {
    pub fn from_list(caps: &[String]) -> Caps {
        let has = |c: &str| caps.iter().any(|x| x.eq_ignore_ascii_case(c));
        Caps {
            idle: has("IDLE"),
            notify: has("NOTIFY"),
            condstore: has("CONDSTORE") || has("QRESYNC"),
            qresync: has("QRESYNC"),
            esearch: has("ESEARCH"),
        }
    }
}

/// How changes are learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// NOTIFY: the home folder in IDLE, every other folder reported by STATUS events.
    Notify,
    /// IDLE on the home folder, the others swept with STATUS every `poll_interval`.
    IdleAndSweep,
    /// No IDLE: everything checked every `poll_interval`.
    Poll,
}

/// The plan for one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strategy {
    pub mode: Mode,
    /// The folder kept selected (INBOX when watched: it is where mail lands).
    pub home: String,
    /// Every other watched folder.
    pub others: Vec<String>,
}

/// The home folder: INBOX if watched, else the first configured one.
pub fn home_folder(folders: &[String]) -> Option<&String> {
    folders
        .iter()
        .find(|f| f.eq_ignore_ascii_case("INBOX"))
        .or_else(|| folders.first())
}

/// Chooses the strategy. `folders` must be non-empty (the configuration guarantees it).
pub fn choose(caps: Caps, folders: &[String]) -> Strategy {
    let home = home_folder(folders)
        .cloned()
        .unwrap_or_else(|| "INBOX".to_owned());
    let others: Vec<String> = folders.iter().filter(|f| **f != home).cloned().collect();
    let mode = match (caps.idle, caps.notify) {
        // Even for one folder: NOTIFY can push each new message with its headers (no round
        // trip after the server's push), and a flag change with its UID (no re-count).
        (true, true) => Mode::Notify,
        (true, false) => Mode::IdleAndSweep,
        // NOTIFY without IDLE cannot happen on a sane server; treat it as polling.
        (false, _) => Mode::Poll,
    };
    Strategy { mode, home, others }
}

impl Strategy {
    pub fn folder_count(&self) -> usize {
        1 + self.others.len()
    }

    /// In words, in English (logs): "NOTIFY: all 14 folders on one connection".
    pub fn describe(&self, poll_interval_secs: u64) -> String {
        self.describe_in(crate::i18n::I18n::english(), poll_interval_secs)
    }

    /// In words, in `i18n`'s language, for `account test` and Settings (`strategy-notify`,
    /// `strategy-idle`, `strategy-idle-sweep`, `strategy-poll`).
    pub fn describe_in(&self, i18n: &crate::i18n::I18n, poll_interval_secs: u64) -> String {
        use crate::i18n::{num, text};
        // Counts and intervals are far below 2^53: exact as f64.
        #[allow(clippy::cast_precision_loss)]
        let (all, others, seconds) = (
            num(self.folder_count() as f64),
            num(self.others.len() as f64),
            num(poll_interval_secs as f64),
        );
        match self.mode {
            Mode::Notify if self.others.is_empty() => {
                i18n.tr_plain("strategy-notify-one", &[("home", text(&self.home))])
            }
            Mode::Notify => i18n.tr_plain("strategy-notify", &[("folders", all)]),
            Mode::IdleAndSweep if self.others.is_empty() => {
                i18n.tr_plain("strategy-idle", &[("home", text(&self.home))])
            }
            Mode::IdleAndSweep => i18n.tr_plain(
                "strategy-idle-sweep",
                &[
                    ("home", text(&self.home)),
                    ("others", others),
                    ("seconds", seconds),
                ],
            ),
            Mode::Poll => i18n.tr_plain("strategy-poll", &[("folders", all), ("seconds", seconds)]),
        }
    }
}

/// How a POP3 account is watched, in `i18n`'s language: checked every `poll_interval_secs`,
/// and honest that POP3 cannot see mail read elsewhere (`strategy-pop3`).
pub fn describe_pop3(i18n: &crate::i18n::I18n, poll_interval_secs: u64) -> String {
    // Intervals are far below 2^53: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let seconds = crate::i18n::num(poll_interval_secs as f64);
    i18n.tr_plain("strategy-pop3", &[("seconds", seconds)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn strategy_table() {
        let all = Caps {
            idle: true,
            notify: true,
            condstore: true,
            qresync: true,
            esearch: true,
        };
        let idle_only = Caps {
            idle: true,
            ..Caps::default()
        };
        let none = Caps::default();
        let many = f(&["Clients", "INBOX", "Lists"]);

        let s = choose(all, &many);
        assert_eq!(
            (s.mode, s.home.as_str(), s.others.len()),
            (Mode::Notify, "INBOX", 2)
        );
        assert_eq!(s.describe(60), "NOTIFY: all 3 folders on one connection");

        let s = choose(idle_only, &many);
        assert_eq!(s.mode, Mode::IdleAndSweep);
        assert_eq!(
            s.describe(60),
            "no NOTIFY: INBOX push, 2 folders checked every 60 s"
        );

        let s = choose(all, &f(&["INBOX"]));
        assert_eq!(
            s.mode,
            Mode::Notify,
            "NOTIFY pushes the headers with the mail, even for one folder"
        );
        assert_eq!(s.describe(60), "NOTIFY push: INBOX on one connection");
        let s = choose(idle_only, &f(&["INBOX"]));
        assert_eq!(s.describe(60), "IDLE push: INBOX on one connection");

        let s = choose(none, &many);
        assert_eq!(s.describe(30), "no IDLE: 3 folders checked every 30 s");

        let s = choose(all, &f(&["Work", "Home"]));
        assert_eq!(s.home, "Work", "without INBOX the first folder is home");
    }

    #[test]
    fn described_in_the_reader_language() {
        use crate::i18n::I18n;
        let idle_only = Caps {
            idle: true,
            ..Caps::default()
        };
        let all = Caps {
            notify: true,
            ..idle_only
        };
        let many = f(&["Clients", "INBOX", "Lists"]);
        let it = I18n::new("it");
        assert_eq!(
            choose(all, &many).describe_in(&it, 60),
            "NOTIFY: tutte le 3 cartelle su una sola connessione"
        );
        assert_eq!(
            choose(idle_only, &many).describe_in(&it, 60),
            "senza NOTIFY: push su INBOX, altre 2 cartelle controllate ogni 60 s"
        );
        assert_eq!(
            choose(idle_only, &f(&["INBOX", "Lists"])).describe_in(&it, 60),
            "senza NOTIFY: push su INBOX, 1 altra cartella controllata ogni 60 s"
        );
        assert_eq!(
            choose(Caps::default(), &f(&["INBOX"])).describe_in(&it, 30),
            "senza IDLE: 1 cartella controllata ogni 30 s"
        );
        let tw = I18n::new("zh-TW");
        assert_eq!(
            choose(all, &many).describe_in(&tw, 60),
            "NOTIFY：全部 3 個資料夾共用一個連線"
        );
        assert_eq!(
            describe_pop3(&it, 60),
            "POP3: controllata ogni 60 s; con POP3 non si può sapere quando leggi la posta altrove"
        );
        assert_eq!(
            describe_pop3(crate::i18n::I18n::english(), 60),
            "POP3: checked every 60 s; POP3 cannot tell when you read mail elsewhere"
        );
        // English through the catalog is what `describe` says.
        let s = choose(idle_only, &many);
        assert_eq!(s.describe_in(I18n::english(), 60), s.describe(60));
    }

    /// Arabic has a form of "folder" for 1, 2, 3–10, 11–99 and 100+ (and of "second").
    #[test]
    fn arabic_folder_counts() {
        let ar = crate::i18n::I18n::new("ar");
        let poll = |n: usize, secs: u64| {
            let names: Vec<String> = (0..n).map(|i| format!("F{i}")).collect();
            choose(Caps::default(), &names).describe_in(&ar, secs)
        };
        assert_eq!(poll(1, 60), "بدون IDLE: فحص مجلد واحد كل 60 ثانية");
        assert_eq!(poll(2, 1), "بدون IDLE: فحص مجلدين كل ثانية");
        assert_eq!(poll(3, 2), "بدون IDLE: فحص 3 مجلدات كل ثانيتين");
        assert_eq!(poll(11, 5), "بدون IDLE: فحص 11 مجلدًا كل 5 ثوانٍ");
        assert_eq!(poll(100, 60), "بدون IDLE: فحص 100 مجلد كل 60 ثانية");
        assert_eq!(poll(103, 60), "بدون IDLE: فحص 103 مجلدات كل 60 ثانية");
        let notify = Caps {
            idle: true,
            notify: true,
            ..Caps::default()
        };
        let fourteen: Vec<String> = (0..14).map(|i| format!("F{i}")).collect();
        assert_eq!(
            choose(notify, &fourteen).describe_in(&ar, 60),
            "NOTIFY: مراقبة المجلدات الـ14 كلها عبر اتصال واحد"
        );
        assert_eq!(
            choose(notify, &f(&["INBOX", "Sent"])).describe_in(&ar, 60),
            "NOTIFY: مراقبة المجلدين كليهما عبر اتصال واحد"
        );
    }

    #[test]
    fn caps_from_dovecot_list() {
        let list: Vec<String> = "IMAP4REV1 IDLE NOTIFY CONDSTORE QRESYNC ESEARCH SPECIAL-USE"
            .split(' ')
            .map(str::to_owned)
            .collect();
        let c = Caps::from_list(&list);
        assert!(c.idle && c.notify && c.condstore && c.qresync);
        assert_eq!(Caps::from_list(&[]), Caps::default());
    }
}
