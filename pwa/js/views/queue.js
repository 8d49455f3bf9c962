// The care team's queue (issue 17): one row per patient with her flags' reasons in
// words, the highest level and the age of the oldest; new flags and seen ones look
// different; resolved flags with outcome, note, who and when; the checklists to read.
// It refreshes itself (polling) and announces new flags; keys move through it.
import { api, get } from "../api.js";
import { h, show } from "../dom.js";
import { ago, apiErrorText, formatDate, language, t, tn } from "../i18n.js";
import { go, state } from "../app.js";

export const OUTCOMES = ["called_patient", "lab_ordered", "referred_haematology", "referred_nephrology",
                         "referred_endocrinology", "no_action_needed", "entered_in_error"];
const LEVELS = ["emergency", "urgent", "soon"];
/** How often the queue asks for new flags (a nurse sees a new urgent flag within this time). */
const POLL_MS = 15000;
/** The width from which the queue and a record stand side by side (CSS: the same 75rem). */
export const WIDE = "(min-width: 75rem)";

/** The filters chosen, kept for this tab while the nurse moves between screens. */
const filters = JSON.parse(sessionStorage.getItem("queue-filters") || "{}");
let lastSeenFlag = null;
let poller = null;
/** Redraws the queue pane on screen, if any: a save on the record beside it (record.js
 * dispatches "alemtrack-record-changed") shows in the queue at once, not at the next poll. */
let refreshPane = null;
window.addEventListener("alemtrack-record-changed", () => refreshPane?.());

/** The texts of a patient's protocol (app.js loads each protocol's for the care team): a code
 * both protocols have (a group of signs, a level, lab.cbc) in her protocol's words, not MS's. */
export const textsOf = (protocol) => state.protocolTexts?.[protocol || "ms"] || state.texts;

/** ``code`` in ``table`` of ``texts`` (the patient's protocol's), else of the merged texts. */
const look = (texts, table, code) => texts?.[table]?.[code] ?? state.texts[table]?.[code];

/** A reason code in the nurse's words: a question's text (its signs when it lists them), a
 * lab rule's name, a group of signs, the patient's note; ``texts``: her protocol's (textsOf). */
export function reasonText(code, texts = state.texts) {
  const rule = look(texts, "rules", code);
  if (rule) return rule.title;
  const question = look(texts, "questions", code);
  if (question) return t("reason_yes", { text: question.signs?.length ? question.signs.join(", ") : question.text });
  if (code.startsWith("group:")) return t("reason_group", { group: look(texts, "groups", code.slice(6)) || code.slice(6) });
  if (code === "note") return t("reason_note");
  return code;
}

export function reasonList(codes, texts = state.texts) {
  return h("ul", { class: "reasons" }, codes.map((c) => h("li", {}, reasonText(c, texts))));
}

export const levelBadge = (level, texts = state.texts) => h("span", { class: `badge level-${level}` },
  look(texts, "levels", level)?.name || level);

