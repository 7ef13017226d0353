#!/usr/bin/python3
"""A minimal org.kde.StatusNotifierWatcher, standing in for a desktop panel.

Tray libraries (ksni, libayatana) only register their icon when a watcher owns
org.kde.StatusNotifierWatcher on the session bus; without one the tray would run in a state no
user has. This one accepts every registration and forgets items whose bus name goes away.
Run with Debian's /usr/bin/python3 (python3-dbus, python3-gi).
"""

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, PATH)
        self._items = []
        # Not `_name`: dbus.service.Object uses that attribute itself, and a BusName nobody
        # references is released at once.
        self._owned_name = dbus.service.BusName(IFACE, bus)
        bus.add_signal_receiver(
            self._owner_changed, "NameOwnerChanged", "org.freedesktop.DBus"
        )

    def _owner_changed(self, name, old, new):
        if new:
            return
        gone = [i for i in self._items if i == name or i.startswith(name + "/")]
        for item in gone:
            self._items.remove(item)
            self.StatusNotifierItemUnregistered(item)

    @dbus.service.method(IFACE, in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # ksni passes its object path; others pass a bus name.
        item = sender + service if service.startswith("/") else service
        if item not in self._items:
            self._items.append(item)
            self.StatusNotifierItemRegistered(item)

    @dbus.service.method(IFACE, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        self.StatusNotifierHostRegistered()

    @dbus.service.signal(IFACE, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(IFACE, signature="s")
    def StatusNotifierItemUnregistered(self, item):
        pass

    @dbus.service.signal(IFACE, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self._items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    watcher = Watcher(bus)  # noqa: F841 — kept alive for the main loop's lifetime
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
