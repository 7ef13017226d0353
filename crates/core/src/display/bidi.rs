//! Right-to-left runs, isolated so they cannot reorder the text around them.
//!
//! By the time text gets here every bidi control it came with is gone ([`super::strip`]), so the
//! only explicit controls in the result are the ones added here, always in balanced
//! RLI … PDI pairs, never nested. Without them an Arabic or Hebrew name pulls neighbouring
//! digits and punctuation into its own direction: `שלום 2 <a@b.c>` shows the "2" on the far
//! side of the Hebrew, and the `<` and `>` we put around the address can be mirrored.

use unicode_bidi::{BidiClass, bidi_class};
use unicode_segmentation::UnicodeSegmentation;

/// RIGHT-TO-LEFT ISOLATE: what follows, up to [`PDI`], is laid out right to left as a unit that
/// the surrounding text treats like one neutral character.
pub const RLI: char = '\u{2067}';
/// POP DIRECTIONAL ISOLATE: closes [`RLI`].
pub const PDI: char = '\u{2069}';

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ltr,
    Rtl,
    Neutral,
}

/// A grapheme's direction is that of its first strong character, so an isolate never separates
/// a letter from its marks.
fn direction(grapheme: &str) -> Direction {
    for c in grapheme.chars() {
        match bidi_class(c) {
            BidiClass::L => return Direction::Ltr,
            BidiClass::R | BidiClass::AL => return Direction::Rtl,
            _ => {}
        }
    }
    Direction::Neutral
}

/// Wraps every right-to-left run in RLI … PDI.
///
/// A run starts at the first right-to-left grapheme and ends with the last right-to-left
/// grapheme before the next left-to-right one; the neutrals and digits in between belong to it
/// (`שלום 123 עולם` is one run). A run that no left-to-right text follows extends to the end,
/// so trailing digits and punctuation stay with the right-to-left text they were written with
/// (`مرحبا 2024!`). Depends only on the text, so cleaning again puts the isolates in the same
/// places.
pub(super) fn isolate_rtl(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 6);
    let mut copied = 0;
    let mut run: Option<(usize, usize)> = None;
    for (at, g) in s.grapheme_indices(true) {
        match direction(g) {
            Direction::Rtl => {
                let start = run.map_or(at, |(start, _)| start);
                run = Some((start, at + g.len()));
            }
            Direction::Ltr => {
                if let Some((start, end)) = run.take() {
                    push_isolated(&mut out, s, copied, start, end);
                    copied = end;
                }
            }
            Direction::Neutral => {}
        }
    }
    match run {
        Some((start, _)) => push_isolated(&mut out, s, copied, start, s.len()),
        None => out.push_str(s.get(copied..).unwrap_or_default()),
    }
    out
}

fn push_isolated(out: &mut String, s: &str, from: usize, start: usize, end: usize) {
    out.push_str(s.get(from..start).unwrap_or_default());
    out.push(RLI);
    out.push_str(s.get(start..end).unwrap_or_default());
    out.push(PDI);
}
