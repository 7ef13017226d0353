// The relay's web app in a real browser, step by step for tests/tests/relay_web.rs: Debian's
// headless Chromium through the playwright-core of ui/node_modules (PW_CORE), driving the BUILT
// app (ui/dist-relay) as served by a real `pushmail-relay serve`, under the relay's own CSP.
//
// One JSON command per line on stdin, one JSON answer per line on stdout ({"ok": true, …} or
// {"ok": false, "error": "…"}), so the Rust test can deliver mail and read the database between
// the steps. The browser closes when stdin does.
//
// Everything is the browser's own except PushManager.subscribe/getSubscription: a headless
// Chromium offline cannot reach its push service, so an init script (PUSH_STUB) hands the app
// the subscription of the test's independent Web Push receiver instead. The relay then really
// encrypts to it and POSTs to it, exactly as it would to Google's or Mozilla's push service.

import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PW_CORE);

/** Runs in the page before the app: records CSP violations and stubs the push subscription. */
function INIT(subscription) {
  window.__CSP__ = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__CSP__.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
  const KEY = "__test_push_subscription";
  const log = [];
  window.__PUSH_LOG__ = log;
  const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const make = (json) => ({
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
  PushManager.prototype.subscribe = async function (options) {
    const key = options?.applicationServerKey;
    const bytes =
      key instanceof ArrayBuffer ? new Uint8Array(key) : ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength) : new Uint8Array();
    log.push(`subscribe userVisibleOnly=${String(options?.userVisibleOnly)} key=${b64url(bytes)}`);
    const json = { endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys };
    localStorage.setItem(KEY, JSON.stringify(json));
    return make(json);
  };
  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(KEY);
    return saved ? make(JSON.parse(saved)) : null;
  };
}

let browser = null;
let context = null;
let page = null;
const dialogs = [];
const errors = [];

const STEP_TIMEOUT = 15000;

async function open({ url, origin, subscription }) {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // ignoreHTTPSErrors: only the sign-in's provider (oidc-provider with a test CA) is on HTTPS;
  // the relay itself is plain http on loopback.
  context = await browser.newContext({ locale: "en-US", viewport: { width: 900, height: 700 }, ignoreHTTPSErrors: true });
  await context.grantPermissions(["notifications"], { origin });
  page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // The browser logs refused requests itself (the wrong password's 422); the app handles them.
    if (/Failed to load resource: the server responded with a status of 422/.test(message.text())) return;
    errors.push(message.text());
  });
  await page.addInitScript(INIT, subscription);
  await page.goto(url);
  await page.locator(".page-mailboxes .empty").waitFor();
  return {
    url: page.url(),
    stored_token: await page.evaluate(() => localStorage.getItem("pushmail-relay-token")),
    user: await page.locator(".relay-user-name").textContent(),
  };
}

async function addMailbox({ name, email, host, port, username, password, expect }) {
  if ((await page.locator("[data-form=add-mailbox]").count()) === 0) {
    await page.click("[data-action=add-mailbox]");
    await page.locator("[data-form=add-mailbox]").waitFor();
  }
  await page.fill("input[name=name]", name);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=host]", host);
  await page.selectOption("select[name=security]", "tls");
  await page.fill("input[name=port]", String(port));
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/api/accounts", { timeout: 60000 });
  await page.click("[data-action=save]");
  const response = await answer;
  const status = response.status();
  const server = await response.json().catch(() => null);
  if (expect === "error") {
    const shown = page.locator("[data-form=add-mailbox] [data-role=error]");
    await shown.waitFor();
    const banner = page.locator("[data-form=add-mailbox] .banner-error", { has: page.locator("[data-role=error]") });
    return {
      status,
      server,
      shown: await shown.textContent(),
      title: await banner.locator(".banner-title").textContent(),
      password_kept: await page.inputValue("input[name=password]"),
    };
  }
  const row = page.locator(".page-mailboxes [data-mailbox]");
  await row.first().waitFor();
  return {
    status,
    server,
    id: await row.first().getAttribute("data-mailbox"),
    rows: await row.count(),
    shown_name: await row.first().locator("[data-role=name]").textContent(),
    shown_email: await row.first().locator("[data-role=email]").textContent(),
  };
}

/**
 * A new mailbox that signs in at its provider: the manual form with "Log in with: Sign in with
 * <provider>", the whole page to the provider's real login and consent pages (oidc-provider),
 * approve or deny, and back in the app with the relay's answer.
 */
