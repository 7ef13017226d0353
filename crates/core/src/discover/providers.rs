//! The built-in provider table: what Pushmail knows about the mailboxes people actually use,
//! as reviewed data (issue 12). Discovery looks here first (by the address's domain, then by
//! the domain's MX host); the entries also carry the push facts that change Pushmail's
//! defaults and the webmail's deep link for "Open".
//!
//! Every fact has its source in a comment (the provider's own help page); what could not be
//! checked offline says so.

use crate::config::Security;

/// How the provider wants the IMAP login name written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UsernameForm {
    /// The whole address (`ana@example.com`): almost everyone.
    Address,
    /// The part before `@` (`ana`).
    LocalPart,
}

/// How an account at this provider logs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderAuth {
    /// A password (the account's own, or an app password where the note says so).
    Password,
    /// The provider's sign-in ([`crate::oauth::Provider::builtin`] name); `passwords` says
    /// whether an (app) password still works as a fallback.
    OAuth2 {
        provider: &'static str,
        passwords: bool,
    },
}

/// One provider.
#[derive(Clone, Copy, Debug)]
pub struct ProviderEntry {
    /// Stable id (`gmail`, `outlook`, `microsoft365`, `netease163`…), used in tests and docs.
    pub id: &'static str,
    /// The name shown to users ("Gmail", "Outlook.com").
    pub name: &'static str,
    /// Address domains served, lower case; `name.*` matches `name.` followed by one or two
    /// labels (`hotmail.co.uk`), like [`crate::oauth::Provider::serves_domain`].
    pub domains: &'static [&'static str],
    /// MX host suffixes that mean "hosted here" for any domain (`.google.com` for Google
    /// Workspace, `.mail.protection.outlook.com` for Microsoft 365); each starts with `.`.
    pub mx_suffixes: &'static [&'static str],
    pub imap_host: &'static str,
    pub imap_port: u16,
    pub security: Security,
    pub username: UsernameForm,
    pub auth: ProviderAuth,
    /// Whether the server has IDLE that works (false → the account polls).
    pub idle: bool,
    /// A shorter IDLE refresh than Pushmail's default, for a server known to drop IDLE
    /// early (seconds).
    pub idle_refresh_secs: Option<u64>,
    /// Whether the server needs the IMAP `ID` command before SELECT (NetEase).
    pub needs_id: bool,
    /// The webmail's address, opened by "Open" when no better link exists.
    pub webmail: Option<&'static str>,
    /// A URL template that opens one message in the webmail: `{message_id}` is replaced by
    /// the percent-encoded Message-ID without angle brackets. `None` where the webmail has no
    /// documented way.
    pub message_link: Option<&'static str>,
    /// A Fluent message id with what the user must know before adding the account (an app
    /// password, IMAP to be switched on in the webmail's settings), or `None`.
    pub note: Option<&'static str>,
}

/// Microsoft's OAuth sign-in, shared by Outlook.com and Microsoft 365: both log in at
/// `outlook.office365.com` with a Microsoft identity-platform token.
const MICROSOFT: ProviderAuth = ProviderAuth::OAuth2 {
    provider: "microsoft",
    passwords: false,
};

/// Exchange Online (Outlook.com and Microsoft 365) stops sending untagged responses in a
/// long IDLE while keeping the connection open (docs/providers.md, "Push facts"): the
/// documented bound is "re-IDLE within 10 minutes", exactly Pushmail's default, so half of it
/// leaves a margin for a bound nobody has measured precisely. One DONE/IDLE round trip every
/// 5 minutes costs nothing; chatmail/core ends IDLE after 5 minutes for every server
/// (chatmail/core PR #5096).
const EXCHANGE_IDLE_REFRESH_SECS: Option<u64> = Some(300);

