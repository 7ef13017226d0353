// General: start at login, language (applied at once), the mail client, the file edited.

import type { Context } from "../context";
import { h, replaceChildren, uid } from "../dom";
import { negotiate } from "../i18n";
import { IpcError } from "../ipc";
import { LANGUAGES, type Language } from "../types";
import { button, errorBox, pageHeader, section, select, spinner, textInput, toggle } from "../widgets";

export function renderGeneral(ctx: Context): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const general = structuredClone(ctx.settings.general);
  const errorSlot = h("div", { class: "form-error" });
  const fail = (raw: unknown) => replaceChildren(errorSlot, errorBox(ctx.i18n, IpcError.from(raw)));

  // --- start at login ------------------------------------------------------------------------
  const autostart = toggle(
    t("settings-autostart"),
    ctx.settings.autostart,
    (on) => {
      replaceChildren(errorSlot);
      ctx.api.setAutostart(on).then(
        (now) => {
          ctx.settings.autostart = now;
          ctx.toast(t("settings-saved"));
        },
        (raw: unknown) => {
          const input = autostart.querySelector<HTMLInputElement>("input");
          if (input) input.checked = !on;
          fail(raw);
        },
      );
    },
    { help: t("settings-autostart-help"), name: "autostart" },
  );

  // --- language ------------------------------------------------------------------------------
  const systemName = t(`language-name-${negotiate("auto", ctx.settings.systemLanguage)}`);
  const language = select<Language>(
    general.language,
    LANGUAGES.map((lang) => ({
      value: lang,
      label: lang === "auto" ? t("settings-language-auto", { language: systemName }) : t(`language-name-${lang}`),
    })),
    (lang) => void changeLanguage(lang),
  );
  language.name = "language";
  language.setAttribute("aria-label", t("settings-language"));
  const changeLanguage = async (lang: Language) => {
    const previous = ctx.settings.general.language;
    // Applied at once; saved right after. A failed save puts the old language back.
    ctx.setLanguage(lang);
    try {
      const outcome = await ctx.api.saveGeneral({ ...ctx.settings.general, language: lang });
      ctx.announceSave(outcome);
    } catch (raw) {
      ctx.setLanguage(previous);
      ctx.toast(IpcError.from(raw).message, "error");
    }
  };

  // --- mail client ---------------------------------------------------------------------------
  let custom = general.openCommand.trim() !== "";
  const command = textInput(general.openCommand, { name: "open-command", placeholder: "thunderbird", dir: "ltr" });
  command.addEventListener("input", () => (general.openCommand = command.value));
  const radioName = uid("client");
  const radio = (value: "default" | "command", label: string) => {
    const id = uid("radio");
    const input = h("input", {
      attrs: { type: "radio", name: radioName, id, value },
      props: { checked: (value === "command") === custom },
      on: {
        change: () => {
          custom = value === "command";
          command.disabled = !custom;
          if (custom) command.focus();
        },
      },
    });
    return h("div", { class: "radio" }, input, h("label", { attrs: { for: id } }, label));
  };
  command.disabled = !custom;
  const saveClient = button(t("settings-save"), () => void saveMailClient(), { kind: "primary", attrs: { "data-action": "save-general" } });
  const saveMailClient = async () => {
    replaceChildren(errorSlot);
    saveClient.disabled = true;
    saveClient.replaceChildren(spinner(), t("settings-saving"));
    try {
      const outcome = await ctx.api.saveGeneral({
        language: ctx.settings.general.language,
        openCommand: custom ? general.openCommand : "",
      });
      await ctx.reloadSettings();
      ctx.announceSave(outcome);
    } catch (raw) {
      fail(raw);
    } finally {
      saveClient.disabled = false;
      saveClient.replaceChildren(t("settings-save"));
    }
  };

  return h(
    "div",
    { class: "page page-general" },
    pageHeader(t("settings-general-title")),
    section(null, autostart),
    section(t("settings-language"), language),
    section(
      t("settings-mail-client"),
      h("p", { class: "help" }, t("settings-mail-client-help")),
      h(
        "div",
        { class: "radio-group", attrs: { role: "radiogroup", "aria-label": t("settings-mail-client") } },
        radio("default", t("settings-mail-client-default")),
        radio("command", t("settings-mail-client-command")),
        h("div", { class: "radio-detail" }, command),
      ),
      h("div", { class: "card-actions" }, saveClient),
    ),
    section(t("settings-config-file"), h("code", { class: "path", attrs: { dir: "ltr" } }, ctx.settings.configPath)),
    errorSlot,
  );
}
