// The window: sidebar navigation, the current page, the tray's live state, toasts. Rust owns
// the state; this mirrors it by re-reading after every change (`settings://updated`,
// `tray://changed`) instead of patching copies.

import type { Context, Live, Route } from "./context";
import { h, replaceChildren } from "./dom";
import { I18n, negotiate } from "./i18n";
import { IpcError, type Api, type Events } from "./ipc";
import type { Language, ReloadOutcome, SettingsView, TrayChange } from "./types";
import { banner, button, errorBox, spinner } from "./widgets";
import { renderAccounts } from "./pages/accounts";
import { renderAccountForm } from "./pages/accountForm";
import { renderAddAccount } from "./pages/addAccount";
import { renderFolders } from "./pages/folders";
import { renderNotifications } from "./pages/notifications";
import { renderGeneral } from "./pages/general";
import { renderActivity } from "./pages/activity";

type Section = "accounts" | "folders" | "notifications" | "general" | "activity";
const SECTIONS: readonly Section[] = ["accounts", "folders", "notifications", "general", "activity"];

export class App implements Context {
  readonly api: Api;
  readonly events: Events;
  i18n: I18n;
  settings!: SettingsView;
  live: Live = { status: "unknown", accounts: [], message: "" };

  private readonly root: HTMLElement;
  private readonly toasts: HTMLElement;
  private route: Route = { page: "accounts" };
  private trayHandlers: ((change: TrayChange) => void)[] = [];
  private leaveHandlers: (() => void)[] = [];
  private sidebarStatus: HTMLElement | null = null;

  constructor(root: HTMLElement, api: Api, events: Events) {
    this.root = root;
    this.api = api;
    this.events = events;
    this.i18n = new I18n("en");
    this.toasts = h("div", { class: "toasts", attrs: { "aria-live": "polite" } });
  }

  async start(): Promise<void> {
    document.body.appendChild(this.toasts);
    this.i18n.applyTo(document);
    replaceChildren(this.root, h("div", { class: "loading" }, spinner(), this.i18n.t("settings-loading")));
    try {
      this.settings = await this.api.getSettings();
    } catch (raw) {
      this.renderBroken(IpcError.from(raw));
      return;
    }
    this.useLanguage(this.settings.general.language);
    await Promise.all([
      this.events.onSettingsUpdated(() => void this.settingsChanged()),
      this.events.onTrayChanged((change) => void this.trayChanged(change)),
      this.events.onShowAccount(() => void this.showRequestedAccount()),
    ]);
    // First run: straight to "Add account".
    this.route = this.settings.accounts.length === 0 ? { page: "account", id: null } : { page: "accounts" };
    // `pushmail-settings --account ID` (the tray's "Sign in…"): that account's page instead.
    if (!(await this.showRequestedAccount())) this.render();
    await this.trayChanged("presence");
  }

  // --- Context ---------------------------------------------------------------------------

  navigate(route: Route): void {
    this.route = route;
    this.render();
  }

  async reloadSettings(): Promise<void> {
    this.settings = await this.api.getSettings();
  }

