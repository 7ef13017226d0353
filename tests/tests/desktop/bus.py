#!/usr/bin/python3
"""D-Bus helper for Pushmail's desktop end-to-end tests (python3-dbus, Debian's /usr/bin/python3).

Long-running (one per test, stdout = JSON lines):
  watch        a StatusNotifierWatcher (so tray items register) that also eavesdrops on
               org.freedesktop.Notifications and io.github.pushmail.Pushmail1 traffic and
               prints every such message.
  hung-daemon  owns org.freedesktop.Notifications and never answers a call.

One-shot (prints one JSON value):
  item                       the registered tray item's Title, Status, ToolTip, icon sizes, Menu
  layout                     the item's dbusmenu layout as a tree of {id, label, enabled, children}
  click LABEL                sends dbusmenu Event(id, "clicked") to the entry labelled LABEL
  action ID KEY              emits org.freedesktop.Notifications.ActionInvoked(ID, KEY)
  call METHOD [JSON_ARGS]    calls io.github.pushmail.Pushmail1.METHOD
  get PROPERTY               reads a property of io.github.pushmail.Pushmail1
  has-owner NAME             whether NAME is owned on the bus
"""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop

WATCHER = "org.kde.StatusNotifierWatcher"
PUSHMAIL = ("io.github.pushmail.Pushmail", "/io/github/pushmail/Pushmail", "io.github.pushmail.Pushmail1")


def plain(v):
    """dbus-python values to JSON-able ones."""
    if isinstance(v, (dbus.Boolean,)):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(v)
    if isinstance(v, dbus.Array) and v.signature == "y":
        return {"bytes": len(v)}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return str(v)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def watch():
    from gi.repository import GLib

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    items = []

    class Watcher(dbus.service.Object):
        @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
        def RegisterStatusNotifierItem(self, service, sender=None):
            # ksni passes its bus name; a path-only registration means "the sender's name".
            name = service if not service.startswith("/") else sender
            path = "/StatusNotifierItem" if not service.startswith("/") else service
            items.append((name, path))
            emit({"kind": "registered", "service": name, "path": path})
            self.StatusNotifierItemRegistered(name)

        @dbus.service.method(WATCHER, in_signature="s", out_signature="")
        def RegisterStatusNotifierHost(self, service):
            pass

        @dbus.service.signal(WATCHER, signature="s")
        def StatusNotifierItemRegistered(self, service):
            pass

        @dbus.service.signal(WATCHER, signature="")
        def StatusNotifierHostRegistered(self):
            pass

        @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
        def Get(self, iface, prop):
            return self.GetAll(iface)[prop]

        @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
        def GetAll(self, iface):
            return {
                "RegisteredStatusNotifierItems": dbus.Array(["%s%s" % i for i in items], signature="s"),
                "IsStatusNotifierHostRegistered": True,
                "ProtocolVersion": dbus.Int32(0),
            }

    Watcher(bus, "/StatusNotifierWatcher")
    bus.request_name(WATCHER)

    mine = (bus.get_unique_name(), WATCHER)

    def on_message(_bus, msg):
        record(msg)
        # Calls to the watcher itself go on to its object. Eavesdropped messages for others
        # must stop here: libdbus would answer an unhandled call with UnknownMethod, racing
        # the real answer.
        if msg.get_destination() in mine:
            return dbus.lowlevel.HANDLER_RESULT_NOT_YET_HANDLED
        return dbus.lowlevel.HANDLER_RESULT_HANDLED

    def record(msg):
        iface = msg.get_interface()
        if iface not in ("org.freedesktop.Notifications", PUSHMAIL[2]) and not msg.get_reply_serial():
            return
        kinds = {1: "call", 2: "return", 3: "error", 4: "signal"}
        emit({
            "kind": kinds.get(msg.get_type(), "other"),
            "member": msg.get_member(),
            "interface": iface,
            "serial": msg.get_serial(),
            "reply_serial": msg.get_reply_serial(),
            "sender": msg.get_sender(),
            "destination": msg.get_destination(),
            "args": plain(msg.get_args_list()),
        })

    for rule in (
        "eavesdrop=true,interface='org.freedesktop.Notifications'",
        "eavesdrop=true,interface='%s'" % PUSHMAIL[2],
        "eavesdrop=true,type='method_return'",
    ):
        bus.add_match_string(rule)
    bus.add_message_filter(on_message)
    emit({"kind": "ready"})
    GLib.MainLoop().run()


