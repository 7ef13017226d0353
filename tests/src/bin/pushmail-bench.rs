//! Pushmail's benchmarks, side by side with a baseline in the same run (ratios, not absolute
//! times: these machines are noisy). Run with `scripts/bench`; figures go to stdout as Markdown.
//!
//! - `latency N`: N deliveries to a private Dovecot; for each, when a raw IDLE client (the floor:
//!   Dovecot itself adds ~500 ms) saw `EXISTS` and when `pushmail-cli watch --json` printed the
//!   `new_mail` line. Pushmail's *added* latency is the difference, per delivery.
//! - `footprint N…`: resident memory and CPU time of one `pushmail-cli watch` idling with N
//!   accounts (one Dovecot user each), after every account reached push.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot run should stop loudly

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pushmail_tests::{Dovecot, DovecotOptions, RawImap, message};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("latency") => latency(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200)),
        Some("footprint") => {
            let counts: Vec<usize> = args[1..].iter().filter_map(|n| n.parse().ok()).collect();
            let idle = std::env::var("PUSHMAIL_BENCH_IDLE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
            footprint(if counts.is_empty() { vec![1, 100] } else { counts }, idle);
        }
        _ => {
            eprintln!("usage: pushmail-bench latency [N] | footprint [ACCOUNTS…]");
            std::process::exit(2);
        }
    }
}

fn cli_path() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let p = exe.parent().expect("dir").join("pushmail-cli");
    assert!(p.is_file(), "{} missing: build pushmail-cli in the same profile", p.display());
    p
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn config(&self, dc: &Dovecot, users: &[String]) -> PathBuf {
        let pw = self.dir.path().join("pw");
        std::fs::write(&pw, "benchpw\n").unwrap();
        let mut toml = String::new();
        for u in users {
            toml.push_str(&format!(
                "[[accounts]]\nid = \"{u}\"\nhost = \"{}\"\nport = {}\nsecurity = \"tls\"\nusername = \"{u}\"\npassword_command = [\"cat\", \"{}\"]\nca_file = \"{}\"\n\n",
                dc.host(),
                dc.imaps_port(),
                pw.display(),
                dc.ca_file().display()
            ));
        }
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, toml).unwrap();
        path
    }

    fn watch(&self, config: &Path) -> (Child, mpsc::Receiver<(Instant, serde_json::Value)>) {
        let mut child = Command::new(cli_path())
            .arg("--config")
            .arg(config)
            .args(["watch", "--json", "--state"])
            .arg(self.dir.path().join("state.sqlite3"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                if tx.send((Instant::now(), v)).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }
}

fn wait_push(rx: &mpsc::Receiver<(Instant, serde_json::Value)>, n: usize) -> Instant {
    let mut pushing = std::collections::HashSet::new();
    loop {
        let (at, v) = rx.recv_timeout(Duration::from_secs(60)).expect("accounts did not reach push");
        if v["event"] == "state" && v["state"] == "push" {
            pushing.insert(v["account"].as_str().unwrap().to_owned());
            if pushing.len() == n {
                return at;
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn summary(name: &str, mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!(
        "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
        percentile(&v, 0.5),
        percentile(&v, 0.9),
        percentile(&v, 0.99),
        v.last().copied().unwrap_or(f64::NAN)
    )
}

fn latency(n: usize) {
    let dc = Dovecot::start(DovecotOptions { users: vec![("bench".into(), "benchpw".into())], ..Default::default() }).unwrap();
    let scratch = Scratch { dir: tempfile::tempdir().unwrap() };
    let config = scratch.config(&dc, &["bench".to_owned()]);
    let (mut child, rx) = scratch.watch(&config);
    wait_push(&rx, 1);

    // The floor: a raw client idling on the same folder, re-entering IDLE after each EXISTS.
    let (floor_tx, floor_rx) = mpsc::channel();
    let mut floor = RawImap::connect_login(dc.host(), dc.imap_port(), "bench", "benchpw").unwrap();
    floor.select("INBOX").unwrap();
    std::thread::spawn(move || {
        loop {
            match floor.idle_until_exists(Duration::from_secs(30)) {
                Ok(Some(at)) => {
                    if floor_tx.send(at).is_err() {
                        break;
                    }
                }
                Ok(None) => {}
                Err(_) => break,
            }
        }
    });
    let mut sender = RawImap::connect_login(dc.host(), dc.imap_port(), "bench", "benchpw").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (mut floor_ms, mut pm_ms, mut added_ms) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let subject = format!("Latency {i}");
        let raw = message("Bench <bench@example.com>", "bench@example.org", &subject, "x");
        let t0 = Instant::now();
        sender.append("INBOX", &raw).unwrap();
        let floor_at = floor_rx.recv_timeout(Duration::from_secs(10)).expect("floor saw nothing");
        let pm_at = loop {
            let (at, v) = rx.recv_timeout(Duration::from_secs(10)).expect("pushmail saw nothing");
            if v["event"] == "new_mail" && v["subject"] == subject.as_str() {
                break at;
            }
        };
        floor_ms.push(floor_at.duration_since(t0).as_secs_f64() * 1e3);
        pm_ms.push(pm_at.duration_since(t0).as_secs_f64() * 1e3);
        added_ms.push(pm_at.saturating_duration_since(floor_at).as_secs_f64() * 1e3);
        // Let both clients settle back into IDLE before the next delivery.
        std::thread::sleep(Duration::from_millis(150));
        if (i + 1) % 50 == 0 {
            eprintln!("{} / {n} deliveries", i + 1);
        }
    }
    let _ = child.kill();
    println!("### Push latency, {n} deliveries (ms from APPEND)\n");
    println!("| client | p50 | p90 | p99 | max |\n|---|---|---|---|---|");
    println!("{}", summary("raw IDLE client (floor)", floor_ms));
    println!("{}", summary("`pushmail-cli watch --json`", pm_ms));
    println!("{}", summary("**added by Pushmail** (per delivery)", added_ms));
    std::io::stdout().flush().ok();
}

/// (RSS kB, utime+stime in clock ticks) of a process.
fn proc_usage(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (rss, ticks)
}

fn footprint(counts: Vec<usize>, idle_secs: u64) {
    #[allow(unsafe_code)]
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    println!("### Idle footprint of one `pushmail-cli watch` ({idle_secs} s idle after all accounts reached push)\n");
    println!("| accounts | RSS (MB) | CPU over the idle window (% of one core) | start → all in push (ms) |\n|---|---|---|---|");
    for n in counts {
        let users: Vec<String> = (0..n).map(|i| format!("user{i}")).collect();
        let dc = Dovecot::start(DovecotOptions {
            users: users.iter().map(|u| (u.clone(), "benchpw".to_owned())).collect(),
            ..Default::default()
        })
        .unwrap();
        let scratch = Scratch { dir: tempfile::tempdir().unwrap() };
        let config = scratch.config(&dc, &users);
        let started = Instant::now();
        let (mut child, rx) = scratch.watch(&config);
        let all = wait_push(&rx, n);
        let startup = all.duration_since(started).as_millis();
        std::thread::sleep(Duration::from_secs(2));
        let (_, t0) = proc_usage(child.id());
        std::thread::sleep(Duration::from_secs(idle_secs));
        let (rss, t1) = proc_usage(child.id());
        let cpu = (t1 - t0) as f64 / hz / idle_secs as f64 * 100.0;
        println!("| {n} | {:.1} | {cpu:.3} | {startup} |", rss as f64 / 1024.0);
        std::io::stdout().flush().ok();
        let _ = child.kill();
        let _ = child.wait();
    }
}
