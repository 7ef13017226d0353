// A fake pushmail-relay for the browser flows of the relay's web app (relay.e2e.ts): node's
// http server on 127.0.0.1 (a free port), the built app from dist-relay/ with the relay's CSP
// (relay.html for "/", as crates/relay/src/api/web.rs does), and the JSON API in memory, with
// the real API's shapes (crates/relay/src/api/): numeric device and webhook ids, a device's
// full `endpoint`, a webhook's `disabled`, the same error codes. It checks request shapes the way the real API does (a field
// missing or of the wrong type → 400), answers a login with password "wrong" with 422
// auth_failed, and records every API request so a flow can check what the app sent.
//
// Sign-in at a provider (OAuth2) follows the relay's contract: GET /api/signin/providers lists
// `state.providers`; POST /api/signin answers {url} and sets an HttpOnly cookie tied to that
// sign-in; the url is this server's stand-in for the provider's page (/fake-provider/authorize),
// which at once "signs in" — adds the mailbox, or renews an existing one's sign-in — and sends
// the browser back to the app at /?signin=done&account=<id>, or
// /?signin=failed&code=<code>[&reason=<code>] (`state.signinOutcome`; wrong_browser when the
// cookie is missing or another sign-in's; expired when the link is used twice). Codes only, as
// the relay (crates/relay/src/api/signin.rs): never a free-text `detail`.

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";

/** The relay's Content-Security-Policy for its web app. */
export const RELAY_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".webmanifest": "application/manifest+json",
};

export type Detail = "none" | "sender" | "subject";
const DETAILS: readonly string[] = ["none", "sender", "subject"];

export interface Account {
  id: string;
  name: string;
  email: string;
  host: string;
  port: number;
  security: "tls" | "starttls";
  username: string;
  state: string;
  state_detail: string;
  auth: "password" | "oauth2";
  /** The sign-in provider's id, "" for a password. */
  provider: string;
}

export interface SigninProvider {
  id: string;
  name: string;
}

/** A sign-in started by POST /api/signin, until the fake provider page uses it. */
interface PendingSignin {
  cookie: string;
  /** A new mailbox (provider and fields), or the account to sign in again. */
  request: Json;
}

export interface DeviceRecord {
  id: number;
  name: string;
  detail: Detail;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  created_at: string;
  /** The renewal secret POST /api/devices answered (64 hex; never listed). */
  renew_secret?: string;
}

export interface WebhookRecord {
  id: number;
  url: string;
  detail: Detail;
  disabled: boolean;
  secret: string;
  created_at: string;
}

export interface Recorded {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
  status: number;
}

export interface FakeRelayState {
  /** Access token → user name. */
  users: Map<string, string>;
  accounts: Account[];
  devices: DeviceRecord[];
  webhooks: WebhookRecord[];
  /** Test notices "sent": device ids, in order (POST /api/devices sends one too). */
  testsSent: number[];
  /** The URL-safe base64 of a P-256 public key (65 bytes, uncompressed). */
  vapidKey: string;
  /**
   * What POST /api/discover answers, by the address's domain (the real relay's shape); a
   * found answer without `username` gets the address. Other domains: nothing found.
   */
  discovery: Map<string, Json>;
  /** What GET /api/signin/providers lists: the providers the operator configured a client for. */
  providers: SigninProvider[];
  /**
   * How the fake provider ends the next sign-ins: null succeeds, else a failure code and, for
   * login_failed, the login test's code as its reason (auth_failed, unreachable, tls_failed,
   * connect_failed).
   */
  signinOutcome: { code: string; reason?: string } | null;
  /** Sign-ins started and not yet used, by their `state`. */
  signins: Map<string, PendingSignin>;
}