def hung_daemon():
    from gi.repository import GLib

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()

    class Hung(dbus.service.Object):
        @dbus.service.method("org.freedesktop.Notifications", in_signature="", out_signature="as",
                             async_callbacks=("ok", "err"))
        def GetCapabilities(self, ok, err):
            emit({"kind": "hung", "member": "GetCapabilities"})

        @dbus.service.method("org.freedesktop.Notifications", in_signature="susssasa{sv}i",
                             out_signature="u", async_callbacks=("ok", "err"))
        def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout, ok, err):
            emit({"kind": "hung", "member": "Notify"})

    Hung(bus, "/org/freedesktop/Notifications")
    bus.request_name("org.freedesktop.Notifications")
    emit({"kind": "ready"})
    GLib.MainLoop().run()


def the_item(bus):
    watcher = bus.get_object(WATCHER, "/StatusNotifierWatcher")
    items = watcher.Get(WATCHER, "RegisteredStatusNotifierItems", dbus_interface=dbus.PROPERTIES_IFACE)
    if not items:
        raise SystemExit("no tray item registered")
    first = str(items[-1])
    name, path = first.split("/", 1)
    return bus.get_object(name, "/" + path)


def item():
    bus = dbus.SessionBus()
    obj = the_item(bus)
    props = obj.GetAll("org.kde.StatusNotifierItem", dbus_interface=dbus.PROPERTIES_IFACE)
    tooltip = props.get("ToolTip")
    emit({
        "title": str(props.get("Title", "")),
        "status": str(props.get("Status", "")),
        "category": str(props.get("Category", "")),
        "tooltip_title": str(tooltip[2]) if tooltip else "",
        "tooltip_body": str(tooltip[3]) if tooltip else "",
        "icon_sizes": [[int(w), int(h), len(d)] for (w, h, d) in props.get("IconPixmap", [])],
        "menu": str(props.get("Menu", "")),
    })


def layout_tree(node):
    (node_id, props, children) = node
    return {
        "id": int(node_id),
        "label": str(props.get("label", "")),
        "enabled": bool(props.get("enabled", True)),
        "children": [layout_tree(c) for c in children],
    }


def get_layout(bus):
    obj = the_item(bus)
    menu_path = obj.Get("org.kde.StatusNotifierItem", "Menu", dbus_interface=dbus.PROPERTIES_IFACE)
    menu = bus.get_object(obj.bus_name, menu_path)
    _rev, root = menu.GetLayout(0, -1, dbus.Array([], signature="s"), dbus_interface="com.canonical.dbusmenu")
    return menu, layout_tree(root)


def find(tree, label):
    if tree["label"] == label:
        return tree
    for c in tree["children"]:
        hit = find(c, label)
        if hit:
            return hit
    return None


def main():
    cmd = sys.argv[1]
    args = sys.argv[2:]
    if cmd == "watch":
        return watch()
    if cmd == "hung-daemon":
        return hung_daemon()
    if cmd == "item":
        return item()
    bus = dbus.SessionBus()
    if cmd == "layout":
        emit(get_layout(bus)[1])
    elif cmd == "click":
        menu, tree = get_layout(bus)
        hit = find(tree, args[0])
        if not hit:
            raise SystemExit("no menu entry %r in %s" % (args[0], json.dumps(tree)))
        menu.Event(dbus.Int32(hit["id"]), "clicked", dbus.String("", variant_level=1), dbus.UInt32(0),
                   dbus_interface="com.canonical.dbusmenu")
        emit(hit)
    elif cmd == "action":
        msg = dbus.lowlevel.SignalMessage("/org/freedesktop/Notifications", "org.freedesktop.Notifications",
                                          "ActionInvoked")
        msg.append(dbus.UInt32(int(args[0])), args[1], signature="us")
        bus.send_message(msg)
        bus.flush()
        emit(True)
    elif cmd == "call":
        obj = bus.get_object(PUSHMAIL[0], PUSHMAIL[1])
        params = json.loads(args[1]) if len(args) > 1 else []
        method = obj.get_dbus_method(args[0], PUSHMAIL[2])
        emit(plain(method(*params)))
    elif cmd == "get":
        obj = bus.get_object(PUSHMAIL[0], PUSHMAIL[1])
        emit(plain(obj.Get(PUSHMAIL[2], args[0], dbus_interface=dbus.PROPERTIES_IFACE)))
    elif cmd == "has-owner":
        emit(bool(bus.name_has_owner(args[0])))
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main()
