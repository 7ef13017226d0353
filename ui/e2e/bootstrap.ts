// Injected by the Playwright flows before the built app runs: replaces the Rust shell with the
// fake backend through Tauri's mockIPC, and records CSP violations. Scenario and language come
// from globals the test sets in an earlier init script.

import {
  demoScenario,
  FakeBackend,
  firstRunScenario,
  install,
  localizedScenario,
  richScenario,
  type Scenario,
} from "../src/testing/fakeBackend";
import type { Language } from "../src/types";

/** Test vectors (rich, first-run, tray-stopped) or the docs' realistic data (demo…, localized…). */
export type ScenarioName = "rich" | "first-run" | "tray-stopped" | "demo" | "demo-first-run" | "localized-ar" | "localized-zh-TW";

declare global {
  interface Window {
    __PUSHMAIL_SCENARIO__?: ScenarioName;
    __PUSHMAIL_LANGUAGE__?: Language;
    __PUSHMAIL_FAKE__?: FakeBackend;
    __CSP_VIOLATIONS__?: string[];
  }
}

function scenario(): Scenario {
  switch (window.__PUSHMAIL_SCENARIO__) {
    case "first-run":
      return firstRunScenario();
    case "tray-stopped":
      return { ...richScenario(), live: "not_running" };
    case "demo":
      return demoScenario();
    case "demo-first-run":
      return firstRunScenario(demoScenario());
    case "localized-ar":
      return localizedScenario("ar");
    case "localized-zh-TW":
      return localizedScenario("zh-TW");
    default:
      return richScenario();
  }
}

const chosen = scenario();
if (window.__PUSHMAIL_LANGUAGE__) chosen.settings.general.language = window.__PUSHMAIL_LANGUAGE__;
const backend = new FakeBackend(chosen);
install(backend);
window.__PUSHMAIL_FAKE__ = backend;
window.__CSP_VIOLATIONS__ = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__CSP_VIOLATIONS__?.push(`${e.violatedDirective} ${e.blockedURI}`);
});
