#!/usr/bin/env python3
"""An independent Web Push receiver (a stand-in push service) for the relay's delivery tests.

It makes N subscriptions of its own (a P-256 key pair and a 16-byte auth secret each), and
for every push it gets it checks what a real push service and browser would:

- `Content-Encoding: aes128gcm` and a numeric `TTL`;
- the VAPID `Authorization: vapid t=<JWT>, k=<key>`: the ES256 signature is valid for `k`
  (checked by py_vapid), `aud` is this endpoint's origin, `exp` is in the future and at most
  24 h away, `sub` is a `mailto:` or `https:` URL; otherwise it answers 403 and records the
  violation;
- the body decrypts (RFC 8291) with http_ece, and again with a second implementation written
  here on `cryptography` alone; both must agree.

Usage: receiver.py --dir DIR [--subscriptions N]
  Writes DIR/subscriptions.json: [{"id", "endpoint", "keys": {"p256dh", "auth"}}] (base64url),
  endpoint = http://127.0.0.1:PORT/push/<id>, then prints `READY <port>` on stdout.
  Appends one JSON line per request to DIR/events.jsonl:
    {"type": "delivered", "id", "headers": {"ttl", "urgency", "topic", "content_type"},
     "plaintext": <parsed JSON, padding spaces stripped>, "padded_len", "body_len",
     "vapid": {"aud", "exp", "sub", "k"}, "received_at"}
    (received_at: Unix time, time.time(), when the request's headers had been read, before
    its body was read, checked and decrypted; every line also has "at", when it was written)
    {"type": "answered", "id", "status"}          (a status the test asked for, see below)
    {"type": "violation", "id", "why"}            (answered 403, or 400 for a bad body)
  POST /control {"id": <subscription id>, "queue": [[429, "1"], [503, null]], "then": 410}
    makes the next requests to that subscription get those statuses (with Retry-After when
    given), then `then` for every later one (201, the default, means: check and accept).
"""

import argparse
import base64
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from py_vapid import Vapid02


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt_by_hand(body: bytes, private_key, auth: bytes) -> bytes:
    """RFC 8291 + RFC 8188 (aes128gcm) written out, independent of http_ece."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender_public = body[21 : 21 + idlen]
    records = body[21 + idlen :]
    ua_public = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = private_key.exchange(
        ec.ECDH(),
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public),
    )
    ikm = hkdf(auth, shared, b"WebPush: info\x00" + ua_public + sender_public, 32)
    cek = hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    out = b""
    chunks = [records[i : i + rs] for i in range(0, len(records), rs)]
    for seq, chunk in enumerate(chunks):
        iv = (int.from_bytes(nonce, "big") ^ seq).to_bytes(12, "big")
        plain = AESGCM(cek).decrypt(iv, chunk, None)
        stripped = plain.rstrip(b"\x00")
        last = seq == len(chunks) - 1
        if not stripped or stripped[-1] != (2 if last else 1):
            raise ValueError("bad record padding delimiter")
        out += stripped[:-1]
    return out


class State:
    def __init__(self, directory: str, origin: str):
        self.dir = directory
        self.origin = origin
        self.lock = threading.Lock()
        self.subs = {}
        self.control = {}

    def record(self, event: dict) -> None:
        event["at"] = time.time()
        with self.lock:
            with open(os.path.join(self.dir, "events.jsonl"), "a") as f:
                f.write(json.dumps(event) + "\n")

    def next_answer(self, sub_id: str):
        with self.lock:
            c = self.control.get(sub_id)
            if not c:
                return 201, None
            if c["queue"]:
                status, after = c["queue"].pop(0)
                return status, after
            return c.get("then", 201), None


def parse_vapid(header: str):
    """`vapid t=<jwt>, k=<key>` (RFC 8292 §3, optional whitespace around the comma)."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"Authorization scheme is {scheme!r}, not vapid")
    parts = {}
    for p in params.split(","):
        k, _, v = p.strip().partition("=")
        parts[k.strip()] = v.strip()
    if "t" not in parts or "k" not in parts:
        raise ValueError("Authorization lacks t= or k=")
    return parts["t"], parts["k"]


