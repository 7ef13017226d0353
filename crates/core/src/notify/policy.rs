//! The notification policy: new mail, "seen" and account state events plus the user's rules
//! in, popup actions out. Pure and deterministic: time is an argument ([`Now`]), nothing here sleeps, reads a
//! clock or talks to a daemon, so every rule is tested with tables and property tests.
//!
//! Rules, in the order they are applied to a new message:
//!
//! 1. `notifications.enabled = false` or a pause from the tray menu: no popup at all. A pause
//!    is the user's explicit "not now", so not even VIP senders break it.
//! 2. Quiet hours (local time) and per-account `mute`: no popup, unless the sender is a VIP.
//! 3. `catch_up` mail (found on start or reconnect, i.e. possibly hours old) always goes into a
//!    summary ("12 new messages in Work — from Ana, Li Wei and 3 others"), shown after
//!    [`CATCH_UP_SETTLE`] so one reconnect is one popup.
//! 4. Live mail pops up one by one until more than `summary_threshold` arrive within
//!    `summary_window`; then the burst becomes one summary that *replaces* the first popup of the
//!    burst (the daemon's replaces-id) and withdraws the others. Later mail of the burst updates
//!    that summary, at most once per [`SUMMARY_REFRESH`]. A burst of 5,000 mails is therefore
//!    `summary_threshold` short-lived popups and one summary.
//!
//! A message read or deleted elsewhere ([`Policy::on_seen`]) withdraws its popup; a summary is
//! withdrawn when every message in it has been seen. The badge is not the policy's business:
//! the tray counts unread mail whatever the rules say.
//!
//! Two more decisions live here so that no front end makes its own:
//!
//! - **Preview level** ([`Policy::content`]): what a message may show — sender and subject,
//!   sender only, or nothing but the count. Popups, the tray's Activity and its `NewMail` signal
//!   all ask the same function.
//! - **Attention popups** ([`Policy::on_state`]): an account that needs the user (password
//!   rejected, an error that will not fix itself) pops up once per problem, not once per retry,
//!   and again only after it was back to push or polling. Rule 1 applies to them too.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::config::{Config, Notifications, Preview, QuietHours};
use crate::event::State;

/// Minimum time between two updates of one summary popup. Each update is a call to the
/// notification daemon (and some daemons re-animate the popup), so a burst must not turn into
/// thousands of calls; one second still shows the count climbing.
pub const SUMMARY_REFRESH: Duration = Duration::from_secs(1);

/// How long a catch-up summary waits before it is first shown. A reconnect announces its
/// backlog within milliseconds; half a second collects it into one popup instead of showing
/// "1 new message" and then correcting it.
pub const CATCH_UP_SETTLE: Duration = Duration::from_millis(500);

/// Popups remembered for withdrawal and actions. Popups the daemon never reports closed
/// (a daemon that died) would otherwise be kept forever; the oldest are forgotten first.
pub const MAX_TRACKED_POPUPS: usize = 256;

/// Names listed in a summary; the rest are "and N others".
pub const SUMMARY_NAMES: usize = 3;

/// Attention popups are numbered from here up, far above any mail popup the policy will ever
/// number, so a click on one is told apart by its id alone ([`is_attention`]). Ids just below
/// are free for a front end's own popups.
pub const ATTENTION_POPUPS: u64 = 1 << 62;

/// Whether `popup` is an attention popup (see [`Policy::on_state`]).
pub fn is_attention(popup: PopupId) -> bool {
    popup.0 > ATTENTION_POPUPS
}

/// One message, the way the engine identifies it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKey {
    pub account: String,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// The policy's name for one popup. The front end maps it to the daemon's notification id; a
/// summary that takes over a single popup keeps that popup's id, so the daemon replaces the
/// popup in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PopupId(pub u64);

/// A new message as the policy needs it. Texts have already been through the display pipeline
/// (`None` = nothing showable; the front end shows a localised placeholder).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub key: MessageKey,
    /// The raw sender address, only for VIP matching; never shown from here.
    pub from_address: String,
    /// Popup title for this sender (name and address).
    pub sender: Option<String>,
    /// Short name for summary lists ("Ana").
    pub short_name: Option<String>,
    pub subject: Option<String>,
    /// The Message-ID header without angle brackets, as fetched with the other headers
    /// (empty when the message has none). Never shown: "Open" on this message's own popup
    /// uses it to open the message itself ([`PopupInfo::message_id`]).
    pub message_id: String,
    /// Found on (re)connect rather than pushed live.
    pub catch_up: bool,
}

/// What a single popup shows, by the account's preview level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Sender and subject.
    Full {
        sender: Option<String>,
        subject: Option<String>,
    },
    /// Sender only.
    Sender { sender: Option<String> },
    /// "1 new message in Work", nothing about the message.
    CountOnly,
}

/// What a message may show under a preview level: the one place that decides it.
pub fn content(preview: Preview, sender: Option<String>, subject: Option<String>) -> Content {
    match preview {
        Preview::Full => Content::Full { sender, subject },
        Preview::Sender => Content::Sender { sender },
        Preview::Count => Content::CountOnly,
    }
}

/// Whether a preview level lets a summary name the senders ("from Ana, Li Wei").
fn names_senders(preview: Preview) -> bool {
    match preview {
        Preview::Full | Preview::Sender => true,
        Preview::Count => false,
    }
}

/// An "account needs attention" popup to show. The front end writes its text: the problem is
/// in the account's state detail, which only it puts into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attention {
    pub popup: PopupId,
    pub account: String,
    pub account_name: String,
}

/// What the front end should do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Show one message (new popup, or replace `popup` if it is on screen).
    ShowSingle {
        popup: PopupId,
        message: MessageKey,
        account_name: String,
        content: Content,
    },
    /// Show or update a summary. `names` are up to [`SUMMARY_NAMES`] distinct sender names,
    /// `others` the number of further distinct senders; both empty/zero for count-only
    /// accounts.
    ShowSummary {
        popup: PopupId,
        account: String,
        account_name: String,
        count: u32,
        names: Vec<String>,
        others: u32,
    },
    /// Close a popup that is no longer true (its message was read elsewhere, or a summary
    /// took its place). `message` is the message that caused it, if one did.
    Withdraw {
        popup: PopupId,
        message: Option<MessageKey>,
    },
}

