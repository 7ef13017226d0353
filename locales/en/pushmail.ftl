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
# An account needs the user's attention (password rejected, TLS error).
notify-attention-title = { $account } needs attention
