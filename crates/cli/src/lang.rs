//! The language of the lines a person reads: the configuration's `[general] language`, else the
//! system locale. Machine output stays untranslated because scripts parse it: `--json` field
//! names and ids, hook variables, `account test` step ids, and `watch`'s state details (English
//! like the logs). `account test --json` writes its `detail`, `hint` and `strategy` texts in
//! this language, as it prints them. Lines go through `I18n::tr_plain`, without the invisible
//! bidi isolation marks Fluent puts around arguments, which many terminals draw as boxes.

use std::path::Path;

use pushmail_core::Config;
use pushmail_core::i18n::I18n;

/// Loads the language for `config_path`; a configuration that does not load is reported by the
/// command itself, so here it just means "the system language".
pub fn for_config(config_path: &Path) -> I18n {
    match Config::load(config_path) {
        Ok(config) => of(&config),
        Err(_) => I18n::new("auto"),
    }
}

/// The language `config` asks for ("auto" = the system's).
pub fn of(config: &Config) -> I18n {
    I18n::new(config.general.language.as_str())
}
