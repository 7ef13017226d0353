# Pushmail — English (the reference catalog: every key must exist here).
# Shared by the Rust side (tray, notifications, CLI) and the settings window (ui/).
# Keys are grouped by where they appear. Comments say where a string is shown.

app-name = Pushmail

## Tray: tooltip and icon title

# Tooltip title and the total count.
tray-unread-total = { $count ->
    [0] No unread mail
    [one] 1 unread message
   *[other] { $count } unread messages
}
tray-paused = Notifications paused
tray-paused-until = Notifications paused until { $time }
tray-paused-until-tomorrow = Notifications paused until tomorrow at { $time }

## Accounts: one line per account, in the tray menu and the tooltip

account-line = { $name } — { $count ->
    [0] no unread
    [one] 1 unread
   *[other] { $count } unread
}
account-line-state = { $name } — { $state }
state-connecting = connecting…
state-push = connected
state-polling = checking every { $seconds } s
state-backoff = offline, retrying
state-error = error
state-auth_failed = password rejected
state-stopped = stopped
state-disabled = disabled

## Tray menu

menu-open-mail-client = Open mail client
menu-check-now = Check now
menu-pause = Pause notifications
menu-pause-30m = For 30 minutes
menu-pause-1h = For 1 hour
menu-pause-tomorrow = Until tomorrow morning
menu-resume = Resume notifications
menu-settings = Settings…
menu-quit = Quit

## Notifications

notify-action-open = Open
notify-action-mark-read = Mark as read
# Summary popup title, when several mails arrive at once or were found on reconnect.
notify-summary-title = { $count ->
    [one] 1 new message in { $account }
   *[other] { $count } new messages in { $account }
}
# Summary body: $names is a short list of sender names ("Ana, Li Wei"); $others how many more.
notify-summary-from = { $others ->
    [0] from { $names }
    [one] from { $names } and 1 other
   *[other] from { $names } and { $others } others
}
# Preview policy "count only": no sender, no subject.
notify-count-only = { $count ->
    [one] 1 new message in { $account }
   *[other] { $count } new messages in { $account }
}
sender-unknown = (unknown sender)
subject-none = (no subject)
subject-unreadable = (this message could not be read)
# An account needs the user's attention (password rejected, TLS error).
notify-attention-title = { $account } needs attention

## Tray process (pushmail): extra lines

# Tooltip line for an account whose connection is not fine: "Work — 3 unread (offline, retrying)".
account-line-with-state = { $line } ({ $state })
# Popup body when the account's preview is "sender only".
notify-sender-only-body = New message in { $account }
# Popup when an account stops working (password rejected, certificate not trusted).
notify-attention-body = { $detail }
# Opening the mail client failed.
open-failed-title = Cannot open your mail
open-no-mail-client = No default mail application is set. Choose one for email links in your desktop's settings, or set an open command in Pushmail's Settings → General.
open-failed-command = Could not start { $program }: { $reason }
# The configuration file could not be read; the tray keeps the last good one.
config-error-title = Pushmail's configuration has an error

## Settings window (pushmail-settings, ui/)

settings-window-title = Pushmail Settings
settings-loading = Loading…
settings-nav-label = Settings sections
settings-nav-accounts = Accounts
settings-nav-folders = Folders
settings-nav-notifications = Notifications
settings-nav-general = General
settings-nav-activity = Activity
# Sidebar footer: whether the tray process is running.
settings-tray-running = Pushmail is running
settings-tray-stopped = Pushmail is not running
settings-tray-unreachable = Cannot reach Pushmail
settings-tray-start = Start Pushmail
settings-tray-starting = Starting…
settings-tray-started = Pushmail is running.
settings-tray-stopped-banner = Pushmail is not running, so there is no live state to show. Your settings are saved and apply when it starts.

settings-save = Save
settings-saving = Saving…
settings-cancel = Cancel
settings-back = Back
settings-saved = Saved.
settings-saved-not-running = Saved. Pushmail is not running; the change applies when it starts.
settings-saved-reload-failed = Saved, but the running Pushmail did not take the change: { $message }
settings-required = Required

# Headline of an error box; the message below it comes from the program.
settings-error-invalid = Please check this
settings-error-config_unreadable = The configuration file needs fixing
settings-error-config_write = The configuration could not be saved
settings-error-not_found = That account no longer exists
settings-error-keyring = The keyring did not cooperate
settings-error-connect = Cannot reach the server
settings-error-tray_not_running = Pushmail is not running
settings-error-tray = Pushmail did not answer
settings-error-spawn = Pushmail could not be started
settings-error-io = Something went wrong
settings-error-internal = Something went wrong
settings-error-sign_in = The sign-in did not complete
settings-config-broken = Settings will not change a file it cannot read. Fix the file, or move it away to start afresh, then open Settings again.

## Settings → Accounts

