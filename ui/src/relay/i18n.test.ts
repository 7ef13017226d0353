import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it, vi } from "vitest";

import { CATALOGS } from "../i18n";
import { DETAILS, SECURITIES } from "./api";
import { APP_CATALOGS, LANGUAGES, pickLanguage, RELAY_CATALOGS, relayI18n } from "./i18n";
import { SIGNIN_FAILURES } from "./signin";

const plain = (s: string) => s.replace(/[\u2068\u2069]/g, "");
const keysOf = (text: string) => [...text.matchAll(/^([a-z][a-z0-9_-]*) =/gm)].map((m) => m[1] ?? "");

describe("relay i18n", () => {
  it("has relay.ftl for the five languages, each with every English key, all prefixed relay-", () => {
    expect([...RELAY_CATALOGS.keys()].sort()).toEqual([...LANGUAGES].sort());
    const english = keysOf(RELAY_CATALOGS.get("en") ?? "");
    expect(english.length).toBeGreaterThan(60);
    expect(english.filter((k) => !k.startsWith("relay-"))).toEqual([]);
    for (const lang of LANGUAGES) {
      const keys = keysOf(RELAY_CATALOGS.get(lang) ?? "");
      expect(keys, lang).toEqual(english);
    }
    // No relay key collides with the shared catalog.
    const shared = new Set(keysOf(CATALOGS.get("en") ?? ""));
    expect(english.filter((k) => shared.has(k))).toEqual([]);
  });

  it("every catalog (shared + relay) parses without errors", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    for (const lang of APP_CATALOGS.keys()) relayI18n(lang);
    expect(warn).not.toHaveBeenCalled();
  });

  it("every key the relay app uses exists in English", () => {
    const en = relayI18n("en");
    const literal = new Set<string>();
    for (const file of readdirSync(__dirname).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
      for (const m of readFileSync(join(__dirname, file), "utf8").matchAll(/\bt\(\s*"([a-z0-9_-]+)"/g)) literal.add(m[1] ?? "");
    }
    expect(literal.size).toBeGreaterThan(40);
    const dynamic = [
      ...DETAILS.flatMap((d) => [`relay-detail-${d}`, `relay-detail-short-${d}`]),
      ...SECURITIES.map((s) => `settings-security-${s}`),
      ...LANGUAGES.map((l) => `language-name-${l}`),
      ...["mailboxes", "add-mailbox", "devices", "webhooks"].map((p) => `relay-title-${p}`),
      ...["denied", "unsupported", "failed"].map((k) => `relay-push-${k}`),
      // The codes of crates/relay/src/api/ the app has a headline for.
      ...[
        "auth_failed",
        "unreachable",
        "tls_failed",
        "connect_failed",
        "host_not_allowed",
        "bad_field",
        "missing_field",
        "bad_port",
        "bad_host",
        "bad_security",
        "unknown_provider",
        "limit",
        "not_found",
        "signin_unavailable",
        "not_signin",
      ].map((c) => `relay-error-${c}`),
      // How a sign-in at a provider came back (signin.ts).
      ...SIGNIN_FAILURES.map((c) => `relay-oauth-failed-${c}`),
      ...["starting", "watching", "connecting", "auth_failed", "unreachable", "error", "backoff", "disabled"].map((s) => `relay-state-${s}`),
      // The shared catalog's, as the settings window says them.
      "state-signin_required",
    ];
    expect([...literal, ...dynamic].filter((key) => !en.has(key))).toEqual([]);
  });

  it("reads the same field names as the settings window's account form, in every language", () => {
    for (const lang of LANGUAGES) {
      const i18n = relayI18n(lang);
      expect(i18n.lang).toBe(lang);
      expect(i18n.has("settings-field-host")).toBe(true);
    }
    expect(relayI18n("en").t("cli-testing")).toBe("Testing the connection…");
    expect(plain(relayI18n("it").t("relay-mailbox-added", { name: "Lavoro" }))).toBe("Lavoro aggiunta.");
    expect(relayI18n("ar").dir).toBe("rtl");
    expect(relayI18n("zh-TW").dir).toBe("ltr");
  });

  it("picks the first of the browser's languages it speaks", () => {
    expect(pickLanguage(["it-CH", "en"])).toBe("it");
    expect(pickLanguage(["fr-FR", "ar-EG", "en"])).toBe("ar");
    expect(pickLanguage(["zh-HK"])).toBe("zh-TW");
    expect(pickLanguage(["zh-Hant"])).toBe("zh-TW");
    expect(pickLanguage(["zh"])).toBe("zh-CN");
    expect(pickLanguage(["en-GB", "it"])).toBe("en");
    expect(pickLanguage(["de", "fr"])).toBe("en");
    expect(pickLanguage([])).toBe("en");
  });
});
