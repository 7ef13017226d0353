// The relay app's service worker, built to /relay-sw.js (vite.relay.config.ts). It shows the
// notices the relay pushes and opens the app on a click. The payload → notice logic is in
// notice.ts (unit-tested); this file only wires events.
//
// The project's TypeScript compiles against the DOM library, not WebWorker, so the few
// service-worker types used here are declared locally.

import { noticeFor, readPayload, type NoticeOptions } from "./notice";

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
interface ServiceWorkerScope {
  readonly registration: { readonly scope: string; showNotification(title: string, options: NoticeOptions): Promise<void> };
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
}

const sw = self as unknown as ServiceWorkerScope;
const appUrl = (): string => sw.registration.scope;

sw.addEventListener("install", (event) => event.waitUntil(sw.skipWaiting()));
sw.addEventListener("activate", (event) => event.waitUntil(sw.clients.claim()));

sw.addEventListener("push", (event) => {
  const notice = noticeFor(readPayload(event.data), {
    appUrl: appUrl(),
    icon: new URL("icons/pushmail-192.png", appUrl()).href,
    language: sw.navigator.language,
  });
  // Same tag, renotify false: a second push for one message replaces the first notice quietly.
  event.waitUntil(sw.registration.showNotification(notice.title, notice.options));
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
