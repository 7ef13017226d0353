// A scripted stand-in for the Rust shell, installed with Tauri's `mockIPC`. Used by the Vitest
// page tests and, bundled by vite.e2e.config.ts, by the Playwright flows. It keeps state like
// the real shell (accounts saved here show up in get_settings), emits test steps as events
// with delays, and records every call so tests can check what reached "Rust".
// Never imported by the shipped app.

import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";

import { I18n } from "../i18n";
import { COMMANDS, EVENTS } from "../ipc";
import type {
  AccountView,
  Activity,
  Discovery,
  Folder,
  LiveAccount,
  NotificationRules,
  ReloadOutcome,
  SettingsView,
  Step,
  StepName,
  TestReport,
} from "../types";

/** Markup and script payloads that must only ever appear as text. */
export const HOSTILE = {
  img: `<img src=x onerror="document.body.dataset.pwned='img';alert(1)">`,
  script: `<script>document.body.dataset.pwned='script';alert(2)</script>`,
  svg: `<svg onload=alert(3)>`,
} as const;

export interface Call {
  command: string;
  args: Record<string, unknown>;
}

export interface Scenario {
  settings: SettingsView;
  /** The tray's accounts, or "not_running". */
  live: LiveAccount[] | "not_running";
  activity: Activity;
  /** Server folder lists per account id (or per host for unsaved accounts). */
  folders: Record<string, Folder[]>;
  /** Unread messages per folder name, as the connection test reports them (else 2). */
  unseen?: Record<string, number>;
  /** Milliseconds between test steps, so progress is visible. */
  stepDelayMs: number;
}

const folder = (name: string, extra: Partial<Folder> = {}): Folder => ({
  name,
  rawName: name,
  display: name,
  delimiter: "/",
  selectable: true,
  specialUse: null,
  ...extra,
});

export function account(id: string, extra: Partial<AccountView> = {}): AccountView {
  return {
    id,
    name: id,
    email: `${id}@example.org`,
    protocol: "imap",
    host: "imap.example.org",
    port: 993,
    security: "tls",
    username: id,
    passwordCommand: "",
    oauthProvider: "",
    oauth: { clientId: "", authorizationEndpoint: "", tokenEndpoint: "", scopes: "", issuer: "" },
    caFile: "",
    folders: ["INBOX"],
    enabled: true,
    mute: false,
    preview: "full",
    open: { kind: "default", value: "" },
    pollIntervalSecs: 60,
    ...extra,
  };
}

export function baseSettings(accounts: AccountView[] = []): SettingsView {
  return {
    configPath: "/home/ana/.config/pushmail/config.toml",
    accounts,
    general: { language: "en", openCommand: "" },
    notifications: {
      enabled: true,
      quietHours: null,
      vip: [],
      summaryThreshold: 3,
      summaryWindowSecs: 10,
      notifyTimeoutSecs: 5,
      historySize: 50,
    },
    knobs: [
      { key: "summary_threshold", min: 1, max: 100, default: 3 },
      { key: "summary_window_secs", min: 1, max: 600, default: 10 },
      { key: "notify_timeout_secs", min: 1, max: 60, default: 5 },
      { key: "history_size", min: 0, max: 1000, default: 50 },
    ],
    systemLanguage: "en",
    autostart: false,
  };
}

/**
 * Two accounts, a running tray, hostile server texts everywhere they can appear: a test vector,
 * never a picture for the docs (the flows save its screenshots under ui/e2e/artifacts/).
 */