settings-accounts-title = Accounts
settings-accounts-subtitle = The mailboxes Pushmail watches for new mail.
settings-welcome = Welcome to Pushmail. Add the mail account you want to hear about.
settings-account-add = Add account
settings-account-edit = Edit
settings-account-remove = Remove
settings-account-check-now = Check now
settings-account-unread = { $count ->
    [0] No unread mail
    [one] 1 unread
   *[other] { $count } unread
}
settings-account-no-live-state = No live state
settings-account-remove-confirm = Remove { $name }? Its password is deleted from the keyring too. Mail on the server is not touched.
settings-account-removed = Account removed.
settings-account-saved = Account saved.
settings-account-folders = { $count ->
    [one] 1 folder
   *[other] { $count } folders
}

# Under an account's address: how soon after new mail reached the mail server Pushmail showed
# it — the median of the last 24 hours, live mail only. The server dates mail to the whole
# second, so it is always "within" a number, rounded up. $count is a number.
settings-account-delay-seconds = { $count ->
    [one] New mail usually shown within a second of reaching the server
   *[other] New mail usually shown within { $count } seconds of reaching the server
}
settings-account-delay-minutes = { $count ->
    [one] New mail usually shown within a minute of reaching the server
   *[other] New mail usually shown within { $count } minutes of reaching the server
}
settings-account-delay-hours = { $count ->
    [one] New mail usually shown within an hour of reaching the server
   *[other] New mail usually shown within { $count } hours of reaching the server
}
# After settings-account-delay-*: how many messages that figure is the median of.
settings-account-delay-basis = { $count ->
    [one] median of 1 message in the last 24 hours
   *[other] median of { $count } messages in the last 24 hours
}

## Settings → Add or edit an account

settings-account-new-title = Add account
settings-account-edit-title = Edit { $name }
settings-account-intro = Pushmail connects over IMAP or POP3 and reads only the headers of new mail.
settings-section-identity = Account
settings-section-server = Server
settings-section-advanced = Advanced
settings-field-name = Name
settings-field-name-help = Shown in the tray menu and in notifications.
settings-field-email = Email address
settings-field-id = Account ID
settings-field-id-help = Short and permanent: it names the password in your keyring. Letters, digits, - and _.
settings-field-protocol = Protocol
settings-protocol-imap = IMAP
settings-protocol-pop3 = POP3
# Under the Protocol select when POP3 is chosen. $seconds is the account's poll interval.
settings-field-protocol-pop3-help = POP3 has no push: Pushmail checks every { $seconds } s, never deletes or changes anything on the server, and cannot tell when you read mail elsewhere; the count shows new mail since you last opened your mail client.
settings-field-host = IMAP server
settings-field-host-pop3 = POP3 server
settings-field-port = Port
settings-field-security = Security
settings-security-tls = TLS
settings-security-starttls = STARTTLS
# POP3's STARTTLS command is called STLS; the config value stays "starttls".
settings-security-starttls-pop3 = STARTTLS (STLS)
settings-security-plain = None
settings-field-security-help = TLS is the safest. “None” is only allowed for a server on this computer.
settings-field-username = User name
settings-field-password = Password
settings-field-password-keep = Leave empty to keep the stored password
settings-field-password-help = Kept in your OS keyring, never in the configuration file.
settings-field-password-source = Password from
settings-password-source-keyring = The OS keyring
settings-password-source-command = A command
settings-field-password-command = Command that prints the password
settings-field-ca-file = Extra CA certificate (PEM file)
settings-field-ca-file-help = Only for servers that use their own certificate authority.
settings-field-open = A click on a notification opens
settings-open-default = The mail client
settings-open-url = A webmail page
settings-open-command = A command
settings-field-enabled = Watch this account
settings-test = Test connection
settings-testing = Testing…
settings-test-ok = Everything works.
settings-test-failed = The test stopped at “{ $step }”.
settings-test-hint = What to do
settings-test-folders = Folders to watch
settings-test-step-password = Password
settings-test-step-tcp = Reach the server
settings-test-step-tls = Secure connection
settings-test-step-login = Log in
settings-test-step-capabilities = Server features
settings-test-step-folders = Folders
# The "folders" step of a POP3 account's test: its one mailbox.
settings-test-step-mailbox = Mailbox

