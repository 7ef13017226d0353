// Folders: the account's folders as the server lists them, with a checkbox each. Watched
// folders the server no longer lists are shown too (checked, marked), so they can be dropped.

import type { Context } from "../context";
import { h, replaceChildren, uid } from "../dom";
import { IpcError } from "../ipc";
import type { AccountView, Folder, SpecialUse } from "../types";
import { button, errorBox, pageHeader, select, spinner } from "../widgets";

/** Deepest indentation level drawn; deeper folders still show their full path. */
const MAX_DEPTH = 6;

/**
 * Special uses left out by "All except Trash, Junk, Sent and Drafts": those four, and the
 * virtual `\All` and `\Flagged` folders (Gmail's "All Mail" and "Starred"), which hold copies
 * of messages in other folders and would notify each of them twice.
 */
const SKIPPED_BY_ALL_BUT: ReadonlySet<SpecialUse> = new Set<SpecialUse>(["trash", "junk", "sent", "drafts", "all", "flagged"]);

/**
 * The folders "All except Trash, Junk, Sent and Drafts" checks, in the server's order: every
 * selectable folder whose special use is not skipped, and INBOX always.
 */
export function allButSpecial(folders: readonly Folder[]): string[] {
  return folders
    .filter((f) => f.name.toUpperCase() === "INBOX" || (f.selectable && !(f.specialUse && SKIPPED_BY_ALL_BUT.has(f.specialUse))))
    .map((f) => f.name);
}