export function richScenario(): Scenario {
  return {
    settings: baseSettings([
      account("work", { name: "Work", email: "ana@work.example", folders: ["INBOX", "Lists/Rust"] }),
      account("home", { name: "Home", email: "ana@home.example", host: "imap.home.example" }),
    ]),
    live: [
      { id: "work", name: "Work", state: "push", detail: "", unread: 3, delayMs: 640, delayMessages: 12 },
      { id: "home", name: "Home", state: "auth_failed", detail: `Password rejected ${HOSTILE.img}`, unread: 0, delayMs: null, delayMessages: 0 },
    ],
    activity: {
      notifications: [
        { account: "work", folder: HOSTILE.svg, uid: 42, from: `Mallory ${HOSTILE.img}`, subject: HOSTILE.script, at: 1_763_800_000, delayMs: 412, messageId: "42.mallory@work.example" },
        { account: "work", folder: "INBOX", uid: 41, from: "Li Wei", subject: "Lunch on Friday?", at: 1_763_799_000, delayMs: 2_300, messageId: "CAJ+k7=Op/1.2@mail.gmail.com" },
        { account: "home", folder: "INBOX", uid: 7, from: "Ana Souza", subject: "Photos from the trip", at: "2025-11-22T09:15:00Z" },
      ],
      errors: [
        {
          account: "home",
          state: "auth_failed",
          detail: `login failed: ${HOSTILE.script}`,
          hint: "Check the user name, and set the password again. Some providers need an app password.",
          at: 1_763_800_100,
        },
      ],
    },
    folders: {
      work: [
        folder("INBOX"),
        folder("Archive", { specialUse: "archive" }),
        folder("Lists", { selectable: false }),
        folder("Lists/Rust"),
        folder("Lists/Tauri"),
        folder("Sent", { specialUse: "sent" }),
        folder(HOSTILE.img),
        folder(HOSTILE.script),
        folder("Entwürfe", { rawName: "Entw&APw-rfe", specialUse: "drafts" }),
      ],
      home: [folder("INBOX"), folder("Family")],
      "imap.example.com": [folder("INBOX"), folder("Newsletters"), folder(HOSTILE.img)],
    },
    stepDelayMs: 150,
  };
}

/** Unix seconds `minutes` and a half ago, so "N minutes ago" holds while a flow runs. */
const minutesAgo = (minutes: number): number => Math.floor(Date.now() / 1000) - minutes * 60 - 30;

/**
 * What the README and docs show: two healthy accounts watched by push, and the sample mail that
 * `scripts/run --demo` delivers (tests/src/bin/pushmail-demo.rs), in English, Italian, Arabic
 * and Chinese. No test vectors: the flows that save docs/screenshots/ check that none shows.
 */
export function demoScenario(): Scenario {
  const server = [
    folder("INBOX"),
    folder("Archive", { specialUse: "archive" }),
    folder("Drafts", { specialUse: "drafts" }),
    folder("Sent", { specialUse: "sent" }),
    folder("Junk", { specialUse: "junk" }),
    folder("Trash", { specialUse: "trash" }),
    folder("Projects"),
    folder("Projects/Launch"),
    folder("Newsletters"),
  ];
  return {
    settings: {
      ...baseSettings([
        account("work", {
          name: "Work",
          email: "sam.rivera@company.example",
          host: "imap.company.example",
          username: "sam.rivera@company.example",
          folders: ["INBOX", "Projects/Launch"],
        }),
        account("home", {
          name: "Home",
          email: "sam@mail.example",
          host: "imap.mail.example",
          username: "sam@mail.example",
        }),
      ]),
      configPath: "/home/sam/.config/pushmail/config.toml",
      notifications: {
        ...baseSettings().notifications,
        quietHours: { start: "22:00", end: "07:00" },
        vip: ["giulia@example.it", "@company.example"],
      },
    },
    live: [
      { id: "work", name: "Work", state: "push", detail: "", unread: 3, delayMs: 520, delayMessages: 37 },
      { id: "home", name: "Home", state: "push", detail: "", unread: 2, delayMs: 780, delayMessages: 9 },
    ],
    activity: {
      notifications: [
        { account: "work", folder: "INBOX", uid: 1205, from: "Build bot <ci@example.org>", subject: "Nightly build passed ✔", at: minutesAgo(2), delayMs: 480 },
        { account: "work", folder: "INBOX", uid: 1204, from: "Giulia Rossi <giulia@example.it>", subject: "Riunione spostata a giovedì", at: minutesAgo(9), delayMs: 610 },
        { account: "home", folder: "INBOX", uid: 318, from: "سارة <sara@example.eg>", subject: "تم تأكيد الحجز", at: minutesAgo(17), delayMs: 530 },
        { account: "work", folder: "Projects/Launch", uid: 87, from: "李伟 <li.wei@example.cn>", subject: "会议改到明天上午十点", at: minutesAgo(26), delayMs: 1_700 },
        { account: "home", folder: "INBOX", uid: 317, from: "Ana Pérez <ana@example.com>", subject: "Welcome to Pushmail — this arrived by push", at: minutesAgo(41) },
      ],
      errors: [],
    },
    folders: { work: server, home: [folder("INBOX"), folder("Family"), folder("Receipts")], "imap.company.example": server },
    unseen: { INBOX: 3, Archive: 0, Drafts: 0, Sent: 0, Junk: 4, Trash: 0, Projects: 0, "Projects/Launch": 1, Newsletters: 12 },
    stepDelayMs: 150,
  };
}