/** A small table of discovery answers: a domain's own configuration, a sign-in provider. */
export function discoveryTable(): Map<string, Json> {
  return new Map<string, Json>([
    [
      "example.com",
      {
        found: true,
        host: "imap.example.com",
        port: 143,
        security: "starttls",
        source: "from \u2068example.com\u2069's own configuration",
        warnings: [],
        note: null,
        signin: false,
        provider: null,
        signin_with: null,
        signin_provider: null,
      },
    ],
    [
      "gmail.com",
      {
        found: true,
        host: "imap.gmail.com",
        port: 993,
        security: "tls",
        source: "from the provider list (\u2068Gmail\u2069)",
        warnings: [],
        note: "To use a password with \u2068Gmail\u2069, create an app password in the security settings of your \u2068Gmail\u2069 account and enter it here: your usual password is refused.",
        signin: true,
        provider: "Gmail",
        signin_with: "Google",
        signin_provider: "google",
      },
    ],
  ]);
}

export interface FakeRelay {
  url: string;
  state: FakeRelayState;
  requests: Recorded[];
  /** Requests to `method path` (path without the query), bodies only. */
  bodiesOf(method: string, path: string): unknown[];
  close(): Promise<void>;
}

export function freshState(): FakeRelayState {
  const key = Buffer.concat([Buffer.from([4]), randomBytes(64)]);
  return {
    users: new Map(),
    accounts: [],
    devices: [],
    webhooks: [],
    testsSent: [],
    vapidKey: key.toString("base64url"),
    discovery: discoveryTable(),
    providers: [],
    signinOutcome: null,
    signins: new Map(),
  };
}

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === "string" && v.trim() !== "";

function invalid(field: string): never {
  throw new HttpError(400, "bad_field", `${field}: missing or not valid`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
    throw new HttpError(415, "unsupported_media_type", "send JSON");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid", "the body is not JSON");
  }
}

let nextId = 100;
const newId = () => (nextId += 1);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function publicDevice(d: DeviceRecord): Json {
  return { id: d.id, name: d.name, detail: d.detail, endpoint: d.endpoint };
}

function checkDetail(v: unknown): Detail {
  if (typeof v !== "string" || !DETAILS.includes(v)) invalid("detail");
  return v as Detail;
}

/** The name of the sign-in's cookie (HttpOnly: the app never sees it). */
const SIGNIN_COOKIE = "pushmail_signin";

/** The fields of a new mailbox, checked as POST /api/accounts and POST /api/signin do. */
function mailboxFields(body: Json): Omit<Account, "id" | "state" | "state_detail" | "auth" | "provider"> {
  const { name, email, host, port, security, username } = body;
  if (!nonEmpty(name)) invalid("name");
  if (typeof email !== "string") invalid("email");
  if (!nonEmpty(host)) invalid("host");
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new HttpError(400, "bad_port", "The port must be a number from 1 to 65535");
  }
  if (security !== "tls" && security !== "starttls") throw new HttpError(400, "bad_security", "security must be tls or starttls");
  if (!nonEmpty(username)) invalid("username");
  return { name, email, host, port, security, username };
}

/** POST /api/signin: checks the request, keeps it, answers the provider's page and a cookie. */
function startSignin(state: FakeRelayState, body: unknown, origin: string): [number, unknown, Record<string, string>] {
  if (!isObject(body)) invalid("body");
  let request: Json;
  if ("account" in body) {
    if (Object.keys(body).length !== 1 || !nonEmpty(body.account)) invalid("account");
    const account = state.accounts.find((a) => a.id === body.account);
    if (account === undefined) throw new HttpError(404, "not_found", "No such mailbox");
    if (account.auth !== "oauth2") throw new HttpError(400, "bad_field", "This mailbox logs in with a password");
    if (!state.providers.some((p) => p.id === account.provider)) {
      throw new HttpError(400, "unknown_provider", `The relay has no client for ${account.provider}`);
    }
    request = { account: account.id };
  } else {
    const allowed = ["provider", "name", "email", "host", "port", "security", "username"];
    const extra = Object.keys(body).find((k) => !allowed.includes(k));
    if (extra !== undefined) invalid(extra);
    if (typeof body.provider !== "string" || !state.providers.some((p) => p.id === body.provider)) {
      throw new HttpError(400, "unknown_provider", `The relay has no client for ${String(body.provider)}`);
    }
    if (body.host === "unreachable.example") throw new HttpError(400, "bad_host", "The server name unreachable.example cannot be found");
    request = { provider: body.provider, ...mailboxFields(body) };
  }
  const key = randomBytes(12).toString("base64url");
  const cookie = randomBytes(16).toString("base64url");
  state.signins.set(key, { cookie, request });
  return [
    200,
    { url: `${origin}/fake-provider/authorize?state=${key}` },
    { "set-cookie": `${SIGNIN_COOKIE}=${cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=600` },
  ];
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return null;
}

