//! RFC 2971 `ID`: which program is at the other end, told to a server that asks for it.
//!
//! NetEase (163.com, 126.com, yeah.net; Coremail) refuses `SELECT` with `NO SELECT Unsafe
//! Login. Please contact kefu@188.com for help` until the client has sent `ID`. So every
//! session sends it right after login wherever the server advertises `ID` in the capabilities
//! valid after login — the watcher's, the account test's, the folder list's, mark-as-read's,
//! all of which log in through `transport::login` — and nowhere else.
//!
//! What it says: the program's name and version, nothing more. RFC 2971 lists fields such as
//! `os`, `os-version`, `command`, `arguments` and `environment`; none of them is sent, nor
//! anything else that could tell this user or machine from another Pushmail's (see
//! `docs/security.md`). Every Pushmail of one version sends the same bytes.
//!
//! What it costs: nothing. The command is owed, not asked ([`MailStream::owe`]): it leaves in
//! the same write as the session's next command (`SELECT`, `ENABLE`, `LIST`, or the whole
//! flight of `imap/one_flight.rs`), first, and its answer is skipped by the byte layer before
//! any parser sees it. The server answers in order, so `ID` has been taken before the `SELECT`
//! behind it is read. The answer is not ours to act on: `* ID (…)`, `* ID NIL`, or a `NO` or
//! `BAD` from a server that advertises `ID` and then refuses it, and the session goes on either
//! way (the tagged line is logged at debug). async-imap's `Session::id` would do the same in a
//! round trip of its own on every connect, Dovecot's included (Dovecot advertises `ID`).
//!
//! [`MailStream::owe`]: super::transport::MailStream::owe

use super::transport::has;

/// The `ID` command line: `ID ("name" "Pushmail" "version" "<version>")`. The version is the
/// crate's, a semantic version (digits, dots, perhaps a `-pre` suffix: nothing to quote).
pub fn command() -> String {
    format!(
        "ID (\"name\" \"Pushmail\" \"version\" \"{}\")",
        env!("CARGO_PKG_VERSION")
    )
}

/// The `ID` command a session with these capabilities (valid after login) owes the server:
/// [`command`] where `ID` is advertised, else nothing is ever sent.
pub fn owed(capabilities: &[String]) -> Option<String> {
    has(capabilities, "ID").then(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_version_only() {
        assert_eq!(
            command(),
            format!(
                "ID (\"name\" \"Pushmail\" \"version\" \"{}\")",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(
            env!("CARGO_PKG_VERSION")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')),
            "the version would need quoting"
        );
    }

    #[test]
    fn only_where_advertised() {
        let caps = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(owed(&caps(&["IMAP4REV1", "IDLE", "ID"])), Some(command()));
        assert_eq!(owed(&caps(&["IMAP4REV1", "IDLE"])), None);
        // Not a prefix match: `IDLE` is not `ID`.
        assert_eq!(owed(&caps(&["IDLE", "AUTH=ID"])), None);
    }
}
