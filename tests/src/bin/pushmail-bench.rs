//! Pushmail's benchmark suite: every figure next to its baseline, measured in the same run on a
//! private Dovecot on loopback (ratios, not absolute times: these machines are shared and
//! noisy). Run it with `scripts/bench`, which installs what it needs, builds release binaries,
//! starts a private desktop (bus, dunst, keyring) for the tray and Mailnag, and publishes the
//! results in docs/benchmarks.md. See that file for what each figure means.
//!
//! ```text
//! pushmail-bench all [--quick] [--out DIR]   everything below; DIR gets results.json, report.md, summary.md
//! pushmail-bench latency [N]                 1. push latency vs a raw IDLE client (and tray, Mailnag)
//! pushmail-bench footprint [ACCOUNTS…]       2. idle RSS and CPU (6. start-up comes with it)
//! pushmail-bench burst [N]                   3. N messages at once
//! pushmail-bench bigbox [N…]                 4. big INBOXes
//! pushmail-bench wire [N]                    5. bytes per new message and per idle hour
//! pushmail-bench pop3 [--quick] [ACCOUNTS]   7. POP3: bytes per check, idle memory vs IMAP
//! pushmail-bench links [--quick] [N]         8. on emulated links (RTT 20/100/300 ms): added
//!                                               latency in round trips, count drop, bytes per
//!                                               flag change, connect → push round trips
//! pushmail-bench signin                      9. the tray's idle memory with one sign-in (OAuth2)
//!                                               account next to one password account
//! pushmail-bench relay [--quick]             the relay (release pushmail-relay, PostgreSQL 15,
//!                                               Dovecot, the Web Push receiver): memory per
//!                                               account, latency over the floor, failover after
//!                                               kill -9, outbox throughput
//! ```
//!
//! `PUSHMAIL_BENCH_IDLE_SECS` changes the 60 s idle window.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot run should stop loudly

#[path = "../bench/bigbox.rs"]
mod bigbox;
#[path = "../bench/burst.rs"]
mod burst;
#[path = "../bench/common.rs"]
mod common;
#[path = "../bench/desktop.rs"]
mod desktop;
#[path = "../bench/footprint.rs"]
mod footprint;
#[path = "../bench/latency.rs"]
mod latency;
#[path = "../bench/links.rs"]
mod links;
#[path = "../bench/pop3.rs"]
mod pop3;
#[path = "../bench/proxy.rs"]
mod proxy;
#[path = "../bench/relay.rs"]
mod relay;
#[path = "../bench/signin.rs"]
mod signin;
#[path = "../bench/wire.rs"]
mod wire;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Clock, verdict};
use crate::footprint::Footprint;

/// What became of one measurement: a figure, a reason it was not taken, or why it failed. A
/// failure is reported in the tables and the run goes on (the release profile aborts on panic,
/// so one broken client must not cost the other nineteen minutes of figures).
pub enum Outcome<T> {
    Done(T),
    Skipped(String),
    Failed(String),
}

impl<T> Outcome<T> {
    pub fn from_result(r: anyhow::Result<T>) -> Outcome<T> {
        match r {
            Ok(v) => Outcome::Done(v),
            Err(e) => {
                eprintln!("pushmail-bench: FAILED: {e:#}");
                Outcome::Failed(format!("{e:#}"))
            }
        }
    }

    /// Why there is no figure, for a table cell.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Done(_) => String::new(),
            Outcome::Skipped(why) => why.clone(),
            Outcome::Failed(why) => format!("failed: {}", footprint::short(why)),
        }
    }

    pub fn json(&self, f: impl Fn(&T) -> Value) -> Value {
        match self {
            Outcome::Done(v) => f(v),
            Outcome::Skipped(why) => json!({"skipped": why}),
            Outcome::Failed(why) => json!({"failed": why}),
        }
    }
}

