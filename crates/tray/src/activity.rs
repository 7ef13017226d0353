//! The recent past for Settings → Activity (`GetActivity`): the last announced messages and
//! each account's last error. Bounded, newest first, as JSON.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

/// One announced message, with texts as the popup policy allows them to be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationRecord {
    pub account: String,
    pub folder: String,
    pub uid: u32,
    pub from: String,
    pub subject: String,
    /// RFC 3339.
    pub at: String,
    /// The event's `delay_ms`: from the message reaching the server to its announcement,
    /// when plausible (`docs/events.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// The message's Message-ID, without angle brackets, for `OpenMessage` (Settings →
    /// Activity's "Open"): only one that may open the message (`open::message_id_arg`), so
    /// no hostile or oversized header text ever crosses the bus; empty (and left out of the
    /// JSON) otherwise, and "Open" opens the account's usual target.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message_id: String,
}

/// The last problem of one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    pub account: String,
    pub state: String,
    /// What went wrong, in the tray's language where Pushmail wrote it.
    pub detail: String,
    /// What to do, in the tray's language, when Pushmail knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    pub at: String,
}

#[derive(Debug, Default)]
pub struct Activity {
    notifications: VecDeque<NotificationRecord>,
    errors: BTreeMap<String, (u64, ErrorRecord)>,
    capacity: usize,
    seq: u64,
}

#[derive(Serialize)]
struct Json<'a> {
    notifications: Vec<&'a NotificationRecord>,
    errors: Vec<&'a ErrorRecord>,
}

impl Activity {
    pub fn new(capacity: usize) -> Activity {
        Activity {
            capacity,
            ..Activity::default()
        }
    }

    /// Changes how many notifications are kept (the oldest go first).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.notifications.truncate(capacity);
    }

    pub fn notified(&mut self, record: NotificationRecord) {
        if self.capacity == 0 {
            return;
        }
        self.notifications.push_front(record);
        self.notifications.truncate(self.capacity);
    }

    /// Records an account's error, replacing its previous one.
    pub fn error(&mut self, record: ErrorRecord) {
        self.seq += 1;
        self.errors
            .insert(record.account.clone(), (self.seq, record));
    }

    /// Forgets errors of accounts that are gone.
    pub fn retain_accounts(&mut self, keep: impl Fn(&str) -> bool) {
        self.errors.retain(|id, _| id.is_empty() || keep(id));
    }

    pub fn to_json(&self) -> String {
        let mut errors: Vec<&(u64, ErrorRecord)> = self.errors.values().collect();
        errors.sort_by_key(|e| std::cmp::Reverse(e.0));
        let json = Json {
            notifications: self.notifications.iter().collect(),
            errors: errors.into_iter().map(|(_, e)| e).collect(),
        };
        serde_json::to_string(&json).unwrap_or_else(|_| "{}".to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn note(uid: u32) -> NotificationRecord {
        NotificationRecord {
            account: "work".into(),
            folder: "INBOX".into(),
            uid,
            from: "Ana <ana@x>".into(),
            subject: "<b>hi</b>".into(),
            at: "2026-01-01T00:00:00Z".into(),
            delay_ms: (uid == 5).then_some(640),
            message_id: if uid == 5 {
                format!("{uid}.abc@example.com")
            } else {
                String::new()
            },
        }
    }

    fn err(account: &str, detail: &str) -> ErrorRecord {
        ErrorRecord {
            account: account.into(),
            state: "error".into(),
            detail: detail.into(),
            hint: None,
            at: "t".into(),
        }
    }

    #[test]
    fn newest_first_and_bounded() {
        let mut a = Activity::new(3);
        for uid in 1..=5 {
            a.notified(note(uid));
        }
        a.error(err("work", "first"));
        a.error(err("home", "other"));
        a.error(err("work", "second"));
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        let uids: Vec<u64> = v["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["uid"].as_u64().unwrap())
            .collect();
        assert_eq!(uids, [5, 4, 3]);
        assert_eq!(v["notifications"][0]["subject"], "<b>hi</b>");
        // How late it was, where known; absent otherwise.
        assert_eq!(v["notifications"][0]["delay_ms"], 640);
        assert!(v["notifications"][1].get("delay_ms").is_none());
        // What opens the message, where there is one; absent otherwise.
        assert_eq!(v["notifications"][0]["message_id"], "5.abc@example.com");
        assert!(v["notifications"][1].get("message_id").is_none());
        let details: Vec<&str> = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["detail"].as_str().unwrap())
            .collect();
        assert_eq!(details, ["second", "other"]);
        a.set_capacity(1);
        a.retain_accounts(|id| id == "home");
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
        assert_eq!(v["notifications"].as_array().unwrap().len(), 1);
        assert_eq!(v["errors"].as_array().unwrap().len(), 1);
        let mut none = Activity::new(0);
        none.notified(note(1));
        assert_eq!(none.to_json(), r#"{"notifications":[],"errors":[]}"#);
    }
}
