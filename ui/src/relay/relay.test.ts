import { describe, expect, it } from "vitest";

import { ApiError, domainOf, RelayApi, toDevice, toDiscovery, toMailbox, type Fetcher } from "./api";
import { stateClass } from "./app";
import { base64UrlToBytes, bytesToBase64Url } from "./base64url";
import { fallbackTexts, noticeFor, readPayload, safeUrl } from "./notice";
import { deviceParts } from "./push";
import { hrefOf, PAGES, parseRoute } from "./routes";

const APP = "https://relay.example.com/";
const context = { appUrl: APP, icon: `${APP}icons/pushmail-192.png`, language: "en-US" };

describe("base64url", () => {
  it("decodes a VAPID key (65 bytes, unpadded) and round-trips", () => {
    const key = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
    const bytes = base64UrlToBytes(key);
    expect(bytes.length).toBe(65);
    expect(bytes[0]).toBe(4);
    expect(bytesToBase64Url(bytes)).toBe(key);
  });

  it("accepts padding and the standard alphabet; rejects anything else", () => {
    expect([...base64UrlToBytes("-_8=")]).toEqual([0xfb, 0xff]);
    expect([...base64UrlToBytes("+/8")]).toEqual([0xfb, 0xff]);
    expect([...base64UrlToBytes("")]).toEqual([]);
    expect(() => base64UrlToBytes("a!b")).toThrow();
    expect(() => base64UrlToBytes("abcde")).toThrow();
  });
});

describe("routes", () => {
  it("parses the hash routes, unknown → the mailbox list", () => {
    expect(parseRoute("")).toEqual({ kind: "page", page: "mailboxes" });
    expect(parseRoute("#/")).toEqual({ kind: "page", page: "mailboxes" });
    expect(parseRoute("#/mailboxes")).toEqual({ kind: "page", page: "mailboxes" });
    expect(parseRoute("#/mailboxes/add")).toEqual({ kind: "page", page: "add-mailbox" });
    expect(parseRoute("#/devices/")).toEqual({ kind: "page", page: "devices" });
    expect(parseRoute("#/webhooks")).toEqual({ kind: "page", page: "webhooks" });
    expect(parseRoute("#/nope")).toEqual({ kind: "page", page: "mailboxes" });
    for (const page of PAGES) expect(parseRoute(hrefOf(page))).toEqual({ kind: "page", page });
  });

  it("reads a token from the fragment (#token=…), URL-decoded; an empty one is no token", () => {
    expect(parseRoute("#token=abc123")).toEqual({ kind: "token", token: "abc123" });
    expect(parseRoute("#token=a%2Bb%3D")).toEqual({ kind: "token", token: "a+b=" });
    expect(parseRoute("#lang=it&token=xyz")).toEqual({ kind: "token", token: "xyz" });
    expect(parseRoute("#token=")).toEqual({ kind: "page", page: "mailboxes" });
  });
});

describe("notice (service worker)", () => {
  it("a mail payload → its title, body and tag; never renotify; a click opens the payload's page", () => {
    const notice = noticeFor(
      { v: 1, kind: "mail", tag: "a1:4711", title: "Work", body: "Bruno: Report", account: "Work", url: "/#/mailboxes" },
      context,
    );
    expect(notice).toEqual({
      title: "Work",
      options: {
        body: "Bruno: Report",
        tag: "a1:4711",
        renotify: false,
        icon: context.icon,
        badge: context.icon,
        data: { url: `${APP}#/mailboxes` },
      },
    });
  });

  it("falls back when fields are missing: sender and subject as the body, a generic title and tag", () => {
    expect(noticeFor({ kind: "mail", account: "Work", from: "Bruno", subject: "Hi" }, context)).toMatchObject({
      title: "New mail · Work",
      options: { body: "Bruno\nHi", tag: "pushmail-mail", data: { url: APP } },
    });
    expect(noticeFor({ kind: "test" }, { ...context, language: "it-IT" }).title).toBe("Notifica di prova da Pushmail");
    for (const raw of [null, undefined, "text", 42, [1, 2], { title: 7, body: {} }]) {
      expect(noticeFor(raw, context)).toMatchObject({ title: "New mail", options: { body: "", tag: "pushmail-mail", renotify: false } });
    }
    expect(noticeFor(null, { ...context, language: "ar" }).title).toBe("بريد جديد");
  });

  it("the relay's own payloads: a mail without detail says what happened; its test notice", () => {
    // crates/relay/src/notice.rs (detail "none") and api/devices.rs (the test notice).
    expect(noticeFor({ v: 1, kind: "mail", tag: "a1/INBOX/7/42", account: "Work", title: "Work", body: "", url: "/" }, context)).toMatchObject({
      title: "Work",
      options: { body: "New mail", tag: "a1/INBOX/7/42", data: { url: APP } },
    });
    expect(noticeFor({ v: 1, kind: "test", tag: "test-3-1", title: "Pushmail", body: "Notifications work on this device" }, context)).toMatchObject({
      title: "Pushmail",
      options: { body: "Notifications work on this device", tag: "test-3-1" },
    });
  });

  it("cuts very long texts", () => {
    const notice = noticeFor({ title: "x".repeat(500), body: "y".repeat(5000) }, context);
    expect(notice.title.length).toBe(200);
    expect(notice.options.body.length).toBe(1000);
  });

  it("opens only the app's own pages or https ones", () => {
    expect(safeUrl("javascript:alert(1)", APP)).toBe(APP);
    expect(safeUrl("data:text/html,x", APP)).toBe(APP);
    expect(safeUrl("http://evil.example/", APP)).toBe(APP);
    expect(safeUrl("https://mail.example.com/inbox", APP)).toBe("https://mail.example.com/inbox");
    expect(safeUrl("#/devices", APP)).toBe(`${APP}#/devices`);
    expect(safeUrl(undefined, APP)).toBe(APP);
  });

  it("reads a payload that is not JSON as none", () => {
    expect(readPayload(null)).toBeNull();
    expect(readPayload({ json: () => JSON.parse("%%") })).toBeNull();
    expect(readPayload({ json: () => ({ v: 1 }) })).toEqual({ v: 1 });
  });

  it("falls back by language like the app: Chinese by script or region", () => {
    expect(fallbackTexts("zh-HK").mail).toBe("新郵件");
    expect(fallbackTexts("zh-CN").mail).toBe("新邮件");
    expect(fallbackTexts("fr").mail).toBe("New mail");
  });
});