fn idle_secs() -> u64 {
    std::env::var("PUSHMAIL_BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

fn numbers(args: &[String]) -> Vec<usize> {
    args.iter().filter_map(|n| n.parse().ok()).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or_default();
    let clock = Clock::new();
    match args.first().map(String::as_str) {
        Some("all") => all(rest, clock),
        Some("latency") => {
            let n = numbers(rest).first().copied().unwrap_or(200);
            let l = latency::run(
                latency::Counts {
                    cli: n,
                    tray: n,
                    mailnag: n,
                },
                clock,
            )
            .expect("latency");
            println!("{}", l.markdown());
        }
        Some("footprint") => {
            let counts = numbers(rest);
            let counts = if counts.is_empty() {
                vec![1, 100]
            } else {
                counts
            };
            let f = footprint_run(&counts, &[1, 100], false);
            println!("{}\n{}", f.0.markdown(), f.0.startup_markdown());
        }
        Some("burst") => {
            let n = numbers(rest).first().copied().unwrap_or(5000);
            println!("{}", burst::run(n, 200).markdown());
        }
        Some("bigbox") => {
            let sizes = numbers(rest);
            let sizes = if sizes.is_empty() {
                vec![1000, 100_000]
            } else {
                sizes
            };
            println!("{}", bigbox::run(&sizes).markdown());
        }
        Some("wire") => {
            let n = numbers(rest).first().copied().unwrap_or(50);
            let (f, idle) = footprint_run(&[], &[], true);
            let w = wire::Wire {
                per_message: wire::per_message(n),
                idle,
            };
            drop(f);
            println!("{}", w.markdown());
        }
        Some("pop3") => {
            let idle = Duration::from_secs(idle_secs());
            let mut plan = if rest.iter().any(|a| a == "--quick") {
                pop3::Plan::quick(idle)
            } else {
                pop3::Plan::full(idle)
            };
            if let Some(&n) = numbers(rest).first() {
                plan.accounts = n;
            }
            println!("{}", pop3::run(plan).markdown());
        }
        Some("links") => {
            let mut plan = if rest.iter().any(|a| a == "--quick") {
                links::Plan::quick()
            } else {
                links::Plan::full(100)
            };
            if let Some(&n) = numbers(rest).first() {
                plan.n = n;
            }
            let l = links::run(plan, clock).expect("links");
            let out = PathBuf::from("target/bench");
            let _ = std::fs::create_dir_all(&out);
            let _ = std::fs::write(
                out.join("links.json"),
                serde_json::to_string_pretty(&l.json()).unwrap(),
            );
            let mut report = String::from("| target | measured | |\n|---|---|---|\n");
            for (what, value, ok) in l.targets() {
                let _ = writeln!(report, "| {what} | {value} | {} |", verdict(ok));
            }
            println!("{report}\n{}", l.markdown());
        }
        Some("signin") => {
            let s = signin::run(Duration::from_secs(idle_secs()));
            let out = PathBuf::from("target/bench");
            let _ = std::fs::create_dir_all(&out);
            let _ = std::fs::write(
                out.join("signin.json"),
                serde_json::to_string_pretty(&s.json()).unwrap(),
            );
            println!("{}", s.markdown());
        }
        Some("relay") => relay_bench(rest, clock),
        _ => {
            eprintln!(
                "usage: pushmail-bench all [--quick] [--out DIR] | latency [N] | footprint [ACCOUNTS…] | burst [N] | bigbox [N…] | wire [N] | pop3 [--quick] [ACCOUNTS] | links [--quick] [N] | signin | relay [--quick]"
            );
            std::process::exit(2);
        }
    }
}

/// The relay benchmark on its own: target/bench/relay.json and relay.md, the report on stdout.
fn relay_bench(args: &[String], clock: Clock) {
    let quick = args.iter().any(|a| a == "--quick");
    let plan = if quick {
        relay::Plan::quick()
    } else {
        relay::Plan::full()
    };
    let m = machine();
    let relay_bin = relay::relay_binary();
    let (relay_version, built) = relay_bin
        .as_ref()
        .map(|p| {
            let age = std::fs::metadata(p)
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .map(|d| format!("built {} min before this run", d.as_secs() / 60))
                .unwrap_or_default();
            let built = if p.components().any(|c| c.as_os_str() == "debug") {
                format!("a DEBUG build, not comparable ({age})")
            } else {
                format!("release profile (`cargo build --release -p pushmail-relay`, {age})")
            };
            (cmd_out(&p.to_string_lossy(), &["--version"]), built)
        })
        .unwrap_or_else(|| ("?".into(), "not built".into()));
    let r = relay::run(plan, clock).expect("relay benchmark");
    let python = pushmail_tests::venv_python()
        .map(|p| cmd_out(&p.to_string_lossy(), &["--version"]))
        .unwrap_or_else(|_| "?".into());
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Run: {date}, `scripts/bench relay`{quick} ({secs:.0} s).\n\n\
         | | |\n|---|---|\n\
         | machine | {cpu}, {cores} cores (shared with other builds), {mem:.0} GB RAM |\n\
         | system | {os}, {kernel} |\n\
         | build | {relay_version}, {built}; checkout at the time of the run: {commit}; {rustc} |\n\
         | servers | {pg}, Dovecot {dovecot}, receiver {python} (tests/relay/receiver.py) |\n\
         | scheduling | nice {nice}; load average {load} at start, {load_end} at the end |\n",
        date = m["date"].as_str().unwrap_or("?"),
        quick = if quick { " --quick" } else { "" },
        secs = r.secs,
        cpu = m["cpu"].as_str().unwrap_or("?"),
        cores = m["cores"],
        mem = m["memory_gb"].as_f64().unwrap_or(f64::NAN),
        os = m["os"].as_str().unwrap_or("?"),
        kernel = m["kernel"].as_str().unwrap_or("?"),
        commit = m["commit"].as_str().unwrap_or("?"),
        rustc = m["rustc"].as_str().unwrap_or("?"),
        pg = cmd_out("/usr/lib/postgresql/15/bin/postgres", &["--version"]),
        dovecot = m["dovecot"].as_str().unwrap_or("?"),
        nice = m["nice"],
        load = m["load_at_start"].as_str().unwrap_or("?"),
        load_end = loadavg(),
    );
    report.push_str(&r.markdown());
    let out = PathBuf::from("target/bench");
    let _ = std::fs::create_dir_all(&out);
    let mut j = r.json();
    j["machine"] = m;
    let _ = std::fs::write(
        out.join("relay.json"),
        serde_json::to_string_pretty(&j).unwrap(),
    );
    let _ = std::fs::write(out.join("relay.md"), &report);
    println!("{report}");
}

/// Idle windows: small subjects (and, with `wire`, the idle wire-cost subjects) together, then
/// the 100-account ones, then the bigger ones.
fn footprint_run(
    counts: &[usize],
    tray_counts: &[usize],
    with_wire: bool,
) -> (Footprint, Outcome<wire::Idle>) {
    let idle = idle_secs();
    let (mut windows, skipped) = footprint::plan(counts, tray_counts);
    if with_wire {
        windows[0].extend(wire::idle_subjects());
    }
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for w in windows.into_iter().filter(|w| !w.is_empty()) {
        let (m, f) = footprint::window(w, Duration::from_secs(idle));
        rows.extend(m);
        failed.extend(f);
    }
    let wire_idle = if with_wire {
        Outcome::from_result(wire::idle_from(&rows))
    } else {
        Outcome::Skipped("not run".into())
    };
    // The wire subjects are not footprint rows.
    rows.retain(|m| !m.started.label.starts_with("wire-"));
    failed.retain(|(l, _)| !l.starts_with("wire-"));
    (
        Footprint {
            rows,
            failed,
            skipped,
            idle_secs: idle,
        },
        wire_idle,
    )
}

/// Output of a command, trimmed, or `?`.
fn cmd_out(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

/// This process's nice value (scripts/bench runs everything at -10 when it may).
fn own_nice() -> i64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.get(s.rfind(')')? + 2..)?.to_owned();
            after.split_whitespace().nth(16)?.parse().ok()
        })
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(f64::NAN);
    let cli = common::sibling_binary("pushmail-cli")
        .map(|p| cmd_out(&p.to_string_lossy(), &["--version"]))
        .unwrap_or_else(|| "?".into());
    let tray = desktop::tray_binary()
        .and_then(|p| std::fs::metadata(&p).ok()?.modified().ok())
        .map(|t| {
            let age = t.elapsed().map(|d| d.as_secs() / 60).unwrap_or(0);
            format!("built ({age} min before this run)")
        })
        .unwrap_or_else(|| "not built".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = root.to_string_lossy();
    let commit = cmd_out("git", &["-C", &root, "rev-parse", "--short", "HEAD"]);
    let dirty = cmd_out("git", &["-C", &root, "status", "--porcelain"]);
    json!({
        "date": cmd_out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "cpu": cpu, "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gb": mem_gb, "kernel": cmd_out("uname", &["-srm"]),
        "os": cmd_out("sh", &["-c", ". /etc/os-release && echo \"$PRETTY_NAME\""]),
        "rustc": cmd_out("rustc", &["--version"]),
        "dovecot": cmd_out("dovecot", &["--version"]),
        "mailnag": cmd_out("dpkg-query", &["-W", "-f=${Version}", "mailnag"]),
        "dunst": cmd_out("dpkg-query", &["-W", "-f=${Version}", "dunst"]),
        "pushmail_cli": cli, "tray": tray,
        "commit": if dirty == "?" { commit } else { format!("{commit} + uncommitted changes") },
        "load_at_start": loadavg(),
        "nice": own_nice(),
    })
}