/**
 * What a reader of `lang` would have: accounts named in the language, their own addresses and
 * folder names, counts that need different plural forms, and one account in trouble with the
 * server's (English) words — for the screenshots in docs/screenshots/settings-<lang>.png.
 */
export function localizedScenario(lang: "ar" | "zh-TW"): Scenario {
  const words =
    lang === "ar"
      ? {
          work: "العمل",
          home: "المنزل",
          uni: "الجامعة",
          workEmail: "layla.haddad@example.com",
          homeEmail: "layla@example.net",
          uniEmail: "l.haddad@uni.example.edu",
          folders: ["INBOX", "العمل/المشاريع", "الفواتير"],
          from: "سلمى يوسف <salma@example.com>",
          subject: "اجتماع الفريق يوم الأحد",
        }
      : {
          work: "工作",
          home: "個人",
          uni: "學校",
          workEmail: "chen.meiling@example.com.tw",
          homeEmail: "meiling@example.tw",
          uniEmail: "mlchen@uni.example.edu.tw",
          folders: ["INBOX", "工作/專案", "帳單"],
          from: "王小明 <xiaoming@example.tw>",
          subject: "週五的會議改到下午三點",
        };
  const base = demoScenario();
  return {
    ...base,
    settings: {
      ...baseSettings([
        account("work", { name: words.work, email: words.workEmail, folders: words.folders }),
        account("home", { name: words.home, email: words.homeEmail, host: "imap.home.example", pollIntervalSecs: 300 }),
        account("uni", { name: words.uni, email: words.uniEmail, host: "imap.uni.example.edu", folders: ["INBOX", words.folders[2] ?? "INBOX"] }),
      ]),
      notifications: { ...baseSettings().notifications, quietHours: { start: "22:00", end: "07:00" } },
    },
    live: [
      { id: "work", name: words.work, state: "push", detail: "", unread: 3, delayMs: 640, delayMessages: 2 },
      { id: "home", name: words.home, state: "polling", detail: "", unread: 12, delayMs: 95_000, delayMessages: 14 },
      {
        id: "uni",
        name: words.uni,
        state: "auth_failed",
        detail: `login failed for ${words.uniEmail}: [AUTHENTICATIONFAILED] Invalid credentials`,
        unread: 0,
        delayMs: null,
        delayMessages: 0,
      },
    ],
    activity: {
      notifications: [
        { account: "work", folder: words.folders[1] ?? "INBOX", uid: 7, from: words.from, subject: words.subject, at: 1_763_800_000, delayMs: 3_400 },
      ],
      errors: [],
    },
  };
}

/** No account yet; the servers of `base` answer the connection test. */
export function firstRunScenario(base: Scenario = richScenario()): Scenario {
  return { ...base, settings: { ...base.settings, accounts: [] }, live: [], activity: { notifications: [], errors: [] } };
}

