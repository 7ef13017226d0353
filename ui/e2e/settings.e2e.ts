// The settings UI as a user drives it, in headless Chromium (Debian's /usr/bin/chromium via
// playwright-core) against the BUILT UI (dist/), served with the shell's own CSP, with the
// Rust side replaced by the fake backend through Tauri's mockIPC (e2e/bootstrap.ts).
//
// Every test also checks that nothing hostile ran: no dialog, no CSP violation, no element an
// attacker could have injected (img, svg, iframe, inline script), no marker set by a payload.
// The screenshots in the README and docs (docs/screenshots/settings-*.png) are taken only from
// the demo's realistic data, and each of those flows checks that no test vector shows; the
// hostile flows keep theirs as test artifacts in ui/e2e/artifacts/ (not in git).

import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

import { HOSTILE } from "../src/testing/fakeBackend";
import type { Language } from "../src/types";
import type { ScenarioName } from "./bootstrap";
import { serve, tauriCsp, type StaticServer } from "./server";

const here = dirname(fileURLToPath(import.meta.url));
const UI = resolve(here, "..");
const REPO = resolve(UI, "..");
/** Pictures of the product for the README and docs: demo data only. */
const SCREENSHOTS = join(REPO, "docs", "screenshots");
/** Pictures of the test vectors, for whoever reads a failed run. */
const ARTIFACTS = join(UI, "e2e", "artifacts");
const BOOTSTRAP = join(UI, "e2e", "dist", "bootstrap.js");
const CHROMIUM = process.env.PUSHMAIL_CHROMIUM ?? "/usr/bin/chromium";
/** The settings window's default size (src-tauri/src/lib.rs). */
const WINDOW = { width: 900, height: 640 };

let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(UI, "dist", "index.html"))) throw new Error("ui/dist is missing: run `npm run build` first");
  if (!existsSync(BOOTSTRAP)) throw new Error("e2e/dist/bootstrap.js is missing: run `npm run build:e2e` first");
  server = await serve(join(UI, "dist"), await tauriCsp(join(REPO, "src-tauri", "tauri.conf.json")));
  // playwright-core gives every launch a fresh, throw-away profile directory.
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
  await server?.close();
});

interface Opened {
  page: Page;
  context: BrowserContext;
  dialogs: string[];
  errors: string[];
}

const opened: Opened[] = [];

async function open(scenario: ScenarioName = "rich", language?: Language): Promise<Opened> {
  const context = await browser.newContext({ viewport: WINDOW, deviceScaleFactor: 1, locale: "en-US", colorScheme: "light" });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    // The browser's own favicon request is not the app's doing.
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) errors.push(message.text());
  });
  await page.addInitScript(
    ([s, l]) => {
      window.__PUSHMAIL_SCENARIO__ = s;
      if (l) window.__PUSHMAIL_LANGUAGE__ = l;
    },
    [scenario, language] as const,
  );
  await page.addInitScript({ path: BOOTSTRAP });
  await page.goto(server.url);
  await page.locator(".layout").waitFor();
  const result = { page, context, dialogs, errors };
  opened.push(result);
  return result;
}

/** Nothing from a server or a message became markup or ran. */
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
    await expectNothingRan(o);
    await o.context.close();
  }
});

/** Calls the fake backend received, by command. */
async function calls(page: Page, command: string): Promise<Record<string, unknown>[]> {
  return page.evaluate((c) => (window.__PUSHMAIL_FAKE__?.callsOf(c) ?? []).map((call) => call.args), command);
}

/**
 * A picture for the docs shows the product, not a test vector: no payload, nor a piece of one,
 * in any text or field of the page.
 */
async function expectNoTestVectors(page: Page): Promise<void> {
  const shown = await page.evaluate(() =>
    [document.body.innerText, ...[...document.querySelectorAll("input, select")].map((e) => (e as HTMLInputElement).value)].join("\n"),
  );
  for (const payload of [...Object.values(HOSTILE), "onerror", "onload", "<script", "<img", "<svg", "pwned", "alert("]) {
    expect(shown, `a docs screenshot shows ${payload}`).not.toContain(payload);
  }
}

