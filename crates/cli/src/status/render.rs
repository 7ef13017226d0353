//! What `pushmail-cli status` prints, from what the tray reported: the one-line summary, the
//! stable JSON, waybar's JSON and polybar's line.
//!
//! Pure: a [`View`] and a language in, one line out, so every form is tested without a bus.
//! The words come from the catalogs; the tooltip reuses the tray's own account lines
//! (`account-line`, `account-line-state`, `state-*`), so a bar's tooltip reads like the tray's.

use pushmail_core::display::{self, NAME_MAX_GRAPHEMES, PDI, RLI};
use pushmail_core::i18n::{I18n, num, text};
use serde::Serialize;

/// One account as the tray reports it: a row of `GetAccounts` (`docs/dbus.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// `connecting push polling backoff error auth_failed signin_required stopped disabled`, or a word a newer
    /// tray added (shown as it is).
    pub state: String,
    /// "What happened — what to do" in the tray's language; empty when all is well.
    pub detail: String,
    pub unread: u32,
}

impl Account {
    /// Password rejected, certificate refused, bad settings: the user has to act. The tray's
    /// attention look uses the same two states.
    fn needs_attention(&self) -> bool {
        matches!(
            self.state.as_str(),
            "error" | "auth_failed" | "signin_required"
        )
    }

    /// Watching as it should (the tray's tooltip adds no state to these).
    fn is_fine(&self) -> bool {
        matches!(self.state.as_str(), "push" | "polling")
    }

    /// Worth a word in the one-line summary: anything but watching, the first connection, and
    /// switched off. A state this version does not know is shown rather than hidden.
    fn is_problem(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "push" | "polling" | "connecting" | "disabled"
        )
    }

    /// The display name, cleaned like any text that reaches a screen; the id if it is empty.
    fn shown_name(&self) -> String {
        let name = if self.name.trim().is_empty() {
            &self.id
        } else {
            &self.name
        };
        plain(name, NAME_MAX_GRAPHEMES)
    }
}

/// Everything the tray said in one reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// In the configuration's order.
    pub accounts: Vec<Account>,
    /// Notification popups are paused (the counts keep updating).
    pub paused: bool,
    /// Unix time the pause ends; 0 if none or until resumed.
    pub paused_until: i64,
}

impl Snapshot {
    /// The sum of the accounts' counts rather than a second call to `GetUnreadCount`: one
    /// reading then always adds up ("3 unread — Work 2, Home 1"), even while mail arrives.
    pub fn total(&self) -> u32 {
        self.accounts
            .iter()
            .map(|a| a.unread)
            .fold(0, u32::saturating_add)
    }

    fn needs_attention(&self) -> bool {
        self.accounts.iter().any(Account::needs_attention)
    }
}

/// What there is to show.
#[derive(Clone, Copy, Debug)]
pub enum View<'a> {
    Running(&'a Snapshot),
    /// No tray owns the name. A single `status` reports it as an error; `--watch` shows it as
    /// a state, because a bar started before the tray (at login) must simply wait for it.
    NotRunning,
}

/// The output forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// One line in the user's language.
    Line,
    /// The documented JSON object (`docs/dbus.md`).
    Json,
    /// waybar's custom-module JSON (`return-type: json`).
    Waybar,
    /// A plain line for polybar's `custom/script`.
    Polybar,
}

/// `view` in `form`, as one line without its newline.
pub fn render(form: Form, i18n: &I18n, view: View<'_>) -> String {
    match form {
        Form::Line => line(i18n, view),
        Form::Json => json(view),
        Form::Waybar => waybar(i18n, view),
        Form::Polybar => polybar(i18n, view),
    }
}

/// The sentence for "no tray is running", also the error of a single `status`.
pub fn not_running(i18n: &I18n) -> String {
    i18n.tr_plain("cli-status-not-running", &[])
}

