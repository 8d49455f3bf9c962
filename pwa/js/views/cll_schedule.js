// A CLL course on the nurse's record screen (CLINICAL.md 7.1, issue 20): from the first
// dose's date and a route the server proposes the administrations (POST course-proposal);
// the nurse edits them as a list (date, dose, route per row; remove or add a row), reads
// the warnings of courses/preview, refreshed after each edit, and saves the list as a
// planned or given course (POST courses). Every number comes from the server: the
// proposal from the protocol's content, the warnings from its dose rules.
import { ApiError, api } from "../api.js";
import { h, localToday } from "../dom.js";
import { formatDate, formatDateRange, formatNumber, language, t, tn } from "../i18n.js";
import { errorText, notice } from "./nurse.js";

const ISO = /^\d{4}-\d{2}-\d{2}$/;
const DAY = 86400000;
const ROUTES = ["iv", "sc"];
const plusDays = (iso, n) => new Date(Date.parse(`${iso}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
/** How long the list waits after an edit before asking for its warnings again (typing a dose). */
const SETTLE_MS = 350;

// The CLL protocol's words for its warnings, by language: the nurse's own texts are those of
// her screens, and the preview's line is in the patient's language.
const warningWords = {};
function cllWarnings() {
  const lang = language();
  warningWords[lang] ||= api("GET", `/content/texts?lang=${lang}&protocol=cll`).then((x) => x.warnings || {}, () => ({}));
  return warningWords[lang];
}

/** A saved CLL course as one line: "38 doses · 7 September – 30 November 2026", the dates and doses inside. */
export function scheduleLine(course) {
  const days = [...course.infusions];
  const order = days.map((d, i) => i).sort((a, b) => days[a].localeCompare(days[b]));
  const sorted = order.map((i) => days[i]);
  const dose = (i) => course.doses?.[i] || {};
  return h("span", { class: "schedule-line" }, tn("sched_doses", days.length), " · ",
    formatDateRange(sorted[0], sorted[sorted.length - 1]),
    h("details", { class: "schedule-doses" }, h("summary", {}, t("sched_show_doses")),
      h("ol", {}, order.map((i) => h("li", {}, formatDate(days[i]),
        dose(i).mg != null ? ` · ${t("sched_mg", { mg: formatNumber(dose(i).mg) })}` : "",
        dose(i).route ? ` · ${t(`sched_route_${dose(i).route}_short`)}` : "")))));
}

/** An editable list of administrations (date, mg, route per row; remove, add) with the warnings
 * of courses/preview refreshed after each edit, and its Save button. ``prefix`` keeps two editors
 * on one page apart; ``replaces`` is the id of the course being corrected; ``check()`` a last
 * check before saving ({ key, input } or null); ``save(infusions, status)`` does the saving. */
function doseEditor(pid, { rows: initial = [], status: initialStatus = "planned", prefix = "", replaces = null,
                           saveLabel = "sched_save", defaultRoute, check = () => null, save: store }) {
  const id = (name) => `${prefix}${name}`;
  let rows = initial.map((r) => ({ ...r }));
  const summary = h("p", { class: "schedule-summary", id: id("schedule-summary") });
  const list = h("ol", { class: "schedule-rows", "aria-describedby": id("schedule-summary") });
  const warnings = h("div", { class: "schedule-warnings", id: id("schedule-warnings"), "aria-live": "polite" });
  const status = h("select", { id: id("schedule-status") },
    ["planned", "given"].map((s) => h("option", { value: s, selected: s === initialStatus }, t(s))));
  const save = h("button", { type: "button", id: id("save-schedule") }, t(saveLabel));
  const saveOut = h("div", { "aria-live": "polite" });
  const add = h("button", { type: "button", class: "secondary", id: id("add-dose") }, t("sched_add"));
  let seen = null;      // the list (and status) whose warnings the nurse has been shown
  let asked = 0;        // the latest preview asked for: an older answer is dropped
  let timer = null;

  const sorted = () => [...rows].sort((a, b) => a.on.localeCompare(b.on));
  const signature = () => JSON.stringify([sorted(), status.value]);
  /** The first row that cannot be sent, as { n, key, input } (n counts from 1 as shown). */
  function badRow() {
    for (const [i, r] of rows.entries()) {
      const li = list.children[i];
      if (!ISO.test(r.on)) return { n: i + 1, key: "err_sched_date", input: li?.querySelector("input[type=date]") };
      if (!(typeof r.mg === "number" && r.mg > 0)) return { n: i + 1, key: "err_sched_mg", input: li?.querySelector("input.mg") };
    }
    return null;
  }

  function describe() {
    const days = sorted().map((r) => r.on).filter((d) => ISO.test(d));
    summary.replaceChildren(rows.length
      ? `${tn("sched_doses", rows.length)}${days.length ? ` · ${formatDateRange(days[0], days[days.length - 1])}` : ""}`
      : t("sched_empty"));
  }

  function label() { save.textContent = seen === signature() && warnings.querySelector("li") ? t("save_anyway") : t(saveLabel); }

  function row(r, i) {
    const n = i + 1;
    const date = h("input", { type: "date", value: r.on, min: "1900-01-01", max: "2100-12-31", "aria-label": t("sched_date_of", { n }) });
    const mg = h("input", { type: "number", inputmode: "decimal", min: 0, step: "any", value: r.mg ?? "", class: "mg",
                            "aria-label": t("sched_mg_of", { n }) });
    const route = h("select", { "aria-label": t("sched_route_of", { n }) },
      ROUTES.map((v) => h("option", { value: v, selected: v === r.route }, t(`sched_route_${v}_short`))));
    const edited = () => {
      r.on = date.value;
      r.mg = mg.value === "" || mg.validity.badInput ? null : Number(mg.value);
      r.route = route.value;
      changed();
    };
    [date, mg].forEach((input) => input.addEventListener("input", edited));
    [date, mg, route].forEach((input) => input.addEventListener("change", edited));
    const remove = h("button", { type: "button", class: "secondary small", "aria-label": t("sched_remove_of", { n }),
      onclick: () => {
        rows.splice(i, 1);
        drawRows();
        changed();
        (list.children[i]?.querySelector("button") || add).focus();
      } }, t("sched_remove"));
    return h("li", { "data-dose": n }, h("span", { class: "dose-n", "aria-hidden": "true" }, `${n}.`),
      h("span", { class: "dose-date" }, date),
      h("span", { class: "dose-rest" }, h("span", { class: "dose-mg" }, mg, h("span", { "aria-hidden": "true" }, " mg")),
        route), remove);
  }

  function drawRows() { list.replaceChildren(...rows.map(row)); }

  add.addEventListener("click", () => {
    const last = sorted()[rows.length - 1];
    // The last week's rhythm goes on: a week after the dose three before the new one (three a
    // week), never before the last; with fewer doses, a week after the last. The nurse changes it.
    const days = sorted().map((r) => r.on).filter((d) => ISO.test(d));
    let on = days.length ? plusDays(days[days.length - 1], 7) : localToday();
    if (days.length >= 3) {
      on = plusDays(days[days.length - 3], 7);
      if (on <= days[days.length - 1]) on = plusDays(days[days.length - 1], 1);
    }
    rows.push({ on, mg: last?.mg ?? null, route: last?.route || defaultRoute() });
    drawRows();
    changed();
    list.lastElementChild.querySelector("input").focus();
  });

  /** After an edit: the summary now, the warnings once the typing settles. */
  function changed() {
    describe();
    label();
    clearTimeout(timer);
    timer = setTimeout(refresh, SETTLE_MS);
  }

  /** The warnings recording this list would give (nothing is saved). */
  async function refresh() {
    const mine = ++asked;
    if (!rows.length) { warnings.replaceChildren(); return label(); }
    const bad = badRow();
    if (bad) { warnings.replaceChildren(notice(t(bad.key, { n: bad.n }), "error")); return label(); }
    warnings.replaceChildren(h("p", { class: "muted" }, t("sched_checking")));
    const sig = signature();
    try {
      const body = { infusions: sorted(), status: status.value };
      if (replaces) body.replaces = replaces;
      const [preview, words] = await Promise.all([api("POST", `/patients/${pid}/courses/preview`, body), cllWarnings()]);
      if (mine !== asked) return;
      const text = (w) => words[w.code]?.text || w.text;
      const own = preview.warnings.filter((w) => w.course === preview.course);
      const lines = [];
      if (own.length) lines.push(h("p", {}, t("preview_warnings")), h("ul", {}, own.map((w) =>
        h("li", { class: "warning", "data-preview-warning": w.code }, h("span", { "aria-hidden": "true" }, "⚠ "), text(w)))));
      if (preview.checks.length) lines.push(h("p", {}, t("check_given")), h("ul", {}, preview.checks.map((w) =>
        h("li", { class: "warning", "data-preview-warning": w.code }, h("span", { "aria-hidden": "true" }, "⚠ "), text(w)))));
      warnings.replaceChildren(lines.length ? h("div", { class: "preview" }, lines)
        : h("p", { class: "notice", "data-no-warning": "" }, t("sched_no_warning")));
      seen = sig;
    } catch (e) {
      if (mine !== asked) return;
      seen = null;
      warnings.replaceChildren(notice(refusal(e), "error"));
    }
    label();
  }

  /** The server's refusal of the list in the nurse's words. */
  function refusal(e) {
    if (e instanceof ApiError && (e.field || "").startsWith("infusions")) {
      const at = /^infusions\[(\d+)\]|^infusions\.(\d+)/.exec(e.field || "");
      return at ? t("err_sched_row", { n: rows.indexOf(sorted()[Number(at[1] ?? at[2])]) + 1 }) : t("err_course");
    }
    return errorText(e);
  }

  status.addEventListener("change", changed);
  save.addEventListener("click", async () => {
    const refuse = (text, input) => { saveOut.replaceChildren(notice(text, "error")); input?.focus(); };
    if (!rows.length) return refuse(t("sched_empty"), add);
    const bad = badRow();
    if (bad) return refuse(t(bad.key, { n: bad.n }), bad.input);
    if (status.value === "given" && rows.some((r) => r.on > localToday())) return refuse(t("err_course_future"), status);
    const extra = check();
    if (extra) return refuse(t(extra.key), extra.input);
    clearTimeout(timer);
    if (seen !== signature()) {
      // Not yet checked as it stands: the warnings first, then the nurse decides.
      await refresh();
      if (warnings.querySelector("li")) { saveOut.replaceChildren(); return warnings.querySelector("li").scrollIntoView({ block: "center" }); }
      if (seen !== signature()) return;  // refused: the reason is shown
    }
    save.disabled = true;
    try {
      await store(sorted(), status.value);
    } catch (e) {
      save.disabled = false;
      refuse(refusal(e));
    }
  });

  drawRows();
  describe();
  const node = h("div", { class: "schedule-editor" },
    summary, list, h("p", {}, add), warnings,
    h("label", { for: id("schedule-status") }, t("course_status")), status,
    h("p", {}, save), saveOut);
  changed();
  return { node, focus: () => list.querySelector("input")?.focus() };
}

/** The "Propose a schedule" part of the courses section of patient ``pid``; ``redraw(notices)``
 * draws the record again once the course is saved. */
export function scheduleEntry(pid, redraw) {
  const first = h("input", { id: "schedule-first", type: "date", min: "1900-01-01", max: "2100-12-31", value: localToday() });
  const radio = (value) => h("label", {}, h("input", { type: "radio", name: "schedule-route", value, checked: value === "iv" }),
    t(`sched_route_${value}`));
  const routes = h("fieldset", {}, h("legend", {}, t("sched_route")), h("div", { class: "choices" }, ROUTES.map(radio)));
  const chosenRoute = () => routes.querySelector("input:checked").value;
  const proposeOut = h("div", { "aria-live": "polite" });
  const editor = h("div", { hidden: true });
  const propose = h("button", { type: "button", id: "propose-schedule" }, t("sched_propose"));

  propose.addEventListener("click", async () => {
    if (!ISO.test(first.value)) { proposeOut.replaceChildren(notice(t("err_sched_first"), "error")); return first.focus(); }
    propose.disabled = true;
    try {
      const proposal = await api("POST", `/patients/${pid}/course-proposal`, { start: first.value, route: chosenRoute() });
      const list = doseEditor(pid, { rows: proposal.infusions, defaultRoute: chosenRoute, save: async (infusions, status) => {
        await api("POST", `/patients/${pid}/courses`, { infusions, status });
        await redraw({ courses: t("sched_saved") });
      } });
      proposeOut.replaceChildren();
      editor.hidden = false;
      editor.replaceChildren(h("h4", { tabindex: "-1", id: "schedule-list-title" }, t("sched_list_title")),
        h("p", { class: "hint" }, t("sched_list_hint")), list.node);
      editor.querySelector("h4").focus();
    } catch (e) {
      proposeOut.replaceChildren(notice(errorText(e), "error"));
    } finally { propose.disabled = false; }
  });

  return h("div", { class: "schedule-entry" },
    h("h3", { id: "schedule-title" }, t("sched_title")),
    h("p", { class: "hint" }, t("sched_intro")),
    h("label", { for: "schedule-first" }, t("sched_first")), first, routes,
    h("p", {}, propose), proposeOut, editor);
}

/** The correction of a recorded CLL course ``course`` (number ``n``) in its list item ``li``:
 * the same list, with the reason the correction needs. */
export function scheduleCorrection(pid, course, n, li, redraw) {
  li.querySelector("form")?.remove();
  const prefix = `c${course.id}-`;
  const reason = h("textarea", { id: `${prefix}reason`, rows: 2, maxlength: 500, "aria-required": "true" });
  const rows = course.infusions.map((on, i) => ({ on, mg: course.doses?.[i]?.mg ?? null, route: course.doses?.[i]?.route || "iv" }));
  const list = doseEditor(pid, {
    rows, status: course.status, prefix, replaces: course.id, saveLabel: "save_course_correction",
    defaultRoute: () => rows[rows.length - 1]?.route || "iv",
    check: () => (reason.value.trim() ? null : { key: "reason_required", input: reason }),
    save: async (infusions, status) => {
      await api("PATCH", `/patients/${pid}/courses/${course.id}`, { infusions, status, reason: reason.value.trim() });
      await redraw({ courses: t("course_corrected") });
    },
  });
  const form = h("form", { class: "correction", novalidate: true, "aria-label": `${t("correct_course")}: ${t("course_n", { n })}`,
                           onsubmit: (event) => event.preventDefault() },
    h("label", { for: `${prefix}reason` }, t("change_reason")), reason, list.node,
    h("p", {}, h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))));
  li.append(form);
  reason.focus();
}
