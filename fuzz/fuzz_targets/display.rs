//! Hostile header bytes → the display pipeline, checking what it promises, not only that it
//! does not panic.
//!
//! Each input is used three ways: as already-decoded text (`from_utf8_lossy`, the way a
//! mail-parser string can hold anything), and as the value of a `Subject:` and of a `From:`
//! header run through `pushmail_core::mail::headers::decode`, so RFC 2047 encoded-words in every
//! charset reach the pipeline too. Seeds: `corpus/display/`. How to run: docs/security.md.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushmail_core::display::{
    self, ADDRESS_MAX_GRAPHEMES, MAX_CHARS_PER_GRAPHEME, MAX_MARKS_IN_A_ROW, NAME_MAX_GRAPHEMES,
    PDI, RLI, SUBJECT_MAX_GRAPHEMES,
};
use pushmail_core::mail::headers;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (max, strip) in [
        (SUBJECT_MAX_GRAPHEMES, false),
        (NAME_MAX_GRAPHEMES, true),
        (ADDRESS_MAX_GRAPHEMES, true),
        (1, false),
        (7, true),
    ] {
        let once = display::clean_text(&text, max, strip);
        check(&once, max);
        assert_eq!(
            display::clean_text(&once, max, strip),
            once,
            "not idempotent"
        );
    }
    check_fields(&text, &text);

    for name in ["Subject: ", "From: "] {
        let mut raw = name.as_bytes().to_vec();
        raw.extend_from_slice(data);
        let h = headers::decode(&raw);
        check_fields(&h.subject, &h.from_name);
        let _ = display::sender(&h.from_name, &h.from_address);
    }
});

/// `one` as a subject and as an address, `other` as a display name.
fn check_fields(one: &str, other: &str) {
    if let Some(shown) = display::subject(one) {
        assert!(!shown.is_empty());
        check(&shown, SUBJECT_MAX_GRAPHEMES);
        check_markup(&shown);
    }
    if let Some(shown) = display::sender(other, one) {
        assert!(!shown.chars().any(char::is_control));
        check_markup(&shown);
    }
}

/// What `clean_text` promises: no controls, only balanced unnested RLI…PDI, bounded and
/// NFC visible text without stray spaces, capped marks and graphemes.
fn check(out: &str, max: usize) {
    let mut open = false;
    let mut visible = String::with_capacity(out.len());
    for c in out.chars() {
        match c {
            RLI => {
                assert!(!open, "nested isolate: {out:?}");
                open = true;
            }
            PDI => {
                assert!(open, "PDI without RLI: {out:?}");
                open = false;
            }
            _ => {
                assert!(!c.is_control(), "control {c:?}: {out:?}");
                assert!(
                    !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'),
                    "bidi control {c:?}: {out:?}"
                );
                assert!(c == ' ' || !c.is_whitespace(), "whitespace {c:?}: {out:?}");
                visible.push(c);
            }
        }
    }
    assert!(!open, "unclosed isolate: {out:?}");
    assert!(visible.graphemes(true).count() <= max, "too long: {out:?}");
    assert!(
        visible
            .graphemes(true)
            .all(|g| g.chars().count() <= MAX_CHARS_PER_GRAPHEME),
        "grapheme too long: {out:?}"
    );
    assert!(!visible.starts_with(' ') && !visible.ends_with(' ') && !visible.contains("  "));
    assert!(unicode_normalization::is_nfc(&visible), "not NFC: {out:?}");
    let mut marks = 0;
    for c in visible.chars() {
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        assert!(marks <= MAX_MARKS_IN_A_ROW, "mark run: {out:?}");
    }
}

/// `escape_markup` leaves no raw markup character and every `&` starts an entity.
fn check_markup(s: &str) {
    let escaped = display::escape_markup(s);
    assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped:?}");
    for (at, _) in escaped.match_indices('&') {
        let rest = &escaped[at..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .iter()
                .any(|e| rest.starts_with(e)),
            "raw &: {escaped:?}"
        );
    }
}