## Settings → Add or edit an account: signing in at the provider (OAuth2) instead of a password.
## $provider is a brand name (Google, Microsoft, Yahoo, AOL, Fastmail).
settings-field-signin = Log in with
settings-signin-password = A password
settings-signin-with = Sign in with { $provider }
settings-signin-custom = Sign in with another provider (custom)
settings-signin-button = Sign in
settings-signin-help = Opens the provider's page in your web browser. Pushmail never sees your password; the permission it is given is kept in your OS keyring.
settings-signin-waiting = Waiting up to { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
} for you to approve in the browser…
settings-signin-url = Browser did not open, or you use another one? Open this address:
settings-signin-copy = Copy
settings-signin-copied = Copied
settings-signin-cancel = Cancel
settings-signin-done = Signed in. The connection test follows.
settings-signin-again-help = Signed in. Sign in again when Pushmail asks you to, or to give it a new permission.
settings-field-oauth-client-id = Client ID
settings-field-oauth-authorization-endpoint = Authorization endpoint
settings-field-oauth-token-endpoint = Token endpoint
settings-field-oauth-scopes = Scopes
settings-field-oauth-scopes-help = Separated by spaces, for example: openid offline_access email imap
settings-field-oauth-issuer = Issuer (optional)
settings-signin-again = Press “Sign in” to try again.
settings-signin-cancelled = The sign-in was cancelled; nothing was stored.

## Settings → Folders

settings-folders-title = Folders
settings-folders-subtitle = Choose the folders to watch. New mail usually arrives in INBOX; filters may sort some into other folders.
settings-folders-account = Account
settings-folders-loading = Asking the server for its folders…
settings-folders-reload = Reload list
settings-folders-filter = Filter folders
settings-folders-missing = not on the server
settings-folders-container = holds only other folders
settings-folders-watched = { $count ->
    [one] 1 folder watched
   *[other] { $count } folders watched
}
settings-folders-no-accounts = Add an account first.
settings-folders-pop3 = { $name } is a POP3 account: it has a single mailbox, always watched, and no folders to choose.
settings-folders-save = Save folders
settings-folders-all-but-special = All except Trash, Junk, Sent and Drafts
settings-folders-all-but-special-hint = Also leaves out “All Mail” and “Starred”, which repeat mail from other folders. Change anything before you save.
settings-folder-special-all = all mail
settings-folder-special-archive = archive
settings-folder-special-drafts = drafts
settings-folder-special-flagged = flagged
settings-folder-special-junk = junk
settings-folder-special-sent = sent
settings-folder-special-trash = trash

## Settings → Notifications

settings-notifications-title = Notifications
settings-notifications-subtitle = When Pushmail shows a popup. The count in the tray always updates.
settings-notify-enabled = Show notification popups
settings-quiet-hours = Quiet hours
settings-quiet-hours-help = No popups during this time each day, except from VIP senders.
settings-quiet-from = From
settings-quiet-to = To
# Under the quiet-hours times: the span in words, each time as the language writes it.
# $span is "overnight" when the end is at or before the start (22:00 → 07:00).
settings-quiet-hours-summary = { $span ->
    [overnight] No popups from { $start } until { $end } the next morning.
   *[day] No popups from { $start } until { $end }.
}
settings-vip = VIP senders
settings-vip-help = Mail from these addresses or @domains always pops up, even in quiet hours or from a muted account.
settings-vip-placeholder = boss@example.com or @family.example
settings-vip-add = Add
settings-vip-remove = Remove { $address }
settings-vip-invalid = Enter an address like ana@example.com, or a whole domain like @example.com.
settings-vip-none = No VIP senders.
settings-summary = Bursts of mail
settings-summary-threshold = Summarise when more than this many messages arrive together
settings-per-account = Per account
settings-mute = Mute
settings-preview = Popup shows
settings-preview-full = Sender and subject
settings-preview-sender = Sender only
settings-preview-count = Only how many

## Settings → General

settings-general-title = General
settings-autostart = Start Pushmail when I log in
settings-autostart-help = Pushmail sits in the tray and uses little memory while it waits for mail.
settings-language = Language
settings-language-auto = Automatic ({ $language })
settings-mail-client = Mail client
settings-mail-client-help = What “Open” in a notification and the tray menu start, unless an account says otherwise.
settings-mail-client-default = The desktop's default mail application
settings-mail-client-command = This command
settings-config-file = Configuration file
# Language names, each in its own language (the same in every catalog).
language-name-en = English
language-name-it = Italiano
language-name-zh-TW = 繁體中文
language-name-zh-CN = 简体中文
language-name-ar = العربية

## Settings → Activity

settings-activity-title = Activity
settings-activity-subtitle = What Pushmail did lately, from the running tray.
settings-activity-recent = Recent notifications
settings-activity-none = No notifications yet.
settings-activity-problems = Problems
settings-activity-no-problems = No problems: every account is fine.
settings-activity-what-to-do = What to do
settings-activity-refresh = Refresh
settings-activity-unavailable = Start Pushmail to see what it did lately.
settings-activity-edit-account = Edit account
# Under a notification: how soon after the message reached the mail server Pushmail showed it.
# The server dates mail to the whole second, so it is always "within" a number, rounded up.
settings-activity-delay-seconds = { $count ->
    [one] Shown within a second of reaching the server
   *[other] Shown within { $count } seconds of reaching the server
}
settings-activity-delay-minutes = { $count ->
    [one] Shown within a minute of reaching the server
   *[other] Shown within { $count } minutes of reaching the server
}
settings-activity-delay-hours = { $count ->
    [one] Shown within an hour of reaching the server
   *[other] Shown within { $count } hours of reaching the server
}
# What to do, by the account's state, when the tray's record has no advice of its own.
settings-activity-hint-auth_failed = The server refused the user name or password. Edit the account, enter the password again (some providers need an app password) and save: Pushmail tries again at once.
settings-activity-hint-error = Test the connection from the account's page to see which step fails and why.
settings-activity-hint-backoff = Pushmail cannot reach the server and keeps retrying. Check that this computer is online; if it is, test the connection from the account's page.

