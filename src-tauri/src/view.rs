//! The shapes the UI sees, and the pure conversions between them and the core's config types.
//!
//! The UI never gets a core type directly: these views use camelCase, plain strings for
//! optional text (`""` = not set) and command lines as one editable string, so the TypeScript
//! side stays simple. Every conversion back into the core is validated here or by
//! [`pushmail_core::Config::validate`]; nothing the UI sends is trusted. There is no password
//! anywhere in these types: passwords only travel UI → keyring (see `commands::accounts`).
//!
//! The TypeScript twins live in `ui/src/types.ts`.

use std::path::Path;

use pushmail_core::config::{
    General, Knob, Language, Notifications, OAuthSettings, OpenTarget, Preview, QuietHours,
};
use pushmail_core::{Account, PasswordSource, Protocol, Security};
use serde::{Deserialize, Serialize};

use crate::error::UiError;

/// Everything the settings window shows, read from the file in one go.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// The file being edited, shown in the General page.
    pub config_path: String,
    pub accounts: Vec<AccountView>,
    pub general: GeneralView,
    pub notifications: NotificationsView,
    /// Bounds of the numeric notification settings, from the core's knob table.
    pub knobs: Vec<KnobView>,
    /// What "auto" resolves to, as a language tag (`it`, `zh-TW`, `en`, …).
    pub system_language: String,
    /// Whether the tray starts at login.
    pub autostart: bool,
}

/// One account as the forms edit it. Also the input of `save_account` and `test_connection`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub id: String,
    pub name: String,
    /// `""` = none.
    pub email: String,
    /// IMAP or POP3. Absent on input = IMAP, as in the file.
    #[serde(default)]
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// The program that prints the password, as a shell-like line (`pass show mail/work`);
    /// `""` = the OS keyring. It names a program, it is not a secret.
    pub password_command: String,
    /// The provider the account signs in at (`auth = "oauth2"`): `google`, `microsoft`, …;
    /// `""` = a password. Settings the form does not show (tenant, client secret) are kept.
    #[serde(default)]
    pub oauth_provider: String,
    /// The sign-in's own settings (`oauth_client_id`, endpoints, scopes, issuer); what a
    /// `custom` provider needs, and overrides for a built-in one. Absent on input = none.
    #[serde(default)]
    pub oauth: OAuthView,
    /// `""` = system trust store only.
    pub ca_file: String,
    /// Always `["INBOX"]` for POP3, which has one mailbox (`Config::validate` refuses others).
    pub folders: Vec<String>,
    pub enabled: bool,
    pub mute: bool,
    pub preview: Preview,
    pub open: OpenView,
    /// Read-only: shown in the "checking every N s" state line. Ignored on input.
    #[serde(default, skip_deserializing)]
    pub poll_interval_secs: u64,
}

/// An account's `oauth_*` settings as the form edits them: `""` = not set (the provider's own);
/// scopes as one space-separated line, the way OAuth writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OAuthView {
    pub client_id: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub scopes: String,
    pub issuer: String,
}

impl OAuthView {
    fn from_settings(o: &OAuthSettings) -> OAuthView {
        OAuthView {
            client_id: o.client_id.clone().unwrap_or_default(),
            authorization_endpoint: o.authorization_endpoint.clone().unwrap_or_default(),
            token_endpoint: o.token_endpoint.clone().unwrap_or_default(),
            scopes: o.scopes.as_deref().map(|s| s.join(" ")).unwrap_or_default(),
            issuer: o.issuer.clone().unwrap_or_default(),
        }
    }

    /// Onto `settings`, keeping what the form does not show (tenant, client secret, SASL).
    fn apply_to(&self, settings: &mut OAuthSettings) {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        settings.client_id = text(&self.client_id);
        settings.authorization_endpoint = text(&self.authorization_endpoint);
        settings.token_endpoint = text(&self.token_endpoint);
        settings.issuer = text(&self.issuer);
        let scopes: Vec<String> = self.scopes.split_whitespace().map(str::to_owned).collect();
        settings.scopes = Some(scopes).filter(|s| !s.is_empty());
    }
}

