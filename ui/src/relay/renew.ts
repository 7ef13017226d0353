// A browser may replace its push subscription at any time (the push service rotated it, or the
// old one expired) and then fires `pushsubscriptionchange` in the service worker. Until the
// relay learns the new one, the device silently gets no more notices. The worker has no token,
// so it proves it is the device: the old subscription's endpoint and `auth` secret (which the
// relay keeps in clear, so they alone prove little) and the device's renewal secret, which the
// relay gave only to this browser (in its answer to `POST api/devices`, and to each renewal)
// and keeps only hashed. The page stores the subscription and that secret where the worker
// reads them (push.ts, `workerMemory`); `POST api/devices/renew` then moves the device (its name
// and detail choice kept) to the new subscription and answers the next secret, which replaces
// the spent one.
//
// Pure logic with its effects passed in (`RenewEnv`), so it is unit-tested; sw.ts wires it to
// the event, the Push API, Cache Storage and fetch. It imports nothing the page also uses: the
// worker is built as one self-contained file (vite.relay.config.ts).

/** A subscription as `PushSubscription.toJSON()` gives it (what `POST api/devices` takes). */
export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** What the worker sees of a `PushSubscription`. */
export interface SubscriptionLike {
  readonly options?: { readonly applicationServerKey: ArrayBuffer | null } | undefined;
  toJSON(): unknown;
}

/**
 * What the worker keeps (Cache Storage): the subscription the relay knows for this browser's
 * device, and the device's current renewal secret (64 hex characters).
 */
export interface WorkerMemory {
  subscription: SubscriptionJson;
  renew_secret: string;
}

/** `POST api/devices/renew` body. */
export interface RenewBody {
  renew_secret: string;
  old_endpoint: string;
  old_auth: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface RenewEnv {
  /**
   * `registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`: the
   * key as the old subscription holds it (bytes), or base64url text, which the Push API takes
   * as it is.
   */
  subscribe(applicationServerKey: ArrayBuffer | string): Promise<SubscriptionLike>;
  /** The relay's VAPID public key (base64url), from `GET api/vapid` (no sign-in needed). */
  vapidKey(): Promise<string>;
  /**
   * POSTs the body to `api/devices/renew` without credentials: the answer's status, and the
   * next renewal secret a 200 answer carries (null when it carries none).
   */
  post(body: RenewBody): Promise<{ status: number; renewSecret: string | null }>;
  /** The subscription the relay knows and the device's renewal secret, as the page stored them. */
  remembered(): Promise<WorkerMemory | null>;
  /** Keeps the renewed subscription and the next secret in place of the spent ones. */
  remember(memory: WorkerMemory): Promise<void>;
}

/**
 * - `renewed`: the relay moved the device(s) to the new subscription;
 * - `unchanged`: the "new" subscription is the old one;
 * - `unknown`: the relay knows no device with the old subscription (removed meanwhile);
 * - `no-proof`: the worker keeps no subscription and renewal secret (the page could not store
 *   them, or this browser's device was stopped);
 * - `failed`: subscribing again or the request failed; the memory is left as it was, so the
 *   worker tries again when it next starts (sw.ts, `activate`), and the app offers to turn
 *   notifications on again when it next opens.
 */
export type RenewOutcome = "renewed" | "unchanged" | "unknown" | "no-proof" | "failed";

/** The subscription's JSON, when it has an endpoint and both keys. */
export function subscriptionJson(subscription: SubscriptionLike | null | undefined): SubscriptionJson | null {
  if (!subscription) return null;
  return readSubscription(subscription.toJSON());
}

/** A stored or received `{endpoint, keys: {p256dh, auth}}`, checked; null otherwise. */
export function readSubscription(value: unknown): SubscriptionJson | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } | null };
  const p256dh = v.keys?.p256dh;
  const auth = v.keys?.auth;
  if (typeof v.endpoint !== "string" || v.endpoint === "" || typeof p256dh !== "string" || typeof auth !== "string") {
    return null;
  }
  return { endpoint: v.endpoint, keys: { p256dh, auth } };
}

const SECRET = /^[0-9a-f]{64}$/i;

/** A renewal secret as the relay gives it (64 hex characters); null otherwise. */
export function readSecret(value: unknown): string | null {
  return typeof value === "string" && SECRET.test(value) ? value : null;
}

/** A stored `{subscription, renew_secret}`, checked; null otherwise. */
export function readMemory(value: unknown): WorkerMemory | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as { subscription?: unknown; renew_secret?: unknown };
  const subscription = readSubscription(v.subscription);
  const secret = readSecret(v.renew_secret);
  return subscription === null || secret === null ? null : { subscription, renew_secret: secret };
}

const same = (a: SubscriptionJson, b: SubscriptionJson): boolean =>
  a.endpoint === b.endpoint && a.keys.auth === b.keys.auth && a.keys.p256dh === b.keys.p256dh;

/** The request body: the device's secret, the old subscription's proof, the new subscription. */
export function renewBody(secret: string, old: SubscriptionJson, fresh: SubscriptionJson): RenewBody {
  return {
    renew_secret: secret,
    old_endpoint: old.endpoint,
    old_auth: old.keys.auth,
    endpoint: fresh.endpoint,
    keys: { p256dh: fresh.keys.p256dh, auth: fresh.keys.auth },
  };
}

/**
 * Handles `pushsubscriptionchange` (and, with no old subscription, a retry when the worker
 * starts): the new subscription is the event's, or a new one made with the old one's
 * application server key (the relay's VAPID key, asked of the relay when the old subscription
 * does not carry it). The proof is the remembered subscription and secret, whatever old
 * subscription the event names: the secret belongs to the subscription the relay knows. Then
 * tells the relay, and keeps the new subscription and the next secret.
 */
export async function renewSubscription(
  oldSubscription: SubscriptionLike | null | undefined,
  newSubscription: SubscriptionLike | null | undefined,
  env: RenewEnv,
): Promise<RenewOutcome> {
  const memory = readMemory(await env.remembered().catch(() => null));
  if (memory === null) return "no-proof";
  const old = memory.subscription;
  let fresh = subscriptionJson(newSubscription);
  if (fresh === null) {
    try {
      const key = oldSubscription?.options?.applicationServerKey ?? (await env.vapidKey());
      fresh = subscriptionJson(await env.subscribe(key));
    } catch {
      return "failed";
    }
    if (fresh === null) return "failed";
  }
  if (same(fresh, old)) return "unchanged";
  let answer: { status: number; renewSecret: string | null };
  try {
    answer = await env.post(renewBody(memory.renew_secret, old, fresh));
  } catch {
    return "failed";
  }
  if (answer.status === 404) return "unknown";
  const next = readSecret(answer.renewSecret);
  // Renewed without a next secret: nothing to keep that a later renewal could use; the old
  // memory stays (it no longer proves anything, but neither would anything else).
  if (answer.status < 200 || answer.status >= 300 || next === null) return "failed";
  await env.remember({ subscription: fresh, renew_secret: next }).catch(() => undefined);
  return "renewed";
}
