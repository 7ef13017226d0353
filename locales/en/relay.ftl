# The relay's web app (ui/relay.html, ui/src/relay/): a headless pushmail-relay watches
# mailboxes and pushes new-mail notices to phones and browsers. The app also uses words from
# pushmail.ftl (the account form's fields, language names, connection states), so they read the
# same as in the settings window. Every key here starts with "relay-".

relay-app-name = Pushmail relay
relay-loading = Loading…

## Sign-in

relay-signin-title = Sign in
relay-signin-help = Enter the access token the relay's operator gave you. They make one with this command:
relay-signin-token = Access token
relay-signin-button = Sign in
relay-signin-rejected = The relay did not accept this token. Check it, or ask for a new one.
relay-signin-expired = Your access token is no longer accepted. Sign in again.
relay-signout = Sign out

## Navigation and titles

relay-nav-mailboxes = Mailboxes
relay-nav-devices = Devices
relay-nav-webhooks = Webhooks
relay-title-mailboxes = Mailboxes
relay-title-add-mailbox = Add mailbox
relay-title-devices = Devices
relay-title-webhooks = Webhooks

## Errors

relay-error-title = That did not work
relay-error-network = Cannot reach the relay. Check your connection and try again.
relay-error-slow-down = Too many requests. Wait a moment and try again.
relay-error-status = The relay answered with an error (HTTP { $status }).
relay-error-auth_failed = The mail server rejected the user name or password
relay-error-unreachable = The mail server could not be reached
relay-error-tls_failed = No secure connection to the mail server
relay-error-connect_failed = Could not connect to the mail server
relay-error-host_not_allowed = The relay does not connect to this server
relay-error-bad_field = Some fields are not right
relay-error-missing_field = Some fields are empty
relay-error-bad_port = The port is not right
relay-form-incomplete = Fill in the marked fields.
relay-error-bad_address = The email address is not valid
relay-error-bad_host = The server name is not right
relay-error-bad_security = The security setting is not right
relay-error-unknown_provider = The relay does not offer this sign-in
relay-error-limit = You have reached the relay's limit
relay-error-not_found = It no longer exists
relay-error-signin_unavailable = This relay offers no sign-in
relay-error-not_signin = This mailbox logs in with a password

## Finding a mailbox's settings from its address (the relay runs the desktop's discovery)

relay-discover-button = Find settings
relay-discover-looking = Looking up the settings for { $address }…
relay-discover-found = Settings found: check them, then enter your password.
relay-discover-source = Where they came from:
relay-discover-none = No settings found for { $domain } — fill them in below
relay-discover-signin = { $provider } needs sign-in with { $signin }, which this relay does not offer; use an app password if your provider allows one
relay-discover-address = Enter your email address first, like ana@example.com.


## Signing a mailbox in at its provider (OAuth2) instead of a password. $signin and $provider
## are a sign-in provider's name (Google, Microsoft, or one the relay's operator named);
## $provider in relay-oauth-offer-title is the mail provider's (Gmail).

relay-oauth-offer-title = Settings found: { $provider } signs in with { $signin }.
relay-oauth-offer-help = You sign in on { $signin }'s own page and allow the relay to read your mail for notices; the relay never sees your password.
relay-oauth-found = Settings found: check them, then sign in with { $signin }.
relay-oauth-help = You sign in on { $provider }'s own page; the relay never sees your password.
relay-oauth-manual = Set up manually
relay-oauth-opening = Opening the sign-in page of { $provider }…
relay-oauth-bad-url = The relay did not give a usable sign-in address.
relay-oauth-done = { $name } is signed in; the relay is watching it now.
relay-oauth-done-unnamed = The mailbox is signed in; the relay is watching it now.
relay-oauth-failed-title = The sign-in did not complete
relay-oauth-failed-denied = Access was refused at the provider (by you, or by a policy of your organisation). Nothing was saved.
relay-oauth-failed-wrong_browser = The sign-in was finished in another browser than the one that started it, so the relay refused it for your safety. Start it again and finish it in this browser.
relay-oauth-failed-expired = The sign-in took too long, or its link was already used. Start it again.
relay-oauth-failed-no_refresh_token = The provider signed you in but gave no lasting access, so the relay could not keep watching. Nothing was saved; the relay's operator may need to change the settings for this provider.
relay-oauth-failed-login_failed = You signed in, but the mail server refused the login or could not be reached. Nothing was saved: check the server settings and try again.
relay-oauth-failed-provider = The provider ended the sign-in with an error. Nothing was saved.
relay-oauth-failed-failed = Something went wrong during the sign-in. Nothing was saved.
relay-oauth-required = Sign in to { $provider } again: access was revoked or expired
relay-oauth-required-unnamed = Sign in again: access was revoked or expired
relay-oauth-again = Sign in again

