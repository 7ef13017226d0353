//! Mailbox names in IMAP's modified UTF-7 (RFC 3501 §5.1.3).
//!
//! On the wire a folder called `收件箱` is `&ZTZO9nux-`, and `Tom & Jerry` is `Tom &- Jerry`.
//! Pushmail keeps names decoded (UTF-8) everywhere a person or the config sees them, and turns
//! them back into the server's bytes only when it talks to the server.
//!
//! [`decode`] is strict: it accepts only what [`encode`] produces, so `encode(decode(x)) == x`
//! for every name a server lists, and a decoded name always goes back byte-exact. A name that is
//! not valid modified UTF-7 (a server that sends raw UTF-8, an unescaped `&`, a non-canonical
//! encoding) is shown raw: [`decode`] returns it unchanged, and [`wire_names`] offers it as
//! written as the second name to try.

use base64::Engine as _;
use base64::alphabet::IMAP_MUTF7;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};

/// Modified base64 (RFC 3501 §5.1.3): `,` instead of `/`, no padding. `NO_PAD` also refuses
/// leftover bits that are not zero, one of the ways a run can be non-canonical.
const MODIFIED_BASE64: GeneralPurpose = GeneralPurpose::new(&IMAP_MUTF7, NO_PAD);

/// Characters that stand for themselves: printable US-ASCII.
fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a mailbox name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + name.len() / 2);
    let mut pending: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut out, &mut pending);
    out
}

fn flush(out: &mut String, pending: &mut Vec<u16>) {
    if pending.is_empty() {
        return;
    }
    let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
    out.push('&');
    MODIFIED_BASE64.encode_string(bytes, out);
    out.push('-');
    pending.clear();
}

/// Decodes a mailbox name from the wire; a name that is not valid modified UTF-7 comes back
/// unchanged (shown raw).
pub fn decode(raw: &str) -> String {
    decode_strict(raw).unwrap_or_else(|| raw.to_owned())
}

/// Decodes a mailbox name, or `None` if it is not exactly what [`encode`] would produce for
/// some name: bytes outside printable ASCII, a `&` without its `-`, a bad base64 character,
/// leftover bits, an odd number of bytes, a lone surrogate, printable ASCII or an empty run
/// inside `&…-`, or two runs where one would do.
pub fn decode_strict(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if !is_direct(c) {
            return None;
        }
        if c != '&' {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        // No `-`: the run is not closed.
        let end = rest.find('-')?;
        let run = &rest[..end];
        chars = rest[end + 1..].chars();
        if run.is_empty() {
            out.push('&');
            continue;
        }
        // A bad base64 character, leftover bits, or an odd number of bytes (half a UTF-16
        // unit) are all invalid.
        let bytes = MODIFIED_BASE64.decode(run).ok()?;
        let (units, half) = bytes.as_chunks::<2>();
        if !half.is_empty() {
            return None;
        }
        for c in char::decode_utf16(units.iter().map(|unit| u16::from_be_bytes(*unit))) {
            let c = c.ok()?;
            if is_direct(c) {
                return None;
            }
            out.push(c);
        }
    }
    // Canonical form only: anything else would not go back to the same bytes.
    (encode(&out) == raw).then_some(out)
}

/// The names to try, in order, when selecting the folder a config calls `name`: its encoding,
/// then — when it could be a raw name shown as is (printable ASCII that encodes differently) —
/// the name exactly as written.
pub fn wire_names(name: &str) -> (String, Option<String>) {
    let encoded = encode(name);
    let raw = (encoded != name && name.chars().all(is_direct)).then(|| name.to_owned());
    (encoded, raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3501_examples_and_real_folder_names() {
        let cases = [
            ("INBOX", "INBOX"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Über", "&ANw-ber"),
            ("收件箱", "&ZTZO9nux-"),
            ("الوارد", "&BicGRAZIBicGMQYv-"),
            ("已发送", "&XfJT0ZAB-"),
            ("Posta inviata", "Posta inviata"),
            ("Città/Archivio 2024", "Citt&AOA-/Archivio 2024"),
            ("😀", "&2D3eAA-"),
            ("&", "&-"),
            ("", ""),
        ];
        for (name, wire) in cases {
            assert_eq!(encode(name), wire, "encode {name}");
            assert_eq!(decode(wire), name, "decode {wire}");
        }
    }

    #[test]
    fn invalid_names_are_shown_raw() {
        for raw in [
            "Tom&Jerry",       // & not closed by -
            "&ZTZO9nux",       // run not closed
            "&ZTZ-",           // leftover bits that are not zero
            "&AGE-",           // "a" must not be encoded
            "&ZTZO9nux-&XfI-", // 收件箱 then 已: runs side by side
            "&ZTZO9g-&e7E-",   // two runs where one would do
            "&2D0-",           // lone high surrogate
            "&Z!Z-",           // not base64
            "&ZTZO9nux=-",     // padding is not used
            "收件箱",          // raw UTF-8 from a server that should have encoded it
        ] {
            assert_eq!(decode(raw), raw, "{raw}");
            assert_eq!(decode_strict(raw), None, "{raw}");
        }
    }

    #[test]
    fn wire_names_try_the_raw_name_only_when_it_could_be_one() {
        assert_eq!(wire_names("收件箱"), ("&ZTZO9nux-".into(), None));
        assert_eq!(wire_names("INBOX"), ("INBOX".into(), None));
        assert_eq!(
            wire_names("Tom&Jerry"),
            ("Tom&-Jerry".into(), Some("Tom&Jerry".into()))
        );
    }

    proptest! {
        #[test]
        fn any_name_round_trips(name in "\\PC{0,30}") {
            let wire = encode(&name);
            prop_assert!(wire.chars().all(is_direct), "{wire}");
            prop_assert_eq!(decode_strict(&wire), Some(name));
        }

        #[test]
        fn decoded_names_go_back_byte_exact(raw in "[ -~]{0,30}") {
            match decode_strict(&raw) {
                Some(name) => prop_assert_eq!(encode(&name), raw),
                None => prop_assert_eq!(decode(&raw), raw),
            }
        }

        #[test]
        fn shift_runs_of_real_base64_round_trip(raw in "[A-Za-z0-9+,]{1,12}") {
            let raw = format!("&{raw}-");
            if let Some(name) = decode_strict(&raw) {
                prop_assert_eq!(encode(&name), raw);
            }
        }
    }
}
