// What a page is given: the window's services (IPC, language, navigation, toasts) and the state
// it mirrors. Its own module so that app.ts can import the pages and the pages can name
// `Context` without importing app.ts back: the UI's import graph stays acyclic
// (source.test.ts checks it).

import type { I18n } from "./i18n";
import type { Api, Events } from "./ipc";
import type { Language, LiveAccount, ReloadOutcome, SettingsView, TrayChange } from "./types";

export type Route =
  | { page: "accounts" }
  /** `signedIn`: the account was just signed in and saved; its page runs the connection test. */
  | { page: "account"; id: string | null; signedIn?: boolean }
  | { page: "folders"; id?: string }
  | { page: "notifications" }
  | { page: "general" }
  | { page: "activity" };

/** What the tray says right now. */
export interface Live {
  status: "unknown" | "running" | "stopped" | "unreachable";
  accounts: LiveAccount[];
  /** Why, when unreachable. */
  message: string;
}

/** Everything a page may use. Page-scoped subscriptions end when the page is left. */
export interface Context {
  readonly api: Api;
  readonly events: Events;
  readonly i18n: I18n;
  readonly settings: SettingsView;
  readonly live: Live;
  navigate(route: Route): void;
  reloadSettings(): Promise<void>;
  toast(text: string, kind?: "ok" | "warn" | "error"): void;
  /** Tells the user whether a save reached the running tray. */
  announceSave(outcome: ReloadOutcome, text?: string): void;
  setLanguage(language: Language): void;
  startTray(): Promise<void>;
  /** Called when the tray's state changes, while this page is shown. */
  onTrayChange(handler: (change: TrayChange) => void): void;
  /** Called when the page is left. */
  onLeave(handler: () => void): void;
}