/// Popups paused from the tray menu.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pause {
    #[default]
    Off,
    /// Until this Unix time (seconds).
    Until(i64),
    /// Until resumed.
    Indefinite,
}

impl Pause {
    /// Whether popups are paused at Unix time `unix`.
    pub fn is_active(self, unix: i64) -> bool {
        match self {
            Pause::Off => false,
            Pause::Until(end) => unix < end,
            Pause::Indefinite => true,
        }
    }
}

/// The present, as the policy needs it: a monotonic instant for windows and throttles, and the
/// wall clock for pauses (Unix seconds) and quiet hours (local hour and minute).
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono: Instant,
    pub unix: i64,
    pub local: (u8, u8),
}

/// Per-account rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRules {
    pub name: String,
    pub mute: bool,
    pub preview: Preview,
}

/// Everything from the configuration the policy obeys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    pub notifications: Notifications,
    pub accounts: HashMap<String, AccountRules>,
}

impl Rules {
    pub fn from_config(config: &Config) -> Rules {
        Rules {
            notifications: config.notifications.clone(),
            accounts: config
                .accounts
                .iter()
                .map(|a| {
                    (
                        a.id.clone(),
                        AccountRules {
                            name: a.name.clone(),
                            mute: a.mute,
                            preview: a.preview,
                        },
                    )
                })
                .collect(),
        }
    }

    /// An account's rules; an account missing from the configuration (mail that was in flight
    /// while it was removed) gets the defaults and its id as name.
    fn account(&self, id: &str) -> AccountRules {
        self.accounts.get(id).cloned().unwrap_or(AccountRules {
            name: id.to_owned(),
            mute: false,
            preview: Preview::Full,
        })
    }

    fn quiet(&self, (hour, minute): (u8, u8)) -> bool {
        self.notifications
            .quiet_hours
            .as_ref()
            .is_some_and(|q: &QuietHours| q.contains(hour, minute))
    }
}

/// A popup the policy still answers for.
#[derive(Clone, Debug)]
struct Popup {
    account: String,
    members: Vec<MessageKey>,
    summary: bool,
    /// The Message-ID of a single popup's message; a summary has none.
    message_id: Option<String>,
}

/// What a front end may ask about a popup (for its actions: open, mark as read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PopupInfo<'a> {
    pub account: &'a str,
    /// The messages it stands for (one for a single popup).
    pub messages: &'a [MessageKey],
    pub summary: bool,
    /// The Message-ID of the one message a single popup stands for, for "Open" to open that
    /// message. `None` for a summary (it stands for many, so "Open" opens the mailbox as
    /// before) and for a message without a Message-ID.
    pub message_id: Option<&'a str>,
}

/// A live mail of the current burst window.
#[derive(Clone, Debug)]
struct Recent {
    at: Instant,
    key: MessageKey,
    /// Its single popup, while on screen.
    popup: Option<PopupId>,
    sender_id: String,
    name: Option<String>,
}

#[derive(Clone, Debug)]
struct Summary {
    popup: PopupId,
    count: u32,
    names: Vec<String>,
    senders: HashSet<String>,
    last_mail: Instant,
    last_shown: Option<Instant>,
    /// Set while the summary has changes not shown yet: when to show them.
    due: Option<Instant>,
}

