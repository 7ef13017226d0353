// A tiny DOM builder. Text children become Text nodes, so anything from a server, a message or
// the configuration is rendered as text and can never become markup. There is deliberately no
// way to set innerHTML, inline event-handler attributes or inline styles through it.

export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Handlers = { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };

export interface Props {
  class?: string;
  /** Attributes, set with setAttribute; `false`/`undefined` leaves them out, `true` sets "". */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** DOM properties (value, checked, disabled, …). */
  props?: Record<string, unknown>;
  on?: Handlers;
}

const FORBIDDEN_ATTRIBUTE = /^(on|style$|srcdoc$|formaction$)/i;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props?.class) element.className = props.class;
  for (const [name, value] of Object.entries(props?.attrs ?? {})) {
    if (FORBIDDEN_ATTRIBUTE.test(name)) throw new Error(`attribute ${name} is not allowed`);
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [name, value] of Object.entries(props?.props ?? {})) {
    if (name === "innerHTML" || name === "outerHTML") throw new Error(`${name} is not allowed`);
    (element as unknown as Record<string, unknown>)[name] = value;
  }
  for (const [type, handler] of Object.entries(props?.on ?? {})) {
    if (handler) element.addEventListener(type, handler as EventListener);
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(parent, child);
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let nextId = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