const time = (iso) => new Intl.DateTimeFormat(language(), { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

/** "5 December 2026, 09:14": when something was done. */
export function when(iso) {
  return new Intl.DateTimeFormat(language(), { day: "numeric", month: "long", year: "numeric", hour: "2-digit",
                                               minute: "2-digit" }).format(new Date(iso));
}

function queuePath() {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
  return `/flags/queue${query.size ? `?${query}` : ""}`;
}

/** The resolve form of one flag, under its line: outcome, note, resolve. */
function resolveForm(flag, after) {
  const id = `outcome-${flag.id}`;
  const outcome = h("select", { id }, OUTCOMES.map((o) => h("option", { value: o }, t(`outcome_${o}`))));
  const note = h("textarea", { id: `note-${flag.id}`, rows: 2, maxlength: 2000 });
  const status = h("p", { role: "status" });
  const submit = h("button", { type: "submit" }, t("resolve_save"));
  const form = h("form", { class: "resolve-form", "data-resolve": flag.id },
    h("label", { for: id }, t("outcome")), outcome,
    h("label", { for: `note-${flag.id}` }, t("note_optional")), note,
    h("p", { class: "row" }, submit, h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await api("POST", `/flags/${flag.id}/resolve`, { outcome: outcome.value, note: note.value.trim() || null });
      after(t("resolved_saved", { outcome: t(`outcome_${outcome.value}`) }));
    } catch (e) {
      submit.disabled = false;
      status.replaceChildren(h("span", { class: "error", role: "alert" }, apiErrorText(e)));
    }
  });
  return form;
}

/** One flag of a patient's row: new or seen (by whom), its reasons in words (``texts``: her
 * protocol's), its actions. */
export function flagLine(flag, after, texts = state.texts) {
  const seen = flag.status === "acknowledged";
  const line = h("li", { class: `flag-line flag-${flag.status}`, "data-flag": flag.id },
    h("div", { class: "flag-head" }, levelBadge(flag.level, texts), " ",
      seen ? h("span", { class: "seen-tag" }, h("span", { "aria-hidden": "true" }, "✓ "),
        t("seen_by", { who: flag.acknowledged_by_email || "—", ago: ago(flag.acknowledged_at) }))
        : h("strong", { class: "new-tag" }, t("status_open")),
      " · ", h("span", { class: "muted" }, t("raised", { ago: ago(flag.created_at) }))),
    reasonList(flag.reasons, texts));
  const actions = h("div", { class: "row flag-actions" },
    seen ? null : h("button", { type: "button", class: "secondary small", "data-ack": flag.id,
      onclick: async () => { await api("POST", `/flags/${flag.id}/ack`); after(t("acknowledged_saved")); } }, t("acknowledge_flag")),
    h("button", { type: "button", class: "secondary small", "data-open-resolve": flag.id,
      onclick: () => {
        if (line.querySelector("form")) return line.querySelector("select").focus();
        line.append(resolveForm(flag, after));
        line.querySelector("select").focus();
      } }, t("resolve_flag")));
  line.append(actions);
  return line;
}

function patientRow(group, after, current) {
  const texts = textsOf(group.protocol);
  const total = group.flags.length;
  const counts = [tn("flags_n", total), group.open ? tn("new_n", group.open) : null,
                  group.acknowledged ? tn("seen_n", group.acknowledged) : null].filter(Boolean).join(" · ");
  return h("li", { class: `queue-row level-row-${group.level}${group.open ? " has-new" : " all-seen"}`,
                   "data-patient": group.patient_id, tabindex: "-1", "aria-current": current ? "true" : false },
    h("div", { class: "row-head" }, levelBadge(group.level, texts), " ",
      h("a", { class: "patient-link", href: `#/patient/${group.patient_id}`,
               "aria-label": t("open_record", { name: group.display_name }) }, group.display_name),
      group.hospital_number ? h("span", { class: "muted" }, ` · ${group.hospital_number}`) : null),
    h("p", { class: "muted row-meta" }, counts, " · ", t("oldest", { ago: ago(group.oldest_at) })),
    h("ul", { class: "flag-lines" }, group.flags.map((f) => flagLine(f, after, texts))));
}

function tabs(active) {
  const tab = (path, key, n) => h("li", {}, h("a", { href: `#/${path}`, "aria-current": path === active ? "page" : false },
    t(key), n === undefined ? "" : ` (${n})`));
  return h("nav", { class: "tabs", "aria-label": t("queue_title") },
    h("ul", {}, tab("flags", "tab_queue"), tab("resolved", "tab_resolved"), tab("to-read", "tab_to_read")));
}

function shortcutsHelp() {
  return h("details", { class: "shortcuts", id: "shortcuts" }, h("summary", {}, t("shortcuts_title")),
    h("p", {}, t("shortcuts")));
}

/** The list of the queue, drawn into ``holder``; polling redraws it when something changed. */
async function drawQueue(holder, live, current) {
  let data;
  try { data = await api("GET", queuePath()); } catch (e) {
    live.textContent = t("queue_offline");
    return;
  }
  if (!document.body.contains(holder)) return;
  const redraw = (message) => drawQueue(holder, live, current).then(() => { if (message) live.textContent = message; });
  const signature = JSON.stringify(data.items.map((g) => g.flags.map((f) => [f.id, f.status])));
  if (holder.dataset.signature === signature) {
    live.textContent = t("queue_updated", { time: time(new Date().toISOString()) });
    return;
  }
  // New flags since the last look are announced, with the patients' names.
  if (lastSeenFlag !== null && data.latest_flag_id > lastSeenFlag) {
    const fresh = data.items.filter((g) => g.flags.some((f) => f.id > lastSeenFlag));
    const n = data.items.reduce((sum, g) => sum + g.flags.filter((f) => f.id > lastSeenFlag).length, 0);
    live.textContent = tn("queue_new", n, { names: fresh.map((g) => g.display_name).join(", ") });
  }
  lastSeenFlag = Math.max(lastSeenFlag ?? 0, data.latest_flag_id ?? 0);
  const focused = document.activeElement?.closest?.(".queue-row")?.dataset.patient;
  holder.dataset.signature = signature;
  const filtered = Object.values(filters).some(Boolean);
  holder.replaceChildren(data.items.length
    ? h("ul", { class: "queue-list" }, data.items.map((g) => patientRow(g, redraw, String(g.patient_id) === String(current))))
    : h("p", {}, t(filtered ? "queue_empty_filtered" : "queue_empty")));
  // The nurse keeps her place when the list is redrawn under her.
  if (focused) holder.querySelector(`.queue-row[data-patient="${focused}"]`)?.focus({ preventScroll: true });
}

function filterBar(onChange) {
  const level = h("select", { id: "filter-level" }, h("option", { value: "" }, t("all_levels")),
    LEVELS.map((l) => h("option", { value: l, selected: filters.level === l }, state.texts.levels[l].name)));
  const status = h("select", { id: "filter-status" }, h("option", { value: "" }, t("all_statuses")),
    ["open", "acknowledged"].map((s) => h("option", { value: s, selected: filters.status === s }, t(`status_${s}`))));
  const changed = () => {
    filters.level = level.value; filters.status = status.value;
    sessionStorage.setItem("queue-filters", JSON.stringify(filters));
    onChange();
  };
  level.addEventListener("change", changed);
  status.addEventListener("change", changed);
  return h("div", { class: "filters" },
    h("div", {}, h("label", { for: "filter-level" }, t("filter_level")), level),
    h("div", {}, h("label", { for: "filter-status" }, t("filter_status")), status));
}

/** The queue pane: tabs, filters, the list and its live region. ``current``: the patient
 * whose record stands beside it. */
export function queuePane(current = null) {
  const live = h("p", { class: "muted live", role: "status", "aria-live": "polite" });
  const holder = h("div", { class: "queue-holder" });
  const refresh = () => { delete holder.dataset.signature; drawQueue(holder, live, current); };
  const pane = h("section", { class: "queue-pane", "aria-labelledby": "queue-heading" },
    h(current ? "h2" : "h1", { id: "queue-heading" }, t("queue_title")), tabs("flags"),
    filterBar(refresh), shortcutsHelp(), live, holder);
  drawQueue(holder, live, current);
  refreshPane = () => { if (document.body.contains(holder)) drawQueue(holder, live, current); else refreshPane = null; };
  clearInterval(poller);
  poller = setInterval(() => {
    if (!document.body.contains(holder)) { clearInterval(poller); poller = null; return; }
    drawQueue(holder, live, current);
  }, POLL_MS);
  return pane;
}

export async function queue() {
  show(queuePane());
}

export async function resolvedView() {
  const { items } = await get("/flags/resolved?limit=200");
  const head = ["col_patient", "col_reasons", "col_level", "col_outcome", "col_note", "col_by", "col_when"];
  show(h("h1", { id: "queue-heading" }, t("queue_title")), tabs("resolved"), shortcutsHelp(),
    items.length ? h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("resolved_flags_title") }, h("table", { class: "resolved-table" },
      h("caption", { class: "visually-hidden" }, t("tab_resolved")),
      h("thead", {}, h("tr", {}, head.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, items.map((f) => h("tr", { "data-flag": f.id },
        h("td", { "data-label": t("col_patient") }, h("a", { href: `#/patient/${f.patient_id}` }, f.display_name)),
        h("td", { "data-label": t("col_reasons") }, reasonList(f.reasons, textsOf(f.protocol))),
        h("td", { "data-label": t("col_level") }, levelBadge(f.level, textsOf(f.protocol))),
        h("td", { "data-label": t("col_outcome") }, f.outcome ? t(`outcome_${f.outcome}`) : "—"),
        h("td", { "data-label": t("col_note"), class: "note-cell" }, f.note || "—"),
        h("td", { "data-label": t("col_by") }, f.resolved_by_email || "—"),
        h("td", { "data-label": t("col_when") }, when(f.resolved_at)))))))
      : h("p", {}, t("resolved_empty")));
}