## Command line (pushmail-cli): lines a person reads in a terminal

# `watch` without --json: one line per event. $where is "account/folder".
cli-new-mail = [{ $where }] new mail from { $from }: { $subject }
cli-new-mail-catch-up = [{ $where }] new mail (while away) from { $from }: { $subject }
cli-unread = [{ $where }] { $count ->
    [0] no unread
    [one] 1 unread
   *[other] { $count } unread
}
cli-seen = [{ $where }] message { $uid } was read elsewhere
# `account test`: the line after the steps.
cli-strategy = Strategy: { $strategy }
cli-testing = Testing the connection…
# `account add` prompts.
cli-ask-host = IMAP server (host name)
cli-ask-security = Security (tls, starttls, plain)
cli-ask-port = Port
cli-ask-username = User name
cli-ask-email = E-mail address
cli-ask-id = Short name for this account
cli-ask-password = Password for { $user }@{ $host }:
cli-account-saved = Account “{ $id }” saved to { $path }.
cli-account-not-saved = The account was not saved. Fix the problem above, or add --no-test to save it anyway.
cli-account-removed = Account “{ $id }” removed.
cli-password-stored = Password for “{ $id }” stored in the OS keyring.
cli-no-accounts = No accounts. Add one with: pushmail-cli account add
cli-account-disabled = (disabled)

## Connection diagnostics: what went wrong and what to do, shown by `pushmail-cli account test`,
## Settings → Test connection and the tray's "needs attention" popup. Logs stay in English.
## Type configuration keys (ca_file, password_command, security = "tls", connect_timeout_secs…)
## and commands (pushmail-cli account password ID) exactly as here: people copy them.
## $reason is the server's or the system's own text and stays as they wrote it.

# Between the items of a short list ("IDLE yes, NOTIFY no"; "INBOX, Lists").
list-separator = {", "}

# What went wrong, by kind of error.
error-timeout = timed out while { $step }
error-tls = TLS failed: { $reason }
error-starttls-unavailable = the server does not offer STARTTLS, so the connection cannot be encrypted
error-starttls-refused = the server refused STARTTLS: { $reason }
error-login-disabled = the server does not allow logging in on an unencrypted connection
error-auth = login failed: { $reason }
error-throttled = the server is busy or limits connections: { $reason }
error-protocol = protocol error: { $reason }
error-unsafe = unsafe connection refused: { $reason }
error-secret-no-keyring = no OS keyring is available: { $reason }
error-secret-locked = the OS keyring is locked or refused access: { $reason }
error-secret-missing = no password is stored in the OS keyring for account `{ $id }`
error-secret-keyring = the keyring failed: { $reason }
error-secret-command = password_command failed: { $reason }

