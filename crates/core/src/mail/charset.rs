//! Charsets in header fields, the way mail really uses them.
//!
//! mail-parser decodes each RFC 2047 encoded-word on its own and reads raw 8-bit header bytes as
//! UTF-8. Real mail breaks both assumptions: mailers split a UTF-8 or GBK character across two
//! encoded-words (Gmail and Foxmail both do), label UTF-8 as `us-ascii` or Latin-1 as `utf-8`,
//! and old webmail and scripts put raw GBK or windows-1256 bytes straight into the Subject. Each
//! of those comes out of mail-parser as U+FFFD. So before mail-parser sees a header block,
//! [`normalise`] rewrites it into the one form mail-parser decodes without loss:
//!
//! 1. A field with raw 8-bit bytes that are not UTF-8 is transcoded to UTF-8 (RFC 6532 form),
//!    from the charset the message declares in `Content-Type` if the bytes fit it, else from
//!    what [chardetng] (Firefox's detector) guesses, with the sender's top-level domain as a
//!    hint. Raw ISO-2022-JP (7-bit, with escapes) is decoded the same way.
//! 2. Each run of adjacent encoded-words (nothing but whitespace between them, which RFC 2047
//!    says to drop) becomes one `=?UTF-8?B?…?=` word. The bytes of adjacent words in the same
//!    charset are joined *before* decoding, so a character split across words survives.
//!    ISO-2022-JP words are decoded one by one: each ends in ASCII by rule, and joining them
//!    would put two escape sequences side by side, which the decoder reports as an error.
//!
//! Labels are resolved the WHATWG way ([`encoding_for_label`]), as browsers and webmail do:
//! `gb2312` is decoded as GBK (a GB18030 decoder), `iso-8859-1` and `us-ascii` as
//! windows-1252 (0x80 is €). Unknown labels and invalid bytes degrade to a readable lossy
//! result: never a panic, and never an empty string from non-empty input.
//!
//! Input is bounded by the fetch (a few header fields), and every scan here is linear apart
//! from encoded-word parsing, which looks at most [`MAX_WORD`] bytes ahead of each `=?`.

use std::borrow::Cow;

use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{DecodeError, Engine as _, alphabet};
use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{
    BIG5, EUC_KR, Encoding, GBK, ISO_2022_JP, REPLACEMENT, SHIFT_JIS, UTF_8, UTF_16BE,
    WINDOWS_1252, X_USER_DEFINED,
};

/// The longest encoded-word looked at, `=?` to `?=`. RFC 2047 says 75; real mailers write
/// whole subjects into one word of a few hundred. Past this, `=?` is plain text.
pub const MAX_WORD: usize = 4096;

/// The longest charset label (the longest IANA name is 45 bytes).
const MAX_LABEL: usize = 64;

/// Labels mail uses that the WHATWG Encoding Standard does not list, or lists differently.
///
/// `utf-16` without a byte-order mark is big-endian in mail (RFC 2781), little-endian on the web.
const EXTRA_LABELS: &[(&str, &Encoding)] = &[
    ("cp936", GBK),
    ("ms936", GBK),
    ("windows-936", GBK),
    ("euc-cn", GBK),
    ("x-euc-cn", GBK),
    ("cp950", BIG5),
    ("ms950", BIG5),
    ("windows-950", BIG5),
    ("x-big5", BIG5),
    ("cp932", SHIFT_JIS),
    ("windows-932", SHIFT_JIS),
    ("cp949", EUC_KR),
    ("ms949", EUC_KR),
    ("uhc", EUC_KR),
    ("iso-2022-jp-1", ISO_2022_JP),
    ("iso-2022-jp-2", ISO_2022_JP),
    ("iso-2022-jp-3", ISO_2022_JP),
    ("latin-1", WINDOWS_1252),
    ("iso-latin-1", WINDOWS_1252),
    ("utf-16", UTF_16BE),
    ("utf16", UTF_16BE),
    ("unicode", UTF_16BE),
    ("csunicode", UTF_16BE),
    ("ucs-2", UTF_16BE),
    ("iso-10646-ucs-2", UTF_16BE),
];

/// What a charset label names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Charset {
    Known(&'static Encoding),
    /// A label encoding_rs does not decode (lower-cased, language suffix removed).
    Other(String),
}

