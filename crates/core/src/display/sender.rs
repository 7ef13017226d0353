//! Does a display name pretend to be an address?
//!
//! The display name is whatever the sender typed; the address is the one thing a phisher
//! cannot choose freely without failing SPF/DKIM at the real domain. A name such as
//! `"paypal@paypal.com"` or `"PayPal.com Security"` in front of `<evil@x.ru>` is made to be
//! read instead of the address, so such names are shown after it, in quotes.

/// Characters that read as "@": the ASCII one and its fullwidth and small forms (NFC keeps them).
const AT_SIGNS: [char; 3] = ['@', '\u{FF20}', '\u{FE6B}'];

/// Characters that read as the dot of a domain name: ASCII, ONE DOT LEADER, SMALL FULL STOP,
/// FULLWIDTH FULL STOP, IDEOGRAPHIC FULL STOP, HALFWIDTH IDEOGRAPHIC FULL STOP (IDNA maps the
/// last three to "." itself).
const DOTS: [char; 6] = [
    '.', '\u{2024}', '\u{FE52}', '\u{FF0E}', '\u{3002}', '\u{FF61}',
];

/// The name, without surrounding quotes, brackets and spaces, is the address itself
/// (`"ana@example.com" <ana@example.com>`): showing it twice helps nobody.
pub(super) fn is_same_as_address(name: &str, address: &str) -> bool {
    let bare = name.trim_matches(|c| matches!(c, ' ' | '"' | '\'' | '<' | '>' | '(' | ')'));
    bare.to_lowercase() == address.to_lowercase()
}

/// True when the name contains an "@" of any form, or a domain-like word that is not the
/// address's own domain or a parent of it ("Booking.com" from `@booking.com` or
/// `@mail.booking.com` is fine; "PayPal.com" from `@x.ru` is not).
///
/// Errs on the side of suspicion: "Dr.Smith" or "Node.js" count as domain-like. The cost of a
/// false alarm is only that the address is shown first.
pub(super) fn looks_like_address(name: &str, address: &str) -> bool {
    if name.contains(AT_SIGNS) {
        return true;
    }
    let domain = address
        .rsplit_once(AT_SIGNS)
        .map_or(address, |(_, domain)| domain)
        .to_lowercase();
    name.split(|c: char| !is_domain_char(c))
        .filter_map(domain_like)
        .any(|word| !(domain == word || domain.ends_with(&format!(".{word}"))))
}

fn is_domain_char(c: char) -> bool {
    c.is_alphanumeric()
        || unicode_normalization::char::is_combining_mark(c)
        || c == '-'
        || c == '_'
        || DOTS.contains(&c)
}

/// `Some(lowercased word with "." for every dot)` if the word has the shape of a domain name:
/// at least two labels and a top-level label of two or more letters (or `xn--…`).
fn domain_like(word: &str) -> Option<String> {
    let word: String = word
        .chars()
        .map(|c| if DOTS.contains(&c) { '.' } else { c })
        .collect::<String>()
        .trim_matches(|c| c == '.' || c == '-')
        .to_lowercase();
    let mut labels = word.split('.');
    let tld = labels.next_back()?;
    let mut rest = labels.peekable();
    rest.peek()?;
    let labels_ok = rest.all(|label| !label.is_empty());
    let tld_ok = tld.starts_with("xn--")
        || (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    (labels_ok && tld_ok).then_some(word)
}