describe("API client", () => {
  function fake(status: number, body: unknown, seen: { url: string; init: RequestInit }[] = []): Fetcher {
    return async (url, init) => {
      seen.push({ url, init });
      return new Response(body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body), { status });
    };
  }

  it("sends the bearer token and JSON to paths relative to the app", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const api = new RelayApi("tok", "https://relay.example.com/sub/index.html", fake(201, { id: 7, name: "W", port: "993" }, seen));
    const made = await api.addMailbox({ name: "W", email: "w@x", host: "h", port: 993, security: "tls", username: "w", password: "p" });
    expect(made).toMatchObject({ id: "7", name: "W", port: 993, state: "", stateDetail: "" });
    expect(seen[0]?.url).toBe("https://relay.example.com/sub/api/accounts");
    expect(seen[0]?.init.method).toBe("POST");
    expect(seen[0]?.init.headers).toMatchObject({ authorization: "Bearer tok", "content-type": "application/json" });
    expect(JSON.parse(String(seen[0]?.init.body))).toMatchObject({ security: "tls", port: 993 });
  });

  it("the VAPID key is fetched without the token", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    await expect(new RelayApi("tok", APP, fake(200, { public_key: "BAAA" }, seen)).vapidKey()).resolves.toBe("BAAA");
    expect(seen[0]?.init.headers).not.toHaveProperty("authorization");
  });

  it("errors carry the status, the code and the server's sentence", async () => {
    const api = new RelayApi("tok", APP, fake(422, { error: "Login failed", code: "auth_failed" }));
    const error = await api.mailboxes().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: "auth_failed", message: "Login failed" });
    await expect(new RelayApi("tok", APP, fake(429, "slow down")).me()).rejects.toMatchObject({ status: 429, code: "" });
    const offline = new RelayApi("tok", APP, () => Promise.reject(new TypeError("Failed to fetch")));
    await expect(offline.me()).rejects.toMatchObject({ status: 0, code: "network" });
  });

  it("reads lists and records defensively", async () => {
    await expect(new RelayApi("t", APP, fake(200, { accounts: [{ id: "a" }] })).mailboxes()).resolves.toHaveLength(1);
    await expect(new RelayApi("t", APP, fake(200, { nope: 1 })).devices()).resolves.toEqual([]);
    expect(toMailbox(null)).toMatchObject({ id: "", name: "", port: 0 });
    expect(toMailbox({ name: ["x"], state_detail: 5 })).toMatchObject({ name: "", stateDetail: "5", auth: "password", provider: "" });
    expect(toMailbox({ id: "a1", auth: "oauth2", provider: "google", state: "signin_required" })).toMatchObject({
      auth: "oauth2",
      provider: "google",
      state: "signin_required",
    });
    expect(toMailbox({ auth: "kerberos", provider: 7 })).toMatchObject({ auth: "password", provider: "7" });
    expect(toDevice({ id: 3, detail: "everything", endpoint: "https://fcm.googleapis.com/fcm/send/x" })).toEqual({
      id: "3",
      name: "",
      detail: "none",
      endpoint: "https://fcm.googleapis.com/fcm/send/x",
      endpointHost: "fcm.googleapis.com",
      createdAt: "",
      renewSecret: "",
    });
    // The renewal secret: only a string (POST api/devices answers it, once).
    const secret = "0123456789abcdef".repeat(4);
    expect(toDevice({ id: 4, renew_secret: secret }).renewSecret).toBe(secret);
    expect(toDevice({ id: 4, renew_secret: 12345 }).renewSecret).toBe("");
    expect(toDevice({ id: 4, renew_secret: ["x"] }).renewSecret).toBe("");
  });
});

