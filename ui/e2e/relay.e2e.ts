// The relay's web app as a user drives it, in headless Chromium (Debian's /usr/bin/chromium via
// playwright-core) against the BUILT app (dist-relay/), served by a fake relay
// (relay-server.ts) with the relay's strict CSP: no inline script or style, nothing remote.
//
// Everything is real except one thing: Chromium's push service is Google's, which a headless
// browser without internet cannot reach, so PushManager.prototype.subscribe/getSubscription are
// replaced by an init script (PUSH_STUB below) that returns a well-formed fake subscription
// (an https endpoint and keys of the right lengths). Permission prompts, the service worker's
// registration and everything the app sends to the relay are the browser's own.
//
// Every test also checks that nothing hostile ran: no dialog, no CSP violation, no element an
// attacker could have injected, no marker set by a payload, no console error.

import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { freshState, startFakeRelay, type Account, type FakeRelay, type FakeRelayState } from "./relay-server";

const here = dirname(fileURLToPath(import.meta.url));
const UI = resolve(here, "..");
const REPO = resolve(UI, "..");
const DIST = join(UI, "dist-relay");
const SCREENSHOTS = join(REPO, "docs", "screenshots");
const ARTIFACTS = join(UI, "e2e", "artifacts");
const CHROMIUM = process.env.PUSHMAIL_CHROMIUM ?? "/usr/bin/chromium";
const VIEWPORT = { width: 900, height: 700 };
const TOKEN = "rt_3f9a6c0d2b7e4f18a5c1";

const HOSTILE = {
  img: `<img src=x onerror="document.body.dataset.pwned='img'">`,
  script: `<script>document.body.dataset.pwned='script'</script>`,
  // A right-to-left override: shown as is, it would turn "gpj.exe" into "exe.jpg".
  rlo: "invoice\u202Egpj.exe",
};

declare global {
  interface Window {
    __CSP_VIOLATIONS__?: string[];
    __PUSH_LOG__?: string[];
  }
}

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(DIST, "relay.html"))) {
    throw new Error("ui/dist-relay is missing: run `npx vite build --config vite.relay.config.ts` first");
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--font-render-hinting=none",
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
});

/**
 * The push stub (see the top of this file): a fake subscription, kept in localStorage so it
 * survives a reload as a real one would. Records what the app asked for in window.__PUSH_LOG__.
 */
function PUSH_STUB(): void {
  const KEY = "__fake_push_subscription";
  const log: string[] = [];
  window.__PUSH_LOG__ = log;
  const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  type Json = { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  const make = (json: Json) => ({
    endpoint: json.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: null },
    getKey: () => null,
    toJSON: () => json,
    unsubscribe: async () => {
      localStorage.removeItem(KEY);
      log.push("unsubscribe");
      return true;
    },
  });
  PushManager.prototype.subscribe = async function (options?: PushSubscriptionOptionsInit) {
    const key = options?.applicationServerKey;
    const bytes = key instanceof ArrayBuffer ? new Uint8Array(key) : ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array();
    log.push(`subscribe userVisibleOnly=${String(options?.userVisibleOnly)} key=${b64url(bytes)}`);
    const p256dh = random(65);
    p256dh[0] = 4;
    const json: Json = {
      endpoint: `https://push.example.net/wpush/v2/${b64url(random(24))}`,
      expirationTime: null,
      keys: { p256dh: b64url(p256dh), auth: b64url(random(16)) },
    };
    localStorage.setItem(KEY, JSON.stringify(json));
    return make(json) as unknown as PushSubscription;
  };
  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(KEY);
    return saved ? (make(JSON.parse(saved) as Json) as unknown as PushSubscription) : null;
  };
}

function RECORD_CSP(): void {
  window.__CSP_VIOLATIONS__ = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__CSP_VIOLATIONS__?.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
}

interface Opened {
  relay: FakeRelay;
  page: Page;
  context: BrowserContext;
  dialogs: string[];
  errors: string[];
}

const opened: Opened[] = [];

/** A fake relay with `state`, and a fresh browser profile on its app at `hash`. */
async function open(
  state: FakeRelayState,
  options: { hash?: string; locale?: string; signedIn?: boolean; notifications?: boolean } = {},
): Promise<Opened> {
  const relay = await startFakeRelay(DIST, state);
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: options.locale ?? "en-US", colorScheme: "light" });
  if (options.notifications !== false) await context.grantPermissions(["notifications"], { origin: relay.url.replace(/\/$/, "") });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // A refused request (401, 422…) is logged by the browser itself; the app handles them.
    if (/Failed to load resource: the server responded with a status of (400|401|404|422)/.test(message.text())) return;
    errors.push(message.text());
  });
  await page.addInitScript(RECORD_CSP);
  await page.addInitScript(PUSH_STUB);
  if (options.signedIn !== false) {
    await page.addInitScript((token) => {
      if (localStorage.getItem("pushmail-relay-token") === null && !sessionStorage.getItem("seeded")) {
        localStorage.setItem("pushmail-relay-token", token);
        sessionStorage.setItem("seeded", "1");
      }
    }, TOKEN);
  }
  await page.goto(relay.url + (options.hash ?? ""));
  const result = { relay, page, context, dialogs, errors };
  opened.push(result);
  return result;
}

async function expectNothingRan({ page, dialogs, errors }: Opened): Promise<void> {
  expect(dialogs).toEqual([]);
  const state = await page.evaluate(() => ({
    pwned: document.body.dataset.pwned ?? null,
    injected: document.querySelectorAll("img, svg, iframe, object, embed, script:not([src])").length,
    csp: window.__CSP_VIOLATIONS__ ?? [],
  }));
  expect(state).toEqual({ pwned: null, injected: 0, csp: [] });
  expect(errors).toEqual([]);
}

afterEach(async () => {
  for (const o of opened.splice(0)) {
    try {
      await expectNothingRan(o);
    } finally {
      await o.context.close();
      await o.relay.close();
    }
  }
});

/** Text without Fluent's bidi isolation marks. */
const plain = (text: string | null) => (text ?? "").replace(/[\u2068\u2069]/g, "");

function account(fields: Partial<Account> & Pick<Account, "id" | "name" | "email">): Account {
  return {
    host: "imap.example.com",
    port: 993,
    security: "tls",
    username: fields.email,
    state: "watching",
    state_detail: "",
    auth: "password",
    provider: "",
    ...fields,
  };
}

