//! Running helper programs with a deadline, and watching a process group through `/proc`.
//!
//! The workspace denies `unsafe`, so signals go through `/usr/bin/kill` instead of `libc::kill`;
//! one extra fork per stop is nothing next to Dovecot's own start-up.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How often we look at `/proc` or a child's exit status while waiting. Short enough that a stop
/// is not padded noticeably, long enough not to burn a core next to a parallel test run.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Runs `cmd` to completion and returns its output, killing it if it runs past `timeout`.
///
/// A hung `doveadm` or `openssl` must fail the test with a message, not hang `cargo test`
/// forever. Both pipes are drained on their own threads so a chatty child can't block on a full
/// pipe while we wait for it.
pub(crate) fn run(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("Cannot start {shown}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                // A read error only truncates what we show; the exit status still decides.
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );

    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("Waiting for {shown}"))?
        {
            break status;
        }
        if Instant::now() >= deadline {
            // Best effort: the error below is what matters.
            let _ = child.kill();
            let _ = child.wait();
            bail!("{shown} did not finish within {timeout:?}");
        }
        thread::sleep(POLL_INTERVAL);
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Like [`run`], but a non-zero exit is an error that carries the program's stderr.
pub(crate) fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let shown = format!("{cmd:?}");
    let out = run(cmd, timeout)?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(out)
}

/// Sends `signal` (a name such as `TERM` or `KILL`) to every process in group `pgid`.
///
/// Errors from `kill` are ignored on purpose: "no such process" is the normal outcome when the
/// group already died, and callers verify the result through [`live_members`] anyway.
pub(crate) fn signal_group(pgid: u32, signal: &str) {
    let _ = run(
        Command::new("kill")
            .arg("-s")
            .arg(signal)
            .arg("--")
            .arg(format!("-{pgid}")),
        Duration::from_secs(5),
    );
}

/// A process found in `/proc`.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The `comm` name, e.g. `imap`, `imap-login`, `auth`.
    pub name: String,
    /// The state letter from `/proc/PID/stat` (`R`, `S`, `Z`, …).
    pub state: char,
}

/// Processes of group `pgid` that still exist and are not zombies.
///
/// Zombies are left out on purpose: a killed Dovecot child is reparented to PID 1, which in a
/// container may never reap it, yet a zombie holds no socket and runs no code. `kill -0` would
/// call it alive, which is why the notes say to read `/proc`.
pub fn live_members(pgid: u32) -> Vec<ProcessInfo> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            // The process may vanish between read_dir and here; that just means "not a member".
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            let info = parse_stat(pid, &stat)?;
            (info.1 == pgid && info.0.state != 'Z' && info.0.state != 'X').then_some(info.0)
        })
        .collect()
}

/// Parses `/proc/PID/stat`; returns the process and its process group.
///
/// `comm` is in parentheses and may itself contain spaces and parentheses, so the fields are
/// counted from the *last* `)`.
fn parse_stat(pid: u32, stat: &str) -> Option<(ProcessInfo, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let _ppid = rest.next()?;
    let pgrp: u32 = rest.next()?.parse().ok()?;
    Some((ProcessInfo { pid, name, state }, pgrp))
}

/// Waits until group `pgid` has no live member; returns the stragglers if `timeout` ran out.
pub(crate) fn wait_group_gone(pgid: u32, timeout: Duration) -> Result<(), Vec<ProcessInfo>> {
    let deadline = Instant::now() + timeout;
    loop {
        let live = live_members(pgid);
        if live.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(live);
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// The effective uid of this process, read from `/proc` so no `unsafe` libc call is needed.
pub(crate) fn effective_uid() -> Result<u32> {
    use std::os::unix::fs::MetadataExt;
    Ok(fs::metadata("/proc/self")
        .context("Cannot stat /proc/self")?
        .uid())
}

/// The numeric id of group `name` from `/etc/group`.
pub(crate) fn group_id(name: &str) -> Result<u32> {
    let groups = fs::read_to_string("/etc/group").context("Cannot read /etc/group")?;
    groups
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let group = fields.next()?;
            let gid = fields.nth(1)?.parse().ok()?;
            (group == name).then_some(gid)
        })
        .next()
        .with_context(|| {
            format!("Group {name} is missing from /etc/group — is dovecot-core installed?")
        })
}

/// Finds `program` on `PATH` or in the sbin directories, which a non-login root shell (and
/// therefore `cargo test`) does not always have on `PATH`.
pub(crate) fn find_program(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"].map(Into::into))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_odd_comm_is_parsed_from_the_last_paren() {
        let stat = "4242 (imap (x) y) S 1 4200 4200 0 -1 4194560";
        let (info, pgrp) = parse_stat(4242, stat).unwrap_or_else(|| panic!("unparsed"));
        assert_eq!(info.name, "imap (x) y");
        assert_eq!(info.state, 'S');
        assert_eq!(pgrp, 4200);
    }

    #[test]
    fn own_group_is_seen_alive() {
        let pgid = fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(std::process::id(), &s))
            .map(|(_, g)| g)
            .unwrap_or_else(|| panic!("cannot read own stat"));
        assert!(
            live_members(pgid)
                .iter()
                .any(|p| p.pid == std::process::id())
        );
    }
}
