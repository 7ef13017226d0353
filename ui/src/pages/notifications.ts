// Notifications: the attention rules — popups on/off, quiet hours, VIP senders, summaries, and
// per account mute and preview. Saved together in one write.

import type { Context } from "../context";
import { h, replaceChildren, uid } from "../dom";
import { formatClock, isOvernight } from "../format";
import { IpcError } from "../ipc";
import { PREVIEWS, type AccountRule, type NotificationsView } from "../types";
import { button, errorBox, field, pageHeader, section, select, spinner, toggle } from "../widgets";

/** A full address or a whole `@domain`, as the core's `Notifications::is_vip` compares them. */
export function isVipEntry(text: string): boolean {
  return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text) || /^@[^@\s]+\.[^@\s]+$/.test(text);
}

export function renderNotifications(ctx: Context): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const rules: NotificationsView = structuredClone(ctx.settings.notifications);
  const perAccount: AccountRule[] = ctx.settings.accounts.map((a) => ({ id: a.id, mute: a.mute, preview: a.preview }));
  const lastQuiet = rules.quietHours ?? { start: "22:00", end: "07:00" };

  // --- quiet hours ---------------------------------------------------------------------------
  const from = h("input", { attrs: { type: "time", name: "quiet-start", required: true }, props: { value: lastQuiet.start } });
  const to = h("input", { attrs: { type: "time", name: "quiet-end", required: true }, props: { value: lastQuiet.end } });
  const times = h(
    "div",
    { class: "field-pair quiet-times" },
    field(t("settings-quiet-from"), from),
    field(t("settings-quiet-to"), to),
  );
  // The span in words, each time as the language writes it (the time inputs themselves follow
  // the desktop's locale, not the chosen language).
  const summary = h("p", { class: "help quiet-summary", attrs: { "aria-live": "polite" } });
  const describeTimes = () => {
    const valid = /^\d{1,2}:\d{2}$/.test(from.value) && /^\d{1,2}:\d{2}$/.test(to.value);
    summary.hidden = rules.quietHours === null || !valid;
    if (summary.hidden) return;
    summary.textContent = t("settings-quiet-hours-summary", {
      span: isOvernight(from.value, to.value) ? "overnight" : "day",
      start: formatClock(from.value, ctx.i18n.lang),
      end: formatClock(to.value, ctx.i18n.lang),
    });
  };
  const showTimes = () => {
    from.disabled = rules.quietHours === null;
    to.disabled = rules.quietHours === null;
    times.classList.toggle("disabled", rules.quietHours === null);
    describeTimes();
  };
  const syncTimes = () => {
    if (rules.quietHours !== null) rules.quietHours = { start: from.value, end: to.value };
    describeTimes();
  };
  from.addEventListener("input", syncTimes);
  to.addEventListener("input", syncTimes);
  showTimes();

  // --- VIP senders ---------------------------------------------------------------------------
  const vipList = h("ul", { class: "chips", attrs: { "aria-label": t("settings-vip") } });
  const vipInput = h("input", {
    attrs: { type: "text", name: "vip", placeholder: t("settings-vip-placeholder"), autocomplete: "off", spellcheck: "false", dir: "auto" },
  });
  const vipError = h("p", { class: "field-error", attrs: { role: "alert", hidden: true } });
  const drawVip = () => {
    replaceChildren(
      vipList,
      rules.vip.length === 0
        ? h("li", { class: "chip-empty" }, t("settings-vip-none"))
        : rules.vip.map((address) =>
            h(
              "li",
              { class: "chip", attrs: { "data-vip": address } },
              h("span", { attrs: { dir: "auto" } }, address),
              h(
                "button",
                {
                  class: "chip-remove",
                  attrs: { type: "button", "aria-label": t("settings-vip-remove", { address }), title: t("settings-vip-remove", { address }) },
                  on: {
                    click: () => {
                      rules.vip = rules.vip.filter((v) => v !== address);
                      drawVip();
                    },
                  },
                },
                "×",
              ),
            ),
          ),
    );
  };
  const addVip = () => {
    const entry = vipInput.value.trim();
    if (entry === "") return;
    if (!isVipEntry(entry)) {
      vipError.textContent = t("settings-vip-invalid");
      vipError.hidden = false;
      vipInput.setAttribute("aria-invalid", "true");
      return;
    }
    vipError.hidden = true;
    vipInput.removeAttribute("aria-invalid");
    if (!rules.vip.some((v) => v.toLowerCase() === entry.toLowerCase())) rules.vip = [...rules.vip, entry];
    vipInput.value = "";
    drawVip();
  };
  vipInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addVip();
    }
  });
  drawVip();

  // --- summary -----------------------------------------------------------------------------
  const knob = ctx.settings.knobs.find((k) => k.key === "summary_threshold") ?? { min: 1, max: 100 };
  const threshold = h("input", {
    class: "narrow",
    attrs: { type: "number", name: "summary-threshold", min: knob.min, max: knob.max, step: 1, required: true },
    props: { value: String(rules.summaryThreshold) },
    on: { input: () => (rules.summaryThreshold = Number(threshold.value)) },
  });

  // --- per account ---------------------------------------------------------------------------
  const accountRows = perAccount.map((rule) => {
    const account = ctx.settings.accounts.find((a) => a.id === rule.id);
    const muteId = uid("mute");
    const mute = h("input", {
      class: "switch-input",
      attrs: { type: "checkbox", role: "switch", id: muteId, "aria-label": `${t("settings-mute")}: ${account?.name ?? rule.id}` },
      props: { checked: rule.mute },
      on: { change: () => (rule.mute = mute.checked) },
    });
    const preview = select(
      rule.preview,
      PREVIEWS.map((p) => ({ value: p, label: t(`settings-preview-${p}`) })),
      (value) => (rule.preview = value),
    );
    preview.setAttribute("aria-label", `${t("settings-preview")}: ${account?.name ?? rule.id}`);
    return h(
      "tr",
      { attrs: { "data-account": rule.id } },
      h("th", { attrs: { scope: "row" } }, h("bdi", null, account?.name ?? rule.id)),
      h("td", null, h("span", { class: "switch" }, mute, h("span", { class: "switch-track", attrs: { "aria-hidden": "true" } }))),
      h("td", null, preview),
    );
  });

  // --- save ----------------------------------------------------------------------------------
  const errorSlot = h("div", { class: "form-error" });
  const saveButton = button(t("settings-save"), () => void save(), { kind: "primary", attrs: { "data-action": "save-rules" } });
  const save = async () => {
    const pending = vipInput.value.trim();
    if (pending !== "") addVip();
    if (!vipError.hidden) return;
    saveButton.disabled = true;
    saveButton.replaceChildren(spinner(), t("settings-saving"));
    replaceChildren(errorSlot);
    try {
      const outcome = await ctx.api.saveNotificationRules({ notifications: rules, accounts: perAccount });
      await ctx.reloadSettings();
      ctx.announceSave(outcome);
    } catch (raw) {
      replaceChildren(errorSlot, errorBox(ctx.i18n, IpcError.from(raw)));
    } finally {
      saveButton.disabled = false;
      saveButton.replaceChildren(t("settings-save"));
    }
  };

  return h(
    "div",
    { class: "page page-notifications" },
    pageHeader(t("settings-notifications-title"), t("settings-notifications-subtitle")),
    section(null, toggle(t("settings-notify-enabled"), rules.enabled, (on) => (rules.enabled = on), { name: "enabled" })),
    section(
      null,
      toggle(
        t("settings-quiet-hours"),
        rules.quietHours !== null,
        (on) => {
          rules.quietHours = on ? { start: from.value || lastQuiet.start, end: to.value || lastQuiet.end } : null;
          showTimes();
        },
        { help: t("settings-quiet-hours-help"), name: "quiet-hours" },
      ),
      times,
      summary,
    ),
    section(
      t("settings-vip"),
      h("p", { class: "help" }, t("settings-vip-help")),
      vipList,
      h("div", { class: "inline-add" }, vipInput, button(t("settings-vip-add"), addVip, { attrs: { "data-action": "add-vip" } })),
      vipError,
    ),
    section(t("settings-summary"), field(t("settings-summary-threshold"), threshold)),
    perAccount.length === 0
      ? null
      : section(
          t("settings-per-account"),
          h(
            "table",
            { class: "rules-table" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                h("th", { attrs: { scope: "col" } }, t("settings-accounts-title")),
                h("th", { attrs: { scope: "col" } }, t("settings-mute")),
                h("th", { attrs: { scope: "col" } }, t("settings-preview")),
              ),
            ),
            h("tbody", null, accountRows),
          ),
        ),
    errorSlot,
    h("footer", { class: "form-footer" }, h("span", { class: "spacer" }), saveButton),
  );
}