/// "3 unread — Work 2, Home 1 · Old: password rejected · Notifications paused".
pub fn line(i18n: &I18n, view: View<'_>) -> String {
    let View::Running(s) = view else {
        return not_running(i18n);
    };
    let total = i18n.tr_plain("cli-status-total", &[("count", num(s.total()))]);
    let with_unread: Vec<String> = s
        .accounts
        .iter()
        .filter(|a| a.unread > 0)
        .map(|a| {
            i18n.tr_plain(
                "cli-status-account",
                &[("name", text(&a.shown_name())), ("count", num(a.unread))],
            )
        })
        .collect();
    let mut parts = vec![if with_unread.is_empty() {
        total
    } else {
        i18n.tr_plain(
            "cli-status-with-accounts",
            &[
                ("total", text(&total)),
                ("accounts", text(&i18n.list(&with_unread))),
            ],
        )
    }];
    parts.extend(s.accounts.iter().filter(|a| a.is_problem()).map(|a| {
        i18n.tr_plain(
            "cli-status-problem",
            &[
                ("name", text(&a.shown_name())),
                ("state", text(&state_text(i18n, &a.state))),
            ],
        )
    }));
    if s.paused {
        parts.push(i18n.tr_plain("tray-paused", &[]));
    }
    parts.join(&i18n.tr_plain("cli-status-separator", &[]))
}

/// The stable JSON of `--json`: field names and state words never change; `detail` is the
/// tray's text as it sent it.
pub fn json(view: View<'_>) -> String {
    #[derive(Serialize)]
    struct Json<'a> {
        running: bool,
        total: u32,
        paused: bool,
        paused_until: i64,
        accounts: &'a [Account],
    }
    let empty = Snapshot::default();
    let (running, s) = match view {
        View::Running(s) => (true, s),
        View::NotRunning => (false, &empty),
    };
    let out = Json {
        running,
        total: s.total(),
        paused: s.paused,
        paused_until: s.paused_until,
        accounts: &s.accounts,
    };
    // Strings, numbers and booleans only: serialising cannot fail.
    serde_json::to_string(&out).unwrap_or_default()
}

/// waybar's `alt` (for `format-icons`) and first `class`, most urgent first, as the tray picks
/// its icon: attention, paused, unread, idle.
fn look(s: &Snapshot) -> &'static str {
    if s.needs_attention() {
        "attention"
    } else if s.paused {
        "paused"
    } else if s.total() > 0 {
        "unread"
    } else {
        "idle"
    }
}

/// `{"text","alt","tooltip","class"}` for a waybar custom module with `return-type: json`.
///
/// `text` is the total unread count, or empty when nothing is unread and no account needs
/// attention (so `hide-empty-text` hides the module then). waybar reads `text` and `tooltip`
/// as Pango markup unless the module sets `escape`, so they are escaped here: an account named
/// "Tom & Jerry" or a server's `<` in a detail stays text. Leave `escape` off.
pub fn waybar(i18n: &I18n, view: View<'_>) -> String {
    #[derive(Serialize)]
    struct Waybar {
        text: String,
        alt: &'static str,
        tooltip: String,
        class: Vec<&'static str>,
    }
    let out = match view {
        View::NotRunning => Waybar {
            text: String::new(),
            alt: "not-running",
            tooltip: display::escape_markup(&not_running(i18n)),
            class: vec!["not-running"],
        },
        View::Running(s) => {
            let alt = look(s);
            let mut class = vec![alt];
            // Every other condition that holds, so CSS can combine them (`.unread.paused`).
            let also = [
                ("paused", s.paused),
                ("unread", s.total() > 0),
                (
                    "offline",
                    s.accounts.iter().any(|a| a.state.as_str() == "backoff"),
                ),
            ];
            class.extend(
                also.iter()
                    .filter(|(name, holds)| *holds && *name != alt)
                    .map(|(name, _)| *name),
            );
            let text = if s.total() == 0 && !s.needs_attention() {
                String::new()
            } else {
                i18n.number(i64::from(s.total()))
            };
            Waybar {
                text: display::escape_markup(&text),
                alt,
                tooltip: display::escape_markup(&tooltip(i18n, s)),
                class,
            }
        }
    };
    // Strings only: serialising cannot fail.
    serde_json::to_string(&out).unwrap_or_default()
}

