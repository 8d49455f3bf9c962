// Web Push on this device: ask, subscribe with the server's VAPID key, tell the server.
import { api, ApiError } from "./api.js";
import { apiErrorText, t } from "./i18n.js";
import { h } from "./dom.js";

function keyBytes(base64url) {
  const raw = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

/** Ask for permission, subscribe this device and tell the server. A refused
 * permission is no error (the card then says "denied"); a failure throws, and
 * leaves no local subscription the server does not know. */
export async function subscribePush() {
  if ((await Notification.requestPermission()) !== "granted") return;
  const registration = await navigator.serviceWorker.ready;
  const { key } = await api("GET", "/push/vapid-public-key");
  const subscription = (await registration.pushManager.getSubscription()) ||
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  try {
    await api("POST", "/push/subscriptions", subscription.toJSON());
  } catch (error) {
    await subscription.unsubscribe().catch(() => null);
    throw error;
  }
}

/** Stop notifications on this device (the server forgets the subscription too). */
export async function unsubscribePush() {
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (subscription) {
    await api("DELETE", "/push/subscriptions", { endpoint: subscription.endpoint }).catch(() => null);
    await subscription.unsubscribe();
  }
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

/** This device's notification state: "on", "off", "denied" (blocked in the browser),
 * "ios" (an iPhone or iPad outside the home-screen app, where Safari has no push),
 * or "unsupported". */
export async function pushState() {
  const apple = /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const installed = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  if (apple && !installed) return "ios";
  if (!supported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  try {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.pushManager.getSubscription()) ? "on" : "off";
  } catch (e) {
    return "unsupported";
  }
}

/** The settings card for notifications on this device: its state in words, the one
 * button that fits it, and what a notification will and will not show. */
export async function notificationsCard() {
  const line = h("p", { role: "status", id: "push-state" });
  const buttons = h("p", { class: "row" });
  const draw = async (problem) => {
    const now = await pushState();
    line.textContent = problem || t(`nt_state_${now}`);
    line.className = problem ? "error" : "";
    const act = (label, work, secondary) => h("button", { type: "button", class: secondary ? "secondary" : null,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        line.textContent = work === subscribePush ? t("nt_turning_on") : "";
        let failed = null;
        try { await work(); } catch (e) { failed = t("nt_failed", { error: e instanceof ApiError ? apiErrorText(e) : t("ae_generic") }); }
        await draw(failed);
      } }, label);
    if (now === "off") buttons.replaceChildren(act(t("notifications_on"), subscribePush));
    else if (now === "on") buttons.replaceChildren(act(t("notifications_off"), unsubscribePush, true));
    else buttons.replaceChildren();
  };
  await draw(null);
  return h("section", { class: "card", "aria-labelledby": "push-title" }, h("h2", { id: "push-title" }, t("notifications")),
    line, buttons, h("p", {}, t("nt_shows")), h("p", {}, t("nt_never")));
}

/** The settings card for the private calendar link of patient ``patientId``: what it
 * does, making one (shown once, with a copy button) and stopping it. */
export function calendarCard(patientId) {
  const out = h("div", { "aria-live": "polite" });
  const say = (text, error) => out.replaceChildren(h("p", { class: error ? "error" : null, role: error ? "alert" : null }, text));
  const make = async () => {
    let created;
    try { created = await api("POST", `/patients/${patientId}/calendar-feed`); } catch (e) { return say(apiErrorText(e), true); }
    const link = h("input", { id: "calendar-url", class: "calendar-link", readonly: true, value: created.url });
    const copied = h("span", { role: "status" });
    out.replaceChildren(h("label", { for: "calendar-url" }, t("cal_created")), link,
      h("p", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: async () => {
        link.select();
        try { await navigator.clipboard.writeText(created.url); copied.textContent = t("cal_copied"); } catch (e) { /* selected: she copies it */ }
      } }, t("cal_copy")), copied));
  };
  const revoke = async () => {
    try {
      await api("DELETE", `/patients/${patientId}/calendar-feed`);
      say(t("cal_revoked"));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) say(t("cal_none")); else say(apiErrorText(e), true);
    }
  };
  return h("section", { class: "card", "aria-labelledby": "calendar-title" }, h("h2", { id: "calendar-title" }, t("calendar")),
    h("p", {}, t("cal_explain")),
    h("p", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: make }, t("calendar_create")),
      h("button", { type: "button", class: "secondary", onclick: revoke }, t("cal_revoke"))), out);
}