/// The encoding a MIME charset label names, resolved the WHATWG way plus the aliases mail uses
/// ([`EXTRA_LABELS`]). An RFC 2231 language suffix (`utf-8*en`) is ignored. `None` for labels
/// nothing decodes, including the WHATWG "replacement" labels (`iso-2022-kr`, `hz-gb-2312`) and
/// `x-user-defined`, whose decoders would turn text into U+FFFD or private-use characters.
pub fn encoding_for_label(label: &[u8]) -> Option<&'static Encoding> {
    match charset(label) {
        Charset::Known(e) => Some(e),
        Charset::Other(_) => None,
    }
}

fn charset(label: &[u8]) -> Charset {
    let label = label.split(|&b| b == b'*').next().unwrap_or_default();
    let lower = String::from_utf8_lossy(label).trim().to_ascii_lowercase();
    if let Some((_, e)) = EXTRA_LABELS.iter().find(|(l, _)| *l == lower) {
        return Charset::Known(e);
    }
    match Encoding::for_label(lower.as_bytes()) {
        Some(e) if e != REPLACEMENT && e != X_USER_DEFINED => Charset::Known(e),
        _ => Charset::Other(lower),
    }
}

/// Hints for guessing the charset of bytes whose label is missing or wrong.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hints<'a> {
    /// The charset the message declares for its body (`Content-Type: …; charset=`).
    pub declared: Option<&'static Encoding>,
    /// The sender's top-level domain, lower-case ASCII (`cn`, `sa`, `tw`).
    pub tld: Option<&'a str>,
}

/// Decodes `bytes` that a header says are in charset `label`, with the fallbacks real mail
/// needs. Never empty for non-empty input.
pub fn decode_declared(label: &[u8], bytes: &[u8], hints: Hints<'_>) -> String {
    match charset(label) {
        Charset::Known(e) => decode_known(e, bytes, hints),
        Charset::Other(label) => decode_unknown(&label, bytes, hints),
    }
}

fn decode_known(encoding: &'static Encoding, bytes: &[u8], hints: Hints<'_>) -> String {
    if encoding == UTF_8 {
        return decode_utf8_or_guess(bytes, hints);
    }
    // `us-ascii` and `iso-8859-1` on bytes that are valid UTF-8 with non-ASCII in them: a mailer
    // that labelled UTF-8 wrongly. Genuine windows-1252 text is never valid UTF-8 by accident
    // (it would take pairs like "Ã©", which are themselves mojibake).
    if encoding == WINDOWS_1252
        && !bytes.is_ascii()
        && let Ok(s) = std::str::from_utf8(bytes)
    {
        return s.to_owned();
    }
    // `decode` honours a byte-order mark, which is what UTF-16 in mail needs.
    encoding.decode(bytes).0.into_owned()
}

fn decode_unknown(label: &str, bytes: &[u8], hints: Hints<'_>) -> String {
    // mail-parser knows a few labels encoding_rs does not (UTF-7, IBM code pages). Labels that
    // encoding_rs calls "replacement" are skipped: mail-parser maps them to the same decoder.
    let replacement = Encoding::for_label(label.as_bytes()).is_some();
    if !replacement
        && let Some(decoder) =
            mail_parser::decoders::charsets::map::charset_decoder(label.as_bytes())
    {
        let text = decoder(bytes);
        if !text.is_empty() || bytes.is_empty() {
            return text;
        }
    }
    decode_utf8_or_guess(bytes, hints)
}

/// UTF-8 if the bytes are UTF-8 (or mostly: a truncated character, a stray byte), else the
/// legacy charset the hints or the detector point at.
fn decode_utf8_or_guess(bytes: &[u8], hints: Hints<'_>) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    if mostly_utf8(bytes) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    guess_legacy(&[bytes], hints)
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// Invalid UTF-8 that is still best read as UTF-8: at least as many well-formed multi-byte
/// characters as broken sequences. Legacy CJK and Arabic text almost never forms a valid
/// multi-byte UTF-8 sequence, so it falls on the other side.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            bad += 1;
        }
    }
    good > 0 && good >= bad
}