/** A checklist's "yes" answers in words (``texts``: the patient's protocol's). */
export function yesAnswers(answers, texts = state.texts) {
  const yes = Object.entries(answers || {}).filter(([, v]) => v === true).map(([code]) => code);
  return yes.length ? reasonList(yes, texts) : h("p", { class: "muted" }, t("no_yes_answers"));
}

/** Who marked a routine checklist read and when ("Read by …, …"), for a checklist of the
 * record's history (``c.team``: GET /patients/{id}/checklists); null when there is nothing to say. */
export function checklistReadLine(c) {
  if (c.team?.status !== "read") return c.level === "routine" ? h("p", { class: "muted read-mark" }, t("checklist_not_read")) : null;
  return h("p", { class: "read-mark" }, h("span", { "aria-hidden": "true" }, "✓ "),
    t("checklist_read_by", { who: c.team.read_by_email || "—", when: when(c.team.read_at) }));
}

/** One checklist to read, with its "Mark as read" button: once marked it leaves the list,
 * the live region says so and the focus goes to the next one's button (or the heading). */
function toReadLine(c, live) {
  const date = formatDate(c.answered_on);
  const status = h("p", { role: "status" });
  const button = h("button", { type: "button", class: "secondary small", "data-mark-read": c.id,
                               "aria-label": t("mark_read_label", { name: c.display_name, date }) }, t("mark_read"));
  const line = h("li", { "data-checklist": c.id },
    h("p", {}, h("a", { href: `#/patient/${c.patient_id}` }, c.display_name), " · ",
      h("span", { class: "muted" }, t("answered_on", { date }))),
    yesAnswers(c.answers, textsOf(c.protocol)),
    c.note ? h("blockquote", { class: "patient-note" }, c.note) : null,
    h("p", { class: "row" }, button), status);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("POST", `/checklists/${c.id}/read`);
    } catch (e) {
      button.disabled = false;
      status.replaceChildren(h("span", { class: "error", role: "alert" }, apiErrorText(e)));
      return;
    }
    const list = line.parentElement;
    const next = line.nextElementSibling || line.previousElementSibling;
    line.remove();
    live.textContent = t("marked_read", { name: c.display_name, date });
    if (!list.children.length) list.replaceWith(h("p", {}, t("to_read_empty")));
    (next?.querySelector("button[data-mark-read]") || document.getElementById("queue-heading"))?.focus();
  });
  return line;
}

