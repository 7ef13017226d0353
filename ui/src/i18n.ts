// Localised strings from the shared Fluent catalogs in /locales/<lang>/pushmail.ftl — the same
// files the tray and the CLI compile in. Vite copies their text into the bundle (`?raw`), so
// there is one source of truth and no string is duplicated in TypeScript.

import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";

import { intlLocale } from "./format";

const sources = import.meta.glob<string>("../../locales/*/pushmail.ftl", {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Language tag → catalog text, for every catalog present at build time. */
export const CATALOGS: ReadonlyMap<string, string> = new Map(
  Object.entries(sources).flatMap(([path, text]) => {
    const tag = /locales\/([^/]+)\/pushmail\.ftl$/.exec(path)?.[1];
    return tag === undefined ? [] : [[tag, text] as [string, string]];
  }),
);

export const FALLBACK = "en";

/** Scripts written right to left. */
const RTL = new Set(["ar", "he", "fa", "ur"]);

/**
 * The best catalog for `requested` ("auto" = `system`), by the same rules as the core's
 * `i18n::negotiate`: exact tag, then Chinese by script/region (Hant/TW/HK/MO → zh-TW, other
 * zh → zh-CN), then the bare language, then English.
 */
export function negotiate(
  requested: string,
  system: string,
  available: Iterable<string> = CATALOGS.keys(),
): string {
  const tags = [...available];
  const tag = (requested.toLowerCase() === "auto" ? system : requested).replace(/_/g, "-");
  const lower = tag.toLowerCase();
  const find = (t: string) => tags.find((c) => c.toLowerCase() === t.toLowerCase());
  const exact = find(lower);
  if (exact !== undefined) return exact;
  const parts = lower.split("-");
  if (parts[0] === "zh") {
    const traditional = ["hant", "tw", "hk", "mo"].some((m) => parts.includes(m));
    const chinese = find(traditional ? "zh-TW" : "zh-CN");
    if (chinese !== undefined) return chinese;
  }
  return find(parts[0] ?? "") ?? FALLBACK;
}

export type Args = Record<string, FluentVariable>;

export class I18n {
  readonly lang: string;
  readonly dir: "ltr" | "rtl";
  private readonly bundles: FluentBundle[];

  /** `catalogs` is for tests; the app uses the shipped ones. */
  constructor(lang: string, catalogs: ReadonlyMap<string, string> = CATALOGS) {
    this.lang = catalogs.has(lang) ? lang : FALLBACK;
    this.dir = RTL.has(this.lang.split("-")[0] ?? "") ? "rtl" : "ltr";
    const tags = this.lang === FALLBACK ? [FALLBACK] : [this.lang, FALLBACK];
    this.bundles = tags.map((tag) => {
      // Numbers in messages ("3 unread") go through Intl.NumberFormat for this locale.
      const bundle = new FluentBundle(intlLocale(tag));
      const errors = bundle.addResource(new FluentResource(catalogs.get(tag) ?? ""));
      for (const e of errors) console.warn(`locales/${tag}: ${e.message}`);
      return bundle;
    });
  }

  /** The message `id`; English when this language lacks it; the id itself if no catalog has it. */
  t(id: string, args?: Args): string {
    for (const bundle of this.bundles) {
      const message = bundle.getMessage(id);
      if (message?.value) {
        return bundle.formatPattern(message.value, args ?? null);
      }
    }
    return id;
  }

  /** Whether any catalog has `id` (for optional keys such as state names the tray may add). */
  has(id: string): boolean {
    return this.bundles.some((b) => b.hasMessage(id));
  }

  /** Sets `lang` and `dir` on the document, so CSS logical properties flip for Arabic. */
  applyTo(doc: Document): void {
    doc.documentElement.lang = this.lang;
    doc.documentElement.dir = this.dir;
  }
}
