#!/usr/bin/env python3
"""A webhook receiver for the relay's delivery tests: every request is verified with the
`standardwebhooks` package (the Standard Webhooks reference library for Python), as a real
receiver would.

Usage: webhook_receiver.py --dir DIR --hook NAME=SECRET [--hook NAME=SECRET ...]
  Serves POST /hook/NAME on 127.0.0.1 (a free port), prints `READY <port>` on stdout, and
  appends one JSON line per request to DIR/events.jsonl:
    {"type": "verified", "name", "id", "timestamp", "payload": <parsed JSON>}    → 204
    {"type": "unverified", "name", "id", "why"}                                  → 400
    {"type": "answered", "name", "id", "status"}   (a status the test asked for) → that
  POST /control {"id": NAME, "queue": [[429, "1"]], "then": 410}: as receiver.py.
  Exits when its stdin closes.
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--hook", action="append", default=[])
    args = ap.parse_args()
    hooks = dict(h.split("=", 1) for h in args.hook)
    lock = threading.Lock()
    control = {}
    events = os.path.join(args.dir, "events.jsonl")
    open(events, "a").close()

    def record(event):
        event["at"] = time.time()
        with lock:
            with open(events, "a") as f:
                f.write(json.dumps(event) + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/control":
                c = json.loads(body)
                with lock:
                    control[c["id"]] = {"queue": [list(q) for q in c.get("queue", [])],
                                        "then": c.get("then", 201)}
                return self.answer(200)
            name = self.path[len("/hook/"):] if self.path.startswith("/hook/") else None
            if name not in hooks:
                return self.answer(404)
            msg_id = self.headers.get("webhook-id")
            with lock:
                c = control.get(name)
                status, after = 201, None
                if c:
                    status, after = c["queue"].pop(0) if c["queue"] else (c["then"], None)
            if status != 201:
                record({"type": "answered", "name": name, "id": msg_id, "status": status})
                return self.answer(status, {"Retry-After": after} if after else {})
            try:
                if self.headers.get("Content-Type") != "application/json":
                    raise WebhookVerificationError("Content-Type is not application/json")
                payload = Webhook(hooks[name]).verify(body, dict(self.headers.items()))
            except (WebhookVerificationError, ValueError) as e:
                record({"type": "unverified", "name": name, "id": msg_id, "why": str(e)})
                return self.answer(400)
            record({"type": "verified", "name": name, "id": msg_id,
                    "timestamp": self.headers.get("webhook-timestamp"), "payload": payload})
            return self.answer(204)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
