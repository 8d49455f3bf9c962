/* The offline outbox: checklists and lab results waiting to be sent.
 *
 * Shared by the page (window.AlemtrackOutbox) and the service worker
 * (importScripts, self.AlemtrackOutbox). Each entry is keyed by the same
 * client_id the server treats as idempotent, so sending it twice is harmless;
 * it is removed only after a 2xx. A definitive refusal (4xx other than 401,
 * 408, 429) is kept, marked "rejected", for the person to see: nothing they
 * entered is thrown away silently.
 */
(function (scope) {
  "use strict";
  const DB = "alemtrack", STORE = "outbox", VERSION = 1;

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, VERSION);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "client_id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function run(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
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

  /** Queue a submission; returns the entry. */
  async function add(path, body) {
    const entry = { client_id: body.client_id, path, body, created_at: new Date().toISOString(),
                    attempts: 0, status: "pending", error: null };
    await put(entry);
    return entry;
  }

  /** Send every pending entry; returns {client_id: {status, body}} for those answered. */
  async function flush() {
    const entries = (await all()).filter((e) => e.status === "pending");
    const answers = {};
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
        await put(entry);
        answers[entry.client_id] = { status: response.status, body };
      }
    }
    return answers;
  }

  scope.AlemtrackOutbox = { add, flush, all, remove };
})(typeof self !== "undefined" ? self : window);
