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
    /// `SEARCH RETURN (COUNT)` (RFC 4731): counting unread costs a few bytes, not a UID list.
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
        // NOTIFY without IDLE cannot happen on a sane server; treat it as polling.
        (true, true) if !others.is_empty() => Mode::Notify,
        (true, _) => Mode::IdleAndSweep,
        (false, _) => Mode::Poll,
    };
    Strategy { mode, home, others }
}

impl Strategy {
    /// Connections this strategy holds open.
    pub fn connections(&self) -> u32 {
        1
    }

    pub fn folder_count(&self) -> usize {
        1 + self.others.len()
    }

    /// In words, for `account test` and Settings.
    pub fn describe(&self, poll_interval_secs: u64) -> String {
        let n = self.folder_count();
        let folders = |k: usize| {
            if k == 1 {
                "1 folder".to_owned()
            } else {
                format!("{k} folders")
            }
        };
        match self.mode {
            Mode::Notify => format!("NOTIFY: all {} on one connection", folders(n)),
            Mode::IdleAndSweep if self.others.is_empty() => {
                format!("IDLE push: {} on one connection", self.home)
            }
            Mode::IdleAndSweep => format!(
                "no NOTIFY: {} push, {} checked every {poll_interval_secs} s",
                self.home,
                folders(self.others.len())
            ),
            Mode::Poll => format!(
                "no IDLE: {} checked every {poll_interval_secs} s",
                folders(n)
            ),
        }
    }
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
            Mode::IdleAndSweep,
            "NOTIFY buys nothing for one folder"
        );
        assert_eq!(s.describe(60), "IDLE push: INBOX on one connection");

        let s = choose(none, &many);
        assert_eq!(s.describe(30), "no IDLE: 3 folders checked every 30 s");

        let s = choose(all, &f(&["Work", "Home"]));
        assert_eq!(s.home, "Work", "without INBOX the first folder is home");
        assert_eq!(s.connections(), 1);
    }

    #[test]
    fn caps_from_dovecot_list() {
        let list: Vec<String> = "IMAP4REV1 IDLE NOTIFY CONDSTORE QRESYNC ESEARCH SPECIAL-USE"
            .split(' ')
            .map(str::to_owned)
            .collect();
        let c = Caps::from_list(&list);
        assert!(c.idle && c.notify && c.condstore && c.qresync && c.esearch);
        assert_eq!(Caps::from_list(&[]), Caps::default());
    }
}