## Mailboxes

relay-mailboxes-subtitle = The relay watches these mailboxes and notifies your devices of new mail.
relay-mailboxes-empty = No mailboxes yet. Add one to get notices of its new mail.
relay-add-mailbox = Add mailbox
relay-add-mailbox-subtitle = The relay tests the connection before it keeps the mailbox.
relay-password-help = Kept by the relay, encrypted. An app password works if your provider offers them.
relay-mailbox-added = { $name } added.
relay-mailbox-remove-confirm = Remove { $name }? The relay stops watching it and forgets its password. Mail on the server is not touched.
relay-mailbox-removed = Mailbox removed.
relay-remove = Remove
relay-state-watching = watching
relay-state-starting = starting…
relay-state-connecting = connecting…
relay-state-auth_failed = wrong password
relay-state-unreachable = server unreachable
relay-state-error = error
relay-state-backoff = offline, retrying
relay-state-disabled = paused
relay-state-unknown = unknown

## Devices

relay-devices-subtitle = Phones and browsers that get a notice when new mail arrives.
relay-this-device = This device
relay-this-device-off = Get a notice on this device when new mail arrives in your mailboxes.
relay-this-device-on = Notices are on
relay-notify-this-device = Notify this device
relay-subscribing = Asking the browser…
relay-test-on-its-way = A test notification is on its way.
relay-send-test = Send a test notice
relay-stop-notifying = Stop notifying this device
relay-stopped = This device is no longer notified.
relay-saved = Saved.
relay-device-name = { $browser } on { $system }
relay-device-unnamed = Unnamed device
relay-device-remove-confirm = Remove { $name }? It gets no more notices.
relay-device-removed = Device removed.
relay-other-devices = Other devices
relay-other-devices-empty = No other devices.
relay-since = since { $date }
relay-detail-legend = A notice shows
relay-detail-none = Just “New mail in Work”
relay-detail-sender = Sender
relay-detail-subject = Sender and subject
relay-detail-short-none = Mailbox only
relay-detail-short-sender = Sender
relay-detail-short-subject = Sender and subject
relay-detail-help = Notices travel through your browser's push service encrypted for this device; less detail shows less on a locked screen.
relay-push-denied = Notifications are blocked for this site. Allow them in the browser's site settings, then try again.
relay-push-unsupported = This browser cannot receive push notices.
relay-push-ios = On iPhone and iPad, add this page to the Home Screen first (Share → Add to Home Screen), then open it from there.
relay-push-failed = The browser could not subscribe to notices.

## Webhooks

relay-webhooks-subtitle = The relay posts a notice to these addresses when new mail arrives, signed with the webhook's secret.
relay-webhooks-list = Webhooks
relay-webhooks-empty = No webhooks.
relay-webhook-disabled = stopped: it kept failing. Add it again to restart it.
relay-webhook-add-title = Add a webhook
relay-webhook-url = Address (URL)
relay-webhook-add = Add webhook
relay-webhook-url-invalid = Enter an address that starts with https:// or http://.
relay-webhook-secret = Secret
relay-webhook-secret-once = The secret for { $url }. Copy it now: it is not shown again.
relay-copy = Copy
relay-copied = Copied.
relay-copy-failed = Could not copy: select the text and copy it.
relay-webhook-remove-confirm = Remove the webhook { $url }?
relay-webhook-removed = Webhook removed.
