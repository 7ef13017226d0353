//! Small text helpers shared by logs and error messages.

/// Server text echoed into a log or an error is capped so a hostile server cannot flood either.
pub const LOG_TEXT_MAX: usize = 1024;

/// Lossy, control-character-free, at most [`LOG_TEXT_MAX`] bytes (cut on a char boundary).
pub fn truncate_for_log(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(LOG_TEXT_MAX));
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > LOG_TEXT_MAX {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_length_and_strips_controls() {
        let long = "é".repeat(2000);
        let t = truncate_for_log(&long);
        assert!(t.len() <= LOG_TEXT_MAX + '…'.len_utf8());
        assert_eq!(truncate_for_log("a\r\nb\x1b[31m"), "a  b [31m");
    }
}
