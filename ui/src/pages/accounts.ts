// Accounts: each configured account with the tray's live state and unread count; add, edit,
// remove (which also deletes the keyring entry), check now.

import type { Context } from "../context";
import { h, replaceChildren } from "../dom";
import { IpcError } from "../ipc";
import { delayWithin } from "../format";
import type { AccountView, LiveAccount } from "../types";
import { banner, button, errorBox, pageHeader } from "../widgets";

/** The tray's states with a dedicated look; anything else is shown neutrally. */
const STATE_TONE: Record<string, "ok" | "busy" | "warn" | "bad" | "off"> = {
  push: "ok",
  polling: "ok",
  connecting: "busy",
  backoff: "warn",
  error: "bad",
  auth_failed: "bad",
  signin_required: "warn",
  stopped: "off",
  disabled: "off",
};

export function renderAccounts(ctx: Context): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const list = h("ul", { class: "account-list", attrs: { "aria-label": t("settings-accounts-title") } });
  const notice = h("div", { class: "notice-slot" });

  const draw = () => {
    replaceChildren(
      notice,
      ctx.live.status === "stopped"
        ? banner(
            "warning",
            h("span", { class: "banner-text", attrs: { dir: "auto" } }, t("settings-tray-stopped-banner")),
            button(t("settings-tray-start"), () => void ctx.startTray(), { kind: "secondary" }),
          )
        : null,
    );
    replaceChildren(
      list,
      ctx.settings.accounts.length === 0
        ? h("li", { class: "empty" }, t("settings-welcome"))
        : ctx.settings.accounts.map((account) =>
            row(ctx, account, ctx.live.accounts.find((l) => l.id === account.id), draw),
          ),
    );
  };
  ctx.onTrayChange(draw);
  draw();

  return h(
    "div",
    { class: "page page-accounts" },
    pageHeader(
      t("settings-accounts-title"),
      t("settings-accounts-subtitle"),
      button(t("settings-account-add"), () => ctx.navigate({ page: "account", id: null }), {
        kind: "primary",
        attrs: { "data-action": "add-account" },
      }),
    ),
    notice,
    list,
  );
}

