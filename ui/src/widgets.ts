// Small building blocks shared by the pages: form rows, switches, banners, error boxes.

import { h, uid, type Child } from "./dom";
import type { I18n } from "./i18n";
import type { IpcError } from "./ipc";

/** A labelled form row: label, control, optional help line. */
export function field(
  label: string,
  control: HTMLElement,
  options: { help?: string | undefined; wide?: boolean } = {},
): HTMLElement {
  const id = control.id || uid("field");
  control.id = id;
  const helpId = options.help ? `${id}-help` : undefined;
  if (helpId) control.setAttribute("aria-describedby", helpId);
  return h(
    "div",
    { class: options.wide ? "field field-wide" : "field" },
    h("label", { attrs: { for: id } }, label),
    control,
    options.help ? h("p", { class: "help", attrs: { id: helpId } }, options.help) : null,
  );
}

/**
 * A text field. `dir="auto"`: what is typed (an address, a host name, an Arabic account name)
 * takes its own direction, so an English address in the Arabic window reads and edits left to
 * right; an empty field follows the page.
 */
export function textInput(
  value: string,
  attrs: Record<string, string | number | boolean | undefined> = {},
): HTMLInputElement {
  return h("input", { attrs: { type: "text", spellcheck: "false", autocomplete: "off", dir: "auto", ...attrs }, props: { value } });
}

export function select<T extends string>(
  value: T,
  options: readonly { value: T; label: string }[],
  onChange?: (value: T) => void,
): HTMLSelectElement {
  const element = h(
    "select",
    onChange ? { on: { change: () => onChange(element.value as T) } } : null,
    options.map((o) => h("option", { props: { value: o.value, selected: o.value === value } }, o.label)),
  );
  element.value = value;
  return element;
}

/** An on/off switch: a real checkbox (keyboard and screen readers work) styled as a switch. */
export function toggle(
  label: string,
  checked: boolean,
  onChange: (checked: boolean) => void,
  options: { help?: string | undefined; name?: string } = {},
): HTMLElement {
  const id = uid("toggle");
  const input = h("input", {
    class: "switch-input",
    attrs: { type: "checkbox", role: "switch", id, name: options.name },
    props: { checked },
    on: { change: () => onChange(input.checked) },
  });
  const helpId = options.help ? `${id}-help` : undefined;
  if (helpId) input.setAttribute("aria-describedby", helpId);
  return h(
    "div",
    { class: "toggle-row" },
    h(
      "div",
      { class: "toggle-text" },
      h("label", { attrs: { for: id } }, label),
      options.help ? h("p", { class: "help", attrs: { id: helpId } }, options.help) : null,
    ),
    h("span", { class: "switch" }, input, h("span", { class: "switch-track", attrs: { "aria-hidden": "true" } })),
  );
}

export function button(
  label: Child,
  onClick: (event: MouseEvent) => void,
  options: { kind?: "primary" | "secondary" | "danger" | "ghost"; attrs?: Record<string, string | boolean | undefined> } = {},
): HTMLButtonElement {
  return h(
    "button",
    { class: `button button-${options.kind ?? "secondary"}`, attrs: { type: "button", ...options.attrs }, on: { click: onClick } },
    label,
  );
}

/** A card: a titled group of rows. */
export function section(title: string | null, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, title ? h("h2", { class: "card-title" }, title) : null, ...children);
}

export function pageHeader(title: string, subtitle?: string, actions?: Child): HTMLElement {
  return h(
    "header",
    { class: "page-header" },
    h("div", { class: "page-heading" }, h("h1", null, title), subtitle ? h("p", { class: "subtitle" }, subtitle) : null),
    actions ? h("div", { class: "page-actions" }, actions) : null,
  );
}

export function banner(kind: "info" | "warning" | "error", ...children: Child[]): HTMLElement {
  return h(
    "div",
    { class: `banner banner-${kind}`, attrs: { role: kind === "error" ? "alert" : "status" } },
    ...children,
  );
}

/** An error from the shell: a localised headline by kind, then the program's sentence. */
export function errorBox(i18n: I18n, error: IpcError): HTMLElement {
  return banner(
    "error",
    h("strong", { class: "banner-title" }, i18n.t(`settings-error-${error.kind}`)),
    h("span", { class: "banner-text", attrs: { dir: "auto" } }, error.message),
  );
}

export function spinner(): HTMLElement {
  return h("span", { class: "spinner", attrs: { "aria-hidden": "true" } });
}
