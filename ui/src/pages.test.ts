// Page behaviour in jsdom, against the fake backend behind Tauri's mockIPC: what a user does
// and what reaches the shell.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { App } from "./app";
import { api, events } from "./ipc";
import {
  clearMocks,
  FakeBackend,
  firstRunScenario,
  HOSTILE,
  install,
  localizedScenario,
  richScenario,
  type Scenario,
} from "./testing/fakeBackend";
import type { Folder } from "./types";

let root: HTMLElement;

beforeEach(() => {
  document.body.replaceChildren();
  root = document.createElement("div");
  document.body.appendChild(root);
});

afterEach(async () => {
  // Let the page's pending work (event unsubscriptions, toasts) finish against the mocks.
  await new Promise((resolve) => setTimeout(resolve, 30));
  clearMocks();
});

async function start(scenario: Scenario): Promise<FakeBackend> {
  scenario.stepDelayMs = 5;
  const backend = new FakeBackend(scenario);
  install(backend);
  await new App(root, api, events).start();
  return backend;
}

/** Add account's whole form, by "Configure manually" on the address step. */
async function startManual(scenario: Scenario): Promise<FakeBackend> {
  const backend = await start(scenario);
  click("[data-action=manual]");
  return backend;
}

const $ = <T extends Element = HTMLElement>(selector: string): T => {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`nothing matches ${selector}`);
  return found;
};

