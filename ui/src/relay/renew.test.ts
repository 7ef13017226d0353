import { describe, expect, it } from "vitest";

import { base64UrlToBytes } from "./base64url";
import { readSubscription, renewBody, renewSubscription, type RenewBody, type RenewEnv, type SubscriptionJson, type SubscriptionLike } from "./renew";

const VAPID = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
const OLD: SubscriptionJson = { endpoint: "https://push.example/old", keys: { p256dh: "BOLD", auth: "b2xkLWF1dGg" } };
const NEW: SubscriptionJson = { endpoint: "https://push.example/new", keys: { p256dh: "BNEW", auth: "bmV3LWF1dGg" } };

function sub(json: SubscriptionJson, key: ArrayBuffer | null = null): SubscriptionLike {
  return { options: { applicationServerKey: key }, toJSON: () => ({ ...json, expirationTime: null }) };
}

/** An environment that records what the worker did. */
function env(opts: { status?: number; remembered?: SubscriptionJson | null; subscribed?: SubscriptionJson; postFails?: boolean } = {}) {
  const log = {
    posted: [] as RenewBody[],
    subscribedWith: [] as (ArrayBuffer | string)[],
    remembered: [] as SubscriptionJson[],
    vapidAsked: 0,
  };
  const e: RenewEnv = {
    subscribe: async (key) => {
      log.subscribedWith.push(key);
      return sub(opts.subscribed ?? NEW);
    },
    vapidKey: async () => {
      log.vapidAsked += 1;
      return VAPID;
    },
    post: async (body) => {
      if (opts.postFails) throw new TypeError("Failed to fetch");
      log.posted.push(body);
      return opts.status ?? 204;
    },
    remembered: async () => opts.remembered ?? null,
    remember: async (s) => {
      log.remembered.push(s);
    },
  };
  return { e, log };
}

describe("pushsubscriptionchange", () => {
  it("sends the old subscription's endpoint and auth with the new subscription", async () => {
    const { e, log } = env();
    expect(await renewSubscription(sub(OLD), sub(NEW), e)).toBe("renewed");
    expect(log.posted).toEqual([
      { old_endpoint: OLD.endpoint, old_auth: OLD.keys.auth, endpoint: NEW.endpoint, keys: NEW.keys },
    ]);
    expect(log.subscribedWith).toEqual([]);
    expect(log.remembered).toEqual([NEW]);
  });

  it("subscribes again with the old subscription's key when the event has no new one", async () => {
    const key = base64UrlToBytes(VAPID).buffer;
    const { e, log } = env();
    expect(await renewSubscription(sub(OLD, key), null, e)).toBe("renewed");
    expect(log.subscribedWith).toEqual([key]);
    expect(log.vapidAsked).toBe(0);
    expect(log.posted[0]?.endpoint).toBe(NEW.endpoint);
  });

  it("asks the relay for its key when the old subscription does not carry one", async () => {
    const { e, log } = env();
    expect(await renewSubscription(sub(OLD, null), undefined, e)).toBe("renewed");
    expect(log.vapidAsked).toBe(1);
    // As text: the Push API decodes a base64url key itself.
    expect(log.subscribedWith).toEqual([VAPID]);
  });

  it("proves with the remembered subscription when the event carries no old one", async () => {
    const { e, log } = env({ remembered: OLD });
    expect(await renewSubscription(null, sub(NEW), e)).toBe("renewed");
    expect(log.posted[0]?.old_endpoint).toBe(OLD.endpoint);
    expect(log.posted[0]?.old_auth).toBe(OLD.keys.auth);
  });

  it("does nothing without a proof, or when nothing changed", async () => {
    const none = env();
    expect(await renewSubscription(null, sub(NEW), none.e)).toBe("no-proof");
    expect(none.log.posted).toEqual([]);
    const same = env();
    expect(await renewSubscription(sub(OLD), sub(OLD), same.e)).toBe("unchanged");
    expect(same.log.posted).toEqual([]);
  });

  it("reports an unknown subscription and failures without throwing", async () => {
    const unknown = env({ status: 404 });
    expect(await renewSubscription(sub(OLD), sub(NEW), unknown.e)).toBe("unknown");
    expect(unknown.log.remembered).toEqual([]);
    expect(await renewSubscription(sub(OLD), sub(NEW), env({ status: 429 }).e)).toBe("failed");
    expect(await renewSubscription(sub(OLD), sub(NEW), env({ postFails: true }).e)).toBe("failed");
    const broken: RenewEnv = { ...env().e, subscribe: () => Promise.reject(new DOMException("no", "AbortError")) };
    expect(await renewSubscription(sub(OLD, new ArrayBuffer(65)), null, broken)).toBe("failed");
  });

  it("reads only complete subscriptions", () => {
    expect(readSubscription({ ...NEW, expirationTime: null })).toEqual(NEW);
    expect(readSubscription({ endpoint: "https://x", keys: { p256dh: "a" } })).toBeNull();
    expect(readSubscription({ endpoint: "", keys: NEW.keys })).toBeNull();
    expect(readSubscription("nope")).toBeNull();
    expect(readSubscription(null)).toBeNull();
    expect(renewBody(OLD, NEW)).toEqual({ old_endpoint: OLD.endpoint, old_auth: OLD.keys.auth, endpoint: NEW.endpoint, keys: NEW.keys });
  });
});