/** The docs' data: realistic, no test vector. */
function demoState(lang: "en" | "ar" = "en"): FakeRelayState {
  const state = freshState();
  if (lang === "ar") {
    state.users.set(TOKEN, "ليلى حداد");
    state.accounts = [
      account({ id: "a1", name: "العمل", email: "layla.haddad@example.com", host: "imap.example.com", state: "watching" }),
      account({ id: "a2", name: "شخصي", email: "layla@mail.example.org", host: "mail.example.org", port: 143, security: "starttls", state: "connecting" }),
      account({
        id: "a3",
        name: "الجامعة",
        email: "l.haddad@uni.example.edu",
        host: "outlook.example.edu",
        state: "auth_failed",
        state_detail: "AUTHENTICATIONFAILED: Invalid credentials",
      }),
    ];
  } else {
    state.users.set(TOKEN, "Ana Souza");
    state.accounts = [
      account({ id: "a1", name: "Work", email: "ana.souza@example.com", host: "imap.example.com", state: "watching" }),
      account({ id: "a2", name: "Personal", email: "ana@mail.example.org", host: "mail.example.org", port: 143, security: "starttls", state: "connecting" }),
      account({
        id: "a3",
        name: "University",
        email: "a.souza@uni.example.edu",
        host: "outlook.example.edu",
        state: "auth_failed",
        state_detail: "AUTHENTICATIONFAILED: Invalid credentials",
      }),
    ];
  }
  return state;
}

function hostileState(): FakeRelayState {
  const state = freshState();
  state.users.set(TOKEN, `Mallory ${HOSTILE.img}`);
  state.accounts = [
    account({
      id: "h1",
      name: HOSTILE.img,
      email: `${HOSTILE.rlo}@example.com`,
      state: "error",
      state_detail: `login failed: ${HOSTILE.script} ${HOSTILE.rlo}`,
    }),
    account({ id: "h2", name: HOSTILE.rlo, email: "eve@example.com", state: `<b>${HOSTILE.img}</b>` }),
    account({ id: "h3", name: "Signed out", email: "eve@evil.example", auth: "oauth2", provider: "evil", state: "signin_required", state_detail: HOSTILE.script }),
  ];
  state.providers = [{ id: "evil", name: `${HOSTILE.img} ${HOSTILE.rlo}` }];
  state.devices = [
    {
      id: 1,
      name: HOSTILE.img,
      detail: "subject",
      endpoint: "https://fcm.googleapis.com/fcm/send/abc",
      keys: { p256dh: "x", auth: "y" },
      created_at: "2026-11-30T09:15:00Z",
    },
  ];
  state.webhooks = [
    { id: 1, url: `https://example.com/${HOSTILE.rlo}`, detail: "none", disabled: true, secret: "s", created_at: "2026-11-30T09:15:00Z" },
  ];
  return state;
}