# How a problem reads: the step it happened in, the other side's own words after it.
step-connecting = connecting
step-tls-handshake = TLS handshake
step-greeting = greeting
step-starttls = STARTTLS
step-capabilities = capabilities
step-logging-in = logging in
step-capabilities-after-login = reading capabilities after login
step-listing-folders = listing folders
step-asking-for-notify = asking for NOTIFY
step-selecting-folder = selecting a folder
step-starting-idle = starting IDLE
step-waiting-in-idle = waiting in IDLE
step-ending-idle = ending IDLE (the link looks dead)
step-marking-read = marking the message as read
step-fetching-new = fetching new messages
step-listing-new = listing new messages
step-counting-unread = counting unread messages
step-enabling-qresync = enabling QRESYNC
step-finding-highest-uid = finding the highest UID
step-checking-connection = checking the connection
step-asking-folder-status = asking a folder's status
problem-in-step = { $step }: { $what }
problem-with-words = { $what }: { $words }
problem-no-reason = the server gave no reason
problem-at-host = { $what } ({ $host })
net-unreachable = cannot reach { $host }:{ $port }
net-keepalive = cannot enable TCP keepalive
net-tls-handshake = the TLS handshake with { $host } failed
net-failed = the connection failed
net-closed = the server closed the connection
net-lost = the connection was lost
net-bye = the server closed the session
net-bye-instead-of-idle = the server closed the session instead of idling
limit-line = the server sent a line longer than { $n } bytes
limit-literal = the server announced a literal larger than { $n } bytes
limit-response = the server sent a response larger than { $n } bytes
limit-depth = the server nested parentheses deeper than { $n }
proto-unparsable = the server sent a response that cannot be parsed
proto-refused = the server refused the command
proto-greeting = unexpected greeting
proto-unrequested = the server sent unrequested data after the greeting; refusing to continue
proto-overlong-line = the server sent an over-long line
proto-preauth = the server greeted with PREAUTH (pre-authenticated sessions are not supported)
proto-no-uidvalidity = the server gave no UIDVALIDITY for { $folder }
proto-session-lost = the session was lost
proto-other = the server's answer could not be used
proto-no-uidl = this POP3 server does not support UIDL, so Pushmail cannot tell new mail from old
proto-bad-listing = the server's list of messages is inconsistent (a duplicate or invalid message id, or a count that does not match)
proto-no-login-method = the server offers no login method Pushmail can use (USER or SASL PLAIN)
unsafe-data-before-starttls = the server sent data before STARTTLS was requested (possible injection attack); refusing to continue
unsafe-data-after-starttls = the server sent data after agreeing to STARTTLS (possible injection attack); refusing to continue
unsafe-preauth = the server greeted with PREAUTH, so STARTTLS cannot be used; refusing to continue unencrypted
unsafe-foreign-tag = the server answered a command that was never sent (possible injection attack)
store-disk-full = the disk is full
store-failed = the database refused the write
error-store = cannot write the state database { $path }: { $reason }
error-folder-missing = the folder { $folder } does not exist on the server
hint-folder-missing = The other folders are still watched. Pick the folder again from the server's list (Settings → Folders) if it was renamed, or remove it from the account.
config-ca-unreadable = cannot read ca_file { $path }
config-ca-not-pem = ca_file { $path } is not a PEM certificate file
config-ca-empty = ca_file { $path } contains no PEM certificate
config-ca-damaged = ca_file { $path }: certificate { $n } of { $count } is damaged; copy the whole file again
config-ca-unusable = ca_file { $path } cannot be used as a trusted certificate
config-bad-host = { $host } is not a valid host name
config-plain-not-loopback = `security = "plain"` is only allowed for a loopback host, not { $host }
config-unsendable-password = the user name or password contains a line break or another control character, which a POP3 login cannot send; nothing was sent
tls-invalid = the server's certificate is invalid
tls-incompatible = the server's TLS is too old or incompatible
tls-other = the TLS connection failed
tls-system-roots = cannot load the system's trusted certificates
tls-setup = TLS setup failed

# $step of error-timeout: what Pushmail was doing when the server stopped answering.
# Why the server's certificate was refused (after "TLS failed: ").
tls-unknown-issuer = the server's certificate is signed by an unknown authority
tls-bad-signature = the server's certificate is signed by an unknown authority (its signature does not verify against the trusted CA it names)
tls-expired = the server's certificate has expired
tls-not-valid-yet = the server's certificate is not valid yet (check this computer's clock)
tls-wrong-host = the server's certificate is for a different host name
tls-revoked = the server's certificate has been revoked

# What to do, by kind of error: a sentence a non-expert can act on.
hint-network = Check the host name and port, and that this computer is online.
hint-server-left = The server ended the session and said why. Pushmail tries again by itself; if it lasts, ask the provider.
hint-timeout = The server did not answer in time. Check the host and port, or raise connect_timeout_secs (connecting) or command_timeout_secs (commands) on a slow network.
hint-tls = The server's certificate is not trusted for this host name. If the server uses its own certificate authority, set ca_file in the account's settings; otherwise check the host name.
hint-starttls = Use security = "tls" (usually port 993) if the server supports it, or ask the provider; Pushmail never sends a password unencrypted.
hint-login-disabled = Use security = "tls" or "starttls" for this account.
hint-auth = Check the user name, and set the password again (pushmail-cli account password ID). Some providers need an app password.
hint-throttled = Pushmail will retry after a pause. Other mail programs may be using up the server's connection limit.
hint-protocol = The server misbehaved; Pushmail will retry. If it persists, report it with the log.
hint-no-uidl = Without UIDL Pushmail cannot watch a POP3 mailbox. Use IMAP for this account if the provider offers it.
hint-no-login-method = Pushmail logs in to POP3 servers with USER/PASS or SASL PLAIN. Ask the provider, or use IMAP for this account.
hint-config = Fix the account in the configuration file or in Settings.
hint-unsafe = Pushmail did not send your password. A network that interferes with mail (a hotel or café sign-in page) can cause this, and so can an attack: try another network, and tell your provider if it lasts.
hint-store = Free some space on the disk that holds this file (or fix its permissions). Pushmail tries again by itself and will not repeat a notification.
hint-secret-no-keyring = Start your desktop's keyring (GNOME Keyring, KWallet with Secret Service) or use password_command in the account.
# "Check now" is the tray menu's item (menu-check-now).
hint-secret-locked = Unlock your keyring (log in to the desktop session), then press Check now.
hint-secret-missing = Store it with: pushmail-cli account password { $id }
hint-secret-keyring = Check that your keyring works (e.g. with secret-tool), then try again.
hint-secret-command = Run the account's password_command yourself and check that it prints the password on its first line.