/** What each step of a successful test reports for `form`, whose server has `folders`. */
function stepDetail(name: StepName, form: AccountView, folders: number, unseen: number): string {
  switch (name) {
    case "password":
      return "typed in the form (stored when you save)";
    case "tcp":
      return `connected to 192.0.2.10:${form.port}`;
    case "tls":
      return `TLSv1.3 TLS13_AES_256_GCM_SHA384; certificate ${form.host} issued by Example CA`;
    case "login":
      return "logged in";
    case "capabilities":
      return form.protocol === "pop3" ? "UIDL yes, TOP yes" : "IDLE yes, NOTIFY no, CONDSTORE yes, QRESYNC yes";
    case "folders":
      return form.protocol === "pop3"
        ? `${unseen} messages in the mailbox, each with a unique id (UIDL)`
        : `${folders} folders; watching INBOX (${unseen} unread)`;
  }
}

/** Where a test against `account` fails, by host/password convention. */
function failure(form: AccountView, password: string | null): { step: StepName; detail: string; hint: string } | null {
  if (form.host.startsWith("unreachable")) {
    return {
      step: "tcp",
      detail: `cannot reach ${form.host}:${form.port}: connection refused`,
      hint: "Check the host name and port, and that this computer is online.",
    };
  }
  if (form.host.startsWith("selfsigned")) {
    return {
      step: "tls",
      detail: `TLS failed: the server's certificate is signed by an unknown authority (${form.host}) ${HOSTILE.img}`,
      hint: "If the server uses its own certificate authority, set ca_file in the account's settings.",
    };
  }
  if (password === "wrong") {
    return {
      step: "login",
      detail: `login failed: [AUTHENTICATIONFAILED] ${HOSTILE.script}`,
      hint: "Check the user name, and set the password again. Some providers need an app password.",
    };
  }
  return null;
}

/**
 * What discovery finds, by the address's domain (the real lookup is the core's, tested there):
 * a provider that signs in (gmail.com, outlook.com), a domain's own configuration
 * (company.example, example.com), a look-alike of a well-known domain whose server is
 * elsewhere (gmaii.com), nothing (anything else), and one that keeps looking until cancelled
 * (slow.example).
 */
function discovered(address: string, lang: string, taken: readonly string[]): Discovery {
  const i18n = new I18n(lang);
  const [local = "", domain = ""] = address.trim().toLowerCase().split("@");
  let id = local.replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "") || "mail";
  for (let n = 2; taken.includes(id); n += 1) id = `${local}-${n}`;
  const found = (host: string, source: string, extra: Partial<Extract<Discovery, { outcome: "found" }>> = {}, form: Partial<AccountView> = {}): Discovery => ({
    outcome: "found",
    account: { ...account(id, { name: id, email: address.trim(), host, username: address.trim() }), ...form },
    login: { kind: "password" },
    loginText: i18n.t("discover-login-password"),
    source,
    warnings: [],
    note: null,
    provider: null,
    suggestedId: id,
    ...extra,
  });
  switch (domain) {
    case "gmail.com":
      return found("imap.gmail.com", i18n.t("discover-source-provider-list", { provider: "Gmail" }), {
        login: { kind: "oauth2", provider: "google" },
        loginText: i18n.t("discover-login-signin", { provider: "Google" }),
        note: i18n.t("provider-note-app-password", { provider: "Gmail" }),
        provider: "Gmail",
      }, { oauthProvider: "google", open: { kind: "url", value: "https://mail.google.com/" } });
    case "outlook.com":
      return found("outlook.office365.com", i18n.t("discover-source-provider-list", { provider: "Outlook.com" }), {
        login: { kind: "oauth2", provider: "microsoft" },
        loginText: i18n.t("discover-login-signin", { provider: "Microsoft" }),
        provider: "Outlook.com",
      }, { oauthProvider: "microsoft", open: { kind: "url", value: "https://outlook.live.com/mail/" } });
    case "company.example":
    case "example.com":
      return found(`imap.${domain}`, i18n.t("discover-source-autoconfig", { domain }));
    case "gmaii.com":
      return found("mail.mailhost.example", i18n.t("discover-source-autoconfig-mx", { domain, mx: "mx1.mailhost.example" }), {
        warnings: [
          i18n.t("discover-warning-look-alike", { domain, imitates: "gmail.com" }),
          i18n.t("discover-warning-outside", { host: "mail.mailhost.example", domain, owner: "mailhost.example" }),
        ],
      });
    default:
      return {
        outcome: "notFound",
        message: i18n.t("discover-not-found", { domain }),
        notes: [`https://autoconfig.${domain}/mail/config-v1.1.xml: not found (404)`, `imap.${domain}:993: no answer`],
      };
  }
}