/// What clicking a notification opens, as the form edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenView {
    pub kind: OpenKind,
    /// The URL for `url`, the command line for `command`, ignored for `default`.
    pub value: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenKind {
    Default,
    Url,
    Command,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeneralView {
    pub language: Language,
    /// The mail client for "Open", as a command line; `""` = the desktop's default.
    pub open_command: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsView {
    pub enabled: bool,
    pub quiet_hours: Option<QuietHoursView>,
    pub vip: Vec<String>,
    pub summary_threshold: u32,
    pub summary_window_secs: u64,
    pub notify_timeout_secs: u64,
    pub history_size: u32,
}

/// `"HH:MM"` in local time, as `<input type="time">` gives them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHoursView {
    pub start: String,
    pub end: String,
}

/// Input of `save_notification_rules`: the whole Notifications page, saved in one write.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRules {
    pub notifications: NotificationsView,
    pub accounts: Vec<AccountRule>,
}

/// Per-account attention rules.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountRule {
    pub id: String,
    pub mute: bool,
    pub preview: Preview,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KnobView {
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
    pub default: u64,
}

impl From<Knob> for KnobView {
    fn from(k: Knob) -> KnobView {
        KnobView {
            key: k.key,
            min: k.min,
            max: k.max,
            default: k.default,
        }
    }
}

/// A command line for display, quoted so that [`split_command`] gives the same argv back.
pub fn join_command(argv: &[String]) -> String {
    shell_words::join(argv)
}

/// A command line typed by the user → argv (no shell is ever involved; this is only how the
/// words are separated and quoted). `field` names the form field in the error.
pub fn split_command(line: &str, field: &str) -> Result<Option<Vec<String>>, UiError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    shell_words::split(line).map(Some).map_err(|_| {
        UiError::invalid(format!(
            "{field}: a quotation mark is not closed; put quotes around words with spaces, or remove the stray quote"
        ))
    })
}

impl AccountView {
    pub fn from_account(a: &Account) -> AccountView {
        AccountView {
            id: a.id.clone(),
            name: a.name.clone(),
            email: a.email.clone().unwrap_or_default(),
            protocol: a.protocol,
            host: a.host.clone(),
            port: a.port,
            security: a.security,
            username: a.username.clone(),
            password_command: match &a.password {
                PasswordSource::Keyring | PasswordSource::OAuth2(_) | PasswordSource::Vault => {
                    String::new()
                }
                PasswordSource::Command(argv) => join_command(argv),
            },
            oauth_provider: match &a.password {
                PasswordSource::OAuth2(o) => o.provider.clone(),
                _ => String::new(),
            },
            oauth: match &a.password {
                PasswordSource::OAuth2(o) => OAuthView::from_settings(o),
                _ => OAuthView::default(),
            },
            ca_file: a
                .ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            folders: a.folders.clone(),
            enabled: a.enabled,
            mute: a.mute,
            preview: a.preview,
            open: match &a.open {
                OpenTarget::Default => OpenView {
                    kind: OpenKind::Default,
                    value: String::new(),
                },
                OpenTarget::Url(url) => OpenView {
                    kind: OpenKind::Url,
                    value: url.clone(),
                },
                OpenTarget::Command(argv) => OpenView {
                    kind: OpenKind::Command,
                    value: join_command(argv),
                },
            },
            poll_interval_secs: a.timing.poll_interval.as_secs(),
        }
    }

    /// The form applied on top of `base` (the stored account, or [`Account::new`] for a new
    /// one), so settings the window does not show (timing knobs) survive an edit. A relative
    /// `ca_file` is taken relative to the config file's directory, as in the file itself.
    /// The result still has to pass [`pushmail_core::Config::validate`].
    pub fn apply_to(&self, mut base: Account, config_dir: &Path) -> Result<Account, UiError> {
        let trimmed = |s: &str| s.trim().to_owned();
        base.id = trimmed(&self.id);
        base.name = match self.name.trim() {
            "" => base.id.clone(),
            name => name.to_owned(),
        };
        base.email = Some(trimmed(&self.email)).filter(|e| !e.is_empty());
        base.protocol = self.protocol;
        base.host = trimmed(&self.host);
        base.port = self.port;
        base.security = self.security;
        // A pasted trailing space is a classic cause of "login failed"; login names with
        // spaces at either end are not something servers hand out.
        base.username = trimmed(&self.username);
        base.password = match (
            self.oauth_provider.trim(),
            split_command(&self.password_command, "Password command")?,
        ) {
            ("", None) => PasswordSource::Keyring,
            ("", Some(argv)) => PasswordSource::Command(argv),
            (_, Some(_)) => {
                return Err(UiError::invalid(
                    "Password command: this account signs in at its provider and has no password",
                ));
            }
            (provider, None) => {
                let mut settings = match base.password {
                    // The same provider: keep what the form does not show (tenant, secret).
                    PasswordSource::OAuth2(o) if o.provider == provider => o,
                    _ => Box::new(OAuthSettings {
                        provider: provider.to_owned(),
                        ..Default::default()
                    }),
                };
                self.oauth.apply_to(&mut settings);
                PasswordSource::OAuth2(settings)
            }
        };
        base.ca_file = match self.ca_file.trim() {
            "" => None,
            path => Some(config_dir.join(path)),
        };
        base.folders = self.folders.clone();
        base.enabled = self.enabled;
        base.mute = self.mute;
        base.preview = self.preview;
        base.open = match self.open.kind {
            OpenKind::Default => OpenTarget::Default,
            OpenKind::Url => OpenTarget::Url(trimmed(&self.open.value)),
            OpenKind::Command => match split_command(&self.open.value, "Open with")? {
                Some(argv) => OpenTarget::Command(argv),
                None => {
                    return Err(UiError::invalid(
                        "Open with: enter the command to run, or choose the default mail client",
                    ));
                }
            },
        };
        Ok(base)
    }
}

