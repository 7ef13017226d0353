//! The first pass: everything that must not reach a screen is removed, every kind of line break
//! and blank becomes a plain space.
//!
//! This pass removes, it never reorders or adds: terminal escape sequences (a terminal running
//! `pushmail watch` would obey them), C0/C1 control characters and DEL, every explicit bidi
//! control (they are what `invoice\u{202E}fdp.exe` is made of), and invisible format characters
//! that let hostile text look like something else. The zero-width joiners are kept here because
//! whether they stay depends on their neighbours and on the field ([`super::joiners_and_marks`]).

/// ESCAPE: starts every 7-bit terminal control sequence (ECMA-48).
const ESC: char = '\u{1b}';
/// BELL: xterm accepts it as the end of an operating-system command (window titles, links).
const BEL: char = '\u{07}';
/// STRING TERMINATOR, the 8-bit form of `ESC \`.
const ST: char = '\u{9c}';
/// CONTROL SEQUENCE INTRODUCER, the 8-bit form of `ESC [`.
const CSI: char = '\u{9b}';

/// U+1F3F4 WAVING BLACK FLAG: the only character that tag characters may follow (subdivision
/// flags such as England's are the flag, tags spelling "gbeng", and CANCEL TAG).
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';
/// The longest tag spelling kept after [`BLACK_FLAG`]; the flags in use spell 5 or 6 letters
/// (ISO 3166-2 allows up to 3 after the 2-letter country).
const MAX_FLAG_TAGS: usize = 7;

/// Removes escape sequences, controls, bidi controls and invisible format characters, and turns
/// every whitespace or separator character into `' '` (runs are collapsed later, after the
/// joiners have been decided, so that removing one never leaves two spaces).
pub(super) fn strip(input: &str) -> String {
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::with_capacity(input.len());
    // Where the last string terminator is: a string command (ESC ] …) that starts after it cannot
    // be terminated, and is found so without scanning the rest again (no quadratic blow-up on
    // "ESC ] ESC ] ESC ] …").
    let last_terminator = chars
        .iter()
        .enumerate()
        .rev()
        .find(|&(i, &c)| is_terminator_at(&chars, i, c))
        .map(|(i, _)| i);

    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i = match c {
            ESC => skip_escape(&chars, i, last_terminator),
            CSI => skip_csi(&chars, i + 1),
            // DCS, SOS, OSC, PM, APC in their 8-bit forms.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => {
                skip_string(&chars, i + 1, last_terminator)
            }
            BLACK_FLAG => {
                out.push(c);
                keep_flag_tags(&chars, i + 1, &mut out)
            }
            _ => {
                if is_blank(c) {
                    out.push(' ');
                } else if !c.is_control() && !is_invisible(c) {
                    out.push(c);
                }
                i + 1
            }
        };
    }
    out
}

/// Whitespace of every kind (tabs, CR, LF, NEL, U+2028/U+2029, no-break and ideographic spaces)
/// and the information separators U+001C–U+001F, which bidi treats as paragraph and segment
/// breaks. A notification line has no use for any of them, and a wide run of them can push the
/// real text out of view.
fn is_blank(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Invisible characters that are always removed. The joiners U+200C/U+200D are not here (their
/// fate depends on the field), nor are variation selectors, the combining grapheme joiner and the
/// Mongolian free variation selectors, which are combining marks that change how a visible
/// character looks and are capped like other marks.
pub(super) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                      // SOFT HYPHEN
        | '\u{061C}'                    // ARABIC LETTER MARK
        | '\u{115F}' | '\u{1160}'       // HANGUL CHOSEONG/JUNGSEONG FILLER
        | '\u{17B4}' | '\u{17B5}'       // KHMER inherent vowels, invisible
        | '\u{180E}'                    // MONGOLIAN VOWEL SEPARATOR
        | '\u{200B}'                    // ZERO WIDTH SPACE
        | '\u{200E}' | '\u{200F}'       // LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
        | '\u{202A}'..='\u{202E}'       // embeddings and overrides
        | '\u{2060}'..='\u{2065}'       // WORD JOINER, invisible operators
        | '\u{2066}'..='\u{2069}'       // isolates (ours are added back at the end)
        | '\u{206A}'..='\u{206F}'       // deprecated format characters
        | '\u{3164}' | '\u{FFA0}'       // HANGUL FILLER, the "invisible name" trick
        | '\u{FEFF}'                    // ZERO WIDTH NO-BREAK SPACE / BOM
        | '\u{FFF0}'..='\u{FFFB}'       // interlinear annotation hides or shows text at will
        | '\u{1BCA0}'..='\u{1BCA3}'     // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'     // musical format controls
        | '\u{E0000}'..='\u{E00FF}'     // tags (kept only in a flag, see `keep_flag_tags`)
        | '\u{E01F0}'..='\u{E0FFF}'     // unassigned default-ignorable
    )
}

