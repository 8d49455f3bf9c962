// Alemtrack app shell: session, navigation, service worker and its updates.
import { api, forgetCachedData, forgetSession, ApiError, LeftScreen, newScreen } from "./api.js";
import { banner, h, show } from "./dom.js";
import { apiErrorText, formatTime, setLanguage, setProtocol, t } from "./i18n.js";
import * as patient from "./views/patient.js";
import { checklist } from "./views/checklist.js";
import * as family from "./views/family.js";
import { loginView } from "./views/login.js";
import { accountView, forgotView, signupView } from "./views/start.js";
import { forgetPushOnThisDevice } from "./push.js";

export const state = { me: null, texts: null, patient: null, protocol: null };

/** A care-team screen, loaded when first opened: a patient's phone never downloads them
 * (the first load stays small); the service worker still keeps them for offline use. */
const later = (module, name) => async (...args) => (await import(`./views/${module}.js`))[name](...args);

const ROUTES = {
  patient: { "": patient.today, checklist, labs: patient.labs, timeline: patient.timeline,
             settings: patient.settings },
  nurse: { "": later("queue", "queue"), flags: later("queue", "queue"), flag: later("queue", "queue"),
           resolved: later("queue", "resolvedView"), "to-read": later("queue", "toReadView"),
           patients: later("patients", "list"), patient: later("record", "recordPage"), enrol: later("patients", "enrol"),
           import: later("lab_import", "screen"), protocol: later("protocol", "sheet"), account: accountView },
  family: { "": family.reminders, settings: family.settings },
};
// The admin has the nurse's screens and the clinic's (issue 17).
ROUTES.admin = { ...ROUTES.nurse, clinic: later("admin", "settings"), staff: later("admin", "staff"),
                 audit: later("admin", "audit"), delivery: later("admin", "delivery") };
const NAV = {
  patient: [["", "nav_today"], ["checklist", "nav_checklist"], ["labs", "nav_labs"], ["timeline", "nav_timeline"],
            ["settings", "nav_settings"]],
  nurse: [["flags", "nav_flags"], ["patients", "nav_patients"], ["enrol", "nav_enrol"], ["import", "nav_import"],
          ["protocol", "nav_protocol"], ["account", "nav_account"]],
  family: [["", "nav_reminders"], ["settings", "nav_settings"]],
};
NAV.admin = [...NAV.nurse.slice(0, -1), ["clinic", "nav_clinic"], ...NAV.nurse.slice(-1)];

const roleOf = (me) => me.role;

export async function loadTexts(language) {
  // The words of the patient's protocol (MS or CLL: "your haematology team").
  state.texts = await api("GET", `/content/texts?lang=${language}&protocol=${state.protocol || "ms"}`);
  state.protocolTexts = { [state.protocol || "ms"]: state.texts };
  if (state.me && (state.me.role === "nurse" || state.me.role === "admin")) {
    // The care team has patients of every protocol: each one's words for her record
    // (record.js), and the codes only CLL has (its questions, rules, warnings) in the
    // queue's lines, beside MS's.
    const cll = await api("GET", `/content/texts?lang=${language}&protocol=cll`);
    state.protocolTexts.cll = cll;
    state.texts = { ...state.texts };  // the merged copy; protocolTexts keep each protocol's own
    for (const table of ["items", "questions", "rules", "groups", "warnings"]) {
      state.texts[table] = { ...(cll[table] || {}), ...(state.texts[table] || {}) };
    }
  }
}

export async function refreshMe() {
  // Who is logged in is not a screen's data: read whatever screen is showing.
  state.me = await api("GET", "/me");
  let language = navigator.language.slice(0, 2);
  state.protocol = null;
  if (state.me.role === "patient") {
    state.patient = await api("GET", `/patients/${state.me.patient_id}`);
    language = state.patient.language;
    state.protocol = state.patient.protocol;
  } else if (state.me.role === "family" && state.me.patient_id) {
    // A relative reads the words of the protocol of the patient who invited them.
    state.protocol = (await api("GET", `/patients/${state.me.patient_id}/family/me`)).protocol;
  }
  setProtocol(state.protocol);
  setLanguage(language);
  await loadTexts(document.documentElement.lang);
}

/** A menu link to the screen already in the address bar still redraws it (no hashchange). */
function again(event) {
  if (event.currentTarget.getAttribute("href") === location.hash) { event.preventDefault(); route(); }
}

function nav() {
  const container = document.getElementById("nav");
  if (!state.me) return container.replaceChildren();
  const here = location.hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  const links = NAV[roleOf(state.me)].map(([path, key]) =>
    h("li", {}, h("a", { href: `#/${path}`, "aria-current": path === here ? "page" : false, onclick: again }, t(key))));
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
  state.texts = null;
  // Nothing of hers stays on the screen, in memory or in the browser's storage.
  show(h("p", { role: "status" }, t("logging_out")));
  offlineNote(null);
  forgetSession();
  forgetStorage();
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

/** The web storage of this origin (the app keeps nothing there, but a browser
 * extension or a later version might): emptied at logout. */
function forgetStorage() {
  for (const store of [window.localStorage, window.sessionStorage]) {
    try { store.clear(); } catch (e) { /* storage disabled: nothing kept */ }
  }
}

/** Say above the screen that it shows the copy this phone saved (offline), and
 * when; ``storedAt`` null: the screen is current, the note goes. */
function offlineNote(storedAt) {
  let note = document.getElementById("offline-note");
  if (!storedAt) { if (note) note.remove(); return; }
  if (!note) {
    note = h("p", { id: "offline-note", class: "offline-note", role: "status" });
    document.getElementById("main").before(note);
  }
  note.textContent = t("offline_as_of", { time: formatTime(storedAt) });
}

/** Words outside the screens (the menu, the skip link) follow the language at once. */
function relabel() {
  const skip = document.querySelector(".skip");
  if (skip) skip.textContent = t("skip_to_content");
  document.getElementById("nav").setAttribute("aria-label", t("nav_label"));
  nav();
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
    // Her words, never the developer's: the API's code and field pick the sentence.
    show(h("h1", {}, "Alemtrack"), h("p", { class: "error", role: "alert" },
      apiErrorText(error instanceof ApiError ? error
        : error instanceof TypeError && /fetch/i.test(error.message) ? null : { status: 500, code: "internal_error" })));
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
  window.addEventListener("alemtrack-language", relabel);
  window.addEventListener("alemtrack-freshness", (event) => offlineNote(event.detail.storedAt));
  relabel();
  // A button's late redraw of a page she has left is dropped, not reported.
  window.addEventListener("unhandledrejection", (event) => { if (event.reason instanceof LeftScreen) event.preventDefault(); });
  window.addEventListener("online", flushOutbox);
  await route();
  flushOutbox();
}

window.addEventListener("DOMContentLoaded", start);
export { flushOutbox };
