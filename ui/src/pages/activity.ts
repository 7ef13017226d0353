// Activity: the last notifications and each account's last error with what to do, from the
// running tray (`GetActivity`). Texts were cleaned by the tray; they are still shown as text.
// "Open" on a notification asks the tray to open that message as its popup's "Open" would
// (`OpenMessage`): the tray, not this window, decides what runs.

import type { Context } from "../context";
import { h, replaceChildren } from "../dom";
import { IpcError } from "../ipc";
import { delayWithin, formatDateTime, formatWhen, toDate } from "../format";
import type { Activity, ActivityNotification, Timestamp } from "../types";
import { banner, button, errorBox, pageHeader, section, spinner } from "../widgets";

/** A `<time>` for a record: relative when recent, the full date and time on hover. */
function when(at: Timestamp, lang: string): HTMLElement {
  const date = toDate(at);
  return h(
    "time",
    { class: "when", attrs: { datetime: date?.toISOString(), title: date ? formatDateTime(date, lang) : undefined } },
    formatWhen(at, lang),
  );
}

export function renderActivity(ctx: Context): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const body = h("div", { class: "activity-body", attrs: { "aria-busy": "true" } });
  const accountName = (id: string) => ctx.settings.accounts.find((a) => a.id === id)?.name ?? id;
  const stateLabel = (state: string) => (ctx.i18n.has(`state-${state}`) ? t(`state-${state}`, { seconds: 60 }) : state);

  /** The tray's own advice, else ours for the state. */
  const hintFor = (hint: string | undefined, state: string): string | null =>
    hint ?? (ctx.i18n.has(`settings-activity-hint-${state}`) ? t(`settings-activity-hint-${state}`) : null);

  /** How soon after reaching the server it was announced; nothing when not plausible. */
  const delayLine = (ms: number | undefined): HTMLElement | null => {
    const within = delayWithin(ms);
    return within === null
      ? null
      : h(
          "span",
          { class: "mail-delay", attrs: { "data-delay-ms": ms } },
          t(`settings-activity-delay-${within.unit}`, { count: within.count }),
        );
  };

  /** "Open": the tray opens the message (or the account's mail, without an id); a failure is said. */
  const openMessage = async (n: ActivityNotification, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      await ctx.api.openMessage(n.account, n.messageId ?? "");
    } catch (raw) {
      const error = IpcError.from(raw);
      ctx.toast(
        error.kind === "tray_not_running"
          ? t("settings-activity-open-not-running")
          : t("settings-activity-open-failed", { message: error.message }),
        "error",
      );
    } finally {
      button.disabled = false;
    }
  };

  const draw = (activity: Activity) => {
    const problems =
      activity.errors.length === 0
        ? h("p", { class: "empty-line" }, t("settings-activity-no-problems"))
        : h(
            "ul",
            { class: "problem-list" },
            activity.errors.map((e) =>
              h(
                "li",
                { class: "problem", attrs: { "data-account": e.account } },
                h(
                  "div",
                  { class: "problem-head" },
                  h("span", { class: "account-name", attrs: { dir: "auto" } }, accountName(e.account)),
                  h("span", { class: "state state-bad" }, h("span", { class: "status-dot", attrs: { "aria-hidden": "true" } }), stateLabel(e.state)),
                  when(e.at, ctx.i18n.lang),
                ),
                h("p", { class: "problem-detail", attrs: { dir: "auto" } }, e.detail),
                hintFor(e.hint, e.state)
                  ? h(
                      "div",
                      { class: "step-hint" },
                      h("strong", null, t("settings-activity-what-to-do")),
                      " ",
                      h("span", null, hintFor(e.hint, e.state)),
                    )
                  : null,
                ctx.settings.accounts.some((a) => a.id === e.account)
                  ? h(
                      "div",
                      { class: "problem-actions" },
                      button(t("settings-activity-edit-account"), () => ctx.navigate({ page: "account", id: e.account }), {
                        kind: "ghost",
                      }),
                    )
                  : null,
              ),
            ),
          );
    const recent =
      activity.notifications.length === 0
        ? h("p", { class: "empty-line" }, t("settings-activity-none"))
        : h(
            "ul",
            { class: "mail-list" },
            activity.notifications.map((n) =>
              h(
                "li",
                { class: "mail", attrs: { "data-uid": n.uid } },
                h("span", { class: "avatar avatar-small", attrs: { "aria-hidden": "true" } }, [...n.from.trim()][0]?.toLocaleUpperCase() ?? "?"),
                h(
                  "div",
                  { class: "mail-text" },
                  h("span", { class: "mail-from", attrs: { dir: "auto" } }, n.from),
                  h("span", { class: "mail-subject", attrs: { dir: "auto" } }, n.subject),
                  delayLine(n.delayMs),
                ),
                h(
                  "div",
                  { class: "mail-meta" },
                  when(n.at, ctx.i18n.lang),
                  h("span", { class: "mail-where" }, h("bdi", { class: "mail-account" }, accountName(n.account)), " · ", h("bdi", { class: "mail-folder" }, n.folder)),
                ),
                h(
                  "div",
                  { class: "mail-actions" },
                  button(t("settings-activity-open"), (event) => void openMessage(n, event.currentTarget as HTMLButtonElement), {
                    kind: "ghost",
                    attrs: { "data-action": "open-message" },
                  }),
                ),
              ),
            ),
          );
    body.setAttribute("aria-busy", "false");
    replaceChildren(
      body,
      section(t("settings-activity-problems"), problems),
      section(t("settings-activity-recent"), recent),
    );
  };

  const load = async () => {
    body.setAttribute("aria-busy", "true");
    if (body.childElementCount === 0) replaceChildren(body, h("div", { class: "loading" }, spinner(), t("settings-loading")));
    try {
      draw(await ctx.api.trayActivity());
    } catch (raw) {
      const error = IpcError.from(raw);
      body.setAttribute("aria-busy", "false");
      replaceChildren(
        body,
        error.kind === "tray_not_running"
          ? banner(
              "warning",
              h("span", { class: "banner-text", attrs: { dir: "auto" } }, t("settings-activity-unavailable")),
              button(t("settings-tray-start"), () => void ctx.startTray(), { kind: "secondary" }),
            )
          : errorBox(ctx.i18n, error),
      );
    }
  };
  ctx.onTrayChange(() => void load());
  void load();

  return h(
    "div",
    { class: "page page-activity" },
    pageHeader(
      t("settings-activity-title"),
      t("settings-activity-subtitle"),
      button(t("settings-activity-refresh"), () => void load(), { kind: "ghost", attrs: { "data-action": "refresh" } }),
    ),
    body,
  );
}