/// True where a string command (OSC, DCS, …) ends: BEL, ST, or `ESC \`.
fn is_terminator_at(chars: &[char], i: usize, c: char) -> bool {
    c == BEL || c == ST || (c == ESC && chars.get(i + 1) == Some(&'\\'))
}

/// `chars[i]` is ESC; returns where the text resumes.
fn skip_escape(chars: &[char], i: usize, last_terminator: Option<usize>) -> usize {
    match chars.get(i + 1).copied() {
        Some('[') => skip_csi(chars, i + 2),
        // OSC, DCS, SOS, PM, APC: a string up to its terminator.
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars, i + 2, last_terminator),
        // nF: intermediates, then one final byte (ESC ( B selects a character set).
        Some('\u{20}'..='\u{2f}') => {
            let mut j = i + 1;
            while chars
                .get(j)
                .is_some_and(|c| ('\u{20}'..='\u{2f}').contains(c))
            {
                j += 1;
            }
            if chars
                .get(j)
                .is_some_and(|c| ('\u{30}'..='\u{7e}').contains(c))
            {
                j += 1;
            }
            j
        }
        // Two-character sequences: ESC c (reset), ESC 7, ESC M, …
        Some('\u{30}'..='\u{7e}') => i + 2,
        // A lone ESC.
        _ => i + 1,
    }
}

/// After a CSI: parameter and intermediate bytes, then a final byte. Lenient like terminals:
/// parameters and intermediates in any order. An unfinished sequence ends at the first character
/// that cannot belong to it, which is kept.
fn skip_csi(chars: &[char], mut j: usize) -> usize {
    while chars
        .get(j)
        .is_some_and(|c| ('\u{20}'..='\u{3f}').contains(c))
    {
        j += 1;
    }
    if chars
        .get(j)
        .is_some_and(|c| ('\u{40}'..='\u{7e}').contains(c))
    {
        j += 1;
    }
    j
}

/// After a string introducer: everything up to and including the terminator. Without a
/// terminator only the introducer goes, and what follows is treated as text: this is a
/// notification, not a terminal, and "Re: ESC ] report" should still say "report".
fn skip_string(chars: &[char], start: usize, last_terminator: Option<usize>) -> usize {
    if last_terminator.is_none_or(|t| t < start) {
        return start;
    }
    let mut j = start;
    while let Some(&c) = chars.get(j) {
        if is_terminator_at(chars, j, c) {
            return if c == ESC { j + 2 } else { j + 1 };
        }
        j += 1;
    }
    j
}

/// After a [`BLACK_FLAG`]: keeps a well-formed tag spelling (1 to [`MAX_FLAG_TAGS`] tag letters
/// and CANCEL TAG) and returns where the text resumes. Tags anywhere else are invisible text
/// ("ASCII smuggling") and [`is_invisible`] removes them.
fn keep_flag_tags(chars: &[char], start: usize, out: &mut String) -> usize {
    let letters = chars
        .iter()
        .skip(start)
        .take_while(|c| ('\u{E0020}'..='\u{E007E}').contains(*c))
        .take(MAX_FLAG_TAGS + 1)
        .count();
    if (1..=MAX_FLAG_TAGS).contains(&letters) && chars.get(start + letters) == Some(&CANCEL_TAG) {
        out.extend(&chars[start..=start + letters]);
        start + letters + 1
    } else {
        start
    }
}