describe("relay web app flows", () => {
  it("signs in: a wrong token is refused with a message, the right one is kept across a reload", async () => {
    const state = demoState();
    const o = await open(state, { signedIn: false });
    const { page } = o;
    await page.locator("input[name=token]").waitFor();
    await expect(page.locator("h1").textContent()).resolves.toBe("Sign in");
    await expect(page.locator(".relay-command").textContent()).resolves.toBe("pushmail-relay user add NAME");

    await page.fill("input[name=token]", "not-a-token");
    await page.click("[data-action=sign-in]");
    await page.locator("[data-role=signin-error]").waitFor();
    await expect(page.locator("[data-role=signin-error]").textContent()).resolves.toBe(
      "The relay did not accept this token. Check it, or ask for a new one.",
    );
    await expect(page.evaluate(() => localStorage.getItem("pushmail-relay-token"))).resolves.toBeNull();

    await page.fill("input[name=token]", TOKEN);
    await page.click("[data-action=sign-in]");
    await page.locator("[data-mailbox=a1]").waitFor();
    await expect(page.locator(".relay-user-name").textContent()).resolves.toBe("Ana Souza");
    await expect(page.evaluate(() => localStorage.getItem("pushmail-relay-token"))).resolves.toBe(TOKEN);
    // Every API request carried the token as a bearer.
    const me = o.relay.requests.filter((r) => r.path === "/api/me");
    expect(me.map((r) => r.authorization)).toEqual(["Bearer not-a-token", `Bearer ${TOKEN}`]);

    // States from the relay, in words.
    await expect(page.locator("[data-mailbox=a1] [data-state]").textContent()).resolves.toBe("watching");
    await expect(page.locator("[data-mailbox=a2] [data-state]").textContent()).resolves.toBe("connecting…");
    await expect(page.locator("[data-mailbox=a3] [data-state]").textContent()).resolves.toBe("wrong password");

    await page.reload();
    await page.locator("[data-mailbox=a1]").waitFor();

    // Signing out forgets the token.
    await page.click("[data-action=sign-out]");
    await page.locator("input[name=token]").waitFor();
    await expect(page.evaluate(() => localStorage.getItem("pushmail-relay-token"))).resolves.toBeNull();

    // A token the relay stops accepting (revoked) leads back to sign-in with a message.
    await page.fill("input[name=token]", TOKEN);
    await page.click("[data-action=sign-in]");
    await page.locator("[data-mailbox=a1]").waitFor();
    state.users.clear();
    await page.click("[data-page=devices]");
    await page.locator("[data-role=signin-error]").waitFor();
    await expect(page.locator("[data-role=signin-error]").textContent()).resolves.toBe(
      "Your access token is no longer accepted. Sign in again.",
    );
  });

  it("a #token=… link signs in and the token leaves the address bar", async () => {
    const o = await open(demoState(), { signedIn: false, hash: `#token=${TOKEN}` });
    const { page } = o;
    await page.locator("[data-mailbox=a1]").waitFor();
    expect(page.url()).not.toContain(TOKEN);
    expect(new URL(page.url()).hash).toBe("#/mailboxes");
    await expect(page.evaluate(() => localStorage.getItem("pushmail-relay-token"))).resolves.toBe(TOKEN);
    // Replaced, not pushed: going back leaves the app (to the blank tab) without the token.
    await page.goBack();
    expect(page.url()).not.toContain(TOKEN);
  });

  it("adds a mailbox: the connection test shows, a wrong password shows the server's sentence, then it is listed and removed", async () => {
    const state = demoState();
    state.accounts = [];
    const o = await open(state);
    const { page, relay } = o;
    await page.locator(".page-mailboxes .empty").waitFor();
    await page.click("[data-action=add-mailbox]");
    await page.locator("[data-form=add-mailbox]").waitFor();
    await expect(page.locator("h1").textContent()).resolves.toBe("Add mailbox");
    // The settings window's field names.
    const labels = await page.locator("[data-form=add-mailbox] label").allTextContents();
    expect(labels).toEqual(["Name", "Email address", "IMAP server", "Port", "Security", "User name", "Password"]);

    // Nothing is sent while required fields are empty.
    await page.click("[data-action=save]");
    await expect(page.getAttribute("input[name=name]", "aria-invalid")).resolves.toBe("");
    expect(relay.bodiesOf("POST", "/api/accounts")).toEqual([]);

    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "ana.souza@example.com");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("ana.souza@example.com");
    await page.fill("input[name=host]", "imap.example.com");
    await page.selectOption("select[name=security]", "starttls");
    await expect(page.inputValue("input[name=port]")).resolves.toBe("143");
    await page.selectOption("select[name=security]", "tls");
    await expect(page.inputValue("input[name=port]")).resolves.toBe("993");
    await page.fill("input[name=password]", "wrong");
    await page.click("[data-action=save]");
    await expect(page.locator(".relay-progress").textContent()).resolves.toBe("Testing the connection…");
    await page.locator("[data-role=error]").waitFor();
    await expect(page.locator("[data-form=add-mailbox] .banner-title").textContent()).resolves.toBe(
      "The mail server rejected the user name or password",
    );
    await expect(page.locator("[data-role=error]").textContent()).resolves.toBe(
      "The server said: [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
    );
    await page.screenshot({ path: join(ARTIFACTS, "relay-add-mailbox.png"), fullPage: true });
    // The form keeps what was typed.
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.example.com");

    await page.fill("input[name=password]", "app-password-1");
    await page.click("[data-action=save]");
    await page.locator(".page-mailboxes [data-mailbox]").waitFor();
    expect(relay.bodiesOf("POST", "/api/accounts")).toEqual([
      { name: "Work", email: "ana.souza@example.com", host: "imap.example.com", port: 993, security: "tls", username: "ana.souza@example.com", password: "wrong" },
      { name: "Work", email: "ana.souza@example.com", host: "imap.example.com", port: 993, security: "tls", username: "ana.souza@example.com", password: "app-password-1" },
    ]);
    const id = state.accounts[0]?.id ?? "";
    const row = page.locator(`[data-mailbox=${id}]`);
    await expect(row.locator("[data-role=name]").textContent()).resolves.toBe("Work");
    await expect(page.locator("body").textContent()).resolves.not.toContain("app-password-1");

    // Remove asks first; Cancel keeps it.
    await row.locator("[data-action=remove]").click();
    await expect(plain(await row.locator(".confirm p").textContent())).toBe(
      "Remove Work? The relay stops watching it and forgets its password. Mail on the server is not touched.",
    );
    await row.locator("[data-action=cancel-remove]").click();
    expect(relay.requests.filter((r) => r.method === "DELETE")).toEqual([]);
    await row.locator("[data-action=remove]").click();
    await row.locator("[data-action=confirm-remove]").click();
    await page.locator(".page-mailboxes .empty").waitFor();
    expect(relay.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/api/accounts/${id}`]);
    expect(state.accounts).toEqual([]);
  });

  it("finds a mailbox's settings from its address: fills the form, says where they came from, keeps hostile text as text", async () => {
    const state = demoState();
    state.accounts = [];
    state.discovery.set("evil.example", {
      found: true,
      host: "imap.evil.example",
      port: 993,
      security: "tls",
      username: "mallory",
      source: `from ${HOSTILE.img} ${HOSTILE.rlo}`,
      warnings: [HOSTILE.script, `${HOSTILE.rlo} <b>bold</b>`],
      note: HOSTILE.img,
      signin: false,
      provider: null,
      signin_with: null,
    });
    const o = await open(state, { hash: "#/mailboxes/add" });
    const { page, relay } = o;
    const form = page.locator("[data-form=add-mailbox]");
    await form.waitFor();
    const discovers = () => relay.bodiesOf("POST", "/api/discover");
    // The form is the same form: the same labels, and the button is not one of them.
    const labels = await form.locator("label").allTextContents();
    expect(labels).toEqual(["Name", "Email address", "IMAP server", "Port", "Security", "User name", "Password"]);
    await expect(form.locator("[data-action=find-settings]").textContent()).resolves.toBe("Find settings");
    await expect(form.locator("[data-action=find-settings]").getAttribute("type")).resolves.toBe("button");

    // Enter in the address field submits the form as before (nothing is complete: nothing is
    // sent) and looks nothing up.
    await page.fill("input[name=email]", "ana@example.com");
    await page.press("input[name=email]", "Enter");
    await expect(page.getAttribute("input[name=name]", "aria-invalid")).resolves.toBe("");
    expect(discovers()).toEqual([]);
    expect(relay.bodiesOf("POST", "/api/accounts")).toEqual([]);

    // Not an address: said at once, nothing sent.
    await page.fill("input[name=email]", "ana");
    await page.click("[data-action=find-settings]");
    await expect(page.locator("[data-role=discover-none]").textContent()).resolves.toBe("Enter your email address first, like ana@example.com.");
    expect(discovers()).toEqual([]);

    // A domain's own configuration: the fields are filled and the source shown.
    await page.fill("input[name=email]", "ana@example.com");
    await page.click("[data-action=find-settings]");
    await page.locator("[data-role=discover-looking]").waitFor();
    expect(plain(await page.locator("[data-role=discover-looking]").textContent())).toBe("Looking up the settings for ana@example.com…");
    await page.locator("[data-role=discover-source]").waitFor();
    expect(discovers()).toEqual([{ address: "ana@example.com" }]);
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.example.com");
    await expect(page.inputValue("input[name=port]")).resolves.toBe("143");
    await expect(page.inputValue("select[name=security]")).resolves.toBe("starttls");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("ana@example.com");
    expect(plain(await page.locator("[data-role=discovery] .banner-title").textContent())).toBe("Settings found: check them, then enter your password.");
    expect(plain(await page.locator("[data-role=discover-source]").textContent())).toBe("from example.com's own configuration");
    await expect(page.locator("[data-role=discover-signin]").count()).resolves.toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "relay-discover-found.png"), fullPage: true });

    // A provider that needs its own sign-in: filled, and said plainly.
    await page.fill("input[name=email]", "ana@gmail.com");
    await page.click("[data-action=find-settings]");
    await page.locator("[data-role=discover-signin]").waitFor();
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.gmail.com");
    await expect(page.inputValue("input[name=port]")).resolves.toBe("993");
    await expect(page.inputValue("select[name=security]")).resolves.toBe("tls");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("ana@gmail.com");
    expect(plain(await page.locator("[data-role=discover-signin]").textContent())).toBe(
      "Gmail needs sign-in with Google, which this relay does not offer; use an app password if your provider allows one",
    );
    expect(plain(await page.locator("[data-role=discover-note]").textContent())).toContain("create an app password");

    // Nothing found: said, and the fields are left as they are.
    await page.fill("input[name=email]", "ana@nowhere.example");
    await page.click("[data-action=find-settings]");
    await page.locator("[data-role=discover-tried]").waitFor();
    expect(plain(await page.locator("[data-role=discover-none]").textContent())).toBe("No settings found for nowhere.example — fill them in below");
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.gmail.com");

    // Hostile text from the relay stays text, isolated.
    await page.fill("input[name=email]", "mallory@evil.example");
    await page.click("[data-action=find-settings]");
    await page.locator("[data-role=discover-source]").waitFor();
    await expect(page.locator("[data-role=discover-source]").textContent()).resolves.toBe(`from ${HOSTILE.img} ${HOSTILE.rlo}`);
    await expect(page.locator("[data-role=discover-source]").evaluate((e) => e.tagName)).resolves.toBe("BDI");
    await expect(page.locator("[data-role=discover-warnings] li").allTextContents()).resolves.toEqual([HOSTILE.script, `${HOSTILE.rlo} <b>bold</b>`]);
    await expect(page.locator("[data-role=discover-warnings] bdi").count()).resolves.toBe(2);
    await expect(page.locator("[data-role=discover-note]").textContent()).resolves.toBe(HOSTILE.img);
    await expect(page.locator("[data-role=discovery] b").count()).resolves.toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "relay-discover-hostile.png"), fullPage: true });

    // Back to a real one, then saved: what the relay gets is the form's values, as before.
    await page.fill("input[name=email]", "ana@example.com");
    await page.click("[data-action=find-settings]");
    await expect.poll(() => page.inputValue("input[name=host]")).toBe("imap.example.com");
    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=password]", "app-password-1");
    await page.click("[data-action=save]");
    await page.locator(".page-mailboxes [data-mailbox]").waitFor();
    expect(relay.bodiesOf("POST", "/api/accounts")).toEqual([
      { name: "Work", email: "ana@example.com", host: "imap.example.com", port: 143, security: "starttls", username: "ana@example.com", password: "app-password-1" },
    ]);
    expect(discovers().every((b) => JSON.stringify(b) === JSON.stringify({ address: (b as { address: string }).address }))).toBe(true);
  });

  it("notifies this device: permission, service worker, subscription to the relay; test notice; stop", async () => {
    const state = demoState();
    state.devices = [
      {
        id: 7,
        name: "Firefox on Android",
        detail: "none",
        endpoint: "https://updates.push.services.mozilla.com/wpush/v2/abc",
        keys: { p256dh: "x", auth: "y" },
        created_at: "2026-11-30T09:15:00Z",
      },
    ];
    const o = await open(state, { hash: "#/devices" });
    const { page, relay } = o;
    const card = page.locator("[data-role=this-device]");
    await card.locator("[data-action=subscribe]").waitFor();
    // Detail: sender by default; choose sender and subject.
    await expect(card.locator("[data-detail=sender]").isChecked()).resolves.toBe(true);
    await card.locator("[data-detail=subject]").check();
    await card.locator("[data-action=subscribe]").click();
    await card.locator("[data-role=subscribed]").waitFor();
    await expect(card.locator("[data-role=test-on-its-way]").textContent()).resolves.toBe("A test notification is on its way.");
    await page.screenshot({ path: join(ARTIFACTS, "relay-devices.png"), fullPage: true });

    // The relay got the browser's subscription and the chosen detail, and sent a test notice.
    const [posted] = relay.bodiesOf("POST", "/api/devices") as { name: string; detail: string; subscription: { endpoint: string; keys: Record<string, string> } }[];
    expect(posted?.detail).toBe("subject");
    expect(plain(posted?.name ?? "")).toBe("Chrome on Linux");
    expect(posted?.subscription.endpoint).toMatch(/^https:\/\/push\.example\.net\/wpush\/v2\//);
    expect(Object.keys(posted?.subscription.keys ?? {}).sort()).toEqual(["auth", "p256dh"]);
    const device = state.devices.find((d) => d.id !== 7);
    expect(device).toBeDefined();
    expect(state.testsSent).toEqual([device?.id]);
    // subscribe() was called with userVisibleOnly and the relay's VAPID key, as bytes.
    await expect(page.evaluate(() => window.__PUSH_LOG__)).resolves.toEqual([`subscribe userVisibleOnly=true key=${state.vapidKey}`]);
    // The real service worker is registered for the whole app.
    const worker = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return { script: reg?.active?.scriptURL ?? "", scope: reg?.scope ?? "" };
    });
    expect(worker).toEqual({ script: `${relay.url}relay-sw.js`, scope: relay.url });
    // The worker's memory (Cache Storage, its cache and key): the subscription the relay knows
    // and the renewal secret the relay answered, for renewing the subscription without a token.
    const workerMemory = () =>
      page.evaluate(async () => {
        const reg = await navigator.serviceWorker.getRegistration();
        const cache = await caches.open("pushmail-relay-sw");
        const stored = await cache.match(new URL("sw/subscription", reg?.scope ?? location.href).href);
        return stored ? ((await stored.json()) as unknown) : null;
      });
    expect(device?.renew_secret).toMatch(/^[0-9a-f]{64}$/);
    const remembered = { subscription: { endpoint: posted?.subscription.endpoint, keys: posted?.subscription.keys }, renew_secret: device?.renew_secret };
    await expect(workerMemory()).resolves.toEqual(remembered);

    // Change what notices show: PATCH.
    await card.locator("[data-detail=none]").check();
    await expect.poll(() => relay.bodiesOf("PATCH", `/api/devices/${device?.id}`)).toEqual([{ detail: "none" }]);
    expect(device?.detail).toBe("none");

    // Test notice.
    await card.locator("[data-action=test]").click();
    await expect.poll(() => state.testsSent.length).toBe(2);

    // Still subscribed after a reload (the browser's subscription and the relay's device match).
    await page.reload();
    await card.locator("[data-role=subscribed]").waitFor();
    await expect(page.locator('[data-device="7"] [data-role=name]').textContent()).resolves.toBe("Firefox on Android");
    await expect(page.locator(`[data-device="${device?.id}"]`).count()).resolves.toBe(0);

    // Recognised by its subscription's endpoint too (the relay lists each device's endpoint).
    await page.evaluate(() => localStorage.removeItem("pushmail-relay-device"));
    await page.reload();
    await card.locator("[data-role=subscribed]").waitFor();
    // The worker's memory stays as it was.
    await expect(workerMemory()).resolves.toEqual(remembered);

    // Stop: the browser unsubscribes, the worker forgets it, the relay forgets the device.
    await card.locator("[data-action=stop]").click();
    await card.locator("[data-action=subscribe]").waitFor();
    await expect(workerMemory()).resolves.toBeNull();
    expect(relay.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/api/devices/${device?.id}`]);
    await expect(page.evaluate(() => window.__PUSH_LOG__?.includes("unsubscribe"))).resolves.toBe(true);
    expect(state.devices.map((d) => d.id)).toEqual([7]);

    // Another device is removed after a confirmation.
    const other = page.locator('[data-device="7"]');
    await other.locator("[data-action=remove]").click();
    await other.locator("[data-action=confirm-remove]").click();
    await page.locator("[data-role=this-device] ~ .card .empty-line").waitFor();
    expect(state.devices).toEqual([]);
  });

  it("the service worker shows a pushed notice once per tag, and a generic one for a bad payload", async () => {
    const o = await open(demoState(), { hash: "#/devices" });
    const { page, context, relay } = o;
    await page.locator("[data-action=subscribe]").click();
    await page.locator("[data-role=subscribed]").waitFor();
    // The DevTools protocol delivers a push message to the registered worker, as the push
    // service would.
    const cdp = await context.newCDPSession(page);
    const registrationId = await new Promise<string>((found) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", (event: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
        const reg = event.registrations.find((r) => r.scopeURL === relay.url && !r.isDeleted);
        if (reg) found(reg.registrationId);
      });
      void cdp.send("ServiceWorker.enable");
    });
    const origin = relay.url.replace(/\/$/, "");
    const notices = () =>
      page.evaluate(async () => {
        const reg = await navigator.serviceWorker.ready;
        return (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data as unknown }));
      });
    const mail = {
      v: 1,
      kind: "mail",
      tag: "a1:4711",
      title: "Work",
      body: "Bruno Costa: Quarterly report",
      account: "Work",
      from: "Bruno Costa",
      subject: "Quarterly report",
      url: "/#/mailboxes",
    };
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(mail) });
    await expect.poll(notices).toEqual([{ title: "Work", body: "Bruno Costa: Quarterly report", tag: "a1:4711", data: { url: `${relay.url}#/mailboxes` } }]);
    // The same message again: still one notice.
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(mail) });
    await page.waitForTimeout(300);
    await expect(notices()).resolves.toHaveLength(1);
    // Not JSON: a generic notice all the same (Chrome wants one per push).
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: "%%garbage" });
    await expect.poll(async () => (await notices()).length).toBe(2);
    const generic = (await notices()).find((n) => n.tag !== "a1:4711");
    expect(generic).toEqual({ title: "New mail", body: "", tag: "pushmail-mail", data: { url: relay.url } });
    // The relay's payload for a mailbox with no detail: the mailbox as the title.
    const bare = { v: 1, kind: "mail", tag: "a1/INBOX/7/42", account: "Work", title: "Work", body: "", url: "/" };
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(bare) });
    await expect
      .poll(async () => (await notices()).find((n) => n.tag === bare.tag))
      .toEqual({ title: "Work", body: "New mail", tag: bare.tag, data: { url: relay.url } });
    await cdp.detach();
  });

  it("webhooks: the secret is shown once, with a Copy button; removal asks first", async () => {
    const state = demoState();
    const o = await open(state, { hash: "#/webhooks" });
    const { page, relay, context } = o;
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: relay.url.replace(/\/$/, "") });
    await page.locator("[data-form=add-webhook]").waitFor();
    await page.fill("input[name=url]", "ftp://nope");
    await page.click("[data-action=add-webhook]");
    await expect(page.getAttribute("input[name=url]", "aria-invalid")).resolves.toBe("");
    await page.fill("input[name=url]", "https://hooks.example.com/pushmail");
    await page.selectOption("select[name=detail]", "none");
    await page.click("[data-action=add-webhook]");
    await page.locator("[data-role=secret]").waitFor();
    expect(relay.bodiesOf("POST", "/api/webhooks")).toEqual([{ url: "https://hooks.example.com/pushmail", detail: "none" }]);
    const secret = state.webhooks[0]?.secret ?? "";
    await expect(page.inputValue("[data-role=secret]")).resolves.toBe(secret);
    await page.click("[data-action=copy]");
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const id = state.webhooks[0]?.id ?? 0;
    await expect(page.locator(`[data-webhook="${id}"] [data-role=url]`).textContent()).resolves.toBe("https://hooks.example.com/pushmail");

    // Shown once: gone on the next visit.
    await page.click("[data-page=mailboxes]");
    await page.locator("[data-mailbox=a1]").waitFor();
    await page.click("[data-page=webhooks]");
    await page.locator(`[data-webhook="${id}"]`).waitFor();
    await expect(page.locator("[data-role=secret]").count()).resolves.toBe(0);
    await expect(page.locator("body").textContent()).resolves.not.toContain(secret);

    await page.locator(`[data-webhook="${id}"] [data-action=remove]`).click();
    await page.locator(`[data-webhook="${id}"] [data-action=confirm-remove]`).click();
    await page.locator(".page-webhooks .empty-line").waitFor();
    expect(state.webhooks).toEqual([]);
  });

  it("hostile names, states and details from the relay are shown as text, isolated", async () => {
    const o = await open(hostileState());
    const { page } = o;
    await page.locator("[data-mailbox=h1]").waitFor();
    await expect(page.locator("[data-mailbox=h1] [data-role=name]").textContent()).resolves.toBe(HOSTILE.img);
    await expect(page.locator("[data-mailbox=h1] [data-role=state-detail]").textContent()).resolves.toBe(
      `login failed: ${HOSTILE.script} ${HOSTILE.rlo}`,
    );
    await expect(page.locator("[data-mailbox=h2] [data-state]").textContent()).resolves.toBe(`<b>${HOSTILE.img}</b>`);
    await expect(page.locator(".relay-user-name").textContent()).resolves.toBe(`Mallory ${HOSTILE.img}`);
    // A provider's name from the relay, in a sentence: text.
    expect(plain(await page.locator("[data-mailbox=h3] [data-role=signin-required]").textContent())).toBe(
      `Sign in to ${HOSTILE.img} ${HOSTILE.rlo} again: access was revoked or expired`,
    );
    await expect(page.locator("[data-mailbox=h3] [data-role=state-detail]").textContent()).resolves.toBe(HOSTILE.script);
    // Each piece of server text is in its own isolate: an override cannot reach past it.
    const isolated = await page.evaluate(() =>
      [...document.querySelectorAll("[data-role=name], [data-role=email], .relay-user-name bdi")].every((e) => e.tagName === "BDI"),
    );
    expect(isolated).toBe(true);
    await expect(page.locator("[data-mailbox=h1] [data-role=state-detail]").getAttribute("dir")).resolves.toBe("auto");

    await page.click("[data-page=devices]");
    await page.locator("[data-device='1']").waitFor();
    await expect(page.locator("[data-device='1'] [data-role=name]").textContent()).resolves.toBe(HOSTILE.img);
    await page.locator("[data-device='1'] [data-action=remove]").click();
    await expect(plain(await page.locator("[data-device='1'] .confirm p").textContent())).toBe(`Remove ${HOSTILE.img}? It gets no more notices.`);
    await page.locator("[data-device='1'] [data-action=cancel-remove]").click();

    await page.click("[data-page=webhooks]");
    await page.locator("[data-webhook='1']").waitFor();
    await expect(page.locator("[data-webhook='1'] [data-role=url]").textContent()).resolves.toBe(`https://example.com/${HOSTILE.rlo}`);
    await expect(page.locator("[data-webhook='1'] [data-role=disabled]").count()).resolves.toBe(1);
    await page.click("[data-page=mailboxes]");
    await page.locator("[data-mailbox=h1]").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "relay-hostile.png"), fullPage: true });
  });

  it("the browser's language is used (Arabic: right to left), the picker switches it; screenshots", async () => {
    const o = await open(demoState("ar"), { locale: "ar-EG" });
    const { page } = o;
    await page.locator("[data-mailbox=a1]").waitFor();
    const layout = await page.evaluate(() => {
      const box = (s: string) => document.querySelector(s)?.getBoundingClientRect();
      return {
        lang: document.documentElement.lang,
        dir: document.documentElement.dir,
        // Mirrored: the brand on the right, the first tab right of the second.
        brandRight: (box(".relay-top .brand")?.right ?? 0) > (box(".relay-user")?.right ?? 0),
        tabsRtl: (box("[data-page=mailboxes]")?.left ?? 0) > (box("[data-page=devices]")?.left ?? 0),
      };
    });
    expect(layout).toEqual({ lang: "ar", dir: "rtl", brandRight: true, tabsRtl: true });
    await expect(page.locator("h1").textContent()).resolves.toBe("صناديق البريد");
    await expect(page.locator("[data-mailbox=a3] [data-state]").textContent()).resolves.toBe("كلمة مرور خاطئة");
    await page.screenshot({ path: join(SCREENSHOTS, "relay-ar.png"), fullPage: true });

    // The add form and the device card read right to left too.
    await page.click("[data-action=add-mailbox]");
    await page.locator("[data-form=add-mailbox]").waitFor();
    await expect(page.locator("[data-form=add-mailbox] label").first().textContent()).resolves.toBe("الاسم");
    await page.click("[data-page=devices]");
    await page.locator("[data-action=subscribe]").waitFor();
    await expect(page.locator("[data-action=subscribe]").textContent()).resolves.toBe("أرسل الإشعارات إلى هذا الجهاز");

    // The picker: English, remembered.
    await page.selectOption("select[name=language]", "en");
    await expect.poll(() => page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).toEqual(["en", "ltr"]);
    await page.locator("[data-action=subscribe]").waitFor();
    await expect(page.locator("[data-action=subscribe]").textContent()).resolves.toBe("Notify this device");
    await page.reload();
    await page.locator("[data-action=subscribe]").waitFor();
    await expect(page.evaluate(() => document.documentElement.lang)).resolves.toBe("en");
  });

  it("the English mailbox list for the docs (demo data); installable: manifest, icons, iOS tags", async () => {
    const o = await open(demoState());
    const { page, relay } = o;
    await page.locator("[data-mailbox=a3]").waitFor();
    await expect(page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).resolves.toEqual(["en", "ltr"]);
    await expect(page.locator("[data-mailbox=a3] [data-role=state-detail]").textContent()).resolves.toBe("AUTHENTICATIONFAILED: Invalid credentials");
    await page.screenshot({ path: join(SCREENSHOTS, "relay-en.png"), fullPage: true });

    const head = await page.evaluate(() => ({
      manifest: document.querySelector("link[rel=manifest]")?.getAttribute("href"),
      capable: document.querySelector("meta[name=apple-mobile-web-app-capable]")?.getAttribute("content"),
      touchIcon: document.querySelector("link[rel=apple-touch-icon]")?.getAttribute("href"),
    }));
    expect(head).toEqual({ manifest: "./relay.webmanifest", capable: "yes", touchIcon: "./icons/pushmail-180.png" });
    const manifest = (await (await fetch(`${relay.url}relay.webmanifest`)).json()) as {
      name: string;
      short_name: string;
      start_url: string;
      display: string;
      theme_color: string;
      icons: { src: string; sizes: string }[];
    };
    expect(manifest).toMatchObject({ name: "Pushmail relay", short_name: "Pushmail", start_url: "./", display: "standalone" });
    for (const icon of [...manifest.icons.map((i) => i.src), "icons/pushmail-180.png"]) {
      const response = await fetch(`${relay.url}${icon}`);
      expect(response.status, icon).toBe(200);
    }
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
  });
});