export function renderFolders(ctx: Context, id: string | undefined): HTMLElement {
  const t = ctx.i18n.t.bind(ctx.i18n);
  const accounts = ctx.settings.accounts;
  const header = pageHeader(t("settings-folders-title"), t("settings-folders-subtitle"));
  if (accounts.length === 0) {
    return h(
      "div",
      { class: "page page-folders" },
      header,
      h(
        "div",
        { class: "empty" },
        h("p", null, t("settings-folders-no-accounts")),
        button(t("settings-account-add"), () => ctx.navigate({ page: "account", id: null }), { kind: "primary" }),
      ),
    );
  }
  // A POP3 account has no folders: the page opens on the first IMAP account, if there is one.
  const account: AccountView =
    accounts.find((a) => a.id === id) ?? accounts.find((a) => a.protocol !== "pop3") ?? (accounts[0] as AccountView);
  const picker = select(
    account.id,
    accounts.map((a) => ({ value: a.id, label: a.name })),
    (next) => ctx.navigate({ page: "folders", id: next }),
  );
  picker.name = "account";
  const pickerId = uid("account");
  picker.id = pickerId;
  const toolbarLabel = h("label", { class: "toolbar-label", attrs: { for: pickerId } }, t("settings-folders-account"));

  if (account.protocol === "pop3") {
    // Nothing to list or choose: the one mailbox is always watched.
    return h(
      "div",
      { class: "page page-folders" },
      header,
      h("div", { class: "toolbar" }, toolbarLabel, picker),
      h(
        "section",
        { class: "card folders-card" },
        h("div", { class: "folders-body" }, h("p", { class: "empty folders-pop3" }, t("settings-folders-pop3", { name: account.name }))),
      ),
    );
  }

  const chosen = new Set(account.folders);
  const body = h("div", { class: "folders-body", attrs: { "aria-busy": "true" } });
  const count = h("span", { class: "footer-note", attrs: { "aria-live": "polite" } });
  const filter = h("input", {
    class: "filter",
    attrs: { type: "search", name: "filter", dir: "auto", placeholder: t("settings-folders-filter"), "aria-label": t("settings-folders-filter") },
  });
  const saveButton = button(t("settings-folders-save"), () => void save(), { kind: "primary", attrs: { "data-action": "save-folders" } });
  const allButHintId = uid("all-but-hint");
  const allButButton = button(t("settings-folders-all-but-special"), () => chooseAllButSpecial(), {
    attrs: { "data-action": "all-but-special", "aria-describedby": allButHintId },
  });
  const allButHint = h("span", { class: "folders-quick-hint", attrs: { id: allButHintId } }, t("settings-folders-all-but-special-hint"));
  const errorSlot = h("div", { class: "form-error" });
  let folders: Folder[] = [];

  const changed = () => {
    const before = [...account.folders].sort().join("\n");
    const after = [...chosen].sort().join("\n");
    return before !== after;
  };
  const updateFooter = () => {
    count.textContent = t("settings-folders-watched", { count: chosen.size });
    saveButton.disabled = chosen.size === 0 || !changed();
    allButButton.disabled = folders.length === 0;
  };

  // One click replaces the choice; nothing is saved until Save, so the user can still adjust.
  const chooseAllButSpecial = () => {
    chosen.clear();
    for (const name of allButSpecial(folders)) chosen.add(name);
    drawList();
  };

  const drawList = () => {
    const needle = filter.value.trim().toLowerCase();
    const listed = new Set(folders.map((f) => f.name));
    const missing = account.folders.filter((name) => !listed.has(name));
    const rows = [
      ...missing.map((name) => folderRow({ name, rawName: name, display: name, delimiter: null, selectable: true, specialUse: null }, true)),
      ...folders.map((folder) => folderRow(folder, false)),
    ].filter((row) => needle === "" || (row.dataset.search ?? "").includes(needle));
    replaceChildren(body, h("ul", { class: "folder-list", attrs: { "aria-label": t("settings-folders-title") } }, rows));
    body.setAttribute("aria-busy", "false");
    updateFooter();
  };

  const folderRow = (folder: Folder, missing: boolean): HTMLLIElement => {
    const checkId = uid("folder");
    const parts = folder.delimiter ? folder.display.split(folder.delimiter) : [folder.display];
    const depth = Math.min(parts.length - 1, MAX_DEPTH);
    const box = h("input", {
      attrs: { type: "checkbox", id: checkId, "data-folder": folder.name, disabled: !folder.selectable && !chosen.has(folder.name) },
      props: { checked: chosen.has(folder.name) },
      on: {
        change: () => {
          if (box.checked) chosen.add(folder.name);
          else chosen.delete(folder.name);
          updateFooter();
        },
      },
    });
    const row = h(
      "li",
      { class: `folder depth-${depth}${folder.selectable ? "" : " container"}${missing ? " missing" : ""}` },
      box,
      h(
        "label",
        { attrs: { for: checkId, title: folder.display } },
        h("span", { class: "folder-name", attrs: { dir: "auto" } }, parts[parts.length - 1] ?? folder.display),
        depth > 0 ? h("span", { class: "folder-path", attrs: { dir: "auto" } }, folder.display) : null,
      ),
      folder.specialUse ? h("span", { class: "tag" }, t(`settings-folder-special-${folder.specialUse}`)) : null,
      missing ? h("span", { class: "tag tag-warn" }, t("settings-folders-missing")) : null,
      !folder.selectable ? h("span", { class: "tag tag-muted" }, t("settings-folders-container")) : null,
    );
    row.dataset.search = folder.display.toLowerCase();
    return row;
  };

  const load = async () => {
    body.setAttribute("aria-busy", "true");
    replaceChildren(body, h("div", { class: "loading" }, spinner(), t("settings-folders-loading")));
    replaceChildren(errorSlot);
    try {
      folders = await ctx.api.listFolders(account.id);
      drawList();
    } catch (raw) {
      folders = [];
      body.setAttribute("aria-busy", "false");
      replaceChildren(
        body,
        errorBox(ctx.i18n, IpcError.from(raw)),
        button(t("settings-folders-reload"), () => void load()),
      );
      updateFooter();
    }
  };

  const save = async () => {
    saveButton.disabled = true;
    replaceChildren(errorSlot);
    // Keep the order: INBOX and the server's order first, then names only the config has.
    const order = [...account.folders.filter((n) => !folders.some((f) => f.name === n)), ...folders.map((f) => f.name)];
    const selected = order.filter((name) => chosen.has(name));
    try {
      const outcome = await ctx.api.saveFolders(account.id, selected);
      await ctx.reloadSettings();
      account.folders = selected;
      ctx.announceSave(outcome);
      updateFooter();
    } catch (raw) {
      replaceChildren(errorSlot, errorBox(ctx.i18n, IpcError.from(raw)));
      updateFooter();
    }
  };

  filter.addEventListener("input", drawList);
  updateFooter();
  void load();

  return h(
    "div",
    { class: "page page-folders" },
    header,
    h(
      "div",
      { class: "toolbar" },
      toolbarLabel,
      picker,
      h("span", { class: "spacer" }),
      filter,
      button(t("settings-folders-reload"), () => void load(), { kind: "ghost" }),
    ),
    h("div", { class: "toolbar folders-quick" }, allButButton, allButHint),
    h("section", { class: "card folders-card" }, body),
    errorSlot,
    h("footer", { class: "form-footer" }, count, h("span", { class: "spacer" }), saveButton),
  );
}
