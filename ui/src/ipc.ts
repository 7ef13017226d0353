// The only module that talks to the Rust shell: every `invoke` and `listen` in the UI goes
// through the typed wrappers below, with command and event names from the two tables.
// Errors come back as `IpcError` with the shell's `kind`, which callers branch on.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type {
  AccountView,
  Activity,
  DiscoverProgressEvent,
  Discovery,
  Folder,
  GeneralView,
  LiveAccount,
  NotificationRules,
  ReloadOutcome,
  ProviderSuggestion,
  SettingsView,
  SignInUrlEvent,
  StepEvent,
  TestReport,
  TrayChange,
} from "./types";

/** Every app command (`src-tauri/build.rs` and `capabilities/main.json` list the same). */
export const COMMANDS = {
  getSettings: "get_settings",
  saveAccount: "save_account",
  removeAccount: "remove_account",
  saveFolders: "save_folders",
  saveNotificationRules: "save_notification_rules",
  saveGeneral: "save_general",
  setAutostart: "set_autostart",
  testConnection: "test_connection",
  listFolders: "list_folders",
  trayAccounts: "tray_accounts",
  trayActivity: "tray_activity",
  startTray: "start_tray",
  checkNow: "check_now",
  openMessage: "open_message",
  signIn: "sign_in",
  cancelSignIn: "cancel_sign_in",
  providerForAddress: "provider_for_address",
  takeShownAccount: "take_shown_account",
  discoverAccount: "discover_account",
  cancelDiscovery: "cancel_discovery",
  applyDiscovered: "apply_discovered",
} as const;

/** Every event the shell emits (`src-tauri/src/events.rs`). */
export const EVENTS = {
  probeStep: "probe://step",
  settingsUpdated: "settings://updated",
  trayChanged: "tray://changed",
  signInUrl: "signin://url",
  showAccount: "settings://show-account",
  discoverProgress: "discover://progress",
} as const;

/** `ErrorKind` in `src-tauri/src/error.rs`, plus `internal` for anything unexpected. */
export type ErrorKind =
  | "invalid"
  | "config_unreadable"
  | "config_write"
  | "not_found"
  | "keyring"
  | "connect"
  | "tray_not_running"
  | "tray"
  | "spawn"
  | "io"
  | "sign_in"
  | "internal";

const KINDS: ReadonlySet<string> = new Set<ErrorKind>([
  "invalid",
  "config_unreadable",
  "config_write",
  "not_found",
  "keyring",
  "connect",
  "tray_not_running",
  "tray",
  "spawn",
  "io",
  "sign_in",
  "internal",
]);

export class IpcError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = "IpcError";
    this.kind = kind;
  }

  /** Whatever a rejected `invoke` gave us → an IpcError (the shell sends `{kind, message}`). */
  static from(raw: unknown): IpcError {
    if (raw instanceof IpcError) return raw;
    if (typeof raw === "object" && raw !== null) {
      const { kind, message } = raw as { kind?: unknown; message?: unknown };
      if (typeof kind === "string" && KINDS.has(kind) && typeof message === "string") {
        return new IpcError(kind as ErrorKind, message);
      }
    }
    const message = raw instanceof Error ? raw.message : String(raw);
    return new IpcError("internal", message);
  }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw IpcError.from(raw);
  }
}

