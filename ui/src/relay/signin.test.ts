import { describe, expect, it } from "vitest";

import { RelayApi } from "./api";
import { LANGUAGES, relayI18n } from "./i18n";
import { loginChoices, navigableUrl, offeredProvider, parseSigninReturn, providerName, SIGNIN_FAILURES, SIGNIN_REASONS, toProviders, withoutSigninReturn } from "./signin";

const APP = "https://relay.example.com/app/";
const GOOGLE = { id: "google", name: "Google" };
const MICROSOFT = { id: "microsoft", name: "Microsoft" };

describe("the providers the relay offers", () => {
  it("reads {providers: […]} defensively: ids required, names default to the id, no repeats", () => {
    expect(toProviders({ providers: [GOOGLE, MICROSOFT] })).toEqual([GOOGLE, MICROSOFT]);
    expect(toProviders({ providers: [] })).toEqual([]);
    expect(
      toProviders({
        providers: [{ id: " google ", name: " Google " }, { id: "google", name: "Again" }, { name: "no id" }, { id: 7 }, null, "x", { id: "corp", name: 5 }],
      }),
    ).toEqual([GOOGLE, { id: "corp", name: "corp" }]);
    for (const raw of [null, undefined, "x", 3, {}, { providers: "google" }]) expect(toProviders(raw)).toEqual([]);
    // A bare list is read too.
    expect(toProviders([GOOGLE])).toEqual([GOOGLE]);
  });

  it("names a mailbox's provider from the list, else by its id", () => {
    expect(providerName("google", [GOOGLE])).toBe("Google");
    expect(providerName("corp", [GOOGLE])).toBe("corp");
    expect(providerName("", [GOOGLE])).toBe("");
  });
});

describe("what the add form offers", () => {
  it("offers a discovery's sign-in only when the relay has a client for it", () => {
    expect(offeredProvider("google", [MICROSOFT, GOOGLE])).toEqual(GOOGLE);
    expect(offeredProvider("google", [MICROSOFT])).toBeNull();
    expect(offeredProvider("google", [])).toBeNull();
    expect(offeredProvider("", [GOOGLE])).toBeNull();
  });

  it("the manual form's “Log in with”: a password, then each provider; no choice without providers", () => {
    expect(loginChoices([])).toEqual([]);
    expect(loginChoices([GOOGLE, MICROSOFT])).toEqual([
      { value: "password", provider: null },
      { value: "provider:google", provider: GOOGLE },
      { value: "provider:microsoft", provider: MICROSOFT },
    ]);
    // A provider whose id is "password" is still a provider.
    expect(loginChoices([{ id: "password", name: "Odd" }]).map((c) => c.value)).toEqual(["password", "provider:password"]);
  });
});

describe("the way back from the provider", () => {
  it("reads done with its account, and every failure code", () => {
    expect(parseSigninReturn("?signin=done&account=a42")).toEqual({ kind: "done", account: "a42" });
    expect(parseSigninReturn("signin=done&account=a%2042")).toEqual({ kind: "done", account: "a 42" });
    for (const code of SIGNIN_FAILURES) {
      expect(parseSigninReturn(`?signin=failed&code=${code}`)).toEqual({ kind: "failed", code, reason: null });
    }
  });

  it("is nothing without ?signin; unknown codes and a done without account are plain failures", () => {
    expect(parseSigninReturn("")).toBeNull();
    expect(parseSigninReturn("?account=a1&code=denied")).toBeNull();
    expect(parseSigninReturn("?signin=failed&code=<b>")).toEqual({ kind: "failed", code: "failed", reason: null });
    expect(parseSigninReturn("?signin=failed")).toEqual({ kind: "failed", code: "failed", reason: null });
    expect(parseSigninReturn("?signin=done")).toEqual({ kind: "failed", code: "failed", reason: null });
    expect(parseSigninReturn("?signin=maybe&account=a1")).toEqual({ kind: "failed", code: "failed", reason: null });
  });

  it("never reads free text: a `detail` in the link (an older relay's, or a crafted one) is dropped", () => {
    const hostile = `The relay says: your mailbox is locked, call +1 555 0100 <img src=x onerror=alert(1)>\u202Egpj.exe`;
    for (const code of SIGNIN_FAILURES) {
      const returned = parseSigninReturn(`?signin=failed&code=${code}&detail=${encodeURIComponent(hostile)}`);
      expect(returned).toEqual({ kind: "failed", code, reason: null });
      expect(JSON.stringify(returned)).not.toContain("locked");
    }
    // Nothing but the kind, the code and a whitelisted reason: no other field to show.
    expect(Object.keys(parseSigninReturn(`?signin=failed&code=login_failed&reason=auth_failed&detail=x`) ?? {}).sort()).toEqual(["code", "kind", "reason"]);
    expect(parseSigninReturn(`?signin=done&account=a1&detail=${encodeURIComponent(hostile)}`)).toEqual({ kind: "done", account: "a1" });
  });

  it("reads a login_failed's reason from the login test's codes only", () => {
    for (const reason of SIGNIN_REASONS) {
      expect(parseSigninReturn(`?signin=failed&code=login_failed&reason=${reason}`)).toEqual({ kind: "failed", code: "login_failed", reason });
    }
    expect(SIGNIN_REASONS).toEqual(["auth_failed", "unreachable", "tls_failed", "connect_failed"]);
    // Anything else is no reason: other codes, free text, markup, a near miss, an empty one.
    for (const other of ["host_not_allowed", "Your account is locked", "<b>auth_failed</b>", "AUTH_FAILED", "auth_failed2", "network", "", "error"]) {
      expect(parseSigninReturn(`?signin=failed&code=login_failed&reason=${encodeURIComponent(other)}`)).toEqual({ kind: "failed", code: "login_failed", reason: null });
    }
    // Only login_failed has one: on any other code (or an unknown one) a reason is ignored.
    for (const code of SIGNIN_FAILURES.filter((c) => c !== "login_failed")) {
      expect(parseSigninReturn(`?signin=failed&code=${code}&reason=auth_failed`)).toEqual({ kind: "failed", code, reason: null });
    }
    expect(parseSigninReturn("?signin=failed&code=bogus&reason=auth_failed")).toEqual({ kind: "failed", code: "failed", reason: null });
    expect(parseSigninReturn("?signin=failed&reason=unreachable")).toEqual({ kind: "failed", code: "failed", reason: null });
  });

  it("says every reason in every language, with the login test's own words", () => {
    for (const lang of LANGUAGES) {
      const i18n = relayI18n(lang);
      for (const reason of SIGNIN_REASONS) expect(i18n.has(`relay-error-${reason}`)).toBe(true);
    }
    expect(relayI18n("en").t("relay-error-auth_failed")).toBe("The mail server rejected the user name or password");
  });

  it("takes its parameters out of the address, leaving the rest", () => {
    expect(withoutSigninReturn("?signin=done&account=a1")).toBe("");
    expect(withoutSigninReturn("?signin=failed&code=denied&detail=x&lang=it")).toBe("?lang=it");
    expect(withoutSigninReturn("?signin=failed&code=login_failed&reason=auth_failed")).toBe("");
    expect(withoutSigninReturn("?lang=it&signin=failed&code=login_failed&reason=tls_failed&detail=old")).toBe("?lang=it");
    expect(withoutSigninReturn("")).toBe("");
  });
});

