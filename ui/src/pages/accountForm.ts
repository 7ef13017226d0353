// Add or edit an account, with "Test connection" showing each step as the server answers it
// (steps arrive as `probe://step` events while the test runs) and, when a step fails, what to
// do about it. The password goes from this form to the keyring and is never read back.
// A POP3 account has one mailbox and no push: the form hides the folder choice and says so.
// An account can instead sign in at its provider (OAuth2): "Log in with" is preselected from the
// address's domain, and the password fields give way to a "Sign in with …" button that opens
// the desktop's own browser (the shell does that), shows the page's address with a Copy button
// while it waits, then saves the account and runs the connection test.

import type { Context } from "../context";
import { h, replaceChildren, uid } from "../dom";
import { IpcError } from "../ipc";
import {
  PROTOCOLS,
  PROVIDER_NAMES,
  SECURITIES,
  SIGNIN_PROVIDERS,
  STEPS,
  type AccountView,
  type FolderChoice,
  type OpenKind,
  type Protocol,
  type Security,
  type Step,
  type StepName,
  type TestReport,
} from "../types";
import { banner, button, errorBox, field, pageHeader, section, select, spinner, textInput, toggle } from "../widgets";

/** The IANA ports, as the core's `Protocol::default_port`: imaps/imap, pop3s/pop3. */
const DEFAULT_PORT: Record<Protocol, Record<Security, number>> = {
  imap: { tls: 993, starttls: 143, plain: 143 },
  pop3: { tls: 995, starttls: 110, plain: 110 },
};

function defaultPort(protocol: Protocol, security: Security): number {
  return DEFAULT_PORT[protocol][security];
}

/** The one mailbox of a POP3 account, as the core names it. */
const POP3_FOLDERS: readonly string[] = ["INBOX"];

/** Test runs are numbered so steps of an abandoned run are ignored. */
let lastRun = 0;

/** Sign-ins too, so the address of an abandoned one is never shown. */
let lastSignIn = 0;

/** How long the shell waits for the browser (`oauth::DEFAULT_SIGNIN_TIMEOUT`). */
const SIGNIN_MINUTES = 5;

/** "password", or the provider the account signs in at. */
type Method = "password" | (typeof SIGNIN_PROVIDERS)[number];

export function blankAccount(): AccountView {
  return {
    id: "",
    name: "",
    email: "",
    protocol: "imap",
    host: "",
    port: defaultPort("imap", "tls"),
    security: "tls",
    username: "",
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
  };
}

/** A short, unique id from what the user typed: "Ana's Work" → "anas-work". */
export function suggestId(source: string, taken: readonly string[]): string {
  const base =
    source
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/@.*$/, "")
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 28) || "account";
  const lower = new Set(taken.map((id) => id.toLowerCase()));
  let id = base;
  for (let n = 2; lower.has(id); n += 1) id = `${base}-${n}`;
  return id;
}

type StepState = { status: "pending" } | { status: "running" } | { status: "done"; step: Step };

/** How Add account's later steps (pages/addAccount.ts) use the form; editing uses none of it. */
export interface FormOptions {
  /** A new account starts from these values: what discovery found, or the address typed. */
  prefill?: AccountView;
  /**
   * Discovery found the settings: this summary stands in for the account and server sections,
   * "Continue" shows the password (or the provider's sign-in), then one button tests and saves.
   * The account id is under Advanced.
   */
  summary?: HTMLElement;
  /** Shown above the form: why it opened (nothing was found). */
  notice?: HTMLElement | null;
  /** Back to the address. */
  onBack?: () => void;
  /** From the summary to the whole form, with the values as they are now. */
  onManual?: (form: AccountView) => void;
  /** The values came from a discovery: once saved, the account gets its provider's push facts. */
  discovered?: boolean;
}