impl GeneralView {
    pub fn from_general(g: &General) -> GeneralView {
        GeneralView {
            language: g.language,
            open_command: g
                .open_command
                .as_deref()
                .map(join_command)
                .unwrap_or_default(),
        }
    }

    pub fn to_general(&self) -> Result<General, UiError> {
        Ok(General {
            language: self.language,
            open_command: split_command(&self.open_command, "Mail client command")?,
        })
    }
}

fn hhmm((h, m): (u8, u8)) -> String {
    format!("{h:02}:{m:02}")
}

/// `"HH:MM"` (or `"H:MM"`) → `(hour, minute)`, checking ranges.
pub fn parse_hhmm(text: &str) -> Option<(u8, u8)> {
    let (h, m) = text.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u8 = h.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    (h < 24 && m < 60).then_some((h, m))
}

impl NotificationsView {
    pub fn from_notifications(n: &Notifications) -> NotificationsView {
        NotificationsView {
            enabled: n.enabled,
            quiet_hours: n.quiet_hours.map(|q| QuietHoursView {
                start: hhmm(q.start),
                end: hhmm(q.end),
            }),
            vip: n.vip.clone(),
            summary_threshold: n.summary_threshold,
            summary_window_secs: n.summary_window.as_secs(),
            notify_timeout_secs: n.notify_timeout.as_secs(),
            history_size: n.history_size,
        }
    }

    /// Onto `base` so anything the page does not show is kept. Ranges are checked by
    /// `Config::validate`; only the shape is checked here.
    pub fn apply_to(&self, mut base: Notifications) -> Result<Notifications, UiError> {
        base.enabled = self.enabled;
        base.quiet_hours = match &self.quiet_hours {
            None => None,
            Some(q) => {
                let parse = |t: &str, which: &str| {
                    parse_hhmm(t).ok_or_else(|| {
                        UiError::invalid(format!(
                            "Quiet hours: the {which} time must look like 22:00"
                        ))
                    })
                };
                Some(QuietHours {
                    start: parse(&q.start, "start")?,
                    end: parse(&q.end, "end")?,
                })
            }
        };
        let mut vip: Vec<String> = Vec::new();
        for entry in &self.vip {
            let entry = entry.trim();
            if !entry.is_empty() && !vip.iter().any(|v| v.eq_ignore_ascii_case(entry)) {
                vip.push(entry.to_owned());
            }
        }
        base.vip = vip;
        base.summary_threshold = self.summary_threshold;
        base.summary_window = std::time::Duration::from_secs(self.summary_window_secs);
        base.notify_timeout = std::time::Duration::from_secs(self.notify_timeout_secs);
        base.history_size = self.history_size;
        Ok(base)
    }
}

