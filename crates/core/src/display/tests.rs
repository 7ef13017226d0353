//! Real attack strings in tables, and property tests over hostile random text.

use proptest::prelude::*;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

use super::*;

const S: usize = SUBJECT_MAX_GRAPHEMES;

/// The visible text: what is left without the isolates this module adds.
fn visible(s: &str) -> String {
    s.chars().filter(|&c| c != RLI && c != PDI).collect()
}

fn rtl(s: &str) -> String {
    format!("{RLI}{s}{PDI}")
}

/// Everything [`clean_text`] promises, checked on one output.
fn assert_clean(out: &str, max: usize) {
    let mut depth = 0;
    let mut in_flag = false;
    for c in out.chars() {
        // Tag characters only in a subdivision flag: WAVING BLACK FLAG, tag letters, CANCEL TAG.
        let is_tag = ('\u{E0000}'..='\u{E00FF}').contains(&c);
        assert!(!is_tag || in_flag, "tag {c:?} outside a flag in {out:?}");
        in_flag = c == '\u{1F3F4}' || (is_tag && c != '\u{E007F}');
        match c {
            RLI => {
                assert_eq!(depth, 0, "nested isolate in {out:?}");
                depth += 1;
            }
            PDI => {
                assert_eq!(depth, 1, "PDI without RLI in {out:?}");
                depth -= 1;
            }
            _ => {
                assert!(!c.is_control(), "control {c:?} in {out:?}");
                assert!(
                    is_tag || !strip::is_invisible(c),
                    "invisible {c:?} in {out:?}"
                );
                assert!(c == ' ' || !c.is_whitespace(), "blank {c:?} in {out:?}");
            }
        }
    }
    assert_eq!(depth, 0, "unclosed isolate in {out:?}");
    let text = visible(out);
    assert!(text.graphemes(true).count() <= max, "{out:?} over {max}");
    assert!(
        text.graphemes(true)
            .all(|g| g.chars().count() <= MAX_CHARS_PER_GRAPHEME),
        "grapheme too long in {out:?}"
    );
    assert!(!text.starts_with(' ') && !text.ends_with(' ') && !text.contains("  "));
    assert!(unicode_normalization::is_nfc(&text), "not NFC: {out:?}");
    let mut marks = 0;
    for c in text.chars() {
        marks = if is_combining_mark(c) { marks + 1 } else { 0 };
        assert!(marks <= MAX_MARKS_IN_A_ROW, "mark run in {out:?}");
    }
}