def check_vapid(header: str, origin: str) -> dict:
    token, key = parse_vapid(header)
    # py_vapid parses `t=…,k=…` without spaces: hand it the normalised form.
    if not Vapid02.verify(f"vapid t={token},k={key}"):
        raise ValueError("VAPID signature does not verify with k")
    head, payload, _ = token.split(".")
    if json.loads(unb64u(head)).get("alg") != "ES256":
        raise ValueError("JWT alg is not ES256")
    claims = json.loads(unb64u(payload))
    now = time.time()
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp <= now or exp > now + 24 * 3600:
        raise ValueError(f"exp {exp!r} is not within the next 24 h")
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https://")):
        raise ValueError(f"sub {sub!r} is not a mailto: or https: URL")
    return {"aud": claims["aud"], "exp": exp, "sub": sub, "k": key}


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the events file says what happened
            pass

        def answer(self, status: int, headers=None, body: bytes = b""):
            try:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The sender went away mid-request (a relay process killed by a test): what it
                # sent is recorded; its answer has nobody to go to.
                pass

        def do_POST(self):
            received_at = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if self.path == "/control":
                c = json.loads(body)
                with state.lock:
                    state.control[c["id"]] = {
                        "queue": [list(q) for q in c.get("queue", [])],
                        "then": c.get("then", 201),
                    }
                return self.answer(200)
            if not self.path.startswith("/push/"):
                return self.answer(404)
            sub_id = self.path[len("/push/") :]
            sub = state.subs.get(sub_id)
            if sub is None:
                return self.answer(404)
            status, after = state.next_answer(sub_id)
            if status != 201:
                state.record({"type": "answered", "id": sub_id, "status": status})
                return self.answer(status, {"Retry-After": after} if after else {})
            try:
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError("Content-Encoding is not aes128gcm")
                ttl = self.headers.get("TTL")
                if ttl is None or not ttl.isdigit():
                    raise ValueError(f"TTL {ttl!r} is not a number of seconds")
                vapid = check_vapid(self.headers.get("Authorization", ""), state.origin)
            except Exception as e:  # noqa: BLE001 - any failure is a violation to report
                state.record({"type": "violation", "id": sub_id, "why": str(e)})
                return self.answer(403, body=str(e).encode())
            try:
                plain = http_ece.decrypt(
                    body,
                    private_key=sub["private"],
                    auth_secret=sub["auth"],
                    version="aes128gcm",
                )
                by_hand = decrypt_by_hand(body, sub["private"], sub["auth"])
                if by_hand != plain:
                    raise ValueError("http_ece and the second decryption disagree")
                text = plain.decode()
                parsed = json.loads(text)
            except Exception as e:  # noqa: BLE001
                state.record({"type": "violation", "id": sub_id, "why": f"body: {e}"})
                return self.answer(400, body=str(e).encode())
            topic = self.headers.get("Topic")
            state.record(
                {
                    "type": "delivered",
                    "id": sub_id,
                    "headers": {
                        "ttl": int(ttl),
                        "urgency": self.headers.get("Urgency"),
                        "topic": topic,
                        "content_type": self.headers.get("Content-Type"),
                    },
                    "plaintext": parsed,
                    "padding_spaces": len(text) - len(text.rstrip(" ")),
                    "padded_len": len(plain),
                    "body_len": len(body),
                    "vapid": vapid,
                    "received_at": received_at,
                }
            )
            return self.answer(201, {"Location": f"{state.origin}/message/{secrets.token_hex(8)}"})

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--subscriptions", type=int, default=2)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    port = server.server_address[1]
    state = State(args.dir, f"http://127.0.0.1:{port}")
    server.RequestHandlerClass = make_handler(state)
    subs = []
    for _ in range(args.subscriptions):
        sub_id = secrets.token_urlsafe(12)
        private = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        state.subs[sub_id] = {"private": private, "auth": auth}
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        subs.append(
            {
                "id": sub_id,
                "endpoint": f"{state.origin}/push/{sub_id}",
                "keys": {"p256dh": b64u(public), "auth": b64u(auth)},
            }
        )
    tmp = os.path.join(args.dir, "subscriptions.json.tmp")
    with open(tmp, "w") as f:
        json.dump(subs, f)
    os.rename(tmp, os.path.join(args.dir, "subscriptions.json"))
    open(os.path.join(args.dir, "events.jsonl"), "a").close()
    print(f"READY {port}", flush=True)
    # Stop with the test: when stdin closes (the test's end, even a crash), exit.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
