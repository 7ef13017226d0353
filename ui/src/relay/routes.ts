// Hash routes of the relay's web app: #/mailboxes, #/mailboxes/add, #/devices, #/webhooks, and
// #token=… — the sign-in link an operator hands out (the fragment never reaches a server log).

export type Page = "mailboxes" | "add-mailbox" | "devices" | "webhooks";

export type Route = { kind: "page"; page: Page } | { kind: "token"; token: string };

export const PAGES: readonly Page[] = ["mailboxes", "add-mailbox", "devices", "webhooks"];

const PATHS: Record<Page, string> = {
  mailboxes: "#/mailboxes",
  "add-mailbox": "#/mailboxes/add",
  devices: "#/devices",
  webhooks: "#/webhooks",
};

/** The route a location hash names; anything unknown is the mailbox list. */
export function parseRoute(hash: string): Route {
  const fragment = hash.startsWith("#") ? hash.slice(1) : hash;
  if (/^token=/.test(fragment) || /[&]token=/.test(fragment)) {
    const token = new URLSearchParams(fragment).get("token")?.trim() ?? "";
    if (token !== "") return { kind: "token", token };
  }
  const path = fragment.replace(/^\/+/, "").replace(/\/+$/, "").split(/[?&]/)[0] ?? "";
  switch (path) {
    case "mailboxes/add":
      return { kind: "page", page: "add-mailbox" };
    case "devices":
      return { kind: "page", page: "devices" };
    case "webhooks":
      return { kind: "page", page: "webhooks" };
    default:
      return { kind: "page", page: "mailboxes" };
  }
}

export function hrefOf(page: Page): string {
  return PATHS[page];
}