describe("starting a sign-in", () => {
  it("goes only to http(s) addresses; relative ones resolve against the app", () => {
    expect(navigableUrl("https://accounts.google.com/o/oauth2/v2/auth?client_id=x", APP)).toBe("https://accounts.google.com/o/oauth2/v2/auth?client_id=x");
    expect(navigableUrl("/fake/authorize?s=1", APP)).toBe("https://relay.example.com/fake/authorize?s=1");
    expect(navigableUrl("javascript:alert(1)", APP)).toBeNull();
    expect(navigableUrl(" JavaScript:alert(1)", APP)).toBeNull();
    expect(navigableUrl("data:text/html,<script>1</script>", APP)).toBeNull();
    expect(navigableUrl("", APP)).toBeNull();
    expect(navigableUrl("http://[bad", APP)).toBeNull();
  });

  it("posts a new mailbox or an account id, with the token, and lets the answer set its cookie", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const api = new RelayApi("tok", APP, async (url, init) => {
      seen.push({ url, init });
      return new Response(JSON.stringify(url.endsWith("providers") ? { providers: [GOOGLE] } : { url: "https://accounts.google.com/x" }), { status: 200 });
    });
    await expect(api.signinProviders()).resolves.toEqual([GOOGLE]);
    const mailbox = { provider: "google", name: "Work", email: "ana@example.com", host: "imap.gmail.com", port: 993, security: "tls" as const, username: "ana@example.com" };
    await expect(api.startSignin(mailbox)).resolves.toBe("https://accounts.google.com/x");
    await expect(api.startSignin({ account: "a1" })).resolves.toBe("https://accounts.google.com/x");
    expect(seen.map((s) => [s.init.method, s.url])).toEqual([
      ["GET", `${APP}api/signin/providers`],
      ["POST", `${APP}api/signin`],
      ["POST", `${APP}api/signin`],
    ]);
    expect(JSON.parse(String(seen[1]?.init.body))).toEqual(mailbox);
    expect(JSON.parse(String(seen[2]?.init.body))).toEqual({ account: "a1" });
    for (const s of seen) expect(s.init.headers).toMatchObject({ authorization: "Bearer tok" });
    // Only the sign-in's start may take a cookie; everything else goes without.
    expect(seen.map((s) => s.init.credentials)).toEqual(["omit", "same-origin", "same-origin"]);
  });

  it("an answer without an address, or an error, is an ApiError", async () => {
    const answer = (status: number, body: unknown) => new RelayApi("t", APP, async () => new Response(JSON.stringify(body), { status }));
    await expect(answer(200, { nope: 1 }).startSignin({ account: "a1" })).rejects.toMatchObject({ code: "no_signin_url" });
    await expect(answer(400, { error: "No client for corp", code: "unknown_provider" }).startSignin({ account: "a1" })).rejects.toMatchObject({
      status: 400,
      code: "unknown_provider",
      message: "No client for corp",
    });
  });
});
