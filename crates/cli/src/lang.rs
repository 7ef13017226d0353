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
    let requested = Config::load(config_path)
        .ok()
        .and_then(|c| c.general.language.tag())
        .unwrap_or("auto");
    I18n::new(requested)
}

#[cfg(test)]
mod tests {
    use pushmail_core::i18n::text;
    use pushmail_core::watch::strategy::{Caps, choose};

    /// `account test` in a configuration that says Italian: the strategy line is Italian.
    #[test]
    fn the_configured_language_writes_the_strategy_line() {
        let dir = std::env::temp_dir().join(format!("pushmail-cli-lang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, "[general]\nlanguage = \"it\"\n").unwrap();
        let i18n = super::for_config(&path);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(i18n.lang(), "it");
        let folders: Vec<String> = ["INBOX", "Clienti", "Liste"].map(String::from).to_vec();
        let idle_only = Caps {
            idle: true,
            ..Caps::default()
        };
        let strategy = choose(idle_only, &folders).describe_in(&i18n, 60);
        assert_eq!(
            i18n.tr_plain("cli-strategy", &[("strategy", text(&strategy))]),
            "Strategia: senza NOTIFY: push su INBOX, altre 2 cartelle controllate ogni 60 s"
        );
    }
}
