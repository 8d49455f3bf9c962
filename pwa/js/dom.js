// A tiny DOM builder: text is always set as text (never as HTML), so nothing a
// person typed can run as code.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function show(...nodes) {
  const main = document.getElementById("main");
  // Like h(): a left-out part (null, undefined, false) is no node (replaceChildren would write "null").
  main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · Alemtrack` : "Alemtrack";
  main.focus({ preventScroll: true });
}

export function banner(...nodes) {
  document.getElementById("banner").replaceChildren(...nodes);
}

export function telLink(number, label) {
  // The number never wraps between its groups of digits (a phone number cut over two lines misleads).
  const shown = String(label).split(String(number)).join(String(number).replace(/ /g, "\u00a0"));
  return h("a", { class: "tel", href: `tel:${String(number).replace(/[^+\d]/g, "")}` }, shown);
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function localToday() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}
