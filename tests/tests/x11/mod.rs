//! The settings window as X11 sees it, on a test's private Xvfb: find it by title, check it is
//! mapped, read its pixels, and close it the way a window manager does (`WM_DELETE_WINDOW`).
//! Shared by `settings.rs` and `settings_e2e.rs`.
//!
//! Needs xwininfo (x11-utils), import (imagemagick) and python3-xlib (Debian's
//! /usr/bin/python3).
#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;
use std::process::Command;

/// The window's title in English (`settings-window-title`).
pub const TITLE: &str = "Pushmail Settings";
/// The sidebar's background colour (`--sidebar` in ui/src/styles.css): on screen only once the
/// web UI has loaded, run and laid out the settings (an empty web view is white).
pub const SIDEBAR_RGB: [u8; 3] = [0xee, 0xf0, 0xf3];
/// The page background (`--bg`): on screen once the stylesheet applies, also on the page that
/// explains a broken configuration (which has no sidebar).
pub const PAGE_RGB: [u8; 3] = [0xf6, 0xf7, 0xf9];

fn command(display: &str, program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("DISPLAY", display);
    cmd
}

/// Top-level windows titled `title`: `(id, width, height)` from `xwininfo -root -tree`.
pub fn windows(display: &str, title: &str) -> Vec<(String, u32, u32)> {
    let out = command(display, "xwininfo")
        .args(["-root", "-tree"])
        .output()
        .expect("xwininfo is missing: apt-get install x11-utils");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains(&format!("\"{title}\":")))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?.to_owned();
            let size = line.split(")  ").nth(1)?.split('+').next()?;
            let (w, h) = size.split_once('x')?;
            Some((id, w.trim().parse().ok()?, h.trim().parse().ok()?))
        })
        .collect()
}

pub fn is_viewable(display: &str, id: &str) -> bool {
    let out = command(display, "xwininfo")
        .args(["-id", id])
        .output()
        .expect("xwininfo");
    String::from_utf8_lossy(&out.stdout).contains("Map State: IsViewable")
}

/// The window's pixels as `(width, height, rgb bytes)`, via ImageMagick's `import`.
pub fn capture(display: &str, id: &str) -> Option<(usize, usize, Vec<u8>)> {
    let out = command(display, "import")
        .args(["-window", id, "-depth", "8", "ppm:-"])
        .output()
        .expect("import is missing: apt-get install imagemagick");
    parse_ppm(&out.stdout)
}

/// Saves the window as a PNG (for looking at a failure).
pub fn screenshot(display: &str, id: &str, path: &Path) {
    let _ = command(display, "import")
        .args(["-window", id])
        .arg(path)
        .status();
}

/// Sends `WM_DELETE_WINDOW`, exactly what a window manager sends when the user clicks ×.
pub fn close(display: &str, id: &str) {
    const SCRIPT: &str = r#"
import sys
from Xlib import X, display, protocol
d = display.Display()
w = d.create_resource_object("window", int(sys.argv[1], 16))
protocols = d.intern_atom("WM_PROTOCOLS")
delete = d.intern_atom("WM_DELETE_WINDOW")
assert delete in (w.get_wm_protocols() or []), "the window does not take WM_DELETE_WINDOW"
w.send_event(protocol.event.ClientMessage(window=w, client_type=protocols,
    data=(32, [delete, X.CurrentTime, 0, 0, 0])), event_mask=X.NoEventMask)
d.flush()
"#;
    let out = command(display, "/usr/bin/python3")
        .args(["-c", SCRIPT, id])
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "could not send WM_DELETE_WINDOW (apt-get install python3-xlib?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A binary PPM (`P6`, 8-bit) → `(width, height, rgb)`.
pub fn parse_ppm(bytes: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while bytes.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        let start = pos;
        while !bytes.get(pos)?.is_ascii_whitespace() {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..pos]).ok()?.to_owned());
    }
    let (w, h): (usize, usize) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    (fields[0] == "P6" && fields[3] == "255").then_some(())?;
    let pixels = bytes.get(pos + 1..pos + 1 + w * h * 3)?.to_vec();
    Some((w, h, pixels))
}

/// Whether `rgb` covers a real area (at least 10,000 pixels, e.g. the 220 × 640 sidebar), not
/// just a few anti-aliased glyph edges that happen to blend to that exact colour.
pub fn has_color(pixels: &[u8], rgb: [u8; 3]) -> bool {
    pixels.chunks_exact(3).filter(|p| *p == rgb).count() >= 10_000
}

/// The one mapped window titled [`TITLE`] showing `rgb` over a real area (proof that the UI
/// rendered, not just that a window exists): its id and size, or `None` if not (yet).
pub fn rendered_window(display: &str, rgb: [u8; 3]) -> Option<(String, u32, u32)> {
    let (id, w, h) = windows(display, TITLE).into_iter().next()?;
    if !is_viewable(display, &id) {
        return None;
    }
    let (_, _, pixels) = capture(display, &id)?;
    has_color(&pixels, rgb).then_some((id, w, h))
}
