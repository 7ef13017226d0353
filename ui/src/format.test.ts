import { readFileSync } from "node:fs";
import { join } from "node:path";

import { describe, expect, it } from "vitest";

import { delayWithin, formatClock, formatDateTime, formatWhen, intlLocale, isOvernight } from "./format";
import { CATALOGS } from "./i18n";

interface Samples {
  moment: { year: number; month: number; day: number; hour: number; minute: number };
  numbers: number[];
  expected: Record<string, { time: string; dateTime: string; numbers: string[] }>;
}

/** The samples the tray's Rust formatter is tested against too. */
const samples = JSON.parse(readFileSync(join(__dirname, "../../locales/format-samples.json"), "utf8")) as Samples;

/** ICU versions differ in which space they put between date and time (U+0020, U+2009, U+202F). */
const spaces = (s: string) => s.replace(/[\u00a0\u2009\u202f]/g, " ");

describe("dates and times for the chosen language", () => {
  it("writes what the tray writes, for every catalog language", () => {
    const { year, month, day, hour, minute } = samples.moment;
    const moment = new Date(Date.UTC(year, month - 1, day, hour, minute));
    for (const lang of CATALOGS.keys()) {
      const want = samples.expected[lang];
      expect(want, `${lang} has samples`).toBeDefined();
      const locale = intlLocale(lang);
      expect(formatClock(`${hour}:${String(minute).padStart(2, "0")}`, lang)).toBe(want?.time);
      const dateTime = new Intl.DateTimeFormat(locale, {
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZone: "UTC",
      }).format(moment);
      expect(spaces(dateTime), lang).toBe(want?.dateTime);
      expect(samples.numbers.map((n) => new Intl.NumberFormat(locale).format(n)), lang).toEqual(want?.numbers);
    }
  });

  it("uses the 24-hour clock and Latin digits in every language, Arabic included", () => {
    expect(formatClock("22:00", "en")).toBe("22:00");
    expect(formatClock("7:30", "ar")).toBe("07:30");
    expect(formatClock("07:00", "zh-TW")).toBe("07:00");
    expect(intlLocale("ar")).toBe("ar-u-nu-latn");
    expect(intlLocale("zh-TW")).toBe("zh-TW");
    expect(formatClock("nonsense", "it")).toBe("nonsense");
  });

  it("knows quiet hours that run over midnight", () => {
    expect(isOvernight("22:00", "07:00")).toBe(true);
    expect(isOvernight("12:00", "14:00")).toBe(false);
    expect(isOvernight("09:00", "09:00")).toBe(true);
  });

  it("says how long ago for recent events, the date and time for older ones", () => {
    const now = Date.UTC(2025, 10, 22, 12, 0);
    const s = (ms: number) => (now - ms) / 1000;
    expect(formatWhen(s(20_000), "en", now)).toBe("now");
    expect(formatWhen(s(5 * 60_000), "en", now)).toBe("5 minutes ago");
    expect(formatWhen(s(5 * 60_000), "it", now)).toBe("5 minuti fa");
    expect(formatWhen(s(5 * 60_000), "zh-TW", now)).toBe("5 分鐘前");
    expect(formatWhen(s(2 * 3_600_000), "ar", now)).toBe("قبل ساعتين");
    expect(formatWhen("2025-11-20T09:15:00Z", "en", now, "UTC")).toBe(spaces(formatDateTime(new Date("2025-11-20T09:15:00Z"), "en", "UTC")));
    expect(spaces(formatWhen("2025-11-20T09:15:00Z", "it", now, "UTC"))).toBe("20 nov 2025, 09:15");
    expect(spaces(formatWhen("2025-11-20T09:15:00Z", "zh-CN", now, "UTC"))).toBe("2025年11月20日 09:15");
    expect(formatWhen(null, "en", now)).toBe("");
    expect(formatWhen("not a date", "en", now)).toBe("not a date");
  });
});

describe("how late a notification was", () => {
  it("says no more than a server clock with whole seconds can know, rounded up", () => {
    // Below a second is "within a second", never "0.4 s"; above, whole units rounded up.
    expect(delayWithin(0)).toEqual({ unit: "seconds", count: 1 });
    expect(delayWithin(412)).toEqual({ unit: "seconds", count: 1 });
    expect(delayWithin(1_000)).toEqual({ unit: "seconds", count: 1 });
    expect(delayWithin(1_001)).toEqual({ unit: "seconds", count: 2 });
    expect(delayWithin(59_000)).toEqual({ unit: "seconds", count: 59 });
    expect(delayWithin(59_001)).toEqual({ unit: "minutes", count: 1 });
    expect(delayWithin(95_000)).toEqual({ unit: "minutes", count: 2 });
    expect(delayWithin(3_540_001)).toEqual({ unit: "hours", count: 1 });
    expect(delayWithin(86_400_000)).toEqual({ unit: "hours", count: 24 });
  });

  it("says nothing for what clock skew makes of it", () => {
    for (const ms of [-1, 86_400_001, Number.NaN, Number.POSITIVE_INFINITY, null, undefined]) {
      expect(delayWithin(ms), String(ms)).toBeNull();
    }
  });
});
