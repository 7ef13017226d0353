// The relay's HTTP API, as the app uses it. JSON both ways; `Authorization: Bearer <token>`;
// errors are {"error": sentence, "code": id}. Responses are read defensively: a field of the
// wrong type becomes a neutral value instead of breaking the page.

import { toProviders, type SigninProvider } from "./signin";

export type Detail = "none" | "sender" | "subject";
export const DETAILS: readonly Detail[] = ["none", "sender", "subject"];
export type Security = "tls" | "starttls";
export const SECURITIES: readonly Security[] = ["tls", "starttls"];

export interface Me {
  name: string;
}

export interface Mailbox {
  id: string;
  name: string;
  email: string;
  host: string;
  port: number;
  security: string;
  username: string;
  state: string;
  stateDetail: string;
  /** How the relay logs in: with a stored password, or a sign-in at the provider. */
  auth: "password" | "oauth2";
  /** The sign-in provider's id ("google"), or "" for a password. */
  provider: string;
}

export interface NewMailbox {
  name: string;
  email: string;
  host: string;
  port: number;
  security: Security;
  username: string;
  password: string;
}

/** A new mailbox that signs in at `provider` instead of a password (POST /api/signin). */
export type NewSigninMailbox = Omit<NewMailbox, "password"> & { provider: string };

/** What `POST /api/discover` answered: settings for the address, or what was tried. */
export type Discovery =
  | {
      found: true;
      host: string;
      port: number;
      security: Security;
      username: string;
      /** Where the settings came from, a sentence (from the relay: show as text). */
      source: string;
      /** What to check before trusting them, sentences. */
      warnings: string[];
      /** What to do at the provider first (an app password…), or "". */
      note: string;
      /** The provider needs its own sign-in (OAuth2). */
      signin: boolean;
      /** That sign-in's provider id ("google"), or "": offered when the relay has a client. */
      signinProvider: string;
      /** The provider's name ("Gmail"), or "". */
      provider: string;
      /** Whose sign-in it is ("Google"), or "". */
      signinWith: string;
    }
  | { found: false; domain: string; tried: string };

/** The domain of an address as typed ("" if it has none). */
export function domainOf(address: string): string {
  const at = address.trim().lastIndexOf("@");
  return at < 0 ? "" : address.trim().slice(at + 1);
}

/**
 * A discovery answer, read defensively: anything but complete, encrypted (tls or starttls)
 * settings on a valid port is "nothing found", so the form is never filled with half an answer
 * or with plain-text settings.
 */
export function toDiscovery(raw: unknown, address: string): Discovery {
  const o = obj(raw);
  const domain = str(o.domain) || domainOf(address);
  const port = typeof o.port === "number" ? o.port : Number.NaN;
  const security = o.security as Security;
  if (
    o.found !== true ||
    str(o.host).trim() === "" ||
    !SECURITIES.includes(security) ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  ) {
    return { found: false, domain, tried: str(o.tried) };
  }
  return {
    found: true,
    host: str(o.host).trim(),
    port,
    security,
    username: str(o.username).trim(),
    source: str(o.source),
    warnings: Array.isArray(o.warnings) ? o.warnings.map(str).filter((w) => w !== "") : [],
    note: str(o.note),
    signin: o.signin === true,
    signinProvider: o.signin === true ? str(o.signin_provider).trim() : "",
    provider: str(o.provider),
    signinWith: str(o.signin_with),
  };
}

export interface Device {
  id: string;
  name: string;
  detail: Detail;
  /** The push service's address for the subscription ("" if the relay does not say). */
  endpoint: string;
  endpointHost: string;
  createdAt: string;
  /**
   * The device's renewal secret, which its service worker shows the relay to renew the push
   * subscription: only in the answer to `POST api/devices` ("" otherwise).
   */
  renewSecret: string;
}

export interface Webhook {
  id: string;
  url: string;
  detail: Detail;
  /** The relay gave up on it (it kept failing). */
  disabled: boolean;
  createdAt: string;
}

export interface NewWebhook extends Webhook {
  /** Shown once, when the webhook is made. */
  secret: string;
}

/** What went wrong with a request. `status` 0: the relay could not be reached at all. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

type Json = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
const id = (v: unknown): string => (typeof v === "string" || typeof v === "number" ? String(v) : "");
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const detail = (v: unknown): Detail => (DETAILS.includes(v as Detail) ? (v as Detail) : "none");
/** A list, or the list under a usual key ({"accounts": […]}, {"items": […]}). */
function list(v: unknown, key: string): unknown[] {
  if (Array.isArray(v)) return v;
  const o = obj(v);
  const inner = o[key] ?? o.items ?? o.data;
  return Array.isArray(inner) ? inner : [];
}

export function toMailbox(raw: unknown): Mailbox {
  const o = obj(raw);
  const port = typeof o.port === "number" ? o.port : Number.parseInt(str(o.port), 10);
  return {
    id: id(o.id),
    name: str(o.name),
    email: str(o.email),
    host: str(o.host),
    port: Number.isFinite(port) ? port : 0,
    security: str(o.security),
    username: str(o.username),
    state: str(o.state),
    stateDetail: str(o.state_detail ?? o.detail),
    auth: o.auth === "oauth2" ? "oauth2" : "password",
    provider: str(o.provider).trim(),
  };
}

