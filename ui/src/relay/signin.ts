// Signing a mailbox in at its provider (OAuth2) through the relay: the pure parts, tested alone
// (relay.test.ts). The app asks the relay for the providers it has a client for
// (GET /api/signin/providers), starts a sign-in (POST /api/signin → the provider's URL, which
// the whole page then navigates to), and on the way back reads what the relay put in its own
// URL: ?signin=done&account=<id>, or ?signin=failed&code=<code>[&reason=<code>]. Codes only,
// never words: anyone can make a link to the app with any query, so nothing from it is shown
// as text (an older relay's `detail`, or one in a crafted link, is ignored).

/** A provider the relay's operator configured a client for. */
export interface SigninProvider {
  /** Its id ("google", "microsoft", an operator's own). */
  id: string;
  /** Its name to show ("Google"): from the relay, shown as text. */
  name: string;
}

/** How a failed sign-in came back: the relay's codes (anything else is "failed"). */
export const SIGNIN_FAILURES = ["denied", "wrong_browser", "expired", "no_refresh_token", "login_failed", "provider", "failed"] as const;
export type SigninFailure = (typeof SIGNIN_FAILURES)[number];

/**
 * Why the mail server's login failed, for `login_failed` only: the login test's codes (shown
 * with the app's own words, `relay-error-<reason>`); anything else is no reason.
 */
export const SIGNIN_REASONS = ["auth_failed", "unreachable", "tls_failed", "connect_failed"] as const;
export type SigninReason = (typeof SIGNIN_REASONS)[number];

/** What the relay's redirect back to the app said. */
export type SigninReturn =
  | { kind: "done"; account: string }
  | { kind: "failed"; code: SigninFailure; reason: SigninReason | null };

/**
 * The query parameters of a return: dropped from the address once read (`detail` too: an
 * older relay's free text, never shown, still not left in the address).
 */
const RETURN_PARAMS = ["signin", "account", "code", "reason", "detail"] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The answer of GET /api/signin/providers ({"providers": [{id, name}, …]}), read defensively:
 * entries without an id are dropped, a missing name is the id, repeated ids count once.
 */
export function toProviders(raw: unknown): SigninProvider[] {
  const list = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.providers) ? raw.providers : [];
  const seen = new Set<string>();
  const out: SigninProvider[] = [];
  for (const item of list) {
    if (!isObject(item) || typeof item.id !== "string") continue;
    const id = item.id.trim();
    if (id === "" || seen.has(id)) continue;
    seen.add(id);
    const name = typeof item.name === "string" && item.name.trim() !== "" ? item.name.trim() : id;
    out.push({ id, name });
  }
  return out;
}

/**
 * Reads a sign-in's return from the page's query (`location.search`); null when the query is
 * not one. A success without an account id, or an unknown code, is a plain failure. A reason
 * counts only for `login_failed` and only when it is one of SIGNIN_REASONS; any other text in
 * the query (`detail`, an unknown reason) is never read.
 */
export function parseSigninReturn(search: string): SigninReturn | null {
  const query = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
  const outcome = query.get("signin");
  if (outcome === null) return null;
  const account = (query.get("account") ?? "").trim();
  if (outcome === "done" && account !== "") return { kind: "done", account };
  const raw = (query.get("code") ?? "").trim();
  const code: SigninFailure = (SIGNIN_FAILURES as readonly string[]).includes(raw) ? (raw as SigninFailure) : "failed";
  const given = (query.get("reason") ?? "").trim();
  const reason = code === "login_failed" && (SIGNIN_REASONS as readonly string[]).includes(given) ? (given as SigninReason) : null;
  return { kind: "failed", code, reason };
}

/** `search` without a return's parameters ("" when nothing else is left), for replaceState. */
export function withoutSigninReturn(search: string): string {
  const query = new URLSearchParams(search.startsWith("?") ? search.slice(1) : search);
  for (const name of RETURN_PARAMS) query.delete(name);
  const rest = query.toString();
  return rest === "" ? "" : `?${rest}`;
}

/**
 * Which sign-in to offer for a discovery: its provider when the relay has a client for it,
 * else null (the password path, as before).
 */
export function offeredProvider(signinProvider: string, providers: readonly SigninProvider[]): SigninProvider | null {
  if (signinProvider === "") return null;
  return providers.find((p) => p.id === signinProvider) ?? null;
}

/**
 * The "Log in with" choices of the manual form: a password, then each provider; none at all
 * (the choice is hidden) when the relay offers no sign-in.
 */
export function loginChoices(providers: readonly SigninProvider[]): { value: string; provider: SigninProvider | null }[] {
  if (providers.length === 0) return [];
  return [{ value: "password", provider: null }, ...providers.map((p) => ({ value: `provider:${p.id}`, provider: p }))];
}

/** A provider's name for a mailbox: the relay's list, else the id itself ("" when none). */
export function providerName(id: string, providers: readonly SigninProvider[]): string {
  return providers.find((p) => p.id === id)?.name ?? id;
}

/**
 * The address the relay said to go to, if the page may navigate there: http(s) only, so a
 * `javascript:` or `data:` answer can never run in the app. Relative addresses resolve against
 * the app's own.
 */
export function navigableUrl(raw: string, base: string): string | null {
  if (raw.trim() === "") return null;
  try {
    const url = new URL(raw, base);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}
