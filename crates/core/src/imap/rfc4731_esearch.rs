//! Counting unread mail with ESEARCH (RFC 4731): the answer is a count and a sequence set,
//! not one number per unread message.
//!
//! `UID SEARCH UNSEEN` answers `* SEARCH 4 5 6 9 …`: with 20,000 unread, ~140 KB at every
//! re-count. `UID SEARCH RETURN (COUNT ALL) UNSEEN` answers
//! `* ESEARCH (TAG "A5") UID COUNT 4 ALL 4:6,9`: a run of unread mail (the usual shape: the
//! newest messages, or a folder nobody reads) is one range, so the answer stays a few dozen
//! bytes whatever the count, and is never longer than the plain list (a lone UID costs what
//! it costs there). It still names every unread UID, so the watcher keeps the complete set
//! and counts later flag changes from pushes without asking again; `RETURN (COUNT)` with a
//! second search over the announced UIDs would be as small for a scattered set, but would
//! leave the set incomplete and make every later flag change of an unlisted message cost a
//! re-count (see `docs/architecture.md`, measured on Dovecot).
//!
//! imap-proto 0.17 cannot parse `* ESEARCH` (async-imap would end the session on it), so the
//! byte layer takes it out of the stream before the parser ([`StatusTap::expect_esearch`],
//! `transport/framing.rs`), and it is read here. The command itself runs like every other
//! (`session::run`): bounded by `command_timeout`, counted only on its tagged `OK`, untagged
//! EXISTS/EXPUNGE/FETCH in between queued for the watcher as async-imap queues them.

use std::collections::HashSet;
use std::time::Duration;

use async_imap::Session;
use tracing::debug;

use super::session;
use super::transport::{MailStream, StatusTap};
use crate::error::{ConnectError, ProtoCause, Step};

/// The re-count: how many unread, and which, in one compact answer.
pub const UNSEEN: &str = "UID SEARCH RETURN (COUNT ALL) UNSEEN";

/// The most UIDs an answer may name. A plain `* SEARCH` within the framer's 4 MiB response
/// cap lists at most ~600,000 six-digit UIDs, so nothing a plain search could report is
/// refused; a range like `1:4294967295` from a broken or hostile server is, before any memory
/// is spent on it.
pub const MAX_MEMBERS: u64 = 1_000_000;

/// One `* ESEARCH` response, as far as Pushmail asks for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Esearch {
    /// The correlator: the tag of the command it answers.
    pub tag: Option<String>,
    /// The numbers are UIDs (the command was `UID SEARCH`).
    pub uid: bool,
    pub count: Option<u32>,
    pub min: Option<u32>,
    pub max: Option<u32>,
    /// `ALL`, as inclusive ranges in the server's order (absent when nothing matched).
    pub all: Option<Vec<(u32, u32)>>,
}

/// Runs [`UNSEEN`] on the selected folder: the UIDs of its unread messages (their number is the
/// set's size), as
/// `UID SEARCH UNSEEN` would give them. Errors are [`Step::CountingUnread`]'s: no tagged `OK`
/// within `limit` (as `session::run`), or an answer that is missing, unreadable, not in UIDs
/// or naming more than [`MAX_MEMBERS`] — [`ProtoCause::Unparsable`] with the line (capped) as
/// the words, never a silent zero.
pub async fn unseen(
    session: &mut Session<MailStream>,
    tap: &StatusTap,
    limit: Duration,
) -> Result<HashSet<u32>, ConnectError> {
    let capture = tap.expect_esearch();
    let fut = session.run_command_and_check_ok(UNSEEN);
    session::run(Step::CountingUnread, limit, tap, fut).await?;
    let (lines, tag) = capture.take();
    drop(capture);
    let unparsable = |words: &str| {
        ConnectError::protocol(ProtoCause::Unparsable)
            .with_words(crate::text::truncate_for_log(words))
            .at(Step::CountingUnread)
    };
    let answer = answer(&lines, tag.as_deref()).map_err(|e| unparsable(&e))?;
    let set = members(&answer).map_err(|e| unparsable(&e))?;
    // The count is the set's size: the set is what `UID SEARCH UNSEEN` would have listed, and
    // a `COUNT` that disagrees with it loses.
    if let Some(said) = answer
        .count
        .filter(|c| usize::try_from(*c).ok() != Some(set.len()))
    {
        debug!(
            "ESEARCH COUNT {said} disagrees with ALL ({} UIDs)",
            set.len()
        );
    }
    Ok(set)
}

