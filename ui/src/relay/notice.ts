// What the service worker shows for a push: the payload the relay sends (already localised by
// the server) → the arguments of `registration.showNotification`. Pure, so it is unit-tested;
// relay-sw.js (sw.ts) only wires it to the events.
//
// Payload, version 1: {"v":1, "kind":"mail"|"test", "tag", "title", "body", "account"?,
// "from"?, "subject"?, "url"?}. Anything missing or unreadable still gives a notice: Chrome
// requires one per push for a `userVisibleOnly` subscription.

export interface NoticeOptions {
  body: string;
  /** One message, one tag: a repeated push for it replaces the notice instead of adding one. */
  tag: string;
  renotify: false;
  icon: string;
  badge: string;
  lang?: string;
  data: { url: string };
}

export interface Notice {
  title: string;
  options: NoticeOptions;
}

/** The words of the fallback notice, by language, for a push without a usable payload. */
const FALLBACK: Record<string, { mail: string; test: string }> = {
  en: { mail: "New mail", test: "Test notice from Pushmail" },
  it: { mail: "Nuova posta", test: "Notifica di prova da Pushmail" },
  "zh-CN": { mail: "新邮件", test: "来自 Pushmail 的测试通知" },
  "zh-TW": { mail: "新郵件", test: "來自 Pushmail 的測試通知" },
  ar: { mail: "بريد جديد", test: "إشعار تجريبي من Pushmail" },
};

/** The fallback texts for a browser language ("zh-Hant-HK" → zh-TW, "ar-EG" → ar, else en). */
export function fallbackTexts(language: string): { mail: string; test: string } {
  const lower = language.toLowerCase().replace(/_/g, "-");
  const parts = lower.split("-");
  if (parts[0] === "zh") {
    return ["hant", "tw", "hk", "mo"].some((p) => parts.includes(p)) ? FALLBACK["zh-TW"]! : FALLBACK["zh-CN"]!;
  }
  return FALLBACK[parts[0] ?? ""] ?? FALLBACK.en!;
}

const MAX_TITLE = 200;
const MAX_BODY = 1000;

function text(value: unknown, max: number): string {
  if (typeof value !== "string") return "";
  const trimmed = value.trim();
  return trimmed.length > max ? `${trimmed.slice(0, max - 1)}…` : trimmed;
}

/**
 * Where a click on the notice goes: the payload's `url` when it is the app's own origin or an
 * https page (a webmail), never javascript:, data: or the like; otherwise the app.
 */
export function safeUrl(value: unknown, appUrl: string): string {
  if (typeof value !== "string" || value.trim() === "") return appUrl;
  try {
    const url = new URL(value, appUrl);
    const app = new URL(appUrl);
    if (url.origin === app.origin || url.protocol === "https:") return url.href;
  } catch {
    // Not a URL: the app.
  }
  return appUrl;
}

/**
 * The notice for a push payload. `raw` is the parsed JSON (or null when there was none or it did
 * not parse); `appUrl` the service worker's scope; `icon` the app icon's URL.
 */
export function noticeFor(raw: unknown, context: { appUrl: string; icon: string; language: string }): Notice {
  const payload = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const words = fallbackTexts(context.language);
  const kind = payload.kind === "test" ? "test" : "mail";
  const account = text(payload.account, MAX_TITLE);
  const from = text(payload.from, MAX_TITLE);
  const subject = text(payload.subject, MAX_BODY);
  const given = text(payload.title, MAX_TITLE);
  const title = given || (kind === "test" ? words.test : account ? `${words.mail} · ${account}` : words.mail);
  // The relay titles a mail notice with the mailbox's name; with no detail ("just new mail in
  // Work") the body says what happened.
  const body =
    text(payload.body, MAX_BODY) || [from, subject].filter((s) => s !== "").join("\n") || (kind === "mail" && given !== "" ? words.mail : "");
  const tag = text(payload.tag, 256) || `pushmail-${kind}`;
  return {
    title,
    options: {
      body,
      tag,
      renotify: false,
      icon: context.icon,
      badge: context.icon,
      data: { url: safeUrl(payload.url, context.appUrl) },
    },
  };
}

/** The payload of a push message: its JSON, or null (no data, not JSON). */
export function readPayload(data: { json(): unknown } | null | undefined): unknown {
  if (!data) return null;
  try {
    return data.json();
  } catch {
    return null;
  }
}
