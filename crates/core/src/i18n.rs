//! Localised strings from the Fluent catalogs in `locales/`, shared with the settings UI, and the
//! numbers, times and dates that go into them.
//!
//! The catalogs are compiled in (a tray that cannot find its strings at run time is worse than a
//! slightly bigger binary). English is the reference: every key exists there, and any key
//! missing from another language falls back to it. `scripts/check-locales` lists what each
//! translation still lacks; the tests below fail on anything worse.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::types::{FluentNumber, FluentNumberOptions};
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// Languages with a catalog, as BCP 47 tags, with their Fluent source. English first.
pub const CATALOGS: &[(&str, &str)] = &[
    ("en", include_str!("../../../locales/en/pushmail.ftl")),
    ("it", include_str!("../../../locales/it/pushmail.ftl")),
    ("zh-TW", include_str!("../../../locales/zh-TW/pushmail.ftl")),
    ("zh-CN", include_str!("../../../locales/zh-CN/pushmail.ftl")),
    ("ar", include_str!("../../../locales/ar/pushmail.ftl")),
];

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
    // Numbers as the settings window's Intl.NumberFormat writes them ("1,234", "12.345").
    b.set_formatter(Some(if NumberStyle::of(tag) == ITALIAN_NUMBERS {
        |v, _| ITALIAN_NUMBERS.fluent(v)
    } else {
        |v, _| NUMBERS.fluent(v)
    }));
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
    negotiate_tag(&tag)
}

fn negotiate_tag(tag: &str) -> &'static str {
    let lower = tag.replace('_', "-").to_ascii_lowercase();
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

fn catalog_source(tag: &str) -> &'static str {
    CATALOGS
        .iter()
        .find(|(c, _)| *c == tag)
        .map(|(_, s)| *s)
        .unwrap_or("")
}

impl I18n {
    /// Loads the catalog for `requested` ("auto" = system language).
    pub fn new(requested: &str) -> I18n {
        let lang = negotiate(requested);
        I18n::from_sources(lang, catalog_source(lang), catalog_source(FALLBACK))
    }

    /// `lang` from `source`, falling back to `english`. `new` with the compiled-in catalogs;
    /// tests use it with catalogs of their own.
    fn from_sources(lang: &str, source: &str, english: &str) -> I18n {
        let fallback =
            bundle(FALLBACK, english).unwrap_or_else(|| FluentBundle::new_concurrent(Vec::new()));
        let primary = if lang == FALLBACK {
            None
        } else {
            bundle(lang, source)
        };
        I18n {
            lang: lang.to_owned(),
            primary,
            fallback,
        }
    }

    /// The English catalog, loaded once: what the English-only methods (`ConnectError::hint`,
    /// `Strategy::describe`, …) read, so logs and the localised variants share one text.
    pub fn english() -> &'static I18n {
        static ENGLISH: std::sync::OnceLock<I18n> = std::sync::OnceLock::new();
        ENGLISH.get_or_init(|| I18n::new(FALLBACK))
    }

    /// `items` as a short list in this language ("a, b" or "a、b"), joined with
    /// `list-separator`.
    pub fn list<S: AsRef<str>>(&self, items: &[S]) -> String {
        let separator = self.tr_plain("list-separator", &[]);
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(&separator)
    }

    /// Whether this language's own catalog has message `id` (not just the English fallback).
    pub fn has(&self, id: &str) -> bool {
        self.primary
            .as_ref()
            .unwrap_or(&self.fallback)
            .has_message(id)
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
            match plural_stand_in(&self.lang, v) {
                Some(stand_in) => fargs.set(*k, stand_in),
                None => fargs.set(*k, v.clone()),
            }
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

    /// A whole number as this language writes it: "1,234" (English, Chinese, Arabic), "1234"
    /// and "12.345" (Italian). Numbers given to [`tr`](Self::tr) are written the same way.
    pub fn number(&self, n: i64) -> String {
        NumberStyle::of(&self.lang).write(n)
    }

    /// A time of day: "07:05". Every catalog language is shown the 24-hour clock, as the
    /// settings window shows it (`Intl.DateTimeFormat` with `hourCycle: "h23"`).
    pub fn time(&self, hour: u8, minute: u8) -> String {
        format!("{hour:02}:{minute:02}")
    }

    /// A date and time of day, as `Intl.DateTimeFormat` writes it for this language with
    /// numeric year, month and day and the 24-hour clock: "11/2/2025, 07:05" (English),
    /// "02/11/2025, 07:05" (Italian), "2025/11/2 07:05" (Chinese), "2‏/11‏/2025، 07:05" (Arabic:
    /// right-to-left marks after the day and the month keep the numbers in order).
    pub fn date_time(&self, year: i32, month: u8, day: u8, hour: u8, minute: u8) -> String {
        let time = self.time(hour, minute);
        match self.lang.split('-').next().unwrap_or("") {
            "it" => format!("{day:02}/{month:02}/{year}, {time}"),
            "zh" => format!("{year}/{month}/{day} {time}"),
            "ar" => format!("{day}\u{200F}/{month}\u{200F}/{year}\u{060C} {time}"),
            _ => format!("{month}/{day}/{year}, {time}"),
        }
    }
}

