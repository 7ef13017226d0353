// A browser may replace its push subscription at any time (the push service rotated it, or the
// old one expired) and then fires `pushsubscriptionchange` in the service worker. Until the
// relay learns the new one, the device silently gets no more notices. The worker has no token,
// so it proves it held the old subscription: its endpoint and its `auth` secret (16 random
// bytes only this browser and the relay know). `POST api/devices/renew` then moves the device
// (its name and detail choice kept) to the new subscription.
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

/** `POST api/devices/renew` body. */
export interface RenewBody {
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
  /** POSTs the body to `api/devices/renew` without credentials; the answer's status. */
  post(body: RenewBody): Promise<number>;
  /** The subscription this worker saw last, for an event that does not carry the old one. */
  remembered(): Promise<SubscriptionJson | null>;
  /** Keeps `subscription` as the one the relay knows. */
  remember(subscription: SubscriptionJson): Promise<void>;
}

/**
 * - `renewed`: the relay moved the device(s) to the new subscription;
 * - `unchanged`: the "new" subscription is the old one;
 * - `unknown`: the relay knows no device with the old subscription (removed meanwhile);
 * - `no-proof`: neither the event nor this worker's memory has the old subscription;
 * - `failed`: subscribing again or the request failed (the app offers to turn notifications
 *   on again when it next opens).
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

/** The request body: the old subscription's proof, the new subscription. */
export function renewBody(old: SubscriptionJson, fresh: SubscriptionJson): RenewBody {
  return {
    old_endpoint: old.endpoint,
    old_auth: old.keys.auth,
    endpoint: fresh.endpoint,
    keys: { p256dh: fresh.keys.p256dh, auth: fresh.keys.auth },
  };
}

/**
 * Handles `pushsubscriptionchange`: the new subscription is the event's, or a new one made with
 * the old one's application server key (the relay's VAPID key, asked of the relay when the old
 * subscription does not carry it); the old one is the event's, or the one this worker
 * remembered. Then tells the relay.
 */
export async function renewSubscription(
  oldSubscription: SubscriptionLike | null | undefined,
  newSubscription: SubscriptionLike | null | undefined,
  env: RenewEnv,
): Promise<RenewOutcome> {
  const old = subscriptionJson(oldSubscription) ?? (await env.remembered().catch(() => null));
  if (old === null) return "no-proof";
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
  if (fresh.endpoint === old.endpoint && fresh.keys.auth === old.keys.auth && fresh.keys.p256dh === old.keys.p256dh) {
    return "unchanged";
  }
  let status: number;
  try {
    status = await env.post(renewBody(old, fresh));
  } catch {
    return "failed";
  }
  if (status >= 200 && status < 300) {
    await env.remember(fresh).catch(() => undefined);
    return "renewed";
  }
  return status === 404 ? "unknown" : "failed";
}
