// The API client: cookie session, CSRF header on state changes, error envelope.
let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error && body.error.code;
    this.field = body && body.error && body.error.field;
    this.error = (body && body.error) || {};  // with a route's extra details (the lab import's refused rows)
  }
}

export async function refreshCsrf() {
  const response = await fetch("/api/v1/auth/csrf", { credentials: "same-origin", cache: "no-store" });
  csrf = (await response.json()).csrf_token;
  return csrf;
}

/** Forget this tab's session token (a logout): the next change asks for a new one. */
export function forgetSession() { csrf = null; }

/** Delete the health data this device keeps for offline use (the service worker's
 * data cache): on logout, and whenever the server says there is no session. */
export async function forgetCachedData() {
  if (!("caches" in window)) return;
  for (const name of await caches.keys()) {
    if (name.startsWith("alemtrack-data-")) await caches.delete(name);
  }
}

export async function api(method, path, body) {
  if (method !== "GET" && !csrf) await refreshCsrf();
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  const response = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // Only the service worker's offline copy has this header: the page says how old it is.
  const storedAt = response.headers.get("X-Alemtrack-Stored-At");
  window.dispatchEvent(new CustomEvent("alemtrack-freshness", { detail: { storedAt } }));
  if (response.status === 204) return null;
  // No session (ended here, elsewhere, or by its time limit): nothing of it stays.
  if (response.status === 401) await forgetCachedData();
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  if (data && data.csrf_token) csrf = data.csrf_token;
  return data;
}

/** Thrown by a read that finishes after its screen was left: what it would have drawn is dropped. */
export class LeftScreen extends Error {}

// The router counts screens; a read remembers the screen it was made for.
let screen = 0;
export function newScreen() { screen += 1; }

export async function get(path) {
  const mine = screen;
  const data = await api("GET", path);
  // A late answer must not redraw a page she has already left (the router drops this error).
  if (mine !== screen) throw new LeftScreen(path);
  return data;
}
export const post = (path, body) => api("POST", path, body);
