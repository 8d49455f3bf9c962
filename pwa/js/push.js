// Web Push on this device: ask, subscribe with the server's VAPID key, tell the server.
import { api, get } from "./api.js";
import { t } from "./i18n.js";
import { h } from "./dom.js";

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

export async function pushStatus() {
  if (!supported()) return t("notifications_unsupported");
  if (Notification.permission === "denied") return t("notifications_blocked");
  const registration = await navigator.serviceWorker.ready;
  return (await registration.pushManager.getSubscription()) ? t("notifications_enabled") : "";
}

export async function subscribePush() {
  if (!supported()) return t("notifications_unsupported");
  if ((await Notification.requestPermission()) !== "granted") return t("notifications_blocked");
  const registration = await navigator.serviceWorker.ready;
  const { key } = await get("/push/vapid-public-key");
  const subscription = (await registration.pushManager.getSubscription()) ||
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  await api("POST", "/push/subscriptions", subscription.toJSON());
  return t("notifications_enabled");
}

export async function unsubscribePush() {
  if (!supported()) return t("notifications_unsupported");
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (subscription) {
    await api("DELETE", "/push/subscriptions", { endpoint: subscription.endpoint }).catch(() => null);
    await subscription.unsubscribe();
  }
  return "";
}

/** Logging out: this device stops showing the account's pushes, offline too (the push
 * service then answers 410 and the server drops the subscription); returns the
 * endpoint for the logout request, which removes the subscription at once. */
export async function forgetPushOnThisDevice() {
  if (!supported()) return null;
  try {
    const registration = await navigator.serviceWorker.getRegistration();
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (!subscription) return null;
    const { endpoint } = subscription;
    await subscription.unsubscribe().catch(() => null);
    return endpoint;
  } catch (e) {
    return null;
  }
}

/** The settings card for notifications on this device. */
export async function notificationsCard() {
  const pushLine = h("p", { role: "status" }, await pushStatus());
  const pushButtons = h("p", { class: "row" },
    h("button", { type: "button", onclick: async () => { pushLine.textContent = await subscribePush(); } }, t("notifications_on")),
    h("button", { type: "button", class: "secondary", onclick: async () => { pushLine.textContent = await unsubscribePush(); } }, t("notifications_off")));
  return h("section", { class: "card" }, h("h2", {}, t("notifications")), h("p", {}, t("notifications_explain")), pushButtons, pushLine,
    h("h3", {}, t("iphone_title")), h("p", {}, t("iphone_steps")));
}

/** The settings card for the private calendar link of patient ``patientId``. */
export function calendarCard(patientId) {
  const feed = h("div", { "aria-live": "polite" });
  return h("section", { class: "card" }, h("h2", {}, t("calendar")), h("p", {}, t("calendar_explain")),
    h("button", { type: "button", class: "secondary", onclick: async () => {
      const created = await api("POST", `/patients/${patientId}/calendar-feed`);
      feed.replaceChildren(h("p", {}, t("calendar_copy")), h("input", { readonly: true, value: created.url, "aria-label": t("calendar_copy") }));
    } }, t("calendar_create")), feed);
}
