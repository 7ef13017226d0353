// A small loopback push service that speaks to Firefox the way Mozilla's autopush does, for
// tests/tests/relay_firefox.rs (driven by flow.mjs in this folder).
//
// Firefox's push client (PushServiceWebSocket.sys.mjs in its omni.ja) keeps one WebSocket to
// `dom.push.serverURL` (subprotocol "push-notification", JSON text frames):
//
//   client → {"messageType":"hello","use_webpush":true,"broadcasts":{},("uaid")}
//   server → {"messageType":"hello","uaid":…,"status":200,"use_webpush":true,"broadcasts":{}}
//   client → {"messageType":"register","channelID":…,"key":<VAPID public key, base64url, padded>}
//   server → {"messageType":"register","channelID":…,"status":200,"pushEndpoint":…}
//   server → {"messageType":"notification","channelID":…,"version":…,"data":<body, base64url>,
//             "headers":{"encoding":"aes128gcm"}}
//   client → {"messageType":"ack","updates":[{"channelID":…,"version":…,"code":100}]}
//   client → {"messageType":"unregister","channelID":…,"code":…}
//   server → {"messageType":"unregister","channelID":…,"status":200}
//   client → "{}" (ping)  server → "{}"
//
// The HTTP side is what the relay sees, as on autopush: POST /wpush/<channelID> with the
// encrypted body (Content-Encoding: aes128gcm), TTL and a VAPID Authorization header. The
// server checks the VAPID JWT (ES256 over the key the subscription was made with, `aud` this
// origin, `exp` within 24 hours) and forwards the body untouched: it cannot decrypt it, only
// Firefox can. Answers 201 (accepted), 400/401/403/413 (refused), 404/410 (no such
// subscription, or unsubscribed).
//
// Every step is reported to `onEvent` for the test to check.

import crypto from "node:crypto";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { WebSocketServer } = require("ws");

const b64urlDecode = (s) => Buffer.from(String(s).replace(/=+$/, ""), "base64url");

/** Checks `Authorization: vapid t=<JWT>, k=<key>`; returns {sub} or throws with a reason. */
function checkVapid(header, expectedKey, audience) {
  const m = /^vapid\s+(.*)$/i.exec(header ?? "");
  if (!m) throw Object.assign(new Error("no vapid Authorization"), { status: 401 });
  const params = Object.fromEntries(
    m[1].split(",").map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
    }),
  );
  const key = b64urlDecode(params.k ?? "");
  if (key.length !== 65 || key[0] !== 4) throw Object.assign(new Error("bad k"), { status: 401 });
  if (!expectedKey || !key.equals(expectedKey)) throw Object.assign(new Error("k is not the subscription's key"), { status: 403 });
  const [h, p, s] = String(params.t ?? "").split(".");
  if (!h || !p || !s) throw Object.assign(new Error("bad JWT"), { status: 401 });
  const header_ = JSON.parse(b64urlDecode(h).toString());
  if (header_.alg !== "ES256") throw Object.assign(new Error(`alg ${header_.alg}`), { status: 401 });
  const publicKey = crypto.createPublicKey({
    key: { kty: "EC", crv: "P-256", x: key.subarray(1, 33).toString("base64url"), y: key.subarray(33).toString("base64url") },
    format: "jwk",
  });
  const ok = crypto.verify("sha256", Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, b64urlDecode(s));
  if (!ok) throw Object.assign(new Error("JWT signature does not verify"), { status: 401 });
  const claims = JSON.parse(b64urlDecode(p).toString());
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== audience) throw Object.assign(new Error(`aud ${claims.aud}, not ${audience}`), { status: 401 });
  if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp > now + 24 * 3600) throw Object.assign(new Error(`exp ${claims.exp}`), { status: 401 });
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) throw Object.assign(new Error(`sub ${claims.sub}`), { status: 401 });
  return { sub: claims.sub };
}

/**
 * Starts the service on 127.0.0.1 (a free port); resolves to {port, wsUrl, close}.
 * `hooks.tamper()`, asked once per accepted message, may answer true to have one byte of that
 * body flipped on its way to the browser (the test's forged ciphertext).
 */