impl Summary {
    /// A summary of nothing yet, on `popup`; [`add_to_summary`] counts the mail into it.
    fn new(popup: PopupId, now: Instant) -> Summary {
        Summary {
            popup,
            count: 0,
            names: Vec::new(),
            senders: HashSet::new(),
            last_mail: now,
            last_shown: None,
            due: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Burst {
    recent: VecDeque<Recent>,
    summary: Option<Summary>,
}

impl Burst {
    /// Forgets the live mail that arrived `window` or more before `now`: it no longer counts
    /// toward the burst's threshold.
    fn expire(&mut self, now: Instant, window: Duration) {
        while self
            .recent
            .front()
            .is_some_and(|r| now.saturating_duration_since(r.at) >= window)
        {
            self.recent.pop_front();
        }
    }
}

/// The policy's state: rules, pause, bursts in progress and the popups it may withdraw.
#[derive(Debug, Default)]
pub struct Policy {
    rules: Rules,
    pause: Pause,
    next_popup: u64,
    bursts: HashMap<String, Burst>,
    popups: BTreeMap<PopupId, Popup>,
    /// (account, folder, uid) → popup. UIDVALIDITY is not part of the key because `seen`
    /// events do not carry it; the popup's member list has the full key.
    messages: HashMap<(String, String, u32), PopupId>,
    /// Accounts whose problem has had its attention popup (or would have, had popups been
    /// allowed), until they are back to push or polling.
    attention: HashSet<String>,
    /// Attention popups so far; they are numbered from [`ATTENTION_POPUPS`] on.
    attention_popups: u64,
}

impl Policy {
    pub fn new(rules: Rules) -> Policy {
        Policy {
            rules,
            ..Policy::default()
        }
    }

    /// New rules (the configuration was reloaded). Bursts in progress keep going.
    pub fn set_rules(&mut self, rules: Rules) {
        self.rules = rules;
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn set_pause(&mut self, pause: Pause) {
        self.pause = pause;
    }

    pub fn pause(&self) -> Pause {
        self.pause
    }

    /// Whether popups may show at all (rule 1): on, and not paused.
    fn popups_allowed(&self, now: &Now) -> bool {
        self.rules.notifications.enabled && !self.pause.is_active(now.unix)
    }

    /// What `mail` may show under its account's preview level, wherever it is shown: its
    /// popup, and whatever else a front end shows of it (the tray's Activity and `NewMail`
    /// signal), so a "count only" account leaks its senders nowhere.
    pub fn content(&self, mail: &Mail) -> Content {
        content(
            self.rules.account(&mail.key.account).preview,
            mail.sender.clone(),
            mail.subject.clone(),
        )
    }

    /// An account reported a new state: whether to pop up "needs attention". `auth_failed`
    /// and `error` need the user; the first of them pops up, later ones (each retry, or
    /// `error` turning into `auth_failed`) do not, until the account was back to push or
    /// polling — `connecting` and `backoff` on the way are no recovery. With popups off or
    /// paused nothing pops up and the problem counts as announced all the same: the tray's
    /// look still shows it, and the end of a pause is no news about the account.
    pub fn on_state(&mut self, now: &Now, account: &str, state: State) -> Option<Attention> {
        match state {
            State::AuthFailed | State::Error | State::SigninRequired => {}
            State::Push | State::Polling => {
                self.attention.remove(account);
                return None;
            }
            State::Connecting | State::Backoff | State::Stopped => return None,
        }
        if !self.attention.insert(account.to_owned()) || !self.popups_allowed(now) {
            return None;
        }
        self.attention_popups += 1;
        Some(Attention {
            popup: PopupId(ATTENTION_POPUPS.saturating_add(self.attention_popups)),
            account: account.to_owned(),
            account_name: self.rules.account(account).name,
        })
    }

    /// What to show for a newly announced message.
    pub fn on_new_mail(&mut self, now: &Now, mail: Mail) -> Vec<Action> {
        let rules = self.rules.account(&mail.key.account);
        if !self.popups_allowed(now) {
            return Vec::new();
        }
        let vip = self.rules.notifications.is_vip(&mail.from_address);
        if (self.rules.quiet(now.local) || rules.mute) && !vip {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.settle(now.mono, &mut out);
        let window = self.rules.notifications.summary_window;
        let threshold = usize::try_from(self.rules.notifications.summary_threshold)
            .unwrap_or(usize::MAX)
            .max(1);
        let account = mail.key.account.clone();
        // The mail as the burst window would remember it.
        let arrival = Recent {
            at: now.mono,
            key: mail.key.clone(),
            popup: None,
            sender_id: sender_id(&mail),
            name: names_senders(rules.preview)
                .then(|| mail.short_name.clone())
                .flatten(),
        };
        let mut burst = self.bursts.remove(&account).unwrap_or_default();
        burst.expire(now.mono, window);

        if let Some(summary) = burst.summary.as_mut() {
            // The burst goes on: fold the mail into its summary.
            let shown = self.fold_into_summary(
                summary,
                &mut burst.recent,
                &account,
                &rules,
                arrival,
                mail.catch_up,
            );
            out.extend(shown);
        } else if mail.catch_up {
            self.start_catch_up_summary(&mut burst, &account, arrival);
        } else {
            burst.recent.push_back(arrival);
            if burst.recent.len() > threshold {
                // Too many at once: one summary replaces the burst's popups.
                self.summarise_burst(&mut burst, &account, &rules, now.mono, &mut out);
            } else {
                out.push(self.show_single(&mut burst, &account, rules, mail));
            }
        }
        self.bursts.insert(account, burst);
        self.evict();
        out
    }

    /// A burst that already has a summary takes one more mail: the summary counts it, live
    /// mail also counts toward the burst window (so the burst lasts while mail keeps coming),
    /// and the summary is shown again if its refresh is due ([`SUMMARY_REFRESH`]).
    fn fold_into_summary(
        &mut self,
        summary: &mut Summary,
        recent: &mut VecDeque<Recent>,
        account: &str,
        rules: &AccountRules,
        arrival: Recent,
        catch_up: bool,
    ) -> Option<Action> {
        let Recent {
            at: now,
            key,
            sender_id,
            name,
            ..
        } = arrival;
        let popup = summary.popup;
        add_to_summary(summary, &sender_id, name, now);
        if !catch_up {
            recent.push_back(Recent {
                at: now,
                key: key.clone(),
                popup: None,
                sender_id,
                name: None,
            });
        }
        self.track(popup, account, key, true);
        let due = summary.due;
        if due.is_some_and(|d| d <= now) {
            Some(show_summary(summary, account, rules, now))
        } else {
            None
        }
    }

    /// Catch-up mail with no burst in progress (rule 3): it opens a summary at once, first
    /// shown after [`CATCH_UP_SETTLE`] so that a reconnect's whole backlog is one popup.
    fn start_catch_up_summary(&mut self, burst: &mut Burst, account: &str, arrival: Recent) {
        let Recent {
            at: now,
            key,
            sender_id,
            name,
            ..
        } = arrival;
        let popup = self.new_popup();
        let mut summary = Summary::new(popup, now);
        add_to_summary(&mut summary, &sender_id, name, now);
        summary.due = Some(now + CATCH_UP_SETTLE);
        self.track(popup, account, key, true);
        burst.summary = Some(summary);
    }

    /// Live mail just went over `summary_threshold` (rule 4): one summary of everything in
    /// the burst window takes over the first popup still on screen (so the daemon replaces it
    /// in place) and the burst's other popups are withdrawn.
    fn summarise_burst(
        &mut self,
        burst: &mut Burst,
        account: &str,
        rules: &AccountRules,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let popup = burst
            .recent
            .iter()
            .find_map(|r| r.popup)
            .unwrap_or_else(|| self.new_popup());
        let mut summary = Summary::new(popup, now);
        // The reused popup's own message is re-added below with the others.
        if let Some(reused) = self.popups.get_mut(&popup) {
            reused.members.clear();
        }
        let members: Vec<Recent> = burst.recent.iter().cloned().collect();
        for r in &mut burst.recent {
            r.popup = None;
            r.name = None;
        }
        for r in members {
            add_to_summary(&mut summary, &r.sender_id, r.name, now);
            if let Some(old) = r.popup
                && old != popup
            {
                self.forget_popup(old);
                out.push(Action::Withdraw {
                    popup: old,
                    message: None,
                });
            }
            self.track(popup, account, r.key, true);
        }
        out.push(show_summary(&mut summary, account, rules, now));
        burst.summary = Some(summary);
    }

    /// Live mail below the threshold (rule 4): a popup of its own, noted on the mail's place in
    /// the burst (the last one) so that a summary can take it over if the burst grows.
    fn show_single(
        &mut self,
        burst: &mut Burst,
        account: &str,
        rules: AccountRules,
        mail: Mail,
    ) -> Action {
        let popup = self.new_popup();
        if let Some(last) = burst.recent.back_mut() {
            last.popup = Some(popup);
        }
        let content = content(rules.preview, mail.sender, mail.subject);
        self.track(popup, account, mail.key.clone(), false);
        if let Some(entry) = self.popups.get_mut(&popup)
            && !mail.message_id.is_empty()
        {
            entry.message_id = Some(mail.message_id);
        }
        Action::ShowSingle {
            popup,
            message: mail.key,
            account_name: rules.name,
            content,
        }
    }

    /// A message announced earlier was read or deleted elsewhere.
    pub fn on_seen(&mut self, account: &str, folder: &str, uid: u32) -> Vec<Action> {
        let Some(popup) = self
            .messages
            .remove(&(account.to_owned(), folder.to_owned(), uid))
        else {
            return Vec::new();
        };
        let matches = |k: &MessageKey| k.account == account && k.folder == folder && k.uid == uid;
        if let Some(burst) = self.bursts.get_mut(account) {
            burst.recent.retain(|r| !matches(&r.key));
        }
        let Some(entry) = self.popups.get_mut(&popup) else {
            return Vec::new();
        };
        let message = entry.members.iter().find(|k| matches(k)).cloned();
        entry.members.retain(|k| !matches(k));
        if !entry.members.is_empty() {
            // A summary that still stands for unread mail stays as it is: updating it would
            // pop it up again for news that is not news.
            return Vec::new();
        }
        self.forget_popup(popup);
        // A burst whose summary was read in full starts over with the next mail.
        for burst in self.bursts.values_mut() {
            if burst.summary.as_ref().is_some_and(|s| s.popup == popup) {
                burst.summary = None;
            }
        }
        vec![Action::Withdraw { popup, message }]
    }

    /// The daemon closed a popup (expired, dismissed, or an action was invoked). A summary of
    /// a burst still in progress stays tracked: its next update shows a fresh popup.
    pub fn on_popup_closed(&mut self, popup: PopupId) {
        let active = self
            .bursts
            .values()
            .any(|b| b.summary.as_ref().is_some_and(|s| s.popup == popup));
        if active {
            return;
        }
        self.forget_popup(popup);
    }

    /// Shows summaries whose time has come and ends bursts that are over. Call at
    /// [`Policy::next_deadline`].
    pub fn tick(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.settle(now, &mut out);
        out
    }

    /// When [`Policy::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.bursts
            .values()
            .filter_map(|b| b.summary.as_ref().and_then(|s| s.due))
            .min()
    }

    /// The popup's account and messages, while the policy tracks it.
    pub fn popup(&self, popup: PopupId) -> Option<PopupInfo<'_>> {
        self.popups.get(&popup).map(|p| PopupInfo {
            account: &p.account,
            messages: &p.members,
            summary: p.summary,
            message_id: p
                .message_id
                .as_deref()
                .filter(|_| !p.summary && p.members.len() == 1),
        })
    }

    /// Number of popups tracked (for tests and memory checks).
    pub fn tracked_popups(&self) -> usize {
        self.popups.len()
    }

    fn settle(&mut self, now: Instant, out: &mut Vec<Action>) {
        let window = self.rules.notifications.summary_window;
        for (account, burst) in &mut self.bursts {
            burst.expire(now, window);
            let Some(summary) = burst.summary.as_mut() else {
                continue;
            };
            if summary.due.is_some_and(|d| d <= now) {
                let rules = self.rules.account(account);
                out.push(show_summary(summary, account, &rules, now));
            }
            if summary.due.is_none() && now.saturating_duration_since(summary.last_mail) >= window {
                // The burst is over; its popup stays (and stays withdrawable).
                burst.summary = None;
                burst.recent.clear();
            }
        }
        self.bursts
            .retain(|_, b| b.summary.is_some() || !b.recent.is_empty());
    }

    fn new_popup(&mut self) -> PopupId {
        self.next_popup += 1;
        PopupId(self.next_popup)
    }

    fn track(&mut self, popup: PopupId, account: &str, key: MessageKey, summary: bool) {
        self.messages
            .insert((key.account.clone(), key.folder.clone(), key.uid), popup);
        let entry = self.popups.entry(popup).or_insert_with(|| Popup {
            account: account.to_owned(),
            members: Vec::new(),
            summary,
            message_id: None,
        });
        entry.summary |= summary;
        if entry.summary {
            // A summary that took over a single popup stands for many messages now.
            entry.message_id = None;
        }
        entry.members.push(key);
    }

    fn forget_popup(&mut self, popup: PopupId) {
        if let Some(p) = self.popups.remove(&popup) {
            for k in p.members {
                let id = (k.account, k.folder, k.uid);
                if self.messages.get(&id) == Some(&popup) {
                    self.messages.remove(&id);
                }
            }
        }
        for burst in self.bursts.values_mut() {
            for r in &mut burst.recent {
                if r.popup == Some(popup) {
                    r.popup = None;
                }
            }
        }
    }

    fn evict(&mut self) {
        while self.popups.len() > MAX_TRACKED_POPUPS {
            let active: HashSet<PopupId> = self
                .bursts
                .values()
                .filter_map(|b| b.summary.as_ref().map(|s| s.popup))
                .collect();
            let Some(oldest) = self.popups.keys().find(|p| !active.contains(p)).copied() else {
                break;
            };
            self.forget_popup(oldest);
        }
    }
}

/// Who sent it, for counting distinct senders: the address ignoring case, else the name.
fn sender_id(mail: &Mail) -> String {
    let address = mail.from_address.trim().to_lowercase();
    if address.is_empty() {
        mail.short_name.clone().unwrap_or_default()
    } else {
        address
    }
}

fn add_to_summary(summary: &mut Summary, sender_id: &str, name: Option<String>, now: Instant) {
    summary.count = summary.count.saturating_add(1);
    summary.last_mail = now;
    if summary.senders.insert(sender_id.to_owned())
        && let Some(name) = name
        && summary.names.len() < SUMMARY_NAMES
        && !summary.names.contains(&name)
    {
        summary.names.push(name);
    }
    if summary.due.is_none() {
        summary.due = Some(match summary.last_shown {
            Some(shown) => (shown + SUMMARY_REFRESH).max(now),
            None => now,
        });
    }
}

fn show_summary(
    summary: &mut Summary,
    account: &str,
    rules: &AccountRules,
    now: Instant,
) -> Action {
    summary.last_shown = Some(now);
    summary.due = None;
    let (names, others) = if names_senders(rules.preview) {
        let listed = u32::try_from(summary.names.len()).unwrap_or(u32::MAX);
        let distinct = u32::try_from(summary.senders.len()).unwrap_or(u32::MAX);
        (summary.names.clone(), distinct.saturating_sub(listed))
    } else {
        (Vec::new(), 0)
    };
    Action::ShowSummary {
        popup: summary.popup,
        account: account.to_owned(),
        account_name: rules.name.clone(),
        count: summary.count,
        names,
        others,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::config::{Account, QuietHours};
    use proptest::prelude::*;

    fn config() -> Config {
        let mut work = Account::new("work", "imap.example.com", "ana");
        work.name = "Work".into();
        let mut lists = Account::new("lists", "imap.example.com", "ana");
        lists.name = "Lists".into();
        lists.mute = true;
        let mut private = Account::new("private", "imap.example.com", "ana");
        private.preview = Preview::Count;
        let mut quiet = Account::new("quietish", "imap.example.com", "ana");
        quiet.preview = Preview::Sender;
        let mut c = Config {
            accounts: vec![work, lists, private, quiet],
            ..Config::default()
        };
        c.notifications.vip = vec!["boss@example.com".into(), "@family.example".into()];
        c
    }

    fn policy() -> Policy {
        Policy::new(Rules::from_config(&config()))
    }

    struct Clock {
        t0: Instant,
    }

    impl Clock {
        fn new() -> Clock {
            Clock { t0: Instant::now() }
        }
        /// `ms` after the start, at 12:00 local, Unix time 1_000_000 + seconds.
        fn at(&self, ms: u64) -> Now {
            self.at_local(ms, (12, 0))
        }
        fn at_local(&self, ms: u64, local: (u8, u8)) -> Now {
            Now {
                mono: self.t0 + Duration::from_millis(ms),
                unix: 1_000_000 + i64::try_from(ms / 1000).unwrap(),
                local,
            }
        }
    }

    fn mail(account: &str, uid: u32, from: &str) -> Mail {
        let name = from.split('@').next().unwrap_or("").to_owned();
        let message_id = format!("{uid}.{name}@example.com");
        Mail {
            key: MessageKey {
                account: account.into(),
                folder: "INBOX".into(),
                uidvalidity: 1,
                uid,
            },
            from_address: from.into(),
            sender: Some(format!("{name} <{from}>")),
            short_name: Some(name),
            subject: Some(format!("subject {uid}")),
            message_id,
            catch_up: false,
        }
    }

    fn catch_up(account: &str, uid: u32, from: &str) -> Mail {
        Mail {
            catch_up: true,
            ..mail(account, uid, from)
        }
    }

    fn singles(actions: &[Action]) -> usize {
        actions
            .iter()
            .filter(|a| matches!(a, Action::ShowSingle { .. }))
            .count()
    }

    #[test]
    fn one_mail_is_one_popup_with_sender_and_subject() {
        let c = Clock::new();
        let mut p = policy();
        let actions = p.on_new_mail(&c.at(0), mail("work", 7, "ana@example.com"));
        assert_eq!(
            actions,
            [Action::ShowSingle {
                popup: PopupId(1),
                message: mail("work", 7, "").key,
                account_name: "Work".into(),
                content: Content::Full {
                    sender: Some("ana <ana@example.com>".into()),
                    subject: Some("subject 7".into()),
                },
            }]
        );
        let info = p.popup(PopupId(1)).unwrap();
        assert_eq!(info.account, "work");
        assert_eq!(info.messages[0].uid, 7);
        assert_eq!(info.message_id, Some("7.ana@example.com"));
    }

    /// "Open" on a popup opens its message only when the popup stands for exactly that one
    /// message: a single popup carries its Message-ID; a summary, even one that took over a
    /// single popup, or a catch-up summary of one message, carries none, so it opens the
    /// mailbox as before.
    #[test]
    fn only_a_single_popup_knows_its_message_id() {
        let c = Clock::new();
        let mut p = policy(); // threshold 3
        for uid in 1..=3 {
            p.on_new_mail(&c.at(u64::from(uid) * 10), mail("work", uid, "ana@x"));
        }
        assert_eq!(
            p.popup(PopupId(1)).unwrap().message_id,
            Some("1.ana@example.com")
        );
        assert_eq!(
            p.popup(PopupId(3)).unwrap().message_id,
            Some("3.ana@example.com")
        );
        // The fourth makes the burst a summary on popup 1: no single message any more.
        p.on_new_mail(&c.at(40), mail("work", 4, "li@x"));
        let info = p.popup(PopupId(1)).unwrap();
        assert!(info.summary);
        assert_eq!(info.message_id, None);
        assert!(p.popup(PopupId(3)).is_none(), "withdrawn");

        // A message without a Message-ID has nothing to open by.
        let mut p = policy();
        let none = Mail {
            message_id: String::new(),
            ..mail("work", 9, "ana@x")
        };
        p.on_new_mail(&c.at(0), none);
        assert_eq!(p.popup(PopupId(1)).unwrap().message_id, None);

        // Catch-up mail is a summary even when it is one message.
        let mut p = policy();
        p.on_new_mail(&c.at(0), catch_up("work", 5, "ana@x"));
        p.tick(c.at(1_000).mono);
        let info = p.popup(PopupId(1)).unwrap();
        assert_eq!((info.summary, info.message_id), (true, None));
    }

    /// The rules table: (description, setup, mail, local time, expect a popup).
    #[test]
    fn rules_table() {
        type Setup = fn(&mut Policy);
        let none: Setup = |_| {};
        let quiet_night: Setup = |p| {
            let mut r = p.rules().clone();
            r.notifications.quiet_hours = Some(QuietHours {
                start: (22, 0),
                end: (7, 0),
            });
            p.set_rules(r);
        };
        let disabled: Setup = |p| {
            let mut r = p.rules().clone();
            r.notifications.enabled = false;
            p.set_rules(r);
        };
        let paused: Setup = |p| p.set_pause(Pause::Indefinite);
        let paused_until_past: Setup = |p| p.set_pause(Pause::Until(999_000));
        let paused_until_future: Setup = |p| p.set_pause(Pause::Until(2_000_000));
        type Case = (
            &'static str,
            Setup,
            &'static str,
            &'static str,
            (u8, u8),
            bool,
        );
        let cases: &[Case] = &[
            ("plain mail", none, "work", "ana@example.com", (12, 0), true),
            (
                "muted account",
                none,
                "lists",
                "ana@example.com",
                (12, 0),
                false,
            ),
            (
                "VIP breaks mute",
                none,
                "lists",
                "Boss@Example.com",
                (12, 0),
                true,
            ),
            (
                "VIP domain breaks mute",
                none,
                "lists",
                "mum@family.example",
                (12, 0),
                true,
            ),
            (
                "subdomain is not VIP",
                none,
                "lists",
                "x@a.family.example",
                (12, 0),
                false,
            ),
            (
                "quiet hours at night",
                quiet_night,
                "work",
                "ana@example.com",
                (23, 30),
                false,
            ),
            (
                "quiet hours early morning",
                quiet_night,
                "work",
                "ana@example.com",
                (6, 59),
                false,
            ),
            (
                "quiet hours end",
                quiet_night,
                "work",
                "ana@example.com",
                (7, 0),
                true,
            ),
            (
                "VIP breaks quiet hours",
                quiet_night,
                "work",
                "boss@example.com",
                (3, 0),
                true,
            ),
            (
                "VIP + mute + quiet",
                quiet_night,
                "lists",
                "boss@example.com",
                (3, 0),
                true,
            ),
            (
                "popups off",
                disabled,
                "work",
                "boss@example.com",
                (12, 0),
                false,
            ),
            ("paused", paused, "work", "ana@example.com", (12, 0), false),
            (
                "pause beats VIP",
                paused,
                "work",
                "boss@example.com",
                (12, 0),
                false,
            ),
            (
                "pause ended",
                paused_until_past,
                "work",
                "ana@example.com",
                (12, 0),
                true,
            ),
            (
                "pause running",
                paused_until_future,
                "work",
                "ana@example.com",
                (12, 0),
                false,
            ),
            (
                "unknown account",
                none,
                "gone",
                "ana@example.com",
                (12, 0),
                true,
            ),
        ];
        for (what, setup, account, from, local, popup) in cases {
            let c = Clock::new();
            let mut p = policy();
            setup(&mut p);
            let actions = p.on_new_mail(&c.at_local(0, *local), mail(account, 1, from));
            assert_eq!(singles(&actions) == 1, *popup, "{what}: {actions:?}");
        }
    }

    #[test]
    fn preview_levels() {
        let c = Clock::new();
        let mut p = policy();
        let a = p.on_new_mail(&c.at(0), mail("private", 1, "ana@example.com"));
        assert!(
            matches!(
                &a[0],
                Action::ShowSingle {
                    content: Content::CountOnly,
                    ..
                }
            ),
            "{a:?}"
        );
        let a = p.on_new_mail(&c.at(0), mail("quietish", 1, "ana@example.com"));
        assert!(
            matches!(&a[0], Action::ShowSingle { content: Content::Sender { sender: Some(s) }, .. } if s.contains("ana")),
            "{a:?}"
        );
    }

    /// The preview table: what a message may show, for popups and everything else alike.
    #[test]
    fn content_follows_the_preview_level() {
        let ana = || Some("Ana <ana@x>".to_owned());
        let hi = || Some("Hi".to_owned());
        let table = [
            (
                "work",
                Content::Full {
                    sender: ana(),
                    subject: hi(),
                },
            ),
            ("quietish", Content::Sender { sender: ana() }),
            ("private", Content::CountOnly),
            // Mail of an account removed while it was in flight: the default level.
            (
                "gone",
                Content::Full {
                    sender: ana(),
                    subject: hi(),
                },
            ),
        ];
        let c = Clock::new();
        for (account, want) in table {
            let mut p = policy();
            let m = Mail {
                sender: ana(),
                subject: hi(),
                ..mail(account, 1, "ana@x")
            };
            assert_eq!(p.content(&m), want, "{account}");
            // The popup shows exactly what everything else may show.
            let shown = p.on_new_mail(&c.at(0), m);
            assert!(
                matches!(&shown[..], [Action::ShowSingle { content, .. }] if *content == want),
                "{account}: {shown:?}"
            );
        }
    }

    /// The attention table: (description, setup, states one account reports with whether each
    /// pops up "needs attention").
    #[test]
    fn attention_pops_up_once_per_problem() {
        use State::{AuthFailed, Backoff, Connecting, Error, Polling, Push, Stopped};
        type Setup = fn(&mut Policy);
        let none: Setup = |_| {};
        let disabled: Setup = |p| {
            let mut r = p.rules().clone();
            r.notifications.enabled = false;
            p.set_rules(r);
        };
        let paused: Setup = |p| p.set_pause(Pause::Indefinite);
        let paused_until_past: Setup = |p| p.set_pause(Pause::Until(999_000));
        let muted: Setup = |p| {
            let mut r = p.rules().clone();
            if let Some(a) = r.accounts.get_mut("work") {
                a.mute = true;
            }
            r.notifications.quiet_hours = Some(QuietHours {
                start: (0, 0),
                end: (23, 59),
            });
            p.set_rules(r);
        };
        type Case = (&'static str, Setup, &'static [(State, bool)]);
        let cases: &[Case] = &[
            (
                "one popup however many retries",
                none,
                &[
                    (Connecting, false),
                    (Error, true),
                    (Backoff, false),
                    (Connecting, false),
                    (Error, false),
                    (Error, false),
                ],
            ),
            (
                "error turning into auth_failed is the same problem",
                none,
                &[(Error, true), (Connecting, false), (AuthFailed, false)],
            ),
            (
                "back to push, a new problem pops up again",
                none,
                &[(AuthFailed, true), (Push, false), (Error, true)],
            ),
            (
                "polling is back too",
                none,
                &[(Error, true), (Polling, false), (Error, true)],
            ),
            (
                "stopped is no recovery",
                none,
                &[(Error, true), (Stopped, false), (Error, false)],
            ),
            (
                "offline and retrying needs no attention",
                none,
                &[(Backoff, false), (Connecting, false), (Backoff, false)],
            ),
            (
                "popups off",
                disabled,
                &[(Error, false), (Push, false), (AuthFailed, false)],
            ),
            ("paused", paused, &[(Error, false), (AuthFailed, false)]),
            ("pause ended", paused_until_past, &[(Error, true)]),
            (
                "mute and quiet hours are about mail, not problems",
                muted,
                &[(Error, true)],
            ),
        ];
        for (what, setup, states) in cases {
            let c = Clock::new();
            let mut p = policy();
            setup(&mut p);
            for (i, (state, popup)) in states.iter().enumerate() {
                let got = p.on_state(&c.at(0), "work", *state);
                assert_eq!(
                    got.is_some(),
                    *popup,
                    "{what}, step {i} ({state:?}): {got:?}"
                );
            }
        }
    }

    #[test]
    fn a_problem_during_a_pause_stays_quiet_after_it_until_the_account_recovers() {
        use State::{Error, Push};
        let c = Clock::new();
        let mut p = policy();
        p.set_pause(Pause::Indefinite);
        assert_eq!(p.on_state(&c.at(0), "work", Error), None);
        p.set_pause(Pause::Off);
        assert_eq!(
            p.on_state(&c.at(0), "work", Error),
            None,
            "a retry is no news"
        );
        assert_eq!(p.on_state(&c.at(0), "work", Push), None);
        assert!(p.on_state(&c.at(0), "work", Error).is_some());
    }

    #[test]
    fn attention_popups_are_per_account_and_never_mistaken_for_mail() {
        let c = Clock::new();
        let mut p = policy();
        let mail_popup = match &p.on_new_mail(&c.at(0), mail("work", 1, "ana@x"))[..] {
            [Action::ShowSingle { popup, .. }] => *popup,
            other => panic!("{other:?}"),
        };
        let work = p.on_state(&c.at(0), "work", State::Error).unwrap();
        let gone = p.on_state(&c.at(0), "gone", State::AuthFailed).unwrap();
        assert_eq!(
            (work.account.as_str(), work.account_name.as_str()),
            ("work", "Work")
        );
        // An account no longer in the configuration is named by its id.
        assert_eq!(gone.account_name, "gone");
        assert_ne!(work.popup, gone.popup);
        assert!(is_attention(work.popup) && is_attention(gone.popup));
        assert!(!is_attention(mail_popup));
        assert!(p.popup(work.popup).is_none(), "no mail behind it");
    }

    #[test]
    fn a_burst_becomes_one_summary_replacing_the_first_popup() {
        let c = Clock::new();
        let mut p = policy(); // threshold 3, window 10 s
        let mut all = Vec::new();
        for (i, from) in ["ana@x", "li@x", "bo@x"].iter().enumerate() {
            let a = p.on_new_mail(&c.at(i as u64 * 100), mail("work", i as u32 + 1, from));
            assert_eq!(singles(&a), 1);
            all.extend(a);
        }
        let a = p.on_new_mail(&c.at(300), mail("work", 4, "cy@x"));
        assert_eq!(
            a,
            [
                Action::Withdraw {
                    popup: PopupId(2),
                    message: None
                },
                Action::Withdraw {
                    popup: PopupId(3),
                    message: None
                },
                Action::ShowSummary {
                    popup: PopupId(1),
                    account: "work".into(),
                    account_name: "Work".into(),
                    count: 4,
                    names: vec!["ana".into(), "li".into(), "bo".into()],
                    others: 1,
                }
            ]
        );
        // The next mail within a second waits; the tick shows it.
        let a = p.on_new_mail(&c.at(400), mail("work", 5, "ana@x"));
        assert!(a.is_empty(), "{a:?}");
        assert_eq!(p.next_deadline(), Some(c.at(1300).mono));
        assert!(p.tick(c.at(1200).mono).is_empty());
        let a = p.tick(c.at(1300).mono);
        assert!(
            matches!(
                &a[..],
                [Action::ShowSummary {
                    popup: PopupId(1),
                    count: 5,
                    others: 1,
                    ..
                }]
            ),
            "{a:?}"
        );
        // After a quiet window the next mail is a single popup again.
        let a = p.on_new_mail(&c.at(12_000), mail("work", 6, "ana@x"));
        assert_eq!(singles(&a), 1, "{a:?}");
    }

    #[test]
    fn catch_up_mail_always_becomes_a_summary_after_settling() {
        let c = Clock::new();
        let mut p = policy();
        for uid in 1..=12 {
            let from = format!("s{}@x", uid % 5);
            assert!(
                p.on_new_mail(&c.at(uid.into()), catch_up("work", uid, &from))
                    .is_empty()
            );
        }
        let a = p.tick(c.at(600).mono);
        assert_eq!(
            a,
            [Action::ShowSummary {
                popup: PopupId(1),
                account: "work".into(),
                account_name: "Work".into(),
                count: 12,
                names: vec!["s1".into(), "s2".into(), "s3".into()],
                others: 2,
            }]
        );
        // Even a single catch-up mail is a summary.
        let mut p = policy();
        p.on_new_mail(&c.at(0), catch_up("work", 1, "ana@x"));
        let a = p.tick(c.at(500).mono);
        assert!(
            matches!(&a[..], [Action::ShowSummary { count: 1, .. }]),
            "{a:?}"
        );
    }

    #[test]
    fn count_only_summaries_name_nobody() {
        let c = Clock::new();
        let mut p = policy();
        p.on_new_mail(&c.at(0), catch_up("private", 1, "ana@x"));
        let a = p.tick(c.at(500).mono);
        assert!(
            matches!(&a[..], [Action::ShowSummary { names, others: 0, .. }] if names.is_empty()),
            "{a:?}"
        );
    }

    #[test]
    fn seen_withdraws_singles_and_finished_summaries() {
        let c = Clock::new();
        let mut p = policy();
        p.on_new_mail(&c.at(0), mail("work", 1, "ana@x"));
        assert_eq!(
            p.on_seen("work", "INBOX", 1),
            [Action::Withdraw {
                popup: PopupId(1),
                message: Some(mail("work", 1, "").key)
            }]
        );
        assert!(p.on_seen("work", "INBOX", 1).is_empty(), "only once");
        assert!(p.on_seen("work", "INBOX", 99).is_empty(), "unknown uid");
        assert_eq!(p.tracked_popups(), 0);

        let mut p = policy();
        for uid in 1..=2 {
            p.on_new_mail(&c.at(0), catch_up("work", uid, "ana@x"));
        }
        p.tick(c.at(500).mono);
        assert!(p.on_seen("work", "INBOX", 1).is_empty(), "one of two left");
        assert!(matches!(
            &p.on_seen("work", "INBOX", 2)[..],
            [Action::Withdraw {
                popup: PopupId(1),
                ..
            }]
        ));
    }

    #[test]
    fn closed_popups_are_forgotten() {
        let c = Clock::new();
        let mut p = policy();
        p.on_new_mail(&c.at(0), mail("work", 1, "ana@x"));
        p.on_popup_closed(PopupId(1));
        assert!(p.popup(PopupId(1)).is_none());
        assert!(p.on_seen("work", "INBOX", 1).is_empty());
    }

    #[test]
    fn tracked_popups_are_bounded() {
        let c = Clock::new();
        let mut p = policy();
        for uid in 0..2000u32 {
            // One mail every 20 s: never a burst, always a single popup.
            p.on_new_mail(&c.at(u64::from(uid) * 20_000), mail("work", uid, "ana@x"));
        }
        assert!(p.tracked_popups() <= MAX_TRACKED_POPUPS);
    }

    /// Applies actions to a simulated screen: popup → what it shows.
    #[derive(Default)]
    struct Screen {
        shown: BTreeMap<PopupId, u32>,
        ever: HashSet<PopupId>,
        calls: usize,
    }

    impl Screen {
        fn apply(&mut self, actions: Vec<Action>) {
            for a in actions {
                match a {
                    Action::ShowSingle { popup, .. } => {
                        self.calls += 1;
                        self.ever.insert(popup);
                        self.shown.insert(popup, 1);
                    }
                    Action::ShowSummary { popup, count, .. } => {
                        self.calls += 1;
                        self.ever.insert(popup);
                        self.shown.insert(popup, count);
                    }
                    Action::Withdraw { popup, .. } => {
                        assert!(self.ever.contains(&popup), "withdrew unknown {popup:?}");
                        self.shown.remove(&popup);
                    }
                }
            }
        }
    }

    #[test]
    fn a_burst_of_5000_is_at_most_5_popups() {
        let c = Clock::new();
        let mut p = policy();
        let mut screen = Screen::default();
        for uid in 0..5000u32 {
            let now = c.at(u64::from(uid) * 2); // 10 s of mail
            screen.apply(p.tick(now.mono));
            screen.apply(p.on_new_mail(&now, mail("work", uid, &format!("s{uid}@x"))));
        }
        screen.apply(p.tick(c.at(20_000).mono));
        assert!(screen.ever.len() <= 5, "{} popups", screen.ever.len());
        assert!(screen.calls <= 20, "{} daemon calls", screen.calls);
        assert_eq!(screen.shown.values().sum::<u32>(), 5000);
    }

    proptest! {
        /// Whatever the arrival pattern: every announced mail is counted on screen exactly
        /// once; a burst never has more than threshold + 1 popups; reading everything clears
        /// the screen.
        #[test]
        fn mail_is_counted_once_and_reading_clears(
            gaps in prop::collection::vec(0u64..4000, 1..200),
            catch in prop::collection::vec(any::<bool>(), 200),
            threshold in 1u32..6,
            window_s in 1u64..12,
        ) {
            let c = Clock::new();
            let mut rules = Rules::from_config(&config());
            rules.notifications.summary_threshold = threshold;
            rules.notifications.summary_window = Duration::from_secs(window_s);
            let mut p = Policy::new(rules);
            let mut screen = Screen::default();
            let mut t = 0;
            for (i, gap) in gaps.iter().enumerate() {
                t += gap;
                let now = c.at(t);
                screen.apply(p.tick(now.mono));
                let uid = u32::try_from(i).unwrap();
                let m = if catch[i] { catch_up("work", uid, "a@x") } else { mail("work", uid, "a@x") };
                screen.apply(p.on_new_mail(&now, m));
            }
            screen.apply(p.tick(c.at(t + 60_000).mono));
            prop_assert_eq!(screen.shown.values().sum::<u32>(), u32::try_from(gaps.len()).unwrap());
            prop_assert!(p.next_deadline().is_none());
            for uid in 0..gaps.len() {
                screen.apply(p.on_seen("work", "INBOX", u32::try_from(uid).unwrap()));
            }
            prop_assert!(screen.shown.is_empty(), "left: {:?}", screen.shown);
            prop_assert_eq!(p.tracked_popups(), 0);
        }

        /// Within one summary window, no more than threshold + 1 popups ever appear.
        #[test]
        fn one_window_is_bounded(n in 1u32..500, threshold in 1u32..6) {
            let c = Clock::new();
            let mut rules = Rules::from_config(&config());
            rules.notifications.summary_threshold = threshold;
            let mut p = Policy::new(rules);
            let mut screen = Screen::default();
            for uid in 0..n {
                let now = c.at(u64::from(uid) * 9_000 / u64::from(n));
                screen.apply(p.tick(now.mono));
                screen.apply(p.on_new_mail(&now, mail("work", uid, "a@x")));
            }
            prop_assert!(screen.ever.len() <= threshold as usize + 1);
        }
    }
}
