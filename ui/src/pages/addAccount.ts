// Add account, starting from the address the way Thunderbird's account hub does: name and
// address, then the shell looks the server settings up (`discover_account`; where it is looking
// arrives as `discover://progress` lines), then either what was found — the server, its port and
// security, the user name, where the settings came from and anything to check first (a
// look-alike domain, a server outside the address's domain) — with "Continue" to the password or
// the provider's sign-in, or, when nothing was found, the whole form pre-filled with the address.
// "Configure manually" opens the whole form at any point with what is known so far. The
// password, the connection test and the save are the account form's (pages/accountForm.ts).

import type { Context } from "../context";
import { h, replaceChildren } from "../dom";
import { IpcError } from "../ipc";
import type { AccountView, FoundView } from "../types";
import { banner, button, errorBox, field, pageHeader, section, spinner, textInput } from "../widgets";
import { blankAccount, renderAccountForm, suggestId } from "./accountForm";

/** Discoveries are numbered so the progress and answer of an abandoned one are ignored. */
let lastDiscovery = 0;

export function renderAddAccount(ctx: Context): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const firstRun = ctx.settings.accounts.length === 0;
  const root = h("div", { class: "add-account" });
  let name = "";
  let address = "";

  /** The discovery running now, if any, and the line saying where it looks. */
  let looking: number | null = null;
  let progressLine: HTMLElement | null = null;
  const unlisten = ctx.events.onDiscoverProgress(({ run, line }) => {
    if (run === looking && progressLine) progressLine.textContent = line;
  });
  const stopLooking = () => {
    if (looking === null) return;
    looking = null;
    void ctx.api.cancelDiscovery().catch(() => undefined);
  };
  ctx.onLeave(() => {
    void unlisten.then((stop) => stop());
    stopLooking();
  });

  const header = () => pageHeader(t("settings-account-new-title"), t("settings-add-intro"));

  /** What the address alone tells: the form's values before any server is known. */
  const fromAddress = (): AccountView => {
    const taken = ctx.settings.accounts.map((a) => a.id);
    return {
      ...blankAccount(),
      id: address || name ? suggestId(address || name, taken) : "",
      name,
      email: address,
      username: address,
    };
  };

  // --- 1. name and address ---------------------------------------------------------------------

  const addressStep = (error: IpcError | null = null) => {
    const nameInput = textInput(name, { name: "name", autocomplete: "off" });
    const emailInput = textInput(address, { name: "email", type: "email", inputmode: "email", dir: "ltr", required: true });
    nameInput.addEventListener("input", () => (name = nameInput.value));
    emailInput.addEventListener("input", () => (address = emailInput.value.trim()));
    const errorSlot = h("div", { class: "form-error" }, error ? errorBox(ctx.i18n, error) : null);
    const go = () => {
      if (address === "") {
        emailInput.setAttribute("aria-invalid", "true");
        replaceChildren(errorSlot, errorBox(ctx.i18n, new IpcError("invalid", `${t("settings-field-email")}: ${t("settings-required")}`)));
        emailInput.focus();
        return;
      }
      void lookUp();
    };
    // Enter in either field continues (the form has no submit button to do it for us).
    for (const input of [nameInput, emailInput]) {
      input.addEventListener("keydown", (event) => {
        if (event.key !== "Enter") return;
        event.preventDefault();
        go();
      });
    }
    const page = h(
      "form",
      {
        class: "page page-add-address",
        attrs: { novalidate: true, autocomplete: "off", "aria-label": t("settings-account-new-title") },
        on: {
          submit: (event) => {
            event.preventDefault();
            go();
          },
        },
      },
      header(),
      firstRun ? banner("info", h("span", { class: "banner-text", attrs: { dir: "auto" } }, t("settings-welcome"))) : null,
      section(
        null,
        h(
          "div",
          { class: "grid" },
          field(t("settings-add-name"), nameInput, { help: t("settings-field-name-help") }),
          field(t("settings-field-email"), emailInput, { help: t("settings-add-email-help") }),
        ),
      ),
      errorSlot,
      h(
        "footer",
        { class: "form-footer" },
        button(t("settings-add-manual"), () => manualStep(null), { kind: "ghost", attrs: { "data-action": "manual" } }),
        h("span", { class: "spacer" }),
        firstRun ? null : button(t("settings-cancel"), () => ctx.navigate({ page: "accounts" }), { kind: "ghost" }),
        button(t("settings-add-continue"), () => go(), { kind: "primary", attrs: { "data-action": "continue" } }),
      ),
    );
    replaceChildren(root, page);
    queueMicrotask(() => (name === "" && address === "" ? nameInput : emailInput).focus());
  };

  // --- 2. looking ------------------------------------------------------------------------------

  const lookUp = async () => {
    lastDiscovery += 1;
    const run = lastDiscovery;
    looking = run;
    progressLine = h("p", { class: "discover-progress", attrs: { dir: "auto" } });
    const cancel = button(
      t("settings-cancel"),
      () => {
        stopLooking();
        addressStep();
      },
      { kind: "ghost", attrs: { "data-action": "cancel-discovery" } },
    );
    replaceChildren(
      root,
      h(
        "div",
        { class: "page page-add-looking" },
        header(),
        h(
          "section",
          { class: "card discover-looking", attrs: { "aria-live": "polite", "aria-busy": "true" } },
          h("h2", { class: "card-title" }, spinner(), " ", t("settings-add-looking", { address })),
          progressLine,
        ),
        h("footer", { class: "form-footer" }, cancel, h("span", { class: "spacer" })),
      ),
    );
    queueMicrotask(() => cancel.focus());
    try {
      const result = await ctx.api.discoverAccount(run, address);
      if (looking !== run) return;
      looking = null;
      switch (result.outcome) {
        case "found":
          foundStep(result);
          break;
        case "notFound":
          manualStep(notFound(result.message, result.notes));
          break;
        case "cancelled":
          addressStep();
          break;
      }
    } catch (raw) {
      if (looking !== run) return;
      looking = null;
      addressStep(IpcError.from(raw));
    }
  };

  // --- 3. found, or 4. the whole form ------------------------------------------------------------

  const foundStep = (found: FoundView) => {
    const prefill: AccountView = { ...found.account, name };
    replaceChildren(
      root,
      renderAccountForm(ctx, null, false, {
        prefill,
        summary: summary(found),
        discovered: true,
        onBack: () => addressStep(),
        onManual: (form) => manualStep(null, form),
      }),
    );
  };

  const manualStep = (notice: HTMLElement | null, values: AccountView = fromAddress()) => {
    replaceChildren(
      root,
      renderAccountForm(ctx, null, false, {
        prefill: values,
        notice,
        discovered: values.host !== "",
        onBack: () => addressStep(),
      }),
    );
  };

  /** One sentence, and what was seen on the way for whoever wants to know. */
  const notFound = (message: string, notes: string[]) =>
    banner(
      "warning",
      h("span", { class: "banner-text not-found", attrs: { dir: "auto" } }, message),
      notes.length > 0
        ? h(
            "details",
            { class: "discover-notes" },
            h("summary", null, t("settings-add-notes")),
            h("ul", null, notes.map((note) => h("li", { attrs: { dir: "auto" } }, note))),
          )
        : null,
    );

  /** What was found, where it came from, and what to check first. */
  const summary = (found: FoundView) => {
    const a = found.account;
    const row = (label: string, value: string, key: string, ltr = true) =>
      h(
        "div",
        { class: "found-row", attrs: { "data-found": key } },
        h("dt", null, label),
        // Isolated in its own direction; aligned as the page reads.
        h("dd", null, h("span", { attrs: { dir: ltr ? "ltr" : "auto" } }, value)),
      );
    return h(
      "div",
      { class: "found" },
      found.warnings.length > 0
        ? banner(
            "warning",
            h("strong", { class: "banner-title" }, t("settings-add-check")),
            h("ul", { class: "found-warnings" }, found.warnings.map((w) => h("li", { attrs: { dir: "auto" } }, w))),
          )
        : null,
      section(
        t("settings-add-found-title", { address: a.email }),
        h(
          "dl",
          { class: "found-summary" },
          row(a.protocol === "pop3" ? t("settings-field-host-pop3") : t("settings-field-host"), a.host, "host"),
          row(t("settings-field-port"), String(a.port), "port"),
          row(t("settings-field-security"), t(`settings-security-${a.security}`), "security", false),
          row(t("settings-field-username"), a.username, "username"),
          row(t("settings-add-login"), found.loginText, "login", false),
          row(t("settings-add-source"), found.source, "source", false),
        ),
        found.note ? h("p", { class: "found-note help", attrs: { dir: "auto" } }, found.note) : null,
      ),
    );
  };

  addressStep();
  return root;
}
