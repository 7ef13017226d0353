//! The one way a sender or a subject reaches a screen: notifications, the tray, the settings
//! window and the CLI.
//!
//! Every byte of a header was chosen by whoever sent the mail, so it is cleaned before anyone
//! sees it. In order ([`clean_text`]):
//!
//! 1. **NFC**, so that "é" typed two ways is one string and marks are counted once.
//! 2. **Strip** (`strip.rs`): terminal escape sequences (`ESC [ … final`, `ESC ] … BEL/ST`, their
//!    8-bit forms, lone ESC), C0/C1 controls and DEL, *every* bidi control the text came with
//!    (embeddings, overrides, isolates, LRM/RLM/ALM), and invisible format characters (zero-width
//!    space, word joiner, BOM, soft hyphen, Mongolian vowel separator, Hangul fillers, tags).
//!    CR, LF, TAB, NEL, U+2028/U+2029 and every other kind of space become one space.
//! 3. **Joiners, spaces and marks** (`joiners_and_marks`): ZWJ/ZWNJ go from names, and from
//!    subjects unless they sit between two visible characters (the ZWJs of an emoji family,
//!    the ZWNJ of Persian "mi<ZWNJ>khaham"); runs of spaces collapse; a letter keeps at most
//!    [`MAX_MARKS_IN_A_ROW`] combining marks, so 10 000 marks of "zalgo" text cannot draw over
//!    the rest of the screen.
//! 4. **NFC again**: removing a character between a letter and a mark can leave them
//!    composable; the output is always NFC, and so cleaning twice changes nothing.
//! 5. **Trim, then truncate** on grapheme boundaries with "…", the ellipsis counting towards the
//!    limit. A grapheme longer than [`MAX_CHARS_PER_GRAPHEME`] characters (an endless emoji ZWJ
//!    chain or jamo sequence, which would be *one* grapheme) becomes U+FFFD.
//! 6. **Isolate right-to-left runs** in RLI … PDI (`bidi.rs`). This comes last so a cut can
//!    never split an isolate and the isolates never count towards the limit.
//!
//! [`sender`] and [`subject`] add the field rules; [`escape_markup`] is separate because only a
//! freedesktop notification *body* is markup — a summary, the tray tooltip and the web UI
//! (`textContent`) must get the text unescaped, or users see `&amp;`.
//!
//! Not done here, on purpose: NFKC or confusable folding (it rewrites legitimate text: "ﬁ",
//! "²", fullwidth CJK forms). Look-alike letters in a name are answered by always showing the
//! real address next to it.

mod bidi;
mod sender;
mod strip;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

pub use bidi::{PDI, RLI};

/// Graphemes of a subject, "…" included. A notification shows two or three lines; 200 is more
/// than any popup shows and keeps the tray menu and the event stream small.
pub const SUBJECT_MAX_GRAPHEMES: usize = 200;
/// Graphemes of a display name, "…" included. Long enough for any real name with a company
/// ("Ana María Pérez García — Servicio de Atención al Cliente"), short enough that the address
/// shown next to it stays in view.
pub const NAME_MAX_GRAPHEMES: usize = 64;
/// Graphemes of an address. RFC 5321 caps a path at 256 octets, so a real address is never cut;
/// a longer one is cut at its *start*, keeping the domain, which is the part that says who sent
/// it (`…aaaaaa@evil.example`, never `support@paypal.com.aaaa…`).
pub const ADDRESS_MAX_GRAPHEMES: usize = 254;
/// Combining marks kept in a row after a letter. Real orthographies stack fewer (Vietnamese 2,
/// pointed Hebrew with cantillation about 4, Sanskrit in Tibetan script about 6); "zalgo" text
/// stacks hundreds, and each one draws higher above the line.
pub const MAX_MARKS_IN_A_ROW: usize = 8;
/// Characters in one grapheme. The longest in real use are emoji ZWJ sequences with skin tones
/// (about 10) and subdivision flags (8); a longer one (an endless ZWJ chain is a single
/// grapheme) is replaced by U+FFFD.
pub const MAX_CHARS_PER_GRAPHEME: usize = 32;

/// English placeholder for [`subject`] returning `None`; a front end with translations uses its own.
pub const NO_SUBJECT: &str = "(no subject)";
/// English placeholder for [`sender`] returning `None`; a front end with translations uses its own.
pub const UNKNOWN_SENDER: &str = "(unknown sender)";

const ELLIPSIS: char = '…';
const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// Cleans one untrusted field for display: all steps of the pipeline (see the module docs) but
/// the sender format, the placeholder and markup escaping.
///
/// The result has at most `max_graphemes` graphemes (not counting the RLI/PDI pairs it adds),
/// contains no control character, no bidi control but balanced, unnested RLI … PDI pairs, no
/// leading, trailing or double space, and is NFC. `strip_zero_width` removes ZWJ and ZWNJ
/// everywhere (names); without it they stay between two visible characters (subjects).
/// Cleaning a cleaned string with the same arguments returns it unchanged.
pub fn clean_text(s: &str, max_graphemes: usize, strip_zero_width: bool) -> String {
    bidi::isolate_rtl(&plain(s, max_graphemes, strip_zero_width, Keep::Start))
}

/// The subject line to show, or `None` when nothing visible is left: the caller shows its own
/// (translated) placeholder, such as [`NO_SUBJECT`].
pub fn subject(raw: &str) -> Option<String> {
    let shown = clean_text(raw, SUBJECT_MAX_GRAPHEMES, false);
    (!shown.is_empty()).then_some(shown)
}

