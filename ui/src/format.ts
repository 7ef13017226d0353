// Times and dates as the chosen language writes them, through Intl. The 24-hour clock in every
// language and Latin digits (pinned for Arabic, which older ICU versions write with
// Arabic-Indic ones) — the same output as the tray's formatter in crates/core/src/i18n.rs; both
// are checked against locales/format-samples.json.

import type { Timestamp } from "./types";

/** The locale to give Intl for a catalog language: Arabic pinned to Latin digits. */
export function intlLocale(lang: string): string {
  return lang.split("-")[0] === "ar" ? `${lang}-u-nu-latn` : lang;
}

/** "HH:MM" of the configuration (quiet hours) → the time of day as `lang` writes it. */
export function formatClock(hhmm: string, lang: string): string {
  const match = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
  if (match === null) return hhmm;
  const at = new Date(Date.UTC(2000, 0, 1, Number(match[1]), Number(match[2])));
  if (Number.isNaN(at.getTime())) return hhmm;
  return new Intl.DateTimeFormat(intlLocale(lang), {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: "UTC",
  }).format(at);
}

/** Whether quiet hours from `start` to `end` run over midnight (22:00 → 07:00). */
export function isOvernight(start: string, end: string): boolean {
  const minutes = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    return (h ?? 0) * 60 + (m ?? 0);
  };
  return minutes(end) <= minutes(start);
}

/** Unix seconds or an RFC 3339 text → a Date; null if unknown or unreadable. */
export function toDate(at: Timestamp): Date | null {
  const date = typeof at === "number" ? new Date(at * 1000) : typeof at === "string" ? new Date(at) : null;
  return date === null || Number.isNaN(date.getTime()) ? null : date;
}

/** A date and time in full: "Nov 22, 2025, 09:15", "22 nov 2025, 09:15", "2025年11月22日 09:15". */
export function formatDateTime(date: Date, lang: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(intlLocale(lang), {
    dateStyle: "medium",
    timeStyle: "short",
    hourCycle: "h23",
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A delay as the UI says it: "within `count` `unit`". */
export interface DelayWithin {
  unit: "seconds" | "minutes" | "hours";
  count: number;
}

/**
 * How late a notification was, said no more precisely than it is known. `delay_ms` is
 * measured from the server's INTERNALDATE, which has whole seconds, so it is up to a second
 * more than the true delay: the honest reading is an upper bound, rounded up — "within 1
 * second" below 1 s (never "0.4 s"), then whole seconds, minutes, hours. null for what is not a
 * plausible delay (negative, over a day: clocks that disagree), as the tray already decided.
 */
export function delayWithin(ms: number | null | undefined): DelayWithin | null {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0 || ms > DAY) return null;
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return { unit: "seconds", count: seconds };
  const minutes = Math.ceil(ms / MINUTE);
  if (minutes < 60) return { unit: "minutes", count: minutes };
  return { unit: "hours", count: Math.ceil(ms / HOUR) };
}

/**
 * When something happened, for a list of recent events: "now", "5 minutes ago", "3 hours ago"
 * within the last six hours (Intl.RelativeTimeFormat), else the date and time in full.
 */
export function formatWhen(at: Timestamp, lang: string, now: number = Date.now(), timeZone?: string): string {
  const date = toDate(at);
  if (date === null) return typeof at === "string" ? at : "";
  const ago = now - date.getTime();
  const relative = new Intl.RelativeTimeFormat(intlLocale(lang), { numeric: "auto" });
  if (ago >= 0 && ago < MINUTE) return relative.format(0, "second");
  if (ago >= 0 && ago < HOUR) return relative.format(-Math.floor(ago / MINUTE), "minute");
  if (ago >= 0 && ago < 6 * HOUR) return relative.format(-Math.floor(ago / HOUR), "hour");
  return formatDateTime(date, lang, timeZone);
}