export async function startPushServer(onEvent, hooks = {}) {
  /** channelID → {uaid, key (Buffer|null), endpoint, gone} */
  const channels = new Map();
  /** uaid → the open socket of that browser */
  const sockets = new Map();
  /** uaid → notifications not yet sent (the browser was not connected) */
  const pending = new Map();
  let origin = "";

  const send = (ws, message) => ws.send(JSON.stringify(message));

  const deliver = (uaid, notification) => {
    const ws = sockets.get(uaid);
    if (ws && ws.readyState === ws.OPEN) send(ws, notification);
    else {
      if (!pending.has(uaid)) pending.set(uaid, []);
      pending.get(uaid).push(notification);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const reply = (status, reason) => {
        onEvent({ event: "refused", status, reason: reason ?? null, path: req.url, bytes: body.length });
        res.writeHead(status, { "Content-Type": "text/plain" });
        res.end(reason ?? "");
      };
      const m = /^\/wpush\/([0-9a-f-]{36})$/.exec(req.url ?? "");
      if (req.method !== "POST" || !m) return reply(404, "not found");
      const channel = channels.get(m[1]);
      if (!channel) return reply(404, "no such subscription");
      if (channel.gone) return reply(410, "unsubscribed");
      if (req.headers["ttl"] === undefined || !/^\d+$/.test(req.headers["ttl"])) return reply(400, "missing TTL");
      if (req.headers["content-encoding"] !== "aes128gcm") return reply(400, `content-encoding ${req.headers["content-encoding"]}`);
      if (body.length === 0 || body.length > 4096) return reply(413, `body of ${body.length} bytes`);
      let vapid;
      try {
        vapid = checkVapid(req.headers["authorization"], channel.key, origin);
      } catch (e) {
        return reply(e.status ?? 401, e.message);
      }
      const version = crypto.randomUUID();
      const tampered = hooks.tamper?.() === true;
      const forwarded = Buffer.from(body);
      if (tampered) forwarded[forwarded.length - 1] ^= 0x01;
      onEvent({
        event: "push",
        channelID: m[1],
        version,
        bytes: body.length,
        ttl: Number(req.headers["ttl"]),
        urgency: req.headers["urgency"] ?? null,
        topic: req.headers["topic"] ?? null,
        vapid_sub: vapid.sub,
        tampered,
      });
      deliver(channel.uaid, {
        messageType: "notification",
        channelID: m[1],
        version,
        data: forwarded.toString("base64url"),
        headers: { encoding: "aes128gcm" },
      });
      res.writeHead(201, { Location: `${origin}/m/${version}`, TTL: req.headers["ttl"] });
      res.end();
    });
  });

  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (protocols.has("push-notification") ? "push-notification" : false),
  });
  wss.on("connection", (ws, req) => {
    let uaid = null;
    onEvent({ event: "connect", protocol: ws.protocol, path: req.url });
    ws.on("message", (raw) => {
      const text = raw.toString();
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        onEvent({ event: "bad_frame", text: text.slice(0, 200) });
        return;
      }
      if (text === "{}" || msg.messageType === undefined || msg.messageType === "ping") {
        ws.send("{}");
        return;
      }
      switch (msg.messageType) {
        case "hello": {
          uaid = typeof msg.uaid === "string" && msg.uaid !== "" ? msg.uaid : crypto.randomUUID().replace(/-/g, "");
          sockets.set(uaid, ws);
          onEvent({ event: "hello", uaid, use_webpush: msg.use_webpush ?? null, resumed: msg.uaid === uaid });
          send(ws, { messageType: "hello", uaid, status: 200, use_webpush: true, broadcasts: {} });
          for (const n of pending.get(uaid) ?? []) send(ws, n);
          pending.delete(uaid);
          break;
        }
        case "register": {
          const channelID = String(msg.channelID ?? "");
          if (!uaid || !/^[0-9a-f-]{36}$/.test(channelID)) {
            send(ws, { messageType: "register", channelID, status: 401 });
            break;
          }
          const endpoint = `${origin}/wpush/${channelID}`;
          const key = msg.key ? b64urlDecode(msg.key) : null;
          channels.set(channelID, { uaid, key, endpoint, gone: false });
          onEvent({ event: "register", channelID, endpoint, key: key ? key.toString("base64url") : null });
          send(ws, { messageType: "register", channelID, status: 200, pushEndpoint: endpoint });
          break;
        }
        case "unregister": {
          const channel = channels.get(msg.channelID);
          if (channel) channel.gone = true;
          onEvent({ event: "unregister", channelID: msg.channelID, code: msg.code ?? null });
          send(ws, { messageType: "unregister", channelID: msg.channelID, status: 200 });
          break;
        }
        case "ack":
          for (const u of msg.updates ?? []) onEvent({ event: "ack", channelID: u.channelID, version: u.version, code: u.code });
          break;
        case "nack":
          onEvent({ event: "nack", version: msg.version, code: msg.code });
          break;
        default:
          onEvent({ event: "unknown", messageType: msg.messageType });
      }
    });
    ws.on("close", () => {
      if (uaid && sockets.get(uaid) === ws) sockets.delete(uaid);
      onEvent({ event: "disconnect", uaid });
    });
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  origin = `http://127.0.0.1:${port}`;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
      }),
  };
}