/// The one answer to our command among the captured responses: its correlator names `tag`
/// (the tag of the tagged line that ended it), or it has none. Exactly one must be there.
pub fn answer(lines: &[Vec<u8>], tag: Option<&str>) -> Result<Esearch, String> {
    let mut found = None;
    for line in lines {
        let text = String::from_utf8_lossy(line);
        let parsed = parse(line).ok_or_else(|| format!("unreadable: {}", text.trim_end()))?;
        let ours = match (&parsed.tag, tag) {
            (Some(t), Some(ours)) => t == ours,
            _ => true,
        };
        if !ours {
            continue;
        }
        if found.is_some() {
            return Err(format!("a second ESEARCH answer: {}", text.trim_end()));
        }
        found = Some(parsed);
    }
    found.ok_or_else(|| "no ESEARCH answer to UID SEARCH RETURN".to_owned())
}

/// The UIDs `ALL` names (none when it is absent: nothing matched), refusing an answer in
/// message numbers or naming more than [`MAX_MEMBERS`].
pub fn members(answer: &Esearch) -> Result<HashSet<u32>, String> {
    if !answer.uid {
        return Err("ESEARCH answer without UID".to_owned());
    }
    let ranges = answer.all.as_deref().unwrap_or_default();
    let total: u64 = ranges
        .iter()
        .map(|&(a, b)| u64::from(a.abs_diff(b)) + 1)
        .sum();
    if total > MAX_MEMBERS {
        return Err(format!("ESEARCH ALL names {total} messages"));
    }
    let mut set = HashSet::with_capacity(usize::try_from(total).unwrap_or(0));
    for &(a, b) in ranges {
        set.extend(a.min(b)..=a.max(b));
    }
    Ok(set)
}

/// Reads `* ESEARCH [(TAG "x")] [UID] *(SP name SP value)` (RFC 4731 §3.1, CRLF optional).
/// Return data Pushmail does not ask for (`MODSEQ`, an extension's) is skipped: a value or a
/// parenthesised list. `None` for anything else, a literal included (no server sends its
/// correlator as one).
pub fn parse(line: &[u8]) -> Option<Esearch> {
    let text = std::str::from_utf8(line).ok()?;
    let text = text.strip_suffix("\r\n").unwrap_or(text);
    let rest = strip_prefix_ci(text, "* ESEARCH")?;
    let mut out = Esearch::default();
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix(" (") {
        let r = strip_prefix_ci(r, "TAG ")?;
        let (tag, r) = quoted(r)?;
        out.tag = Some(tag);
        rest = r.strip_prefix(')')?;
    }
    if let Some(r) = strip_prefix_ci(rest, " UID")
        && (r.is_empty() || r.starts_with(' '))
    {
        out.uid = true;
        rest = r;
    }
    while !rest.is_empty() {
        let r = rest.strip_prefix(' ')?;
        let (name, r) = r.split_once(' ')?;
        let (value, r) = value(r)?;
        match name.to_ascii_uppercase().as_str() {
            "COUNT" => out.count = Some(value.parse().ok()?),
            "MIN" => out.min = Some(value.parse().ok()?),
            "MAX" => out.max = Some(value.parse().ok()?),
            "ALL" => out.all = Some(sequence_set(value)?),
            _ => {}
        }
        rest = r;
    }
    Some(out)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A quoted string at the start of `s` (`\"` and `\\` escapes), and what follows it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 2..])),
            '\\' => out.push(chars.next()?.1),
            c => out.push(c),
        }
    }
    None
}

/// One return-data value: an atom up to the next space, or a balanced parenthesised list.
fn value(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('(') {
        let mut depth = 0u32;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some((&s[..=i], &s[i + 1..]));
                    }
                }
                '"' | '{' => return None,
                _ => {}
            }
        }
        return None;
    }
    let end = s.find(' ').unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

/// `4:6,9` → [(4, 6), (9, 9)]. Numbers only (an answer names messages, never `*`), non-zero.
fn sequence_set(s: &str) -> Option<Vec<(u32, u32)>> {
    let number = |n: &str| -> Option<u32> {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok().filter(|&n| n > 0)
    };
    s.split(',')
        .map(|item| match item.split_once(':') {
            Some((a, b)) => Some((number(a)?, number(b)?)),
            None => number(item).map(|n| (n, n)),
        })
        .collect()
}

#[cfg(test)]
mod tests;