describe("discovery answers", () => {
  const found = {
    found: true,
    host: "imap.example.com",
    port: 143,
    security: "starttls",
    username: "ana@example.com",
    source: "from \u2068example.com\u2069's own configuration",
    warnings: ["imap.example.com is not part of example.org", 7, ""],
    note: null,
    signin: false,
    provider: null,
    signin_with: null,
  };

  it("reads a found answer, warnings as strings only", () => {
    expect(toDiscovery(found, "ana@example.com")).toEqual({
      found: true,
      host: "imap.example.com",
      port: 143,
      security: "starttls",
      username: "ana@example.com",
      source: "from \u2068example.com\u2069's own configuration",
      warnings: ["imap.example.com is not part of example.org", "7"],
      note: "",
      signin: false,
      signinProvider: "",
      provider: "",
      signinWith: "",
    });
    expect(toDiscovery({ ...found, signin: true, provider: "Gmail", signin_with: "Google", signin_provider: "google" }, "a@gmail.com")).toMatchObject({
      found: true,
      signin: true,
      signinProvider: "google",
      provider: "Gmail",
      signinWith: "Google",
    });
    // An older relay says nothing of the provider's id; a password login has none.
    expect(toDiscovery({ ...found, signin: true, signin_with: "Google" }, "a@gmail.com")).toMatchObject({ signin: true, signinProvider: "" });
    expect(toDiscovery({ ...found, signin: false, signin_provider: "google" }, "a@example.com")).toMatchObject({ signinProvider: "" });
  });

  it("anything incomplete or unencrypted is nothing found, never half a form", () => {
    const none = { found: false, domain: "example.com", tried: "" };
    expect(toDiscovery({ ...found, security: "plain", port: 143 }, "ana@example.com")).toEqual(none);
    expect(toDiscovery({ ...found, port: "143" }, "ana@example.com")).toEqual(none);
    expect(toDiscovery({ ...found, port: 70000 }, "ana@example.com")).toEqual(none);
    expect(toDiscovery({ ...found, host: " " }, "ana@example.com")).toEqual(none);
    expect(toDiscovery({ ...found, found: "yes" }, "ana@example.com")).toEqual(none);
    expect(toDiscovery(null, "ana@example.com")).toEqual(none);
    expect(toDiscovery({ found: false, domain: "exämple.com", tried: "No settings found" }, "ana@xn--exmple-cua.com")).toEqual({
      found: false,
      domain: "exämple.com",
      tried: "No settings found",
    });
  });

  it("takes the domain from the address", () => {
    expect(domainOf(" ana@example.com ")).toBe("example.com");
    expect(domainOf("a@b@c.example")).toBe("c.example");
    expect(domainOf("nobody")).toBe("");
  });

  it("posts the address only, with the token", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const api = new RelayApi("tok", APP, async (url, init) => {
      seen.push({ url, init });
      return new Response(JSON.stringify(found), { status: 200 });
    });
    await expect(api.discover("ana@example.com")).resolves.toMatchObject({ found: true, host: "imap.example.com" });
    expect(seen[0]?.url).toBe(`${APP}api/discover`);
    expect(seen[0]?.init.method).toBe("POST");
    expect(seen[0]?.init.headers).toMatchObject({ authorization: "Bearer tok" });
    expect(JSON.parse(String(seen[0]?.init.body))).toEqual({ address: "ana@example.com" });
  });
});

describe("small helpers", () => {
  it("names the device from the user agent", () => {
    expect(deviceParts("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36")).toEqual({
      browser: "Chrome",
      system: "Android",
    });
    expect(deviceParts("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")).toEqual({
      browser: "Safari",
      system: "iPhone",
    });
    expect(deviceParts("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0")).toEqual({ browser: "Firefox", system: "Windows" });
    expect(deviceParts("curl/8")).toEqual({ browser: "Browser", system: "" });
  });

  it("classes mailbox states for their dot", () => {
    expect(stateClass("watching")).toBe("state-ok");
    expect(stateClass("connecting")).toBe("state-busy");
    expect(stateClass("auth_failed")).toBe("state-bad");
    expect(stateClass("signin_required")).toBe("state-bad");
    expect(stateClass("<b>")).toBe("state-none");
  });
});

describe("relay.css", () => {
  it("uses no physical left/right, so Arabic mirrors", async () => {
    const { readFileSync } = await import("node:fs");
    const css = readFileSync(`${__dirname}/relay.css`, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const physical =
      css.match(/(^|[\s;{])(margin|padding|border)-(left|right)\b|text-align:\s*(left|right)|(float|clear):\s*(left|right)|(^|[\s;{])(left|right):/gm) ?? [];
    expect(physical).toEqual([]);
  });
});