# Each step of the connection test, when it worked.
probe-password-keyring = found in the OS keyring
probe-password-command = from `{ $program }`
probe-password-typed = typed in the form (stored when you save)
probe-cannot-reach = cannot reach { $address }: { $reason }
probe-connected = connected to { $address }
# "TLSv1_3 TLS13_AES_256_GCM_SHA384; certificate CN=imap.example.com issued by CN=R11, valid until 2026-01-31".
probe-tls = { $protocol } { $cipher }; certificate { $subject } issued by { $issuer }, valid until { $until }
probe-plaintext = plaintext (loopback only)
probe-logged-in = logged in as { $user }
# One capability of the server: "IDLE yes", "NOTIFY no".
probe-capability = { $present ->
    [yes] { $capability } yes
   *[no] { $capability } no
}
# $watched: a list of probe-folder-unread.
probe-folders = { $count ->
    [one] 1 folder; watching { $watched }
   *[other] { $count } folders; watching { $watched }
}
# `account test` of a POP3 account: the one mailbox, with how many messages it holds; each
# has a unique id (UIDL), which is how Pushmail tells new mail from old.
probe-pop3-messages = { $count ->
    [one] 1 message in the mailbox, each with a unique id (UIDL)
   *[other] { $count } messages in the mailbox, each with a unique id (UIDL)
}
# $unread is a number, or "?" when the server did not say.
probe-folder-unread = { $folder } ({ $unread } unread)
probe-folders-missing = { $count ->
    [one] watched folder not on the server: { $folders }
   *[other] watched folders not on the server: { $folders }
}

# How the account will be watched (after "Strategy: "). NOTIFY and IDLE are IMAP features.
strategy-notify = NOTIFY: all { $folders ->
    [one] 1 folder
   *[other] { $folders } folders
} on one connection
# $home is a folder name ("INBOX").
strategy-notify-one = NOTIFY push: { $home } on one connection
strategy-idle = IDLE push: { $home } on one connection
strategy-idle-sweep = no NOTIFY: { $home } push, { $others ->
    [one] 1 folder
   *[other] { $others } folders
} checked every { $seconds } s
strategy-poll = no IDLE: { $folders ->
    [one] 1 folder
   *[other] { $folders } folders
} checked every { $seconds } s
# A POP3 account (no push): how it is watched, in the account's line, `account test` and
# Settings. POP3 has no flags, so Pushmail cannot see mail read in another program.
strategy-pop3 = POP3: checked every { $seconds } s; POP3 cannot tell when you read mail elsewhere

## Account IDs: `pushmail-cli account add` and Settings → Add account
# A new account's ID is already taken by the account $existing; IDs that differ only in upper
# and lower case ("Work", "work") count as the same.
account-id-taken = An account “{ $existing }” already exists (IDs that differ only in upper and lower case count as the same); choose another ID.

## pushmail-cli status
# `pushmail-cli status`: the running tray's counts on one line, for a terminal or a status bar:
# "3 unread — Work 2, Home 1 · Home: password rejected · Notifications paused". The parts are
# cli-status-total (or cli-status-with-accounts), one cli-status-problem per account that is not
# watching, and tray-paused, joined with cli-status-separator.
cli-status-total = { $count ->
    [0] No unread mail
    [one] 1 unread
   *[other] { $count } unread
}
# $total is cli-status-total; $accounts a list of cli-status-account ("Work 2, Home 1").
cli-status-with-accounts = { $total } — { $accounts }
# One account with unread mail: its name and how many.
cli-status-account = { $name } { $count }
# An account that is not watching; $state is its state-* text ("password rejected").
cli-status-problem = { $name }: { $state }
cli-status-separator = {" · "}
# No tray is running. `pushmail` is the command that starts it: keep it as it is.
cli-status-not-running = Pushmail is not running — start it with `pushmail`
# $reason is the system's own text.
cli-status-no-bus = Cannot reach the desktop's D-Bus session bus ({ $reason }); run this inside the desktop session where Pushmail runs.
cli-status-no-answer = Pushmail did not answer ({ $reason }); quit and start it again if this persists.