/// The legacy (ASCII-compatible or ISO-2022-JP) encoding of bytes that are not UTF-8: the
/// declared body charset if every part decodes in it without error, else chardetng's guess.
fn guess_legacy(parts: &[&[u8]], hints: Hints<'_>) -> &'static Encoding {
    if let Some(declared) = hints.declared
        && declared != UTF_8
        && declared.is_ascii_compatible()
        && parts.iter().all(|p| {
            declared
                .decode_without_bom_handling_and_without_replacement(p)
                .is_some()
        })
    {
        return declared;
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Allow);
    for part in parts {
        detector.feed(part, false);
        detector.feed(b" ", false);
    }
    detector.feed(b"", true);
    // chardetng panics on a TLD that is not lower-case ASCII without dots; `sender_tld` only
    // returns such, and this re-checks rather than trusting the caller.
    let tld = hints.tld.filter(|t| is_tld(t)).map(str::as_bytes);
    detector.guess(tld, Utf8Detection::Deny)
}

fn is_tld(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 63
        && t.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Rewrites a header block so that mail-parser decodes it without loss (see the module docs).
/// Field names, line structure and plain ASCII text are kept byte for byte.
pub fn normalise(raw: &[u8]) -> Vec<u8> {
    let fields = split_fields(raw);
    let hints_owned = block_hints(raw, &fields);
    let hints = Hints {
        declared: hints_owned.0,
        tld: hints_owned.1.as_deref(),
    };
    // One guess for every field with raw legacy bytes: more text guesses better, and a
    // mailer that writes one header in GBK writes all of them in GBK.
    let legacy_parts: Vec<&[u8]> = fields
        .iter()
        .filter_map(|f| f.value.map(|(s, e)| &raw[s..e]))
        .filter(|v| !v.is_ascii() && std::str::from_utf8(v).is_err() && !mostly_utf8(v))
        .collect();
    let legacy = (!legacy_parts.is_empty()).then(|| guess_legacy(&legacy_parts, hints));

    let mut out = Vec::with_capacity(raw.len() + raw.len() / 2);
    let mut at = 0;
    for field in &fields {
        let Some((start, end)) = field.value else {
            continue;
        };
        out.extend_from_slice(&raw[at..start]);
        let value = transcode(&raw[start..end], legacy);
        out.extend_from_slice(&rewrite_words(&value, hints));
        at = end;
    }
    out.extend_from_slice(&raw[at..]);
    out
}

/// One header field: where its value starts and ends (after the colon, up to but excluding
/// the line break that ends the field). `None` for lines that are not `name: value`.
struct Field {
    name: (usize, usize),
    value: Option<(usize, usize)>,
}

fn split_fields(raw: &[u8]) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let line_end = line_end(raw, at);
        let line = &raw[at..line_end];
        if line.is_empty() || line == b"\r" {
            break; // The empty line ending the header block.
        }
        // A field is one line plus every following line that starts with a blank.
        let mut end = line_end;
        while end < raw.len() {
            let next = end + 1;
            match raw.get(next) {
                Some(b' ' | b'\t') => end = self::line_end(raw, next),
                _ => break,
            }
        }
        let field_end = end.min(raw.len());
        // The value stops before the field's final CR LF.
        let value_end = if raw.get(field_end.wrapping_sub(1)) == Some(&b'\r') && field_end > at {
            field_end - 1
        } else {
            field_end
        };
        let starts_blank = matches!(raw.get(at), Some(b' ' | b'\t'));
        let colon = raw[at..value_end].iter().position(|&b| b == b':');
        let value = match colon {
            Some(c) if !starts_blank => Some((at + c + 1, value_end)),
            _ => None,
        };
        fields.push(Field {
            name: (at, colon.map_or(at, |c| at + c)),
            value,
        });
        at = field_end + 1;
    }
    fields
}