#[test]
fn display_table_of_attacks() {
    let zalgo = format!("Z{}", "\u{336}".repeat(10_000));
    let zalgo_out = format!("Z{}", "\u{336}".repeat(MAX_MARKS_IN_A_ROW));
    let zwj_chain = format!("{}👨", "👨\u{200D}".repeat(100));
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, String)> = vec![
        // (what, input, subject output)
        ("RLO filename", "invoice\u{202E}fdp.exe", "invoicefdp.exe".into()),
        ("RLO at start", "\u{202E}gnp.exe.scr", "gnp.exe.scr".into()),
        ("every embedding and override", "a\u{202A}b\u{202B}c\u{202C}d\u{202D}e", "abcde".into()),
        ("input PDI cannot close our isolate", "שלום\u{2069} evil", format!("{} evil", rtl("שלום"))),
        ("input RLI left open", "\u{2067}abc", "abc".into()),
        ("LRM RLM ALM", "a\u{200E}b\u{200F}c\u{61C}d", "abcd".into()),
        ("ANSI colour", "\x1b[31mRED\x1b[0m alert", "RED alert".into()),
        ("ANSI clear screen", "\x1b[2J\x1b[HFake prompt$ ", "Fake prompt$".into()),
        ("OSC title with BEL", "\x1b]0;pwned\x07Hello", "Hello".into()),
        ("OSC 8 hyperlink", "\x1b]8;;http://evil.example/\x1b\\Click\x1b]8;;\x1b\\ me", "Click me".into()),
        ("8-bit CSI", "\u{9b}31mX", "X".into()),
        ("8-bit OSC and ST", "\u{9d}0;t\u{9c}ok", "ok".into()),
        ("unterminated OSC keeps text", "Re: \x1b]report", "Re: report".into()),
        ("lone ESC", "a\x1b", "a".into()),
        ("charset designation", "\x1b(Bplain", "plain".into()),
        ("CRLF header injection", "Hello\r\nBcc: victim@example.com", "Hello Bcc: victim@example.com".into()),
        ("folded header", "Long\r\n\tsubject", "Long subject".into()),
        ("line separators", "a\u{2028}b\u{2029}c\u{85}d\x0be\x0cf", "a b c d e f".into()),
        ("wide spaces", "  lots \u{3000}\u{3000} of\t\t\u{a0}space  ", "lots of space".into()),
        ("NUL DEL C1", "a\0b\x7fc\u{80}d\u{9f}e", "abcde".into()),
        ("information separators", "a\x1cb\x1fc", "a b c".into()),
        ("zalgo", &zalgo, zalgo_out.clone()),
        ("NFC", "Cafe\u{301}", "Café".into()),
        ("control between letter and mark", "e\x01\u{301}", "é".into()),
        ("emoji ZWJ family", "Family 👨\u{200D}👩\u{200D}👧\u{200D}👦!", "Family 👨\u{200D}👩\u{200D}👧\u{200D}👦!".into()),
        ("kiss with skin tones", "👩🏽\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨🏿", "👩🏽\u{200D}❤\u{FE0F}\u{200D}💋\u{200D}👨🏿".into()),
        ("endless ZWJ chain is one grapheme", &zwj_chain, "\u{FFFD}".into()),
        ("stray joiners", "\u{200D}a \u{200C}b\u{200D}", "a b".into()),
        ("zero width space", "pay\u{200B}pal\u{FEFF}\u{2060}\u{AD}\u{180E}", "paypal".into()),
        ("subdivision flag", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}", "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}".into()),
        ("tag smuggling", "hi\u{E0041}\u{E0042}\u{E007F}", "hi".into()),
        ("Hangul filler", "\u{3164}\u{3164}", "".into()),
        ("Hebrew in Latin", "Re: שלום world", format!("Re: {} world", rtl("שלום"))),
        ("Hebrew with digits inside", "שלום 123 עולם", rtl("שלום 123 עולם")),
        ("trailing digits stay with Arabic", "مرحبا 2024!", rtl("مرحبا 2024!")),
        ("Hebrew points stay with letters", "a בְּ b", format!("a {} b", rtl("בְּ"))),
        ("Persian ZWNJ kept in subjects", "می\u{200C}خواهم", rtl("می\u{200C}خواهم")),
        ("markup is not escaped here", "<b>x</b> & y", "<b>x</b> & y".into()),
    ];
    for (what, input, want) in cases {
        let got = clean_text(input, S, false);
        assert_eq!(got, want, "{what}");
        assert_clean(&got, S);
        assert_eq!(clean_text(&got, S, false), got, "{what}: not stable");
    }
}

#[test]
fn display_names_lose_every_joiner() {
    assert_eq!(
        clean_text("👨\u{200D}👩\u{200D}👧", NAME_MAX_GRAPHEMES, true),
        "👨👩👧"
    );
    assert_eq!(
        clean_text("می\u{200C}خواهم", NAME_MAX_GRAPHEMES, true),
        rtl("میخواهم")
    );
    assert_eq!(clean_text("An\u{200D}a", NAME_MAX_GRAPHEMES, true), "Ana");
}

#[test]
fn display_truncates_on_grapheme_boundaries() {
    let long = "a".repeat(300);
    let got = clean_text(&long, S, false);
    assert_eq!(got, format!("{}…", "a".repeat(S - 1)));

    let family = "👨\u{200D}👩\u{200D}👧\u{200D}👦";
    let got = clean_text(&family.repeat(300), S, false);
    assert_eq!(got, format!("{}…", family.repeat(S - 1)));

    let got = clean_text("one two three", 5, false);
    assert_eq!(got, "one…", "no space before the ellipsis");
    assert_eq!(clean_text("abc", 0, false), "");
    assert_eq!(clean_text("abc", 1, false), "…");
    assert_eq!(clean_text("abc", 3, false), "abc");

    // A cut right-to-left run keeps its ellipsis inside the isolate, at its logical end.
    let got = clean_text(&"ש".repeat(300), 10, false);
    assert_eq!(got, rtl(&format!("{}…", "ש".repeat(9))));
}

#[test]
fn display_subject_placeholder_is_the_callers() {
    assert_eq!(subject(""), None);
    assert_eq!(subject(" \r\n\t "), None);
    assert_eq!(subject("\u{200B}\u{202E}\x1b[0m"), None);
    assert_eq!(subject("Hi"), Some("Hi".to_owned()));
    assert_eq!(
        subject("").unwrap_or_else(|| NO_SUBJECT.into()),
        "(no subject)"
    );
}