export function renderAccountForm(ctx: Context, id: string | null, signedIn = false, options: FormOptions = {}): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const existing = id === null ? undefined : ctx.settings.accounts.find((a) => a.id === id);
  if (id !== null && existing === undefined) {
    return h(
      "div",
      { class: "page" },
      errorBox(ctx.i18n, new IpcError("not_found", id)),
      button(t("settings-back"), () => ctx.navigate({ page: "accounts" })),
    );
  }
  const isNew = existing === undefined;
  const firstRun = ctx.settings.accounts.length === 0;
  const form: AccountView = existing
    ? { ...blankAccount(), ...structuredClone(existing) }
    : { ...blankAccount(), ...structuredClone(options.prefill ?? {}) };
  const compact = isNew && options.summary !== undefined;
  let password = "";
  let idTouched = !isNew || form.id !== "";
  const otherIds = ctx.settings.accounts.map((a) => a.id).filter((a) => a !== id);

  // --- inputs ----------------------------------------------------------------------------

  const nameInput = textInput(form.name, { name: "name", autocomplete: "off" });
  const emailInput = textInput(form.email, { name: "email", type: "email", inputmode: "email" });
  const idInput = textInput(form.id, {
    name: "id",
    maxlength: 32,
    pattern: "[A-Za-z0-9_\\-]{1,32}",
    readonly: !isNew,
    required: true,
  });
  const hostInput = textInput(form.host, { name: "host", required: true });
  const portInput = h("input", {
    attrs: { type: "number", name: "port", min: 1, max: 65535, required: true },
    props: { value: String(form.port) },
  });
  /**
   * A new protocol or security moves the port to its default, but only while the port is still
   * the previous choice's default: a port the user typed is theirs.
   */
  const connectVia = (protocol: Protocol, security: Security) => {
    const previous = defaultPort(form.protocol, form.security);
    form.protocol = protocol;
    form.security = security;
    if (form.port === previous) {
      form.port = defaultPort(protocol, security);
      portInput.value = String(form.port);
    }
  };
  const protocolSelect = select(
    form.protocol,
    PROTOCOLS.map((p) => ({ value: p, label: t(`settings-protocol-${p}`) })),
    (protocol) => {
      connectVia(protocol, form.security);
      showProtocol();
    },
  );
  protocolSelect.name = "protocol";
  protocolSelect.id = uid("protocol");
  const securitySelect = select(
    form.security,
    SECURITIES.map((s) => ({ value: s, label: t(`settings-security-${s}`) })),
    (security) => connectVia(form.protocol, security),
  );
  securitySelect.name = "security";
  const usernameInput = textInput(form.username, { name: "username", required: true });
  const passwordInput = h("input", {
    attrs: {
      type: "password",
      name: "password",
      autocomplete: "new-password",
      placeholder: isNew ? undefined : t("settings-field-password-keep"),
    },
  });
  const commandInput = textInput(form.passwordCommand, { name: "password-command", placeholder: "pass show mail/work", dir: "ltr" });
  const caInput = textInput(form.caFile, { name: "ca-file", placeholder: "/etc/ssl/private-ca.pem", dir: "ltr" });
  const openValue = textInput(form.open.value, { name: "open-value" });

  const suggest = () => {
    if (idTouched) return;
    form.id = suggestId(form.email || form.name, otherIds);
    idInput.value = form.id;
  };
  let previousEmail = form.email;
  nameInput.addEventListener("input", () => {
    form.name = nameInput.value;
    suggest();
  });
  emailInput.addEventListener("input", () => {
    form.email = emailInput.value;
    if (!form.username || form.username === previousEmail) {
      form.username = emailInput.value;
      usernameInput.value = form.username;
    }
    previousEmail = emailInput.value;
    suggest();
  });
  idInput.addEventListener("input", () => {
    idTouched = true;
    form.id = idInput.value;
  });
  hostInput.addEventListener("input", () => (form.host = hostInput.value));
  portInput.addEventListener("input", () => (form.port = Number(portInput.value)));
  usernameInput.addEventListener("input", () => (form.username = usernameInput.value));
  passwordInput.addEventListener("input", () => (password = passwordInput.value));
  commandInput.addEventListener("input", () => (form.passwordCommand = commandInput.value));
  caInput.addEventListener("input", () => (form.caFile = caInput.value));
  openValue.addEventListener("input", () => (form.open.value = openValue.value));

  let usesCommand = form.passwordCommand.trim() !== "";
  const passwordField = field(t("settings-field-password"), passwordInput, { help: t("settings-field-password-help") });
  const commandField = field(t("settings-field-password-command"), commandInput);
  const showPasswordSource = () => {
    passwordField.hidden = usesCommand;
    commandField.hidden = !usesCommand;
  };
  const sourceSelect = select<"keyring" | "command">(
    usesCommand ? "command" : "keyring",
    [
      { value: "keyring", label: t("settings-password-source-keyring") },
      { value: "command", label: t("settings-password-source-command") },
    ],
    (source) => {
      usesCommand = source === "command";
      if (!usesCommand) form.passwordCommand = "";
      else form.passwordCommand = commandInput.value;
      showPasswordSource();
    },
  );
  sourceSelect.name = "password-source";
  showPasswordSource();

  // --- sign-in at the provider ------------------------------------------------------------------

  let method: Method = (SIGNIN_PROVIDERS as readonly string[]).includes(form.oauthProvider)
    ? (form.oauthProvider as Method)
    : "password";
  /** Whether the user picked the method; until then the address's domain picks it. */
  let methodTouched = !isNew;
  const providerName = (m: Method) => PROVIDER_NAMES[m] ?? "";
  const methodSelect = select<Method>(
    method,
    [
      { value: "password", label: t("settings-signin-password") },
      ...SIGNIN_PROVIDERS.map((p) => ({
        value: p,
        label: p === "custom" ? t("settings-signin-custom") : t("settings-signin-with", { provider: providerName(p) }),
      })),
    ],
    (chosen) => {
      methodTouched = true;
      useMethod(chosen);
    },
  );
  methodSelect.name = "signin-method";
  const oauthInput = (key: keyof AccountView["oauth"], name: string, placeholder: string) => {
    const input = textInput(form.oauth[key], { name, placeholder, dir: "ltr" });
    input.addEventListener("input", () => (form.oauth[key] = input.value));
    return input;
  };
  const customFields = h(
    "div",
    { class: "grid field-wide custom-provider" },
    field(t("settings-field-oauth-authorization-endpoint"), oauthInput("authorizationEndpoint", "oauth-authorization-endpoint", "https://id.example.org/auth")),
    field(t("settings-field-oauth-token-endpoint"), oauthInput("tokenEndpoint", "oauth-token-endpoint", "https://id.example.org/token")),
    field(t("settings-field-oauth-client-id"), oauthInput("clientId", "oauth-client-id", "pushmail")),
    field(t("settings-field-oauth-scopes"), oauthInput("scopes", "oauth-scopes", "openid offline_access email imap"), { help: t("settings-field-oauth-scopes-help") }),
    field(t("settings-field-oauth-issuer"), oauthInput("issuer", "oauth-issuer", "https://id.example.org")),
  );
  const signInButton = button("", () => void signIn(), { kind: "primary", attrs: { "data-action": "sign-in" } });
  const signInStatus = h("div", { class: "signin-status", attrs: { "aria-live": "polite" } });
  const signInField = h(
    "div",
    { class: "field field-wide signin" },
    h("div", { class: "signin-row" }, signInButton),
    h("p", { class: "help" }, existing?.oauthProvider ? t("settings-signin-again-help") : t("settings-signin-help")),
    signInStatus,
  );
  const drawSignInButton = () => {
    signInButton.replaceChildren(method === "custom" || method === "password" ? t("settings-signin-button") : t("settings-signin-with", { provider: providerName(method) }));
  };
  const sourceField = field(t("settings-field-password-source"), sourceSelect);
  const useMethod = (chosen: Method) => {
    method = chosen;
    methodSelect.value = chosen;
    const oauth = chosen !== "password";
    form.oauthProvider = oauth ? chosen : "";
    if (oauth) form.passwordCommand = "";
    else if (usesCommand) form.passwordCommand = commandInput.value;
    sourceField.hidden = oauth;
    passwordField.hidden = oauth || usesCommand;
    commandField.hidden = oauth || !usesCommand;
    signInField.hidden = !oauth;
    customFields.hidden = chosen !== "custom";
    // A new account is saved by its sign-in, and has nothing to test before it.
    saveButton.hidden = (oauth && isNew) || compact;
    testButton.hidden = (oauth && isNew) || compact;
    if (compact) testSaveButton.hidden = oauth || !continueButton.hidden;
    drawSignInButton();
  };
  let suggested = "";
  emailInput.addEventListener("change", () => void suggestProvider());
  const suggestProvider = async () => {
    const address = emailInput.value.trim();
    if (methodTouched || address === suggested) return;
    suggested = address;
    let suggestion;
    try {
      suggestion = await ctx.api.providerForAddress(address);
    } catch {
      return;
    }
    if (methodTouched || suggested !== address) return;
    if (suggestion === null) {
      useMethod("password");
      return;
    }
    useMethod(suggestion.provider as Method);
    if (hostInput.value.trim() === "") {
      form.host = suggestion.imapHost;
      hostInput.value = form.host;
      form.security = "tls";
      securitySelect.value = "tls";
      form.port = suggestion.imapPort;
      portInput.value = String(form.port);
    }
  };

  /** The sign-in running now, if any. */
  let signingIn: number | null = null;
  const unlistenUrl = ctx.events.onSignInUrl(({ run, url }) => {
    if (run !== signingIn) return;
    const urlInput = h("input", { class: "signin-url", attrs: { type: "text", readonly: true, dir: "ltr", name: "signin-url", "aria-label": t("settings-signin-url") }, props: { value: url } });
    const copy = button(t("settings-signin-copy"), () => {
      const done = () => copy.replaceChildren(t("settings-signin-copied"));
      urlInput.select();
      navigator.clipboard?.writeText(url).then(done, () => {
        // WebKitGTK may refuse the async clipboard; the selected text copies the old way.
        if (document.execCommand("copy")) done();
      }) ?? (document.execCommand("copy") && done());
    }, { kind: "secondary", attrs: { "data-action": "copy-url" } });
    replaceChildren(
      signInStatus,
      h("p", { class: "signin-waiting" }, spinner(), " ", t("settings-signin-waiting", { minutes: SIGNIN_MINUTES })),
      h("p", { class: "help" }, t("settings-signin-url")),
      h("div", { class: "signin-url-row" }, urlInput, copy),
      button(t("settings-signin-cancel"), () => void ctx.api.cancelSignIn(), { kind: "ghost", attrs: { "data-action": "cancel-sign-in" } }),
    );
  });
  ctx.onLeave(() => {
    void unlistenUrl.then((stop) => stop());
    if (signingIn !== null) {
      signingIn = null;
      void ctx.api.cancelSignIn().catch(() => undefined);
    }
  });

  const signIn = async () => {
    if (!checkRequired()) return;
    lastSignIn += 1;
    const run = lastSignIn;
    signingIn = run;
    signInButton.disabled = true;
    replaceChildren(signInStatus, h("p", { class: "signin-waiting" }, spinner(), " ", t("settings-signin-waiting", { minutes: SIGNIN_MINUTES })));
    try {
      const outcome = await ctx.api.signIn(run, existing?.id ?? null, payload());
      if (signingIn !== run) return;
      signingIn = null;
      await adoptDiscovered();
      await ctx.reloadSettings();
      ctx.announceSave(outcome, t("settings-account-saved"));
      ctx.navigate({ page: "account", id: form.id.trim(), signedIn: true });
    } catch (raw) {
      if (signingIn !== run) return;
      signingIn = null;
      replaceChildren(signInStatus);
      showError(IpcError.from(raw));
      signInButton.disabled = false;
    }
  };

  const openField = field("", openValue);
  const showOpen = () => {
    openField.hidden = form.open.kind === "default";
    openValue.placeholder = form.open.kind === "url" ? "https://mail.example.com/" : "thunderbird -P work";
  };
  const openSelect = select<OpenKind>(
    form.open.kind,
    (["default", "url", "command"] as const).map((k) => ({ value: k, label: t(`settings-open-${k}`) })),
    (kind) => {
      form.open.kind = kind;
      showOpen();
    },
  );
  openSelect.name = "open-kind";
  showOpen();

  const hostField = field(t("settings-field-host"), hostInput);
  const hostLabel = hostField.querySelector("label");
  const protocolHelp = h(
    "p",
    { class: "help protocol-help", attrs: { id: `${protocolSelect.id}-help` } },
    t("settings-field-protocol-pop3-help", { seconds: form.pollIntervalSecs }),
  );
  /** Everything that reads differently for POP3: the host's label, the help line, STLS. */
  const showProtocol = () => {
    const pop3 = form.protocol === "pop3";
    if (hostLabel) hostLabel.textContent = pop3 ? t("settings-field-host-pop3") : t("settings-field-host");
    hostInput.placeholder = pop3 ? "pop.example.com" : "imap.example.com";
    protocolHelp.hidden = !pop3;
    if (pop3) protocolSelect.setAttribute("aria-describedby", protocolHelp.id);
    else protocolSelect.removeAttribute("aria-describedby");
    const starttls = securitySelect.querySelector<HTMLOptionElement>('option[value="starttls"]');
    if (starttls) starttls.textContent = pop3 ? t("settings-security-starttls-pop3") : t("settings-security-starttls");
    drawTest();
  };

  // --- test panel --------------------------------------------------------------------------

  const testPanel = h("section", { class: "card test-panel", attrs: { "aria-live": "polite", hidden: true } });
  const steps = new Map<StepName, StepState>();
  let running: number | null = null;
  let report: TestReport | null = null;
  let chosen: Set<string> | null = null;

  /** A POP3 account's "folders" step looks at its one mailbox. */
  const stepLabel = (name: StepName) =>
    name === "folders" && form.protocol === "pop3" ? t("settings-test-step-mailbox") : t(`settings-test-step-${name}`);

  const drawTest = () => {
    testPanel.hidden = running === null && report === null;
    const failed = [...steps.values()].find((s) => s.status === "done" && !s.step.ok);
    replaceChildren(
      testPanel,
      h("h2", { class: "card-title" }, t("settings-test")),
      h(
        "ol",
        { class: "steps" },
        STEPS.map((name) => {
          const state = steps.get(name) ?? { status: "pending" };
          const status = state.status === "done" ? (state.step.ok ? "ok" : "failed") : state.status;
          return h(
            "li",
            { class: `step step-${status}`, attrs: { "data-step": name, "data-status": status } },
            h("span", { class: "step-icon", attrs: { "aria-hidden": "true" } }, state.status === "running" ? spinner() : null),
            h(
              "div",
              { class: "step-body" },
              h("span", { class: "step-name" }, stepLabel(name)),
              state.status === "done" ? h("span", { class: "step-detail", attrs: { dir: "auto" } }, state.step.detail) : null,
              state.status === "done" && !state.step.ok && state.step.hint
                ? h(
                    "div",
                    { class: "step-hint" },
                    h("strong", null, t("settings-test-hint")),
                    " ",
                    h("span", null, state.step.hint),
                  )
                : null,
            ),
            state.status === "done" ? h("span", { class: "step-time", attrs: { dir: "ltr" } }, `${state.step.millis} ms`) : null,
          );
        }),
      ),
      report === null
        ? null
        : report.ok
          ? banner("info", h("strong", { class: "banner-title" }, t("settings-test-ok")), h("span", { class: "banner-text", attrs: { dir: "auto" } }, report.strategy))
          : banner(
              "error",
              h(
                "strong",
                { class: "banner-title" },
                t("settings-test-failed", { step: stepLabel(failed?.status === "done" ? failed.step.step : "folders") }),
              ),
            ),
      // POP3 has one mailbox: nothing to choose.
      report && report.folders.length > 0 && form.protocol !== "pop3" ? folderChoices(report.folders) : null,
    );
  };

  const folderChoices = (folders: FolderChoice[]) => {
    chosen ??= new Set(form.folders);
    const picked = chosen;
    return h(
      "fieldset",
      { class: "folder-choices" },
      h("legend", null, t("settings-test-folders")),
      h(
        "ul",
        { class: "folder-list compact" },
        folders.map((folder) => {
          const checkId = uid("choice");
          const box = h("input", {
            attrs: { type: "checkbox", id: checkId, "data-folder": folder.name },
            props: { checked: picked.has(folder.name) },
            on: {
              change: () => {
                if (box.checked) picked.add(folder.name);
                else picked.delete(folder.name);
                form.folders = folders.map((f) => f.name).filter((n) => picked.has(n));
                // Keep watched names the server did not list (the folders step already said so).
                for (const n of picked) if (!form.folders.includes(n)) form.folders.push(n);
              },
            },
          });
          return h(
            "li",
            { class: "folder" },
            box,
            h("label", { attrs: { for: checkId } }, h("span", { class: "folder-name", attrs: { dir: "auto" } }, folder.display)),
            folder.unseen !== null ? h("span", { class: "folder-count" }, String(folder.unseen)) : null,
          );
        }),
      ),
    );
  };

  const unlisten = ctx.events.onProbeStep(({ run, step }) => {
    if (run !== running) return;
    steps.set(step.step, { status: "done", step });
    if (step.ok) {
      const next = STEPS[STEPS.indexOf(step.step) + 1];
      if (next !== undefined && steps.get(next)?.status !== "done") steps.set(next, { status: "running" });
    }
    drawTest();
  });
  ctx.onLeave(() => {
    running = null;
    void unlisten.then((stop) => stop());
  });

  // --- errors and actions -------------------------------------------------------------------

  const errorSlot = h("div", { class: "form-error" });
  const showError = (error: IpcError | null) => {
    replaceChildren(errorSlot, error ? errorBox(ctx.i18n, error) : null);
    if (error) errorSlot.scrollIntoView?.({ block: "nearest" });
  };

  /** Marks empty required fields; returns false if any. */
  const checkRequired = (): boolean => {
    const required: [HTMLInputElement, boolean][] = [
      [idInput, isNew],
      [hostInput, true],
      [usernameInput, true],
      [portInput, true],
      [passwordInput, isNew && !usesCommand && method === "password"],
      [commandInput, usesCommand && method === "password"],
    ];
    let first: HTMLInputElement | null = null;
    for (const [input, applies] of required) {
      const missing = applies && input.value.trim() === "";
      input.toggleAttribute("aria-invalid", missing);
      if (missing && first === null) first = input;
    }
    if (first) {
      showError(new IpcError("invalid", `${labelOf(first)}: ${t("settings-required")}`));
      first.focus();
      return false;
    }
    showError(null);
    return true;
  };

  /** What the shell gets: a POP3 account watches its one mailbox, whatever was picked before. */
  const payload = (): AccountView => (form.protocol === "pop3" ? { ...form, folders: [...POP3_FOLDERS] } : form);

  const testButton = button(t("settings-test"), () => void runTest(), { attrs: { "data-action": "test" } });
  const saveButton = button(t("settings-save"), () => void save(), { kind: "primary", attrs: { "data-action": "save" } });

  /** The provider's push facts the form does not carry (a shorter IDLE refresh); best effort. */
  const adoptDiscovered = async () => {
    if (!isNew || !options.discovered) return;
    await ctx.api.applyDiscovered(form.id.trim()).catch(() => null);
  };

  /** The found settings' one button: the connection test, then, if it passed, the save. */
  const testAndSave = async () => {
    await runTest();
    if (report?.ok) await save();
  };
  const continueButton = button(t("settings-add-continue"), () => reveal(), { kind: "primary", attrs: { "data-action": "continue" } });
  const testSaveButton = button(t("settings-add-test-save"), () => void testAndSave(), { kind: "primary", attrs: { "data-action": "test-save", hidden: true } });
  const credentials = h("section", { class: "card credentials", attrs: { hidden: true } });
  if (compact) {
    passwordInput.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      void testAndSave();
    });
  }
  /** "Continue" on the found settings: the password (or the sign-in) comes next. */
  const reveal = () => {
    credentials.hidden = false;
    continueButton.hidden = true;
    testSaveButton.hidden = method !== "password";
    queueMicrotask(() => (method === "password" ? passwordInput : signInButton).focus());
  };

  const runTest = async () => {
    if (!checkRequired()) return;
    lastRun += 1;
    const run = lastRun;
    running = run;
    report = null;
    steps.clear();
    steps.set("password", { status: "running" });
    testButton.disabled = true;
    testButton.replaceChildren(spinner(), t("settings-testing"));
    drawTest();
    try {
      const result = await ctx.api.testConnection(run, existing?.id ?? null, payload(), method === "password" ? password : "");
      if (running !== run) return;
      report = result;
      steps.clear();
      for (const step of result.steps) steps.set(step.step, { status: "done", step });
    } catch (raw) {
      if (running !== run) return;
      report = null;
      steps.clear();
      showError(IpcError.from(raw));
    } finally {
      if (running === run) {
        running = null;
        testButton.disabled = false;
        testButton.replaceChildren(t("settings-test"));
        drawTest();
      }
    }
  };

  const save = async () => {
    if (!checkRequired()) return;
    saveButton.disabled = true;
    saveButton.replaceChildren(spinner(), t("settings-saving"));
    try {
      const outcome = await ctx.api.saveAccount(existing?.id ?? null, payload(), usesCommand || method !== "password" ? "" : password);
      password = "";
      passwordInput.value = "";
      await adoptDiscovered();
      await ctx.reloadSettings();
      ctx.announceSave(outcome, t("settings-account-saved"));
      ctx.navigate({ page: "accounts" });
    } catch (raw) {
      showError(IpcError.from(raw));
      saveButton.disabled = false;
      saveButton.replaceChildren(t("settings-save"));
    }
  };

  // --- layout --------------------------------------------------------------------------------

  const idField = field(t("settings-field-id"), idInput, { help: t("settings-field-id-help") });
  const identity = section(
    t("settings-section-identity"),
    h(
      "div",
      { class: "grid" },
      field(t("settings-field-name"), nameInput, { help: t("settings-field-name-help") }),
      field(t("settings-field-email"), emailInput),
      idField,
    ),
  );
  const server = section(
    t("settings-section-server"),
    h(
      "div",
      { class: "grid" },
      h("div", { class: "grid field-wide protocol-row" }, field(t("settings-field-protocol"), protocolSelect), protocolHelp),
      hostField,
      h(
        "div",
        { class: "field-pair" },
        field(t("settings-field-security"), securitySelect),
        field(t("settings-field-port"), portInput),
        h("p", { class: "help" }, t("settings-field-security-help")),
      ),
      field(t("settings-field-username"), usernameInput),
      field(t("settings-field-signin"), methodSelect),
      sourceField,
      compact ? null : passwordField,
      commandField,
      customFields,
      compact ? null : signInField,
    ),
  );
  if (compact) replaceChildren(credentials, h("div", { class: "grid" }, passwordField, signInField));

  const page = h(
    "form",
    {
      class: "page page-account-form",
      attrs: { novalidate: true, autocomplete: "off", "aria-label": isNew ? t("settings-account-new-title") : existing.name },
      on: {
        submit: (event) => {
          event.preventDefault();
          // The found settings: Enter goes on to the password, then tests and saves.
          if (!compact) void save();
          else if (!continueButton.hidden) reveal();
          else if (method === "password") void testAndSave();
        },
      },
    },
    pageHeader(
      isNew ? t("settings-account-new-title") : t("settings-account-edit-title", { name: existing.name }),
      t("settings-account-intro"),
    ),
    firstRun && !options.onBack ? banner("info", h("span", { class: "banner-text", attrs: { dir: "auto" } }, t("settings-welcome"))) : null,
    options.notice ?? null,
    compact ? options.summary : identity,
    compact ? credentials : server,
    h(
      "details",
      { class: "card advanced" },
      h("summary", { class: "card-title" }, t("settings-section-advanced")),
      h(
        "div",
        { class: "grid" },
        compact ? idField : null,
        field(t("settings-field-ca-file"), caInput, { help: t("settings-field-ca-file-help") }),
        field(t("settings-field-open"), openSelect),
        openField,
      ),
      toggle(t("settings-field-enabled"), form.enabled, (on) => (form.enabled = on), { name: "enabled" }),
    ),
    testPanel,
    errorSlot,
    h(
      "footer",
      { class: "form-footer" },
      options.onBack ? button(t("settings-back"), () => options.onBack?.(), { kind: "ghost", attrs: { "data-action": "back" } }) : null,
      testButton,
      h("span", { class: "spacer" }),
      compact ? button(t("settings-add-manual"), () => options.onManual?.(payload()), { kind: "secondary", attrs: { "data-action": "manual" } }) : null,
      firstRun || options.onBack ? null : button(t("settings-cancel"), () => ctx.navigate({ page: "accounts" }), { kind: "ghost" }),
      saveButton,
      compact ? continueButton : null,
      compact ? testSaveButton : null,
    ),
  );
  showProtocol();
  useMethod(method);
  if (signedIn) {
    ctx.toast(t("settings-signin-done"));
    queueMicrotask(() => void runTest());
  }
  // Pre-filled with an address: the id follows it, as if it had been typed.
  if (isNew && !idTouched && form.email !== "") suggest();
  queueMicrotask(() => (compact ? continueButton : isNew && form.email === "" ? nameInput : method === "password" ? hostInput : signInButton).focus());
  return page;
}

function labelOf(input: HTMLElement): string {
  const label = input.id ? input.ownerDocument.querySelector(`label[for="${input.id}"]`) : null;
  return label?.textContent ?? input.getAttribute("name") ?? "";
}