export async function toReadView() {
  const { items } = await get("/checklists/to-read");
  const live = h("p", { class: "muted live", role: "status", "aria-live": "polite" });
  show(h("h1", { id: "queue-heading", tabindex: "-1" }, t("queue_title")), tabs("to-read"), shortcutsHelp(),
    h("p", {}, t("to_read_intro")), live,
    items.length ? h("ul", { class: "items to-read" }, items.map((c) => toReadLine(c, live)))
      : h("p", {}, t("to_read_empty")));
}

// --- keyboard shortcuts (documented on screen: shortcutsHelp) ---------------------------------

function rows() { return [...document.querySelectorAll("main .queue-row")]; }

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  if (!document.querySelector("main #queue-heading")) return;
  const list = rows();
  const here = document.activeElement?.closest?.(".queue-row");
  const index = here ? list.indexOf(here) : -1;
  const key = event.key;
  if (key === "1" || key === "2" || key === "3") {
    event.preventDefault();
    return go(["flags", "resolved", "to-read"][Number(key) - 1]);
  }
  if (key === "?") {
    const help = document.getElementById("shortcuts");
    if (help) { help.open = !help.open; help.querySelector("summary").focus(); }
    return;
  }
  if (!list.length) return;
  if (key === "j" || (key === "ArrowDown" && here)) {
    event.preventDefault();
    list[Math.min(list.length - 1, index + 1)].focus();
  } else if (key === "k" || (key === "ArrowUp" && here)) {
    event.preventDefault();
    list[Math.max(0, index - 1)].focus();
  } else if (key === "Enter" && here && event.target === here) {
    event.preventDefault();
    go(`patient/${here.dataset.patient}`);
  } else if (key === "a" && here) {
    event.preventDefault();
    here.querySelectorAll("button[data-ack]").forEach((b) => b.click());
  } else if (key === "r" && here) {
    event.preventDefault();
    here.querySelector("button[data-open-resolve]")?.click();
  }
}

document.addEventListener("keydown", onKey);