/// Index of the `\n` ending the line that starts at `from`, or the end of input.
fn line_end(raw: &[u8], from: usize) -> usize {
    raw[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(raw.len(), |p| from + p)
}

/// The declared body charset and the sender's TLD, from `Content-Type` and `From`.
fn block_hints(raw: &[u8], fields: &[Field]) -> (Option<&'static Encoding>, Option<String>) {
    let mut declared = None;
    let mut tld = None;
    for f in fields {
        let Some((s, e)) = f.value else { continue };
        let name = raw[f.name.0..f.name.1].trim_ascii();
        let value = &raw[s..e];
        if name.eq_ignore_ascii_case(b"content-type") {
            declared = content_type_charset(value).and_then(encoding_for_label);
        } else if name.eq_ignore_ascii_case(b"from") {
            tld = sender_tld(value);
        }
    }
    (declared, tld)
}

/// The `charset` parameter of a Content-Type value, unquoted.
fn content_type_charset(value: &[u8]) -> Option<&[u8]> {
    let lower = value.to_ascii_lowercase();
    let key = b"charset=";
    let at = lower.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &value[at..];
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'"' | b';' | b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(rest.len());
    let label = &rest[..end];
    (!label.is_empty()).then_some(label)
}

/// The top-level domain of the last address in a From value: `cn` for `<li@mail.example.cn>`.
pub fn sender_tld(value: &[u8]) -> Option<String> {
    let at = value.iter().rposition(|&b| b == b'@')?;
    let domain = &value[at + 1..];
    let end = domain
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        .unwrap_or(domain.len());
    let domain = &domain[..end];
    let last = domain.rsplit(|&b| b == b'.').next()?;
    let tld = String::from_utf8_lossy(last).to_ascii_lowercase();
    // A bare "localhost" or an IP literal's last octet is no TLD.
    (is_tld(&tld) && domain.contains(&b'.') && !tld.bytes().all(|b| b.is_ascii_digit()))
        .then_some(tld)
}

/// A field value as UTF-8: untouched if it is ASCII (bar raw ISO-2022-JP) or UTF-8, lossy
/// UTF-8 if mostly so, else decoded from the block's legacy charset.
fn transcode<'a>(value: &'a [u8], legacy: Option<&'static Encoding>) -> Cow<'a, [u8]> {
    if value.is_ascii() {
        if value.contains(&0x1b)
            && let Some(text) =
                ISO_2022_JP.decode_without_bom_handling_and_without_replacement(value)
        {
            return Cow::Owned(text.into_owned().into_bytes());
        }
        return Cow::Borrowed(value);
    }
    if std::str::from_utf8(value).is_ok() {
        return Cow::Borrowed(value);
    }
    match legacy {
        Some(encoding) if !mostly_utf8(value) => Cow::Owned(
            encoding
                .decode_without_bom_handling(value)
                .0
                .into_owned()
                .into_bytes(),
        ),
        _ => Cow::Owned(String::from_utf8_lossy(value).into_owned().into_bytes()),
    }
}

/// One parsed encoded-word.
struct Word<'a> {
    label: &'a [u8],
    bytes: Vec<u8>,
    /// Index just past its `?=`.
    end: usize,
}

/// Parses an encoded-word `=?charset?B|Q?text?=` starting at `at`, decoding its text to bytes.
/// Lenient where mailers are: spaces inside Q text, missing base64 padding, lower-case `b`/`q`.
fn parse_word(s: &[u8], at: usize) -> Option<Word<'_>> {
    let rest = s.get(at..)?.strip_prefix(b"=?")?;
    let rest = &rest[..rest.len().min(MAX_WORD)];
    let label_len = rest.iter().position(|&b| b == b'?')?;
    let label = &rest[..label_len];
    if label.is_empty() || label.len() > MAX_LABEL || label.iter().any(|&b| b <= b' ' || b >= 0x7f)
    {
        return None;
    }
    let rest = &rest[label_len + 1..];
    let (&kind, rest) = rest.split_first()?;
    let rest = rest.strip_prefix(b"?")?;
    let text_len = rest.windows(2).position(|w| w == b"?=")?;
    let text = &rest[..text_len];
    if text.iter().any(|&b| matches!(b, b'?' | b'\r' | b'\n')) {
        return None;
    }
    let bytes = match kind {
        b'B' | b'b' => decode_base64(text)?,
        b'Q' | b'q' => decode_q(text),
        _ => return None,
    };
    let end = at + 2 + label_len + 1 + 1 + 1 + text_len + 2;
    Some(Word { label, bytes, end })
}

fn decode_q(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = text.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                // A broken escape is kept as written: readable, and nothing is lost.
                out.push(b'=');
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Standard base64 decoded the way mailers write B-encoded words: [`decode_base64`] cuts any
/// padding off first, and leftover bits below a byte are ignored (a truncated word keeps what
/// it has).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// The bytes of B-encoded text, or `None` if it has a character outside base64. Lenient as
/// mail clients are: text from the first `=` on is ignored (missing, short or misplaced
/// padding), and so is a last lone character (6 bits, less than a byte).
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let text = text.split(|&b| b == b'=').next().unwrap_or_default();
    match LENIENT_BASE64.decode(text) {
        Err(DecodeError::InvalidLength(_)) => {
            let (_, whole) = text.split_last()?;
            LENIENT_BASE64.decode(whole).ok()
        }
        decoded => decoded.ok(),
    }
}

