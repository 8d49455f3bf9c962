// The care team: the flag queue, a flag next to the patient's answers and results,
// a patient's record and courses (the list and enrolment: patients.js).
import { ApiError, api, get } from "../api.js";
import { h, localToday, show } from "../dom.js";
import { ago, formatDate, language, t, tn } from "../i18n.js";
import { go, state } from "../app.js";
import { resultsList, valueText } from "./labs.js";
import { accessCard } from "./start.js";

const OUTCOMES = ["called_patient", "lab_ordered", "referred_haematology", "referred_nephrology",
                  "referred_endocrinology", "no_action_needed", "entered_in_error"];

export async function flags() {
  const { items } = await get("/flags?status=open");
  const acked = await get("/flags?status=acknowledged");
  const all = [...items, ...acked.items];
  show(h("h1", {}, t("flags_title")),
    all.length ? h("ul", { class: "items" }, all.map((f) => h("li", {},
      h("span", { class: `badge level-${f.level}` }, state.texts.levels[f.level].name), " ",
      h("a", { href: `#/flag/${f.id}` }, `${t("open")}: #${f.patient_id} · ${f.reasons.join(", ")}`), h("br"),
      h("span", { class: "muted" }, t("raised", { ago: ago(f.created_at) }), f.status === "acknowledged" ? " · ✓" : "")))) :
      h("p", {}, t("no_flags")));
}

export async function flag(id) {
  const queue = [...(await get("/flags?status=open")).items, ...(await get("/flags?status=acknowledged")).items];
  const found = queue.find((f) => String(f.id) === id);
  if (!found) return go("flags");
  const [patient, checklists, labs] = await Promise.all([get(`/patients/${found.patient_id}`),
    get(`/patients/${found.patient_id}/checklists`), get(`/patients/${found.patient_id}/labs`)]);
  const outcome = h("select", { id: "outcome" }, OUTCOMES.map((o) => h("option", { value: o }, t(`outcome_${o}`))));
  const note = h("textarea", { id: "resolve-note", rows: 2 });
  const message = h("p", { role: "status" });
  const act = async (path, body) => { await api("POST", `/flags/${id}/${path}`, body); go("flags"); };
  show(h("h1", {}, `${patient.display_name}`),
    h("p", {}, h("span", { class: `badge level-${found.level}` }, state.texts.levels[found.level].name), " ",
      found.reasons.join(", "), " · ", t("raised", { ago: ago(found.created_at) })),
    h("p", { class: "row" }, h("a", { class: "button secondary", href: `tel:${patient.clinic.phone}` }, patient.clinic.phone)),
    found.status === "open" ? h("p", {}, h("button", { type: "button", onclick: () => act("ack") }, t("acknowledge"))) : null,
    h("section", { class: "card" }, h("h2", {}, t("resolve")),
      h("label", { for: "outcome" }, t("outcome")), outcome, h("label", { for: "resolve-note" }, t("note_short")), note,
      h("p", {}, h("button", { type: "button", onclick: () => act("resolve", { outcome: outcome.value, note: note.value || null }) }, t("resolve"))), message),
    h("h2", {}, t("recent_answers")),
    h("ul", { class: "items" }, checklists.items.slice(0, 5).map((c) => h("li", {}, formatDate(c.answered_on), " · ",
      h("span", { class: `badge level-${c.level}` }, state.texts.levels[c.level].name), " ",
      Object.entries(c.answers).filter(([, yes]) => yes).map(([code]) => code).join(", "), c.note ? ` · “${c.note}”` : ""))),
    h("h2", {}, t("recent_results")),
    h("table", {}, h("tbody", {}, labs.items.slice(-12).reverse().map((r) => h("tr", {},
      h("td", {}, formatDate(r.taken_on)), h("td", {}, state.texts.analytes[r.analyte].name), h("td", {}, valueText(r)))))),
    h("p", {}, h("a", { href: `#/patient/${found.patient_id}` }, t("correct_results"))));
}

// Courses in date order (by first infusion), as the engine numbers them.
const byDate = (courses) => [...courses].sort((a, b) => [...a.infusions].sort()[0].localeCompare([...b.infusions].sort()[0]));

/** A refused request in the nurse's words, saying what to do: the server's message is
 * English, so its field (and status) choose a translated line. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return t("err_network");
  if (error.status === 403 || error.status === 404) return t("err_forbidden");
  const key = `err_${(error.field || "").replace(/\[\d+\]$/, "")}`;
  return error.field && t(key) !== key ? t(key) : t("err_generic");
}

/** The infusion dates typed, as ISO dates: 2027-01-11 anywhere, 11.01.2027 (and
 * 11/01/2027 outside English, where it could be read month first) as day, month, year. */