/// How a language groups the digits of whole numbers, as CLDR (and so `Intl.NumberFormat`)
/// has it. Latin digits everywhere: CLDR 48 writes Arabic (`ar`) with them too, and the
/// settings window asks for them explicitly (`ar-u-nu-latn`) so older ICU versions agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NumberStyle {
    separator: char,
    /// The fewest digits that get a separator: 4 ("1,234"), or 5 where a lone thousand is
    /// written without one ("1234", "12.345").
    min_digits: usize,
}

const NUMBERS: NumberStyle = NumberStyle {
    separator: ',',
    min_digits: 4,
};

const ITALIAN_NUMBERS: NumberStyle = NumberStyle {
    separator: '.',
    min_digits: 5,
};

impl NumberStyle {
    fn of(lang: &str) -> NumberStyle {
        match lang.split('-').next() {
            Some("it") => ITALIAN_NUMBERS,
            _ => NUMBERS,
        }
    }

    fn write(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let sign = if n < 0 { "-" } else { "" };
        if digits.len() < self.min_digits {
            return format!("{sign}{digits}");
        }
        let mut out = String::from(sign);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.separator);
            }
            out.push(c);
        }
        out
    }

    /// The bundle's formatter: whole numbers without NUMBER() options; anything else as Fluent
    /// writes it.
    fn fluent(self, value: &FluentValue<'_>) -> Option<String> {
        if let FluentValue::Number(FluentNumber { options, .. }) = value
            && let Some(shown) = options
                .currency
                .as_deref()
                .and_then(|c| c.strip_prefix(SHOWN_AS))
        {
            return Some(shown.to_owned());
        }
        match value {
            FluentValue::Number(FluentNumber { value, options })
                if value.fract() == 0.0
                    && value.abs() < 1e15
                    && *options == FluentNumberOptions::default() =>
            {
                // Whole and well inside i64: the conversion is exact.
                #[allow(clippy::cast_possible_truncation)]
                Some(self.write(*value as i64))
            }
            _ => None,
        }
    }
}

/// Marks a number option that carries the text to show in place of the number (see
/// [`plural_stand_in`]).
const SHOWN_AS: &str = "\u{0}shown-as:";

/// intl_pluralrules 7.0 (CLDR 37 data, what fluent-bundle 0.16 selects plurals with) leaves out
/// the `% 100` of Arabic's rules — "few: n % 100 = 3..10", "many: n % 100 = 11..99" — so 103
/// would read as "other" ("103 مجلد") where the settings window's ICU says "few" ("103
/// مجلدات"). For such numbers `tr` passes a stand-in that the buggy rule puts in the right
/// category (3 or 11) and that carries the real number for display, through an option only
/// our number formatter reads.
fn plural_stand_in(lang: &str, value: &FluentValue<'_>) -> Option<FluentValue<'static>> {
    let FluentValue::Number(FluentNumber { value: n, options }) = value else {
        return None;
    };
    if lang.split('-').next() != Some("ar")
        || n.fract() != 0.0
        || !(100.0..1e15).contains(n)
        || *options != FluentNumberOptions::default()
    {
        return None;
    }
    // Whole and well inside i64: the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    let whole = *n as i64;
    let stand_in = match whole % 100 {
        3..=10 => 3.0,
        11..=99 => 11.0,
        _ => return None,
    };
    Some(FluentValue::Number(FluentNumber {
        value: stand_in,
        options: FluentNumberOptions {
            currency: Some(format!("{SHOWN_AS}{}", NumberStyle::of(lang).write(whole))),
            ..FluentNumberOptions::default()
        },
    }))
}

/// A number argument.
pub fn num(n: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(n.into())
}

/// A string argument.
pub fn text(s: &str) -> FluentValue<'_> {
    FluentValue::from(s)
}