export function toDevice(raw: unknown): Device {
  const o = obj(raw);
  let host = str(o.endpoint_host);
  if (host === "" && typeof o.endpoint === "string") {
    try {
      host = new URL(o.endpoint).host;
    } catch {
      host = "";
    }
  }
  return {
    id: id(o.id),
    name: str(o.name),
    detail: detail(o.detail),
    endpoint: str(o.endpoint),
    endpointHost: host,
    createdAt: str(o.created_at),
    renewSecret: typeof o.renew_secret === "string" ? o.renew_secret : "",
  };
}

export function toWebhook(raw: unknown): NewWebhook {
  const o = obj(raw);
  return {
    id: id(o.id),
    url: str(o.url),
    detail: detail(o.detail),
    disabled: o.disabled === true,
    createdAt: str(o.created_at),
    secret: str(o.secret),
  };
}

export interface Fetcher {
  (input: string, init: RequestInit): Promise<Response>;
}

export class RelayApi {
  token: string;
  private readonly base: string;
  private readonly fetcher: Fetcher;

  /** `base`: the app's URL (API paths are relative to it); `fetcher` is for tests. */
  constructor(token: string, base: string, fetcher: Fetcher = (input, init) => fetch(input, init)) {
    this.token = token;
    this.base = base;
    this.fetcher = fetcher;
  }

  /**
   * `cookies`: whether the answer may set a cookie (the sign-in's, HttpOnly, which ties its
   * return to this browser); every other request goes without.
   */
  private async request(method: string, path: string, body?: unknown, auth = true, cookies = false): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (auth) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers, cache: "no-store", credentials: cookies ? "same-origin" : "omit" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.fetcher(new URL(path, this.base).href, init);
    } catch (e) {
      throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
    }
    const text = await response.text().catch(() => "");
    let json: unknown = null;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      const o = obj(json);
      throw new ApiError(response.status, str(o.code), str(o.error) || str(o.message));
    }
    return json;
  }

  async vapidKey(): Promise<string> {
    const key = str(obj(await this.request("GET", "api/vapid", undefined, false)).public_key);
    if (key === "") throw new ApiError(500, "no_vapid_key", "");
    return key;
  }

  async me(): Promise<Me> {
    return { name: str(obj(await this.request("GET", "api/me")).name) };
  }

  async mailboxes(): Promise<Mailbox[]> {
    return list(await this.request("GET", "api/accounts"), "accounts").map(toMailbox);
  }

  async addMailbox(mailbox: NewMailbox): Promise<Mailbox> {
    return toMailbox(await this.request("POST", "api/accounts", mailbox));
  }

  /** Looks the server settings for `address` up (the relay runs the desktop's discovery). */
  async discover(address: string): Promise<Discovery> {
    return toDiscovery(await this.request("POST", "api/discover", { address }), address);
  }

  /** The providers the relay can sign a mailbox in at (empty: it offers no sign-in). */
  async signinProviders(): Promise<SigninProvider[]> {
    return toProviders(await this.request("GET", "api/signin/providers"));
  }

  /**
   * Starts a sign-in at the provider, for a new mailbox or again for an existing one (its id):
   * the address of the provider's page, where the whole app goes next. The relay's answer sets
   * the sign-in's cookie, so this request may take cookies (same origin only).
   */
  async startSignin(what: NewSigninMailbox | { account: string }): Promise<string> {
    const url = str(obj(await this.request("POST", "api/signin", what, true, true)).url);
    if (url === "") throw new ApiError(500, "no_signin_url", "");
    return url;
  }

  async removeMailbox(mailboxId: string): Promise<void> {
    await this.request("DELETE", `api/accounts/${encodeURIComponent(mailboxId)}`);
  }

  async devices(): Promise<Device[]> {
    return list(await this.request("GET", "api/devices"), "devices").map(toDevice);
  }

  async addDevice(name: string, detail: Detail, subscription: unknown): Promise<Device> {
    return toDevice(await this.request("POST", "api/devices", { name, detail, subscription }));
  }

  async updateDevice(deviceId: string, change: { detail?: Detail; name?: string }): Promise<void> {
    await this.request("PATCH", `api/devices/${encodeURIComponent(deviceId)}`, change);
  }

  async removeDevice(deviceId: string): Promise<void> {
    await this.request("DELETE", `api/devices/${encodeURIComponent(deviceId)}`);
  }

  async testDevice(deviceId: string): Promise<void> {
    await this.request("POST", `api/devices/${encodeURIComponent(deviceId)}/test`);
  }

  async webhooks(): Promise<Webhook[]> {
    return list(await this.request("GET", "api/webhooks"), "webhooks").map(toWebhook);
  }

  async addWebhook(url: string, detail: Detail): Promise<NewWebhook> {
    return toWebhook(await this.request("POST", "api/webhooks", { url, detail }));
  }

  async removeWebhook(webhookId: string): Promise<void> {
    await this.request("DELETE", `api/webhooks/${encodeURIComponent(webhookId)}`);
  }
}
