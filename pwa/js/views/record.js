// The patient record as the nurse's working page (issue 17): who she is and how to call
// her; what is due, overdue and missed; her flags; lab charts and every result with its
// unit and range; her checklists; courses with their warnings, entered, corrected or
// removed with a reason; pregnancies; snoozes; the care team's notes; whether reminders
// reach her; her enrolment code; who looked at the record. On a wide screen the queue
// stands beside it.
import { ApiError, api, get } from "../api.js";
import { h, localToday, show, uuid } from "../dom.js";
import { LANGUAGES, formatDate, formatNumber, language, t, tn } from "../i18n.js";
import { state } from "../app.js";
import { resultsList, showUnit, unitSelect, valueText } from "./labs.js";
import { accessCard } from "./start.js";
import { cervicalChoice, errorText, listeriaInput, notice } from "./nurse.js";
import { scheduleCorrection, scheduleEntry, scheduleLine } from "./cll_schedule.js";
import { WIDE, checklistReadLine, flagLine, levelBadge, queuePane, reasonList, reasonText, when, yesAnswers } from "./queue.js";

const ISO = /^\d{4}-\d{2}-\d{2}$/;
const DAY = 86400000;
const utc = (iso) => new Date(`${iso}T00:00:00Z`);
const isoOf = (date) => date.toISOString().slice(0, 10);