async function signinMailbox({ name, email, host, port, username, provider, login, deny, origin }) {
  await page.click("[data-page=mailboxes]");
  if ((await page.locator("[data-form=add-mailbox]").count()) === 0) {
    await page.click("[data-action=add-mailbox]");
    await page.locator("[data-form=add-mailbox]").waitFor();
  }
  await page.fill("input[name=name]", name);
  await page.fill("input[name=email]", email);
  await page.selectOption("select[name=login-method]", `provider:${provider}`);
  await page.fill("input[name=host]", host);
  await page.selectOption("select[name=security]", "tls");
  await page.fill("input[name=port]", String(port));
  await page.fill("input[name=username]", username);
  const passwordHidden = await page.locator("input[name=password]").isHidden();
  await Promise.all([page.waitForURL((u) => !u.href.startsWith(origin), { timeout: 30000 }), page.click("[data-action=sign-in-with]")]);
  const providerUrl = page.url().split("?")[0];
  const pages = [];
  for (let i = 0; i < 4 && !page.url().startsWith(origin); i++) {
    const prompt = await page.locator("input[name=prompt]").first().getAttribute("value", { timeout: 5000 }).catch(() => null);
    if (prompt === "login") {
      pages.push("login");
      await page.fill("input[name=login]", login);
      const pw = page.locator("input[name=password]");
      if (await pw.count()) await pw.fill("any password");
      await Promise.all([page.waitForNavigation(), page.locator("form [type=submit]").first().click()]);
    } else if (prompt === "consent") {
      pages.push("consent");
      const target = deny ? page.locator("a, button").filter({ hasText: /cancel|abort/i }).first() : page.locator("form [type=submit]").first();
      await Promise.all([page.waitForURL((u) => u.href.startsWith(origin), { timeout: 60000 }), target.click()]);
    } else {
      break;
    }
  }
  const result = page.locator("[data-role=signin-result]");
  await result.waitFor({ timeout: 60000 });
  const rows = page.locator(".page-mailboxes [data-mailbox]");
  return {
    password_hidden: passwordHidden,
    provider_url: providerUrl,
    pages,
    url: page.url(),
    result: await result.getAttribute("data-result"),
    text: await result.textContent(),
    reason: (await page.locator("[data-role=signin-reason]").count()) ? await page.locator("[data-role=signin-reason]").getAttribute("data-reason") : null,
    rows: await rows.count(),
    ids: await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-mailbox"))),
  };
}

async function subscribe({ detail }) {
  await page.click("[data-page=devices]");
  const card = page.locator("[data-role=this-device]");
  await card.locator("[data-action=subscribe]").waitFor();
  await card.locator(`[data-detail=${detail}]`).check();
  await card.locator("[data-action=subscribe]").click();
  await card.locator("[data-role=subscribed]").waitFor();
  return {
    on_its_way: await card.locator("[data-role=test-on-its-way]").textContent(),
    checked: await card.locator(`[data-detail=${detail}]`).isChecked(),
    push_log: await page.evaluate(() => window.__PUSH_LOG__),
    worker: await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return { script: reg?.active?.scriptURL ?? "", scope: reg?.scope ?? "" };
    }),
  };
}

async function sendTest() {
  const card = page.locator("[data-role=this-device]");
  const answer = page.waitForResponse((r) => r.request().method() === "POST" && /\/api\/devices\/[^/]+\/test$/.test(new URL(r.url()).pathname));
  await card.locator("[data-action=test]").click();
  const response = await answer;
  return { status: response.status(), server: await response.json().catch(() => null) };
}

async function stop() {
  const card = page.locator("[data-role=this-device]");
  const answer = page.waitForResponse((r) => r.request().method() === "DELETE" && /\/api\/devices\//.test(new URL(r.url()).pathname));
  await card.locator("[data-action=stop]").click();
  const response = await answer;
  await card.locator("[data-action=subscribe]").waitFor();
  return { status: response.status(), push_log: await page.evaluate(() => window.__PUSH_LOG__) };
}

async function removeMailbox({ id }) {
  await page.click("[data-page=mailboxes]");
  const row = page.locator(`[data-mailbox="${id}"]`);
  await row.waitFor();
  await row.locator("[data-action=remove]").click();
  const question = (await row.locator(".confirm p").textContent()) ?? "";
  const answer = page.waitForResponse((r) => r.request().method() === "DELETE" && /\/api\/accounts\//.test(new URL(r.url()).pathname));
  await row.locator("[data-action=confirm-remove]").click();
  const response = await answer;
  await page.locator(".page-mailboxes .empty").waitFor();
  return { status: response.status(), question: question.replace(/[\u2068\u2069]/g, "") };
}

/** What a hostile text could have done: nothing may have run, nothing may have been injected. */
async function check({ literal }) {
  const state = await page.evaluate((literal) => {
    const all = document.querySelectorAll("*");
    let textHits = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) if ((walker.currentNode.nodeValue ?? "").includes(literal)) textHits += 1;
    return {
      injected: document.querySelectorAll("img, svg, iframe, object, embed, script:not([src])").length,
      onerror: [...all].filter((e) => e.hasAttribute("onerror")).length,
      text_hits: textHits,
      csp: window.__CSP__ ?? [],
    };
  }, literal ?? "");
  return { ...state, dialogs, errors };
}

const ops = { open, add_mailbox: addMailbox, signin_mailbox: signinMailbox, subscribe, send_test: sendTest, stop, remove_mailbox: removeMailbox, check };

async function main() {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let answer;
    try {
      const cmd = JSON.parse(line);
      const op = ops[cmd.op];
      if (!op) throw new Error(`unknown op ${cmd.op}`);
      answer = { ok: true, ...(await op(cmd)) };
    } catch (e) {
      let body = "";
      try {
        body = page ? ((await page.locator("body").innerText({ timeout: 1000 })) ?? "") : "";
      } catch {
        body = "";
      }
      answer = { ok: false, error: String((e && e.stack) || e), page: body.slice(0, 2000), errors, dialogs };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  await browser?.close();
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(String((e && e.stack) || e));
    await browser?.close().catch(() => undefined);
    process.exit(1);
  },
);