fn all(args: &[String], clock: Clock) {
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench"));
    std::fs::create_dir_all(&out).expect("output directory");
    let started = Instant::now();
    let machine = machine();
    let mut sections_load = Vec::new();
    let mut section = |name: &str, t: Instant| {
        let line = format!(
            "{name}: {:.0} s, load average after it {}",
            t.elapsed().as_secs_f64(),
            loadavg()
        );
        eprintln!("== {line}");
        sections_load.push(line);
    };

    let counts = if quick {
        latency::Counts {
            cli: 20,
            tray: 10,
            mailnag: 10,
        }
    } else {
        latency::Counts {
            cli: 200,
            tray: 200,
            mailnag: std::env::var("PUSHMAIL_BENCH_MAILNAG_N")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(200),
        }
    };
    let t = Instant::now();
    let latency = latency::run(counts, clock).expect("latency benchmark");
    section("latency", t);

    let t = Instant::now();
    let accounts: &[usize] = if quick { &[1, 10] } else { &[1, 10, 100, 500] };
    let trays: &[usize] = if quick { &[1] } else { &[1, 100] };
    let (footprint, wire_idle) = footprint_run(accounts, trays, true);
    section("footprint + idle wire cost", t);

    let t = Instant::now();
    let burst = if quick {
        burst::run(500, 50)
    } else {
        burst::run(5000, 200)
    };
    section("burst", t);

    let t = Instant::now();
    let bigbox = bigbox::run(if quick {
        &[1000, 5000]
    } else {
        &[1000, 100_000]
    });
    section("big mailbox", t);

    let t = Instant::now();
    let wire = wire::Wire {
        per_message: wire::per_message(if quick { 5 } else { 50 }),
        idle: wire_idle,
    };
    section("wire per message", t);

    let t = Instant::now();
    let idle = Duration::from_secs(idle_secs());
    let pop3 = pop3::run(if quick {
        pop3::Plan::quick(idle)
    } else {
        pop3::Plan::full(idle)
    });
    section("POP3", t);

    let t = Instant::now();
    let links = Outcome::from_result(links::run(
        if quick {
            links::Plan::quick()
        } else {
            links::Plan::full(100)
        },
        clock,
    ));
    section("links", t);

    let t = Instant::now();
    let signin = signin::run(idle);
    section("sign-in account (tray)", t);
    let total = started.elapsed();

    // Targets first: the reader's first question is "does it do what it promised?".
    let mut targets = latency.targets();
    targets.extend(footprint.targets());
    targets.extend(burst.targets());
    targets.extend(bigbox.targets());
    targets.extend(wire.targets());
    if let Outcome::Done(l) = &links {
        targets.extend(l.targets());
    }
    targets.extend(signin.targets());

    let m = &machine;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Last full run: {date}, `scripts/bench`{quick} ({mins:.1} min).\n\n\
         | | |\n|---|---|\n\
         | machine | {cpu}, {cores} cores (shared with other builds), {mem:.0} GB RAM |\n\
         | system | {os}, {kernel} |\n\
         | versions | pushmail-cli {cli} ({commit}), {rustc}, Dovecot {dovecot}, Mailnag {mailnag}, dunst {dunst} |\n\
         | tray (`pushmail`) | {tray} |\n\
         | scheduling | every process of the run at nice {nice} (other work on the machine at 0) |\n\
         | load average (1/5/15 min) | {load} at start; {sections} |\n",
        date = m["date"].as_str().unwrap_or("?"),
        quick = if quick { " all --quick" } else { "" },
        mins = total.as_secs_f64() / 60.0,
        cpu = m["cpu"].as_str().unwrap_or("?"),
        cores = m["cores"],
        mem = m["memory_gb"].as_f64().unwrap_or(f64::NAN),
        os = m["os"].as_str().unwrap_or("?"),
        kernel = m["kernel"].as_str().unwrap_or("?"),
        cli = m["pushmail_cli"]
            .as_str()
            .unwrap_or("?")
            .trim_start_matches("pushmail-cli "),
        commit = m["commit"].as_str().unwrap_or("?"),
        rustc = m["rustc"].as_str().unwrap_or("?"),
        dovecot = m["dovecot"].as_str().unwrap_or("?"),
        mailnag = m["mailnag"].as_str().unwrap_or("?"),
        dunst = m["dunst"].as_str().unwrap_or("?"),
        tray = m["tray"].as_str().unwrap_or("?"),
        load = m["load_at_start"].as_str().unwrap_or("?"),
        nice = m["nice"],
        sections = sections_load.join("; "),
    );
    report.push_str("### Targets\n\n| target | measured | |\n|---|---|---|\n");
    for (what, value, ok) in &targets {
        let _ = writeln!(report, "| {what} | {value} | {} |", verdict(*ok));
    }
    report.push('\n');
    for part in [
        latency.markdown(),
        footprint.markdown(),
        burst.markdown(),
        bigbox.markdown(),
        wire.markdown(),
        footprint.startup_markdown(),
        pop3.markdown(),
        match &links {
            Outcome::Done(l) => format!("### 8. On real links: round trips\n\n{}", l.markdown()),
            other => format!("### 8. On real links: round trips\n\n{}\n", other.reason()),
        },
        signin.markdown(),
    ] {
        report.push_str(&part);
        report.push('\n');
    }

    let mut summary = String::from("| | Pushmail | Mailnag 2.2 |\n|---|---|---|\n");
    for line in [
        latency.summary_line(),
        footprint.summary_line(),
        wire.summary_line(),
        pop3.summary_line(),
        match &links {
            Outcome::Done(l) => l.summary_line(),
            _ => None,
        },
    ]
    .into_iter()
    .flatten()
    {
        summary.push_str(&line);
        summary.push('\n');
    }

    let results = json!({
        "machine": machine, "quick": quick, "minutes": total.as_secs_f64() / 60.0,
        "sections": sections_load,
        "latency": latency.json(), "footprint": footprint.json(), "burst": burst.json(),
        "bigbox": bigbox.json(), "wire": wire.json(), "pop3": pop3.json(),
        "links": links.json(links::Links::json), "signin": signin.json(),
        "targets": targets.iter().map(|(w, v, ok)| json!({"target": w, "measured": v, "met": ok})).collect::<Vec<_>>(),
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .expect("results.json");
    std::fs::write(out.join("report.md"), &report).expect("report.md");
    std::fs::write(out.join("summary.md"), &summary).expect("summary.md");
    println!("{report}");
    eprintln!("pushmail-bench: results in {}", out.display());
}