/**
 * The fake provider's page: the relay's callback at once. Where the browser goes next: the app,
 * with how the sign-in ended.
 */
function finishSignin(state: FakeRelayState, key: string, cookie: string | null): string {
  const failed = (code: string, reason?: string) => `/?signin=failed&code=${code}${reason === undefined ? "" : `&reason=${encodeURIComponent(reason)}`}`;
  const pending = state.signins.get(key);
  if (pending === undefined) return failed("expired");
  if (cookie === null || cookie !== pending.cookie) return failed("wrong_browser");
  state.signins.delete(key);
  if (state.signinOutcome !== null) return failed(state.signinOutcome.code, state.signinOutcome.reason);
  const { request } = pending;
  let account = typeof request.account === "string" ? state.accounts.find((a) => a.id === request.account) : undefined;
  if (account !== undefined) {
    account.state = "watching";
    account.state_detail = "";
  } else {
    // The mailbox was removed meanwhile.
    if (typeof request.account === "string") return failed("failed");
    account = {
      ...(request as unknown as Omit<Account, "id" | "state" | "state_detail" | "auth">),
      id: `a${newId()}`,
      state: "starting",
      state_detail: "",
      auth: "oauth2",
    };
    state.accounts.push(account);
  }
  return `/?signin=done&account=${encodeURIComponent(account.id)}`;
}

