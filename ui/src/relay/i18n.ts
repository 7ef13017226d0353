// The relay app's strings: the shared catalogs (locales/<lang>/pushmail.ftl, for the words it
// shares with the settings window, such as the account form's fields) plus its own
// (locales/<lang>/relay.ftl, every key starting with "relay-"). The settings app is unchanged:
// it never loads relay.ftl.

import { CATALOGS, FALLBACK, I18n, negotiate } from "../i18n";

const sources = import.meta.glob<string>("../../../locales/*/relay.ftl", {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Language tag → relay.ftl text. */
export const RELAY_CATALOGS: ReadonlyMap<string, string> = new Map(
  Object.entries(sources).flatMap(([path, text]) => {
    const tag = /locales\/([^/]+)\/relay\.ftl$/.exec(path)?.[1];
    return tag === undefined ? [] : [[tag, text] as [string, string]];
  }),
);

/** pushmail.ftl + relay.ftl, for every language that has the shared catalog. */
export const APP_CATALOGS: ReadonlyMap<string, string> = new Map(
  [...CATALOGS].map(([tag, text]) => [tag, `${text}\n${RELAY_CATALOGS.get(tag) ?? ""}`] as [string, string]),
);

export const LANGUAGES: readonly string[] = ["en", "it", "zh-CN", "zh-TW", "ar"];

/**
 * The first of the browser's languages (navigator.languages, best first) the app speaks:
 * "it-CH" → it, "zh-HK" → zh-TW; a language it lacks is skipped, not turned into English at
 * once (["fr", "it"] → it). English when none is spoken.
 */
export function pickLanguage(preferred: readonly string[], available: readonly string[] = LANGUAGES): string {
  for (const tag of preferred) {
    const base = tag.toLowerCase().replace(/_/g, "-").split("-")[0] ?? "";
    const found = negotiate(tag, tag, available);
    if (found !== FALLBACK || base === FALLBACK) return found;
  }
  return FALLBACK;
}

export function relayI18n(lang: string): I18n {
  return new I18n(lang, APP_CATALOGS);
}