/// The table. Order matters only for MX suffixes shared by two entries (none today; a test
/// keeps it so).
///
/// Sources: "ISPDB" is Thunderbird's autoconfig database (github.com/thunderbird/autoconfig,
/// `ispdb/<domain>.xml`, read at its 2026-03 snapshot); the other links are the providers' own
/// help pages, cited but not re-read offline. docs/providers.md has the same table for people
/// and lists what still needs a check against a live server.
pub static PROVIDERS: &[ProviderEntry] = &[
    // ISPDB googlemail.com.xml: imap.gmail.com 993 SSL, whole address, OAuth2 or password.
    // Passwords only as app passwords with 2-Step Verification
    // (https://support.google.com/accounts/answer/185833). No report found of Gmail ending
    // IDLE before Pushmail's 10-minute refresh (RFC 2177 allows 29), so no shorter value.
    // Message link: Gmail's search operator `rfc822msgid:`
    // (https://support.google.com/mail/answer/7190) in the web app's `#search/` route; `u/0`
    // is the first signed-in Google account.
    ProviderEntry {
        id: "gmail",
        name: "Gmail",
        domains: &["gmail.com", "googlemail.com"],
        mx_suffixes: &[],
        imap_host: "imap.gmail.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::OAuth2 {
            provider: "google",
            passwords: true,
        },
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.google.com/"),
        message_link: Some("https://mail.google.com/mail/u/0/#search/rfc822msgid%3A{message_id}"),
        note: Some("provider-note-app-password"),
    },
    // Google Workspace: any domain whose MX is Google's (aspmx.l.google.com and its alt*
    // hosts, smtp.google.com, aspmx*.googlemail.com;
    // https://support.google.com/a/answer/174125, not re-read offline).
    // Same server as Gmail; password logins ended on 30 Sept 2024 (Google's "less secure
    // apps" turn-off, issue 12's provider notes; Google's Workspace
    // announcement not re-read offline), so sign-in only.
    ProviderEntry {
        id: "googleworkspace",
        name: "Google Workspace",
        domains: &[],
        mx_suffixes: &[".google.com", ".googlemail.com"],
        imap_host: "imap.gmail.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::OAuth2 {
            provider: "google",
            passwords: false,
        },
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.google.com/"),
        message_link: Some("https://mail.google.com/mail/u/0/#search/rfc822msgid%3A{message_id}"),
        note: None,
    },
    // ISPDB hotmail.com.xml: outlook.office365.com 993 SSL, OAuth2; its domain list is the
    // expansion of the patterns below (outlook.*, hotmail.*, live.*, msn.com), and its MX
    // entry olc.protection.outlook.com marks consumer-hosted custom domains. No passwords,
    // app passwords included, since 16 Sept 2024 (issue 12's provider notes;
    // Microsoft's "modern authentication needed" notice, URL not re-read offline). Outlook on
    // the web opens a message only by its Exchange item id, not by Message-ID: no link.
    ProviderEntry {
        id: "outlook",
        name: "Outlook.com",
        domains: &["outlook.*", "hotmail.*", "live.*", "msn.com"],
        mx_suffixes: &[".olc.protection.outlook.com"],
        imap_host: "outlook.office365.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: MICROSOFT,
        idle: true,
        idle_refresh_secs: EXCHANGE_IDLE_REFRESH_SECS,
        needs_id: false,
        webmail: Some("https://outlook.live.com/mail/"),
        message_link: None,
        note: None,
    },
    // Microsoft 365 (Exchange Online): any domain whose MX is
    // `<tenant>.mail.protection.outlook.com` (ISPDB office365.com.xml lists
    // mail.protection.outlook.com; Microsoft's DNS records reference,
    // https://learn.microsoft.com/microsoft-365/enterprise/external-domain-name-system-records).
    // Basic authentication for IMAP off since late 2022
    // (https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online).
    ProviderEntry {
        id: "microsoft365",
        name: "Microsoft 365",
        domains: &[],
        mx_suffixes: &[".mail.protection.outlook.com"],
        imap_host: "outlook.office365.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: MICROSOFT,
        idle: true,
        idle_refresh_secs: EXCHANGE_IDLE_REFRESH_SECS,
        needs_id: false,
        webmail: Some("https://outlook.office.com/mail/"),
        message_link: None,
        note: None,
    },
    // ISPDB yahoo.com.xml: imap.mail.yahoo.com 993 SSL, whole address, OAuth2 or password;
    // the domains below are its list without cox.net (an ISP), myyahoo.com (not in the OAuth
    // provider's list) and the MX names. Written out rather than `yahoo.*` because
    // yahoo.co.jp is Yahoo! JAPAN, another service (ISPDB yahoo.co.jp.xml: POP only).
    // Passwords: app passwords only (https://help.yahoo.com/kb/SLN15241.html). No IDLE in
    // CAPABILITY (issue 12's provider notes): Pushmail polls.
    ProviderEntry {
        id: "yahoo",
        name: "Yahoo Mail",
        domains: &[
            "yahoo.com",
            "yahoo.ca",
            "yahoo.de",
            "yahoo.it",
            "yahoo.fr",
            "yahoo.es",
            "yahoo.se",
            "yahoo.co.in",
            "yahoo.co.uk",
            "yahoo.co.nz",
            "yahoo.com.au",
            "yahoo.com.ar",
            "yahoo.com.br",
            "yahoo.com.mx",
            "ymail.com",
            "rocketmail.com",
        ],
        mx_suffixes: &[],
        imap_host: "imap.mail.yahoo.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::OAuth2 {
            provider: "yahoo",
            passwords: true,
        },
        idle: false,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.yahoo.com/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB aol.com.xml: imap.aol.com 993 SSL, whole address, OAuth2 or password. ISPDB
    // lists more AOL domains (aol.de, netscape.net, compuserve.com…) that the OAuth provider
    // does not serve yet; only the two it serves are here. App passwords: AOL help "Create
    // and manage app passwords" (URL not re-read offline). No IDLE, like Yahoo.
    ProviderEntry {
        id: "aol",
        name: "AOL Mail",
        domains: &["aol.com", "aim.com"],
        mx_suffixes: &[],
        imap_host: "imap.aol.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::OAuth2 {
            provider: "aol",
            passwords: true,
        },
        idle: false,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.aol.com/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB me.com.xml: imap.mail.me.com 993 SSL, user name = the local part; Apple's page
    // (https://support.apple.com/HT202304, linked from ISPDB) says the same ("emilyparker, not
    // emilyparker@icloud.com") and asks for an app-specific password
    // (https://support.apple.com/HT204397).
    ProviderEntry {
        id: "icloud",
        name: "iCloud Mail",
        domains: &["icloud.com", "me.com", "mac.com"],
        mx_suffixes: &[],
        imap_host: "imap.mail.me.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::LocalPart,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://www.icloud.com/mail/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB messagingengine.com.xml: imap.fastmail.com 993 SSL, whole address, OAuth2 or
    // password; Fastmail-hosted custom domains have MX in1-smtp/in2-smtp.messagingengine.com
    // and other clients need app passwords (Fastmail help "Custom domains" and "App
    // passwords", https://www.fastmail.help/; not re-read offline). Domains as the OAuth
    // provider has them.
    ProviderEntry {
        id: "fastmail",
        name: "Fastmail",
        domains: &["fastmail.*", "fastmail.fm", "messagingengine.com"],
        mx_suffixes: &[".messagingengine.com"],
        imap_host: "imap.fastmail.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::OAuth2 {
            provider: "fastmail",
            passwords: true,
        },
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://app.fastmail.com/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB gmx.net.xml: imap.gmx.net 993 SSL (or 143 STARTTLS), whole address; IMAP must be
    // allowed once in the webmail (https://hilfe.gmx.net/pop-imap/einschalten.html).
    ProviderEntry {
        id: "gmx",
        name: "GMX",
        domains: &[
            "gmx.net", "gmx.de", "gmx.at", "gmx.ch", "gmx.eu", "gmx.biz", "gmx.org", "gmx.info",
        ],
        mx_suffixes: &[],
        imap_host: "imap.gmx.net",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://www.gmx.net/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    // ISPDB gmx.com.xml: the international GMX domains log in at imap.gmx.com, not
    // imap.gmx.net. That IMAP must be switched on there too is assumed from GMX's German
    // service (unverified for gmx.com).
    ProviderEntry {
        id: "gmxcom",
        name: "GMX",
        domains: &[
            "gmx.com",
            "gmx.tm",
            "gmx.us",
            "gmx.co.uk",
            "gmx.es",
            "gmx.fr",
            "gmx.ca",
            "gmx.cn",
            "gmx.co.in",
            "gmx.com.br",
            "gmx.com.my",
            "gmx.hk",
            "gmx.ie",
            "gmx.ph",
            "gmx.pt",
            "gmx.ru",
            "gmx.se",
            "gmx.sg",
            "gmx.tw",
            "gmx.com.tr",
            "gmx.it",
            "gmx.li",
        ],
        mx_suffixes: &[],
        imap_host: "imap.gmx.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://www.gmx.com/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    // ISPDB web.de.xml: imap.web.de 993 SSL (or 143 STARTTLS), user name = the local part;
    // IMAP must be allowed once in the webmail (https://hilfe.web.de/pop-imap/einschalten.html).
    ProviderEntry {
        id: "webde",
        name: "WEB.DE",
        domains: &["web.de"],
        mx_suffixes: &[],
        imap_host: "imap.web.de",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::LocalPart,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://web.de/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    // ISPDB mailbox.org.xml (and https://kb.mailbox.org/de/privat/e-mail/e-mail-konfiguration/):
    // imap.mailbox.org 993 SSL, whole address; an application password only with two-factor
    // authentication, so no note. Custom domains point MX at mxext1..3.mailbox.org
    // (mailbox.org's custom-domain guide; unverified offline).
    ProviderEntry {
        id: "mailboxorg",
        name: "mailbox.org",
        domains: &["mailbox.org"],
        mx_suffixes: &[".mailbox.org"],
        imap_host: "imap.mailbox.org",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mailbox.org/"),
        message_link: None,
        note: None,
    },
    // ISPDB posteo.de.xml: host posteo.de 993 SSL (or 143 STARTTLS), whole address; the
    // domains are its list.
    ProviderEntry {
        id: "posteo",
        name: "Posteo",
        domains: &[
            "posteo.de",
            "posteo.at",
            "posteo.be",
            "posteo.ca",
            "posteo.ch",
            "posteo.cl",
            "posteo.co",
            "posteo.co.uk",
            "posteo.com",
            "posteo.com.br",
            "posteo.cr",
            "posteo.cz",
            "posteo.dk",
            "posteo.ee",
            "posteo.es",
            "posteo.eu",
            "posteo.fi",
            "posteo.gl",
            "posteo.gr",
            "posteo.hn",
            "posteo.hr",
            "posteo.hu",
            "posteo.ie",
            "posteo.in",
            "posteo.is",
            "posteo.it",
            "posteo.jp",
            "posteo.la",
            "posteo.li",
            "posteo.lt",
            "posteo.lu",
            "posteo.me",
            "posteo.mx",
            "posteo.my",
            "posteo.net",
            "posteo.nl",
            "posteo.no",
            "posteo.nz",
            "posteo.org",
            "posteo.pe",
            "posteo.pl",
            "posteo.pm",
            "posteo.pt",
            "posteo.ro",
            "posteo.se",
            "posteo.sg",
            "posteo.si",
            "posteo.tn",
            "posteo.uk",
            "posteo.us",
        ],
        mx_suffixes: &[],
        imap_host: "posteo.de",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://posteo.de/"),
        message_link: None,
        note: None,
    },
    // ISPDB yandex.ru.xml: imap.yandex.com 993 SSL, whole address. Mail programs need an app
    // password (https://yandex.com/support/passport/authorization/app-passwords.html). Yandex
    // 360 custom domains have MX mx.yandex.net (Yandex 360 help; unverified offline).
    ProviderEntry {
        id: "yandex",
        name: "Yandex Mail",
        domains: &[
            "yandex.ru",
            "yandex.com",
            "yandex.net",
            "yandex.by",
            "yandex.kz",
            "yandex.ua",
            "ya.ru",
            "narod.ru",
        ],
        mx_suffixes: &[".yandex.net"],
        imap_host: "imap.yandex.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.yandex.com/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB mail.ru.xml: imap.mail.ru 993 SSL, whole address (its OAuth2 is not one Pushmail
    // has). Mail programs need a "password for external applications" (Mail.ru help,
    // https://help.mail.ru/; not re-read offline).
    ProviderEntry {
        id: "mailru",
        name: "Mail.ru",
        domains: &["mail.ru", "inbox.ru", "list.ru", "bk.ru"],
        mx_suffixes: &[],
        imap_host: "imap.mail.ru",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://e.mail.ru/"),
        message_link: None,
        note: Some("provider-note-app-password"),
    },
    // ISPDB qq.com.xml: imap.qq.com 993 SSL, whole address. foxmail.com addresses are QQ Mail
    // accounts. Since 1 Nov 2022 mail programs log in only with an authorization code (授权码)
    // generated after IMAP is switched on in the webmail (QQ Mail's notice of 11 Oct 2022 as
    // reported by IT之家, mirrored at https://ashea.com.cn/guandian/2022/1011/707174.html).
    ProviderEntry {
        id: "qq",
        name: "QQ Mail",
        domains: &["qq.com", "foxmail.com"],
        mx_suffixes: &[],
        imap_host: "imap.qq.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.qq.com/"),
        message_link: None,
        note: Some("provider-note-authorization-code"),
    },
    // NetEase: ISPDB 163.com.xml, 126.com.xml, yeah.net.xml (one host each, 993 SSL, whole
    // address). SELECT/EXAMINE answer "NO Unsafe Login" until the client sends ID (RFC 2971),
    // per NetEase's help (https://help.mail.163.com/faqDetail.do?code=d7a5dc8471cd0c0e8b4b8f4f8e49998b374173cfe9171305fa1ce630d7f67ac211b1978002df8b23)
    // and many client bug reports (pimalaya/himalaya#651, OfflineIMAP/offlineimap3#71).
    // Password = the client authorization code (客户端授权码) made in the webmail.
    ProviderEntry {
        id: "netease163",
        name: "NetEase 163 Mail",
        domains: &["163.com"],
        mx_suffixes: &[],
        imap_host: "imap.163.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: true,
        webmail: Some("https://mail.163.com/"),
        message_link: None,
        note: Some("provider-note-authorization-code"),
    },
    ProviderEntry {
        id: "netease126",
        name: "NetEase 126 Mail",
        domains: &["126.com"],
        mx_suffixes: &[],
        imap_host: "imap.126.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: true,
        webmail: Some("https://mail.126.com/"),
        message_link: None,
        note: Some("provider-note-authorization-code"),
    },
    ProviderEntry {
        id: "neteaseyeah",
        name: "NetEase Yeah Mail",
        domains: &["yeah.net"],
        mx_suffixes: &[],
        imap_host: "imap.yeah.net",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: true,
        webmail: Some("https://mail.yeah.net/"),
        message_link: None,
        note: Some("provider-note-authorization-code"),
    },
    // Zoho, US data centre: ISPDB zoho.com.xml (imap.zoho.com 993 SSL, whole address; "You
    // must enable IMAP Access"); Zoho's page (https://www.zoho.com/mail/help/imap-access.html)
    // gives imap.zoho.com to personal users and imappro.zoho.com to organisation users.
    ProviderEntry {
        id: "zoho",
        name: "Zoho Mail",
        domains: &["zoho.com", "zohomail.com"],
        mx_suffixes: &[],
        imap_host: "imap.zoho.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.zoho.com/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    // An organisation's own domain at Zoho (MX mx.zoho.com, mx2.zoho.com, mx3.zoho.com, from
    // Zoho's admin help "Configure email delivery", not re-read offline) logs in at
    // imappro.zoho.com (imap-access page above).
    ProviderEntry {
        id: "zohoorg",
        name: "Zoho Mail",
        domains: &[],
        mx_suffixes: &[".zoho.com"],
        imap_host: "imappro.zoho.com",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.zoho.com/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    // Zoho, EU data centre: ISPDB zoho.eu.xml (imap.zoho.eu); organisations imappro.zoho.eu
    // behind MX mx.zoho.eu (Zoho's pages as above, EU variants).
    ProviderEntry {
        id: "zohoeu",
        name: "Zoho Mail",
        domains: &["zoho.eu", "zohomail.eu"],
        mx_suffixes: &[],
        imap_host: "imap.zoho.eu",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.zoho.eu/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
    ProviderEntry {
        id: "zohoorgeu",
        name: "Zoho Mail",
        domains: &[],
        mx_suffixes: &[".zoho.eu"],
        imap_host: "imappro.zoho.eu",
        imap_port: 993,
        security: Security::Tls,
        username: UsernameForm::Address,
        auth: ProviderAuth::Password,
        idle: true,
        idle_refresh_secs: None,
        needs_id: false,
        webmail: Some("https://mail.zoho.eu/"),
        message_link: None,
        note: Some("provider-note-enable-imap"),
    },
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::i18n::I18n;
    use crate::oauth::{Provider, SaslMechanism};

    /// A provider that serves exactly `pattern`, to ask [`Provider::serves_domain`] (the one
    /// place that knows what `name.*` means) about one table pattern at a time.
    fn matcher(pattern: &str) -> Provider {
        let mut p = Provider::custom(
            "https://a.invalid/",
            "https://a.invalid/",
            Vec::new(),
            None,
            SaslMechanism::OAuthBearer,
            "a.invalid",
            993,
            None,
        );
        p.domains = vec![pattern.to_owned()];
        p
    }

    fn is_host_name(host: &str) -> bool {
        let labels: Vec<&str> = host.split('.').collect();
        host.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            })
    }

    /// A domain is a host name, or `stem.*` with a host-name-like stem (`hotmail.*`).
    fn is_domain_pattern(domain: &str) -> bool {
        match domain.strip_suffix(".*") {
            Some(stem) => is_host_name(&format!("{stem}.example")),
            None => is_host_name(domain),
        }
    }

    #[test]
    fn ids_are_unique_and_plain() {
        let mut seen = BTreeSet::new();
        for p in PROVIDERS {
            assert!(
                !p.id.is_empty()
                    && p.id
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "id `{}` must be lower-case letters and digits",
                p.id
            );
            assert!(seen.insert(p.id), "id `{}` appears twice", p.id);
            assert!(!p.name.trim().is_empty(), "{}: no name", p.id);
        }
    }

    #[test]
    fn every_entry_can_be_found() {
        for p in PROVIDERS {
            assert!(
                !p.domains.is_empty() || !p.mx_suffixes.is_empty(),
                "{}: neither a domain nor an MX suffix leads to it",
                p.id
            );
        }
    }

    #[test]
    fn servers_are_host_names_with_a_port_that_matches_the_security() {
        for p in PROVIDERS {
            assert!(is_host_name(p.imap_host), "{}: `{}`", p.id, p.imap_host);
            let expected = match p.imap_port {
                993 => Security::Tls,
                143 => Security::Starttls,
                other => panic!("{}: port {other} is neither 993 nor 143", p.id),
            };
            assert_eq!(p.security, expected, "{}: port {}", p.id, p.imap_port);
        }
    }

    #[test]
    fn domains_are_lower_case_and_belong_to_one_entry() {
        let mut seen = BTreeSet::new();
        for p in PROVIDERS {
            for d in p.domains {
                assert!(
                    is_domain_pattern(d),
                    "{}: `{d}` is not a lower-case domain",
                    p.id
                );
                assert!(seen.insert(*d), "domain `{d}` appears twice");
            }
        }
        // Not only distinct strings: no address is claimed by two entries (`outlook.*` of
        // one entry and `outlook.de` of another would be).
        for p in PROVIDERS {
            for q in PROVIDERS.iter().filter(|q| q.id != p.id) {
                for pattern in p.domains {
                    let m = matcher(pattern);
                    for d in q.domains.iter().filter(|d| !d.ends_with(".*")) {
                        assert!(
                            !m.serves_domain(d),
                            "`{d}` of {} is also served by `{pattern}` of {}",
                            q.id,
                            p.id
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mx_suffixes_start_with_a_dot_and_never_overlap() {
        let all: Vec<(&str, &str)> = PROVIDERS
            .iter()
            .flat_map(|p| p.mx_suffixes.iter().map(move |s| (p.id, *s)))
            .collect();
        for (id, suffix) in &all {
            let host = suffix.strip_prefix('.').unwrap_or("");
            assert!(
                suffix.starts_with('.') && is_host_name(host),
                "{id}: MX suffix `{suffix}` must be `.` and a lower-case host name"
            );
        }
        // Order in the table would decide between overlapping suffixes; keep it irrelevant.
        for (i, (a_id, a)) in all.iter().enumerate() {
            for (b_id, b) in all.iter().skip(i + 1) {
                assert!(
                    !a.ends_with(b) && !b.ends_with(a),
                    "MX suffixes `{a}` ({a_id}) and `{b}` ({b_id}) overlap"
                );
            }
        }
    }

    /// The table and the OAuth providers must tell the same story: the provider exists, logs
    /// in at the same server, and serves the entry's address domains; and every domain the
    /// provider claims is in the table (a `stem.*` of the provider by at least one `stem.…`).
    #[test]
    fn sign_in_providers_agree_with_the_oauth_table() {
        for p in PROVIDERS {
            let ProviderAuth::OAuth2 { provider, .. } = p.auth else {
                continue;
            };
            let Some(oauth) = Provider::builtin(provider) else {
                panic!(
                    "{}: `{provider}` is not an OAuth provider Pushmail has",
                    p.id
                );
            };
            assert_eq!(
                (oauth.imap_host.as_str(), oauth.imap_port),
                (p.imap_host, p.imap_port),
                "{}: the OAuth provider `{provider}` logs in elsewhere",
                p.id
            );
            for d in p.domains {
                let served = match d.strip_suffix(".*") {
                    Some(_) => oauth.domains.iter().any(|o| o == d),
                    None => oauth.serves_domain(d),
                };
                assert!(served, "{}: `{provider}` does not serve `{d}`", p.id);
            }
        }
        for name in crate::oauth::provider::BUILTIN {
            let Some(oauth) = Provider::builtin(name) else {
                panic!("`{name}` is listed but not built in");
            };
            let ours: Vec<&str> = PROVIDERS
                .iter()
                .filter(
                    |p| matches!(p.auth, ProviderAuth::OAuth2 { provider, .. } if provider == name),
                )
                .flat_map(|p| p.domains.iter().copied())
                .collect();
            for d in &oauth.domains {
                let listed = match d.strip_suffix(".*") {
                    Some(stem) => ours.iter().any(|o| {
                        o.strip_prefix(stem)
                            .is_some_and(|rest| rest.starts_with('.'))
                    }),
                    None => ours.contains(&d.as_str()),
                };
                assert!(listed, "`{name}` serves `{d}` but no entry for it lists it");
            }
        }
    }

    #[test]
    fn notes_are_english_messages() {
        let english = I18n::english();
        for p in PROVIDERS {
            if let Some(note) = p.note {
                assert!(
                    note.starts_with("provider-note-") && english.has(note),
                    "{}: note `{note}` is not a provider-note-* message of the English catalog",
                    p.id
                );
            }
        }
    }

    #[test]
    fn links_are_https_and_message_links_take_the_message_id_once() {
        for p in PROVIDERS {
            if let Some(webmail) = p.webmail {
                let url = oauth2::url::Url::parse(webmail)
                    .unwrap_or_else(|e| panic!("{}: webmail `{webmail}`: {e}", p.id));
                assert_eq!(url.scheme(), "https", "{}: `{webmail}`", p.id);
            }
            if let Some(link) = p.message_link {
                assert_eq!(
                    link.matches("{message_id}").count(),
                    1,
                    "{}: `{link}` must hold {{message_id}} exactly once",
                    p.id
                );
                let filled = link.replace("{message_id}", "abc.123%40example.com");
                let url = oauth2::url::Url::parse(&filled)
                    .unwrap_or_else(|e| panic!("{}: message link `{link}`: {e}", p.id));
                assert_eq!(url.scheme(), "https", "{}: `{link}`", p.id);
                assert!(
                    p.webmail.is_some(),
                    "{}: a message link without a webmail to fall back to",
                    p.id
                );
            }
        }
    }

    #[test]
    fn push_facts_are_consistent() {
        for p in PROVIDERS {
            if let Some(secs) = p.idle_refresh_secs {
                assert!(
                    p.idle,
                    "{}: an IDLE refresh for a server without IDLE",
                    p.id
                );
                let default = crate::config::Timing::IDLE_REFRESH.default;
                assert!(
                    secs > 0 && secs < default,
                    "{}: {secs} s is not shorter than the default {default} s",
                    p.id
                );
            }
        }
    }
}
