/* Alemtrack service worker: app shell offline, the patient's timeline offline,
 * the outbox (and a logout made offline) replayed, push notifications shown and opened.
 *
 * No mutable globals: every event does its work inside event.waitUntil.
 */
importScripts("/js/outbox-core.js");

const VERSION = "v18";  // v18: word files named after their screens; errors and import refusals in the nurse's language
const SHELL = `alemtrack-shell-${VERSION}`;
const DATA = `alemtrack-data-${VERSION}`;
const STORED_AT = "X-Alemtrack-Stored-At";
const SHELL_FILES = [
  "/", "/css/app.css", "/manifest.webmanifest", "/js/app.js", "/js/api.js", "/js/dom.js", "/js/i18n.js",
  "/js/push.js", "/js/outbox-core.js", "/js/views/login.js", "/js/views/patient.js", "/js/views/checklist.js", "/js/views/nurse.js", "/js/views/patients.js", "/js/views/admin.js", "/js/i18n-clinic.js",
  "/js/views/family.js", "/js/views/chart.js", "/js/views/protocol.js", "/js/views/labs.js", "/js/i18n-labs.js", "/js/i18n-care.js", "/js/i18n-start.js", "/js/views/start.js", "/vendor/lean-qr-2.7.4/lean-qr.js",
  "/vendor/lean-qr-2.7.4/lean-qr-svg.js", "/js/views/lab_import.js", "/js/i18n-import.js", "/js/i18n-patient.js", "/js/i18n-today.js", "/js/i18n-cll.js", "/js/views/queue.js", "/js/views/record.js", "/js/i18n-queue.js", "/js/i18n-read-marks.js", "/js/i18n-cll-schedule.js", "/js/views/cll_schedule.js", "/js/i18n-import-refusals.js", "/icons/icon-192.png", "/icons/icon-512.png",
  "/icons/maskable-192.png", "/icons/maskable-512.png",
];
/** Reads kept for offline use: the patient's own views. Network first: while the
 * server answers, its answer is shown, never an older copy of health data; the copy
 * is for when it cannot be reached. */
const OFFLINE_READS = [
  /^\/api\/v1\/me$/, /^\/api\/v1\/content\/texts/, /^\/api\/v1\/patients\/\d+$/,
  /^\/api\/v1\/patients\/\d+\/timeline/, /^\/api\/v1\/patients\/\d+\/checklists?$/, /^\/api\/v1\/patients\/\d+\/labs$/,
];

self.addEventListener("install", (event) => {
  // No skipWaiting here: the page offers "update now" instead of reloading under the user.
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL, DATA]);
    for (const name of await caches.keys()) {
      if (name.startsWith("alemtrack-") && !keep.has(name)) await caches.delete(name);  // only our own old caches
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "SKIP_WAITING") event.waitUntil(self.skipWaiting());
  if (type === "FLUSH") event.waitUntil(flushAndTell());
});

/** The copy kept for offline use carries the time it was fetched: a page shown from
 * it says "offline: as of 14:02" (the header never comes from the network). */
async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set(STORED_AT, new Date().toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request) {
  const cache = await caches.open(DATA);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cached = await cache.match(request);
    if (cached) return cached;
    throw error;
  }
  if (response.ok) await cache.put(request, await stamped(response.clone()));
  // No session any more (logged out elsewhere, expired): nothing of it stays on the device.
  else if (response.status === 401) await caches.delete(DATA);
  else if (response.status === 403 || response.status === 404) await cache.delete(request);
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/", { cacheName: SHELL })));
    return;
  }
  if (OFFLINE_READS.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/calendar/")) return;  // network only
  event.respondWith(caches.match(request, { cacheName: SHELL }).then((hit) => hit || fetch(request)));
});

async function flushAndTell() {
  const answers = await self.AlemtrackOutbox.flush();
  if (Object.keys(answers).length) {
    for (const client of await self.clients.matchAll({ type: "window" })) {
      client.postMessage({ type: "OUTBOX_FLUSHED", answers });
    }
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(flushAndTell());
});

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  const title = data.title || "Alemtrack";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "", tag: data.tag, renotify: false, icon: "/icons/icon-192.png", badge: "/icons/icon-192.png",
    data: { url: data.url || "/#/" },
  }));
});

/** Open (or bring back) the app at the notification's screen. Focusing needs
 * the click's user activation: a refused focus still navigates. */
async function openFromNotification(notification) {
  const target = new URL((notification.data && notification.data.url) || "/#/", self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const ours = windows.find((client) => client.url === target) ||
    windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (!ours) return self.clients.openWindow(target);
  try { await ours.focus(); } catch (e) { /* no user activation */ }
  return ours.url === target ? ours : ours.navigate(target);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification));
});
