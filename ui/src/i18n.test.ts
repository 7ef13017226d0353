import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it, vi } from "vitest";

import { CATALOGS, I18n, negotiate } from "./i18n";
import type { ErrorKind } from "./ipc";
import { LANGUAGES, PREVIEWS, PROTOCOLS, SECURITIES, STEPS } from "./types";

const plain = (s: string) => s.replace(/[\u2068\u2069]/g, "");

describe("i18n", () => {
  it("loads the shared catalogs from /locales", () => {
    expect(CATALOGS.has("en")).toBe(true);
    expect(CATALOGS.get("en")).toContain("app-name = Pushmail");
  });

  it("negotiates like the core: exact, Chinese by script or region, base language, English", () => {
    const have = ["en", "it", "zh-TW", "zh-CN", "ar"];
    expect(negotiate("it", "en", have)).toBe("it");
    expect(negotiate("auto", "zh_HK", have)).toBe("zh-TW");
    expect(negotiate("auto", "zh-Hant", have)).toBe("zh-TW");
    expect(negotiate("auto", "zh", have)).toBe("zh-CN");
    expect(negotiate("auto", "zh-SG", have)).toBe("zh-CN");
    expect(negotiate("auto", "ar-EG", have)).toBe("ar");
    expect(negotiate("auto", "fr-FR", have)).toBe("en");
    expect(negotiate("de", "it", have)).toBe("en");
    expect(negotiate("zh-TW", "en", ["en"])).toBe("en");
  });

  it("formats with arguments and plurals, falls back to the id for unknown keys", () => {
    const i18n = new I18n("en");
    expect(plain(i18n.t("settings-account-unread", { count: 1 }))).toBe("1 unread");
    expect(plain(i18n.t("settings-account-unread", { count: 12 }))).toBe("12 unread");
    expect(plain(i18n.t("settings-account-unread", { count: 0 }))).toBe("No unread mail");
    expect(i18n.t("no-such-key")).toBe("no-such-key");
    expect(i18n.has("state-push")).toBe(true);
  });

  it("negotiates regional variants to the catalog a reader of that region expects", () => {
    // With the catalogs actually shipped, not a list made up for the test.
    expect([...CATALOGS.keys()].sort()).toEqual(["ar", "en", "it", "zh-CN", "zh-TW"]);
    expect(negotiate("auto", "zh-HK")).toBe("zh-TW");
    expect(negotiate("auto", "zh_MO")).toBe("zh-TW");
    expect(negotiate("auto", "zh-Hant-CN")).toBe("zh-TW");
    expect(negotiate("auto", "zh-SG")).toBe("zh-CN");
    expect(negotiate("auto", "zh-Hans")).toBe("zh-CN");
    expect(negotiate("auto", "it-CH")).toBe("it");
    expect(negotiate("auto", "it_IT")).toBe("it");
    expect(negotiate("auto", "ar-MA")).toBe("ar");
    expect(negotiate("auto", "en-GB")).toBe("en");
    // An explicit choice wins over the system.
    expect(negotiate("zh-TW", "it-IT")).toBe("zh-TW");
  });

  it("sets lang and dir on the document; Arabic is right to left, the others left to right", () => {
    for (const [lang, dir] of [["ar", "rtl"], ["zh-TW", "ltr"], ["zh-CN", "ltr"], ["it", "ltr"], ["en", "ltr"]] as const) {
      const i18n = new I18n(lang);
      i18n.applyTo(document);
      expect([document.documentElement.lang, document.documentElement.dir]).toEqual([lang, dir]);
    }
    new I18n("en").applyTo(document);
  });

  it("Arabic has six plural forms: 0, 1, 2, 3, 11 and 100 messages each read differently", () => {
    const ar = new I18n("ar");
    const forms = [0, 1, 2, 3, 11, 100].map((count) => plain(ar.t("tray-unread-total", { count })));
    expect(forms).toEqual([
      "لا توجد رسائل غير مقروءة",
      "رسالة واحدة غير مقروءة",
      "رسالتان غير مقروءتين",
      "3 رسائل غير مقروءة",
      "11 رسالة غير مقروءة",
      "100 رسالة غير مقروءة",
    ]);
    expect(new Set(forms).size).toBe(6);
    // CLDR: n % 100 in 3..10 is "few", in 11..99 "many" — so 103 and 111 too.
    expect(plain(ar.t("settings-account-folders", { count: 103 }))).toBe("103 مجلدات");
    expect(plain(ar.t("settings-account-folders", { count: 111 }))).toBe("111 مجلدًا");
    // Latin digits, the same as the tray writes them (pinned: older ICU defaults to ١٢٣).
    expect(plain(ar.t("settings-account-unread", { count: 1234 }))).toBe("1,234 رسالة غير مقروءة");
  });

  it("Italian has one/other, Chinese one form; numbers are grouped as each language does", () => {
    const it_ = new I18n("it");
    expect(plain(it_.t("settings-account-unread", { count: 1 }))).toBe("1 non letto");
    expect(plain(it_.t("settings-account-unread", { count: 2 }))).toBe("2 non letti");
    expect(plain(it_.t("settings-account-unread", { count: 12345 }))).toBe("12.345 non letti");
    const tw = new I18n("zh-TW");
    expect(plain(tw.t("settings-account-unread", { count: 1 }))).toBe("1 封未讀");
    expect(plain(tw.t("settings-account-unread", { count: 0 }))).toBe("沒有未讀郵件");
    expect(plain(new I18n("zh-CN").t("settings-account-folders", { count: 2 }))).toBe("2 个文件夹");
  });

  it("a key a translation lacks is shown in English", () => {
    const partial = new Map([
      ["en", "greeting = Hello\nfarewell = Goodbye, { $name }\n"],
      ["it", "greeting = Ciao\n"],
    ]);
    const it_ = new I18n("it", partial);
    expect(it_.t("greeting")).toBe("Ciao");
    expect(plain(it_.t("farewell", { name: "Ana" }))).toBe("Goodbye, Ana");
    expect(it_.has("farewell")).toBe(true);
    // Every English key reads as something (its translation or English) in every language.
    const keys = [...(CATALOGS.get("en") ?? "").matchAll(/^([a-z][a-z0-9_-]*) =/gm)].map((m) => m[1] ?? "");
    expect(keys.length).toBeGreaterThan(200);
    for (const lang of CATALOGS.keys()) {
      const i18n = new I18n(lang);
      expect(keys.filter((key) => !i18n.has(key))).toEqual([]);
    }
  });

  it("every catalog parses without errors", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    for (const lang of CATALOGS.keys()) new I18n(lang);
    expect(warn).not.toHaveBeenCalled();
  });

  it("every key the UI uses exists in the English catalog", () => {
    const en = new I18n("en");
    const dir = join(__dirname);
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        // relay/ is the relay's web app, with its own catalog (relay.ftl): relay/i18n.test.ts.
        e.isDirectory() ? (e.name === "testing" || e.name === "relay" ? [] : files(join(d, e.name))) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(d, e.name)] : [],
      );
    const literal = new Set<string>();
    for (const file of files(dir)) {
      for (const m of readFileSync(file, "utf8").matchAll(/\bt\(\s*"([a-z0-9-]+)"/g)) literal.add(m[1] ?? "");
    }
    expect(literal.size).toBeGreaterThan(50);
    const kinds: ErrorKind[] = ["invalid", "config_unreadable", "config_write", "not_found", "keyring", "connect", "tray_not_running", "tray", "spawn", "io", "internal"];
    const dynamic = [
      ...kinds.map((k) => `settings-error-${k}`),
      ...STEPS.map((s) => `settings-test-step-${s}`),
      ...SECURITIES.map((s) => `settings-security-${s}`),
      ...PROTOCOLS.map((p) => `settings-protocol-${p}`),
      ...PREVIEWS.map((p) => `settings-preview-${p}`),
      ...["default", "url", "command"].map((k) => `settings-open-${k}`),
      ...["accounts", "folders", "notifications", "general", "activity"].map((s) => `settings-nav-${s}`),
      ...LANGUAGES.filter((l) => l !== "auto").map((l) => `language-name-${l}`),
      ...["all", "archive", "drafts", "flagged", "junk", "sent", "trash"].map((s) => `settings-folder-special-${s}`),
      ...["connecting", "push", "polling", "backoff", "error", "auth_failed", "stopped", "disabled"].map((s) => `state-${s}`),
    ];
    const missing = [...literal, ...dynamic].filter((key) => !en.has(key));
    expect(missing).toEqual([]);
  });
});