#[test]
fn display_sender_table() {
    let long_local = format!("{}@evil.example", "a".repeat(300));
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, &str, Option<String>)> = vec![
        ("ordinary", "Ana Pérez", "ana@example.com", Some("Ana Pérez <ana@example.com>".into())),
        ("name is another address", "paypal@paypal.com", "evil@x.ru", Some("evil@x.ru (\"paypal@paypal.com\")".into())),
        ("fullwidth at", "paypal\u{FF20}paypal.com", "evil@x.ru", Some("evil@x.ru (\"paypal\u{FF20}paypal.com\")".into())),
        ("name is a foreign domain", "PayPal.com Security", "evil@x.ru", Some("evil@x.ru (\"PayPal.com Security\")".into())),
        ("ideographic dot", "paypal\u{3002}com", "evil@x.ru", Some("evil@x.ru (\"paypal\u{3002}com\")".into())),
        ("name is its own domain", "Booking.com", "noreply@mail.booking.com", Some("Booking.com <noreply@mail.booking.com>".into())),
        ("initials are not a domain", "J. R. R. Tolkien", "jrr@example.com", Some("J. R. R. Tolkien <jrr@example.com>".into())),
        ("name is the address", "\"ANA@example.com\"", "ana@example.com", Some("ana@example.com".into())),
        ("no name", "", "ana@example.com", Some("ana@example.com".into())),
        ("no address", "Ana", "", Some("Ana".into())),
        ("nothing", "", "", None),
        ("nothing visible", "\u{200B}\u{202E}\u{3164}", " \r\n", None),
        ("Hebrew name", "שלום כהן", "shalom@example.com", Some(format!("{} <shalom@example.com>", rtl("שלום כהן")))),
        ("Arabic name with a digit", "محمد 2", "m@example.com", Some(format!("{} <m@example.com>", rtl("محمد 2")))),
        ("RLO in a name", "\u{202E}moc.lapyap", "evil@x.ru", Some("evil@x.ru (\"moc.lapyap\")".into())),
        ("injection in a name", "Support\r\nReply-To: x", "s@example.com", Some("Support Reply-To: x <s@example.com>".into())),
        ("emoji family in a name", "👨\u{200D}👩", "f@example.com", Some("👨👩 <f@example.com>".into())),
        ("address cut keeps its domain", "", &long_local, Some(format!("…{}@evil.example", "a".repeat(ADDRESS_MAX_GRAPHEMES - 14)))),
    ];
    for (what, name, address, want) in cases {
        assert_eq!(sender(name, address), want, "{what}");
    }
    assert_eq!(
        sender("", "").unwrap_or_else(|| UNKNOWN_SENDER.into()),
        "(unknown sender)"
    );
}

#[test]
fn display_escape_markup() {
    assert_eq!(
        escape_markup("<b>x</b> <img src=x>"),
        "&lt;b&gt;x&lt;/b&gt; &lt;img src=x&gt;"
    );
    assert_eq!(escape_markup("Tom & Jerry <3"), "Tom &amp; Jerry &lt;3");
    assert_eq!(escape_markup("\"it's\""), "&quot;it&#39;s&quot;");
    assert_eq!(
        escape_markup("&amp;"),
        "&amp;amp;",
        "escapes what it is given, once"
    );
}

#[test]
fn display_decoded_headers_end_to_end() {
    let h = crate::mail::headers::decode(
        b"From: =?UTF-8?Q?=E2=80=AEpaypal@paypal.com?= <evil@x.ru>\r\nSubject: =?UTF-8?Q?invoice=E2=80=AEfdp.exe?=\r\n =?UTF-8?B?G1szMW0=?=red\r\n",
    );
    assert_eq!(subject(&h.subject).as_deref(), Some("invoicefdp.exe red"));
    assert_eq!(
        sender(&h.from_name, &h.from_address).as_deref(),
        Some("evil@x.ru (\"paypal@paypal.com\")")
    );
}

