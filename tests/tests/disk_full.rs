//! Issue 16 §3: the state database on a full disk. Before, each reconnect's catch-up announced
//! the same message again because recording it had failed (7 times in 60 s), and the error did
//! not name the file. Now a message whose recording failed is not announced again, nothing is
//! announced that cannot be recorded, the account shows an error naming the database and
//! saying to free space, and it recovers by itself when space returns.
//!
//! The state directory is a real 512 KiB tmpfs (mounted as root, like the rest of the test run
//! needs), filled by a plain file while `pushmail-cli watch` runs against the scripted server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test panics to fail

mod common;
mod faults;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Pushmail, unique_id};
use faults::{assert_each_once, count_subject, scripted_account, wait_account_state, wait_detail};
use pushmail_tests::{Listen, Script, ScriptedServer};

const SHORT: Duration = Duration::from_secs(15);

/// A tmpfs mounted for one test, unmounted (lazily, so an open database cannot keep it) when
/// dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (scripts/test runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk {
            dir: dir.to_owned(),
        }
    }

    /// Writes a filler file until the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            if let Err(e) = f.write_all(&chunk) {
                assert_eq!(e.raw_os_error(), Some(28), "ENOSPC expected: {e}");
                break;
            }
        }
        // Whatever is left below one page goes too.
        while f.write_all(&[0u8]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

#[test]
fn a_full_disk_never_repeats_an_announcement_and_recovers_by_itself() {
    let server = ScriptedServer::start(Listen::Plain, |_| Script::serve()).unwrap();
    let pm = Pushmail::new();
    let disk = SmallDisk::mount(pm.state().parent().unwrap(), "512k");
    let id = unique_id("diskfull");
    pm.write_config(&[scripted_account(&pm, &id, server.port(), "plain", None, "")]);
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("Before full");
    w.wait_new_mail("Before full", SHORT);

    let filler = disk.fill();
    server.deliver("While full 1");
    let v = wait_detail(&mut w, &id, "cannot write the state database", SHORT);
    println!("{}", v["detail"]);
    assert_eq!(v["state"], "error", "{v}");
    let detail = v["detail"].as_str().unwrap();
    let db = pm.state();
    assert!(
        detail.contains(db.to_str().unwrap()),
        "names the file: {detail}"
    );
    assert!(detail.contains("the disk is full"), "{detail}");
    assert!(
        detail.contains("Free some space"),
        "says what to do: {detail}"
    );
    server.deliver("While full 2");
    // Several reconnects (backoff 1–2 s), each with a catch-up that finds both messages.
    let before = server.connections();
    assert!(faults::eventually(Duration::from_secs(20), || server
        .connections()
        >= before + 3));
    w.collect_for(Duration::from_millis(500));
    assert!(
        count_subject(&w, "While full 1") <= 1,
        "repeated: {:#?}",
        w.new_mails()
    );
    assert_eq!(
        count_subject(&w, "While full 2"),
        0,
        "announced what could not be recorded"
    );

    std::fs::remove_file(filler).unwrap();
    w.wait_new_mail("While full 2", SHORT);
    wait_account_state(&mut w, &id, "push", SHORT);
    w.collect_for(Duration::from_secs(1));
    assert_each_once(&w, &["Before full", "While full 1", "While full 2"]);
    assert!(w.stop(), "watch did not exit cleanly");

    // A restart announces none of them again: all three were recorded in the end.
    let mut w = pm.watch(&[]);
    wait_account_state(&mut w, &id, "push", SHORT);
    server.deliver("After restart");
    w.wait_new_mail("After restart", SHORT);
    w.collect_for(Duration::from_millis(500));
    assert_eq!(w.new_mails().len(), 1, "{:#?}", w.new_mails());
    assert!(w.stop(), "watch did not exit cleanly");
}