describe("signing a mailbox in at its provider (OAuth2)", () => {
  const GOOGLE = { id: "google", name: "Google" };
  const signinBodies = (relay: FakeRelay) => relay.bodiesOf("POST", "/api/signin");
  const visible = (page: Page, selector: string) => page.locator(selector).isVisible();

  it("discover → Sign in with Google → the provider → back: the mailbox is listed, the message shown once", async () => {
    const state = demoState();
    state.providers = [GOOGLE, { id: "microsoft", name: "Microsoft" }];
    const o = await open(state, { hash: "#/mailboxes/add" });
    const { page, relay } = o;
    const form = page.locator("[data-form=add-mailbox]");
    await form.waitFor();
    expect(relay.requests.filter((r) => r.path === "/api/signin/providers").map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);
    // Before any lookup, the whole form, with the choice of how to log in: a password first.
    await expect(form.locator("label").allTextContents()).resolves.toEqual([
      "Name",
      "Email address",
      "IMAP server",
      "Port",
      "Security",
      "User name",
      "Log in with",
      "Password",
    ]);
    await expect(page.inputValue("select[name=login-method]")).resolves.toBe("password");

    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "ana@gmail.com");
    await page.click("[data-action=find-settings]");
    const signIn = page.locator("[data-action=sign-in-with]");
    await signIn.waitFor();
    // The sign-in is the offer: no password, the found server folded away (but filled).
    expect(plain(await signIn.textContent())).toBe("Sign in with Google");
    await expect(signIn.getAttribute("type")).resolves.toBe("submit");
    expect(plain(await page.locator("[data-role=signin-offer]").textContent())).toBe("Settings found: Gmail signs in with Google.");
    expect(await visible(page, "input[name=password]")).toBe(false);
    expect(await visible(page, "input[name=host]")).toBe(false);
    expect(await visible(page, "select[name=login-method]")).toBe(false);
    expect(await visible(page, "[data-action=manual]")).toBe(true);
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.gmail.com");
    // The app-password note is for the password path.
    await expect(page.locator("[data-role=discover-note]").count()).resolves.toBe(0);
    await expect(page.locator("[data-role=discover-signin]").count()).resolves.toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, "relay-signin-en.png"), fullPage: true });

    await signIn.click();
    const result = page.locator("[data-role=signin-result]");
    await result.waitFor();
    await expect(result.getAttribute("data-result")).resolves.toBe("done");
    expect(plain(await result.textContent())).toBe("Work is signed in; the relay is watching it now.");
    await page.screenshot({ path: join(ARTIFACTS, "relay-signin-done.png"), fullPage: true });
    // The relay got the mailbox and no password; the provider's page saw this browser's cookie.
    expect(signinBodies(relay)).toEqual([
      { provider: "google", name: "Work", email: "ana@gmail.com", host: "imap.gmail.com", port: 993, security: "tls", username: "ana@gmail.com" },
    ]);
    expect(relay.requests.filter((r) => r.path === "/fake-provider/authorize").map((r) => r.authorization)).toEqual(["cookie"]);
    const added = state.accounts.find((a) => a.auth === "oauth2");
    expect(added).toMatchObject({ name: "Work", provider: "google", host: "imap.gmail.com", username: "ana@gmail.com" });
    await expect(page.locator(`[data-mailbox=${added?.id}] [data-role=name]`).textContent()).resolves.toBe("Work");
    // The address is clean, so a reload does not say it again.
    const url = new URL(page.url());
    expect([url.search, url.hash]).toEqual(["", "#/mailboxes"]);
    await page.reload();
    await page.locator(`[data-mailbox=${added?.id}]`).waitFor();
    await expect(result.count()).resolves.toBe(0);
  });

  it("set up manually: “Log in with” a provider hides the password; a refusal at the provider comes back as a message", async () => {
    const state = demoState();
    state.accounts = [];
    state.providers = [GOOGLE, { id: "corp", name: "Contoso ID" }];
    state.signinOutcome = { code: "denied" };
    const o = await open(state, { hash: "#/mailboxes/add" });
    const { page, relay } = o;
    await page.locator("[data-form=add-mailbox]").waitFor();

    // Found settings with a sign-in: "Set up manually" unfolds everything, the sign-in still chosen.
    await page.fill("input[name=email]", "ana@gmail.com");
    await page.click("[data-action=find-settings]");
    await page.locator("[data-action=sign-in-with]").waitFor();
    await page.click("[data-action=manual]");
    expect(await visible(page, "input[name=host]")).toBe(true);
    expect(await visible(page, "[data-action=manual]")).toBe(false);
    await expect(page.inputValue("select[name=login-method]")).resolves.toBe("provider:google");
    expect(await visible(page, "input[name=password]")).toBe(false);
    expect(plain(await page.locator("[data-role=discovery] .banner-title").textContent())).toBe("Settings found: check them, then sign in with Google.");
    // A password is one choice away; with it, the app-password note.
    await page.selectOption("select[name=login-method]", "password");
    expect(await visible(page, "input[name=password]")).toBe(true);
    await expect(page.locator("[data-action=save]").textContent()).resolves.toBe("Add mailbox");
    await page.locator("[data-role=discover-note]").waitFor();

    // Another address: what was found for Gmail no longer applies.
    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "ana@contoso.example");
    await expect(page.locator("[data-role=discovery]").textContent()).resolves.toBe("");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("ana@contoso.example");
    await page.fill("input[name=host]", "imap.contoso.example");
    const options = (await page.locator("select[name=login-method] option").allTextContents()).map(plain);
    expect(options).toEqual(["A password", "Sign in with Google", "Sign in with Contoso ID"]);
    await page.selectOption("select[name=login-method]", "provider:corp");
    expect(await visible(page, "input[name=password]")).toBe(false);
    expect(plain(await page.locator("[data-role=signin-help]").textContent())).toBe("You sign in on Contoso ID's own page; the relay never sees your password.");
    const signIn = page.locator("[data-action=sign-in-with]");
    expect(plain(await signIn.textContent())).toBe("Sign in with Contoso ID");
    await page.screenshot({ path: join(ARTIFACTS, "relay-signin-manual.png"), fullPage: true });

    // Refused before leaving (the relay checks the server first): said in the form, nothing lost.
    await page.fill("input[name=host]", "unreachable.example");
    await signIn.click();
    await page.locator("[data-form=add-mailbox] [data-role=error]").waitFor();
    await expect(page.locator("[data-form=add-mailbox] .banner-title").textContent()).resolves.toBe("The server name is not right");
    await expect(page.inputValue("input[name=name]")).resolves.toBe("Work");
    await page.fill("input[name=host]", "imap.contoso.example");

    await signIn.click();
    const result = page.locator("[data-role=signin-result]");
    await result.waitFor();
    await expect(result.getAttribute("data-result")).resolves.toBe("denied");
    await expect(page.locator(".page-mailboxes .banner-title").textContent()).resolves.toBe("The sign-in did not complete");
    expect(plain(await result.textContent())).toBe("Access was refused at the provider (by you, or by a policy of your organisation). Nothing was saved.");
    await expect(page.locator("[data-role=signin-reason]").count()).resolves.toBe(0);
    expect(signinBodies(relay)).toEqual([
      { provider: "corp", name: "Work", email: "ana@contoso.example", host: "unreachable.example", port: 993, security: "tls", username: "ana@contoso.example" },
      { provider: "corp", name: "Work", email: "ana@contoso.example", host: "imap.contoso.example", port: 993, security: "tls", username: "ana@contoso.example" },
    ]);
    expect(state.accounts).toEqual([]);
    expect(new URL(page.url()).search).toBe("");

    // Anyone can link to the app with a return of their own making: free text in it (an older
    // relay's `detail`; a reason on another code than login_failed) is never shown, anywhere.
    const spoof = `Your mailbox is locked: call +1 555 0100 ${HOSTILE.img} ${HOSTILE.rlo}`;
    await page.goto(`${relay.url}?signin=failed&code=denied&reason=auth_failed&detail=${encodeURIComponent(spoof)}#/mailboxes`);
    await page.locator("[data-role=signin-result][data-result=denied]").waitFor();
    expect(plain(await result.textContent())).toBe("Access was refused at the provider (by you, or by a policy of your organisation). Nothing was saved.");
    await expect(page.locator("[data-role=signin-reason], [data-role=signin-detail]").count()).resolves.toBe(0);
    const shown = await page.evaluate(() => ({ text: document.body.innerText, html: document.documentElement.outerHTML, title: document.title }));
    for (const piece of ["locked", "555 0100", "onerror", "pwned", "invoice", "gpj.exe", "The relay said", "rejected the user name"]) {
      expect([piece, shown.text.includes(piece) || shown.html.includes(piece) || shown.title.includes(piece)]).toEqual([piece, false]);
    }
    await page.screenshot({ path: join(ARTIFACTS, "relay-signin-denied.png"), fullPage: true });
    // Taken out of the address too, the old `detail` with the rest.
    expect([new URL(page.url()).search, new URL(page.url()).hash]).toEqual(["", "#/mailboxes"]);

    // A sign-in started elsewhere (here: without this browser's cookie) is refused by the relay.
    state.signinOutcome = null;
    const started = await fetch(`${relay.url}api/signin`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ provider: "google", name: "Elsewhere", email: "ana@gmail.com", host: "imap.gmail.com", port: 993, security: "tls", username: "ana@gmail.com" }),
    });
    const { url } = (await started.json()) as { url: string };
    await page.goto(url);
    await page.locator("[data-role=signin-result][data-result=wrong_browser]").waitFor();
    expect(plain(await result.textContent())).toBe(
      "The sign-in was finished in another browser than the one that started it, so the relay refused it for your safety. Start it again and finish it in this browser.",
    );
    await expect(page.locator("[data-role=signin-reason]").count()).resolves.toBe(0);
    expect(state.accounts).toEqual([]);
  });

  it("the mail server refused the signed-in login: the reason in the app's words, nothing saved", async () => {
    const state = demoState();
    state.providers = [GOOGLE];
    state.signinOutcome = { code: "login_failed", reason: "auth_failed" };
    const o = await open(state, { hash: "#/mailboxes/add" });
    const { page, relay } = o;
    await page.locator("[data-form=add-mailbox]").waitFor();
    const before = state.accounts.length;
    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "ana@gmail.com");
    await page.click("[data-action=find-settings]");
    const signIn = page.locator("[data-action=sign-in-with]");
    await signIn.waitFor();
    await signIn.click();

    const result = page.locator("[data-role=signin-result]");
    await result.waitFor();
    await expect(result.getAttribute("data-result")).resolves.toBe("login_failed");
    await expect(page.locator(".page-mailboxes .banner-title").textContent()).resolves.toBe("The sign-in did not complete");
    expect(plain(await result.textContent())).toBe(
      "You signed in, but the mail server refused the login or could not be reached. Nothing was saved: check the server settings and try again.",
    );
    // The second line: the login test's own message for its code, never the server's words.
    const reason = page.locator("[data-role=signin-reason]");
    await expect(reason.getAttribute("data-reason")).resolves.toBe("auth_failed");
    expect(plain(await reason.textContent())).toBe("The mail server rejected the user name or password");
    await page.screenshot({ path: join(ARTIFACTS, "relay-signin-login-failed.png"), fullPage: true });
    expect(relay.requests.filter((r) => r.path === "/fake-provider/authorize")).toHaveLength(1);
    expect(state.accounts).toHaveLength(before);
    expect([new URL(page.url()).search, new URL(page.url()).hash]).toEqual(["", "#/mailboxes"]);
    // Said once: a reload has nothing to say.
    await page.reload();
    await page.locator(".account-list").waitFor();
    await expect(result.count()).resolves.toBe(0);

    // In the reader's language; a reason outside the login test's codes is no reason.
    const it_ = await open(demoState(), { locale: "it-IT" });
    await it_.page.goto(`${it_.relay.url}?signin=failed&code=login_failed&reason=unreachable#/mailboxes`);
    await it_.page.locator("[data-role=signin-reason][data-reason=unreachable]").waitFor();
    expect(plain(await it_.page.locator("[data-role=signin-reason]").textContent())).toBe("Il server di posta non è raggiungibile");
    await it_.page.goto(`${it_.relay.url}?signin=failed&code=login_failed&reason=${encodeURIComponent("Your account is locked")}#/mailboxes`);
    await it_.page.locator("[data-role=signin-result][data-result=login_failed]").waitFor();
    await expect(it_.page.locator("[data-role=signin-reason]").count()).resolves.toBe(0);
    expect(await it_.page.evaluate(() => document.body.innerText.includes("locked"))).toBe(false);
  });

  it("a mailbox whose sign-in ended says so, and “Sign in again” renews it", async () => {
    const state = demoState();
    state.providers = [GOOGLE];
    state.accounts.push(
      account({
        id: "a4",
        name: "Gmail",
        email: "ana.souza@gmail.com",
        host: "imap.gmail.com",
        auth: "oauth2",
        provider: "google",
        state: "signin_required",
        state_detail: "invalid_grant: Token has been expired or revoked.",
      }),
    );
    const o = await open(state);
    const { page, relay } = o;
    const row = page.locator("[data-mailbox=a4]");
    await row.waitFor();
    await expect(row.locator("[data-state]").textContent()).resolves.toBe("sign-in required");
    expect(plain(await row.locator("[data-role=signin-required]").textContent())).toBe("Sign in to Google again: access was revoked or expired");
    await expect(row.locator("[data-role=state-detail]").textContent()).resolves.toBe("invalid_grant: Token has been expired or revoked.");
    // Only that mailbox asks.
    await expect(page.locator("[data-action=sign-in-again]").count()).resolves.toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "relay-signin-required.png"), fullPage: true });

    await row.locator("[data-action=sign-in-again]").click();
    const result = page.locator("[data-role=signin-result]");
    await result.waitFor();
    expect(plain(await result.textContent())).toBe("Gmail is signed in; the relay is watching it now.");
    expect(signinBodies(relay)).toEqual([{ account: "a4" }]);
    await expect(row.locator("[data-state]").textContent()).resolves.toBe("watching");
    await expect(page.locator("[data-action=sign-in-again]").count()).resolves.toBe(0);
    expect(state.accounts.filter((a) => a.id === "a4")).toHaveLength(1);
  });

  it("Arabic: the offer reads right to left; screenshot", async () => {
    const state = demoState("ar");
    state.providers = [GOOGLE];
    const o = await open(state, { locale: "ar-EG", hash: "#/mailboxes/add" });
    const { page } = o;
    await page.locator("[data-form=add-mailbox]").waitFor();
    await page.fill("input[name=name]", "العمل");
    await page.fill("input[name=email]", "layla.haddad@gmail.com");
    await page.click("[data-action=find-settings]");
    const signIn = page.locator("[data-action=sign-in-with]");
    await signIn.waitFor();
    expect(plain(await signIn.textContent())).toBe("تسجيل الدخول عبر Google");
    expect(plain(await page.locator("[data-role=signin-offer]").textContent())).toBe("عُثر على الإعدادات: يسجّل Gmail الدخول عبر Google.");
    await expect(page.locator("[data-action=manual]").textContent()).resolves.toBe("الإعداد يدويًا");
    const layout = await page.evaluate(() => {
      const box = (s: string) => document.querySelector(s)?.getBoundingClientRect();
      return {
        dir: document.documentElement.dir,
        // The main action at the inline end: the left, in Arabic.
        primaryLeft: (box("[data-action=sign-in-with]")?.left ?? 0) < (box("[data-action=manual]")?.left ?? 0),
        // The address stays left to right.
        email: getComputedStyle(document.querySelector("input[name=email]") as Element).direction,
      };
    });
    expect(layout).toEqual({ dir: "rtl", primaryLeft: true, email: "ltr" });
    await page.screenshot({ path: join(SCREENSHOTS, "relay-signin-ar.png"), fullPage: true });
  });
});
