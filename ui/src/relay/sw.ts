// The relay app's service worker, built to /relay-sw.js (vite.relay.config.ts). It shows the
// notices the relay pushes, opens the app on a click, and tells the relay when the browser
// replaces the push subscription. The payload → notice logic is in notice.ts and the renewal in
// renew.ts (both unit-tested); this file only wires events.
//
// The project's TypeScript compiles against the DOM library, not WebWorker, so the few
// service-worker types used here are declared locally.

import { noticeFor, readPayload, type NoticeOptions } from "./notice";
import { readMemory, readSecret, renewSubscription, type RenewEnv, type WorkerMemory } from "./renew";

interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown } | null;
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
  navigate?(url: string): Promise<WindowClient | null>;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: { close(): void; readonly data: unknown };
}
interface PushSubscriptionChangeEvent extends ExtendableEvent {
  // Either may be null (a browser that cannot tell, or a subscription already gone).
  readonly oldSubscription?: PushSubscription | null;
  readonly newSubscription?: PushSubscription | null;
}
interface ServiceWorkerScope {
  readonly registration: {
    readonly scope: string;
    readonly pushManager: PushManager;
    showNotification(title: string, options: NoticeOptions): Promise<void>;
  };
  readonly clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  readonly navigator: { readonly language: string };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", handler: (event: ExtendableEvent) => void): void;
  addEventListener(type: "push", handler: (event: PushEvent) => void): void;
  addEventListener(type: "notificationclick", handler: (event: NotificationEvent) => void): void;
  addEventListener(type: "pushsubscriptionchange", handler: (event: PushSubscriptionChangeEvent) => void): void;
}

const sw = self as unknown as ServiceWorkerScope;
const appUrl = (): string => sw.registration.scope;

sw.addEventListener("install", (event) => event.waitUntil(sw.skipWaiting()));
sw.addEventListener("activate", (event) =>
  event.waitUntil(Promise.all([sw.clients.claim(), retryRenewal().catch(() => undefined)])),
);

// The subscription the relay knows for this browser's device and the device's renewal secret,
// which the page stores here when it registers the device (push.ts, `workerMemory`: same cache
// and key) and the worker replaces after each renewal. The worker never writes a subscription
// it did not renew itself: it cannot know the secret of any other.
const MEMORY = "pushmail-relay-sw";
const memoryKey = (): string => new URL("sw/subscription", appUrl()).href;

async function remember(memory: WorkerMemory): Promise<void> {
  const cache = await caches.open(MEMORY);
  await cache.put(memoryKey(), new Response(JSON.stringify(memory), { headers: { "Content-Type": "application/json" } }));
}

async function remembered(): Promise<WorkerMemory | null> {
  const cache = await caches.open(MEMORY);
  const stored = await cache.match(memoryKey());
  return stored ? readMemory(await stored.json()) : null;
}

/**
 * A renewal that failed earlier (the relay unreachable when the browser replaced the
 * subscription): when the browser's subscription is no longer the remembered one, tell the
 * relay now. Nothing happens when they are the same, or when nothing is remembered.
 */
async function retryRenewal(): Promise<void> {
  const current = await sw.registration.pushManager.getSubscription();
  if (current) await renewSubscription(null, current, renewEnv);
}

const renewEnv: RenewEnv = {
  subscribe: (applicationServerKey) => sw.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey }),
  vapidKey: async () => {
    const answer = await fetch(new URL("api/vapid", appUrl()), { credentials: "omit" });
    const body = (await answer.json()) as { public_key?: unknown };
    if (typeof body.public_key !== "string") throw new Error("no VAPID key");
    return body.public_key;
  },
  // No token: the proof is in the body (the device's renewal secret, the old subscription's
  // endpoint and auth secret). A 200 answers the next renewal secret.
  post: async (body) => {
    const answer = await fetch(new URL("api/devices/renew", appUrl()), {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let renewSecret: string | null = null;
    if (answer.status === 200) {
      const json = (await answer.json().catch(() => null)) as { renew_secret?: unknown } | null;
      renewSecret = readSecret(json?.renew_secret);
    }
    return { status: answer.status, renewSecret };
  },
  remembered,
  remember,
};

sw.addEventListener("push", (event) => {
  const notice = noticeFor(readPayload(event.data), {
    appUrl: appUrl(),
    icon: new URL("icons/pushmail-192.png", appUrl()).href,
    language: sw.navigator.language,
  });
  // Same tag, renotify false: a second push for one message replaces the first notice quietly.
  event.waitUntil(sw.registration.showNotification(notice.title, notice.options));
});

sw.addEventListener("pushsubscriptionchange", (event) => {
  // The relay keeps the device's name and detail choice; nothing to ask the user.
  event.waitUntil(renewSubscription(event.oldSubscription, event.newSubscription, renewEnv));
});

sw.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const target = typeof data?.url === "string" ? data.url : appUrl();
  event.waitUntil(
    (async () => {
      const windows = await sw.clients.matchAll({ type: "window", includeUncontrolled: true });
      // The app already open: bring it forward (a link elsewhere still opens its own window).
      const app = windows.find((w) => w.url.startsWith(appUrl()));
      if (app && target.startsWith(appUrl())) {
        await app.focus();
        return;
      }
      await sw.clients.openWindow(target);
    })(),
  );
});
