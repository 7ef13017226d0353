//! The one typed stream of events out of the engine. Its JSON form (`--json`) is a public
//! interface documented in `docs/events.md`.

use serde::Serialize;

/// Connection state of an account, worst of its folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// IDLE is running: new mail arrives within about a second.
    Push,
    /// The server has no IDLE: checked every `poll_interval`.
    Polling,
    Connecting,
    /// Waiting before the next attempt after a failure.
    Backoff,
    /// A failure that will not fix itself (e.g. TLS, config); retried with backoff.
    Error,
    /// The password was rejected; no further login until the account or password changes.
    AuthFailed,
    /// The sign-in at the provider (OAuth2) is gone or never happened: no further login and no
    /// token request until the user signs in again.
    SigninRequired,
    /// Account disabled or engine stopping.
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Push => "push",
            State::Polling => "polling",
            State::Connecting => "connecting",
            State::Backoff => "backoff",
            State::Error => "error",
            State::AuthFailed => "auth_failed",
            State::SigninRequired => "signin_required",
            State::Stopped => "stopped",
        }
    }
}

/// A new message, announced exactly once per (account, folder, uidvalidity, uid).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewMail {
    pub account: String,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub from_name: String,
    pub from_address: String,
    pub subject: String,
    /// RFC 3339 from the Date header, or empty.
    pub date: String,
    pub message_id: String,
    /// True when found on (re)connect rather than pushed live: mail that arrived while
    /// Pushmail was off or disconnected. Front ends summarise these instead of popping each.
    pub catch_up: bool,
    /// The server's answer for this message could not be read (a header beyond every limit,
    /// a response that does not parse): it is announced once with what is known — sender and
    /// subject empty — so it never holds up the messages after it. Front ends say "could not
    /// be read" instead of "(no subject)". Only present in JSON when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
    /// When the message reached the server: its INTERNALDATE as RFC 3339, in the server's
    /// zone, whole seconds. Absent when the server did not send it (and for POP3, which has
    /// no such date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    /// Milliseconds from `received_at` to this announcement, measured on this computer's
    /// clock as the watcher hands the message to the front end. `received_at` is cut to the
    /// second, so this is up to a second more than the true delay; absent when not plausible
    /// (negative, or over a day: the two clocks disagree — see
    /// [`crate::imap::internal_date`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    NewMail(NewMail),
    /// Unread messages in a folder; sent when it changes and once per (re)connect.
    Unread {
        account: String,
        folder: String,
        count: u32,
    },
    /// An announced message was read or deleted elsewhere: withdraw its notification.
    Seen {
        account: String,
        folder: String,
        uid: u32,
    },
    State {
        account: String,
        state: State,
        /// The problem in English, "what — hint" (scripts match on it; front ends show
        /// `problem` in their reader's language instead).
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// What is wrong, as data: `{"kind", "step"?}` in JSON.
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<crate::error::ConnectError>,
    },
}

impl Event {
    pub fn account(&self) -> &str {
        match self {
            Event::NewMail(m) => &m.account,
            Event::Unread { account, .. }
            | Event::Seen { account, .. }
            | Event::State { account, .. } => account,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_the_documented_one() {
        let e = Event::NewMail(NewMail {
            account: "work".into(),
            folder: "INBOX".into(),
            uidvalidity: 7,
            uid: 42,
            from_name: "Ana".into(),
            from_address: "ana@example.com".into(),
            subject: "Hi".into(),
            date: String::new(),
            message_id: "m@x".into(),
            catch_up: false,
            unreadable: false,
            received_at: None,
            delay_ms: None,
        });
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"event":"new_mail","account":"work","folder":"INBOX","uidvalidity":7,"uid":42,"from_name":"Ana","from_address":"ana@example.com","subject":"Hi","date":"","message_id":"m@x","catch_up":false}"#
        );
        // With INTERNALDATE: the two fields at the end, as `docs/events.md` shows them.
        let Event::NewMail(mut m) = e else {
            unreachable!()
        };
        m.received_at = Some("2026-12-07T10:31:41Z".into());
        m.delay_ms = Some(612);
        assert_eq!(
            serde_json::to_string(&Event::NewMail(m)).unwrap(),
            r#"{"event":"new_mail","account":"work","folder":"INBOX","uidvalidity":7,"uid":42,"from_name":"Ana","from_address":"ana@example.com","subject":"Hi","date":"","message_id":"m@x","catch_up":false,"received_at":"2026-12-07T10:31:41Z","delay_ms":612}"#
        );
        let s = Event::State {
            account: "w".into(),
            state: State::AuthFailed,
            detail: None,
            problem: None,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"event":"state","account":"w","state":"auth_failed"}"#
        );
    }
}