## pushmail-cli forget-everything: removes the per-user data (configuration, state database,
## keyring passwords, start-at-login entry). $path is a file path, $id an account id.
cli-forget-nothing = Nothing to forget: Pushmail keeps no data of yours here.
cli-forget-plan = This removes everything Pushmail keeps for you:
cli-forget-confirm = Remove all of it? [y/N]
# `--yes` is the option's name: keep it as it is.
cli-forget-needs-yes = Nothing was removed: standard input is not a terminal, so confirm with --yes.
cli-forget-cancelled = Cancelled; nothing was removed.
cli-forget-quit-tray = Asked the running Pushmail to quit.
cli-forget-item-password = the password of account “{ $id }” in the OS keyring
cli-forget-item-autostart = the start-at-login entry { $path }
cli-forget-item-state = the state database { $path } (which messages were announced)
cli-forget-item-config = the configuration { $path }
# $what is one of the cli-forget-item-* texts.
cli-forget-removed = Removed { $what }
# The command is a shell command: keep it as it is.
cli-forget-done = Pushmail has forgotten everything. The programs stay installed; remove them with: sudo apt purge pushmail pushmail-settings

## Sign-in (OAuth2)

state-signin_required = sign-in required
# $provider: Google, Microsoft, Yahoo, AOL, Fastmail, or the configured name.
probe-signin-token = a sign-in token from { $provider }
error-signin-required = the sign-in at { $provider } is no longer valid (the password was changed or access withdrawn)
hint-signin-required = Sign in again: Settings → Accounts → Sign in, or pushmail-cli account login ID.
error-signin-client = { $provider } does not accept this application's registration (client id)
hint-signin-client = Set a client id registered for Pushmail with oauth_client_id (docs/configuration.md, “Sign-in”).
error-signin-admin = your organisation must approve Pushmail at { $provider } before you can sign in
hint-signin-admin = Ask your IT administrator to allow Pushmail for your organisation, then sign in again.
error-signin-no-client-id = no client id is set for signing in at { $provider }
error-signin-settings = the sign-in settings for { $provider } cannot work
error-signin-unavailable = the sign-in server of { $provider } could not be reached
error-signin-no-mechanism = the server offers no sign-in with a token (OAUTHBEARER or XOAUTH2)
hint-signin-no-mechanism = Check the server name, or use a password for this server.
error-signin-passwords-refused = the server no longer accepts passwords
hint-signin-passwords-refused = Switch this account to signing in: Settings → Accounts, or auth = "oauth2" and oauth_provider in the configuration.
notify-signin-title = Sign in to { $account } again
notify-signin-action = Sign in…

## CLI sign-in: `pushmail-cli account login ID` and `account add --auth oauth2`. $id is an
## account id, $provider a provider's word (google, microsoft, custom…), $url the address of
## the provider's sign-in page. Command names and options (account login, --timeout) stay as
## they are.
cli-signin-open = Open this address in your browser to sign in: { $url }
cli-signin-waiting-minutes = Waiting up to { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
} for you to approve in the browser…
cli-signin-waiting-seconds = Waiting up to { $seconds ->
    [one] 1 second
   *[other] { $seconds } seconds
} for you to approve in the browser…
cli-signin-no-browser = Could not open a browser; open the address above yourself.
cli-signin-done = Signed in: account “{ $id }” uses its { $provider } sign-in, kept in the OS keyring.
cli-signin-tray-reloaded = Told the running Pushmail to use the new sign-in.
# $reason is the system's own text.
cli-signin-tray-not-told = The running Pushmail could not be told ({ $reason }); it uses the new sign-in after its next start.
cli-signin-not-oauth = Account “{ $id }” uses a password, not a sign-in: set auth = "oauth2" and oauth_provider for it first (docs/configuration.md, “Sign-in”).
cli-signin-no-password = Account “{ $id }” signs in at its provider and has no password: use pushmail-cli account login { $id }.
cli-signin-again = Run pushmail-cli account login { $id } to try again.
# $seconds: how long Pushmail waited.
cli-signin-timed-out = The sign-in was not completed within { $seconds } s; nothing was stored.
cli-signin-denied = Access was denied at the provider's page; nothing was stored.
cli-signin-wrong-state = A sign-in answer arrived that does not belong to this sign-in (it may be forged, or left over from an earlier attempt); nothing was stored.
cli-signin-wrong-issuer = The sign-in answer came from another server than the provider; nothing was stored.
# $code is the provider's error code, e.g. server_error.
cli-signin-provider-error = The provider ended the sign-in with an error ({ $code }); nothing was stored.
cli-signin-bad-redirect = The sign-in answer was not what Pushmail expected; nothing was stored.
cli-signin-listener = Cannot wait for the sign-in answer on this computer ({ $reason }).
cli-signin-no-refresh-token = The provider signed you in but gave no lasting permission (no refresh token), so Pushmail could not stay signed in; nothing was stored.
cli-signin-no-refresh-token-hint = Check that the scopes include offline access (oauth_scopes, e.g. offline_access), then sign in again.
cli-signin-later = Sign in before Pushmail can watch it: pushmail-cli account login { $id }
# Shown in `account list` instead of nothing for a password account.
cli-account-signin = sign-in ({ $provider })
cli-forget-item-signin = the sign-in of account “{ $id }” in the OS keyring
# The page the browser shows after the redirect back to Pushmail (plain text).
cli-signin-page-success = You are signed in. You can close this tab and go back to Pushmail.
cli-signin-page-failure = Sign-in did not complete. Go back to Pushmail to see why.