/// Standard base64 with padding (also how async-imap encodes a SASL response).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Replaces every run of adjacent encoded-words with one UTF-8 encoded-word.
fn rewrite_words(value: &[u8], hints: Hints<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + value.len() / 3);
    let mut i = 0;
    while i < value.len() {
        let Some(first) = parse_word(value, i) else {
            out.push(value[i]);
            i += 1;
            continue;
        };
        let mut end = first.end;
        let mut words = vec![first];
        loop {
            let next = end
                + value[end..]
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    .count();
            match parse_word(value, next) {
                Some(w) => {
                    end = w.end;
                    words.push(w);
                }
                None => break,
            }
        }
        let text = decode_run(&words, hints);
        if text.is_empty() {
            // Nothing decodable: keep what was written rather than show nothing.
            out.extend_from_slice(&value[i..end]);
        } else {
            out.extend_from_slice(b"=?UTF-8?B?");
            out.extend_from_slice(encode_base64(text.as_bytes()).as_bytes());
            out.extend_from_slice(b"?=");
        }
        i = end;
    }
    out
}

/// Decodes adjacent encoded-words: bytes of neighbours in the same charset are joined first.
fn decode_run(words: &[Word<'_>], hints: Hints<'_>) -> String {
    let mut text = String::new();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let cs = charset(w.label);
        let mut bytes = w.bytes.clone();
        let mut j = i + 1;
        if cs != Charset::Known(ISO_2022_JP) {
            while let Some(next) = words.get(j) {
                if charset(next.label) != cs {
                    break;
                }
                bytes.extend_from_slice(&next.bytes);
                j += 1;
            }
        }
        text.push_str(&match &cs {
            Charset::Known(e) => decode_known(e, &bytes, hints),
            Charset::Other(label) => decode_unknown(label, &bytes, hints),
        });
        i = j;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::headers::{Headers, decode};

    /// Decodes `Subject: <value>` the way the watcher does.
    fn subject(value: &[u8]) -> String {
        let mut raw = b"Subject: ".to_vec();
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
        decode(&raw).subject
    }

    fn from(value: &[u8]) -> (String, String) {
        let mut raw = b"From: ".to_vec();
        raw.extend_from_slice(value);
        raw.extend_from_slice(b"\r\n");
        let Headers {
            from_name,
            from_address,
            ..
        } = decode(&raw);
        (from_name, from_address)
    }

    #[test]
    fn labels_resolve_the_whatwg_way_plus_mail_aliases() {
        assert_eq!(encoding_for_label(b"GB2312"), Some(GBK));
        assert_eq!(encoding_for_label(b"iso-8859-1"), Some(WINDOWS_1252));
        assert_eq!(encoding_for_label(b"US-ASCII"), Some(WINDOWS_1252));
        assert_eq!(encoding_for_label(b"utf-8*en"), Some(UTF_8));
        assert_eq!(encoding_for_label(b" UTF8 "), Some(UTF_8));
        assert_eq!(encoding_for_label(b"cp936"), Some(GBK));
        assert_eq!(encoding_for_label(b"ks_c_5601-1987"), Some(EUC_KR));
        assert_eq!(encoding_for_label(b"utf-16"), Some(UTF_16BE));
        assert_eq!(encoding_for_label(b"ISO-2022-KR"), None);
        assert_eq!(encoding_for_label(b"x-user-defined"), None);
        assert_eq!(encoding_for_label(b"x-unknown"), None);
    }

    #[test]
    fn encoded_words_in_every_charset_mail_uses() {
        let cases: &[(&[u8], &str)] = &[
            (b"=?UTF-8?B?5Lit5paH?=", "中文"),
            (b"=?utf-8?Q?Caff=C3=A8_a_Milano?=", "Caffè a Milano"),
            (b"=?Big5?B?t3zEs7Nxqr4=?=", "會議通知"),
            (b"=?GB2312?B?1tDOxA==?=", "中文"),
            // Labelled GB2312 but using 喆, which only GBK has: decoded as GBK, as the web does.
            (b"=?GB2312?B?1cWGtLXEsai45g==?=", "张喆的报告"),
            // A GB18030 four-byte sequence (U+20000, outside GBK).
            (b"=?gb18030?B?lTKCNiCy4srU?=", "\u{20000} 测试"),
            (b"=?windows-1256?B?x8zK48faIMfh288=?=", "اجتماع الغد"),
            (b"=?windows-1256?Q?=E3=D1=CD=C8=C7?=", "مرحبا"),
            // ISO-8859-1 is windows-1252: 0x80 is the euro sign.
            (b"=?ISO-8859-1?Q?=80_5=2C_Caf=E9?=", "€ 5, Café"),
            (b"=?ISO-8859-15?Q?=A4uro_=BDuvre?=", "€uro œuvre"),
            (
                b"=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI=?=",
                "会議のお知らせ",
            ),
            (b"=?KOI8-R?B?8NLJ18XULCDNydI=?=", "Привет, мир"),
            (b"=?ks_c_5601-1987?B?x9Gxub7u?=", "한국어"),
            (b"=?Shift_JIS?B?k/qWe4zq?=", "日本語"),
            (b"=?utf-8*it?Q?Citt=C3=A0?=", "Città"),
        ];
        for (raw, want) in cases {
            assert_eq!(subject(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn characters_split_across_adjacent_words_are_joined() {
        let cases: &[(&[u8], &str)] = &[
            // "会议通知" in UTF-8, cut inside 议.
            (b"=?UTF-8?B?5Lya6A==?= =?UTF-8?B?rq7pgJrnn6U=?=", "会议通知"),
            // "关于下周会议" in GBK, cut inside 下, folded onto a second line as Foxmail does.
            (b"=?GBK?B?udjT2s8=?=\r\n =?GBK?B?wtbcu+HS6Q==?=", "关于下周会议"),
            // "الاجتماع" in UTF-8 Q, five bytes a word.
            (
                b"=?UTF-8?Q?=D8=A7=D9=84=D8?= =?UTF-8?Q?=A7=D8=AC=D8=AA?= =?UTF-8?Q?=D9=85=D8=A7=D8?= =?UTF-8?Q?=B9?=",
                "الاجتماع",
            ),
            // Mixed B and Q in one charset, and upper/lower-case labels.
            (b"=?utf-8?B?5Lya?= =?UTF-8?Q?=E8=AE=AE?=", "会议"),
            // ISO-2022-JP words each end in ASCII; they are decoded one by one.
            (
                b"=?ISO-2022-JP?B?GyRCMnE1RBsoQg==?= =?ISO-2022-JP?B?GyRCJE4kKkNOJGkkOxsoQg==?=",
                "会議のお知らせ",
            ),
            // Different charsets side by side.
            (b"=?UTF-8?B?5Lit?= =?GB2312?B?zsQ=?=", "中文"),
            // Plain text around words keeps its spaces; whitespace between words goes.
            (b"Re: =?UTF-8?B?5Lit?=   =?UTF-8?B?5paH?= (2)", "Re: 中文 (2)"),
        ];
        for (raw, want) in cases {
            assert_eq!(subject(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn raw_8bit_utf8_headers_rfc6532() {
        assert_eq!(
            subject("Re: 关于下周的会议".as_bytes()),
            "Re: 关于下周的会议"
        );
        assert_eq!(
            subject("Riunione di lunedì".as_bytes()),
            "Riunione di lunedì"
        );
        assert_eq!(
            from("محمد أحمد <mohammed@example.sa>".as_bytes()),
            ("محمد أحمد".into(), "mohammed@example.sa".into())
        );
        assert_eq!(
            from("\"陈, 静\" <chen@example.cn>".as_bytes()),
            ("陈, 静".into(), "chen@example.cn".into())
        );
    }

    #[test]
    fn raw_8bit_legacy_bytes_are_detected() {
        // GBK with no label anywhere: chardetng.
        let raw = b"From: \xCD\xF5\xD0\xA1\xC3\xF7 <wang@example.com>\r\nSubject: \xB9\xD8\xD3\xDA\xCF\xC2\xD6\xDC\xBB\xE1\xD2\xE9\xB0\xB2\xC5\xC5\r\n";
        let h = decode(raw);
        assert_eq!(h.subject, "关于下周会议安排");
        assert_eq!(h.from_name, "王小明");
        assert_eq!(h.from_address, "wang@example.com");
        // windows-1256, sender in Saudi Arabia.
        let raw = b"From: \xE3\xCD\xE3\xCF \xC3\xCD\xE3\xCF <m@example.com.sa>\r\nSubject: \xC7\xCC\xCA\xE3\xC7\xDA \xC7\xE1\xDB\xCF\r\n";
        let h = decode(raw);
        assert_eq!(h.subject, "اجتماع الغد");
        assert_eq!(h.from_name, "محمد أحمد");
        // Big5, with the body's declared charset as the hint.
        let raw = b"Subject: \xB7|\xC4\xB3\xB3q\xAA\xBE\xA1G\xA4U\xB6g\xA4@\r\nContent-Type: text/plain; charset=\"big5\"\r\n";
        assert_eq!(decode(raw).subject, "會議通知：下週一");
        // Raw ISO-2022-JP, as old Japanese mailers wrote it.
        assert_eq!(subject(b"\x1B$B2q5D$N$*CN$i$;\x1B(B"), "会議のお知らせ");
        // KOI8-R with its label in Content-Type.
        let raw =
            b"Subject: \xF0\xD2\xC9\xD7\xC5\xD4\r\nContent-Type: text/plain; charset=koi8-r\r\n";
        assert_eq!(decode(raw).subject, "Привет");
        // A UTF-8 subject cut short inside a character stays UTF-8.
        assert_eq!(subject(b"\xE4\xBC\x9A\xE8\xAE\xAE\xE9\x80"), "会议\u{FFFD}");
    }

    #[test]
    fn wrong_labels_are_forgiven() {
        // UTF-8 labelled us-ascii or Latin-1.
        assert_eq!(subject(b"=?us-ascii?Q?caf=C3=A9?="), "café");
        assert_eq!(subject(b"=?iso-8859-1?B?Q2Fmw6k=?="), "Café");
        // Latin-1 labelled UTF-8.
        assert_eq!(subject(b"=?utf-8?Q?Caf=E9_=E0_Roma?="), "Café à Roma");
        // GBK labelled UTF-8.
        assert_eq!(subject(b"=?utf-8?B?udjT2s/C1ty74dLp?="), "关于下周会议");
    }

    #[test]
    fn unknown_charsets_and_invalid_bytes_degrade_readably() {
        let cases: &[(&[u8], &str)] = &[
            (b"=?x-unknown?Q?Caf=E9_ok?=", "Café ok"),
            (b"=?x-unknown?B?5Lit5paH?=", "中文"),
            (b"=?unknown-8bit?B?1tDOxA==?=", "中文"),
            (b"=?ISO-2022-KR?Q?hello?=", "hello"),
            (b"=?utf-7?Q?Hi_+AKM-1?=", "Hi £1"),
            // Truncated UTF-8.
            (b"=?utf-8?B?5Lit5p?=", "中\u{FFFD}"),
            // A broken escape is kept as written.
            (b"=?utf-8?Q?a=ZZb?=", "a=ZZb"),
            // Not base64: shown as written, never empty.
            (b"=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="),
            (b"=?utf-8?Q??=", "=?utf-8?Q??="),
            (b"=?utf-8?Q?unterminated", "=?utf-8?Q?unterminated"),
            // Three bytes of nothing in particular: whatever the detector makes of them, never empty.
            (b"\xFF\xFE\xFD", "ÿşı"),
        ];
        for (raw, want) in cases {
            assert_eq!(subject(raw), *want, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn sender_names_decode_without_breaking_the_address() {
        let cases: &[(&[u8], (&str, &str))] = &[
            (
                b"=?GB2312?B?zfXQocP3?= <wang@qq.com>",
                ("王小明", "wang@qq.com"),
            ),
            (
                b"\"=?utf-8?B?5Lit5paH?=\" <a@example.cn>",
                ("中文", "a@example.cn"),
            ),
            // A comma inside an encoded-word is text, not an address separator.
            (
                b"=?UTF-8?Q?Rossi=2C_Mario?= <mario@example.it>",
                ("Rossi, Mario", "mario@example.it"),
            ),
            (
                b"=?windows-1256?B?5cfk7SDjzePmzw==?= <h@example.eg>",
                ("هاني محمود", "h@example.eg"),
            ),
            (
                b"=?UTF-8?B?5byg5Zac?=\r\n =?UTF-8?B?55qE?= <zhang@example.com>",
                ("张喜的", "zhang@example.com"),
            ),
        ];
        for (raw, (name, address)) in cases {
            assert_eq!(
                from(raw),
                ((*name).to_owned(), (*address).to_owned()),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn sender_tld_is_safe_for_chardetng() {
        assert_eq!(sender_tld(b"<li@mail.example.CN>").as_deref(), Some("cn"));
        assert_eq!(sender_tld(b"a@localhost"), None);
        assert_eq!(sender_tld(b"a@[10.0.0.1]"), None);
        assert_eq!(sender_tld(b"a@1.2.3.4"), None);
        assert_eq!(sender_tld(b"no address"), None);
    }

    #[test]
    fn plain_ascii_blocks_are_untouched() {
        let raw = b"From: Ana <ana@example.com>\r\nSubject: Hello  there\r\n =?\r\n\r\n";
        assert_eq!(normalise(raw), raw.to_vec());
    }

    /// Keeps only the fields the watcher fetches ([`crate::mail::headers::HEADER_FETCH`]), as
    /// the server would return them.
    fn fetched_fields(message: &[u8]) -> Vec<u8> {
        const FETCHED: [&[u8]; 5] = [b"from", b"subject", b"date", b"message-id", b"content-type"];
        let end = message
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(message.len(), |p| p + 2);
        let block = &message[..end];
        let mut out = Vec::new();
        for f in split_fields(block) {
            let name = block[f.name.0..f.name.1].trim_ascii().to_ascii_lowercase();
            if FETCHED.contains(&name.as_slice()) {
                let line_end = f.value.map_or(f.name.1, |(_, e)| e);
                out.extend_from_slice(&block[f.name.0..line_end]);
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The corpus the end-to-end test delivers to Dovecot, decoded here without a server.
    #[test]
    fn corpus_decodes_exactly() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
        let manifest = std::fs::read_to_string(dir.join("expected.json")).unwrap();
        let expected: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&manifest).unwrap();
        assert!(expected.len() >= 15, "{}", expected.len());
        for (file, want) in &expected {
            let message = std::fs::read(dir.join(file)).unwrap();
            let h = decode(&fetched_fields(&message));
            let got = serde_json::json!({
                "from_name": h.from_name,
                "from_address": h.from_address,
                "subject": h.subject,
            });
            assert_eq!(&got, want, "{file}");
        }
    }

    /// The display pipeline (`crate::display`) cleans hostile text; for these legitimate
    /// scripts it must keep every character, adding only the RLI … PDI isolates around
    /// right-to-left runs.
    #[test]
    fn display_keeps_decoded_text_of_every_script_intact() {
        use crate::display::{PDI, RLI, sender, subject};
        let without_isolates = |s: String| s.replace([RLI, PDI], "");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus");
        let manifest = std::fs::read_to_string(dir.join("expected.json")).unwrap();
        let expected: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&manifest).unwrap();
        for (file, want) in &expected {
            let field = |k: &str| want[k].as_str().unwrap().to_owned();
            let (name, address, text) =
                (field("from_name"), field("from_address"), field("subject"));
            assert_eq!(
                subject(&text).map(without_isolates),
                Some(text.clone()),
                "{file}"
            );
            assert_eq!(
                sender(&name, &address).map(without_isolates),
                Some(format!("{name} <{address}>")),
                "{file}"
            );
        }
        assert_eq!(
            sender("أحمد الشمري", "ahmed@example.com.sa").as_deref(),
            Some("\u{2067}أحمد الشمري\u{2069} <ahmed@example.com.sa>")
        );
        assert_eq!(
            subject("Re: 关于下周的会议").as_deref(),
            Some("Re: 关于下周的会议")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_never_loses_ascii_text(
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
        ) {
            let mut raw = b"Subject: ".to_vec();
            raw.extend_from_slice(&value);
            raw.extend_from_slice(b"\r\nFrom: x@y.z\r\n");
            let h = decode(&raw);
            // A subject with a letter or digit in it never decodes to nothing.
            let first_line = value.split(|&b| b == b'\n').next().unwrap_or_default();
            if first_line.iter().any(u8::is_ascii_alphanumeric) {
                proptest::prop_assert!(!h.subject.is_empty(), "{:?}", value);
            }
        }

        #[test]
        fn encoded_words_of_any_text_round_trip(text in "\\PC{1,40}", cut in 0usize..200) {
            // Any visible text, UTF-8, split at any byte into two adjacent non-empty words
            // (RFC 2047's encoded-text is at least one character). Whitespace alone is not a
            // subject: the decoder keeps the raw words rather than show nothing.
            proptest::prop_assume!(!text.trim().is_empty() && text.len() > 1);
            let bytes = text.as_bytes();
            let cut = 1 + cut % (bytes.len() - 1);
            let (a, b) = bytes.split_at(cut);
            let value = format!("=?UTF-8?B?{}?= =?UTF-8?B?{}?=", encode_base64(a), encode_base64(b));
            proptest::prop_assert_eq!(subject(value.as_bytes()), text.trim());
        }
    }
}
