import { describe, expect, it } from "vitest";

import { base64UrlToBytes } from "./base64url";
import { workerMemory } from "./push";
import {
  readMemory,
  readSubscription,
  renewBody,
  renewSubscription,
  type RenewBody,
  type RenewEnv,
  type SubscriptionJson,
  type SubscriptionLike,
  type WorkerMemory,
} from "./renew";

const VAPID = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";
const OLD: SubscriptionJson = { endpoint: "https://push.example/old", keys: { p256dh: "BOLD", auth: "b2xkLWF1dGg" } };
const NEW: SubscriptionJson = { endpoint: "https://push.example/new", keys: { p256dh: "BNEW", auth: "bmV3LWF1dGg" } };
const OTHER: SubscriptionJson = { endpoint: "https://push.example/other", keys: { p256dh: "BOTH", auth: "b3RoZXItYXV0aA" } };
const SECRET = "0123456789abcdef".repeat(4);
const NEXT = "fedcba9876543210".repeat(4);
const MEMORY: WorkerMemory = { subscription: OLD, renew_secret: SECRET };

function sub(json: SubscriptionJson, key: ArrayBuffer | null = null): SubscriptionLike {
  return { options: { applicationServerKey: key }, toJSON: () => ({ ...json, expirationTime: null }) };
}

/** An environment that records what the worker did; it remembers MEMORY unless told otherwise. */
function env(
  opts: {
    status?: number;
    next?: string | null;
    memory?: WorkerMemory | null;
    subscribed?: SubscriptionJson;
    postFails?: boolean;
  } = {},
) {
  const log = {
    posted: [] as RenewBody[],
    subscribedWith: [] as (ArrayBuffer | string)[],
    remembered: [] as WorkerMemory[],
    vapidAsked: 0,
  };
  let memory: WorkerMemory | null = opts.memory === undefined ? MEMORY : opts.memory;
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
      const status = opts.status ?? 200;
      return { status, renewSecret: opts.next === undefined ? (status === 200 ? NEXT : null) : opts.next };
    },
    remembered: async () => memory,
    remember: async (m) => {
      log.remembered.push(m);
      memory = m;
    },
  };
  return { e, log, memory: () => memory };
}