## Provider notes: what the user must do at the provider before Pushmail can log in. Shown under
## the address in Settings → Add account and by `pushmail-cli account add` when the address
## belongs to a provider Pushmail knows (crates/core/src/discover/providers.rs, docs/providers.md).
## $provider is the provider's brand name (Gmail, iCloud Mail, QQ Mail…): keep it as it is.
# Gmail, Yahoo, AOL, iCloud, Fastmail, Yandex, Mail.ru: the account's own password is refused.
provider-note-app-password = To use a password with { $provider }, create an app password in the security settings of your { $provider } account and enter it here: your usual password is refused.
# GMX, WEB.DE, Zoho: IMAP is off until the user turns it on in the webmail.
provider-note-enable-imap = Turn on IMAP access first: sign in to { $provider } on the web and enable it in the mail settings. Until then the server refuses Pushmail.
# QQ Mail and NetEase (163.com, 126.com, yeah.net) call their app password an "authorization code".
provider-note-authorization-code = { $provider } wants an authorization code instead of your password: turn on IMAP in the { $provider } webmail settings, generate an authorization code there and enter it as the password.

## Account discovery: finding the settings from the address (Settings and pushmail-cli).
## $where is a place being looked at (a web address, a server name, or one of the phrases below).
discover-looking = Looking at { $where }…
discover-looking-providers = the list of known providers
discover-looking-mx = the mail servers (MX) of { $domain }
discover-looking-srv = the DNS service records { $name }
discover-source-provider-list = from the provider list ({ $provider })
discover-source-provider-mx = from the provider list: { $provider } receives this domain's mail ({ $mx })
discover-source-autoconfig = from { $domain }'s own configuration
discover-source-autoconfig-mx = from the configuration of { $domain }'s mail hoster ({ $mx })
discover-source-srv = from { $domain }'s DNS service record ({ $record })
discover-source-guess = guessed: { $host } answered with a valid certificate
discover-warning-outside = { $host } is not part of { $domain }: it belongs to { $owner }. Use it only if you expected this server.
discover-warning-look-alike = { $domain } is not { $imitates }: it only looks like it. Check the address before you give it a password.
discover-warning-insecure = These settings came unencrypted from { $url } and could have been changed on the way.
discover-not-found = No settings found for { $domain }. Enter the server by hand.
discover-login-password = with a password
discover-login-signin = by signing in with { $provider }
cli-discover-found = Settings found for { $address }, { $source }:
cli-discover-server = Server:    { $server } ({ $security })
cli-discover-user = User name: { $user }, { $login }
cli-discover-check = Check:     { $warning }
cli-discover-confirm = Use these settings? [Y/n]
cli-discover-needs-yes = Settings were found, but there is no terminal to confirm them: add --yes to use them, or give the server with --host.
cli-discover-declined = Nothing saved. Give the settings yourself with --host, --port, --security and --username.

## Settings → Add account, starting from the address (ui/src/pages/addAccount.ts): name and
## address, then the server settings are looked up (the discover-* lines above say where, and
## where they came from), then the password or the provider's sign-in.
## $address is an e-mail address: keep it as it is.
settings-add-intro = Enter your name and e-mail address: Pushmail looks up the server settings for you and asks for the password only once you have checked them.
settings-add-name = Name (optional)
settings-add-email-help = The settings are looked up from its domain. Only the address is sent, never a password.
settings-add-continue = Continue
settings-add-manual = Configure manually
settings-add-looking = Looking up the settings for { $address }…
# A disclosure under "No settings found…": the places that were asked and what they answered.
settings-add-notes = What was tried
settings-add-found-title = Settings found for { $address }
# Above the warnings (a look-alike domain, a server outside the address's domain).
settings-add-check = Check this before you continue
# Labels in the summary of what was found; the values are the discover-login-* and discover-source-* lines.
settings-add-login = Log in
settings-add-source = Found
# The one button after the password: the connection test, then the save if it passed.
settings-add-test-save = Test and save

## Settings → Activity: "Open" on a notification opens that message, as on its popup.

settings-activity-open = Open
# A toast when the tray is not running.
settings-activity-open-not-running = Pushmail is not running, so it cannot open the message. Start Pushmail and try again.
# A toast; $message is the tray's own sentence (e.g. no default mail application is set).
settings-activity-open-failed = The message could not be opened: { $message }