/// The sender to show, or `None` when neither a name nor an address is left: the caller shows its
/// own (translated) placeholder, such as [`UNKNOWN_SENDER`].
///
/// The real address is always shown when there is one, because the name is free text:
/// - `Ana Pérez <ana@example.com>` for an ordinary name;
/// - `evil@x.ru ("paypal@paypal.com")` — address first, name after it in quotes — when the name
///   contains an "@" (any form) or a domain-like word other than the address's own domain;
/// - `ana@example.com` when the name is the address itself, or there is no name;
/// - the name alone when the header had no parsable address.
pub fn sender(name: &str, address: &str) -> Option<String> {
    let name = plain(name, NAME_MAX_GRAPHEMES, true, Keep::Start);
    let address = plain(address, ADDRESS_MAX_GRAPHEMES, true, Keep::End);
    let shown = match (name.is_empty(), address.is_empty()) {
        (true, true) => return None,
        (true, false) => bidi::isolate_rtl(&address),
        (false, true) => bidi::isolate_rtl(&name),
        (false, false) if sender::is_same_as_address(&name, &address) => {
            bidi::isolate_rtl(&address)
        }
        (false, false) if sender::looks_like_address(&name, &address) => format!(
            "{} (\"{}\")",
            bidi::isolate_rtl(&address),
            bidi::isolate_rtl(&name)
        ),
        (false, false) => format!(
            "{} <{}>",
            bidi::isolate_rtl(&name),
            bidi::isolate_rtl(&address)
        ),
    };
    Some(shown)
}

/// Escapes `&`, `<`, `>`, `"` and `'` as entities, for the one place that parses markup: the body
/// of a freedesktop notification (the Desktop Notifications spec's `body-markup`, a subset of
/// XML that GNOME, KDE and dunst parse). Without it `<b>x</b>` is bold, `<img src=x>` may load,
/// and a stray `&` or `<` makes some servers drop the whole body. Apply it last, after
/// [`sender`]/[`subject`], and nowhere else: the summary line is plain text.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Numeric, like g_markup_escape_text: `&apos;` is XML but not HTML 4, and KDE's
            // notification server renders a subset of HTML.
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Which end of an over-long field survives the cut.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Names and subjects are read from their start.
    Start,
    /// Addresses: the domain, at the end, is what identifies the sender.
    End,
}

/// Steps 1–5: everything but the isolates.
fn plain(s: &str, max_graphemes: usize, strip_zero_width: bool, keep: Keep) -> String {
    let nfc: String = s.nfc().collect();
    let stripped = strip::strip(&nfc);
    let joined = joiners_and_marks(&stripped, strip_zero_width);
    let nfc: String = joined.nfc().collect();
    fit(&nfc, max_graphemes, keep)
}

/// Decides the joiners, collapses spaces (dropping leading ones) and caps combining marks.
///
/// A ZWJ/ZWNJ is kept only when `strip_joiners` is false and it stands between two characters
/// that are neither a space nor a joiner: between the emoji of a family, in Persian between
/// letters that must not join, in Indic scripts after a virama. Elsewhere it does nothing
/// visible and only makes two strings that look equal differ. State only changes when a
/// character is kept, so removing one never lets two runs merge into one that is too long.
fn joiners_and_marks(s: &str, strip_joiners: bool) -> String {
    let is_joiner = |c: char| c == ZWJ || c == ZWNJ;
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut last: Option<char> = None;
    let mut marks = 0;
    for (i, &c) in chars.iter().enumerate() {
        let keep = if c == ' ' {
            last.is_some_and(|l| l != ' ')
        } else if is_joiner(c) {
            !strip_joiners
                && last.is_some_and(|l| l != ' ' && !is_joiner(l))
                && chars.get(i + 1).is_some_and(|&n| n != ' ' && !is_joiner(n))
        } else if is_combining_mark(c) {
            marks < MAX_MARKS_IN_A_ROW
        } else {
            true
        };
        if keep {
            marks = if is_combining_mark(c) { marks + 1 } else { 0 };
            last = Some(c);
            out.push(c);
        }
    }
    out
}

/// Trims, replaces over-long graphemes with U+FFFD and cuts to `max_graphemes`, "…" included.
fn fit(s: &str, max_graphemes: usize, keep: Keep) -> String {
    let s = s.trim_matches(' ');
    if max_graphemes == 0 {
        return String::new();
    }
    let mut graphemes: Vec<&str> = Vec::new();
    for g in s.graphemes(true) {
        let too_long = g.chars().nth(MAX_CHARS_PER_GRAPHEME).is_some();
        graphemes.push(if too_long { "\u{FFFD}" } else { g });
        // Addresses need their tail; names and subjects can stop reading once over the limit.
        if keep == Keep::Start && graphemes.len() > max_graphemes {
            break;
        }
    }
    if graphemes.len() <= max_graphemes {
        return graphemes.concat();
    }
    // Here graphemes.len() > max_graphemes >= 1: room for max_graphemes - 1 and the ellipsis.
    let kept = max_graphemes - 1;
    let mut out = String::with_capacity(s.len());
    match keep {
        Keep::Start => {
            out.push_str(graphemes[..kept].concat().trim_end_matches(' '));
            out.push(ELLIPSIS);
        }
        Keep::End => {
            out.push(ELLIPSIS);
            out.push_str(
                graphemes[graphemes.len() - kept..]
                    .concat()
                    .trim_start_matches(' '),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests;
