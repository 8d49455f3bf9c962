// Alemtrack app shell: session, navigation, service worker and its updates.
import { api, forgetCachedData, ApiError, LeftScreen, newScreen } from "./api.js";
import { banner, h, show } from "./dom.js";
import { setLanguage, t } from "./i18n.js";
import * as patient from "./views/patient.js";
import * as nurse from "./views/nurse.js";
import * as queue from "./views/queue.js";
import * as record from "./views/record.js";
import * as labImport from "./views/lab_import.js";
import * as family from "./views/family.js";
import * as protocol from "./views/protocol.js";
import { loginView } from "./views/login.js";
import { accountView, forgotView, signupView } from "./views/start.js";
import { forgetPushOnThisDevice } from "./push.js";

export const state = { me: null, texts: null, patient: null };

const ROUTES = {
  patient: { "": patient.today, checklist: patient.checklist, labs: patient.labs, timeline: patient.timeline,
             settings: patient.settings },
  nurse: { "": queue.queue, flags: queue.queue, flag: queue.queue, resolved: queue.resolvedView, "to-read": queue.toReadView,
           patients: nurse.patients, patient: record.recordPage,
           enrol: nurse.enrol, import: labImport.screen, protocol: protocol.sheet, account: accountView },
  family: { "": family.reminders, settings: accountView },
};
const NAV = {
  patient: [["", "nav_today"], ["checklist", "nav_checklist"], ["labs", "nav_labs"], ["timeline", "nav_timeline"],
            ["settings", "nav_settings"]],
  nurse: [["flags", "nav_flags"], ["patients", "nav_patients"], ["enrol", "nav_enrol"], ["import", "nav_import"],
          ["protocol", "nav_protocol"], ["account", "nav_account"]],
  family: [["", "nav_reminders"], ["settings", "nav_settings"]],
};

const roleOf = (me) => (me.role === "admin" ? "nurse" : me.role);

export async function loadTexts(language) {
  state.texts = await api("GET", `/content/texts?lang=${language}`);
}

export async function refreshMe() {
  // Who is logged in is not a screen's data: read whatever screen is showing.
  state.me = await api("GET", "/me");
  let language = navigator.language.slice(0, 2);
  if (state.me.role === "patient") {
    state.patient = await api("GET", `/patients/${state.me.patient_id}`);
    language = state.patient.language;
  }
  setLanguage(language);
  await loadTexts(document.documentElement.lang);
}

function nav() {
  const container = document.getElementById("nav");
  if (!state.me) return container.replaceChildren();
  const here = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  const links = NAV[roleOf(state.me)].map(([path, key]) =>
    h("li", {}, h("a", { href: `#/${path}`, "aria-current": path === here ? "page" : false }, t(key))));
  links.push(h("li", {}, h("a", { href: "#/logout" }, t("logout"))));
  container.replaceChildren(h("ul", {}, links));
}

/** Log out, online or not: this device forgets at once what it kept of the person
 * (cached health data, their unsent entries), and the server ends the session now
 * or, offline, as soon as it can be reached (the queued logout goes first). */
async function logout() {
  const me = state.me;
  const outbox = window.AlemtrackOutbox;
  if (me && outbox) {
    const unsent = await outbox.of(me.id);
    if (unsent.length && !window.confirm(t("logout_unsent", { n: unsent.length }))) {
      location.hash = "#/";
      return;
    }
  }
  state.me = null;
  state.patient = null;
  await forgetCachedData();
  const endpoint = await forgetPushOnThisDevice();  // the logout removes this device's subscription
  if (outbox) {
    if (me) await outbox.forget(me.id);
    await outbox.queueLogout(endpoint);  // first: a closed tab still logs out when the connection returns
    if (!(await outbox.sendLogout())) await registerSync();
  } else {
    try { await api("POST", "/auth/logout", endpoint ? { endpoint } : undefined); } catch (e) { /* already out */ }
  }
  location.hash = "#/";
}

async function registerSync() {
  if (!("serviceWorker" in navigator) || !("SyncManager" in window)) return;  // the app sends it when online
  const registration = await navigator.serviceWorker.ready;
  try { await registration.sync.register("outbox"); } catch (e) { /* the app sends it when online */ }
}

/** Whether a logout made on this device still waits for the server (sent first if it can be). */
export async function logoutWaiting() {
  return Boolean(window.AlemtrackOutbox) && !(await window.AlemtrackOutbox.sendLogout());
}

/** Screens for someone not logged in (issue 16): sign-up with a code, a forgotten password. */
const PUBLIC = { signup: signupView, forgot: forgotView };

/** Before a login the app speaks the browser's language. */
function anonymous(page, query) {
  state.me = null;
  setLanguage(navigator.language.slice(0, 2));
  nav();
  return (PUBLIC[page] || loginView)(new URLSearchParams(query));
}

async function route() {
  newScreen();
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [page, ...args] = path.split("/");
  if (page === "logout") return logout();
  // A sign-up link opens its screen even on a phone where someone is logged in (a family member's own account).
  if (PUBLIC[page]) return anonymous(page, query);
  if (!state.me) {
    // The session of a logout that has not reached the server is not used again.
    if (await logoutWaiting()) return anonymous(page, query);
    try { await refreshMe(); } catch (error) {
      if (error instanceof ApiError && error.status === 401) return anonymous(page, query);
      if (!navigator.onLine || !(error instanceof ApiError)) return show(h("p", {}, t("offline")));
      throw error;
    }
  }
  nav();
  const view = ROUTES[roleOf(state.me)][page] || ROUTES[roleOf(state.me)][""];
  try {
    await view(...args);
  } catch (error) {
    if (error instanceof LeftScreen) return;  // she moved on before it was drawn
    show(h("h1", {}, "Alemtrack"), h("p", { class: "error", role: "alert" }, t("error", { message: error.message })));
  }
}

export function go(path) {
  if (location.hash === `#/${path}`) route(); else location.hash = `#/${path}`;
}

function watchForUpdates(registration) {
  let accepted = false;
  const offer = (worker) => banner(
    h("span", {}, t("update_ready"), " "),
    h("button", { type: "button", onclick: () => { accepted = true; worker.postMessage({ type: "SKIP_WAITING" }); } },
      t("update_now")));
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker.addEventListener("statechange", () => {
      // A new version waits; the old one keeps the page until the person says so.
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
  // The first worker taking control (clients.claim) is no update: only reload
  // when the person asked for the new version.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (accepted) { accepted = false; location.reload(); }
  });
}

async function flushOutbox() {
  if (!window.AlemtrackOutbox) return;
  const answers = await window.AlemtrackOutbox.flush();
  if (Object.keys(answers).length) window.dispatchEvent(new CustomEvent("outbox-flushed", { detail: answers }));
}

async function start() {
  if ("serviceWorker" in navigator) {
    const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    watchForUpdates(registration);
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data?.type === "OUTBOX_FLUSHED") window.dispatchEvent(new CustomEvent("outbox-flushed", { detail: event.data.answers }));
    });
  }
  window.addEventListener("hashchange", route);
  // A button's late redraw of a page she has left is dropped, not reported.
  window.addEventListener("unhandledrejection", (event) => { if (event.reason instanceof LeftScreen) event.preventDefault(); });
  window.addEventListener("online", flushOutbox);
  await route();
  flushOutbox();
}

window.addEventListener("DOMContentLoaded", start);
export { flushOutbox };
