/* The offline outbox: checklists and lab results waiting to be sent, and a
 * logout waiting to reach the server.
 *
 * Shared by the page (window.AlemtrackOutbox) and the service worker
 * (importScripts, self.AlemtrackOutbox). Each entry is keyed by the same
 * client_id the server treats as idempotent, so sending it twice is harmless;
 * it is removed only after a 2xx. A definitive refusal (4xx other than 401,
 * 408, 429) is kept, marked "rejected", for the person to see: nothing they
 * entered is thrown away silently. Each entry names its owner (the user id),
 * so that a logout forgets that person's entries and no one else's.
 *
 * A logout made offline is kept ("session" store) until the server has ended
 * the session: it is sent before anything else as soon as the server answers
 * again (flush, sendLogout), and nothing else is sent with that session.
 */
(function (scope) {
  "use strict";
  const DB = "alemtrack", STORE = "outbox", SESSION = "session", VERSION = 2;
  const LOGOUT = "logout";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "client_id" });
        if (!db.objectStoreNames.contains(SESSION)) db.createObjectStore(SESSION, { keyPath: "key" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work, store = STORE) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const result = work(tx.objectStore(store));
      tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }

  const put = (entry) => run("readwrite", (store) => store.put(entry));
  const remove = (id) => run("readwrite", (store) => store.delete(id));
  const all = () => run("readonly", (store) => store.getAll());

  async function csrfToken() {
    const response = await fetch("/api/v1/auth/csrf", { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error("csrf " + response.status);
    return (await response.json()).csrf_token;
  }

  /** Queue a submission of user ``owner``; returns the entry. */
  async function add(path, body, owner = null) {
    const entry = { client_id: body.client_id, path, body, owner, created_at: new Date().toISOString(),
                    attempts: 0, status: "pending", error: null };
    await put(entry);
    return entry;
  }

  /** The entries of ``owner`` (and those of no one: made before entries had owners). */
  async function of(owner) {
    return (await all()).filter((entry) => entry.owner == null || entry.owner === owner);
  }

  /** Delete every entry of ``owner``: what they left unsent stays on no device after their logout. */
  async function forget(owner) {
    for (const entry of await of(owner)) await remove(entry.client_id);
  }

  /** Remember that this device logged out: the server is told at the first chance
   * (with the device's push endpoint, if any: its subscription goes too). */
  const queueLogout = (endpoint = null) => run("readwrite", (store) => store.put({
    key: LOGOUT, at: new Date().toISOString(), endpoint }), SESSION);
  const logoutPending = async () => Boolean(await run("readonly", (store) => store.get(LOGOUT), SESSION));
  const logoutSent = () => run("readwrite", (store) => store.delete(LOGOUT), SESSION);

  /** End on the server the session of a queued logout. True when no logout
   * waits any more; false while the server cannot be reached (then later). */
  async function sendLogout() {
    const queued = await run("readonly", (store) => store.get(LOGOUT), SESSION);
    if (!queued) return true;
    let response;
    try {
      // The session's own token: the logout is refused without it (CSRF).
      const token = await csrfToken();
      const body = queued.endpoint ? JSON.stringify({ endpoint: queued.endpoint }) : undefined;
      response = await fetch("/api/v1/auth/logout", {
        method: "POST", credentials: "same-origin", cache: "no-store", body,
        headers: body ? { "X-CSRF-Token": token, "Content-Type": "application/json" } : { "X-CSRF-Token": token },
      });
    } catch (e) {
      return false;  // offline, or the server is away
    }
    if (response.status >= 500) return false;
    // 204: ended now; 401: it had ended already (expired, or ended elsewhere).
    await logoutSent();
    return true;
  }

  /** Send every pending entry; returns {client_id: {status, body}} for those answered. */
  async function flush() {
    const answers = {};
    // A logout first, and nothing with the session it ends.
    if (!(await sendLogout())) return answers;
    const entries = (await all()).filter((e) => e.status === "pending");
    if (!entries.length) return answers;
    let token;
    try { token = await csrfToken(); } catch (e) { return answers; }  // offline or logged out: later
    for (const entry of entries) {
      let response;
      try {
        response = await fetch("/api/v1" + entry.path, {
          method: "POST", credentials: "same-origin", cache: "no-store",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify(entry.body),
        });
      } catch (e) {
        entry.attempts += 1; await put(entry); break;  // the network is gone again
      }
      const body = await response.json().catch(() => null);
      if (response.ok) {
        await remove(entry.client_id);
        answers[entry.client_id] = { status: response.status, body };
      } else if (response.status === 401 || response.status === 408 || response.status === 429 || response.status >= 500) {
        entry.attempts += 1; await put(entry);
        if (response.status === 401) break;
      } else {
        entry.status = "rejected";
        entry.error = (body && body.error && body.error.message) || ("HTTP " + response.status);
        // What the app needs to say the refusal in her language (i18n apiErrorText).
        entry.answer = { status: response.status, code: body && body.error && body.error.code,
                         field: body && body.error && body.error.field };
        await put(entry);
        answers[entry.client_id] = { status: response.status, body };
      }
    }
    return answers;
  }

  scope.AlemtrackOutbox = { add, flush, all, of, remove, forget, queueLogout, logoutPending, sendLogout };
})(typeof self !== "undefined" ? self : window);