function typedDates(text) {
  const local = language() === "en" ? /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/ : /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/;
  return text.split(/[,;\s]+/).filter(Boolean).map((d) => {
    const m = local.exec(d);
    return m ? `${m[3]}-${m[2].padStart(2, "0")}-${m[1].padStart(2, "0")}` : d;
  });
}

/** A course's dates: "2–6 October 2025" when they are consecutive days, else each date. */
function courseDates(infusions) {
  const days = [...infusions].sort();
  const utc = (iso) => new Date(`${iso}T00:00:00Z`);
  const consecutive = days.every((d, i) => i === 0 || utc(d) - utc(days[i - 1]) === 86400000);
  if (days.length > 1 && consecutive) {
    return new Intl.DateTimeFormat(language(), { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
      .formatRange(utc(days[0]), utc(days[days.length - 1]));
  }
  return days.map((d) => formatDate(d)).join(", ");
}

/** Cervical screening as three choices: the default by sex (null), yes, no. The default
 * is CLINICAL.md 1: true when sex is female, else false; ``sexOf`` reads the sex shown. */
export function cervicalChoice(value, sexOf) {
  const current = value === null || value === undefined ? "default" : value ? "yes" : "no";
  const defaultLabel = h("span", {});
  const describe = () => defaultLabel.replaceChildren(t("cervical_default",
    { sex: t(sexOf()), answer: t(sexOf() === "female" ? "yes" : "no") }));
  describe();
  const option = (v, label) => h("label", {}, h("input", { type: "radio", name: "cervical", value: v, checked: v === current }), label);
  const fieldset = h("fieldset", { "aria-describedby": "cervical-hint" },
    h("legend", {}, t("cervical_title")),
    h("p", { id: "cervical-hint", class: "hint" }, t("cervical_hint")),
    h("div", { class: "choices" }, option("default", defaultLabel), option("yes", t("yes")), option("no", t("no"))));
  const read = () => ({ default: null, yes: true, no: false })[fieldset.querySelector("input:checked").value];
  return { fieldset, read, describe };
}

/** The later end of the listeria diet: a date, empty for none. */
export function listeriaInput(value) {
  return h("input", { id: "listeria-until", type: "date", value: value || "", min: "1900-01-01", max: "2100-12-31",
                      "aria-describedby": "listeria-hint" });
}

/** A notice that a screen reader reads and a sighted nurse finds where she acted. */
export function notice(text, kind = "notice") {
  return text ? h("p", { class: kind, role: kind === "error" ? "alert" : "status", tabindex: "-1" }, text) : null;
}

export async function patient(id, message, notices = {}) {
  const [record, labs, timeline] = await Promise.all([get(`/patients/${id}`), get(`/patients/${id}/labs`),
    get(`/patients/${id}/timeline`).catch(() => null)]);
  const warnings = record.warnings || [];
  const warningText = (w) => (state.texts.warnings && state.texts.warnings[w.code] && state.texts.warnings[w.code].text) || w.text;

  // The care team's decisions (CLINICAL.md 1, v2), saved with PATCH; the page is drawn
  // again from the server's answer, so what it shows is what is stored.
  const cervical = cervicalChoice(record.cervical_screening, () => record.sex);
  const listeria = listeriaInput(record.listeria_until);
  const diets = (timeline?.items || []).filter((i) => i.code === "diet.listeria" && i.end);
  const latestDiet = diets.sort((a, b) => a.start.localeCompare(b.start))[diets.length - 1];
  const careOut = h("div", { "aria-live": "polite" });
  const saveCare = async (body) => {
    try {
      await api("PATCH", `/patients/${id}`, body);
      await patient(id, undefined, { care: t("care_saved") });
    } catch (e) { careOut.replaceChildren(notice(errorText(e), "error")); }
  };
  const hospital = h("input", { id: "hospital-number", value: record.hospital_number || "", autocomplete: "off",
                                 maxlength: 40, "aria-describedby": "hospital-number-hint" });
  const hospitalOut = h("div", { "aria-live": "polite" });
  const saveHospital = async () => {
    try {
      await api("PATCH", `/patients/${id}`, { hospital_number: hospital.value.trim() || null });
      await patient(id, undefined, { hospital: t("hospital_number_saved") });
    } catch (e) {
      hospitalOut.replaceChildren(notice(e instanceof ApiError && e.field === "hospital_number"
        ? t("err_hospital_number") : errorText(e), "error"));
      hospital.focus();
    }
  };
  const care = h("section", { class: "card", "aria-labelledby": "care-title" }, h("h2", { id: "care-title" }, t("care_title")),
    cervical.fieldset,
    h("label", { for: "listeria-until" }, t("listeria_title")),
    h("p", { id: "listeria-hint", class: "hint" }, t("listeria_hint")),
    h("div", { class: "row" }, listeria,
      // Removing the date saves at once, with the choice above as it stands (nothing chosen is lost).
      record.listeria_until ? h("button", { type: "button", class: "secondary", onclick: () => {
        listeria.value = "";
        saveCare({ cervical_screening: cervical.read(), listeria_until: null });
      } }, t("listeria_clear")) : null),
    latestDiet ? h("p", { class: "muted" }, t("listeria_now", { date: formatDate(latestDiet.end) })) : null,
    h("p", {}, h("button", { type: "button", id: "save-care", onclick: () => {
      if (listeria.validity.badInput) return careOut.replaceChildren(notice(t("err_listeria_until"), "error"));
      saveCare({ cervical_screening: cervical.read(), listeria_until: listeria.value || null });
    } }, t("save_care"))),
    careOut, notice(notices.care),
    // The hospital number lab imports match her on (issue 19), saved on its own.
    h("label", { for: "hospital-number" }, t("hospital_number")),
    h("p", { id: "hospital-number-hint", class: "hint" }, t("hospital_number_hint")),
    h("div", { class: "row" }, hospital, h("button", { type: "button", id: "save-hospital-number", class: "secondary",
      onclick: saveHospital }, t("save_hospital_number"))),
    hospitalOut, notice(notices.hospital));

  const dates = h("input", { id: "infusions", "aria-describedby": "infusions-hint", autocomplete: "off" });
  const status = h("select", { id: "course-status" }, h("option", { value: "planned" }, t("planned")),
    h("option", { value: "given" }, t("given")));
  const courseOut = h("div", { "aria-live": "polite" });
  const saveCourse = async () => {
    const infusions = typedDates(dates.value);
    const refuse = (key) => { courseOut.replaceChildren(notice(t(key), "error")); dates.focus(); };
    if (!infusions.length) return refuse("err_infusions_empty");
    if (!infusions.every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) return refuse("err_infusions");
    if (status.value === "given" && infusions.some((d) => d > localToday())) return refuse("err_course_future");
    try {
      await api("POST", `/patients/${id}/courses`, { infusions, status: status.value });
      await patient(id, undefined, { course: t("course_saved") });
    } catch (e) {
      if (e instanceof ApiError && (e.field || "").startsWith("infusions")) {
        refuse(e.code === "invalid_request" ? "err_infusions" : "err_course");
      } else courseOut.replaceChildren(notice(errorText(e), "error"));
    }
  };

  show(h("h1", {}, record.display_name),
    record.monitoring_ends ? h("p", {}, t("monitoring_until", { date: formatDate(record.monitoring_ends) })) : null,
    h("section", { class: "card", "aria-labelledby": "courses-title" }, h("h2", { id: "courses-title" }, t("courses_title")),
      warnings.length ? h("p", { class: "warning" }, h("span", { "aria-hidden": "true" }, "⚠ "), tn("warnings", warnings.length)) : null,
      h("ul", { class: "items courses" }, byDate(record.courses).map((c, n) => h("li", {},
        h("strong", {}, t("course_n", { n: n + 1 })), " ", h("span", { class: `badge status-${c.status}` }, t(c.status)), h("br"),
        h("span", {}, courseDates(c.infusions)),
        // Warnings on a planned course (CLINICAL.md 2.3), in the nurse's language; k counts courses by date.
        warnings.filter((w) => w.course === n + 1).map((w) => h("p", { class: "warning", "data-warning": w.code },
          h("span", { "aria-hidden": "true" }, "⚠ "), `${t("warning")}: ${warningText(w)}`))))),
      notice(notices.course)),
    care,
    accessCard(record),
    h("section", { class: "card", "aria-labelledby": "course-title" }, h("h2", { id: "course-title" }, t("record_course")),
      h("label", { for: "infusions" }, t("infusions")), h("p", { id: "infusions-hint", class: "hint" }, t("infusions_hint")), dates,
      h("label", { for: "course-status" }, t("course_status")), status,
      h("p", {}, h("button", { type: "button", id: "save-course", onclick: saveCourse }, t("save_course"))), courseOut),
    h("section", { class: "card", "aria-labelledby": "results-title" }, h("h2", { id: "results-title" }, t("labs_title")),
      typeof message === "string" ? h("p", { role: "status", class: "notice" }, message) : null,
      // The care team corrects or withdraws any result (CLINICAL.md 6).
      resultsList(id, labs.items, () => true, (done) => patient(id, done), t("entered_by_patient"))));
  // The confirmation where the nurse acted, read out and in view.
  const shown = document.querySelector("main .notice[tabindex]");
  if (shown) { shown.focus({ preventScroll: true }); shown.scrollIntoView({ block: "center" }); }
}