  toast(text: string, kind: "ok" | "warn" | "error" = "ok"): void {
    const item = h("div", { class: `toast toast-${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } }, text);
    this.toasts.appendChild(item);
    setTimeout(() => item.remove(), kind === "ok" ? 3500 : 8000);
  }

  announceSave(outcome: ReloadOutcome, text?: string): void {
    switch (outcome.tray) {
      case "reloaded":
        this.toast(text ?? this.i18n.t("settings-saved"));
        break;
      case "not_running":
        this.toast(this.i18n.t("settings-saved-not-running"), "warn");
        break;
      case "failed":
        this.toast(this.i18n.t("settings-saved-reload-failed", { message: outcome.message }), "warn");
        break;
    }
  }

  setLanguage(language: Language): void {
    this.settings = { ...this.settings, general: { ...this.settings.general, language } };
    this.useLanguage(language);
    this.render();
  }

  async startTray(): Promise<void> {
    try {
      await this.api.startTray();
      this.toast(this.i18n.t("settings-tray-started"));
    } catch (raw) {
      const error = IpcError.from(raw);
      this.toast(`${this.i18n.t(`settings-error-${error.kind}`)}: ${error.message}`, "error");
    }
    await this.trayChanged("presence");
  }

  onTrayChange(handler: (change: TrayChange) => void): void {
    this.trayHandlers.push(handler);
  }

  onLeave(handler: () => void): void {
    this.leaveHandlers.push(handler);
  }

  // --- internals -------------------------------------------------------------------------

  /**
   * Shows the account `--account ID` or a later `ShowAccount` asked for, if any (re-reading
   * the file: the tray may know an account this window has not seen yet).
   */
  private async showRequestedAccount(): Promise<boolean> {
    let id: string | null;
    try {
      id = await this.api.takeShownAccount();
    } catch {
      return false;
    }
    if (id === null) return false;
    try {
      await this.reloadSettings();
    } catch {
      // Shown with what is known; the page says if the account is missing.
    }
    this.navigate({ page: "account", id });
    return true;
  }

  private useLanguage(language: Language): void {
    this.i18n = new I18n(negotiate(language, this.settings.systemLanguage));
    this.i18n.applyTo(document);
    document.title = this.i18n.t("settings-window-title");
  }

  private async settingsChanged(): Promise<void> {
    try {
      await this.reloadSettings();
    } catch {
      return; // The next action reports it.
    }
    if (this.route.page === "accounts") this.render();
  }

  private async trayChanged(change: TrayChange): Promise<void> {
    if (change !== "activity") await this.refreshLive();
    this.trayHandlers.forEach((handler) => handler(change));
  }

  /** Asks the tray for its accounts; "not running" is a state, not an error. */
  async refreshLive(): Promise<void> {
    try {
      this.live = { status: "running", accounts: await this.api.trayAccounts(), message: "" };
    } catch (raw) {
      const error = IpcError.from(raw);
      this.live =
        error.kind === "tray_not_running"
          ? { status: "stopped", accounts: [], message: "" }
          : { status: "unreachable", accounts: [], message: error.message };
    }
    this.renderTrayStatus();
  }

  private section(): Section {
    return this.route.page === "account" ? "accounts" : this.route.page;
  }

  private render(): void {
    this.leaveHandlers.forEach((handler) => handler());
    this.leaveHandlers = [];
    this.trayHandlers = [];
    const t = (id: string) => this.i18n.t(id);
    const current = this.section();
    const nav = h(
      "nav",
      { class: "sidebar", attrs: { "aria-label": t("settings-nav-label") } },
      h("div", { class: "brand" }, h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }), t("app-name")),
      h(
        "ul",
        { class: "nav-list" },
        SECTIONS.map((section) =>
          h(
            "li",
            null,
            h(
              "button",
              {
                class: section === current ? "nav-item active" : "nav-item",
                attrs: { type: "button", "data-page": section, "aria-current": section === current ? "page" : undefined },
                on: { click: () => this.navigate({ page: section }) },
              },
              h("span", { class: `nav-icon icon-${section}`, attrs: { "aria-hidden": "true" } }),
              t(`settings-nav-${section}`),
            ),
          ),
        ),
      ),
      (this.sidebarStatus = h("div", { class: "tray-status" })),
    );
    const main = h("main", { class: "content", attrs: { id: "content", tabindex: "-1" } }, this.page());
    replaceChildren(this.root, h("div", { class: "layout" }, nav, main));
    this.renderTrayStatus();
  }

  private page(): HTMLElement {
    switch (this.route.page) {
      case "accounts":
        return renderAccounts(this);
      case "account":
        return this.route.id === null ? renderAddAccount(this) : renderAccountForm(this, this.route.id, this.route.signedIn ?? false);
      case "folders":
        return renderFolders(this, this.route.id);
      case "notifications":
        return renderNotifications(this);
      case "general":
        return renderGeneral(this);
      case "activity":
        return renderActivity(this);
    }
  }

  private renderTrayStatus(): void {
    const box = this.sidebarStatus;
    if (!box) return;
    const t = (id: string) => this.i18n.t(id);
    const { status } = this.live;
    if (status === "unknown") {
      replaceChildren(box);
      return;
    }
    const label =
      status === "running" ? t("settings-tray-running") : status === "stopped" ? t("settings-tray-stopped") : t("settings-tray-unreachable");
    const startButton =
      status === "stopped"
        ? button(t("settings-tray-start"), (event) => {
            const target = event.currentTarget as HTMLButtonElement;
            target.disabled = true;
            target.textContent = t("settings-tray-starting");
            void this.startTray();
          }, { kind: "secondary", attrs: { "data-action": "start-tray" } })
        : null;
    replaceChildren(
      box,
      h(
        "div",
        { class: `tray-line tray-${status}`, attrs: { title: this.live.message || undefined } },
        h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }),
        label,
      ),
      startButton,
    );
  }

  private renderBroken(error: IpcError): void {
    replaceChildren(
      this.root,
      h(
        "main",
        { class: "content broken" },
        h("h1", null, this.i18n.t("settings-window-title")),
        errorBox(this.i18n, error),
        banner("info", this.i18n.t("settings-config-broken")),
      ),
    );
  }
}
