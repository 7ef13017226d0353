// The relay's web app: sign in with an access token, then the mailboxes the relay watches, the
// devices it notifies (this one included, by Web Push) and the webhooks it calls. One page, hash
// routes (routes.ts). Everything a server or a mailbox sends is shown as text (dom.ts), inside
// <bdi> or dir="auto" so right-to-left or override characters cannot reorder what is around it.

import { append, h, replaceChildren, uid, type Child } from "../dom";
import { intlLocale } from "../format";
import type { I18n } from "../i18n";
import { banner, button, field, pageHeader, section, select, spinner, textInput } from "../widgets";
import {
  ApiError,
  DETAILS,
  domainOf,
  RelayApi,
  SECURITIES,
  type Detail,
  type Device,
  type Discovery,
  type Mailbox,
  type NewMailbox,
  type NewSigninMailbox,
  type Security,
  type Webhook,
} from "./api";
import { LANGUAGES, pickLanguage, relayI18n } from "./i18n";
import { currentSubscription, deviceParts, forgetForWorker, permission, pushSupport, PushError, rememberForWorker, subscribe, unsubscribe } from "./push";
import { hrefOf, parseRoute, type Page } from "./routes";
import {
  loginChoices,
  navigableUrl,
  offeredProvider,
  parseSigninReturn,
  providerName,
  withoutSigninReturn,
  type SigninProvider,
  type SigninReturn,
} from "./signin";

const TOKEN_KEY = "pushmail-relay-token";
const LANGUAGE_KEY = "pushmail-relay-language";
const DEVICE_KEY = "pushmail-relay-device";

/** Default ports by security, as the settings window's form has them. */
const PORTS: Record<Security, number> = { tls: 993, starttls: 143 };

const TABS: readonly { page: Page; key: string }[] = [
  { page: "mailboxes", key: "relay-nav-mailboxes" },
  { page: "devices", key: "relay-nav-devices" },
  { page: "webhooks", key: "relay-nav-webhooks" },
];

/** The class of a mailbox state, for its dot: ok, busy, warn, bad, off. */
export function stateClass(state: string): string {
  switch (state) {
    case "watching":
    case "push":
    case "idle":
    case "polling":
    case "connected":
      return "state-ok";
    case "connecting":
    case "starting":
      return "state-busy";
    case "backoff":
    case "offline":
    case "unreachable":
      return "state-warn";
    case "auth_failed":
    case "error":
    case "signin_required":
      return "state-bad";
    case "disabled":
    case "stopped":
    case "paused":
      return "state-off";
    default:
      return "state-none";
  }
}

/** Storage that may be missing (private mode, blocked): the app still works for this visit. */
const store = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key: string, value: string | null): void {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      // Nothing to do: not remembered.
    }
  },
};

const strip = (text: string) => text.replace(/[\u2068\u2069]/g, "");

export class RelayApp {
  i18n: I18n;
  private readonly root: HTMLElement;
  private readonly toasts: HTMLElement;
  private api: RelayApi | null = null;
  private userName = "";
  private signInMessage: string | null = null;
  /** Bumped on every render, so a slow answer for a page no longer shown is dropped. */
  private generation = 0;
  /** The secret of the webhook just made: shown once, on the next render of the page only. */
  private freshWebhook: { url: string; secret: string } | null = null;
  private justSubscribed = false;
  /** How a sign-in at a provider came back (read from the address at start): shown once. */
  private signinReturn: SigninReturn | null = null;

  constructor(root: HTMLElement) {
    this.root = root;
    const chosen = store.get(LANGUAGE_KEY);
    this.i18n = relayI18n(chosen && LANGUAGES.includes(chosen) ? chosen : pickLanguage(navigator.languages ?? [navigator.language]));
    this.toasts = h("div", { class: "toasts", attrs: { "aria-live": "polite" } });
  }