/// The catalog check: what `scripts/check-locales` and the test command run (`check.rs`).
#[cfg(test)]
mod check;

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(i: &I18n, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        i.tr_plain(id, args)
    }

    #[test]
    fn english_plurals() {
        let i = I18n::new("en");
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(0))]),
            "No unread mail"
        );
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(1))]),
            "1 unread message"
        );
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(5))]),
            "5 unread messages"
        );
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(1234))]),
            "1,234 unread messages"
        );
        assert_eq!(i.tr("no-such-key", &[]), "no-such-key");
    }

    /// Arabic has all six CLDR forms: 0, 1, 2, 3–10, 11–99 and 100 each read differently.
    #[test]
    fn arabic_has_six_plural_forms() {
        let i = I18n::new("ar");
        assert!(i.is_rtl());
        let forms: Vec<String> = [0, 1, 2, 3, 11, 100]
            .iter()
            .map(|n| tr(&i, "tray-unread-total", &[("count", num(*n))]))
            .collect();
        assert_eq!(
            forms,
            [
                "لا توجد رسائل غير مقروءة",
                "رسالة واحدة غير مقروءة",
                "رسالتان غير مقروءتين",
                "3 رسائل غير مقروءة",
                "11 رسالة غير مقروءة",
                "100 رسالة غير مقروءة",
            ]
        );
        // 103 is "few" again, 111 "many" (CLDR: n % 100 in 3..10, 11..99), as the settings
        // window's ICU has it (see `plural_stand_in`), written as numbers are.
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(205))]),
            "205 رسائل غير مقروءة"
        );
        assert_eq!(
            tr(&i, "tray-unread-total", &[("count", num(1234))]),
            "1,234 رسالة غير مقروءة"
        );
        assert_eq!(
            tr(&i, "settings-account-folders", &[("count", num(103))]),
            "103 مجلدات"
        );
        assert_eq!(
            tr(&i, "settings-account-folders", &[("count", num(111))]),
            "111 مجلدًا"
        );
    }

    #[test]
    fn italian_and_chinese_plurals() {
        let it = I18n::new("it");
        assert_eq!(
            tr(
                &it,
                "notify-summary-title",
                &[("count", num(1)), ("account", text("Lavoro"))]
            ),
            "1 nuovo messaggio in Lavoro"
        );
        assert_eq!(
            tr(
                &it,
                "notify-summary-title",
                &[("count", num(12345)), ("account", text("Lavoro"))]
            ),
            "12.345 nuovi messaggi in Lavoro"
        );
        let tw = I18n::new("zh-TW");
        assert_eq!(
            tr(&tw, "tray-unread-total", &[("count", num(1))]),
            "1 封未讀郵件"
        );
        assert_eq!(
            tr(&tw, "tray-unread-total", &[("count", num(0))]),
            "沒有未讀郵件"
        );
        let cn = I18n::new("zh-CN");
        assert_eq!(tr(&cn, "menu-check-now", &[]), "立即检查");
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate("en-GB"), "en");
        assert_eq!(negotiate("xx"), "en");
        assert_eq!(negotiate("it"), "it");
        assert_eq!(negotiate("it-CH"), "it");
        assert_eq!(negotiate("it_IT"), "it");
        assert_eq!(negotiate("zh-TW"), "zh-TW");
        assert_eq!(negotiate("zh-HK"), "zh-TW");
        assert_eq!(negotiate("zh-Hant-MO"), "zh-TW");
        assert_eq!(negotiate("zh_CN"), "zh-CN");
        assert_eq!(negotiate("zh-SG"), "zh-CN");
        assert_eq!(negotiate("zh"), "zh-CN");
        assert_eq!(negotiate("ar-EG"), "ar");
        assert_eq!(negotiate("ar_SA"), "ar");
    }

    /// The same moments and numbers the settings window's Intl formats, from the shared
    /// samples (`locales/format-samples.json`, also checked by the UI's unit tests).
    #[test]
    fn numbers_times_and_dates_match_the_settings_window() {
        let samples: serde_json::Value =
            serde_json::from_str(include_str!("../../../locales/format-samples.json"))
                .expect("format-samples.json");
        let at = &samples["moment"];
        let field = |k: &str| u8::try_from(at[k].as_u64().expect(k)).expect(k);
        let year = i32::try_from(at["year"].as_i64().expect("year")).expect("year");
        let numbers: Vec<i64> = samples["numbers"]
            .as_array()
            .expect("numbers")
            .iter()
            .map(|n| n.as_i64().expect("number"))
            .collect();
        for (tag, _) in CATALOGS {
            let want = &samples["expected"][*tag];
            let i = I18n::new(tag);
            assert_eq!(
                i.time(field("hour"), field("minute")),
                want["time"],
                "{tag} time"
            );
            assert_eq!(
                i.date_time(
                    year,
                    field("month"),
                    field("day"),
                    field("hour"),
                    field("minute")
                ),
                want["dateTime"],
                "{tag} date and time"
            );
            let written: Vec<String> = numbers.iter().map(|n| i.number(*n)).collect();
            assert_eq!(serde_json::json!(written), want["numbers"], "{tag} numbers");
        }
    }

    #[test]
    fn times_and_dates_in_messages() {
        let ar = I18n::new("ar");
        assert_eq!(
            tr(&ar, "tray-paused-until", &[("time", text(&ar.time(7, 0)))]),
            "الإشعارات متوقفة مؤقتًا حتى 07:00"
        );
        let it = I18n::new("it");
        assert_eq!(
            tr(
                &it,
                "tray-paused-until-tomorrow",
                &[("time", text(&it.time(8, 0)))]
            ),
            "Notifiche in pausa fino a domani alle 08:00"
        );
        assert_eq!(I18n::new("en").number(-1234567), "-1,234,567");
        assert_eq!(it.number(999), "999");
    }

    /// A key a translation lacks is shown in English; a key it has, in the translation.
    #[test]
    fn a_missing_translation_falls_back_to_english() {
        let english = "greeting = Hello\nfarewell = Goodbye, { $name }\n";
        let partial = "greeting = Ciao\n";
        let i = I18n::from_sources("it", partial, english);
        assert_eq!(tr(&i, "greeting", &[]), "Ciao");
        assert_eq!(tr(&i, "farewell", &[("name", text("Ana"))]), "Goodbye, Ana");
        let report = check::compare("it", partial, &check::parse(english));
        assert_eq!(report.missing, ["farewell"]);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // And with the real catalogs: every English key reads as something in every language.
        for (tag, _) in CATALOGS {
            let i = I18n::new(tag);
            for key in check::parse(catalog_source(FALLBACK)).entries.keys() {
                if !key.starts_with('-') {
                    assert_ne!(i.tr(key, &[]), *key, "{tag}: {key}");
                }
            }
        }
    }

    /// Every catalog against English. Run by the test command; `scripts/check-locales` runs it
    /// alone with `--nocapture` to show what each translation still lacks (shown in English).
    #[test]
    fn catalogs_are_well_formed() {
        let english = check::parse(catalog_source(FALLBACK));
        assert!(
            english.errors.is_empty(),
            "{FALLBACK}: {:#?}",
            english.errors
        );
        let mut failures = Vec::new();
        for (tag, source) in CATALOGS.iter().filter(|(t, _)| *t != FALLBACK) {
            let report = check::compare(tag, source, &english);
            if report.missing.is_empty() {
                eprintln!("{tag}: complete ({} keys)", english.entries.len());
            } else {
                eprintln!(
                    "{tag}: {} of {} keys missing (shown in English): {}",
                    report.missing.len(),
                    english.entries.len(),
                    report.missing.join(", ")
                );
            }
            failures.extend(report.errors.iter().map(|e| format!("{tag}: {e}")));
        }
        assert!(
            failures.is_empty(),
            "catalog errors:\n{}",
            failures.join("\n")
        );
    }
}
