// Debian's Firefox ESR as a REAL Web Push receiver, step by step for
// tests/tests/relay_firefox.rs: stock Firefox, headless, on a fresh profile (PROFILE), driven by
// puppeteer-core over WebDriver BiDi, its push service pointed at the loopback push service of
// push_server.mjs (which speaks Mozilla's autopush WebSocket protocol to Firefox and takes the
// relay's POSTs as autopush does).
//
// Nothing of the browser is stubbed: the relay's built web app asks for permission, registers its
// service worker and calls PushManager.subscribe, which makes Firefox register a channel with the
// push service and generate its own P-256 key and auth secret; the relay encrypts to those and
// POSTs to the endpoint Firefox was handed; the push service forwards the opaque body over the
// WebSocket; Firefox decrypts it, acknowledges it, and fires the service worker's `push` event,
// whose notification the test reads back with `registration.getNotifications()`.
//
// Prefs, all of them Firefox's own: `dom.push.serverURL` plus
// `dom.push.testing.allowInsecureServerURL` (a ws:// push service on loopback),
// `permissions.default.desktop-notification` = allow (no prompt to click in headless mode), and
// `alerts.useSystemBackend` = false (Firefox's built-in alert instead of the desktop's
// notification daemon, which a headless Firefox has none of: there `showNotification` fails
// with NS_ERROR_FAILURE).
//
// One JSON command per line on stdin, one JSON answer per line on stdout ({"ok": true, …} or
// {"ok": false, "error": "…"}), as tests/relay/web_flow.mjs. Firefox's own output (with the push
// service's debug log) goes to FIREFOX_LOG. The browser closes when stdin does.

import fs from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

import { startPushServer } from "./push_server.mjs";

const require = createRequire(import.meta.url);
const puppeteer = require("puppeteer-core");

const STEP_TIMEOUT = 20000;

let push = null;
let browser = null;
let page = null;
const events = [];
const errors = [];
const dialogs = [];
let tamperNext = false;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The push service and Firefox on a fresh profile. */
async function start() {
  push = await startPushServer((e) => events.push({ at: Date.now(), ...e }), {
    tamper: () => {
      const t = tamperNext;
      tamperNext = false;
      return t;
    },
  });
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: process.env.FIREFOX,
    headless: true,
    userDataDir: process.env.PROFILE,
    extraPrefsFirefox: {
      "dom.push.serverURL": push.wsUrl,
      "dom.push.testing.allowInsecureServerURL": true,
      "dom.push.connection.enabled": true,
      "dom.push.loglevel": "Debug",
      "devtools.console.stdout.chrome": true,
      "permissions.default.desktop-notification": 1,
      "alerts.useSystemBackend": false,
      "network.manage-offline-status": false,
      "intl.locale.requested": "en-US",
      "intl.accept_languages": "en-US",
    },
  });
  const proc = browser.process();
  if (process.env.FIREFOX_LOG && proc) {
    const log = fs.createWriteStream(process.env.FIREFOX_LOG);
    proc.stdout?.pipe(log);
    proc.stderr?.pipe(log);
  }
  // Firefox connects to its push service at start-up: wait for the handshake.
  for (let i = 0; i < 200 && !events.some((e) => e.event === "hello"); i++) await sleep(50);
  return { push_port: push.port, ws_url: push.wsUrl, version: await browser.version(), pid: proc?.pid ?? 0, events };
}

async function open({ url }) {
  page = await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(String(error.message ?? error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector(".page-mailboxes [data-mailbox], .page-mailboxes .empty");
  return {
    url: page.url(),
    stored_token: await page.evaluate(() => localStorage.getItem("pushmail-relay-token")),
    user: await page.$eval(".relay-user-name", (e) => e.textContent),
    user_agent: await page.evaluate(() => navigator.userAgent),
  };
}

/** The page's view of this browser's push subscription and service worker. */
async function browserState() {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    const sub = await reg?.pushManager.getSubscription();
    return {
      subscription: sub ? sub.toJSON() : null,
      application_server_key: sub?.options?.applicationServerKey
        ? btoa(String.fromCharCode(...new Uint8Array(sub.options.applicationServerKey))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
        : null,
      worker: { script: reg?.active?.scriptURL ?? "", scope: reg?.scope ?? "" },
      permission: Notification.permission,
    };
  });
}

async function subscribe({ detail }) {
  await page.click("[data-page=devices]");
  const card = "[data-role=this-device]";
  await page.waitForSelector(`${card} [data-action=subscribe]`);
  await page.click(`${card} [data-detail=${detail}]`);
  await page.click(`${card} [data-action=subscribe]`);
  await page.waitForSelector(`${card} [data-role=subscribed]`);
  return {
    on_its_way: await page.$eval(`${card} [data-role=test-on-its-way]`, (e) => e.textContent),
    checked: await page.$eval(`${card} [data-detail=${detail}]`, (e) => e.checked),
    ...(await browserState()),
    events,
  };
}

/** The notifications this browser shows for the app, as its service worker made them. */
async function notifications() {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    const all = reg ? await reg.getNotifications() : [];
    return all.map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, data: n.data }));
  });
}

/** Waits until Firefox shows a notification whose tag (or, with `title`, title) matches. */
async function waitNotice({ tag, title, timeout }) {
  const deadline = Date.now() + (timeout ?? 15000);
  let shown = [];
  while (Date.now() < deadline) {
    shown = await notifications();
    const hit = shown.find((n) => (tag === undefined || n.tag === tag) && (title === undefined || n.title === title));
    if (hit) return { notice: hit, shown, events };
    await sleep(100);
  }
  throw new Error(`no notification with tag ${tag} / title ${title} within ${timeout ?? 15000} ms; shown: ${JSON.stringify(shown)}; push service: ${JSON.stringify(events)}`);
}

/** Has the push service flip one byte of the next body it forwards (a forged ciphertext). */
async function tamper() {
  tamperNext = true;
  return {};
}

/** Waits until the push service has seen an event matching all of `match`'s fields. */
async function waitEvent({ match, timeout }) {
  const deadline = Date.now() + (timeout ?? 15000);
  while (Date.now() < deadline) {
    const hit = events.find((e) => Object.entries(match).every(([k, v]) => e[k] === v));
    if (hit) return { hit, events };
    await sleep(50);
  }
  throw new Error(`the push service saw no ${JSON.stringify(match)}: ${JSON.stringify(events)}`);
}

async function state() {
  return { ...(await browserState()), shown: await notifications(), events, errors, dialogs };
}

async function stop() {
  const card = "[data-role=this-device]";
  await page.click(`${card} [data-action=stop]`);
  await page.waitForSelector(`${card} [data-action=subscribe]`);
  return { ...(await browserState()), events };
}

const ops = { start, open, subscribe, wait_notice: waitNotice, wait_event: waitEvent, tamper, state, stop };

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
        body = page ? await page.$eval("body", (b) => b.innerText) : "";
      } catch {
        body = "";
      }
      answer = { ok: false, error: String((e && e.stack) || e), page: body.slice(0, 2000), events, errors, dialogs };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  await browser?.close();
  await push?.close();
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(String((e && e.stack) || e));
    await browser?.close().catch(() => undefined);
    process.exit(1);
  },
);