export class FakeBackend {
  readonly calls: Call[] = [];
  /** Passwords "stored in the keyring", by account id. Never returned by any command. */
  readonly keyring = new Map<string, string>();
  scenario: Scenario;
  /** What `take_shown_account` gives once (`--account ID`). */
  shownAccount: string | null = null;
  /** Ends a waiting `sign_in`: "approved", "denied" or "cancelled". */
  signInPending: ((answer: string) => void) | null = null;

  /** Ends a waiting `discover_account` (cancel_discovery). */
  discoveryPending: (() => void) | null = null;

  /** What `open_message` answers when the tray runs and knows the account: null = opened. */
  openFailure: { kind: string; message: string } | null = null;

  /** The "browser" answers the waiting sign-in. */
  approveSignIn(answer: "approved" | "denied" = "approved"): void {
    this.signInPending?.(answer);
  }

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    for (const a of scenario.settings.accounts) this.keyring.set(a.id, "stored-secret");
  }

  private outcome(): ReloadOutcome {
    return this.scenario.live === "not_running" ? { tray: "not_running" } : { tray: "reloaded" };
  }

  private saved(): ReloadOutcome {
    void emit(EVENTS.settingsUpdated, null);
    return this.outcome();
  }

  callsOf(command: string): Call[] {
    return this.calls.filter((c) => c.command === command);
  }

  async handle(command: string, args: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ command, args: structuredClone(args) });
    const s = this.scenario;
    const fail = (kind: string, message: string) => Promise.reject({ kind, message });
    switch (command) {
      case COMMANDS.getSettings:
        return structuredClone(s.settings);
      case COMMANDS.trayAccounts:
        return s.live === "not_running" ? fail("tray_not_running", "Pushmail is not running.") : structuredClone(s.live);
      case COMMANDS.trayActivity:
        return s.live === "not_running" ? fail("tray_not_running", "Pushmail is not running.") : structuredClone(s.activity);
      case COMMANDS.startTray:
        s.live = s.settings.accounts.map((a) => ({ id: a.id, name: a.name, state: "connecting", detail: "", unread: 0, delayMs: null, delayMessages: 0 }));
        return null;
      case COMMANDS.checkNow:
        return null;
      case COMMANDS.openMessage:
        if (s.live === "not_running") {
          return fail("tray_not_running", "Pushmail is not running, so there is no live state to show.");
        }
        if (!s.live.some((a) => a.id === args.account)) {
          return fail("not_found", "The running Pushmail does not know this account: it may have been removed since. Refresh the list.");
        }
        return this.openFailure ? fail(this.openFailure.kind, this.openFailure.message) : null;
      case COMMANDS.providerForAddress: {
        const domain = String(args.address).split("@")[1]?.toLowerCase() ?? "";
        const known: Record<string, [string, string]> = {
          "gmail.com": ["google", "imap.gmail.com"],
          "outlook.com": ["microsoft", "outlook.office365.com"],
          "yahoo.com": ["yahoo", "imap.mail.yahoo.com"],
          "fastmail.com": ["fastmail", "imap.fastmail.com"],
        };
        const hit = known[domain];
        return hit ? { provider: hit[0], imapHost: hit[1], imapPort: 993 } : null;
      }
      case COMMANDS.discoverAccount: {
        const run = args.run as number;
        const address = String(args.address).trim();
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
          return fail("invalid", `\`${address}\` is not an e-mail address (it needs one @ with a name before it)`);
        }
        const lang = s.settings.general.language === "auto" ? s.settings.systemLanguage : s.settings.general.language;
        const i18n = new I18n(lang);
        const domain = address.split("@")[1]?.toLowerCase() ?? "";
        const places = [
          i18n.t("discover-looking", { where: i18n.t("discover-looking-providers") }),
          i18n.t("discover-looking", { where: `https://autoconfig.${domain}/mail/config-v1.1.xml` }),
          i18n.t("discover-looking", { where: i18n.t("discover-looking-mx", { domain }) }),
        ];
        let cancelled = false;
        this.discoveryPending = () => (cancelled = true);
        for (const line of places) {
          if (cancelled) break;
          await emit(EVENTS.discoverProgress, { run, line });
          await new Promise((resolve) => setTimeout(resolve, s.stepDelayMs));
        }
        while (domain === "slow.example" && !cancelled) await new Promise((resolve) => setTimeout(resolve, 10));
        this.discoveryPending = null;
        if (cancelled) return { outcome: "cancelled" };
        return discovered(address, lang, s.settings.accounts.map((a) => a.id));
      }
      case COMMANDS.cancelDiscovery:
        this.discoveryPending?.();
        return null;
      case COMMANDS.applyDiscovered:
        return null;
      case COMMANDS.takeShownAccount: {
        const id = this.shownAccount;
        this.shownAccount = null;
        return id;
      }
      case COMMANDS.cancelSignIn:
        this.signInPending?.("cancelled");
        return null;
      case COMMANDS.signIn: {
        const form = args.account as AccountView;
        const run = args.run as number;
        const url = `https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=pushmail.apps.example&login_hint=${encodeURIComponent(form.email)}&scope=https%3A%2F%2Fmail.google.com%2F&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A41427%2F`;
        setTimeout(() => void emit(EVENTS.signInUrl, { run, url }), 50);
        // Waits for the "browser" until the test calls `approveSignIn` or cancels.
        const answer = await new Promise<string>((resolve) => (this.signInPending = resolve));
        this.signInPending = null;
        if (answer === "cancelled") return fail("sign_in", "The sign-in was cancelled; nothing was stored.");
        if (answer === "denied") return fail("sign_in", "Access was denied at the provider's page; nothing was stored. Press “Sign in” to try again.");
        const saved = { ...structuredClone(form), name: form.name.trim() || form.id };
        const index = s.settings.accounts.findIndex((a) => a.id === form.id);
        if (index >= 0) s.settings.accounts[index] = saved;
        else s.settings.accounts.push(saved);
        return this.saved();
      }
      case COMMANDS.saveAccount: {
        const originalId = args.originalId as string | null;
        const form = args.account as AccountView;
        const password = args.password as string | null;
        if (originalId === null && s.settings.accounts.some((a) => a.id.toLowerCase() === form.id.toLowerCase())) {
          return fail("invalid", `There is already an account with the id \`${form.id}\`; choose another id.`);
        }
        if (!/^[A-Za-z0-9_-]{1,32}$/.test(form.id)) {
          return fail("invalid", "account: `id` must be 1 to 32 characters of A-Z, a-z, 0-9, _ and -");
        }
        if (form.protocol === "pop3" && (form.folders.length !== 1 || form.folders[0] !== "INBOX")) {
          return fail("invalid", `account \`${form.id}\`: \`folders\`: a POP3 account has a single mailbox and no folders`);
        }
        if (form.security === "plain" && !["localhost", "127.0.0.1", "::1"].includes(form.host)) {
          return fail("invalid", `account \`${form.id}\`: \`security = "plain"\` is only allowed for a loopback host`);
        }
        if (originalId === null && form.passwordCommand === "" && form.oauthProvider === "" && password === null) {
          return fail("invalid", "Enter the account's password.");
        }
        if (password !== null) this.keyring.set(form.id, password);
        const saved = { ...structuredClone(form), name: form.name.trim() || form.id };
        const index = s.settings.accounts.findIndex((a) => a.id === originalId);
        if (index >= 0) s.settings.accounts[index] = saved;
        else s.settings.accounts.push(saved);
        return this.saved();
      }
      case COMMANDS.removeAccount: {
        const id = args.id as string;
        s.settings.accounts = s.settings.accounts.filter((a) => a.id !== id);
        this.keyring.delete(id);
        if (s.live !== "not_running") s.live = s.live.filter((l) => l.id !== id);
        return this.saved();
      }
      case COMMANDS.saveFolders: {
        const target = s.settings.accounts.find((a) => a.id === args.id);
        if (!target) return fail("not_found", "There is no such account any more.");
        target.folders = structuredClone(args.folders as string[]);
        return this.saved();
      }
      case COMMANDS.saveNotificationRules: {
        const rules = args.rules as NotificationRules;
        s.settings.notifications = structuredClone(rules.notifications);
        for (const rule of rules.accounts) {
          const target = s.settings.accounts.find((a) => a.id === rule.id);
          if (target) Object.assign(target, { mute: rule.mute, preview: rule.preview });
        }
        return this.saved();
      }
      case COMMANDS.saveGeneral:
        s.settings.general = structuredClone(args.general as SettingsView["general"]);
        return this.saved();
      case COMMANDS.setAutostart:
        s.settings.autostart = args.enabled as boolean;
        return s.settings.autostart;
      case COMMANDS.listFolders: {
        if (s.settings.accounts.find((a) => a.id === args.id)?.protocol === "pop3") {
          return fail("invalid", "A POP3 account has a single mailbox and no folders to choose.");
        }
        const list = s.folders[args.id as string];
        return list ? structuredClone(list) : fail("connect", "cannot reach imap.example.org:993: connection refused. Check the host name and port, and that this computer is online.");
      }
      case COMMANDS.testConnection:
        return this.test(args.run as number, args.account as AccountView, (args.password as string | null) ?? null);
      default:
        return fail("internal", `unknown command ${command}`);
    }
  }

  private async test(run: number, form: AccountView, password: string | null): Promise<TestReport> {
    const failed = failure(form, password);
    const server = this.scenario.folders[form.host] ?? [folder("INBOX")];
    const unseen = (name: string) => this.scenario.unseen?.[name] ?? 2;
    const steps: Step[] = [];
    for (const name of ["password", "tcp", "tls", "login", "capabilities", "folders"] as const) {
      await new Promise((resolve) => setTimeout(resolve, this.scenario.stepDelayMs));
      const step: Step =
        failed?.step === name
          ? { step: name, ok: false, detail: failed.detail, hint: failed.hint, millis: 12 }
          : { step: name, ok: true, detail: stepDetail(name, form, server.length, unseen("INBOX")), millis: 12 };
      steps.push(step);
      await emit(EVENTS.probeStep, { run, step });
      if (!step.ok) break;
    }
    const ok = failed === null;
    if (form.protocol === "pop3") {
      // Like the core: the one mailbox, its message count, no unread count (POP3 has no flags).
      const inbox = { name: "INBOX", display: "INBOX", messages: unseen("INBOX"), unseen: null, watched: true };
      return { ok, steps, strategy: ok ? `POP3: checked every ${form.pollIntervalSecs} s; POP3 cannot tell when you read mail elsewhere` : "", folders: ok ? [inbox] : [] };
    }
    const folders = ok
      ? server.map((f) => ({
          name: f.name,
          display: f.display,
          messages: 10,
          unseen: unseen(f.name),
          watched: form.folders.includes(f.name),
        }))
      : [];
    return { ok, steps, strategy: ok ? "IDLE push: 1 folder on 1 connection" : "", folders };
  }
}

/** Installs `backend` behind the real `invoke`/`listen` (events are delivered locally). */
export function install(backend: FakeBackend): void {
  mockIPC((command, args) => backend.handle(command, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
}

export { clearMocks };