/** The window made as tall as its page, for a picture of the whole page; back to size after. */
async function screenshotWholePage(page: Page, path: string): Promise<void> {
  await page.evaluate(() => document.getElementById("content")?.scrollTo(0, 0));
  const height = await page.evaluate(() => document.getElementById("content")?.scrollHeight ?? 640);
  await page.setViewportSize({ width: WINDOW.width, height: Math.max(height, WINDOW.height) });
  await page.screenshot({ path });
  await page.setViewportSize(WINDOW);
}

/** Text without Fluent's bidi isolation marks, for comparisons. */
const plain = (text: string | null) => (text ?? "").replace(/[\u2068\u2069]/g, "");

describe("settings window flows", () => {
  it("first run opens on Add account; a new account is tested step by step and saved", async () => {
    const o = await open("first-run");
    const { page } = o;
    await expect(page.locator("h1").textContent()).resolves.toBe("Add account");
    await expect(page.locator("[data-page=accounts]").getAttribute("aria-current")).resolves.toBe("page");

    await page.click("[data-action=manual]");
    await page.fill("input[name=name]", "Ana's Work");
    await page.fill("input[name=email]", "ana@example.com");
    await expect(page.inputValue("input[name=id]")).resolves.toBe("ana");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("ana@example.com");
    await page.fill("input[name=host]", "imap.example.com");
    await page.fill("input[name=password]", "s3cret-pw");

    // Record every state the step list goes through while the test runs.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __steps: string[] }).__steps = seen;
      new MutationObserver(() => {
        const now = [...document.querySelectorAll("[data-step]")].map((e) => e.getAttribute("data-status")).join(",");
        if (seen[seen.length - 1] !== now) seen.push(now);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.click("[data-action=test]");
    await page.locator("[data-step=folders][data-status=ok]").waitFor();
    await expect(page.locator(".test-panel .banner-title").textContent()).resolves.toBe("Everything works.");
    // Each step was shown running, then done, one after the other, before the test returned.
    const seen = await page.evaluate(() => (window as unknown as { __steps: string[] }).__steps);
    for (const expected of [
      "running,pending,pending,pending,pending,pending",
      "ok,running,pending,pending,pending,pending",
      "ok,ok,running,pending,pending,pending",
      "ok,ok,ok,running,pending,pending",
      "ok,ok,ok,ok,running,pending",
      "ok,ok,ok,ok,ok,running",
      "ok,ok,ok,ok,ok,ok",
    ]) {
      expect(seen).toContain(expected);
    }
    // The server's folders are offered, hostile names as plain text.
    await expect(page.getByText(HOSTILE.img, { exact: true }).count()).resolves.toBe(1);
    await page.check("[data-folder=Newsletters]");

    await screenshotWholePage(page, join(ARTIFACTS, "add-account-hostile.png"));

    await page.click("[data-action=save]");
    await page.locator(".page-accounts").waitFor();
    await page.locator("[data-account=ana]").waitFor();

    const [save] = await calls(page, "save_account");
    expect(save).toMatchObject({
      originalId: null,
      password: "s3cret-pw",
      account: { id: "ana", name: "Ana's Work", host: "imap.example.com", port: 993, folders: ["INBOX", "Newsletters"] },
    });
    const [test] = await calls(page, "test_connection");
    expect(test).toMatchObject({ password: "s3cret-pw", originalId: null });
    // The password went to the "keyring" and never comes back in anything the UI reads.
    const settingsJson = await page.evaluate(() => JSON.stringify(window.__PUSHMAIL_FAKE__?.scenario.settings));
    expect(settingsJson).not.toContain("s3cret-pw");
    await expect(page.locator("body").textContent()).resolves.not.toContain("s3cret-pw");
  });

  it("a failed test shows where it stopped and what to do; hostile error text stays text", async () => {
    const o = await open("first-run");
    const { page } = o;
    await page.click("[data-action=manual]");
    await page.fill("input[name=name]", "Broken");
    await page.fill("input[name=host]", "unreachable.example");
    await page.fill("input[name=username]", "ana");
    await page.fill("input[name=password]", "pw");
    await page.click("[data-action=test]");
    await page.locator("[data-step=tcp][data-status=failed]").waitFor();
    await expect(page.locator("[data-step=tcp] .step-hint").textContent()).resolves.toContain(
      "Check the host name and port",
    );
    for (const later of ["tls", "login", "capabilities", "folders"]) {
      await expect(page.getAttribute(`[data-step=${later}]`, "data-status")).resolves.toBe("pending");
    }
    await expect(plain(await page.locator(".test-panel .banner-title").textContent())).toBe(
      "The test stopped at “Reach the server”.",
    );

    // Wrong password: the server's (hostile) words are shown verbatim, as text.
    await page.fill("input[name=host]", "imap.example.com");
    await page.fill("input[name=password]", "wrong");
    await page.click("[data-action=test]");
    await page.locator("[data-step=login][data-status=failed]").waitFor();
    await expect(page.locator("[data-step=login] .step-detail").textContent()).resolves.toBe(
      `login failed: [AUTHENTICATIONFAILED] ${HOSTILE.script}`,
    );
    await expect(page.locator("[data-step=login] .step-hint").textContent()).resolves.toContain("app password");

    // TLS failure with markup in the certificate text.
    await page.fill("input[name=host]", "selfsigned.example");
    await page.fill("input[name=password]", "pw");
    await page.click("[data-action=test]");
    await page.locator("[data-step=tls][data-status=failed]").waitFor();
    await expect(page.locator("[data-step=tls] .step-detail").textContent()).resolves.toContain(HOSTILE.img);

    // Missing required fields are marked before anything is sent.
    await page.fill("input[name=host]", "");
    await page.click("[data-action=save]");
    await expect(page.getAttribute("input[name=host]", "aria-invalid")).resolves.toBe("");
    expect(await calls(page, "save_account")).toEqual([]);
  });

  it("accounts show the tray's live state and unread counts", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.locator("[data-account=work] [data-state=push]").waitFor();
    await expect(plain(await page.locator("[data-account=work] .unread-pill").textContent())).toBe("3 unread");
    await expect(page.locator("[data-account=home] [data-state=auth_failed]").textContent()).resolves.toBe(
      "password rejected",
    );
    // The tray's detail (hostile on purpose) is text.
    await expect(page.locator("[data-account=home] .state-detail").textContent()).resolves.toBe(
      `Password rejected ${HOSTILE.img}`,
    );
    await expect(page.locator(".tray-line").textContent()).resolves.toBe("Pushmail is running");
    await page.screenshot({ path: join(ARTIFACTS, "accounts-hostile.png") });
  });

  it("removing an account asks first and also deletes its keyring entry", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-account=home] [data-action=remove]");
    await page.click("[data-account=home] [data-action=confirm-remove]");
    await page.locator("[data-account=home]").waitFor({ state: "detached" });
    expect(await calls(page, "remove_account")).toEqual([{ id: "home" }]);
    const keyring = await page.evaluate(() => [...(window.__PUSHMAIL_FAKE__?.keyring.keys() ?? [])]);
    expect(keyring).toEqual(["work"]);
  });

  it("folders are picked from the server's list, hostile names as text", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-page=folders]");
    await page.locator(".folder-list").waitFor();
    await expect(page.getByText(HOSTILE.img, { exact: true }).count()).resolves.toBe(1);
    await expect(page.getByText(HOSTILE.script, { exact: true }).count()).resolves.toBe(1);
    await expect(page.getByText("Entwürfe", { exact: true }).count()).resolves.toBe(1);
    // A folder that only holds others cannot be chosen.
    await expect(page.isDisabled("[data-folder=Lists]")).resolves.toBe(true);
    await expect(page.isDisabled("[data-action=save-folders]")).resolves.toBe(true);

    await page.uncheck('[data-folder="Lists/Rust"]');
    await page.check('[data-folder="Lists/Tauri"]');
    await page.check('[data-folder="Entwürfe"]');
    await expect(plain(await page.locator(".footer-note").textContent())).toBe("3 folders watched");
    await page.click("[data-action=save-folders]");
    await page.locator(".toast").waitFor();
    expect(await calls(page, "save_folders")).toEqual([{ id: "work", folders: ["INBOX", "Lists/Tauri", "Entwürfe"] }]);

    // One click: everything but Trash, Junk, Sent and Drafts (and the virtual All/Flagged); not saved yet.
    await page.click("[data-action=all-but-special]");
    await expect(plain(await page.locator(".form-footer .footer-note").textContent())).toBe("6 folders watched");
    await expect(page.isChecked('[data-folder="Sent"]')).resolves.toBe(false);
    await expect(page.isChecked('[data-folder="Entwürfe"]')).resolves.toBe(false);
    await expect(page.isChecked('[data-folder="Archive"]')).resolves.toBe(true);
    expect(await calls(page, "save_folders")).toHaveLength(1);

    // The other account, chosen from the picker.
    await page.selectOption("select[name=account]", "home");
    await page.locator("[data-folder=Family]").waitFor();
  });

  it("notification rules: quiet hours, VIP senders, per-account mute and preview", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-page=notifications]");
    await expect(page.isDisabled("input[name=quiet-start]")).resolves.toBe(true);
    await page.check("input[name=quiet-hours]");
    await page.fill("input[name=quiet-start]", "21:30");
    await page.fill("input[name=quiet-end]", "07:15");

    await page.fill("input[name=vip]", "not an address");
    await page.click("[data-action=add-vip]");
    await expect(page.locator(".field-error").textContent()).resolves.toContain("Enter an address like");
    await page.fill("input[name=vip]", "boss@example.com");
    await page.press("input[name=vip]", "Enter");
    await page.fill("input[name=vip]", "@family.example");
    await page.click("[data-action=add-vip]");
    await page.locator('[data-vip="@family.example"]').waitFor();

    await page.fill("input[name=summary-threshold]", "5");
    await page.check("tr[data-account=home] input[type=checkbox]");
    await page.selectOption("tr[data-account=work] select", "sender");
    await page.click("[data-action=save-rules]");
    await page.locator(".toast").waitFor();

    const [save] = await calls(page, "save_notification_rules");
    expect(save).toEqual({
      rules: {
        notifications: {
          enabled: true,
          quietHours: { start: "21:30", end: "07:15" },
          vip: ["boss@example.com", "@family.example"],
          summaryThreshold: 5,
          summaryWindowSecs: 10,
          notifyTimeoutSecs: 5,
          historySize: 50,
        },
        accounts: [
          { id: "work", mute: false, preview: "sender" },
          { id: "home", mute: true, preview: "full" },
        ],
      },
    });
  });

  it("activity shows hostile subjects and senders as text and each account's problem with what to do", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-page=activity]");
    await page.locator(".mail-list").waitFor();
    await expect(page.locator("[data-uid='42'] .mail-subject").textContent()).resolves.toBe(HOSTILE.script);
    await expect(page.locator("[data-uid='42'] .mail-from").textContent()).resolves.toBe(`Mallory ${HOSTILE.img}`);
    await expect(page.locator("[data-uid='42'] .mail-folder").textContent()).resolves.toBe(HOSTILE.svg);
    await expect(page.locator(".problem .problem-detail").textContent()).resolves.toBe(`login failed: ${HOSTILE.script}`);
    await expect(page.locator(".problem .step-hint").textContent()).resolves.toContain("app password");
  });

  it("activity: Open on a notification asks the tray to open that message, and says when it cannot", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-page=activity]");
    await page.locator(".mail-list").waitFor();
    await expect(page.locator("[data-uid='42'] [data-action=open-message]").textContent()).resolves.toBe("Open");
    await page.click("[data-uid='42'] [data-action=open-message]");
    await page.click("[data-uid='7'] [data-action=open-message]");
    await expect.poll(() => calls(page, "open_message")).toEqual([
      { account: "work", messageId: "42.mallory@work.example" },
      { account: "home", messageId: "" },
    ]);
    await expect(page.locator(".toast-error").count()).resolves.toBe(0);
    await page.evaluate(() => {
      const fake = window.__PUSHMAIL_FAKE__;
      if (fake) fake.openFailure = { kind: "tray", message: "No default mail application is set." };
    });
    await page.click("[data-uid='41'] [data-action=open-message]");
    await page.locator(".toast-error").waitFor();
    await expect(plain(await page.locator(".toast-error").textContent())).toBe(
      "The message could not be opened: No default mail application is set.",
    );
  });

  it("without a running tray, settings still work and it offers to start Pushmail", async () => {
    const o = await open("tray-stopped");
    const { page } = o;
    await page.locator(".banner-warning").waitFor();
    await expect(page.locator(".tray-line").textContent()).resolves.toBe("Pushmail is not running");
    await expect(page.locator("[data-account=work] .state").textContent()).resolves.toBe("No live state");
    await page.click("[data-action=start-tray]");
    await page.locator(".tray-running").waitFor();
    expect(await calls(page, "start_tray")).toHaveLength(1);
  });

  it("the language is applied at once and saved", async () => {
    const o = await open("rich");
    const { page } = o;
    await page.click("[data-page=general]");
    await page.selectOption("select[name=language]", "it");
    await expect(page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).resolves.toEqual(["it", "ltr"]);
    await expect(page.locator("h1").textContent()).resolves.toBe("Generale");
    await expect(page.locator("[data-page=accounts]").textContent()).resolves.toBe("Account");
    const [save] = await calls(page, "save_general");
    expect(save).toEqual({ general: { language: "it", openCommand: "" } });
  });

  /** What each language must show: translated strings a reader would look for. */
  const LOCALIZED = {
    ar: {
      dir: "rtl",
      general: "عام",
      accounts: "الحسابات",
      running: "يعمل Pushmail الآن",
      unread: { work: "3 رسائل غير مقروءة", home: "12 رسالة غير مقروءة" },
      polling: "يتحقق كل 300 ثانية",
      folders: "3 مجلدات",
      quiet: "لا إشعارات منبثقة من 22:00 حتى 07:00 صباح اليوم التالي.",
    },
    "zh-TW": {
      dir: "ltr",
      general: "一般",
      accounts: "帳號",
      running: "Pushmail 執行中",
      unread: { work: "3 封未讀", home: "12 封未讀" },
      polling: "每 300 秒檢查一次",
      folders: "3 個資料夾",
      quiet: "從 22:00 到隔天早上 07:00 不顯示彈出通知。",
    },
  } as const;

  for (const lang of ["ar", "zh-TW"] as const) {
    it(`switching to ${lang} in Settings → General re-lays the window at once; screenshot in ${lang}`, async () => {
      const want = LOCALIZED[lang];
      const o = await open(`localized-${lang}`);
      const { page } = o;
      await page.click("[data-page=general]");
      // Every language is offered by its own name.
      const names = await page.locator("select[name=language] option").allTextContents();
      expect(names.slice(1)).toEqual(["English", "Italiano", "繁體中文", "简体中文", "العربية"]);
      await page.selectOption("select[name=language]", lang);
      await expect(page.evaluate(() => [document.documentElement.lang, document.documentElement.dir])).resolves.toEqual([lang, want.dir]);
      await expect(page.locator("h1").textContent()).resolves.toBe(want.general);
      expect(await calls(page, "save_general")).toEqual([{ general: { language: lang, openCommand: "" } }]);

      // Quiet hours in words, the times as the language writes them.
      await page.click("[data-page=notifications]");
      await expect(plain(await page.locator(".quiet-summary").textContent())).toBe(want.quiet);

      await page.click("[data-page=accounts]");
      await page.locator("[data-account=work] [data-state=push]").waitFor();
      await page.locator("[data-account=home] [data-state=polling]").waitFor();
      await expect(page.locator("h1").textContent()).resolves.toBe(want.accounts);
      await expect(page.locator(".tray-line").textContent()).resolves.toBe(want.running);
      await expect(plain(await page.locator("[data-account=work] .unread-pill").textContent())).toBe(want.unread.work);
      await expect(plain(await page.locator("[data-account=home] .unread-pill").textContent())).toBe(want.unread.home);
      await expect(plain(await page.locator("[data-account=home] [data-state=polling]").textContent())).toBe(want.polling);
      await expect(plain(await page.locator("[data-account=work] .account-sub").textContent())).toContain(want.folders);

      const layout = await page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)?.getBoundingClientRect();
        const address = document.querySelector("[data-account=work] .account-address");
        return {
          sidebarRight: (box(".sidebar")?.left ?? 0) > (box(".content")?.left ?? 0),
          // The English address keeps its own direction inside the line around it…
          addressLtr: address?.matches(":dir(ltr)") ?? false,
          address: address?.textContent,
          // …and so do the server's English words in the detail line.
          detailLtr: document.querySelector("[data-account=uni] .state-detail")?.matches(":dir(ltr)") ?? false,
        };
      });
      expect(layout).toEqual({
        sidebarRight: lang === "ar",
        addressLtr: true,
        address: lang === "ar" ? "layla.haddad@example.com" : "chen.meiling@example.com.tw",
        detailLtr: true,
      });
      // The "Saved." toast from the language change has gone by the time anyone reads the page.
      await page.locator(".toast").waitFor({ state: "detached" });
      await expectNoTestVectors(page);
      await page.screenshot({ path: join(SCREENSHOTS, `settings-${lang}.png`) });
    });
  }
});