function section(id, title, ...children) {
  return h("section", { class: "card record-section", id, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title`, tabindex: "-1" }, title), ...children);
}

/** The infusion dates typed, as ISO dates: 2027-01-11 anywhere, 11.01.2027 (and 11/01/2027
 * outside English, where it could be read month first) as day, month, year. */
function typedDates(text) {
  const local = language() === "en" ? /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/ : /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/;
  return text.split(/[,;\s]+/).filter(Boolean).map((d) => {
    const m = local.exec(d);
    return m ? `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}` : d;
  });
}

/** A course's dates: "2–6 October 2025 (5 days)" when consecutive, else each date. */
export function courseDates(infusions) {
  const days = [...infusions].sort();
  const consecutive = days.every((d, i) => i === 0 || utc(d) - utc(days[i - 1]) === DAY);
  const n = tn("days_n", days.length);
  if (days.length > 1 && consecutive) {
    const range = new Intl.DateTimeFormat(language(), { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
      .formatRange(utc(days[0]), utc(days[days.length - 1]));
    return t("course_days", { dates: range, n });
  }
  return t("course_days", { dates: days.map((d) => formatDate(d)).join(", "), n });
}

const byDate = (courses) => [...courses].sort((a, b) => [...a.infusions].sort()[0].localeCompare([...b.infusions].sort()[0]));
/** The words of the protocol of the patient whose record is drawn (app.js loads each protocol's). */
let own = null;
const ownTexts = () => own || state.texts;
const warningText = (w) => ownTexts().warnings?.[w.code]?.text || w.text;

// --- course entry: first date and days, or day by day; the warnings before saving ---------------

/** The fields of a course: how the dates are entered, the dates, the status. ``prefix`` keeps
 * two forms on one page apart; ``initial`` is a course being corrected. */
function courseFields(prefix, initial, defaultDays) {
  const id = (name) => (prefix ? `${prefix}-${name}` : name);
  const days = initial ? [...initial.infusions].sort() : [];
  const consecutive = days.every((d, i) => i === 0 || utc(d) - utc(days[i - 1]) === DAY);
  const mode = initial && !consecutive ? "days" : "run";
  const first = h("input", { id: id("course-first"), type: "date", min: "1900-01-01", max: "2100-12-31",
                             value: days[0] || "" });
  const count = h("input", { id: id("course-days"), type: "number", min: 1, max: 30, step: 1, inputmode: "numeric",
                             value: days.length || defaultDays });
  const list = h("input", { id: id("infusions"), autocomplete: "off", "aria-describedby": id("infusions-hint"),
                            value: days.join(", ") });
  const status = h("select", { id: id("course-status") },
    ["planned", "given"].map((s) => h("option", { value: s, selected: (initial?.status || "planned") === s }, t(s))));
  const radio = (value, label) => h("label", {}, h("input", { type: "radio", name: id("mode"), value,
    checked: value === mode, onchange: () => sync() }), label);
  const run = h("div", { class: "course-run" },
    h("div", {}, h("label", { for: id("course-first") }, t("first_date")), first),
    h("div", {}, h("label", { for: id("course-days") }, t("days_count")), count));
  const byDay = h("div", { class: "course-days" }, h("label", { for: id("infusions") }, t("day_list")),
    h("p", { id: id("infusions-hint"), class: "hint" }, t("infusions_hint")), list);
  const fieldset = h("fieldset", {}, h("legend", {}, t("entry_mode")),
    h("div", { class: "choices" }, radio("run", t("mode_run")), radio("days", t("mode_days"))));
  const chosen = () => fieldset.querySelector("input:checked").value;
  function sync() {
    run.hidden = chosen() !== "run";
    byDay.hidden = chosen() !== "days";
  }
  sync();
  /** The dates as ISO days, or the key of what is wrong with them (and the field to fix). */
  const read = () => {
    if (chosen() === "run") {
      const n = Number(count.value);
      if (!ISO.test(first.value)) return { error: "err_infusions_empty", field: first };
      if (!Number.isInteger(n) || n < 1 || n > 30) return { error: "err_infusions", field: count };
      return { infusions: Array.from({ length: n }, (_, i) => isoOf(new Date(utc(first.value).getTime() + i * DAY))) };
    }
    const infusions = typedDates(list.value);
    if (!infusions.length) return { error: "err_infusions_empty", field: list };
    if (!infusions.every((d) => ISO.test(d))) return { error: "err_infusions", field: list };
    return { infusions };
  };
  const nodes = [fieldset, run, byDay, h("label", { for: id("course-status") }, t("course_status")), status];
  return { nodes, read, status, focus: () => (chosen() === "run" ? first : list).focus(),
           inputs: [first, count, list, status, ...fieldset.querySelectorAll("input")] };
}

/** The warnings a preview gave, as the nurse reads them before saving. */
function previewNotes(preview) {
  const mine = preview.warnings.filter((w) => w.course === preview.course);
  const lines = [];
  if (mine.length) lines.push(h("p", {}, t("preview_warnings")), h("ul", {}, mine.map((w) =>
    h("li", { class: "warning", "data-preview-warning": w.code }, h("span", { "aria-hidden": "true" }, "⚠ "), warningText(w)))));
  if (preview.checks.length) lines.push(h("p", {}, t("check_given")), h("ul", {}, preview.checks.map((w) =>
    h("li", { class: "warning", "data-preview-warning": w.code }, h("span", { "aria-hidden": "true" }, "⚠ "), warningText(w)))));
  return lines.length ? h("div", { class: "preview", role: "alert" }, lines) : null;
}

/** A form that previews the course first: saved at once when nothing warns, else only once the
 * nurse has seen the warnings and pressed again. ``save(infusions, status)`` does the saving. */
function previewedCourse(pid, fields, replaces, button, out, save, extraCheck = () => null) {
  let confirmed = null;
  const reset = () => { confirmed = null; button.textContent = button.dataset.label; };
  button.dataset.label = button.textContent;
  fields.inputs.forEach((input) => input.addEventListener("input", reset));
  fields.inputs.forEach((input) => input.addEventListener("change", reset));
  return async () => {
    const read = fields.read();
    const refuse = (key, field) => { out.replaceChildren(notice(t(key), "error")); (field || fields).focus(); };
    if (read.error) return refuse(read.error, read.field);
    const status = fields.status.value;
    if (status === "given" && read.infusions.some((d) => d > localToday())) return refuse("err_course_future");
    const extra = extraCheck();
    if (extra) return refuse(extra.error, extra.field);
    const signature = JSON.stringify([read.infusions, status]);
    try {
      if (confirmed !== signature) {
        const body = { infusions: read.infusions, status };
        if (replaces) body.replaces = replaces;
        const preview = await api("POST", `/patients/${pid}/courses/preview`, body);
        const notes = previewNotes(preview);
        if (notes) {
          confirmed = signature;
          button.textContent = t("save_anyway");
          out.replaceChildren(notes);
          return;
        }
      }
      await save(read.infusions, status);
    } catch (e) {
      if (e instanceof ApiError && (e.field || "").startsWith("infusions")) {
        refuse(e.code === "invalid_request" ? "err_infusions" : "err_course");
      } else out.replaceChildren(notice(errorText(e), "error"));
    }
  };
}

function courseEntry(pid, record, redraw) {
  const out = h("div", { "aria-live": "polite" });
  const fields = courseFields("", null, record.courses.length ? 3 : 5);
  const button = h("button", { type: "button", id: "save-course" }, t("check_course"));
  button.addEventListener("click", previewedCourse(pid, fields, null, button, out, async (infusions, status) => {
    await api("POST", `/patients/${pid}/courses`, { infusions, status });
    await redraw({ courses: t("course_saved") });
  }));
  return h("div", { class: "course-entry" }, h("h3", { id: "course-title" }, t("course_entry_title")), fields.nodes,
    h("p", {}, button), out);
}

function reasonField(id) {
  return h("textarea", { id, rows: 2, maxlength: 500, "aria-required": "true" });
}

function courseCorrection(pid, course, n, li, redraw) {
  li.querySelector("form")?.remove();
  const prefix = `c${course.id}`;
  const fields = courseFields(prefix, course, 3);
  const reason = reasonField(`${prefix}-reason`);
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("save_course_correction"));
  const needReason = () => (reason.value.trim() ? null : { error: "reason_required", field: reason });
  const form = h("form", { class: "correction", novalidate: true, "aria-label": `${t("correct_course")}: ${t("course_n", { n })}` },
    fields.nodes, h("label", { for: `${prefix}-reason` }, t("change_reason")), reason,
    h("p", { class: "row" }, button, h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))), out);
  const run = previewedCourse(pid, fields, course.id, button, out, async (infusions, status) => {
    await api("PATCH", `/patients/${pid}/courses/${course.id}`, { infusions, status, reason: reason.value.trim() });
    await redraw({ courses: t("course_corrected") });
  }, needReason);
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  li.append(form);
  fields.focus();
}

function courseRemoval(pid, course, n, li, redraw) {
  li.querySelector("form")?.remove();
  const id = `r${course.id}-reason`;
  const reason = reasonField(id);
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "correction", novalidate: true, "aria-label": `${t("remove_course")}: ${t("course_n", { n })}` },
    h("label", { for: id }, t("change_reason")), reason,
    h("p", { class: "row" }, h("button", { type: "submit" }, t("remove_course_confirm")),
      h("button", { type: "button", class: "secondary", onclick: () => form.remove() }, t("cancel"))), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { out.replaceChildren(notice(t("reason_required"), "error")); return reason.focus(); }
    try {
      await api("DELETE", `/patients/${pid}/courses/${course.id}`, { reason: reason.value.trim() });
      await redraw({ courses: t("course_removed") });
    } catch (e) { out.replaceChildren(notice(errorText(e), "error")); }
  });
  li.append(form);
  reason.focus();
}

function coursesSection(pid, record, changes, redraw, notices) {
  const warnings = record.warnings || [];
  const list = h("ul", { class: "items courses" }, byDate(record.courses).map((c, i) => {
    const n = i + 1;
    const li = h("li", { "data-course": c.id },
      h("strong", {}, t("course_n", { n })), " ", h("span", { class: `badge status-${c.status}` }, t(c.status)), h("br"),
      h("span", {}, c.doses ? scheduleLine(c) : courseDates(c.infusions)),
      warnings.filter((w) => w.course === n).map((w) => h("p", { class: "warning", "data-warning": w.code },
        h("span", { "aria-hidden": "true" }, "⚠ "), `${t("warning")}: ${warningText(w)}`)),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary small", "aria-label": `${t("correct_course")}: ${t("course_n", { n })}`,
          // A CLL course is corrected dose by dose: the dates-only form would drop its doses.
          onclick: () => (c.doses ? scheduleCorrection : courseCorrection)(pid, c, n, li, redraw) }, t("correct_course")),
        h("button", { type: "button", class: "secondary small", "aria-label": `${t("remove_course")}: ${t("course_n", { n })}`,
          onclick: () => courseRemoval(pid, c, n, li, redraw) }, t("remove_course"))));
    return li;
  }));
  const history = changes.length ? h("details", { class: "course-history" }, h("summary", {}, t("course_history")),
    h("ul", { class: "items" }, changes.map((c) => h("li", {},
      h("strong", {}, t(`action_${c.action}`)), " · ", h("span", { class: "muted" }, t("note_by", { who: c.changed_by, when: when(c.changed_at) })),
      h("br"), t("was", { dates: courseDates(c.infusions_before), status: t(c.status_before) }),
      c.reason ? h("p", {}, `${t("change_reason")}: ${c.reason}`) : null)))) : null;
  return section("courses", t("courses_section"),
    record.monitoring_ends ? h("p", {}, t("monitoring_until", { date: formatDate(record.monitoring_ends) })) : null,
    warnings.length ? h("p", { class: "warning" }, h("span", { "aria-hidden": "true" }, "⚠ "), tn("warnings", warnings.length)) : null,
    list, notice(notices.courses), history,
    // A CLL course is its administrations with dose and route, from a proposal (CLINICAL.md 7.1).
    record.protocol === "cll" ? scheduleEntry(pid, redraw) : courseEntry(pid, record, redraw));
}

// --- labs: charts, the table with ranges, a report of several analytes -------------------------

/** A result's place against its range: "high", "low", "abnormal" (a positive urine test) or null. */
function outOfRange(r) {
  if (r.value === null || r.value === undefined) return null;
  if (typeof r.value === "string") return r.value === "positive" ? "abnormal" : null;
  const a = state.texts.analytes[r.analyte];
  const low = r.ref_low ?? a.low, high = r.ref_high ?? a.high;
  if (low !== null && low !== undefined && r.value < low) return "low";
  if (high !== null && high !== undefined && r.value > high) return "high";
  return null;
}

function rangeText(r) {
  const a = state.texts.analytes[r.analyte];
  if (a.kind === "qualitative") return t("negative");
  return `${limits(r.ref_low ?? a.low, r.ref_high ?? a.high)} ${showUnit(a.unit)}`;
}

/** A range as a nurse reads it: "150–400", "≤ 110" when there is only an upper limit. */
function limits(low, high) {
  const has = (v) => v !== null && v !== undefined;
  if (has(low) && has(high)) return `${formatNumber(low)}–${formatNumber(high)}`;
  if (has(high)) return `≤ ${formatNumber(high)}`;
  return has(low) ? `≥ ${formatNumber(low)}` : "–";
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One analyte's values over time: the points, the normal band, the value before treatment. */
function trend(code, results, baseline) {
  const a = state.texts.analytes[code];
  const points = results.filter((r) => typeof r.value === "number");
  if (!points.length) return null;
  const W = 300, H = 130, P = 24;
  const values = points.map((p) => p.value).concat([a.low, a.high, baseline].filter((v) => v != null));
  const max = Math.max(...values) * 1.1 || 1, min = Math.min(0, ...values);
  const y = (v) => H - P - ((v - min) / (max - min || 1)) * (H - 2 * P);
  const x = (i) => P + (points.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (points.length - 1));
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `trend-${code}` });
  if (a.low != null || a.high != null) {
    const top = y(a.high ?? max), bottom = y(a.low ?? min);
    svg.append(s("rect", { class: "band", x: P, y: top, width: W - 2 * P, height: Math.max(1, bottom - top) }));
  }
  if (baseline != null) svg.append(s("line", { class: "base", x1: P, x2: W - P, y1: y(baseline), y2: y(baseline) }));
  svg.append(s("polyline", { class: "line", points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  points.forEach((p, i) => svg.append(s("circle", { cx: x(i), cy: y(p.value), r: 4, class: outOfRange(p) ? "out" : "" })));
  svg.append(s("text", { x: 2, y: 12 }, formatNumber(Math.round(max * 10) / 10)));
  const last = points[points.length - 1];
  const caption = t("trend_caption", { name: a.name, value: `${formatNumber(last.value)} ${showUnit(a.unit)}`,
    date: formatDate(last.taken_on), range: limits(a.low, a.high) }) +
    (baseline != null ? ` · ${t("record_baseline", { value: formatNumber(baseline) })}` : "");
  return h("figure", { class: "trend" }, h("figcaption", { id: `trend-${code}` }, caption), svg);
}

function resultsTable(items) {
  const analytes = state.texts.analytes;
  return h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("results_title") }, h("table", { class: "results-table" },
    h("caption", { class: "visually-hidden" }, t("results_table")),
    h("thead", {}, h("tr", {}, ["col_date", "col_test", "col_value", "col_range"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, [...items].reverse().map((r) => {
      const mark = outOfRange(r);
      return h("tr", { class: mark ? "out-of-range" : null, "data-result": r.id },
        h("td", { "data-label": t("col_date") }, formatDate(r.taken_on)),
        h("td", { "data-label": t("col_test") }, analytes[r.analyte].name,
          r.patient_reported ? h("span", { class: "muted" }, ` · ${t("entered_by_patient")}`) : null),
        h("td", { "data-label": t("col_value") }, h("span", { class: "value" }, valueText(r)),
          mark ? h("strong", { class: `mark mark-${mark}` }, ` ${mark === "high" ? "↑" : mark === "low" ? "↓" : "!"} ${t(mark)}`) : null),
        h("td", { "data-label": t("col_range") }, rangeText(r)));
    }))));
}

/** A lab report as it arrives: several analytes at once, each in the unit the lab printed, with
 * the lab's range when it prints one; or "sample taken", results to follow. */
function labEntry(pid, usual, redraw) {
  const analytes = state.texts.analytes;
  const codes = Object.keys(analytes);
  const date = h("input", { id: "report-date", type: "date", value: localToday(), max: localToday(), min: "1900-01-01" });
  const sampleOnly = h("input", { id: "sample-only", type: "checkbox" });
  const rows = codes.map((code) => {
    const a = analytes[code];
    const id = `lab-${code}`;
    if (a.kind === "qualitative") {
      return { code, a, value: h("select", { id }, h("option", { value: "" }, "—"),
        h("option", { value: "negative" }, t("negative")), h("option", { value: "positive" }, t("positive"))) };
    }
    return { code, a,
      value: h("input", { id, type: "number", inputmode: "decimal", min: 0, step: "any" }),
      unit: unitSelect(code, `${id}-unit`, usual?.[code] || a.unit, t("unit_of", { name: a.name })),
      low: h("input", { id: `${id}-low`, type: "number", inputmode: "decimal", min: 0, step: "any", "aria-label": t("range_low", { name: a.name }) }),
      high: h("input", { id: `${id}-high`, type: "number", inputmode: "decimal", min: 0, step: "any", "aria-label": t("range_high", { name: a.name }) }) };
  });
  const taken = codes.map((code) => h("label", {}, h("input", { type: "checkbox", name: "taken", value: code }), analytes[code].name));
  const valuesBox = h("div", { class: "lab-grid", role: "group", "aria-label": t("lab_entry_title") },
    h("span", { class: "lab-grid-head", "aria-hidden": "true" }, t("col_test")),
    h("span", { class: "lab-grid-head", "aria-hidden": "true" }, t("col_value")),
    h("span", { class: "lab-grid-head", "aria-hidden": "true" }, t("lab_range")),
    rows.map((r) => [h("label", { for: `lab-${r.code}` }, r.a.name),
      r.unit ? h("div", { class: "value-unit" }, r.value, r.unit) : r.value,
      r.unit ? h("div", { class: "range-pair" }, h("span", { class: "range-caption", "aria-hidden": "true" }, t("lab_range")),
        r.low, h("span", { "aria-hidden": "true" }, "–"), r.high) : h("span", {})]));
  const takenBox = h("fieldset", { class: "taken", hidden: true }, h("legend", {}, t("sample_taken_hint")), h("div", { class: "choices" }, taken));
  sampleOnly.addEventListener("change", () => { valuesBox.hidden = sampleOnly.checked; takenBox.hidden = !sampleOnly.checked; });
  const out = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, t("save_report"));
  const form = h("form", { class: "lab-entry", novalidate: true },
    h("p", { class: "hint" }, t("lab_entry_intro")),
    h("label", { for: "report-date" }, t("taken_on")), date,
    h("label", { for: "sample-only", class: "row" }, sampleOnly, t("sample_taken_mode")),
    valuesBox, takenBox, h("p", {}, button), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const refuse = (text, field) => { out.replaceChildren(notice(text, "error")); field?.focus(); };
    if (!ISO.test(date.value)) return refuse(t("err_taken_on"), date);
    let results;
    if (sampleOnly.checked) {
      results = [...form.querySelectorAll("input[name=taken]:checked")].map((c) => ({ analyte: c.value, value: null }));
    } else {
      results = [];
      for (const r of rows) {
        if (r.value.value === "" && !(r.value.validity && r.value.validity.badInput)) continue;
        if (r.value.validity?.badInput) return refuse(t("err_value", { name: r.a.name }), r.value);
        if (!r.unit) { results.push({ analyte: r.code, value: r.value.value }); continue; }
        const num = (input) => (input.value === "" ? null : Number(input.value));
        results.push({ analyte: r.code, value: Number(r.value.value), unit: r.unit.value, ref_low: num(r.low), ref_high: num(r.high) });
      }
    }
    if (!results.length) return refuse(t("report_empty"), sampleOnly.checked ? takenBox.querySelector("input") : rows[0].value);
    button.disabled = true;
    try {
      await api("POST", `/patients/${pid}/labs`, { client_id: uuid(), taken_on: date.value, results });
      await redraw({ labs: tn("report_saved", results.length) });
    } catch (e) {
      button.disabled = false;
      const at = e instanceof ApiError && /^results\[(\d+)\]/.exec(e.field || "");
      if (at) {
        const analyte = results[Number(at[1])].analyte;
        return refuse(t("err_value", { name: analytes[analyte].name }), document.getElementById(`lab-${analyte}`));
      }
      refuse(errorText(e));
    }
  });
  return h("div", {}, h("h3", {}, t("lab_entry_title")), form);
}

function labsSection(pid, record, labs, redraw, notices) {
  const numeric = Object.keys(state.texts.analytes).filter((code) => labs.items.some((r) => r.analyte === code && typeof r.value === "number"));
  const charts = numeric.map((code) => trend(code, labs.items.filter((r) => r.analyte === code), record.baseline?.[code])).filter(Boolean);
  return section("labs", t("results_title"),
    notice(notices.labs),
    charts.length ? h("div", { class: "trends" }, charts) : h("p", { class: "muted" }, t("no_trend")),
    labs.items.length ? resultsTable(labs.items) : h("p", {}, t("no_results")),
    labs.items.length ? h("details", {}, h("summary", {}, t("correct_results_title")),
      resultsList(pid, labs.items, () => true, (done) => redraw({ labs: done }), t("entered_by_patient"))) : null,
    labEntry(pid, labs.usual_units, redraw));
}

// --- the other sections ---------------------------------------------------------------------

function factsSection(record, redraw, notices) {
  const dl = (pairs) => h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  const notRecorded = () => h("span", { class: "muted" }, t("not_recorded"));
  const hasContact = "phone" in record || "date_of_birth" in record;
  const phone = record.phone
    ? h("a", { class: "tel call-patient", href: `tel:${String(record.phone).replace(/[^+\d]/g, "")}` },
      t("call_patient", { name: record.display_name, phone: record.phone.replace(/ /g, "\u00a0") }))
    : h("p", { class: "muted" }, t("no_phone"));
  const contactOut = h("div", { "aria-live": "polite" });
  const phoneInput = h("input", { id: "contact-phone", type: "tel", autocomplete: "off", value: record.phone || "", maxlength: 40 });
  const dobInput = h("input", { id: "contact-dob", type: "date", min: "1900-01-01", max: localToday(), value: record.date_of_birth || "" });
  const contactForm = hasContact ? h("details", { class: "edit" }, h("summary", {}, t("edit_contact")),
    h("label", { for: "contact-phone" }, t("phone")), phoneInput,
    h("label", { for: "contact-dob" }, t("date_of_birth")), dobInput,
    h("p", {}, h("button", { type: "button", id: "save-contact", onclick: async () => {
      try {
        await api("PATCH", `/patients/${record.id}`, { phone: phoneInput.value.trim() || null, date_of_birth: dobInput.value || null });
        await redraw({ facts: t("contact_saved") });
      } catch (e) { contactOut.replaceChildren(notice(errorText(e), "error")); }
    } }, t("save_contact"))), contactOut) : null;
  const lang = h("select", { id: "record-language" }, Object.entries(LANGUAGES).map(([code, label]) =>
    h("option", { value: code, selected: code === record.language }, label)));
  const tz = h("input", { id: "record-timezone", value: record.timezone, autocomplete: "off" });
  const langOut = h("div", { "aria-live": "polite" });
  const langForm = h("details", { class: "edit" }, h("summary", {}, t("language_timezone")),
    h("label", { for: "record-language" }, t("language")), lang, h("label", { for: "record-timezone" }, t("timezone")), tz,
    h("p", {}, h("button", { type: "button", id: "save-language", onclick: async () => {
      try {
        await api("PATCH", `/patients/${record.id}`, { language: lang.value, timezone: tz.value.trim() });
        await redraw({ facts: t("language_saved") });
      } catch (e) { langOut.replaceChildren(notice(errorText(e), "error")); }
    } }, t("save_language"))), langOut);
  const protocol = record.protocol || "ms";
  // A wrong choice at enrolment: the protocol changes only while no course is recorded.
  const protocolSelect = h("select", { id: "record-protocol", "aria-describedby": "record-protocol-hint" },
    ["ms", "cll"].map((code) => h("option", { value: code, selected: code === protocol }, t(`protocol_${code}`))));
  const protocolOut = h("div", { "aria-live": "polite" });
  const protocolForm = h("details", { class: "edit", id: "protocol-edit" }, h("summary", {}, t("change_protocol")),
    record.courses.length
      ? h("p", { class: "hint", id: "record-protocol-hint" }, t("protocol_locked"))
      : [h("label", { for: "record-protocol" }, t("protocol_label")),
        h("p", { class: "hint", id: "record-protocol-hint" }, t("protocol_change_hint")), protocolSelect,
        h("p", {}, h("button", { type: "button", id: "save-protocol", onclick: async () => {
          if (protocolSelect.value === protocol) return protocolOut.replaceChildren(notice(t("protocol_same"), "error"));
          try {
            await api("PATCH", `/patients/${record.id}`, { protocol: protocolSelect.value });
            await redraw({ facts: t("protocol_saved", { protocol: t(`protocol_${protocolSelect.value}`) }) });
          } catch (e) {
            protocolOut.replaceChildren(notice(e instanceof ApiError && e.code === "protocol_has_courses"
              ? t("ae_protocol_has_courses") : errorText(e), "error"));
          }
        } }, t("save_protocol"))), protocolOut]);
  return h("section", { class: "card record-section facts-card", id: "facts", "aria-labelledby": "record-name" },
    h("h1", { id: "record-name" }, record.display_name),
    phone,
    dl([[t("date_of_birth"), record.date_of_birth ? formatDate(record.date_of_birth) : notRecorded()],
        [t("hospital_number_short"), record.hospital_number || notRecorded()],
        [t("phone"), record.phone || notRecorded()],
        [t("language"), LANGUAGES[record.language] || record.language],
        [t("timezone"), record.timezone],
        [t("protocol_label"), t(`protocol_${protocol}`)]]),
    notice(notices.facts), contactForm, langForm, protocolForm);
}

function dueSection(timeline) {
  if (!timeline) return section("due", t("due_title"), h("p", { class: "error" }, t("err_generic")));
  const items = ownTexts().items;
  const group = (status, key) => {
    const chosen = timeline.items.filter((i) => i.status === status && (status !== "due" || i.tracked));
    // One line per kind of item, with its dates: a blood test overdue three months running is one line.
    const byCode = new Map();
    for (const i of chosen) byCode.set(i.code, [...(byCode.get(i.code) || []), i.due || i.start]);
    return byCode.size ? [h("h3", {}, t(key)), h("ul", { class: "items due-list" }, [...byCode].map(([code, days]) =>
      h("li", { class: `status-${status}`, "data-item": code }, h("strong", {}, items[code]?.title || code), " · ",
        days.map((d) => formatDate(d)).join(", "))))] : [];
  };
  const parts = [...group("missed", "missed_now"), ...group("overdue", "overdue_now"), ...group("due", "due_items")];
  return section("due", t("due_title"), parts.length ? parts : h("p", {}, t("nothing_due_nurse")));
}

function flagsSection(group, resolved, redraw, notices) {
  const open = group ? group.flags : [];
  return section("flags", t("open_flags_title"), notice(notices.flags),
    open.length ? h("ul", { class: "flag-lines" }, open.map((f) => flagLine(f, (msg) => redraw({ flags: msg }), ownTexts())))
      : h("p", {}, t("no_open_flags")),
    resolved.length ? h("details", { class: "resolved-here" }, h("summary", {}, `${t("resolved_flags_title")} (${resolved.length})`),
      h("ul", { class: "items" }, resolved.map((f) => h("li", { "data-flag": f.id },
        levelBadge(f.level, ownTexts()), " ", h("strong", {}, t(`outcome_${f.outcome}`)), " · ",
        h("span", { class: "muted" }, t("note_by", { who: f.resolved_by_email || "—", when: when(f.resolved_at) })),
        reasonList(f.reasons, ownTexts()), f.note ? h("p", { class: "resolve-note" }, f.note) : null)))) : null);
}

function checklistsSection(checklists) {
  return section("checklists", t("checklists_title"), checklists.items.length
    ? h("ul", { class: "items" }, checklists.items.slice().sort((a, b) => b.answered_on.localeCompare(a.answered_on)).map((c) =>
      h("li", { "data-checklist": c.id }, h("p", {}, levelBadge(c.level, ownTexts()), " ", t("answered_on", { date: formatDate(c.answered_on) })),
        // The answers follow; of the reasons only what they do not show (a group of signs, a note).
        c.reasons.some((r) => r.startsWith("group:")) ? h("p", { class: "muted" },
          c.reasons.filter((r) => r.startsWith("group:")).map((r) => reasonText(r, ownTexts())).join(" · ")) : null,
        yesAnswers(c.answers, ownTexts()),
        c.note ? [h("p", { class: "hint" }, t("patient_note")), h("blockquote", { class: "patient-note" }, c.note)] : null,
        checklistReadLine(c))))
    : h("p", {}, t("no_checklists")));
}

function pregnanciesSection(record, redraw, notices) {
  const out = h("div", { "aria-live": "polite" });
  const fail = (e) => out.replaceChildren(notice(e instanceof ApiError && /ended_on|reported_on|pregnancies/.test(e.field || "")
    ? t("err_pregnancy") : errorText(e), "error"));
  const list = record.pregnancies.map((p) => {
    const end = h("input", { id: `preg-end-${p.id}`, type: "date", min: p.reported_on, max: "2100-12-31", value: p.ended_on || "" });
    return h("li", { "data-pregnancy": p.id },
      p.ended_on ? t("pregnancy_closed", { date: formatDate(p.reported_on), end: formatDate(p.ended_on) })
        : t("pregnancy_open", { date: formatDate(p.reported_on) }),
      h("div", { class: "row" }, h("label", { for: `preg-end-${p.id}`, class: "inline" }, t("ended_on")), end,
        h("button", { type: "button", class: "secondary small", onclick: async () => {
          try { await api("PATCH", `/patients/${record.id}/pregnancies/${p.id}`, { ended_on: end.value || null }); await redraw({ pregnancies: t("saved_short") }); } catch (e) { fail(e); }
        } }, t("end_pregnancy")),
        h("button", { type: "button", class: "secondary small", onclick: async () => {
          try { await api("DELETE", `/patients/${record.id}/pregnancies/${p.id}`); await redraw({ pregnancies: t("pregnancy_removed") }); } catch (e) { fail(e); }
        } }, t("remove_pregnancy"))));
  });
  const reported = h("input", { id: "preg-reported", type: "date", min: "1900-01-01", max: localToday() });
  const ended = h("input", { id: "preg-ended", type: "date", min: "1900-01-01", max: "2100-12-31" });
  return section("pregnancies", t("pregnancies_title"),
    list.length ? h("ul", { class: "items" }, list) : h("p", {}, t("no_pregnancies")), notice(notices.pregnancies),
    h("details", { class: "edit" }, h("summary", {}, t("report_pregnancy")),
      h("label", { for: "preg-reported" }, t("reported_on")), reported,
      h("label", { for: "preg-ended" }, t("ended_on")), ended,
      h("p", {}, h("button", { type: "button", id: "save-pregnancy", onclick: async () => {
        if (!ISO.test(reported.value)) { out.replaceChildren(notice(t("err_pregnancy"), "error")); return reported.focus(); }
        const pregnancies = [...record.pregnancies.map((p) => ({ reported_on: p.reported_on, ended_on: p.ended_on })),
          { reported_on: reported.value, ended_on: ended.value || null }];
        try { await api("PATCH", `/patients/${record.id}`, { pregnancies }); await redraw({ pregnancies: t("pregnancy_saved") }); } catch (e) { fail(e); }
      } }, t("report_pregnancy")))), out);
}

/** The care team's decisions (CLINICAL.md 1, v2): cervical screening, a later end of the
 * listeria diet, and the hospital number lab imports match her on. */
function careSection(record, timeline, redraw, notices) {
  const { fieldset: cervical, read: readCervical } = cervicalChoice(record.cervical_screening, () => record.sex);
  const listeria = listeriaInput(record.listeria_until);
  const diets = (timeline?.items || []).filter((i) => i.code === "diet.listeria" && i.end).sort((a, b) => a.start.localeCompare(b.start));
  const latest = diets[diets.length - 1];
  const out = h("div", { "aria-live": "polite" });
  const save = async (body) => {
    try { await api("PATCH", `/patients/${record.id}`, body); await redraw({ care: t("care_saved") }); } catch (e) { out.replaceChildren(notice(errorText(e), "error")); }
  };
  const hospital = h("input", { id: "hospital-number", value: record.hospital_number || "", autocomplete: "off", maxlength: 40,
                                "aria-describedby": "hospital-number-hint" });
  const hospitalOut = h("div", { "aria-live": "polite" });
  return section("care", t("care_title"), cervical,
    h("label", { for: "listeria-until" }, t("listeria_title")), h("p", { id: "listeria-hint", class: "hint" }, t("listeria_hint")),
    h("div", { class: "row" }, listeria, record.listeria_until ? h("button", { type: "button", class: "secondary", onclick: () => {
      listeria.value = "";
      save({ cervical_screening: readCervical(), listeria_until: null });
    } }, t("listeria_clear")) : null),
    latest ? h("p", { class: "muted" }, t("listeria_now", { date: formatDate(latest.end) })) : null,
    h("p", {}, h("button", { type: "button", id: "save-care", onclick: () => {
      if (listeria.validity.badInput) return out.replaceChildren(notice(t("err_listeria_until"), "error"));
      save({ cervical_screening: readCervical(), listeria_until: listeria.value || null });
    } }, t("save_care"))), out, notice(notices.care),
    h("label", { for: "hospital-number" }, t("hospital_number")),
    h("p", { id: "hospital-number-hint", class: "hint" }, t("hospital_number_hint")),
    h("div", { class: "row" }, hospital, h("button", { type: "button", id: "save-hospital-number", class: "secondary", onclick: async () => {
      try {
        await api("PATCH", `/patients/${record.id}`, { hospital_number: hospital.value.trim() || null });
        await redraw({ hospital: t("hospital_number_saved") });
      } catch (e) {
        hospitalOut.replaceChildren(notice(e instanceof ApiError && e.field === "hospital_number" ? t("err_hospital_number") : errorText(e), "error"));
        hospital.focus();
      }
    } }, t("save_hospital_number"))), hospitalOut, notice(notices.hospital));
}

function snoozesSection(record, snoozes, redraw, notices) {
  const questions = ownTexts().questions || {};
  const code = h("select", { id: "snooze-code" }, Object.keys(questions).map((c) => h("option", { value: c }, reasonText(c, ownTexts()))));
  const max = new Date(Date.now() + 28 * DAY).toISOString().slice(0, 10);
  const until = h("input", { id: "snooze-until", type: "date", min: localToday(), max });
  const reason = h("textarea", { id: "snooze-reason", rows: 2, maxlength: 500 });
  const out = h("div", { "aria-live": "polite" });
  return section("snoozes", t("snoozes_title"),
    snoozes.items.length ? h("ul", { class: "items" }, snoozes.items.map((z) => h("li", {},
      t("snooze_line", { question: reasonText(z.code, ownTexts()), date: formatDate(z.until) }), z.reason ? h("p", { class: "muted" }, z.reason) : null)))
      : h("p", {}, t("no_snoozes")), notice(notices.snoozes),
    h("details", { class: "edit" }, h("summary", {}, t("add_snooze")),
      h("label", { for: "snooze-code" }, t("snooze_question")), code,
      h("label", { for: "snooze-until" }, t("snooze_until_date")), until,
      h("label", { for: "snooze-reason" }, t("snooze_reason")), reason,
      h("p", {}, h("button", { type: "button", id: "save-snooze", onclick: async () => {
        if (!ISO.test(until.value)) { out.replaceChildren(notice(t("err_snooze"), "error")); return until.focus(); }
        try {
          await api("POST", `/patients/${record.id}/snoozes`, { code: code.value, until: until.value, reason: reason.value.trim() || null });
          await redraw({ snoozes: t("snooze_saved") });
        } catch (e) { out.replaceChildren(notice(e instanceof ApiError && e.field === "until" ? t("err_snooze") : errorText(e), "error")); }
      } }, t("add_snooze"))), out));
}

function notesSection(record, notes, redraw, notices) {
  const text = h("textarea", { id: "note-text", rows: 3, maxlength: 4000 });
  const out = h("div", { "aria-live": "polite" });
  return section("notes", t("notes_title"), h("p", { class: "hint" }, t("notes_private")),
    h("label", { for: "note-text" }, t("note_text")), text,
    h("p", {}, h("button", { type: "button", id: "save-note", onclick: async () => {
      if (!text.value.trim()) { out.replaceChildren(notice(t("err_note"), "error")); return text.focus(); }
      try {
        await api("POST", `/patients/${record.id}/notes`, { text: text.value });
        await redraw({ notes: t("note_saved") });
      } catch (e) { out.replaceChildren(notice(errorText(e), "error")); }
    } }, t("add_note"))), out, notice(notices.notes),
    notes.items.length ? h("ul", { class: "items notes" }, notes.items.map((n) => h("li", { "data-note": n.id },
      h("p", { class: "muted" }, t("note_by", { who: n.author, when: when(n.created_at) })), h("p", { class: "note-text" }, n.text))))
      : h("p", {}, t("no_notes")));
}

function deliverySection(delivery) {
  return section("delivery", t("delivery_title"),
    h("p", { class: delivery.reachable ? "notice" : "warning" }, delivery.reachable ? t("reachable_yes")
      : [h("span", { "aria-hidden": "true" }, "⚠ "), t("reachable_no")]),
    h("ul", {}, h("li", {}, tn("push_devices", delivery.push_devices)), h("li", {}, tn("calendar_feeds", delivery.calendar_feeds))),
    h("p", {}, delivery.last_delivered_at ? t("last_delivered", { when: when(delivery.last_delivered_at) }) : t("never_delivered")));
}

function accessSection(log) {
  const what = (action) => {
    const key = `act_${action.replace(/\./g, "_")}`;
    return t(key) !== key ? t(key) : t("act_other", { code: action });
  };
  // One opening of the record reads several parts at once: one line per person and minute.
  const lines = [];
  for (const e of log) {
    const key = `${e.by}|${e.at.slice(0, 16)}`;
    const last = lines[lines.length - 1];
    if (last && last.key === key) { if (!last.actions.includes(e.action)) last.actions.push(e.action); } else {
      lines.push({ key, at: e.at, by: e.by, actions: [e.action] });
    }
  }
  return section("access", t("access_title"), h("p", { class: "hint" }, t("access_intro")),
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": t("access_title") }, h("table", { class: "access-table" },
      h("caption", { class: "visually-hidden" }, t("access_title")),
      h("thead", {}, h("tr", {}, ["col_when", "col_by", "col_what"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, lines.map((l) => h("tr", {}, h("td", {}, when(l.at)), h("td", {}, l.by || t("a_laboratory")),
        h("td", {}, l.actions.map(what).join(", "))))))));
}

function jumpNav() {
  const links = [["due", "due_title"], ["flags", "open_flags_title"], ["labs", "results_title"], ["checklists", "checklists_title"],
    ["courses", "courses_section"], ["pregnancies", "pregnancies_title"], ["notes", "notes_title"], ["snoozes", "snoozes_title"],
    ["delivery", "delivery_title"], ["access", "access_title"]];
  return h("nav", { class: "jump", "aria-label": t("jump_to") }, h("ul", {}, links.map(([id, key]) =>
    h("li", {}, h("a", { href: `#${id}`, onclick: (e) => { e.preventDefault(); document.getElementById(id)?.scrollIntoView(); document.getElementById(`${id}-title`)?.focus(); } }, t(key))))));
}

/** Draws patient ``pid``'s record into ``pane``; ``notices`` are the confirmations to show, by section. */
async function drawRecord(pid, pane, notices = {}) {
  if (Object.keys(notices).length) window.dispatchEvent(new CustomEvent("alemtrack-record-changed", { detail: { patientId: pid } }));
  const [record, labs, timeline, checklists, notes, summary, snoozes, queue, resolved] = await Promise.all([
    get(`/patients/${pid}`), get(`/patients/${pid}/labs`), get(`/patients/${pid}/timeline`).catch(() => null),
    get(`/patients/${pid}/checklists`), get(`/patients/${pid}/notes`), get(`/patients/${pid}/care-summary`),
    get(`/patients/${pid}/snoozes`), get("/flags/queue"), get(`/flags/resolved?patient_id=${pid}&limit=50`)]);
  const redraw = (next) => drawRecord(pid, pane, next);
  own = state.protocolTexts?.[record.protocol || "ms"] || null;
  const group = queue.items.find((g) => String(g.patient_id) === String(pid));
  pane.replaceChildren(
    factsSection(record, redraw, notices), jumpNav(),
    dueSection(timeline),
    flagsSection(group, resolved.items, redraw, notices),
    labsSection(pid, record, labs, redraw, notices),
    checklistsSection(checklists),
    coursesSection(pid, record, summary.course_changes, redraw, notices),
    pregnanciesSection(record, redraw, notices),
    notesSection(record, notes, redraw, notices),
    careSection(record, timeline, redraw, notices),
    snoozesSection(record, snoozes, redraw, notices),
    deliverySection(summary.delivery),
    accessCard(record),
    accessSection(summary.access_log));
  document.title = `${record.display_name} · Alemtrack`;
  // The confirmation where the nurse acted, read out and in view.
  const shown = pane.querySelector(".notice[tabindex], .error[tabindex]");
  if (shown) { shown.focus({ preventScroll: true }); shown.scrollIntoView({ block: "center" }); }
}

/** The record page: beside the queue on a wide screen, alone (with the way back) on a phone. */
export async function recordPage(pid) {
  const pane = h("div", { class: "record-pane" });
  if (window.matchMedia(WIDE).matches) {
    show(h("div", { class: "workspace" }, queuePane(pid), pane));
  } else {
    show(h("p", { class: "back" }, h("a", { href: "#/flags" }, `← ${t("back_to_queue")}`)), pane);
  }
  await drawRecord(pid, pane);
}