/// The tray's tooltip, as text: the total, one line per account (with its state when it is
/// not watching normally, and what to do when it needs attention), then the pause.
pub fn tooltip(i18n: &I18n, s: &Snapshot) -> String {
    let mut lines = vec![i18n.tr_plain("tray-unread-total", &[("count", num(s.total()))])];
    for a in &s.accounts {
        let name = a.shown_name();
        let state = state_text(i18n, &a.state);
        let count_line = i18n.tr_plain(
            "account-line",
            &[("name", text(&name)), ("count", num(a.unread))],
        );
        lines.push(if a.state == "disabled" || a.needs_attention() {
            i18n.tr_plain(
                "account-line-state",
                &[("name", text(&name)), ("state", text(&state))],
            )
        } else if a.is_fine() {
            count_line
        } else {
            i18n.tr_plain(
                "account-line-with-state",
                &[("line", text(&count_line)), ("state", text(&state))],
            )
        });
        if a.needs_attention() && !a.detail.trim().is_empty() {
            lines.push(plain(&a.detail, DETAIL_MAX_GRAPHEMES));
        }
    }
    if s.paused {
        lines.push(i18n.tr_plain("tray-paused", &[]));
    }
    lines.join("\n")
}

/// The one-line summary for polybar's `custom/script`. polybar reads `%{…}` in a script's
/// output as formatting tags (colours, click actions that run commands) and has no escape for
/// them, so a `%{` in an account name is broken with an invisible WORD JOINER.
pub fn polybar(i18n: &I18n, view: View<'_>) -> String {
    line(i18n, view).replace("%{", "%\u{2060}{")
}

/// Graphemes of a detail in a tooltip line: the tray's "what happened — what to do" sentences
/// are well under this; the limit only keeps a hostile server's long text from covering the
/// screen.
const DETAIL_MAX_GRAPHEMES: usize = 400;

/// `s` through the display pipeline (no controls, bidi overrides or line breaks), without the
/// RLI … PDI pairs it adds around right-to-left runs: the lines go through
/// [`I18n::tr_plain`], which drops every PDI, and a lone RLI would isolate the rest of the line.
fn plain(s: &str, max_graphemes: usize) -> String {
    display::clean_text(s, max_graphemes, true).replace([RLI, PDI], "")
}