  async start(): Promise<void> {
    document.body.appendChild(this.toasts);
    this.i18n.applyTo(document);
    window.addEventListener("hashchange", () => void this.navigate());
    // Back from a provider's page to a page the browser kept: drawn again, not left waiting.
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) void this.navigate();
    });
    this.readSigninReturn();
    await this.navigate();
  }

  private t(id: string, args?: Record<string, string | number>): string {
    return this.i18n.t(id, args);
  }

  toast(text: string, kind: "ok" | "error" = "ok"): void {
    const item = h("div", { class: `toast toast-${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } }, text);
    this.toasts.appendChild(item);
    setTimeout(() => item.remove(), kind === "ok" ? 3500 : 8000);
  }

  private setLanguage(lang: string): void {
    store.set(LANGUAGE_KEY, lang);
    this.i18n = relayI18n(lang);
    this.i18n.applyTo(document);
    void this.navigate();
  }

  /**
   * The relay sends the browser back from a provider's sign-in to `?signin=done&account=…` or
   * `?signin=failed&code=…`: kept for the mailbox list, and taken out of the address so a
   * reload (or a bookmark) does not show it again.
   */
  private readSigninReturn(): void {
    const found = parseSigninReturn(location.search);
    if (found === null) return;
    this.signinReturn = found;
    history.replaceState(null, "", `${location.pathname}${withoutSigninReturn(location.search)}${hrefOf("mailboxes")}`);
  }

  /** Reads the route; a #token=… link signs in and leaves the address bar without the token. */
  private async navigate(): Promise<void> {
    const route = parseRoute(location.hash);
    if (route.kind === "token") {
      history.replaceState(null, "", `${location.pathname}${location.search}${hrefOf("mailboxes")}`);
      if (await this.signIn(route.token)) await this.renderPage("mailboxes");
      return;
    }
    if (this.api === null) {
      const token = store.get(TOKEN_KEY);
      if (token === null || token === "") {
        this.renderSignIn();
        return;
      }
      if (!(await this.signIn(token))) return;
    }
    await this.renderPage(route.page);
  }

  /** Checks `token` with GET /api/me; on success remembers it and shows the route's page. */
  private async signIn(token: string): Promise<boolean> {
    const api = new RelayApi(token.trim(), document.baseURI);
    this.renderBusy();
    try {
      this.userName = (await api.me()).name;
    } catch (e) {
      this.api = null;
      if (e instanceof ApiError && e.status === 401) {
        store.set(TOKEN_KEY, null);
        this.signInMessage = this.t("relay-signin-rejected");
      } else {
        this.signInMessage = this.errorText(e);
      }
      this.renderSignIn(token);
      return false;
    }
    this.api = api;
    this.signInMessage = null;
    store.set(TOKEN_KEY, api.token);
    return true;
  }

  private signOut(message: string | null): void {
    this.api = null;
    this.userName = "";
    store.set(TOKEN_KEY, null);
    this.signInMessage = message;
    this.renderSignIn();
  }

  private renderBusy(): void {
    replaceChildren(this.root, h("div", { class: "loading" }, spinner(), this.t("relay-loading")));
  }

  private languagePicker(): HTMLElement {
    const picker = select(
      this.i18n.lang,
      LANGUAGES.map((lang) => ({ value: lang, label: this.t(`language-name-${lang}`) })),
      (lang) => this.setLanguage(lang),
    );
    picker.name = "language";
    picker.setAttribute("aria-label", this.t("settings-language"));
    picker.classList.add("relay-language");
    return picker;
  }

  private renderSignIn(token = ""): void {
    this.generation += 1;
    const input = textInput(token, { name: "token", type: "password", autocomplete: "off", dir: "ltr", required: true });
    input.classList.add("relay-token");
    const message = this.signInMessage;
    const form = h(
      "form",
      {
        class: "card relay-signin",
        attrs: { novalidate: true },
        on: {
          submit: (event) => {
            event.preventDefault();
            const value = input.value.trim();
            if (value === "") {
              input.setAttribute("aria-invalid", "");
              input.focus();
              return;
            }
            void this.signIn(value).then((ok) => (ok ? this.navigate() : undefined));
          },
        },
      },
      h("h1", null, this.t("relay-signin-title")),
      h("p", { class: "help" }, this.t("relay-signin-help")),
      h("code", { class: "relay-command", attrs: { dir: "ltr" } }, "pushmail-relay user add NAME"),
      field(this.t("relay-signin-token"), input),
      message ? banner("error", h("span", { class: "banner-text", attrs: { dir: "auto", "data-role": "signin-error" } }, message)) : null,
      h("div", { class: "card-actions" }, h("button", { class: "button button-primary", attrs: { type: "submit", "data-action": "sign-in" } }, this.t("relay-signin-button"))),
    );
    replaceChildren(
      this.root,
      h("div", { class: "relay relay-center" }, h("div", { class: "relay-brand-row" }, this.brand(), this.languagePicker()), form),
    );
    input.focus();
  }

  private brand(): HTMLElement {
    return h("div", { class: "brand" }, h("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }), this.t("relay-app-name"));
  }

  /** The frame around a page: brand, user, language, sign out; the tabs. */
  private frame(page: Page, content: HTMLElement): HTMLElement {
    const current: Page = page === "add-mailbox" ? "mailboxes" : page;
    return h(
      "div",
      { class: "relay" },
      h(
        "header",
        { class: "relay-top" },
        this.brand(),
        h(
          "div",
          { class: "relay-user" },
          h("span", { class: "relay-user-name" }, h("bdi", null, this.userName)),
          this.languagePicker(),
          button(this.t("relay-signout"), () => this.signOut(null), { kind: "ghost", attrs: { "data-action": "sign-out" } }),
        ),
      ),
      h(
        "nav",
        { class: "relay-tabs", attrs: { "aria-label": this.t("relay-app-name") } },
        TABS.map((tab) =>
          h(
            "a",
            {
              class: tab.page === current ? "relay-tab active" : "relay-tab",
              attrs: { href: hrefOf(tab.page), "data-page": tab.page, "aria-current": tab.page === current ? "page" : undefined },
            },
            this.t(tab.key),
          ),
        ),
      ),
      h("main", { class: "relay-main", attrs: { id: "content", tabindex: "-1" } }, content),
    );
  }

  private async renderPage(page: Page): Promise<void> {
    if (this.api === null) return;
    this.generation += 1;
    const generation = this.generation;
    const content = h("div", { class: `page page-${page}` }, h("div", { class: "loading" }, spinner(), this.t("relay-loading")));
    replaceChildren(this.root, this.frame(page, content));
    document.title = `${this.t(`relay-title-${page}`)} · ${this.t("relay-app-name")}`;
    try {
      const children = await this.pageContent(page, this.api);
      if (generation !== this.generation) return;
      replaceChildren(content, ...children);
    } catch (e) {
      if (generation !== this.generation) return;
      if (e instanceof ApiError && e.status === 401) {
        this.signOut(this.t("relay-signin-expired"));
        return;
      }
      replaceChildren(content, pageHeader(this.t(`relay-title-${page}`)), this.errorBanner(e));
    }
  }

  private pageContent(page: Page, api: RelayApi): Promise<Child[]> {
    switch (page) {
      case "mailboxes":
        return this.mailboxesPage(api);
      case "add-mailbox":
        return this.addMailboxPage(api);
      case "devices":
        return this.devicesPage(api);
      case "webhooks":
        return this.webhooksPage(api);
    }
  }

  /** A sentence for a failed request: by status, then the server's own words. */
  private errorText(e: unknown): string {
    if (e instanceof ApiError) {
      if (e.status === 0) return this.t("relay-error-network");
      if (e.status === 429) return this.t("relay-error-slow-down");
      if (e.message !== "") return e.message;
      return this.t("relay-error-status", { status: e.status });
    }
    if (e instanceof PushError) return this.t(`relay-push-${e.kind}`);
    return e instanceof Error ? e.message : String(e);
  }

  private errorBanner(e: unknown, headline?: string): HTMLElement {
    const code = e instanceof ApiError && e.code !== "" && this.i18n.has(`relay-error-${e.code}`) ? `relay-error-${e.code}` : null;
    return banner(
      "error",
      h("strong", { class: "banner-title" }, headline ?? (code ? this.t(code) : this.t("relay-error-title"))),
      h("span", { class: "banner-text", attrs: { dir: "auto", "data-role": "error" } }, this.errorText(e)),
    );
  }

  /** Runs `action`; a 401 signs out, other failures become a toast. Returns whether it worked. */
  private async attempt(action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        this.signOut(this.t("relay-signin-expired"));
      } else {
        this.toast(this.errorText(e), "error");
      }
      return false;
    }
  }

  private reload(page: Page): void {
    void this.renderPage(page);
  }

  private formatDate(iso: string): string {
    const date = new Date(iso);
    if (iso === "" || Number.isNaN(date.getTime())) return "";
    return new Intl.DateTimeFormat(intlLocale(this.i18n.lang), { dateStyle: "medium" }).format(date);
  }

  /** An inline "Remove X?" with Remove/Cancel, in place of a row's actions. */
  private confirmRemoval(row: HTMLElement, actions: HTMLElement, question: string, remove: () => Promise<void>): void {
    const confirm = h(
      "div",
      { class: "confirm", attrs: { role: "alertdialog", "aria-label": question } },
      h("p", { attrs: { dir: "auto" } }, question),
      h(
        "div",
        { class: "confirm-actions" },
        button(this.t("relay-remove"), () => void remove(), { kind: "danger", attrs: { "data-action": "confirm-remove" } }),
        button(
          this.t("settings-cancel"),
          () => {
            confirm.remove();
            actions.hidden = false;
          },
          { kind: "ghost", attrs: { "data-action": "cancel-remove" } },
        ),
      ),
    );
    actions.hidden = true;
    row.appendChild(confirm);
    confirm.querySelector<HTMLButtonElement>("[data-action=cancel-remove]")?.focus();
  }

  // --- mailboxes ---------------------------------------------------------------------------

  private stateLabel(raw: string): string {
    if (raw === "") return this.t("relay-state-unknown");
    // The watcher's states (the core's): connected by push or by polling is "watching".
    const state = raw === "push" || raw === "polling" || raw === "idle" ? "watching" : raw;
    for (const id of [`relay-state-${state}`, `state-${state}`]) {
      if (this.i18n.has(id)) return this.t(id, { seconds: 60 });
    }
    return state;
  }

  /**
   * The providers the relay can sign in at; none when it cannot say (an older relay answers
   * 404): the app then offers no sign-in. A rejected token still signs out.
   */
  private async providers(api: RelayApi): Promise<SigninProvider[]> {
    try {
      return await api.signinProviders();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      return [];
    }
  }

  private async mailboxesPage(api: RelayApi): Promise<Child[]> {
    const mailboxes = await api.mailboxes();
    // Names for "Sign in to Google again", only when a mailbox needs it.
    const providers = mailboxes.some((m) => m.state === "signin_required") ? await this.providers(api) : [];
    const returned = this.signinReturn;
    this.signinReturn = null;
    const add = h("a", { class: "button button-primary", attrs: { href: hrefOf("add-mailbox"), "data-action": "add-mailbox" } }, this.t("relay-add-mailbox"));
    return [
      pageHeader(this.t("relay-title-mailboxes"), this.t("relay-mailboxes-subtitle"), add),
      returned ? this.signinResult(returned, mailboxes) : null,
      mailboxes.length === 0
        ? h("div", { class: "card empty" }, h("p", null, this.t("relay-mailboxes-empty")))
        : h("ul", { class: "account-list" }, mailboxes.map((m) => this.mailboxRow(api, m, providers))),
    ];
  }

  /**
   * What a sign-in at a provider came back with, in the app's own words only: the return is a
   * link anyone can make, so no text from it is shown; a login_failed's reason (a whitelisted
   * code) is said with the login test's message.
   */
  private signinResult(returned: SigninReturn, mailboxes: readonly Mailbox[]): HTMLElement {
    if (returned.kind === "done") {
      const mailbox = mailboxes.find((m) => m.id === returned.account);
      const name = mailbox ? mailbox.name || mailbox.email : "";
      return banner(
        "info",
        h(
          "span",
          { class: "banner-text", attrs: { "data-role": "signin-result", "data-result": "done" } },
          name === "" ? this.t("relay-oauth-done-unnamed") : this.t("relay-oauth-done", { name }),
        ),
      );
    }
    return banner(
      "error",
      h("strong", { class: "banner-title" }, this.t("relay-oauth-failed-title")),
      h("span", { class: "banner-text", attrs: { "data-role": "signin-result", "data-result": returned.code } }, this.t(`relay-oauth-failed-${returned.code}`)),
      returned.reason
        ? h("span", { class: "banner-text", attrs: { "data-role": "signin-reason", "data-reason": returned.reason } }, this.t(`relay-error-${returned.reason}`))
        : null,
    );
  }

  /** Starts a sign-in (new mailbox, or again for one) and sends the whole page to the provider. */
  private async goSignIn(api: RelayApi, what: NewSigninMailbox | { account: string }): Promise<void> {
    const url = navigableUrl(await api.startSignin(what), document.baseURI);
    if (url === null) throw new ApiError(502, "bad_signin_url", this.t("relay-oauth-bad-url"));
    window.location.assign(url);
  }

  private mailboxRow(api: RelayApi, m: Mailbox, providers: readonly SigninProvider[]): HTMLElement {
    const needsSignin = m.state === "signin_required";
    const provider = providerName(m.provider, providers);
    const again = needsSignin
      ? button(
          this.t("relay-oauth-again"),
          (event) => {
            const pressed = event.currentTarget as HTMLButtonElement;
            pressed.disabled = true;
            // On its way to the provider when it worked; pressable again when it did not.
            void this.attempt(() => this.goSignIn(api, { account: m.id })).then((ok) => (pressed.disabled = ok));
          },
          { kind: "primary", attrs: { "data-action": "sign-in-again" } },
        )
      : null;
    const actions = h(
      "div",
      { class: "row-actions" },
      again,
      button(this.t("relay-remove"), () => this.confirmRemoval(row, actions, this.t("relay-mailbox-remove-confirm", { name: m.name || m.email }), remove), {
        kind: "ghost",
        attrs: { "data-action": "remove" },
      }),
    );
    const remove = async () => {
      if (await this.attempt(() => api.removeMailbox(m.id))) {
        this.toast(this.t("relay-mailbox-removed"));
        this.reload("mailboxes");
      }
    };
    const initial = ([...(m.name || m.email).replace(/[\u0000-\u0020\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")][0] ?? "?").toUpperCase();
    const hue = [...m.id].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 8;
    const server = m.host === "" ? "" : m.port > 0 ? `${m.host}:${m.port}` : m.host;
    const row: HTMLElement = h(
      "li",
      { class: "account-row", attrs: { "data-mailbox": m.id } },
      h(
        "div",
        { class: "account-main" },
        h("span", { class: `avatar avatar-${hue}`, attrs: { "aria-hidden": "true" } }, initial),
        h(
          "div",
          { class: "account-text" },
          h("span", { class: "account-name" }, h("bdi", { attrs: { "data-role": "name" } }, m.name || m.email)),
          h(
            "span",
            { class: "account-sub" },
            h("bdi", { attrs: { "data-role": "email" } }, m.email),
            server ? [" · ", h("bdi", { attrs: { dir: "ltr" } }, server)] : null,
          ),
        ),
        h(
          "span",
          { class: "account-status" },
          h(
            "span",
            { class: `state ${stateClass(m.state)}`, attrs: { "data-state": m.state } },
            h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }),
            this.stateLabel(m.state),
          ),
        ),
        needsSignin
          ? h(
              "div",
              { class: "state-detail relay-reauth" },
              h(
                "p",
                { attrs: { "data-role": "signin-required" } },
                provider === "" ? this.t("relay-oauth-required-unnamed") : this.t("relay-oauth-required", { provider }),
              ),
              m.stateDetail ? h("p", { attrs: { dir: "auto", "data-role": "state-detail" } }, m.stateDetail) : null,
            )
          : m.stateDetail
            ? h("p", { class: "state-detail", attrs: { dir: "auto", "data-role": "state-detail" } }, m.stateDetail)
            : null,
        actions,
      ),
    );
    return row;
  }

  /**
   * Add a mailbox. "Find settings" looks the server up from the address; when the provider
   * signs in with its own page (OAuth2) and the relay has a client for it, that sign-in is the
   * offer: the server fields stay filled but folded away, the password is not asked for, and the
   * main button is "Sign in with …". "Set up manually" unfolds everything, with a "Log in with"
   * choice (a password, or each provider the relay offers; no choice when it offers none).
   */
  private async addMailboxPage(api: RelayApi): Promise<Child[]> {
    const providers = await this.providers(api);
    const name = textInput("", { name: "name", required: true });
    const email = textInput("", { name: "email", type: "email", dir: "ltr", autocomplete: "email" });
    const host = textInput("", { name: "host", dir: "ltr", required: true, placeholder: "imap.example.com" });
    const port = h("input", { attrs: { type: "number", name: "port", min: 1, max: 65535, dir: "ltr", required: true }, props: { value: String(PORTS.tls) } });
    let security: Security = "tls";
    const securitySelect = select<Security>(
      security,
      SECURITIES.map((s) => ({ value: s, label: this.t(`settings-security-${s}`) })),
      (next) => {
        // A port still at the old default follows the security, as in the settings window.
        if (Number(port.value) === PORTS[security]) port.value = String(PORTS[next]);
        security = next;
      },
    );
    securitySelect.name = "security";
    const username = textInput("", { name: "username", dir: "ltr", required: true, autocomplete: "username" });
    const password = h("input", { attrs: { type: "password", name: "password", autocomplete: "new-password", dir: "ltr", required: true } });
    // The user name is the address until someone types one of their own.
    let usernameTouched = false;
    username.addEventListener("input", () => (usernameTouched = true));

    // How the relay logs in: a password (null), or a sign-in at one of `providers`.
    let method: SigninProvider | null = null;
    /** The user picked it; until then a discovery picks it. */
    let methodTouched = false;
    /** The sign-in offered by a discovery, while the form is folded to it; null: all fields. */
    let offer: SigninProvider | null = null;
    /** The last discovery that found settings, and for which address: redrawn on changes. */
    let found: { result: Extract<Discovery, { found: true }>; address: string } | null = null;

    const choices = loginChoices(providers);
    const methodSelect =
      choices.length === 0
        ? null
        : select<string>(
            "password",
            choices.map((c) => ({
              value: c.value,
              label: c.provider === null ? this.t("settings-signin-password") : this.t("settings-signin-with", { provider: c.provider.name }),
            })),
            (value) => {
              methodTouched = true;
              useMethod(choices.find((c) => c.value === value)?.provider ?? null);
            },
          );
    if (methodSelect) methodSelect.name = "login-method";
    const methodField = methodSelect ? field(this.t("settings-field-signin"), methodSelect) : null;

    const status = h("div", { class: "relay-form-status", attrs: { "aria-live": "polite" } });
    const submit = h("button", { class: "button button-primary", attrs: { type: "submit", "data-action": "save" } }, this.t("relay-add-mailbox"));
    const manual = button(this.t("relay-oauth-manual"), () => unfold(), { kind: "secondary", attrs: { "data-action": "manual" } });
    manual.hidden = true;
    // "Find settings": the relay looks the server up from the address (the desktop's discovery)
    // and fills the fields below, which stay editable. A plain button, not a submit one: Enter
    // in the address field still submits the form, as it always did.
    const findButton = h("button", { class: "button", attrs: { type: "button", "data-action": "find-settings" } }, this.t("relay-discover-button"));
    const discovery = h("div", { class: "relay-discovery field-wide", attrs: { "aria-live": "polite", "data-role": "discovery" } });
    const controls: (HTMLInputElement | HTMLSelectElement | HTMLButtonElement)[] = [name, email, findButton, host, port, securitySelect, username, password, submit, manual];
    if (methodSelect) controls.push(methodSelect);
    /** Bumped by every lookup and by saving, so a late answer never overwrites newer input. */
    let discoveryRun = 0;

    const serverPair = h("div", { class: "field-pair field-wide" }, field(this.t("settings-field-host"), host), field(this.t("settings-field-port"), port));
    const securityField = field(this.t("settings-field-security"), securitySelect);
    const usernameField = field(this.t("settings-field-username"), username);
    const passwordField = field(this.t("settings-field-password"), password, { wide: true, help: this.t("relay-password-help") });
    const signinHelp = h("p", { class: "help field-wide relay-oauth-help", attrs: { "data-role": "signin-help" } });
    /** What only the full form shows (folded away while a sign-in is offered). */
    const manualOnly: HTMLElement[] = [serverPair, securityField, usernameField, ...(methodField ? [methodField] : [])];

    /** Shows what the form is now: folded to an offer, or every field for the chosen method. */
    const draw = () => {
      for (const element of manualOnly) element.hidden = offer !== null;
      passwordField.hidden = method !== null;
      signinHelp.hidden = method === null || offer !== null;
      replaceChildren(signinHelp, method ? this.t("relay-oauth-help", { provider: method.name }) : "");
      manual.hidden = offer === null;
      submit.dataset.action = method === null ? "save" : "sign-in-with";
      if (method === null) delete submit.dataset.provider;
      else submit.dataset.provider = method.id;
      submit.replaceChildren(method === null ? this.t("relay-add-mailbox") : this.t("settings-signin-with", { provider: method.name }));
      // (Not over a lookup under way: its answer redraws it.)
      if (found && !discovery.querySelector("[data-role=discover-looking]")) drawDiscovery(found.result, found.address);
    };
    const useMethod = (next: SigninProvider | null) => {
      method = next;
      if (methodSelect) methodSelect.value = choices.find((c) => (c.provider?.id ?? null) === (next?.id ?? null))?.value ?? "password";
      draw();
    };
    /** "Set up manually": every field, the offered sign-in still chosen (a password is one choice away). */
    const unfold = () => {
      offer = null;
      draw();
      (methodSelect ?? host).focus();
    };

    const drawDiscovery = (result: Extract<Discovery, { found: true }>, address: string) => {
      const provider = result.provider || domainOf(address);
      const offered = offeredProvider(result.signinProvider, providers);
      const source = h("p", { class: "banner-text" }, this.t("relay-discover-source"), " ", h("bdi", { attrs: { dir: "auto", "data-role": "discover-source" } }, result.source));
      const warnings =
        result.warnings.length > 0
          ? h(
              "ul",
              { class: "relay-discovery-warnings", attrs: { "data-role": "discover-warnings" } },
              result.warnings.map((w) => h("li", null, h("bdi", { attrs: { dir: "auto" } }, w))),
            )
          : null;
      if (offer !== null) {
        replaceChildren(
          discovery,
          banner(
            result.warnings.length > 0 ? "warning" : "info",
            h("strong", { class: "banner-title", attrs: { "data-role": "signin-offer" } }, this.t("relay-oauth-offer-title", { provider, signin: offer.name })),
            h("p", { class: "banner-text" }, this.t("relay-oauth-offer-help", { signin: offer.name })),
            source,
            warnings,
          ),
        );
        return;
      }
      const title = method === null ? this.t("relay-discover-found") : this.t("relay-oauth-found", { signin: method.name });
      replaceChildren(
        discovery,
        banner(
          result.warnings.length > 0 || (result.signin && offered === null) ? "warning" : "info",
          h("strong", { class: "banner-title" }, title),
          source,
          warnings,
          result.signin && offered === null
            ? h("p", { class: "banner-text", attrs: { "data-role": "discover-signin" } }, this.t("relay-discover-signin", { provider, signin: result.signinWith || provider }))
            : null,
          // What to do at the provider for a password (an app password): not for a sign-in.
          result.note && method === null ? h("p", { class: "banner-text" }, h("bdi", { attrs: { dir: "auto", "data-role": "discover-note" } }, result.note)) : null,
        ),
      );
    };

    const showDiscovery = (result: Discovery, address: string) => {
      if (!result.found) {
        found = null;
        offer = null;
        draw();
        const domain = result.domain || domainOf(address);
        replaceChildren(
          discovery,
          h("p", { attrs: { "data-role": "discover-none" } }, this.t("relay-discover-none", { domain })),
          result.tried ? h("p", { class: "help" }, h("bdi", { attrs: { dir: "auto", "data-role": "discover-tried" } }, result.tried)) : null,
        );
        return;
      }
      host.value = result.host;
      port.value = String(result.port);
      security = result.security;
      securitySelect.value = result.security;
      // The address as the user name keeps following the address; another one is kept.
      username.value = result.username || address;
      usernameTouched = result.username !== "" && result.username !== address;
      for (const input of [host, port, username]) input.removeAttribute("aria-invalid");
      const offered = offeredProvider(result.signinProvider, providers);
      found = { result, address };
      offer = offered;
      replaceChildren(discovery);
      if (offered !== null) method = offered;
      else if (!methodTouched) method = null;
      useMethod(method);
    };

    email.addEventListener("input", () => {
      const address = email.value.trim();
      if (!usernameTouched) username.value = address;
      // Another domain than the one the settings were found for: they no longer apply.
      if (found !== null && domainOf(address).toLowerCase() !== domainOf(found.address).toLowerCase()) {
        found = null;
        if (!discovery.querySelector("[data-role=discover-looking]")) replaceChildren(discovery);
        if (offer !== null) {
          offer = null;
          if (!methodTouched) method = null;
          useMethod(method);
        }
      }
    });

    const findSettings = async () => {
      const address = email.value.trim();
      if (!/^[^\s@]+@[^\s@]+$/.test(address)) {
        email.setAttribute("aria-invalid", "");
        email.focus();
        replaceChildren(discovery, h("p", { attrs: { role: "alert", "data-role": "discover-none" } }, this.t("relay-discover-address")));
        return;
      }
      email.removeAttribute("aria-invalid");
      const run = ++discoveryRun;
      findButton.disabled = true;
      replaceChildren(discovery, h("p", { class: "relay-progress", attrs: { role: "status", "data-role": "discover-looking" } }, spinner(), this.t("relay-discover-looking", { address })));
      let result: Discovery;
      try {
        result = await api.discover(address);
      } catch (e) {
        if (run !== discoveryRun) return;
        findButton.disabled = false;
        if (e instanceof ApiError && e.status === 401) {
          this.signOut(this.t("relay-signin-expired"));
          return;
        }
        replaceChildren(discovery, this.errorBanner(e));
        return;
      }
      if (run !== discoveryRun) return;
      findButton.disabled = false;
      showDiscovery(result, address);
      if (offer !== null) submit.focus();
    };
    findButton.addEventListener("click", () => void findSettings());

    // The address with its button on one line; the label still names the input.
    const emailField = field(this.t("settings-field-email"), email);
    const emailRow = h("div", { class: "relay-inline" });
    email.replaceWith(emailRow);
    emailRow.append(email, findButton);

    const form = h(
      "form",
      {
        class: "card",
        attrs: { novalidate: true, "data-form": "add-mailbox" },
        on: {
          submit: (event) => {
            event.preventDefault();
            void send();
          },
        },
      },
      h(
        "div",
        { class: "grid" },
        field(this.t("settings-field-name"), name),
        emailField,
        discovery,
        serverPair,
        securityField,
        usernameField,
        methodField,
        signinHelp,
        passwordField,
      ),
      status,
      h("div", { class: "card-actions relay-actions" }, h("a", { class: "button button-ghost", attrs: { href: hrefOf("mailboxes") } }, this.t("settings-cancel")), manual, submit),
    );

    const send = async () => {
      const portNumber = Number(port.value);
      const signin = method;
      const required: [HTMLInputElement, boolean][] = [
        [name, name.value.trim() !== ""],
        [email, email.value.trim() === "" || /^[^\s@]+@[^\s@]+$/.test(email.value.trim())],
        [host, host.value.trim() !== ""],
        [port, Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535],
        [username, username.value.trim() !== ""],
        // A sign-in asks for no password.
        [password, signin !== null || password.value !== ""],
      ];
      for (const [input, ok] of required) {
        if (ok) input.removeAttribute("aria-invalid");
        else input.setAttribute("aria-invalid", "");
      }
      const firstBad = required.find(([, ok]) => !ok);
      if (firstBad) {
        // A folded field that is wrong is shown, not left invisible.
        if (firstBad[0] !== name && firstBad[0] !== email && offer !== null) unfold();
        firstBad[0].focus();
        replaceChildren(status, banner("error", h("span", { class: "banner-text" }, this.t("relay-form-incomplete"))));
        return;
      }
      const fields = {
        name: name.value.trim(),
        email: email.value.trim(),
        host: host.value.trim(),
        port: portNumber,
        security,
        username: username.value.trim(),
      };
      // A lookup still running is dropped: the form's values are what is saved.
      discoveryRun++;
      if (discovery.querySelector("[data-role=discover-looking]")) replaceChildren(discovery);
      for (const c of controls) c.disabled = true;
      if (signin !== null) {
        replaceChildren(status, h("p", { class: "relay-progress", attrs: { role: "status", "data-role": "signin-opening" } }, spinner(), this.t("relay-oauth-opening", { provider: signin.name })));
        try {
          await this.goSignIn(api, { provider: signin.id, ...fields });
        } catch (e) {
          for (const c of controls) c.disabled = false;
          if (e instanceof ApiError && e.status === 401) {
            this.signOut(this.t("relay-signin-expired"));
            return;
          }
          replaceChildren(status, this.errorBanner(e));
        }
        // On its way to the provider: the page is left as it is until the browser goes.
        return;
      }
      const mailbox: NewMailbox = { ...fields, password: password.value };
      replaceChildren(status, h("p", { class: "relay-progress", attrs: { role: "status" } }, spinner(), this.t("cli-testing")));
      try {
        await api.addMailbox(mailbox);
      } catch (e) {
        for (const c of controls) c.disabled = false;
        if (e instanceof ApiError && e.status === 401) {
          this.signOut(this.t("relay-signin-expired"));
          return;
        }
        replaceChildren(status, this.errorBanner(e));
        if (e instanceof ApiError && e.code === "auth_failed") password.focus();
        return;
      }
      this.toast(this.t("relay-mailbox-added", { name: mailbox.name }));
      location.hash = hrefOf("mailboxes");
    };

    draw();
    queueMicrotask(() => name.focus());
    return [pageHeader(this.t("relay-title-add-mailbox"), this.t("relay-add-mailbox-subtitle")), form];
  }

  // --- devices -----------------------------------------------------------------------------

  private detailRadios(current: Detail, onChange: (detail: Detail) => void): HTMLElement {
    const group = uid("detail");
    return h(
      "fieldset",
      { class: "radio-group folder-choices", attrs: { "data-role": "detail" } },
      h("legend", null, this.t("relay-detail-legend")),
      DETAILS.map((detail) => {
        const id = uid("detail-option");
        return h(
          "div",
          { class: "radio" },
          h("input", {
            attrs: { type: "radio", id, name: group, value: detail, "data-detail": detail },
            props: { checked: detail === current },
            on: { change: () => onChange(detail) },
          }),
          h("label", { attrs: { for: id } }, this.t(`relay-detail-${detail}`)),
        );
      }),
      h("p", { class: "help" }, this.t("relay-detail-help")),
    );
  }

  private async devicesPage(api: RelayApi): Promise<Child[]> {
    const [devices, subscription] = await Promise.all([api.devices(), currentSubscription().catch(() => null)]);
    const storedId = store.get(DEVICE_KEY);
    // This browser's device: the one it registered, or the one with its subscription's endpoint.
    let mine =
      devices.find((d) => storedId !== null && d.id === storedId) ??
      devices.find((d) => subscription !== null && d.endpoint !== "" && d.endpoint === subscription.endpoint) ??
      null;
    if (mine !== null && mine.id !== storedId) store.set(DEVICE_KEY, mine.id);
    if (mine === null && storedId !== null) {
      // Removed from elsewhere: this browser is no longer notified.
      store.set(DEVICE_KEY, null);
      await subscription?.unsubscribe().catch(() => false);
      await forgetForWorker();
    }
    if (mine !== null && subscription === null) {
      // The browser dropped the subscription (site data cleared): the relay cannot reach it.
      await api.removeDevice(mine.id).catch(() => undefined);
      store.set(DEVICE_KEY, null);
      await forgetForWorker();
      mine = null;
    }
    const others = devices.filter((d) => d.id !== mine?.id);
    return [
      pageHeader(this.t("relay-title-devices"), this.t("relay-devices-subtitle")),
      this.thisDeviceCard(api, mine),
      section(
        this.t("relay-other-devices"),
        others.length === 0
          ? h("p", { class: "empty-line" }, this.t("relay-other-devices-empty"))
          : h("ul", { class: "relay-list" }, others.map((d) => this.deviceRow(api, d))),
      ),
    ];
  }

  private thisDeviceCard(api: RelayApi, mine: Device | null): HTMLElement {
    const card = section(this.t("relay-this-device"));
    card.dataset.role = "this-device";
    const support = pushSupport();
    if (support !== "ok") {
      card.append(banner("warning", h("span", { class: "banner-text" }, this.t(support === "ios-needs-home-screen" ? "relay-push-ios" : "relay-push-unsupported"))));
      return card;
    }
    if (mine !== null) {
      const device = mine;
      const fresh = this.justSubscribed;
      this.justSubscribed = false;
      append(card, [
        h(
          "p",
          { class: "relay-on", attrs: { "data-role": "subscribed" } },
          h("span", { class: "state state-ok" }, h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }), this.t("relay-this-device-on")),
          " ",
          h("bdi", { class: "relay-muted" }, mine.name),
        ),
        fresh ? banner("info", h("span", { class: "banner-text", attrs: { "data-role": "test-on-its-way" } }, this.t("relay-test-on-its-way"))) : null,
        this.detailRadios(mine.detail, (detail) => {
          void this.attempt(async () => {
            await api.updateDevice(device.id, { detail });
            this.toast(this.t("relay-saved"));
          });
        }),
        h(
          "div",
          { class: "relay-actions" },
          button(
            this.t("relay-send-test"),
            () =>
              void this.attempt(async () => {
                await api.testDevice(device.id);
                this.toast(this.t("relay-test-on-its-way"));
              }),
            { attrs: { "data-action": "test" } },
          ),
          button(
            this.t("relay-stop-notifying"),
            () =>
              void this.attempt(async () => {
                await unsubscribe().catch(() => undefined);
                await forgetForWorker();
                await api.removeDevice(device.id);
                store.set(DEVICE_KEY, null);
                this.toast(this.t("relay-stopped"));
                this.reload("devices");
              }),
            { kind: "danger", attrs: { "data-action": "stop" } },
          ),
        ),
      ]);
      return card;
    }
    let detail: Detail = "sender";
    const status = h("div", { class: "relay-form-status", attrs: { "aria-live": "polite" } });
    const go = button(
      this.t("relay-notify-this-device"),
      () => {
        void (async () => {
          go.disabled = true;
          replaceChildren(status, h("p", { class: "relay-progress" }, spinner(), this.t("relay-subscribing")));
          try {
            const key = await api.vapidKey();
            // Whatever the worker kept is not this browser's device's (there is none): gone, so
            // that it cannot move another device to the new subscription.
            await forgetForWorker();
            const subscription = await subscribe(key);
            const parts = deviceParts(navigator.userAgent);
            const name = parts.system === "" ? parts.browser : strip(this.t("relay-device-name", parts));
            try {
              const device = await api.addDevice(name, detail, subscription.toJSON());
              store.set(DEVICE_KEY, device.id);
              // For the service worker, to renew the subscription when the browser replaces it.
              await rememberForWorker(subscription, device.renewSecret);
            } catch (e) {
              // The relay did not take it: leave the browser unsubscribed too.
              await subscription.unsubscribe().catch(() => false);
              throw e;
            }
          } catch (e) {
            go.disabled = false;
            if (e instanceof ApiError && e.status === 401) {
              this.signOut(this.t("relay-signin-expired"));
              return;
            }
            replaceChildren(status, this.errorBanner(e));
            return;
          }
          this.justSubscribed = true;
          this.reload("devices");
        })();
      },
      { kind: "primary", attrs: { "data-action": "subscribe" } },
    );
    append(card, [
      h("p", null, this.t("relay-this-device-off")),
      permission() === "denied" ? banner("warning", h("span", { class: "banner-text" }, this.t("relay-push-denied"))) : null,
      this.detailRadios(detail, (next) => (detail = next)),
      status,
      h("div", { class: "relay-actions" }, go),
    ]);
    return card;
  }

  private deviceRow(api: RelayApi, d: Device): HTMLElement {
    const actions = h(
      "div",
      { class: "relay-row-actions" },
      button(this.t("relay-remove"), () => this.confirmRemoval(row, actions, this.t("relay-device-remove-confirm", { name: d.name || d.endpointHost }), remove), {
        kind: "ghost",
        attrs: { "data-action": "remove" },
      }),
    );
    const remove = async () => {
      if (await this.attempt(() => api.removeDevice(d.id))) {
        this.toast(this.t("relay-device-removed"));
        this.reload("devices");
      }
    };
    const since = this.formatDate(d.createdAt);
    const row: HTMLElement = h(
      "li",
      { class: "relay-row", attrs: { "data-device": d.id } },
      h(
        "div",
        { class: "relay-row-main" },
        h(
          "div",
          { class: "relay-row-text" },
          h("span", { class: "account-name" }, h("bdi", { attrs: { "data-role": "name" } }, d.name || this.t("relay-device-unnamed"))),
          h(
            "span",
            { class: "account-sub" },
            this.t(`relay-detail-short-${d.detail}`),
            d.endpointHost ? [" · ", h("bdi", { attrs: { dir: "ltr" } }, d.endpointHost)] : null,
            since ? [" · ", this.t("relay-since", { date: since })] : null,
          ),
        ),
        actions,
      ),
    );
    return row;
  }

  // --- webhooks ----------------------------------------------------------------------------

  private async webhooksPage(api: RelayApi): Promise<Child[]> {
    const hooks = await api.webhooks();
    const fresh = this.freshWebhook;
    this.freshWebhook = null;
    return [
      pageHeader(this.t("relay-title-webhooks"), this.t("relay-webhooks-subtitle")),
      fresh ? this.secretCard(fresh) : null,
      section(
        this.t("relay-webhooks-list"),
        hooks.length === 0
          ? h("p", { class: "empty-line" }, this.t("relay-webhooks-empty"))
          : h("ul", { class: "relay-list" }, hooks.map((w) => this.webhookRow(api, w))),
      ),
      this.addWebhookCard(api),
    ];
  }

  private secretCard(fresh: { url: string; secret: string }): HTMLElement {
    const secret = h("input", {
      class: "relay-secret",
      attrs: { type: "text", readonly: true, dir: "ltr", spellcheck: "false", "data-role": "secret", "aria-label": this.t("relay-webhook-secret") },
      props: { value: fresh.secret },
    });
    return banner(
      "info",
      h("strong", { class: "banner-title" }, this.t("relay-webhook-secret")),
      h("span", { class: "banner-text" }, this.t("relay-webhook-secret-once", { url: fresh.url })),
      h(
        "div",
        { class: "signin-url-row" },
        secret,
        button(
          this.t("relay-copy"),
          () => {
            secret.select();
            void (async () => {
              try {
                await navigator.clipboard.writeText(fresh.secret);
                this.toast(this.t("relay-copied"));
              } catch {
                this.toast(this.t("relay-copy-failed"), "error");
              }
            })();
          },
          { attrs: { "data-action": "copy" } },
        ),
      ),
    );
  }

  private webhookRow(api: RelayApi, w: Webhook): HTMLElement {
    const actions = h(
      "div",
      { class: "relay-row-actions" },
      button(this.t("relay-remove"), () => this.confirmRemoval(row, actions, this.t("relay-webhook-remove-confirm", { url: w.url }), remove), {
        kind: "ghost",
        attrs: { "data-action": "remove" },
      }),
    );
    const remove = async () => {
      if (await this.attempt(() => api.removeWebhook(w.id))) {
        this.toast(this.t("relay-webhook-removed"));
        this.reload("webhooks");
      }
    };
    const row: HTMLElement = h(
      "li",
      { class: "relay-row", attrs: { "data-webhook": w.id } },
      h(
        "div",
        { class: "relay-row-main" },
        h(
          "div",
          { class: "relay-row-text" },
          h("span", { class: "account-name relay-url" }, h("bdi", { attrs: { dir: "ltr", "data-role": "url" } }, w.url)),
          h("span", { class: "account-sub" }, this.t(`relay-detail-short-${w.detail}`)),
          w.disabled ? h("span", { class: "field-error", attrs: { "data-role": "disabled" } }, this.t("relay-webhook-disabled")) : null,
        ),
        actions,
      ),
    );
    return row;
  }

  private addWebhookCard(api: RelayApi): HTMLElement {
    const url = textInput("", { name: "url", type: "url", dir: "ltr", placeholder: "https://example.com/hook", required: true });
    const detail = select<Detail>(
      "sender",
      DETAILS.map((d) => ({ value: d, label: this.t(`relay-detail-${d}`) })),
    );
    detail.name = "detail";
    const status = h("div", { class: "relay-form-status", attrs: { "aria-live": "polite" } });
    const submit = h("button", { class: "button button-primary", attrs: { type: "submit", "data-action": "add-webhook" } }, this.t("relay-webhook-add"));
    return h(
      "form",
      {
        class: "card",
        attrs: { novalidate: true, "data-form": "add-webhook" },
        on: {
          submit: (event) => {
            event.preventDefault();
            void (async () => {
              const value = url.value.trim();
              let valid = false;
              try {
                valid = ["https:", "http:"].includes(new URL(value).protocol);
              } catch {
                valid = false;
              }
              if (!valid) {
                url.setAttribute("aria-invalid", "");
                url.focus();
                replaceChildren(status, banner("error", h("span", { class: "banner-text" }, this.t("relay-webhook-url-invalid"))));
                return;
              }
              url.removeAttribute("aria-invalid");
              submit.disabled = true;
              try {
                const made = await api.addWebhook(value, detail.value as Detail);
                this.freshWebhook = { url: made.url || value, secret: made.secret };
              } catch (e) {
                submit.disabled = false;
                if (e instanceof ApiError && e.status === 401) {
                  this.signOut(this.t("relay-signin-expired"));
                  return;
                }
                replaceChildren(status, this.errorBanner(e));
                return;
              }
              this.reload("webhooks");
            })();
          },
        },
      },
      h("h2", { class: "card-title" }, this.t("relay-webhook-add-title")),
      h("div", { class: "grid" }, field(this.t("relay-webhook-url"), url, { wide: true }), field(this.t("relay-detail-legend"), detail, { wide: true })),
      status,
      h("div", { class: "card-actions" }, submit),
    );
  }
}