function row(ctx: Context, account: AccountView, live: LiveAccount | undefined, redraw: () => void): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const item = h("li", { class: "account-row", attrs: { "data-account": account.id } });
  const status = h("div", { class: "account-status" });
  const errorSlot = h("div", { class: "row-error" });

  const state = !account.enabled ? "disabled" : live?.state;
  if (state === undefined) {
    status.append(h("span", { class: "state state-none" }, t("settings-account-no-live-state")));
  } else {
    // A POP3 account that is fine says what POP3 cannot do (the same line as the tray's).
    const key = state === "polling" && account.protocol === "pop3" ? "strategy-pop3" : `state-${state}`;
    const label = ctx.i18n.has(key) ? t(key, { seconds: account.pollIntervalSecs }) : state;
    status.append(
      h(
        "span",
        { class: `state state-${STATE_TONE[state] ?? "busy"}`, attrs: { "data-state": state } },
        h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }),
        label,
      ),
    );
  }
  const detail = live && live.detail !== "" ? h("p", { class: "state-detail", attrs: { dir: "auto" } }, live.detail) : null;

  const unread =
    live && account.enabled
      ? h(
          "span",
          { class: live.unread > 0 ? "unread-pill has-unread" : "unread-pill", attrs: { "data-unread": live.unread } },
          t("settings-account-unread", { count: live.unread }),
        )
      : null;

  const actions = h(
    "div",
    { class: "row-actions" },
    live && account.enabled && live.state !== "signin_required"
      ? button(t("settings-account-check-now"), () => void checkNow(), { kind: "ghost" })
      : null,
    // The grant is gone: the way back is the account's "Sign in with …" (what the tray's
    // "Sign in to Work again" popup opens too).
    live?.state === "signin_required"
      ? button(t("notify-signin-action"), () => ctx.navigate({ page: "account", id: account.id }), {
          kind: "primary",
          attrs: { "data-action": "sign-in-again" },
        })
      : null,
    button(t("settings-account-edit"), () => ctx.navigate({ page: "account", id: account.id }), {
      attrs: { "data-action": "edit" },
    }),
    button(t("settings-account-remove"), () => confirmRemove(), { kind: "ghost", attrs: { "data-action": "remove" } }),
  );

  const checkNow = async () => {
    try {
      await ctx.api.checkNow(account.id);
    } catch (raw) {
      replaceChildren(errorSlot, errorBox(ctx.i18n, IpcError.from(raw)));
    }
  };

  const confirmRemove = () => {
    const confirmBox = h(
      "div",
      { class: "confirm", attrs: { role: "alertdialog", "aria-label": t("settings-account-remove") } },
      h("p", null, t("settings-account-remove-confirm", { name: account.name })),
      h(
        "div",
        { class: "confirm-actions" },
        button(t("settings-cancel"), () => confirmBox.remove()),
        button(t("settings-account-remove"), () => void remove(confirmBox), {
          kind: "danger",
          attrs: { "data-action": "confirm-remove" },
        }),
      ),
    );
    item.querySelector(".confirm")?.remove();
    item.append(confirmBox);
    confirmBox.querySelector<HTMLButtonElement>("[data-action=confirm-remove]")?.focus();
  };

  const remove = async (confirmBox: HTMLElement) => {
    try {
      const outcome = await ctx.api.removeAccount(account.id);
      await ctx.reloadSettings();
      ctx.announceSave(outcome, t("settings-account-removed"));
    } catch (raw) {
      // The keyring part may fail after the account was removed: re-read either way.
      await ctx.reloadSettings().catch(() => undefined);
      confirmBox.remove();
      redraw();
      const stillThere = ctx.settings.accounts.some((a) => a.id === account.id);
      const error = IpcError.from(raw);
      if (stillThere) replaceChildren(errorSlot, errorBox(ctx.i18n, error));
      else ctx.toast(error.message, "error");
      return;
    }
    if (ctx.settings.accounts.length === 0) ctx.navigate({ page: "account", id: null });
    else redraw();
  };

  // The address is server data in any script: isolated, so it keeps its own direction inside
  // a right-to-left line. A POP3 account has one mailbox, so it says POP3 instead of folders.
  const subtitle = [
    h("bdi", { class: "account-address" }, account.email || `${account.username}@${account.host}`),
    " · ",
    account.protocol === "pop3"
      ? h("span", { class: "account-protocol", attrs: { "data-protocol": "pop3" } }, t("settings-protocol-pop3"))
      : t("settings-account-folders", { count: account.folders.length }),
  ];
  // How fast push is for this account: the tray's median over the last day, live mail only.
  const within = live && account.enabled ? delayWithin(live.delayMs) : null;
  const speed =
    within === null || !live
      ? null
      : h(
          "span",
          { class: "account-delay", attrs: { "data-delay-ms": live.delayMs ?? undefined } },
          t(`settings-account-delay-${within.unit}`, { count: within.count }),
          " · ",
          h("span", { class: "delay-basis" }, t("settings-account-delay-basis", { count: live.delayMessages })),
        );
  item.append(
    h(
      "div",
      { class: "account-main" },
      h("span", { class: `avatar avatar-${hue(account.id)}`, attrs: { "aria-hidden": "true" } }, initial(account.name)),
      h(
        "div",
        { class: "account-text" },
        h("span", { class: "account-name", attrs: { dir: "auto" } }, account.name),
        h("span", { class: "account-sub" }, subtitle),
        speed,
      ),
      status,
      unread,
      detail,
      actions,
    ),
    errorSlot,
  );
  return item;
}

/** The avatar's letter: the name's first, skipping the Arabic article "ال" (العمل → ع). */
export function initial(name: string): string {
  const letters = [...name.trim()];
  const start = letters.length > 2 && letters[0] === "ا" && letters[1] === "ل" ? 2 : 0;
  const first = letters[start];
  return first === undefined ? "?" : first.toLocaleUpperCase();
}

/** One of 8 avatar colours, stable per account id. */
function hue(id: string): number {
  let sum = 0;
  for (const c of id) sum = (sum * 31 + (c.codePointAt(0) ?? 0)) % 9973;
  return sum % 8;
}