/// `state-*` from the catalog for the states it has a word for; a state word this version
/// does not know is shown as the tray sent it.
fn state_text(i18n: &I18n, state: &str) -> String {
    // `polling` is absent on purpose: its text needs the poll interval, which D-Bus does not
    // carry, and a polling account is fine, so no line shows its state.
    const WORDS: &[&str] = &[
        "connecting",
        "push",
        "backoff",
        "error",
        "auth_failed",
        "signin_required",
        "stopped",
        "disabled",
    ];
    if WORDS.contains(&state) {
        i18n.tr_plain(&format!("state-{state}"), &[])
    } else {
        plain(state, NAME_MAX_GRAPHEMES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn account(name: &str, state: &str, unread: u32) -> Account {
        Account {
            id: name.to_lowercase(),
            name: name.to_owned(),
            state: state.to_owned(),
            detail: String::new(),
            unread,
        }
    }

    /// Work and Home with mail, Old with a rejected password, Off switched off.
    fn mixed() -> Snapshot {
        let mut old = account("Old", "auth_failed", 0);
        old.detail = "login failed: [AUTHENTICATIONFAILED] nope — Check the user name".to_owned();
        Snapshot {
            accounts: vec![
                account("Work", "push", 2),
                account("Home", "polling", 1),
                old,
                account("Off", "disabled", 0),
            ],
            paused: false,
            paused_until: 0,
        }
    }

    fn quiet(paused: bool) -> Snapshot {
        Snapshot {
            accounts: vec![account("Work", "push", 0)],
            paused,
            paused_until: 0,
        }
    }

    fn one_line(lang: &str, s: &Snapshot) -> String {
        line(&I18n::new(lang), View::Running(s))
    }

    fn waybar_json(lang: &str, view: View<'_>) -> Value {
        serde_json::from_str(&waybar(&I18n::new(lang), view)).expect("waybar output is JSON")
    }

    #[test]
    fn one_line_names_the_accounts_with_mail_and_those_that_need_attention() {
        assert_eq!(
            one_line("en", &mixed()),
            "3 unread — Work 2, Home 1 · Old: password rejected"
        );
        assert_eq!(one_line("en", &quiet(false)), "No unread mail");
        assert_eq!(
            one_line("en", &quiet(true)),
            "No unread mail · Notifications paused"
        );
        let mut one = quiet(false);
        one.accounts[0].unread = 1;
        one.accounts.push(account("Home", "backoff", 0));
        assert_eq!(
            one_line("en", &one),
            "1 unread — Work 1 · Home: offline, retrying"
        );
        // Connecting is the normal first moment, not a problem worth a word.
        let starting = Snapshot {
            accounts: vec![account("Work", "connecting", 0)],
            ..Snapshot::default()
        };
        assert_eq!(one_line("en", &starting), "No unread mail");
    }

    #[test]
    fn one_line_in_arabic_and_chinese() {
        assert_eq!(
            one_line("ar", &mixed()),
            "3 رسائل غير مقروءة — Work 2، Home 1؛ Old: رُفضت كلمة المرور"
        );
        assert_eq!(one_line("ar", &quiet(false)), "لا توجد رسائل غير مقروءة");
        // Arabic's dual and its "many" form (11–99).
        let mut two = quiet(false);
        two.accounts[0].unread = 2;
        assert_eq!(one_line("ar", &two), "رسالتان غير مقروءتين — Work 2");
        two.accounts[0].unread = 11;
        assert_eq!(one_line("ar", &two), "11 رسالة غير مقروءة — Work 11");
        assert_eq!(
            one_line("zh-CN", &mixed()),
            "3 封未读 — Work 2、Home 1；Old：密码被拒绝"
        );
        assert_eq!(one_line("zh-TW", &quiet(true)), "沒有未讀郵件；通知已暫停");
        assert_eq!(
            line(&I18n::new("zh-CN"), View::NotRunning),
            "Pushmail 未在运行 — 请用 `pushmail` 启动它"
        );
    }

    #[test]
    fn a_state_this_version_does_not_know_is_shown_as_sent() {
        let s = Snapshot {
            accounts: vec![account("Work", "signing_in", 0)],
            ..Snapshot::default()
        };
        assert_eq!(one_line("en", &s), "No unread mail · Work: signing_in");
    }

    #[test]
    fn json_has_the_documented_fields() {
        let s = mixed();
        let v: Value = serde_json::from_str(&json(View::Running(&s))).expect("JSON");
        assert_eq!(
            v,
            json!({
                "running": true,
                "total": 3,
                "paused": false,
                "paused_until": 0,
                "accounts": [
                    {"id": "work", "name": "Work", "state": "push", "detail": "", "unread": 2},
                    {"id": "home", "name": "Home", "state": "polling", "detail": "", "unread": 1},
                    {"id": "old", "name": "Old", "state": "auth_failed",
                     "detail": "login failed: [AUTHENTICATIONFAILED] nope — Check the user name",
                     "unread": 0},
                    {"id": "off", "name": "Off", "state": "disabled", "detail": "", "unread": 0},
                ],
            })
        );
        assert_eq!(
            json(View::NotRunning),
            r#"{"running":false,"total":0,"paused":false,"paused_until":0,"accounts":[]}"#
        );
    }

    #[test]
    fn waybar_gets_the_count_the_most_urgent_look_and_the_trays_tooltip() {
        let v = waybar_json("en", View::Running(&mixed()));
        assert_eq!(v["text"], "3");
        assert_eq!(v["alt"], "attention");
        assert_eq!(v["class"], json!(["attention", "unread"]));
        assert_eq!(
            v["tooltip"],
            "3 unread messages\nWork — 2 unread\nHome — 1 unread\nOld — password rejected\n\
             login failed: [AUTHENTICATIONFAILED] nope — Check the user name\nOff — disabled"
        );
        assert_eq!(
            v.as_object().map(|o| o.len()),
            Some(4),
            "text, alt, tooltip, class: {v}"
        );

        // Nothing unread and all fine: empty text, so `hide-empty-text` can hide the module.
        let v = waybar_json("en", View::Running(&quiet(false)));
        assert_eq!((&v["text"], &v["alt"]), (&json!(""), &json!("idle")));
        assert_eq!(v["class"], json!(["idle"]));
        assert_eq!(v["tooltip"], "No unread mail\nWork — no unread");

        let mut paused = quiet(true);
        paused.accounts[0].unread = 1;
        paused.accounts.push(account("Home", "backoff", 0));
        let v = waybar_json("en", View::Running(&paused));
        assert_eq!((&v["text"], &v["alt"]), (&json!("1"), &json!("paused")));
        assert_eq!(v["class"], json!(["paused", "unread", "offline"]));
        assert_eq!(
            v["tooltip"],
            "1 unread message\nWork — 1 unread\nHome — no unread (offline, retrying)\n\
             Notifications paused"
        );

        let v = waybar_json("en", View::NotRunning);
        assert_eq!(
            v,
            json!({"text": "", "alt": "not-running", "class": ["not-running"],
                   "tooltip": "Pushmail is not running — start it with `pushmail`"})
        );
    }

    #[test]
    fn waybar_in_arabic_and_chinese() {
        let v = waybar_json("ar", View::Running(&mixed()));
        assert_eq!(v["text"], "3");
        let tooltip = v["tooltip"].as_str().unwrap_or_default();
        assert!(
            tooltip.starts_with("3 رسائل غير مقروءة\nWork — رسالتان غير مقروءتين\n"),
            "{tooltip}"
        );
        assert!(tooltip.contains("\nOld — رُفضت كلمة المرور\n"), "{tooltip}");
        let v = waybar_json("zh-TW", View::Running(&mixed()));
        let tooltip = v["tooltip"].as_str().unwrap_or_default();
        assert!(
            tooltip.starts_with("3 封未讀郵件\nWork — 2 封未讀\n"),
            "{tooltip}"
        );
        assert_eq!(
            waybar_json("ar", View::NotRunning)["tooltip"],
            "Pushmail لا يعمل — شغّله بالأمر `pushmail`"
        );
    }

    #[test]
    fn hostile_text_stays_text_in_every_bar() {
        let mut s = mixed();
        s.accounts[0].name = "Tom & <b>Jerry</b> %{A1:xterm:}x%{A}".to_owned();
        s.accounts[2].detail =
            "protocol error: <span size='99999'>\u{202E}gnol</span>\r\nFake line".to_owned();
        let v = waybar_json("en", View::Running(&s));
        let tooltip = v["tooltip"].as_str().unwrap_or_default();
        assert!(
            tooltip.contains("Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;"),
            "markup is escaped for Pango: {tooltip}"
        );
        assert!(!tooltip.contains("<span"), "{tooltip}");
        assert!(!tooltip.contains('\u{202E}'), "{tooltip}");
        assert_eq!(
            tooltip.lines().count(),
            6,
            "a line break in a detail cannot add a line: {tooltip}"
        );
        let bar = polybar(&I18n::new("en"), View::Running(&s));
        assert!(!bar.contains("%{"), "polybar tags are inert: {bar}");
        assert!(bar.starts_with("3 unread — Tom & <b>Jerry</b> %"), "{bar}");
        assert!(!bar.contains('\n'), "{bar}");
    }
}
