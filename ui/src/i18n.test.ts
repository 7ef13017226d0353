import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { CATALOGS, I18n, negotiate } from "./i18n";
import type { ErrorKind } from "./ipc";
import { LANGUAGES, PREVIEWS, SECURITIES, STEPS } from "./types";

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

  it("sets lang and dir on the document; Arabic is right to left", () => {
    new I18n("en").applyTo(document);
    expect([document.documentElement.lang, document.documentElement.dir]).toEqual(["en", "ltr"]);
    const arabic = new I18n("ar");
    // Without an Arabic catalog the UI stays English and left to right.
    expect(arabic.dir).toBe(CATALOGS.has("ar") ? "rtl" : "ltr");
  });

  it("every key the UI uses exists in the English catalog", () => {
    const en = new I18n("en");
    const dir = join(__dirname);
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === "testing" ? [] : files(join(d, e.name))) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(d, e.name)] : [],
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
