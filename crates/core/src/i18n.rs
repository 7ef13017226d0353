//! Localised strings from the Fluent catalogs in `locales/`, shared with the settings UI.
//!
//! The catalogs are compiled in (a tray that cannot find its strings at run time is worse than a
//! slightly bigger binary). English is the reference: every key exists there, and any key
//! missing from another language falls back to it.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// Languages with a catalog, as BCP 47 tags, with their Fluent source.
pub const CATALOGS: &[(&str, &str)] = &[("en", include_str!("../../../locales/en/pushmail.ftl"))];

/// The reference language.
pub const FALLBACK: &str = "en";

/// A loaded language plus the English fallback. Cheap to share (`Sync`).
pub struct I18n {
    lang: String,
    primary: Option<FluentBundle<FluentResource>>,
    fallback: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").field("lang", &self.lang).finish()
    }
}

fn bundle(tag: &str, source: &str) -> Option<FluentBundle<FluentResource>> {
    let id: LanguageIdentifier = tag.parse().ok()?;
    // A catalog with errors still loads what parsed; the catalog check in the tests fails on
    // any error, so shipped catalogs have none.
    let resource =
        FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Placeables are wrapped in FSI/PDI by default. Right for mixed-direction UI text; callers
    // that need plain text (notification daemons that render them as boxes) strip them.
    b.add_resource_overriding(resource);
    Some(b)
}

/// The user's language from the environment (`LC_ALL`, `LC_MESSAGES`, `LANG`), as a tag like
/// `it`, `zh-TW`, or `en` if unset or `C`/`POSIX`.
pub fn system_language() -> String {
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            let base = v.split(['.', '@']).next().unwrap_or("");
            if base == "C" || base == "POSIX" || base.is_empty() {
                return FALLBACK.to_owned();
            }
            return base.replace('_', "-");
        }
    }
    FALLBACK.to_owned()
}

/// The best catalog for `requested` (a tag, or "auto" for the system language): exact match,
/// then script/region rules for Chinese (zh-HK/zh-MO/zh-Hant → zh-TW, other zh → zh-CN), then
/// the bare language, then English.
pub fn negotiate(requested: &str) -> &'static str {
    let tag = if requested.eq_ignore_ascii_case("auto") {
        system_language()
    } else {
        requested.to_owned()
    };
    let lower = tag.to_ascii_lowercase();
    let find = |t: &str| {
        CATALOGS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(t))
            .map(|(c, _)| *c)
    };
    if let Some(c) = find(&lower) {
        return c;
    }
    if lower.starts_with("zh") {
        let traditional = ["hant", "tw", "hk", "mo"]
            .iter()
            .any(|m| lower.split('-').any(|p| p == *m));
        if let Some(c) = find(if traditional { "zh-TW" } else { "zh-CN" }) {
            return c;
        }
    }
    let base = lower.split('-').next().unwrap_or("");
    find(base).unwrap_or(FALLBACK)
}

impl I18n {
    /// Loads the catalog for `requested` ("auto" = system language).
    pub fn new(requested: &str) -> I18n {
        let lang = negotiate(requested);
        let source = |t: &str| {
            CATALOGS
                .iter()
                .find(|(c, _)| *c == t)
                .map(|(_, s)| *s)
                .unwrap_or("")
        };
        let fallback = bundle(FALLBACK, source(FALLBACK))
            .unwrap_or_else(|| FluentBundle::new_concurrent(Vec::new()));
        let primary = if lang == FALLBACK {
            None
        } else {
            bundle(lang, source(lang))
        };
        I18n {
            lang: lang.to_owned(),
            primary,
            fallback,
        }
    }

    /// The chosen language tag.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Whether the language is written right to left (the UI sets `dir="rtl"`).
    pub fn is_rtl(&self) -> bool {
        matches!(self.lang.split('-').next(), Some("ar" | "he" | "fa" | "ur"))
    }

    /// The message `id` with `args`; English if this language lacks it; the id itself if no
    /// catalog has it (visible, never a crash).
    pub fn tr(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, v.clone());
        }
        for b in self.primary.iter().chain(std::iter::once(&self.fallback)) {
            if let Some(pattern) = b.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return b
                    .format_pattern(pattern, Some(&fargs), &mut errors)
                    .into_owned();
            }
        }
        id.to_owned()
    }

    /// `tr` without the Unicode isolation marks Fluent puts around placeables, for surfaces
    /// that show them as boxes (some notification daemons, terminal output).
    pub fn tr_plain(&self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        self.tr(id, args).replace(['\u{2068}', '\u{2069}'], "")
    }
}

/// A number argument.
pub fn num(n: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(n.into())
}

/// A string argument.
pub fn text(s: &str) -> FluentValue<'_> {
    FluentValue::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_plurals() {
        let i = I18n::new("en");
        assert_eq!(
            i.tr_plain("tray-unread-total", &[("count", num(0))]),
            "No unread mail"
        );
        assert_eq!(
            i.tr_plain("tray-unread-total", &[("count", num(1))]),
            "1 unread message"
        );
        assert_eq!(
            i.tr_plain("tray-unread-total", &[("count", num(5))]),
            "5 unread messages"
        );
        assert_eq!(i.tr("no-such-key", &[]), "no-such-key");
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate("en-GB"), "en");
        assert_eq!(negotiate("xx"), "en");
    }

    /// Every catalog parses without errors and has no duplicate keys; every key exists in
    /// English. (Missing translations fall back to English and are listed by scripts/i18n-check.)
    #[test]
    fn catalogs_are_well_formed() {
        let english = FluentResource::try_new(CATALOGS[0].1.to_owned())
            .unwrap_or_else(|(_, e)| panic!("en: {e:?}"));
        let keys = |r: &FluentResource| -> Vec<String> {
            r.entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    fluent_syntax::ast::Entry::Term(t) => Some(format!("-{}", t.id.name)),
                    _ => None,
                })
                .collect()
        };
        let en_keys = keys(&english);
        for (tag, source) in CATALOGS {
            let res = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(_, e)| panic!("{tag}: syntax errors {e:?}"));
            let k = keys(&res);
            let mut sorted = k.clone();
            sorted.sort();
            let before = sorted.len();
            sorted.dedup();
            assert_eq!(before, sorted.len(), "{tag}: duplicate keys");
            for key in &k {
                assert!(
                    en_keys.contains(key),
                    "{tag}: key {key} is not in the English catalog"
                );
            }
        }
    }
}
