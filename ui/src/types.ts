// The shapes exchanged with the Rust shell. Twins of src-tauri/src/view.rs, tray.rs,
// commands/probe.rs and pushmail_core::folders; keep them in step.

export type Protocol = "imap" | "pop3";
export type Security = "tls" | "starttls" | "plain";
export type Preview = "full" | "sender" | "count";
export type Language = "auto" | "en" | "it" | "zh-TW" | "zh-CN" | "ar";
export type OpenKind = "default" | "url" | "command";

export const LANGUAGES: readonly Language[] = ["auto", "en", "it", "zh-TW", "zh-CN", "ar"];
export const PREVIEWS: readonly Preview[] = ["full", "sender", "count"];
export const SECURITIES: readonly Security[] = ["tls", "starttls", "plain"];
/** In the order the form offers them: IMAP, the default, first. */
export const PROTOCOLS: readonly Protocol[] = ["imap", "pop3"];

export interface OpenView {
  kind: OpenKind;
  value: string;
}

/** `""` = not set; scopes space-separated. */
export interface OAuthView {
  clientId: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string;
  issuer: string;
}

/** The providers with a built-in sign-in (`oauth::provider::BUILTIN`), then `custom`. */
export const SIGNIN_PROVIDERS = ["google", "microsoft", "yahoo", "aol", "fastmail", "custom"] as const;

/** Brand names: not translated. */
export const PROVIDER_NAMES: Record<string, string> = {
  google: "Google",
  microsoft: "Microsoft",
  yahoo: "Yahoo",
  aol: "AOL",
  fastmail: "Fastmail",
};

export interface ProviderSuggestion {
  provider: string;
  imapHost: string;
  imapPort: number;
}

/** How a found account logs in: a password, or at its provider (`google`, `microsoft`, …). */
export type LoginView = { kind: "password" } | { kind: "oauth2"; provider: string };

/** What discovery found (`commands::discover::FoundView`), every text in the window's language. */
export interface FoundView {
  /** The form's values: server, port, security, user name, address, sign-in, webmail as "Open". */
  account: AccountView;
  login: LoginView;
  /** "with a password" / "by signing in with Microsoft". */
  loginText: string;
  /** Where the settings came from. */
  source: string;
  /** What to check before continuing: a look-alike domain, a server outside the domain… */
  warnings: string[];
  /** What to do at the provider first (an app password…), if anything. */
  note: string | null;
  /** The provider's name ("Outlook.com"), if known. */
  provider: string | null;
  suggestedId: string;
}

/** The outcome of `discover_account`. */
export type Discovery =
  | ({ outcome: "found" } & FoundView)
  | { outcome: "notFound"; message: string; notes: string[] }
  | { outcome: "cancelled" };

/** `discover://progress`: where discovery `run` is looking now, in words. */
export interface DiscoverProgressEvent {
  run: number;
  line: string;
}

/** `signin://url`: the provider's page of sign-in `run`, as the browser was asked to open it. */
export interface SignInUrlEvent {
  run: number;
  url: string;
}

export interface AccountView {
  id: string;
  name: string;
  email: string;
  protocol: Protocol;
  host: string;
  port: number;
  security: Security;
  username: string;
  /** "" = the OS keyring. */
  passwordCommand: string;
  /** The provider the account signs in at (OAuth2): google, microsoft, …, custom; "" = a password. */
  oauthProvider: string;
  /** The sign-in's own settings: what a `custom` provider needs, overrides for a built-in one. */
  oauth: OAuthView;
  caFile: string;
  /** Always ["INBOX"] for POP3: one mailbox, no folders. */
  folders: string[];
  enabled: boolean;
  mute: boolean;
  preview: Preview;
  open: OpenView;
  /** Read-only. */
  pollIntervalSecs: number;
}

export interface GeneralView {
  language: Language;
  openCommand: string;
}

export interface QuietHoursView {
  start: string;
  end: string;
}

export interface NotificationsView {
  enabled: boolean;
  quietHours: QuietHoursView | null;
  vip: string[];
  summaryThreshold: number;
  summaryWindowSecs: number;
  notifyTimeoutSecs: number;
  historySize: number;
}

export interface KnobView {
  key: string;
  min: number;
  max: number;
  default: number;
}

export interface SettingsView {
  configPath: string;
  accounts: AccountView[];
  general: GeneralView;
  notifications: NotificationsView;
  knobs: KnobView[];
  systemLanguage: string;
  autostart: boolean;
}

export interface AccountRule {
  id: string;
  mute: boolean;
  preview: Preview;
}

export interface NotificationRules {
  notifications: NotificationsView;
  accounts: AccountRule[];
}

/** What a save did to the running tray. */
export type ReloadOutcome =
  | { tray: "reloaded" }
  | { tray: "not_running" }
  | { tray: "failed"; message: string };

export type StepName = "password" | "tcp" | "tls" | "login" | "capabilities" | "folders";
export const STEPS: readonly StepName[] = ["password", "tcp", "tls", "login", "capabilities", "folders"];

export interface Step {
  step: StepName;
  ok: boolean;
  detail: string;
  hint?: string;
  millis: number;
}

export interface StepEvent {
  run: number;
  step: Step;
}

export interface FolderChoice {
  name: string;
  display: string;
  messages: number | null;
  unseen: number | null;
  watched: boolean;
}

export interface TestReport {
  ok: boolean;
  steps: Step[];
  strategy: string;
  folders: FolderChoice[];
}

export type SpecialUse = "all" | "archive" | "drafts" | "flagged" | "junk" | "sent" | "trash";

export interface Folder {
  /** Decoded: what the config's `folders` holds. */
  name: string;
  /** As the server lists it (modified UTF-7). */
  rawName: string;
  display: string;
  delimiter: string | null;
  selectable: boolean;
  specialUse: SpecialUse | null;
}

export interface LiveAccount {
  id: string;
  name: string;
  state: string;
  detail: string;
  unread: number;
  /**
   * The median time in ms from a message reaching the server to its announcement, live mail
   * of the last 24 hours (`GetDelays`); null when there is no figure.
   */
  delayMs: number | null;
  /** How many messages `delayMs` is the median of. */
  delayMessages: number;
}

export type Timestamp = number | string | null;

export interface ActivityNotification {
  account: string;
  folder: string;
  uid: number;
  from: string;
  subject: string;
  at: Timestamp;
  /** From the message reaching the server to its announcement, in ms, when plausible. */
  delayMs?: number;
  /** What opens this message (`openMessage`); absent when the tray gave none. */
  messageId?: string;
}

export interface ActivityError {
  account: string;
  state: string;
  detail: string;
  hint?: string;
  at: Timestamp;
}

export interface Activity {
  notifications: ActivityNotification[];
  errors: ActivityError[];
}

export type TrayChange = "presence" | "accounts" | "activity";