describe("pushsubscriptionchange", () => {
  it("sends the device's secret and the old subscription's endpoint and auth with the new subscription", async () => {
    const { e, log, memory } = env();
    expect(await renewSubscription(sub(OLD), sub(NEW), e)).toBe("renewed");
    expect(log.posted).toEqual([
      { renew_secret: SECRET, old_endpoint: OLD.endpoint, old_auth: OLD.keys.auth, endpoint: NEW.endpoint, keys: NEW.keys },
    ]);
    expect(log.subscribedWith).toEqual([]);
    // The spent secret is replaced by the one the relay answered, with the new subscription.
    expect(log.remembered).toEqual([{ subscription: NEW, renew_secret: NEXT }]);
    expect(memory()).toEqual({ subscription: NEW, renew_secret: NEXT });
  });

  it("proves with the remembered subscription, even when the event names another old one", async () => {
    const { e, log } = env();
    expect(await renewSubscription(sub(OTHER), sub(NEW), e)).toBe("renewed");
    expect(log.posted).toEqual([
      { renew_secret: SECRET, old_endpoint: OLD.endpoint, old_auth: OLD.keys.auth, endpoint: NEW.endpoint, keys: NEW.keys },
    ]);
    const none = env();
    expect(await renewSubscription(null, sub(NEW), none.e)).toBe("renewed");
    expect(none.log.posted[0]?.old_endpoint).toBe(OLD.endpoint);
    expect(none.log.posted[0]?.old_auth).toBe(OLD.keys.auth);
    expect(none.log.posted[0]?.renew_secret).toBe(SECRET);
  });

  it("subscribes again with the old subscription's key when the event has no new one", async () => {
    const key = base64UrlToBytes(VAPID).buffer;
    const { e, log } = env();
    expect(await renewSubscription(sub(OTHER, key), null, e)).toBe("renewed");
    expect(log.subscribedWith).toEqual([key]);
    expect(log.vapidAsked).toBe(0);
    expect(log.posted[0]?.endpoint).toBe(NEW.endpoint);
    expect(log.posted[0]?.old_endpoint).toBe(OLD.endpoint);
  });

  it("asks the relay for its key when the old subscription does not carry one", async () => {
    const { e, log } = env();
    expect(await renewSubscription(sub(OLD, null), undefined, e)).toBe("renewed");
    expect(log.vapidAsked).toBe(1);
    // As text: the Push API decodes a base64url key itself.
    expect(log.subscribedWith).toEqual([VAPID]);
  });

  it("does nothing without a remembered secret, or when nothing changed", async () => {
    // The event's old subscription alone is no proof: no request at all.
    const none = env({ memory: null });
    expect(await renewSubscription(sub(OLD), sub(NEW), none.e)).toBe("no-proof");
    expect(await renewSubscription(sub(OLD), null, none.e)).toBe("no-proof");
    expect(none.log.posted).toEqual([]);
    expect(none.log.subscribedWith).toEqual([]);
    expect(none.log.vapidAsked).toBe(0);
    // A memory without a (valid) secret, as an older worker kept it.
    const old = env({ memory: OLD as unknown as WorkerMemory });
    expect(await renewSubscription(null, sub(NEW), old.e)).toBe("no-proof");
    const empty = env({ memory: { subscription: OLD, renew_secret: "" } });
    expect(await renewSubscription(null, sub(NEW), empty.e)).toBe("no-proof");
    expect([...old.log.posted, ...empty.log.posted]).toEqual([]);
    // Unchanged: compared with the remembered subscription, not the event's old one.
    const same = env();
    expect(await renewSubscription(sub(OTHER), sub(OLD), same.e)).toBe("unchanged");
    expect(await renewSubscription(null, sub(OLD), same.e)).toBe("unchanged");
    expect(same.log.posted).toEqual([]);
    expect(same.log.remembered).toEqual([]);
  });

  it("reports an unknown subscription and failures without throwing, and keeps the memory for a retry", async () => {
    const unknown = env({ status: 404 });
    expect(await renewSubscription(sub(OLD), sub(NEW), unknown.e)).toBe("unknown");
    expect(unknown.log.remembered).toEqual([]);
    for (const failing of [env({ status: 429 }), env({ status: 500 }), env({ postFails: true })]) {
      expect(await renewSubscription(sub(OLD), sub(NEW), failing.e)).toBe("failed");
      expect(failing.log.remembered).toEqual([]);
      expect(failing.memory()).toEqual(MEMORY);
    }
    const broken: RenewEnv = { ...env().e, subscribe: () => Promise.reject(new DOMException("no", "AbortError")) };
    expect(await renewSubscription(sub(OLD, new ArrayBuffer(65)), null, broken)).toBe("failed");
    // A later attempt (the worker starting again) proves with the same memory.
    const retry = env({ status: 503 });
    expect(await renewSubscription(null, sub(NEW), retry.e)).toBe("failed");
    expect(await renewSubscription(null, sub(NEW), retry.e)).toBe("failed");
    expect(retry.log.posted.map((b) => b.renew_secret)).toEqual([SECRET, SECRET]);
  });

  it("a success without a next secret is a failure: the old memory stays", async () => {
    for (const next of [null, "", "not-hex".repeat(9), NEXT.slice(1)]) {
      const { e, log, memory } = env({ status: 200, next });
      expect(await renewSubscription(sub(OLD), sub(NEW), e)).toBe("failed");
      expect(log.posted).toHaveLength(1);
      expect(log.remembered).toEqual([]);
      expect(memory()).toEqual(MEMORY);
    }
    const noContent = env({ status: 204, next: null });
    expect(await renewSubscription(sub(OLD), sub(NEW), noContent.e)).toBe("failed");
    expect(noContent.memory()).toEqual(MEMORY);
  });

  it("reads only complete subscriptions and memories", () => {
    expect(readSubscription({ ...NEW, expirationTime: null })).toEqual(NEW);
    expect(readSubscription({ endpoint: "https://x", keys: { p256dh: "a" } })).toBeNull();
    expect(readSubscription({ endpoint: "", keys: NEW.keys })).toBeNull();
    expect(readSubscription("nope")).toBeNull();
    expect(readSubscription(null)).toBeNull();
    expect(renewBody(SECRET, OLD, NEW)).toEqual({
      renew_secret: SECRET,
      old_endpoint: OLD.endpoint,
      old_auth: OLD.keys.auth,
      endpoint: NEW.endpoint,
      keys: NEW.keys,
    });
    expect(readMemory({ subscription: { ...OLD, expirationTime: null }, renew_secret: SECRET })).toEqual(MEMORY);
    expect(readMemory({ subscription: OLD, renew_secret: SECRET.toUpperCase() })).toEqual({ subscription: OLD, renew_secret: SECRET.toUpperCase() });
    expect(readMemory({ subscription: OLD, renew_secret: SECRET.slice(2) })).toBeNull();
    expect(readMemory({ subscription: OLD, renew_secret: `${SECRET.slice(1)}g` })).toBeNull();
    expect(readMemory({ subscription: OLD, renew_secret: 42 })).toBeNull();
    expect(readMemory({ subscription: OLD })).toBeNull();
    expect(readMemory({ subscription: { endpoint: "https://x" }, renew_secret: SECRET })).toBeNull();
    expect(readMemory(OLD)).toBeNull();
    expect(readMemory(null)).toBeNull();
  });
});

describe("the page's memory for the worker", () => {
  it("is what the worker reads back", () => {
    // As PushSubscription.toJSON() gives it, with the secret POST api/devices answered.
    const stored = workerMemory({ ...OLD, expirationTime: null }, SECRET);
    expect(stored).toEqual(MEMORY);
    // Through Cache Storage: JSON text.
    expect(readMemory(JSON.parse(JSON.stringify(stored)))).toEqual(MEMORY);
  });

  it("is nothing for an incomplete subscription; a missing secret is not read back", () => {
    expect(workerMemory({ endpoint: OLD.endpoint, keys: { p256dh: OLD.keys.p256dh } }, SECRET)).toBeNull();
    expect(workerMemory(null, SECRET)).toBeNull();
    expect(readMemory(workerMemory(OLD, ""))).toBeNull();
  });
});
