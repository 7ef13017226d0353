#!/usr/bin/python3
"""Runs Debian's Mailnag daemon headless, configured for one IMAP (or, with --pop3, POP3) account,
for Pushmail's benchmarks (the peer users would otherwise install, measured on the same server).

It is Mailnag's own daemon (`MailnagDaemon`) with its own libnotify plugin, configured as a user
would with one popup per mail (notification_mode 2), with three changes that make it run on a
test machine and nothing else:

- Mailnag believes it is offline unless it can reach www.google.com, and has no switch for that:
  `ConnectivityTest.is_offline` is replaced by "never offline".
- Its logging also goes to syslog through /dev/log, which a container lacks: logging is set up
  without the syslog handler (stderr only, at Mailnag's own DEBUG level).
- Each time an account (re-)enters IMAP IDLE a line `BENCH idle <unix time>` is printed on
  stdout, so the benchmark knows when Mailnag is watching (start-up time, readiness).
- With --pop3 (a POP3 account, which Mailnag polls), a line `BENCH checked <unix time>` is
  printed after each check, and --no-plugins leaves its notification plugin out (a benchmark that
  only counts bytes must not pop up the 1,000 messages of a first check). A check can be asked
  for at any time over D-Bus with Mailnag's own `CheckForMails` method, as its settings do.

The password goes into the Secret Service through Mailnag's own `AccountManager.save_to_cfg()`,
exactly as its settings window stores it (schema com.github.pulb.mailnag), so this must run in a
D-Bus session with an unlocked keyring (scripts/bench.d/desktop-session). Mailnag reads
$XDG_CONFIG_HOME when its modules are imported: the caller points it at a private directory.

Usage: mailnag-headless.py --server HOST --port N --user U --password-file F [--ssl 0|1]
                           [--idle-timeout-min N] [--pop3] [--no-plugins]
"""

import argparse
import logging
import os
import signal
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", required=True)
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--ssl", type=int, default=1, help="1: implicit TLS; 0: plain (STARTTLS if offered)")
    p.add_argument("--idle-timeout-min", type=int, default=10, help="Mailnag's imap_idle_timeout (default 10)")
    p.add_argument("--pop3", action="store_true", help="a POP3 account instead of IMAP")
    p.add_argument("--no-plugins", action="store_true", help="no notification plugin")
    return p.parse_args()


def configure(args):
    from Mailnag.common import config as mcfg
    from Mailnag.common.accounts import Account, AccountManager

    if not os.environ.get("XDG_CONFIG_HOME"):
        sys.exit("mailnag-headless: set XDG_CONFIG_HOME to a private directory")
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().strip()
    cfg = mcfg.read_cfg()
    cfg.set("core", "poll_interval", "10")
    cfg.set("core", "imap_idle_timeout", str(args.idle_timeout_min))
    cfg.set("core", "autostart", "1")
    cfg.set("core", "enabled_plugins", "" if args.no_plugins else "libnotifyplugin")
    if not cfg.has_section("libnotifyplugin"):
        cfg.add_section("libnotifyplugin")
    # 2 = one popup per mail, the mode comparable to Pushmail's popups.
    cfg.set("libnotifyplugin", "notification_mode", "2")
    cfg.set("libnotifyplugin", "max_visible_mails", "10")
    accounts = AccountManager()
    if args.pop3:
        account = Account(
            mailbox_type="pop3",
            enabled=True,
            name="bench",
            user=args.user,
            password=password,
            server=args.server,
            port=str(args.port),
            ssl=bool(args.ssl),
            imap=False,
            idle=False,
        )
    else:
        account = Account(
            mailbox_type="imap",
            enabled=True,
            name="bench",
            user=args.user,
            password=password,
            server=args.server,
            port=str(args.port),
            ssl=bool(args.ssl),
            imap=True,
            idle=True,
            folders=[],
        )
    accounts.add(account)
    accounts.save_to_cfg(cfg)
    mcfg.write_cfg(cfg)


def patch(args):
    from Mailnag.backends import imap as imap_backend
    from Mailnag.daemon import conntest
    from Mailnag.daemon import mailchecker

    conntest.ConnectivityTest.is_offline = lambda self: False

    original = imap_backend.IMAPMailboxBackend.notify_next_change

    def traced(self, callback=None, timeout=None):
        original(self, callback, timeout)
        print(f"BENCH idle {time.time():.6f}", flush=True)

    imap_backend.IMAPMailboxBackend.notify_next_change = traced

    if args.pop3:
        original_check = mailchecker.MailChecker.check

        def traced_check(self, accounts):
            original_check(self, accounts)
            print(f"BENCH checked {time.time():.6f}", flush=True)

        mailchecker.MailChecker.check = traced_check


def run():
    # What /usr/bin/mailnag's main() does, minus syslog and the "existing instance" shutdown
    # (the bus is private).
    import gi

    gi.require_version("GLib", "2.0")
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib
    from Mailnag.common.subproc import terminate_subprocesses
    from Mailnag.common.utils import init_logging, set_procname
    from Mailnag.daemon.mailnagdaemon import MailnagDaemon

    set_procname("mailnag")
    mainloop = GLib.MainLoop()
    DBusGMainLoop(set_as_default=True)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, mainloop.quit)
    init_logging(enable_stdout=True, enable_syslog=False, log_level=logging.DEBUG)
    daemon = MailnagDaemon(lambda ex: mainloop.quit(), mainloop.quit)
    try:
        mainloop.run()
    except KeyboardInterrupt:
        pass
    finally:
        daemon.dispose()
        terminate_subprocesses(timeout=3.0)
        # Mailnag's idler threads may still sit in a socket read; do not wait for them.
        os._exit(0)


def main():
    args = parse_args()
    configure(args)
    patch(args)
    run()


if __name__ == "__main__":
    main()