describe("the docs' screenshots: the demo's data, no test vectors", () => {
  it("accounts: Work and Home watched by push, with their unread counts", async () => {
    const o = await open("demo");
    const { page } = o;
    await page.locator("[data-account=work] [data-state=push]").waitFor();
    await page.locator("[data-account=home] [data-state=push]").waitFor();
    await expect(plain(await page.locator("[data-account=work] .unread-pill").textContent())).toBe("3 unread");
    await expect(plain(await page.locator("[data-account=home] .unread-pill").textContent())).toBe("2 unread");
    // Healthy: no problem line, no warning.
    await expect(page.locator(".state-detail, .banner").count()).resolves.toBe(0);
    await expect(page.locator(".tray-line").textContent()).resolves.toBe("Pushmail is running");
    await expectNoTestVectors(page);
    await page.screenshot({ path: join(SCREENSHOTS, "settings-accounts.png") });
  });

  it("add account: the test passes step by step and offers the server's folders", async () => {
    const o = await open("demo-first-run");
    const { page } = o;
    await page.click("[data-action=manual]");
    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "sam.rivera@company.example");
    await page.fill("input[name=host]", "imap.company.example");
    await page.fill("input[name=password]", "correct horse");
    await page.click("[data-action=test]");
    await page.locator("[data-step=folders][data-status=ok]").waitFor();
    await expect(page.locator(".test-panel .banner-title").textContent()).resolves.toBe("Everything works.");
    await page.check('[data-folder="Projects/Launch"]');
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-add-account.png"));

    await page.click("[data-action=save]");
    await page.locator("[data-account=sam-rivera]").waitFor();
    const [save] = await calls(page, "save_account");
    expect(save).toMatchObject({
      account: { id: "sam-rivera", name: "Work", host: "imap.company.example", folders: ["INBOX", "Projects/Launch"] },
    });
  });

  it("add account in sign-in mode: Sign in with Google, the page's address to copy while the browser is open", async () => {
    const o = await open("demo-first-run");
    const { page } = o;
    await page.click("[data-action=manual]");
    await page.fill("input[name=name]", "Personal");
    await page.fill("input[name=email]", "sam.rivera@gmail.com");
    await page.press("input[name=email]", "Tab");
    await expect(page.locator("select[name=signin-method]").inputValue()).resolves.toBe("google");
    await expect(page.inputValue("input[name=host]")).resolves.toBe("imap.gmail.com");
    await expect(page.locator("input[name=password]").isVisible()).resolves.toBe(false);
    await page.click("[data-action=sign-in]");
    await page.locator("input[name=signin-url]").waitFor();
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-signin.png"));

    await page.evaluate(() => window.__PUSHMAIL_FAKE__?.approveSignIn());
    await page.locator("[data-step=folders][data-status=ok]").waitFor();
    const [signIn] = await calls(page, "sign_in");
    expect(signIn).toMatchObject({ originalId: null, account: { id: "sam-rivera", oauthProvider: "google", passwordCommand: "" } });
    expect(await calls(page, "save_account")).toEqual([]);
  });

  it("add account from the address: found, where from, password, test, saved", async () => {
    const o = await open("demo-first-run");
    const { page } = o;
    await expect(page.locator("h1").textContent()).resolves.toBe("Add account");
    await page.fill("input[name=name]", "Work");
    await page.fill("input[name=email]", "sam.rivera@company.example");
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-add-address.png"));

    // Enter continues, like the button.
    await page.press("input[name=email]", "Enter");
    await page.locator(".found-summary").waitFor();
    const row = async (key: string) => plain(await page.locator(`[data-found=${key}] dd`).textContent());
    await expect(row("host")).resolves.toBe("imap.company.example");
    await expect(row("port")).resolves.toBe("993");
    await expect(row("source")).resolves.toBe("from company.example's own configuration");
    await expect(page.locator("input[name=password]").isVisible()).resolves.toBe(false);
    await expect(page.locator("input[name=id]").isVisible()).resolves.toBe(false);
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-add-found.png"));

    await page.click("[data-action=continue]");
    await page.fill("input[name=password]", "correct horse");
    await page.click("[data-action=test-save]");
    await page.locator("[data-account=sam-rivera]").waitFor();
    const [test] = await calls(page, "test_connection");
    expect(test).toMatchObject({ originalId: null, password: "correct horse", account: { host: "imap.company.example" } });
    const [save] = await calls(page, "save_account");
    expect(save).toMatchObject({
      originalId: null,
      password: "correct horse",
      account: { id: "sam-rivera", name: "Work", email: "sam.rivera@company.example", host: "imap.company.example", username: "sam.rivera@company.example" },
    });
    expect(await calls(page, "apply_discovered")).toEqual([{ id: "sam-rivera" }]);
  });

  it("add account from the address: nothing found opens the whole form with the address", async () => {
    const o = await open("demo-first-run");
    const { page } = o;
    await page.fill("input[name=name]", "Lab");
    await page.fill("input[name=email]", "sam@lab.invalid");
    await page.click("[data-action=continue]");
    await page.locator(".not-found").waitFor();
    await expect(plain(await page.locator(".not-found").textContent())).toBe("No settings found for lab.invalid. Enter the server by hand.");
    await expect(page.inputValue("input[name=email]")).resolves.toBe("sam@lab.invalid");
    await expect(page.inputValue("input[name=username]")).resolves.toBe("sam@lab.invalid");
    await expect(page.inputValue("input[name=host]")).resolves.toBe("");
    await page.fill("input[name=host]", "imap.lab.invalid");
    await page.fill("input[name=password]", "pw");
    await page.click("[data-action=save]");
    await page.locator("[data-account=sam]").waitFor();
    expect(await calls(page, "apply_discovered")).toEqual([]);
  });

  it("add account from the address, in Arabic: what was found reads right to left", async () => {
    const o = await open("demo-first-run", "ar");
    const { page } = o;
    await expect(page.evaluate(() => document.documentElement.dir)).resolves.toBe("rtl");
    await page.fill("input[name=name]", "العمل");
    await page.fill("input[name=email]", "layla.haddad@company.example");
    await page.click("[data-action=continue]");
    await page.locator(".found-summary").waitFor();
    await expect(plain(await page.locator("[data-found=source] dd").textContent())).toBe("من الإعدادات التي ينشرها company.example بنفسه");
    const layout = await page.evaluate(() => {
      const box = (selector: string) => document.querySelector(selector)?.getBoundingClientRect();
      return {
        // The labels on the right, the values to their left, the host in its own direction.
        labelsRight: (box("[data-found=host] dt")?.left ?? 0) > (box("[data-found=host] dd")?.left ?? 0),
        hostLtr: document.querySelector("[data-found=host] dd span")?.matches(":dir(ltr)") ?? false,
      };
    });
    expect(layout).toEqual({ labelsRight: true, hostLtr: true });
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-add-found-ar.png"));
  });

  it("activity: the demo's mail in English, Italian, Arabic and Chinese, and no problems", async () => {
    const o = await open("demo");
    const { page } = o;
    await page.click("[data-page=activity]");
    await page.locator(".mail-list").waitFor();
    await expect(page.locator(".mail-subject").allTextContents()).resolves.toEqual([
      "Nightly build passed ✔",
      "Riunione spostata a giovedì",
      "تم تأكيد الحجز",
      "会议改到明天上午十点",
      "Welcome to Pushmail — this arrived by push",
    ]);
    await expect(page.locator(".problem").count()).resolves.toBe(0);
    await expect(plain(await page.locator(".mail .when").first().textContent())).toBe("2 minutes ago");
    await expectNoTestVectors(page);
    await page.screenshot({ path: join(SCREENSHOTS, "settings-activity.png") });
  });

  it("notifications: quiet hours overnight, VIP senders, per-account preview", async () => {
    const o = await open("demo");
    const { page } = o;
    await page.click("[data-page=notifications]");
    await expect(page.inputValue("input[name=quiet-start]")).resolves.toBe("22:00");
    await expect(plain(await page.locator(".quiet-summary").textContent())).toBe(
      "No popups from 22:00 until 07:00 the next morning.",
    );
    await page.locator('[data-vip="giulia@example.it"]').waitFor();
    await page.locator('[data-vip="@company.example"]').waitFor();
    await expectNoTestVectors(page);
    await screenshotWholePage(page, join(SCREENSHOTS, "settings-notifications.png"));
  });
});