export const api = {
  getSettings: () => call<SettingsView>(COMMANDS.getSettings),

  /** `originalId` null = a new account. `password` empty = keep the stored one. */
  saveAccount: (originalId: string | null, account: AccountView, password: string) =>
    call<ReloadOutcome>(COMMANDS.saveAccount, {
      originalId,
      account,
      password: password === "" ? null : password,
    }),

  removeAccount: (id: string) => call<ReloadOutcome>(COMMANDS.removeAccount, { id }),

  saveFolders: (id: string, folders: string[]) =>
    call<ReloadOutcome>(COMMANDS.saveFolders, { id, folders }),

  saveNotificationRules: (rules: NotificationRules) =>
    call<ReloadOutcome>(COMMANDS.saveNotificationRules, { rules }),

  saveGeneral: (general: GeneralView) => call<ReloadOutcome>(COMMANDS.saveGeneral, { general }),

  setAutostart: (enabled: boolean) => call<boolean>(COMMANDS.setAutostart, { enabled }),

  /** Steps arrive as `probe://step` events tagged with `run` while this is pending. */
  testConnection: (run: number, originalId: string | null, account: AccountView, password: string) =>
    call<TestReport>(COMMANDS.testConnection, {
      run,
      originalId,
      account,
      password: password === "" ? null : password,
    }),

  listFolders: (id: string) => call<Folder[]>(COMMANDS.listFolders, { id }),

  trayAccounts: () => call<LiveAccount[]>(COMMANDS.trayAccounts),

  trayActivity: () => call<Activity>(COMMANDS.trayActivity),

  startTray: () => call<null>(COMMANDS.startTray),

  checkNow: (account: string) => call<null>(COMMANDS.checkNow, { account }),

  /**
   * Opens one message of Activity as "Open" on its popup would; `messageId` as Activity gave
   * it, "" when it gave none (the account's usual mail client or webmail opens).
   */
  openMessage: (account: string, messageId: string) => call<null>(COMMANDS.openMessage, { account, messageId }),

  /**
   * Signs the form's account in at its provider in the desktop's browser and saves it. The
   * page's address arrives as a `signin://url` event tagged with `run` while this is pending.
   */
  signIn: (run: number, originalId: string | null, account: AccountView) =>
    call<ReloadOutcome>(COMMANDS.signIn, { run, originalId, account }),

  cancelSignIn: () => call<null>(COMMANDS.cancelSignIn),

  /** The built-in provider of an address ("google", …) and its IMAP server, or null. */
  providerForAddress: (address: string) => call<ProviderSuggestion | null>(COMMANDS.providerForAddress, { address }),

  /** The account `--account ID` asked to show, once; null when none. */
  takeShownAccount: () => call<string | null>(COMMANDS.takeShownAccount),

  /**
   * Looks the server settings of an address up. Where it looks arrives as `discover://progress`
   * events tagged with `run` while this is pending.
   */
  discoverAccount: (run: number, address: string) => call<Discovery>(COMMANDS.discoverAccount, { run, address }),

  /** Ends a running discovery; it then answers `cancelled`. */
  cancelDiscovery: () => call<null>(COMMANDS.cancelDiscovery),

  /** Gives the account just saved from the last discovery its provider's push facts; null = nothing to change. */
  applyDiscovered: (id: string) => call<ReloadOutcome | null>(COMMANDS.applyDiscovered, { id }),
};

export type Api = typeof api;

export const events = {
  onProbeStep: (handler: (event: StepEvent) => void): Promise<UnlistenFn> =>
    listen<StepEvent>(EVENTS.probeStep, (e) => handler(e.payload)),

  onSettingsUpdated: (handler: () => void): Promise<UnlistenFn> =>
    listen<null>(EVENTS.settingsUpdated, () => handler()),

  onTrayChanged: (handler: (change: TrayChange) => void): Promise<UnlistenFn> =>
    listen<TrayChange>(EVENTS.trayChanged, (e) => handler(e.payload)),

  onSignInUrl: (handler: (event: SignInUrlEvent) => void): Promise<UnlistenFn> =>
    listen<SignInUrlEvent>(EVENTS.signInUrl, (e) => handler(e.payload)),

  onDiscoverProgress: (handler: (event: DiscoverProgressEvent) => void): Promise<UnlistenFn> =>
    listen<DiscoverProgressEvent>(EVENTS.discoverProgress, (e) => handler(e.payload)),

  onShowAccount: (handler: () => void): Promise<UnlistenFn> => listen<null>(EVENTS.showAccount, () => handler()),
};

export type Events = typeof events;