/** The API: returns [status, body]; body undefined → no content. */
async function api(
  state: FakeRelayState,
  method: string,
  path: string,
  token: string | null,
  body: unknown,
  origin: string,
): Promise<[number, unknown, Record<string, string>?]> {
  if (method === "GET" && path === "/api/vapid") return [200, { public_key: state.vapidKey }];
  const user = token === null ? undefined : state.users.get(token);
  if (user === undefined) throw new HttpError(401, "unauthorized", "missing or unknown access token");

  if (method === "GET" && path === "/api/me") return [200, { name: user, accounts: state.accounts.length }];

  if (path === "/api/accounts" && method === "GET") return [200, state.accounts];
  if (path === "/api/accounts" && method === "POST") {
    if (!isObject(body)) invalid("body");
    const { name, email, host, port, security, username } = mailboxFields(body);
    const { password } = body;
    if (!nonEmpty(password)) throw new HttpError(400, "missing_field", "Fill in the password");
    // The real relay tests the login before it keeps the account: that takes a moment.
    await sleep(400);
    if (host === "unreachable.example") {
      throw new HttpError(422, "unreachable", `The server name ${host} cannot be found; check its spelling`);
    }
    if (password === "wrong") {
      throw new HttpError(422, "auth_failed", "The server said: [AUTHENTICATIONFAILED] Invalid credentials (Failure)");
    }
    const account: Account = {
      id: `a${newId()}`,
      name,
      email,
      host,
      port,
      security,
      username,
      state: "starting",
      state_detail: "",
      auth: "password",
      provider: "",
    };
    state.accounts.push(account);
    return [201, account];
  }
  if (path === "/api/signin/providers" && method === "GET") return [200, { providers: state.providers }];
  if (path === "/api/signin" && method === "POST") return startSignin(state, body, origin);
  if (path === "/api/discover" && method === "POST") {
    if (!isObject(body) || Object.keys(body).some((k) => k !== "address")) invalid("body");
    const { address } = body;
    if (typeof address !== "string") invalid("address");
    const trimmed = address.trim();
    const at = trimmed.lastIndexOf("@");
    if (at < 1 || at === trimmed.length - 1 || /\s/.test(trimmed)) {
      throw new HttpError(400, "bad_address", `\`${trimmed}\` is not an email address: it needs a name, an @ and a domain`);
    }
    // Discovery takes a moment (the real one may take up to 45 s).
    await sleep(300);
    const domain = trimmed.slice(at + 1).toLowerCase();
    const answer = state.discovery.get(domain);
    if (answer !== undefined) return [200, { ...answer, username: answer.found ? (answer.username ?? trimmed) : undefined }];
    return [200, { found: false, domain, tried: `No settings found for \u2068${domain}\u2069. Enter the server by hand.` }];
  }
  const accountMatch = /^\/api\/accounts\/([^/]+)$/.exec(path);
  if (accountMatch && method === "DELETE") {
    const before = state.accounts.length;
    state.accounts = state.accounts.filter((a) => a.id !== decodeURIComponent(accountMatch[1] ?? ""));
    if (state.accounts.length === before) throw new HttpError(404, "not_found", "no such account");
    return [204, undefined];
  }

  if (path === "/api/devices" && method === "GET") return [200, state.devices.map(publicDevice)];
  if (path === "/api/devices" && method === "POST") {
    if (!isObject(body)) invalid("body");
    const { name, detail, subscription } = body;
    if (typeof name !== "string") invalid("name");
    const checked = checkDetail(detail);
    if (!isObject(subscription) || !nonEmpty(subscription.endpoint)) invalid("subscription.endpoint");
    let endpoint: URL;
    try {
      endpoint = new URL(subscription.endpoint);
    } catch {
      invalid("subscription.endpoint");
    }
    if (endpoint.protocol !== "https:") invalid("subscription.endpoint");
    const keys = subscription.keys;
    if (!isObject(keys) || !nonEmpty(keys.p256dh) || !nonEmpty(keys.auth)) invalid("subscription.keys");
    if (Buffer.from(keys.p256dh, "base64url").length !== 65 || Buffer.from(keys.auth, "base64url").length !== 16) {
      invalid("subscription.keys");
    }
    const device: DeviceRecord = {
      id: newId(),
      name: name.trim() || "Browser",
      detail: checked,
      endpoint: endpoint.href,
      keys: { p256dh: keys.p256dh, auth: keys.auth },
      created_at: new Date().toISOString(),
      renew_secret: randomBytes(32).toString("hex"),
    };
    state.devices.push(device);
    state.testsSent.push(device.id);
    // The renewal secret for the device's service worker: in this answer only.
    return [201, { ...publicDevice(device), renew_secret: device.renew_secret }];
  }
  const deviceMatch = /^\/api\/devices\/([^/]+)(\/test)?$/.exec(path);
  if (deviceMatch) {
    const device = state.devices.find((d) => String(d.id) === decodeURIComponent(deviceMatch[1] ?? ""));
    if (device === undefined) throw new HttpError(404, "not_found", "no such device");
    if (deviceMatch[2] === "/test" && method === "POST") {
      state.testsSent.push(device.id);
      return [202, { queued: true }];
    }
    if (deviceMatch[2] === undefined && method === "PATCH") {
      if (!isObject(body)) invalid("body");
      if (body.detail !== undefined) device.detail = checkDetail(body.detail);
      if (body.name !== undefined) {
        if (!nonEmpty(body.name)) invalid("name");
        device.name = body.name;
      }
      return [200, publicDevice(device)];
    }
    if (deviceMatch[2] === undefined && method === "DELETE") {
      state.devices = state.devices.filter((d) => d !== device);
      return [204, undefined];
    }
  }

  if (path === "/api/webhooks" && method === "GET") {
    return [200, state.webhooks.map((w) => ({ id: w.id, url: w.url, detail: w.detail, disabled: w.disabled }))];
  }
  if (path === "/api/webhooks" && method === "POST") {
    if (!isObject(body)) invalid("body");
    if (!nonEmpty(body.url) || !/^https?:\/\//.test(body.url)) invalid("url");
    const hook: WebhookRecord = {
      id: newId(),
      url: body.url,
      detail: checkDetail(body.detail),
      disabled: false,
      secret: randomBytes(24).toString("base64url"),
      created_at: new Date().toISOString(),
    };
    state.webhooks.push(hook);
    return [201, { id: hook.id, url: hook.url, detail: hook.detail, disabled: false, secret: hook.secret }];
  }
  const hookMatch = /^\/api\/webhooks\/([^/]+)$/.exec(path);
  if (hookMatch && method === "DELETE") {
    const before = state.webhooks.length;
    state.webhooks = state.webhooks.filter((w) => String(w.id) !== decodeURIComponent(hookMatch[1] ?? ""));
    if (state.webhooks.length === before) throw new HttpError(404, "not_found", "no such webhook");
    return [204, undefined];
  }
  throw new HttpError(404, "not_found", `no route for ${method} ${path}`);
}

export async function startFakeRelay(root: string, state: FakeRelayState = freshState()): Promise<FakeRelay> {
  const base = resolve(root);
  const requests: Recorded[] = [];

  const sendJson = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { "content-security-policy": RELAY_CSP, "cache-control": "no-store", ...extra };
    if (body === undefined) {
      res.writeHead(status, headers).end();
      return;
    }
    res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(body));
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = decodeURIComponent(url.pathname);
      const method = req.method ?? "GET";
      if (path.startsWith("/api/")) {
        const auth = req.headers.authorization ?? null;
        const token = auth !== null && auth.startsWith("Bearer ") ? auth.slice(7) : null;
        let body: unknown;
        let status = 500;
        try {
          body = await readJson(req);
          const [s, answer, headers] = await api(state, method, path, token, body, `http://${req.headers.host ?? "127.0.0.1"}`);
          status = s;
          sendJson(res, s, answer, headers);
        } catch (e) {
          if (e instanceof HttpError) {
            status = e.status;
            sendJson(res, e.status, { error: e.message, code: e.code });
          } else {
            sendJson(res, 500, { error: String(e), code: "internal" });
          }
        }
        requests.push({ method, path, authorization: auth, body, status });
        return;
      }
      if (method !== "GET" && method !== "HEAD") {
        res.writeHead(405).end();
        return;
      }
      if (path === "/fake-provider/authorize") {
        const cookie = cookieOf(req, SIGNIN_COOKIE);
        const location = finishSignin(state, url.searchParams.get("state") ?? "", cookie);
        requests.push({ method, path, authorization: cookie === null ? null : "cookie", body: url.searchParams.get("state"), status: 302 });
        res.writeHead(302, { location, "cache-control": "no-store", "set-cookie": `${SIGNIN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` }).end();
        return;
      }
      const file = normalize(join(base, path === "/" ? "relay.html" : path));
      if (!file.startsWith(base)) {
        res.writeHead(403).end();
        return;
      }
      try {
        const content = await readFile(file);
        res.writeHead(200, {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "content-security-policy": RELAY_CSP,
          "cache-control": "no-store",
        });
        res.end(content);
      } catch {
        res.writeHead(404, { "content-security-policy": RELAY_CSP }).end();
      }
    })();
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    state,
    requests,
    bodiesOf: (method, path) => requests.filter((r) => r.method === method && r.path === path).map((r) => r.body),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