function type(selector: string, value: string): void {
  const input = $<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

function choose(selector: string, value: string): void {
  const select = $<HTMLSelectElement>(selector);
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

function setChecked(selector: string, checked: boolean): void {
  const box = $<HTMLInputElement>(selector);
  box.checked = checked;
  box.dispatchEvent(new Event("change", { bubbles: true }));
}

const click = (selector: string) => $(selector).click();
const plain = (s: string | null | undefined) => (s ?? "").replace(/[\u2068\u2069]/g, "");

/** Nothing hostile became an element. */
function expectNoInjection(): void {
  expect(document.querySelectorAll("img, svg, iframe, object, embed, script").length).toBe(0);
  expect(document.body.dataset.pwned).toBeUndefined();
}

describe("add account", () => {
  it("opens on Add account on first run and suggests id and user name", async () => {
    await startManual(firstRunScenario());
    expect($("h1").textContent).toBe("Add account");
    type("input[name=name]", "Work Mail");
    expect($<HTMLInputElement>("input[name=id]").value).toBe("work-mail");
    type("input[name=email]", "ana@example.com");
    expect($<HTMLInputElement>("input[name=id]").value).toBe("ana");
    expect($<HTMLInputElement>("input[name=username]").value).toBe("ana@example.com");
    // The port follows the security choice until the user sets one.
    choose("select[name=security]", "starttls");
    expect($<HTMLInputElement>("input[name=port]").value).toBe("143");
  });

  it("shows each test step as it arrives, then saves with the password going only one way", async () => {
    const backend = await startManual(firstRunScenario());
    type("input[name=name]", "Work");
    type("input[name=host]", "imap.example.com");
    type("input[name=username]", "ana");
    type("input[name=password]", "hunter2");
    const seen: string[] = [];
    const observer = new MutationObserver(() => {
      const now = [...document.querySelectorAll<HTMLElement>("[data-step]")].map((e) => e.dataset.status).join(",");
      if (seen[seen.length - 1] !== now) seen.push(now);
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    click("[data-action=test]");
    await vi.waitFor(() => expect($(".test-panel .banner-title").textContent).toBe("Everything works."), { timeout: 2000 });
    observer.disconnect();

    // Each step was shown running, then done, in order, while the test ran.
    expect(seen).toEqual([
      "running,pending,pending,pending,pending,pending",
      "ok,running,pending,pending,pending,pending",
      "ok,ok,running,pending,pending,pending",
      "ok,ok,ok,running,pending,pending",
      "ok,ok,ok,ok,running,pending",
      "ok,ok,ok,ok,ok,running",
      "ok,ok,ok,ok,ok,ok",
    ]);

    // Folders offered from the server, hostile name as text.
    const hostile = [...document.querySelectorAll(".folder-choices .folder-name")].map((e) => e.textContent);
    expect(hostile).toContain(HOSTILE.img);
    setChecked('[data-folder="Newsletters"]', true);

    click("[data-action=save]");
    await vi.waitFor(() => expect(document.querySelector(".page-accounts")).not.toBeNull());
    const [save] = backend.callsOf("save_account");
    expect(save?.args).toMatchObject({ originalId: null, password: "hunter2", account: { id: "work", folders: ["INBOX", "Newsletters"] } });
    expect(backend.keyring.get("work")).toBe("hunter2");
    expect(JSON.stringify(backend.scenario.settings)).not.toContain("hunter2");
    expect(document.body.textContent).not.toContain("hunter2");
    expectNoInjection();
  });

  it("a failed step shows its hint and leaves the rest pending", async () => {
    await startManual(firstRunScenario());
    type("input[name=name]", "X");
    type("input[name=host]", "imap.example.com");
    type("input[name=username]", "ana");
    type("input[name=password]", "wrong");
    click("[data-action=test]");
    await vi.waitFor(() => expect($("[data-step=login]").dataset.status).toBe("failed"), { timeout: 2000 });
    await vi.waitFor(() => expect($(".test-panel .banner-error")).toBeTruthy());
    expect($("[data-step=login] .step-detail").textContent).toBe(`login failed: [AUTHENTICATIONFAILED] ${HOSTILE.script}`);
    expect($("[data-step=login] .step-hint").textContent).toContain("app password");
    expect($("[data-step=capabilities]").dataset.status).toBe("pending");
    expect(plain($(".test-panel .banner-title").textContent)).toBe("The test stopped at “Log in”.");
    expectNoInjection();
  });

  it("refuses to send an incomplete form and shows the shell's validation errors", async () => {
    const backend = await startManual(firstRunScenario());
    click("[data-action=save]");
    expect($("input[name=host]").getAttribute("aria-invalid")).toBe("");
    expect(backend.callsOf("save_account")).toEqual([]);

    type("input[name=name]", "X");
    type("input[name=host]", "mail.example.com");
    type("input[name=username]", "ana");
    type("input[name=password]", "pw");
    choose("select[name=security]", "plain");
    click("[data-action=save]");
    await vi.waitFor(() => expect($(".form-error .banner-title").textContent).toBe("Please check this"));
    expect($(".form-error .banner-text").textContent).toContain("only allowed for a loopback host");
  });

  it("editing keeps the id fixed and an empty password means keep the stored one", async () => {
    const backend = await start(richScenario());
    click("[data-account=work] [data-action=edit]");
    expect($<HTMLInputElement>("input[name=id]").readOnly).toBe(true);
    type("input[name=name]", "Work (new)");
    click("[data-action=save]");
    await vi.waitFor(() => expect(backend.callsOf("save_account")).toHaveLength(1));
    expect(backend.callsOf("save_account")[0]?.args).toMatchObject({ originalId: "work", password: null, account: { name: "Work (new)" } });
    expect(backend.keyring.get("work")).toBe("stored-secret");
  });
});

describe("add account from the address", () => {
  const wait = (ms = 80) => new Promise((resolve) => setTimeout(resolve, ms));
  const visible = (selector: string) => {
    const element = document.querySelector<HTMLElement>(selector);
    return element !== null && element.closest("[hidden]") === null;
  };

  async function lookUp(address: string, name = ""): Promise<void> {
    type("input[name=name]", name);
    type("input[name=email]", address);
    click("[data-action=continue]");
  }

  it("found: says where it looks, shows the server and where it came from, then password, test and save", async () => {
    const backend = await start(firstRunScenario());
    backend.scenario.stepDelayMs = 40;
    expect($("h1").textContent).toBe("Add account");
    expect(document.querySelector("input[name=host]")).toBeNull();
    await lookUp("sam@company.example", "Work");
    // While looking: the latest place, in words.
    await vi.waitFor(() => expect(plain($(".discover-progress").textContent)).toContain("Looking at"));
    await vi.waitFor(() => expect(plain($(".discover-progress").textContent)).toContain("MX"), { timeout: 2000 });
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    expect(backend.callsOf("discover_account")[0]?.args).toMatchObject({ address: "sam@company.example" });

    const row = (key: string) => plain($(`[data-found=${key}] dd`).textContent);
    expect(row("host")).toBe("imap.company.example");
    expect(row("port")).toBe("993");
    expect(row("security")).toBe("TLS");
    expect(row("username")).toBe("sam@company.example");
    expect(row("source")).toBe("from company.example's own configuration");
    expect(row("login")).toBe("with a password");
    expect(document.querySelector(".found .banner-warning")).toBeNull();
    // The id is derived, and only under Advanced.
    expect($<HTMLInputElement>("input[name=id]").value).toBe("sam");
    expect($("input[name=id]").closest("details")).not.toBeNull();
    expect(visible("input[name=password]")).toBe(false);

    click("[data-action=continue]");
    expect(visible("input[name=password]")).toBe(true);
    expect(visible("[data-action=test-save]")).toBe(true);
    type("input[name=password]", "correct horse");
    click("[data-action=test-save]");
    await vi.waitFor(() => expect(document.querySelector(".page-accounts")).not.toBeNull(), { timeout: 2000 });
    const [test] = backend.callsOf("test_connection");
    expect(test?.args).toMatchObject({ originalId: null, password: "correct horse", account: { host: "imap.company.example" } });
    const [save] = backend.callsOf("save_account");
    expect(save?.args).toMatchObject({
      originalId: null,
      password: "correct horse",
      account: { id: "sam", name: "Work", email: "sam@company.example", host: "imap.company.example", port: 993, security: "tls", username: "sam@company.example" },
    });
    // Then the provider's push facts the form does not carry.
    expect(backend.callsOf("apply_discovered")[0]?.args).toEqual({ id: "sam" });
    expect(backend.keyring.get("sam")).toBe("correct horse");
  });

  it("a failed test stops before saving; the id can be changed under Advanced", async () => {
    const backend = await start(firstRunScenario());
    await lookUp("sam@company.example");
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    type("input[name=id]", "office");
    click("[data-action=continue]");
    type("input[name=password]", "wrong");
    click("[data-action=test-save]");
    await vi.waitFor(() => expect($("[data-step=login]").dataset.status).toBe("failed"), { timeout: 2000 });
    await wait();
    expect(backend.callsOf("save_account")).toHaveLength(0);
    type("input[name=password]", "right");
    click("[data-action=test-save]");
    await vi.waitFor(() => expect(backend.callsOf("save_account")).toHaveLength(1), { timeout: 2000 });
    expect(backend.callsOf("save_account")[0]?.args).toMatchObject({ account: { id: "office", name: "" } });
  });

  it("not found: one sentence, and the whole form with the address and user name filled in", async () => {
    const backend = await start(firstRunScenario());
    await lookUp("ana@nowhere.example", "Ana");
    await vi.waitFor(() => expect(document.querySelector(".not-found")).not.toBeNull(), { timeout: 2000 });
    expect(plain($(".not-found").textContent)).toBe("No settings found for nowhere.example. Enter the server by hand.");
    expect($(".discover-notes").textContent).toContain("autoconfig.nowhere.example");
    expect($<HTMLInputElement>("input[name=email]").value).toBe("ana@nowhere.example");
    expect($<HTMLInputElement>("input[name=username]").value).toBe("ana@nowhere.example");
    expect($<HTMLInputElement>("input[name=name]").value).toBe("Ana");
    expect($<HTMLInputElement>("input[name=id]").value).toBe("ana");
    expect($<HTMLInputElement>("input[name=host]").value).toBe("");
    type("input[name=host]", "mail.nowhere.example");
    type("input[name=password]", "pw");
    click("[data-action=save]");
    await vi.waitFor(() => expect(backend.callsOf("save_account")).toHaveLength(1));
    expect(backend.callsOf("save_account")[0]?.args).toMatchObject({ account: { id: "ana", host: "mail.nowhere.example", email: "ana@nowhere.example" } });
    // Nothing was found, so no push facts to apply.
    expect(backend.callsOf("apply_discovered")).toHaveLength(0);
  });

  it("warnings come first and prominently: a look-alike domain, a server outside the address's domain", async () => {
    await start(firstRunScenario());
    await lookUp("ana@gmaii.com");
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    const warning = $(".found .banner-warning");
    expect(warning.compareDocumentPosition($(".found-summary")) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(plain(warning.querySelector(".banner-title")?.textContent)).toBe("Check this before you continue");
    const items = [...warning.querySelectorAll("li")].map((li) => plain(li.textContent));
    expect(items).toEqual([
      "gmaii.com is not gmail.com: it only looks like it. Check the address before you give it a password.",
      "mail.mailhost.example is not part of gmaii.com: it belongs to mailhost.example. Use it only if you expected this server.",
    ]);
  });

  it("a provider that signs in: its note, Continue gives Sign in with …, which saves through the sign-in and applies the push facts", async () => {
    const backend = await start(firstRunScenario());
    await lookUp("ana@gmail.com", "Personal");
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    expect(plain($("[data-found=login] dd").textContent)).toBe("by signing in with Google");
    expect(plain($("[data-found=source] dd").textContent)).toBe("from the provider list (Gmail)");
    expect(plain($(".found-note").textContent)).toContain("app password");
    click("[data-action=continue]");
    expect(visible("[data-action=sign-in]")).toBe(true);
    expect(plain($("[data-action=sign-in]").textContent)).toBe("Sign in with Google");
    expect(visible("input[name=password]")).toBe(false);
    expect(visible("[data-action=test-save]")).toBe(false);
    click("[data-action=sign-in]");
    await wait();
    expect(backend.callsOf("sign_in")[0]?.args).toMatchObject({
      originalId: null,
      account: { id: "ana", name: "Personal", host: "imap.gmail.com", oauthProvider: "google", open: { kind: "url", value: "https://mail.google.com/" } },
    });
    backend.approveSignIn();
    await wait(300);
    expect(backend.scenario.settings.accounts.map((a) => a.id)).toEqual(["ana"]);
    expect(backend.callsOf("apply_discovered")[0]?.args).toEqual({ id: "ana" });
    expect(backend.callsOf("test_connection")[0]?.args.originalId).toBe("ana");
  });

  it("Cancel while looking stops the lookup and goes back to the address, kept; a late answer is ignored", async () => {
    const backend = await start(firstRunScenario());
    await lookUp("ana@slow.example", "Ana");
    await vi.waitFor(() => expect(plain($(".discover-progress").textContent)).toContain("Looking at"));
    click("[data-action=cancel-discovery]");
    await wait();
    expect(backend.callsOf("cancel_discovery")).toHaveLength(1);
    expect($<HTMLInputElement>("input[name=email]").value).toBe("ana@slow.example");
    expect($<HTMLInputElement>("input[name=name]").value).toBe("Ana");
    expect(document.querySelector(".discover-progress")).toBeNull();
    expect(document.querySelector(".found-summary")).toBeNull();
  });

  it("Configure manually from what was found opens the whole form with it; Back returns to the address", async () => {
    await start(firstRunScenario());
    await lookUp("sam@company.example");
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    click("[data-action=manual]");
    expect($<HTMLInputElement>("input[name=host]").value).toBe("imap.company.example");
    expect($<HTMLInputElement>("input[name=username]").value).toBe("sam@company.example");
    expect($<HTMLInputElement>("input[name=id]").value).toBe("sam");
    click("[data-action=back]");
    expect($<HTMLInputElement>("input[name=email]").value).toBe("sam@company.example");
  });

  it("an address that is not one is refused on the address step; an empty one is required", async () => {
    const backend = await start(firstRunScenario());
    click("[data-action=continue]");
    expect($(".form-error").textContent).toContain("Required");
    expect(backend.callsOf("discover_account")).toHaveLength(0);
    await lookUp("not an address");
    await vi.waitFor(() => expect($(".form-error").textContent).toContain("is not an e-mail address"));
    expect($<HTMLInputElement>("input[name=email]").value).toBe("not an address");
  });

  it("Arabic: what was found reads right to left, the server and address keep their own direction", async () => {
    const scenario = firstRunScenario(localizedScenario("ar"));
    scenario.settings.general.language = "ar";
    await start(scenario);
    await lookUp("layla@company.example");
    await vi.waitFor(() => expect(document.querySelector(".found-summary")).not.toBeNull(), { timeout: 2000 });
    expect(document.documentElement.dir).toBe("rtl");
    expect(plain($(".found .card-title").textContent)).toBe("عُثر على إعدادات layla@company.example");
    expect(plain($("[data-found=source] dd").textContent)).toBe("من الإعدادات التي ينشرها company.example بنفسه");
    expect($("[data-found=host] dd span").getAttribute("dir")).toBe("ltr");
    expect(plain($("[data-action=continue]").textContent)).toBe("متابعة");
  });
});

describe("sign-in at the provider", () => {
  const wait = (ms = 80) => new Promise((resolve) => setTimeout(resolve, ms));

  it("preselects the provider from the address, replaces the password with a button, shows the address to copy, then tests", async () => {
    const backend = await startManual(firstRunScenario());
    type("input[name=name]", "Gmail");
    type("input[name=email]", "ana@gmail.com");
    $("input[name=email]").dispatchEvent(new Event("change", { bubbles: true }));
    await wait(30);
    expect($<HTMLSelectElement>("select[name=signin-method]").value).toBe("google");
    expect($<HTMLInputElement>("input[name=host]").value).toBe("imap.gmail.com");
    expect($("input[name=password]").closest<HTMLElement>(".field")?.hidden).toBe(true);
    expect(plain($("[data-action=sign-in]").textContent)).toBe("Sign in with Google");
    expect($<HTMLButtonElement>("[data-action=save]").hidden).toBe(true);

    click("[data-action=sign-in]");
    await wait();
    const url = $<HTMLInputElement>("input[name=signin-url]").value;
    expect(url).toContain("login_hint=ana%40gmail.com");
    expect(plain($(".signin-waiting").textContent)).toContain("5 minutes");
    const sent = backend.callsOf("sign_in")[0]?.args.account as { oauthProvider: string; passwordCommand: string };
    expect(sent.oauthProvider).toBe("google");
    expect(sent.passwordCommand).toBe("");

    backend.approveSignIn();
    await wait(300);
    // Saved by the sign-in itself, with no password anywhere; then the usual test, of the saved account.
    expect(backend.scenario.settings.accounts.map((a) => a.id)).toEqual(["ana"]);
    expect(backend.keyring.has("ana")).toBe(false);
    expect(backend.callsOf("save_account").length).toBe(0);
    expect(backend.callsOf("test_connection").length).toBe(1);
    expect(backend.callsOf("test_connection")[0]?.args.originalId).toBe("ana");
    expect(backend.callsOf("test_connection")[0]?.args.password).toBeNull();
  });

  it("a denied sign-in says so and what to do; leaving the form cancels a waiting one", async () => {
    const backend = await startManual(firstRunScenario());
    type("input[name=name]", "Custom");
    choose("select[name=signin-method]", "custom");
    expect($("input[name=oauth-token-endpoint]").closest<HTMLElement>(".custom-provider")?.hidden).toBe(false);
    type("input[name=host]", "imap.example.org");
    type("input[name=username]", "ana");
    click("[data-action=sign-in]");
    await wait();
    backend.approveSignIn("denied");
    await wait();
    expect($(".form-error").textContent).toContain("The sign-in did not complete");
    expect($(".form-error").textContent).toContain("try again");

    click("[data-action=sign-in]");
    await wait();
    click("[data-page=general]");
    await wait();
    expect(backend.callsOf("cancel_sign_in").length).toBe(1);
  });

  it("an account whose sign-in is gone says so and offers Sign in…, which opens its page", async () => {
    const scenario = richScenario();
    scenario.settings.accounts.push(
      (await import("./testing/fakeBackend")).account("gmail", { name: "Gmail", oauthProvider: "google" }),
    );
    scenario.live = [
      ...(scenario.live === "not_running" ? [] : scenario.live),
      { id: "gmail", name: "Gmail", state: "signin_required", detail: "", unread: 0, delayMs: null, delayMessages: 0 },
    ];
    await start(scenario);
    await wait(30);
    expect(plain($("[data-account=gmail] [data-state=signin_required]").textContent)).toContain("sign-in required");
    click("[data-account=gmail] [data-action=sign-in-again]");
    expect(plain($("h1").textContent)).toBe("Edit Gmail");
    expect(plain($("[data-action=sign-in]").textContent)).toBe("Sign in with Google");
  });

  it("--account ID opens on that account's page with its sign-in", async () => {
    const scenario = richScenario();
    scenario.settings.accounts.push(
      (await import("./testing/fakeBackend")).account("gmail", { name: "Gmail", oauthProvider: "google" }),
    );
    scenario.stepDelayMs = 5;
    const backend = new FakeBackend(scenario);
    backend.shownAccount = "gmail";
    install(backend);
    await new App(root, api, events).start();
    expect(plain($("h1").textContent)).toBe("Edit Gmail");
    expect($("[data-action=sign-in]").closest<HTMLElement>(".signin")?.hidden).toBe(false);
  });
});

describe("POP3 accounts", () => {
  const options = (selector: string) => [...document.querySelectorAll<HTMLOptionElement>(`${selector} option`)].map((o) => [o.value, o.textContent]);
  const port = () => $<HTMLInputElement>("input[name=port]").value;
  const protocolHelp = () => $(".protocol-help");

  /** A richScenario whose "home" account is POP3. */
  function withPop3Home(): Scenario {
    const scenario = richScenario();
    const home = scenario.settings.accounts.find((a) => a.id === "home");
    if (!home) throw new Error("no home account");
    Object.assign(home, { protocol: "pop3", host: "pop.home.example", port: 995, pollIntervalSecs: 120 });
    return scenario;
  }

  it("offers IMAP first and by default; the port follows protocol and security until the user types one", async () => {
    await startManual(firstRunScenario());
    expect(options("select[name=protocol]")).toEqual([
      ["imap", "IMAP"],
      ["pop3", "POP3"],
    ]);
    expect($<HTMLSelectElement>("select[name=protocol]").value).toBe("imap");
    expect(port()).toBe("993");
    expect(protocolHelp().hidden).toBe(true);
    expect($("select[name=protocol]").hasAttribute("aria-describedby")).toBe(false);

    choose("select[name=protocol]", "pop3");
    expect(port()).toBe("995");
    choose("select[name=security]", "starttls");
    expect(port()).toBe("110");
    choose("select[name=protocol]", "imap");
    expect(port()).toBe("143");
    choose("select[name=protocol]", "pop3");
    choose("select[name=security]", "tls");
    expect(port()).toBe("995");

    // A port the user typed is theirs: neither choice moves it.
    type("input[name=port]", "2995");
    choose("select[name=protocol]", "imap");
    choose("select[name=security]", "starttls");
    expect(port()).toBe("2995");
  });

  it("says what POP3 means, names its server and STLS, in the window's language", async () => {
    await startManual(firstRunScenario());
    choose("select[name=protocol]", "pop3");
    const help = protocolHelp();
    expect(help.hidden).toBe(false);
    expect($("select[name=protocol]").getAttribute("aria-describedby")).toBe(help.id);
    expect(plain(help.textContent)).toBe(
      "POP3 has no push: Pushmail checks every 60 s, never deletes or changes anything on the server, and cannot tell when you read mail elsewhere; the count shows new mail since you last opened your mail client.",
    );
    expect($(`label[for="${$("input[name=host]").id}"]`).textContent).toBe("POP3 server");
    expect($<HTMLInputElement>("input[name=host]").placeholder).toBe("pop.example.com");
    expect(options("select[name=security]")).toEqual([
      ["tls", "TLS"],
      ["starttls", "STARTTLS (STLS)"],
      ["plain", "None"],
    ]);

    choose("select[name=protocol]", "imap");
    expect(protocolHelp().hidden).toBe(true);
    expect($(`label[for="${$("input[name=host]").id}"]`).textContent).toBe("IMAP server");
    expect(options("select[name=security]")[1]).toEqual(["starttls", "STARTTLS"]);
  });

  it("Arabic: the interval reads in the right plural form", async () => {
    const scenario = withPop3Home();
    scenario.settings.general.language = "ar";
    await start(scenario);
    click("[data-account=home] [data-action=edit]");
    expect(plain(protocolHelp().textContent)).toContain("كل 120 ثانية");
    expect($(`label[for="${$("input[name=host]").id}"]`).textContent).toBe("خادم POP3");
  });

  it("tests and saves a POP3 account: no folders to choose, its one mailbox, protocol pop3", async () => {
    const backend = await startManual(firstRunScenario());
    type("input[name=name]", "Home");
    choose("select[name=protocol]", "pop3");
    type("input[name=host]", "imap.example.com");
    type("input[name=username]", "ana");
    type("input[name=password]", "hunter2");
    click("[data-action=test]");
    await vi.waitFor(() => expect($(".test-panel .banner-title").textContent).toBe("Everything works."), { timeout: 2000 });
    expect($(".test-panel .banner-text").textContent).toContain("POP3: checked every 60 s");
    expect($("[data-step=folders] .step-name").textContent).toBe("Mailbox");
    // The server of imap.example.com lists folders over IMAP; POP3 offers none of them.
    expect(document.querySelector(".folder-choices")).toBeNull();
    expect(backend.callsOf("test_connection")[0]?.args).toMatchObject({ account: { protocol: "pop3", port: 995, folders: ["INBOX"] } });

    click("[data-action=save]");
    await vi.waitFor(() => expect(document.querySelector(".page-accounts")).not.toBeNull());
    expect(backend.callsOf("save_account")[0]?.args).toMatchObject({
      originalId: null,
      account: { id: "home", protocol: "pop3", port: 995, folders: ["INBOX"] },
    });
    // The list says POP3 where an IMAP account counts its folders.
    expect($("[data-account=home] .account-protocol").textContent).toBe("POP3");
  });

  it("an IMAP account switched to POP3 keeps only its mailbox; switched back before saving, its folders", async () => {
    const backend = await start(richScenario());
    click("[data-account=work] [data-action=edit]");
    expect($<HTMLSelectElement>("select[name=protocol]").value).toBe("imap");
    choose("select[name=protocol]", "pop3");
    expect(port()).toBe("995");
    choose("select[name=protocol]", "imap");
    click("[data-action=save]");
    await vi.waitFor(() => expect(backend.callsOf("save_account")).toHaveLength(1));
    expect(backend.callsOf("save_account")[0]?.args).toMatchObject({
      account: { protocol: "imap", port: 993, folders: ["INBOX", "Lists/Rust"] },
    });

    await vi.waitFor(() => expect(document.querySelector(".page-accounts")).not.toBeNull());
    click("[data-account=work] [data-action=edit]");
    choose("select[name=protocol]", "pop3");
    click("[data-action=save]");
    await vi.waitFor(() => expect(backend.callsOf("save_account")).toHaveLength(2));
    expect(backend.callsOf("save_account")[1]?.args).toMatchObject({ account: { protocol: "pop3", port: 995, folders: ["INBOX"] } });

    // Opened again, the form is a POP3 form.
    await vi.waitFor(() => expect(document.querySelector(".page-accounts")).not.toBeNull());
    click("[data-account=work] [data-action=edit]");
    expect($<HTMLSelectElement>("select[name=protocol]").value).toBe("pop3");
    expect(protocolHelp().hidden).toBe(false);
    expect(port()).toBe("995");
  });

  it("the folders page offers nothing to choose for a POP3 account and never asks its server", async () => {
    const backend = await start(withPop3Home());
    await vi.waitFor(() => expect(document.querySelector("[data-account=home] .account-protocol")).not.toBeNull());
    expect(plain($("[data-account=work] .account-sub").textContent)).toContain("2 folders");
    click("[data-page=folders]");
    await vi.waitFor(() => expect(document.querySelector(".folder-list")).not.toBeNull());
    choose("select[name=account]", "home");
    await vi.waitFor(() => expect(document.querySelector(".folders-pop3")).not.toBeNull());
    expect(plain($(".folders-pop3").textContent)).toBe("Home is a POP3 account: it has a single mailbox, always watched, and no folders to choose.");
    expect(document.querySelector("[data-action=save-folders]")).toBeNull();
    expect(document.querySelector("[data-action=all-but-special]")).toBeNull();
    expect(backend.callsOf("list_folders").map((c) => c.args)).toEqual([{ id: "work" }]);
  });
});

describe("accounts", () => {
  it("a POP3 account's line says what POP3 cannot do, in the window's language", async () => {
    const scenario = richScenario();
    const home = scenario.settings.accounts.find((a) => a.id === "home");
    if (!home || scenario.live === "not_running") throw new Error("scenario changed");
    Object.assign(home, { protocol: "pop3", host: "pop.home.example", port: 995, pollIntervalSecs: 120 });
    scenario.live = scenario.live.map((l) => (l.id === "home" ? { ...l, state: "polling", detail: "" } : l));
    await start(scenario);
    await vi.waitFor(() => expect(document.querySelector("[data-account=home] [data-state=polling]")).not.toBeNull());
    expect(plain($("[data-account=home] [data-state=polling]").textContent)).toBe(
      "POP3: checked every 120 s; POP3 cannot tell when you read mail elsewhere",
    );
  });

  it("shows live state and counts; tray texts are text", async () => {
    await start(richScenario());
    await vi.waitFor(() => expect(document.querySelector("[data-account=work] [data-state=push]")).not.toBeNull());
    expect(plain($("[data-account=work] .unread-pill").textContent)).toBe("3 unread");
    expect($("[data-account=home] .state-detail").textContent).toBe(`Password rejected ${HOSTILE.img}`);
    expectNoInjection();
  });

  it("says how soon new mail is usually shown, and nothing without a figure", async () => {
    await start(richScenario());
    await vi.waitFor(() => expect(document.querySelector("[data-account=work] .account-delay")).not.toBeNull());
    // 640 ms, from a server clock with whole seconds: "within a second", never "0.6 s".
    expect(plain($("[data-account=work] .account-delay").textContent)).toBe(
      "New mail usually shown within a second of reaching the server · median of 12 messages in the last 24 hours",
    );
    expect(document.querySelector("[data-account=home] .account-delay")).toBeNull();
  });

  it("offers to start the tray when it is not running", async () => {
    const scenario = richScenario();
    scenario.live = "not_running";
    const backend = await start(scenario);
    await vi.waitFor(() => expect(document.querySelector(".banner-warning")).not.toBeNull());
    click("[data-action=start-tray]");
    await vi.waitFor(() => expect(document.querySelector(".tray-running")).not.toBeNull());
    expect(backend.callsOf("start_tray")).toHaveLength(1);
  });
});

describe("folders", () => {
  it("picks folders from the server's list and saves them", async () => {
    const backend = await start(richScenario());
    click("[data-page=folders]");
    await vi.waitFor(() => expect(document.querySelector(".folder-list")).not.toBeNull());
    const names = [...document.querySelectorAll(".folder-list .folder-name")].map((e) => e.textContent);
    expect(names).toContain(HOSTILE.img);
    expect($<HTMLInputElement>('[data-folder="Lists"]').disabled).toBe(true);
    setChecked('[data-folder="Lists/Rust"]', false);
    setChecked('[data-folder="Sent"]', true);
    click("[data-action=save-folders]");
    await vi.waitFor(() => expect(backend.callsOf("save_folders")).toHaveLength(1));
    expect(backend.callsOf("save_folders")[0]?.args).toEqual({ id: "work", folders: ["INBOX", "Sent"] });
    expectNoInjection();
  });

  it("offers all folders except Trash, Junk, Sent, Drafts and the virtual ones, then lets the user adjust", async () => {
    const scenario = richScenario();
    const work = scenario.settings.accounts.find((a) => a.id === "work");
    if (!work) throw new Error("no work account");
    // Watched before: an excluded folder and one the server no longer lists; both are dropped.
    work.folders = ["INBOX", "[Gmail]/Sent Mail", "Gone"];
    const f = (name: string, extra: Partial<Folder> = {}): Folder => ({
      name,
      rawName: name,
      display: name,
      delimiter: "/",
      selectable: true,
      specialUse: null,
      ...extra,
    });
    scenario.folders.work = [
      f("INBOX"),
      f("[Gmail]", { selectable: false }),
      f("[Gmail]/All Mail", { specialUse: "all" }),
      f("[Gmail]/Drafts", { specialUse: "drafts" }),
      f("[Gmail]/Important"),
      f("[Gmail]/Sent Mail", { specialUse: "sent" }),
      f("[Gmail]/Spam", { specialUse: "junk" }),
      f("[Gmail]/Starred", { specialUse: "flagged" }),
      f("[Gmail]/Trash", { specialUse: "trash" }),
      f("Archive", { specialUse: "archive" }),
      f("Lists", { selectable: false }),
      f("Lists/Rust"),
      f("Lists/Rust/Announcements"),
      f(`Lists/${HOSTILE.img}`),
      f(HOSTILE.script, { specialUse: "trash" }),
      f(HOSTILE.svg),
    ];
    const backend = await start(scenario);
    click("[data-page=folders]");
    await vi.waitFor(() => expect(document.querySelector(".folder-list")).not.toBeNull());
    const button = $<HTMLButtonElement>("[data-action=all-but-special]");
    expect(button.textContent).toBe("All except Trash, Junk, Sent and Drafts");
    expect($(`#${button.getAttribute("aria-describedby") ?? ""}`).textContent).toContain("Starred");

    click("[data-action=all-but-special]");
    const checked = () =>
      [...document.querySelectorAll<HTMLInputElement>(".folder-list input[data-folder]")].filter((b) => b.checked).map((b) => b.dataset.folder);
    expect(checked()).toEqual(["INBOX", "[Gmail]/Important", "Archive", "Lists/Rust", "Lists/Rust/Announcements", `Lists/${HOSTILE.img}`, HOSTILE.svg]);
    // Nothing is saved yet; the missing folder stays listed, unchecked, so it can be taken back.
    expect(backend.callsOf("save_folders")).toHaveLength(0);
    expect($<HTMLInputElement>('[data-folder="Gone"]').checked).toBe(false);
    expect(plain($(".form-footer .footer-note").textContent)).toBe("7 folders watched");

    // The user adjusts before saving.
    setChecked('[data-folder="Lists/Rust/Announcements"]', false);
    setChecked('[data-folder="[Gmail]/Drafts"]', true);
    click("[data-action=save-folders]");
    await vi.waitFor(() => expect(backend.callsOf("save_folders")).toHaveLength(1));
    expect(backend.callsOf("save_folders")[0]?.args).toEqual({
      id: "work",
      folders: ["INBOX", "[Gmail]/Drafts", "[Gmail]/Important", "Archive", "Lists/Rust", `Lists/${HOSTILE.img}`, HOSTILE.svg],
    });
    // Names render as text, nested ones with their last part and full path ("</script>" nests too).
    const names = [...document.querySelectorAll(".folder-list .folder-name")].map((e) => e.textContent);
    expect(names).toContain(HOSTILE.img);
    const paths = [...document.querySelectorAll(".folder-list .folder-path")].map((e) => e.textContent);
    expect(paths).toEqual(expect.arrayContaining([`Lists/${HOSTILE.img}`, HOSTILE.script, "Lists/Rust/Announcements"]));
    expectNoInjection();
  });

  it("explains a server that cannot be reached and offers to retry", async () => {
    const scenario = richScenario();
    delete scenario.folders.work;
    await start(scenario);
    click("[data-page=folders]");
    await vi.waitFor(() => expect($(".folders-body .banner-title").textContent).toBe("Cannot reach the server"));
  });
});

describe("notification rules", () => {
  it("saves quiet hours, VIPs, per-account mute and preview in one call", async () => {
    const backend = await start(richScenario());
    click("[data-page=notifications]");
    setChecked("input[name=quiet-hours]", true);
    type("input[name=quiet-start]", "23:00");
    type("input[name=vip]", "boss@example.com");
    click("[data-action=add-vip]");
    type("input[name=vip]", "nonsense");
    click("[data-action=add-vip]");
    expect($(".field-error").hidden).toBe(false);
    type("input[name=vip]", "@family.example");
    click("[data-action=add-vip]");
    setChecked("tr[data-account=home] input[type=checkbox]", true);
    choose("tr[data-account=work] select", "count");
    click("[data-action=save-rules]");
    await vi.waitFor(() => expect(backend.callsOf("save_notification_rules")).toHaveLength(1));
    expect(backend.callsOf("save_notification_rules")[0]?.args).toMatchObject({
      rules: {
        notifications: { quietHours: { start: "23:00", end: "07:00" }, vip: ["boss@example.com", "@family.example"] },
        accounts: [
          { id: "work", mute: false, preview: "count" },
          { id: "home", mute: true, preview: "full" },
        ],
      },
    });
  });
});

describe("activity and language", () => {
  it("renders hostile subjects, senders and folders as text", async () => {
    await start(richScenario());
    click("[data-page=activity]");
    await vi.waitFor(() => expect(document.querySelector(".mail-list")).not.toBeNull());
    expect($("[data-uid='42'] .mail-subject").textContent).toBe(HOSTILE.script);
    expect($("[data-uid='42'] .mail-folder").textContent).toBe(HOSTILE.svg);
    expect($(".problem .step-hint").textContent).toContain("app password");
    expectNoInjection();
  });

  it("says how soon each message was shown after it reached the server, only where known", async () => {
    await start(richScenario());
    click("[data-page=activity]");
    await vi.waitFor(() => expect(document.querySelector(".mail-list")).not.toBeNull());
    expect(plain($("[data-uid='42'] .mail-delay").textContent)).toBe("Shown within a second of reaching the server");
    // 2.3 s after the second the server dated it: at most 2.3 s, so "within 3 seconds".
    expect(plain($("[data-uid='41'] .mail-delay").textContent)).toBe("Shown within 3 seconds of reaching the server");
    expect(document.querySelector("[data-uid='7'] .mail-delay")).toBeNull();
  });

  it("Open on a notification asks the tray to open that message, or the account's mail without an id", async () => {
    const backend = await start(richScenario());
    click("[data-page=activity]");
    await vi.waitFor(() => expect(document.querySelector(".mail-list")).not.toBeNull());
    const open = $<HTMLButtonElement>("[data-uid='42'] [data-action=open-message]");
    expect(open.textContent).toBe("Open");
    open.click();
    click("[data-uid='7'] [data-action=open-message]");
    await vi.waitFor(() => expect(backend.callsOf("open_message")).toHaveLength(2));
    expect(backend.callsOf("open_message").map((c) => c.args)).toEqual([
      { account: "work", messageId: "42.mallory@work.example" },
      // The tray listed no usable id: it opens the account's mail client or webmail.
      { account: "home", messageId: "" },
    ]);
    await vi.waitFor(() => expect(open.disabled).toBe(false));
    expect(document.querySelector(".toast-error")).toBeNull();
  });

  it("Open says so when the tray cannot open the message or is not running", async () => {
    const backend = await start(richScenario());
    click("[data-page=activity]");
    await vi.waitFor(() => expect(document.querySelector(".mail-list")).not.toBeNull());
    backend.openFailure = { kind: "tray", message: `No default mail application is set. ${HOSTILE.img}` };
    click("[data-uid='41'] [data-action=open-message]");
    await vi.waitFor(() => expect(document.querySelector(".toast-error")).not.toBeNull());
    expect(plain($(".toast-error").textContent)).toBe(`The message could not be opened: No default mail application is set. ${HOSTILE.img}`);
    expect($(".toast-error").getAttribute("role")).toBe("alert");
    expectNoInjection();
    $(".toast-error").remove();

    // The tray stopped after the list was shown.
    backend.scenario.live = "not_running";
    click("[data-uid='41'] [data-action=open-message]");
    await vi.waitFor(() => expect(document.querySelector(".toast-error")).not.toBeNull());
    expect(plain($(".toast-error").textContent)).toBe(
      "Pushmail is not running, so it cannot open the message. Start Pushmail and try again.",
    );
  });

  it("applies a language at once and saves it", async () => {
    const backend = await start(richScenario());
    click("[data-page=general]");
    choose("select[name=language]", "it");
    // Applied before the save returns.
    expect(document.documentElement.lang).toBe("it");
    expect($("h1").textContent).toBe("Generale");
    await vi.waitFor(() => expect(backend.callsOf("save_general")).toHaveLength(1));
    expect(backend.callsOf("save_general")[0]?.args).toEqual({ general: { language: "it", openCommand: "" } });
    expect($<HTMLSelectElement>("select[name=language]").value).toBe("it");
  });
});

describe("right to left and other languages", () => {
  it("Arabic: right to left, addresses isolated in their own direction, plural forms, avatar letters", async () => {
    const scenario = localizedScenario("ar");
    scenario.settings.general.language = "ar";
    await start(scenario);
    expect([document.documentElement.lang, document.documentElement.dir]).toEqual(["ar", "rtl"]);
    await vi.waitFor(() => expect(document.querySelector("[data-account=work] .unread-pill")).not.toBeNull());
    expect($("h1").textContent).toBe("الحسابات");
    const address = $("[data-account=work] .account-address");
    expect([address.tagName, address.textContent]).toEqual(["BDI", "layla.haddad@example.com"]);
    expect(plain($("[data-account=work] .unread-pill").textContent)).toBe("3 رسائل غير مقروءة");
    expect(plain($("[data-account=home] .unread-pill").textContent)).toBe("12 رسالة غير مقروءة");
    expect(plain($("[data-account=uni] .account-sub").textContent)).toContain("مجلدان");
    expect([...document.querySelectorAll(".account-row .avatar")].map((a) => a.textContent)).toEqual(["ع", "م", "ج"]);
    // The server's English words keep their own direction.
    expect($("[data-account=uni] .state-detail").getAttribute("dir")).toBe("auto");
    // How soon mail is shown, in Arabic's plural forms: one second, two messages; two minutes.
    expect(plain($("[data-account=work] .account-delay").textContent)).toBe(
      "يظهر البريد الجديد عادةً خلال ثانية من وصوله إلى الخادم · الوسيط لرسالتين في آخر 24 ساعة",
    );
    expect(plain($("[data-account=home] .account-delay").textContent)).toBe(
      "يظهر البريد الجديد عادةً خلال دقيقتين من وصوله إلى الخادم · الوسيط لـ 14 رسالة في آخر 24 ساعة",
    );
    expect(document.querySelector("[data-account=uni] .account-delay")).toBeNull();
    click("[data-page=activity]");
    await vi.waitFor(() => expect(document.querySelector(".mail-list")).not.toBeNull());
    expect(plain($("[data-uid='7'] .mail-delay").textContent)).toBe("ظهر الإشعار خلال 4 ثوانٍ من وصول الرسالة إلى الخادم");
  });

  it("quiet hours are described with the times as the language writes them", async () => {
    const scenario = localizedScenario("zh-TW");
    scenario.settings.general.language = "zh-TW";
    await start(scenario);
    click("[data-page=notifications]");
    expect(plain($(".quiet-summary").textContent)).toBe("從 22:00 到隔天早上 07:00 不顯示彈出通知。");
    type("input[name=quiet-end]", "23:30");
    expect(plain($(".quiet-summary").textContent)).toBe("從 22:00 到 23:30 不顯示彈出通知。");
    setChecked("input[name=quiet-hours]", false);
    expect($(".quiet-summary").hidden).toBe(true);
  });
});