#[test]
fn display_huge_input_is_linear() {
    // 400 kB of marks, escapes and unterminated OSCs: would take minutes if anything were
    // quadratic.
    let mut s = String::new();
    for _ in 0..20_000 {
        s.push_str("a\u{301}\u{302}\u{303}\x1b]\u{202E}");
    }
    let got = clean_text(&s, S, false);
    assert_clean(&got, S);
    let got = clean_text(&s, usize::MAX, true);
    assert_clean(&got, usize::MAX);
}

/// Characters that exercise every rule, mixed with anything at all.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        4 => prop::char::range(' ', '~'),
        3 => prop::sample::select(vec![
            '\x1b', '[', ']', '\\', '\x07', '\u{9b}', '\u{9c}', '\u{9d}', '\u{90}', '\r', '\n',
            '\t', '\u{85}', '\u{2028}', '\u{2029}', '\0', '\x7f', ' ', '\u{a0}', '\u{3000}',
            '\u{1c}', '\u{1f}', ';', 'm', '0',
        ]),
        3 => prop::sample::select(vec![
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{61C}', '\u{200B}', '\u{200C}',
            '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{180E}', '\u{AD}', '\u{3164}', '\u{1F3F4}',
            '\u{E0067}', '\u{E0062}', '\u{E007F}', '\u{FE0F}', '\u{34F}', '\u{FFFD}', '…', '@',
            '.', '"', '<', '>', '&',
        ]),
        3 => prop::char::range('\u{300}', '\u{36F}'),
        3 => prop::sample::select(vec![
            'א', 'ש', 'ם', '\u{5B0}', '\u{5BC}', 'ا', 'م', 'ي', '\u{64B}', '٣', '1', '2',
        ]),
        2 => prop::sample::select(vec![
            '👨', '👩', '👧', '🏻', '❤', '💋', '🇫', '🇷', '\u{20E3}', '#',
        ]),
        2 => prop::sample::select(vec![
            '\u{1100}', '\u{1161}', '\u{11A8}', '\u{AC00}', '\u{600}', '\u{605}', 'क', 'ष',
            '\u{94D}', '\u{93C}', '=', '\u{338}', 'e', '\u{301}', '\u{B47}', '\u{B3E}',
            '\u{CC6}', '\u{CD5}', '\u{F90}', '\u{F71}',
        ]),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..200).prop_map(|v| v.into_iter().collect())
}

proptest! {
    // 512 cases by default; PROPTEST_CASES=1000000 (with --release) turns these into a long
    // randomized soak run on stable, see docs/security.md.
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn display_clean_text_holds_its_promises(
        s in nasty_string(),
        max in prop_oneof![0..12usize, Just(NAME_MAX_GRAPHEMES), Just(S)],
        strip in any::<bool>(),
    ) {
        let once = clean_text(&s, max, strip);
        assert_clean(&once, max);
        prop_assert_eq!(&clean_text(&once, max, strip), &once, "not idempotent");
        if strip {
            let joiners = ['\u{200C}', '\u{200D}'];
            prop_assert!(!once.contains(joiners), "joiner in {:?}", once);
        }
    }

    #[test]
    fn display_clean_text_any_string(s in any::<String>(), strip in any::<bool>()) {
        let once = clean_text(&s, S, strip);
        assert_clean(&once, S);
        prop_assert_eq!(&clean_text(&once, S, strip), &once, "not idempotent");
    }

    #[test]
    fn display_subject_and_sender(s in nasty_string(), t in nasty_string()) {
        if let Some(shown) = subject(&s) {
            assert_clean(&shown, S);
            prop_assert!(!shown.is_empty());
        }
        let address = clean_text(&t, ADDRESS_MAX_GRAPHEMES, true);
        match sender(&s, &t) {
            None => prop_assert!(address.is_empty()),
            Some(shown) => {
                prop_assert!(!shown.is_empty());
                prop_assert!(!shown.chars().any(char::is_control));
                if address.graphemes(true).count() < ADDRESS_MAX_GRAPHEMES {
                    prop_assert!(shown.contains(&address), "address missing: {:?}", shown);
                }
            }
        }
    }

    #[test]
    fn display_escape_markup_leaves_no_markup(s in nasty_string()) {
        let escaped = escape_markup(&s);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
        let mut rest = escaped.as_str();
        while let Some(at) = rest.find('&') {
            rest = &rest[at..];
            let entity = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                .into_iter()
                .find(|e| rest.starts_with(e));
            prop_assert!(entity.is_some(), "raw & in {:?}", escaped);
            rest = &rest[1..];
        }
        let back = escaped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        prop_assert_eq!(back, s);
    }
}
