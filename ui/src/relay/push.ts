// This browser's side of Web Push: permission, the service worker, the subscription.

import { base64UrlToBytes } from "./base64url";

export type PushSupport = "ok" | "unsupported" | "ios-needs-home-screen";

export class PushError extends Error {
  readonly kind: "denied" | "unsupported" | "failed";

  constructor(kind: "denied" | "unsupported" | "failed", message: string = kind) {
    super(message);
    this.name = "PushError";
    this.kind = kind;
  }
}

const SW_URL = "relay-sw.js";

/** iPhone/iPad Safari: push exists only for a web app opened from the Home Screen. */
function isIos(): boolean {
  return /iP(hone|ad|od)/.test(navigator.userAgent) || (navigator.userAgent.includes("Macintosh") && navigator.maxTouchPoints > 1);
}

function standalone(): boolean {
  return window.matchMedia?.("(display-mode: standalone)").matches === true || (navigator as { standalone?: boolean }).standalone === true;
}

export function pushSupport(): PushSupport {
  const ok = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (ok) return "ok";
  return isIos() && !standalone() ? "ios-needs-home-screen" : "unsupported";
}

export function permission(): NotificationPermission | "unsupported" {
  return "Notification" in window ? Notification.permission : "unsupported";
}

/** The registration of the relay's worker, if this browser has one. */
async function registration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!("serviceWorker" in navigator)) return undefined;
  return navigator.serviceWorker.getRegistration();
}

/** This browser's current push subscription for the app, or null. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushSupport() !== "ok") return null;
  const reg = await registration();
  return (await reg?.pushManager.getSubscription()) ?? null;
}

/**
 * Asks for permission (the click that calls this is the user gesture browsers require),
 * registers the service worker, and subscribes with the relay's VAPID key.
 */
export async function subscribe(vapidKey: string): Promise<PushSubscription> {
  if (pushSupport() !== "ok") throw new PushError("unsupported");
  const answer = await Notification.requestPermission();
  if (answer !== "granted") throw new PushError("denied");
  try {
    await navigator.serviceWorker.register(SW_URL, { scope: "./" });
    // Subscribing needs an active worker, which `ready` waits for.
    const reg = await navigator.serviceWorker.ready;
    const old = await reg.pushManager.getSubscription();
    // A subscription made with another key (the relay's key changed) cannot be reused.
    if (old) await old.unsubscribe();
    return await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(vapidKey) });
  } catch (e) {
    if (e instanceof DOMException && e.name === "NotAllowedError") throw new PushError("denied", e.message);
    throw new PushError("failed", e instanceof Error ? e.message : String(e));
  }
}

export async function unsubscribe(): Promise<void> {
  const subscription = await currentSubscription();
  await subscription?.unsubscribe();
}

// What the service worker needs to renew the subscription when the browser replaces it
// (renew.ts): the subscription the relay knows and the device's renewal secret. Kept in Cache
// Storage, which the worker reads, under the worker's own cache name and key (sw.ts: MEMORY,
// memoryKey). This file must not import renew.ts (the worker's file): the worker is built as
// one self-contained file, which a module shared with the page would split.
const WORKER_MEMORY = "pushmail-relay-sw";
const workerMemoryKey = (scope: string): string => new URL("sw/subscription", scope).href;

/** The worker's memory, as it reads it (renew.ts, `readMemory`). */
export interface WorkerMemoryJson {
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  renew_secret: string;
}

/**
 * The worker's memory for a subscription (`PushSubscription.toJSON()`) and the device's renewal
 * secret; null when the subscription lacks its endpoint or keys.
 */
export function workerMemory(subscription: unknown, secret: string): WorkerMemoryJson | null {
  if (typeof subscription !== "object" || subscription === null) return null;
  const v = subscription as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } | null };
  const p256dh = v.keys?.p256dh;
  const auth = v.keys?.auth;
  if (typeof v.endpoint !== "string" || v.endpoint === "" || typeof p256dh !== "string" || typeof auth !== "string") return null;
  return { subscription: { endpoint: v.endpoint, keys: { p256dh, auth } }, renew_secret: secret };
}

/**
 * Gives the worker what it needs to renew `subscription` (the device's, just registered with
 * the relay). Failing (no Cache Storage, no worker) only means the relay will not be told of a
 * replaced subscription; it never throws.
 */
export async function rememberForWorker(subscription: PushSubscription, secret: string): Promise<void> {
  try {
    const memory = workerMemory(subscription.toJSON(), secret);
    const reg = await registration();
    if (memory === null || secret === "" || reg === undefined || !("caches" in window)) return;
    const cache = await caches.open(WORKER_MEMORY);
    await cache.put(workerMemoryKey(reg.scope), new Response(JSON.stringify(memory), { headers: { "Content-Type": "application/json" } }));
  } catch {
    // Renewal just will not be possible.
  }
}

/** Forgets this browser's device for the worker (it was stopped or removed); never throws. */
export async function forgetForWorker(): Promise<void> {
  try {
    const reg = await registration();
    if (reg === undefined || !("caches" in window)) return;
    const cache = await caches.open(WORKER_MEMORY);
    await cache.delete(workerMemoryKey(reg.scope));
  } catch {
    // Nothing kept, or nothing to do about it.
  }
}

/** This device's browser and system, for its name ("Chrome" on "Android"); "" when unknown. */
export function deviceParts(userAgent: string): { browser: string; system: string } {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /(Chrome|Chromium|CriOS)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "Browser";
  const system = /Android/.test(userAgent)
    ? "Android"
    : /iPhone/.test(userAgent)
      ? "iPhone"
      : /iPad/.test(userAgent)
        ? "iPad"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Mac OS X|Macintosh/.test(userAgent)
            ? "macOS"
            : /CrOS/.test(userAgent)
              ? "ChromeOS"
              : /Linux/.test(userAgent)
                ? "Linux"
                : "";
  return { browser, system };
}
