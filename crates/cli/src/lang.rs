//! The language of the lines a person reads: the configuration's `[general] language`, else the
//! system locale. Machine output (`--json`, hook variables, `account test` step ids) stays
//! untranslated: scripts parse it. Lines go through `I18n::tr_plain`, without the invisible bidi
//! isolation marks Fluent puts around arguments, which many terminals draw as boxes.

use std::path::Path;

use pushmail_core::Config;
use pushmail_core::i18n::I18n;

/// Loads the language for `config_path`; a configuration that does not load is reported by the
/// command itself, so here it just means "the system language".
pub fn for_config(config_path: &Path) -> I18n {
    let requested = Config::load(config_path)
        .ok()
        .and_then(|c| c.general.language.tag())
        .unwrap_or("auto");
    I18n::new(requested)
}