pub fn knobs() -> Vec<KnobView> {
    Notifications::KNOBS
        .into_iter()
        .map(KnobView::from)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use pushmail_core::Config;

    fn form() -> AccountView {
        AccountView::from_account(&Account::new("work", "imap.example.com", "ana"))
    }

    #[test]
    fn an_account_survives_view_and_back() {
        let mut account = Account::new("work", "imap.example.com", "ana");
        account.name = "Work".into();
        account.email = Some("ana@example.com".into());
        account.password =
            PasswordSource::Command(vec!["pass".into(), "show".into(), "mail/my work".into()]);
        account.ca_file = Some("/etc/ssl/ca.pem".into());
        account.folders = vec!["INBOX".into(), "Lists/Rust".into()];
        account.mute = true;
        account.preview = Preview::Count;
        account.open = OpenTarget::Command(vec!["thunderbird".into(), "-P".into(), "work".into()]);
        account.timing.poll_interval = std::time::Duration::from_secs(90);
        let view = AccountView::from_account(&account);
        assert_eq!(view.password_command, "pass show 'mail/my work'");
        let base = Account::new("work", "x", "y");
        let mut back = view.apply_to(base, Path::new("/cfg")).unwrap();
        // Timing is not in the form: it comes from the base.
        assert_eq!(
            back.timing.poll_interval,
            std::time::Duration::from_secs(60)
        );
        back.timing = account.timing.clone();
        assert_eq!(back, account);
    }

    #[test]
    fn a_sign_in_account_survives_view_and_back_keeping_what_the_form_does_not_show() {
        let mut account = Account::new("self", "imap.example.org", "ana");
        account.password = PasswordSource::OAuth2(Box::new(OAuthSettings {
            provider: "custom".into(),
            client_id: Some("pushmail".into()),
            client_secret: Some("installed-app".into()),
            authorization_endpoint: Some("https://id.example.org/auth".into()),
            token_endpoint: Some("https://id.example.org/token".into()),
            scopes: Some(vec![
                "openid".into(),
                "offline_access".into(),
                "imap".into(),
            ]),
            issuer: Some("https://id.example.org".into()),
            ..OAuthSettings::default()
        }));
        let view = AccountView::from_account(&account);
        assert_eq!(view.oauth_provider, "custom");
        assert_eq!(view.oauth.scopes, "openid offline_access imap");
        assert_eq!(view.password_command, "");
        let back = view.apply_to(account.clone(), Path::new("/cfg")).unwrap();
        assert_eq!(back.password, account.password);

        // Switched to a built-in provider: a fresh sign-in setting, with the form's overrides.
        let mut google = view.clone();
        google.oauth_provider = "google".into();
        google.oauth = OAuthView::default();
        match google
            .apply_to(account.clone(), Path::new("/cfg"))
            .unwrap()
            .password
        {
            PasswordSource::OAuth2(o) => {
                assert_eq!(o.provider, "google");
                assert_eq!((o.client_id, o.client_secret, o.scopes), (None, None, None));
            }
            other => panic!("{other:?}"),
        }
        // Back to a password: no sign-in settings left; a password command with a provider is
        // refused.
        let mut password = view.clone();
        password.oauth_provider = String::new();
        assert_eq!(
            password
                .apply_to(account.clone(), Path::new("/cfg"))
                .unwrap()
                .password,
            PasswordSource::Keyring
        );
        let mut both = view;
        both.password_command = "pass show mail".into();
        assert!(both.apply_to(account, Path::new("/cfg")).is_err());
    }

    #[test]
    fn a_pop3_account_survives_view_and_back_and_is_saved_as_pop3() {
        let mut account = Account::new("home", "pop.example.com", "ana");
        account.protocol = Protocol::Pop3;
        account.port = Protocol::Pop3.default_port(Security::Tls);
        let view = AccountView::from_account(&account);
        assert_eq!(view.protocol, Protocol::Pop3);
        assert_eq!(view.port, 995);
        assert_eq!(view.folders, ["INBOX"]);
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["protocol"], "pop3");

        // What the UI sends back, applied onto an IMAP base, is the POP3 account again.
        let from_ui: AccountView = serde_json::from_value(json).unwrap();
        let back = from_ui
            .apply_to(Account::new("home", "x", "y"), Path::new("/cfg"))
            .unwrap();
        assert_eq!(back, account);

        let config = Config {
            accounts: vec![back],
            ..Config::default()
        };
        config.validate().unwrap();
        let text = config.to_toml_string();
        assert!(text.contains("protocol = \"pop3\""), "{text}");
        // 995 is POP3's default for TLS, so the file needs no port.
        assert!(!text.contains("port ="), "{text}");
    }

    #[test]
    fn the_protocol_is_imap_unless_the_form_says_otherwise() {
        let view = form();
        assert_eq!(view.protocol, Protocol::Imap);
        assert_eq!(serde_json::to_value(&view).unwrap()["protocol"], "imap");

        // A form from before POP3 (no `protocol`) is an IMAP account, and stays one.
        let mut json = serde_json::to_value(&view).unwrap();
        json.as_object_mut().unwrap().remove("protocol");
        let old: AccountView = serde_json::from_value(json).unwrap();
        assert_eq!(old.protocol, Protocol::Imap);
        let mut pop3_base = Account::new("work", "x", "y");
        pop3_base.protocol = Protocol::Pop3;
        let a = old.apply_to(pop3_base, Path::new("/")).unwrap();
        assert_eq!(a.protocol, Protocol::Imap);
        assert!(
            !Config {
                accounts: vec![a],
                ..Config::default()
            }
            .to_toml_string()
            .contains("protocol")
        );
    }

    #[test]
    fn a_pop3_form_with_folders_is_refused_by_the_core_rules() {
        // The form sends ["INBOX"] for POP3; anything else is not quietly watched as one box.
        let mut f = form();
        f.protocol = Protocol::Pop3;
        f.port = 995;
        f.folders = vec!["INBOX".into(), "Lists/Rust".into()];
        let a = f
            .apply_to(Account::new("x", "y", "z"), Path::new("/"))
            .unwrap();
        let err = Config {
            accounts: vec![a],
            ..Config::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("folders"), "{err}");
    }

    #[test]
    fn blanks_mean_defaults_and_text_is_trimmed() {
        let mut f = form();
        f.name = "  ".into();
        f.host = " imap.example.com ".into();
        f.email = " ".into();
        f.ca_file = "ca.pem".into();
        let a = f
            .apply_to(
                Account::new("x", "y", "z"),
                Path::new("/home/ana/.config/pushmail"),
            )
            .unwrap();
        assert_eq!(a.name, "work");
        assert_eq!(a.host, "imap.example.com");
        assert_eq!(a.email, None);
        assert_eq!(a.password, PasswordSource::Keyring);
        assert_eq!(
            a.ca_file.as_deref(),
            Some(Path::new("/home/ana/.config/pushmail/ca.pem"))
        );
    }

    #[test]
    fn broken_command_lines_are_explained() {
        let mut f = form();
        f.password_command = "pass show 'unclosed".into();
        let err = f
            .apply_to(Account::new("x", "y", "z"), Path::new("/"))
            .unwrap_err();
        assert_eq!(err.kind, crate::error::ErrorKind::Invalid);
        assert!(
            err.message.starts_with("Password command:"),
            "{}",
            err.message
        );

        let mut f = form();
        f.open = OpenView {
            kind: OpenKind::Command,
            value: "  ".into(),
        };
        assert!(
            f.apply_to(Account::new("x", "y", "z"), Path::new("/"))
                .is_err()
        );
    }

    #[test]
    fn hostile_looking_input_is_data_not_syntax() {
        // Shell metacharacters stay literal words: no shell ever sees them.
        let argv = split_command("mutt -e 'push <x>'; rm -rf ~ $(id)", "x")
            .unwrap()
            .unwrap();
        assert_eq!(
            argv,
            ["mutt", "-e", "push <x>;", "rm", "-rf", "~", "$(id)"].map(String::from)
        );
    }

    #[test]
    fn times_are_parsed_strictly() {
        assert_eq!(parse_hhmm("22:00"), Some((22, 0)));
        assert_eq!(parse_hhmm("7:05"), Some((7, 5)));
        for bad in [
            "24:00", "12:60", "12", "", "ab:cd", "12:5", "123:00", "-1:00",
        ] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    #[test]
    fn notification_rules_round_trip_and_dedupe_vips() {
        let n = Notifications {
            quiet_hours: Some(QuietHours {
                start: (22, 0),
                end: (7, 30),
            }),
            vip: vec!["boss@example.com".into(), "@family.example".into()],
            ..Notifications::default()
        };
        let mut view = NotificationsView::from_notifications(&n);
        assert_eq!(
            view.quiet_hours,
            Some(QuietHoursView {
                start: "22:00".into(),
                end: "07:30".into()
            })
        );
        view.vip.push(" BOSS@example.com ".into());
        view.vip.push("".into());
        assert_eq!(view.apply_to(Notifications::default()).unwrap(), n);

        view.quiet_hours = Some(QuietHoursView {
            start: "25:00".into(),
            end: "07:00".into(),
        });
        assert!(view.apply_to(Notifications::default()).is_err());
    }

    #[test]
    fn a_saved_form_passes_the_core_rules() {
        let mut config = Config::default();
        config.accounts.push(
            form()
                .apply_to(Account::new("a", "b", "c"), Path::new("/"))
                .unwrap(),
        );
        config.notifications = NotificationsView::from_notifications(&Notifications::default())
            .apply_to(Notifications::default())
            .unwrap();
        config.general = GeneralView::from_general(&General::default())
            .to_general()
            .unwrap();
        config.validate().unwrap();
    }
}
