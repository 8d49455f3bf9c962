// The care team: the flag queue, a flag next to the patient's answers and results,
// the clinic's patients with adherence and reachability, enrolment and courses.
import { api, get } from "../api.js";
import { h, localToday, show, uuid } from "../dom.js";
import { ago, formatDate, t } from "../i18n.js";
import { go, state } from "../app.js";
import { resultsList, valueText } from "./labs.js";

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

export async function patients() {
  const [{ items }, delivery] = await Promise.all([get("/patients?per_page=100"), get("/delivery?per_page=100")]);
  const reach = Object.fromEntries(delivery.items.map((d) => [d.patient_id, d]));
  show(h("h1", {}, t("patients_title")),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), h("th", { scope: "col" }, t("adherence")),
      h("th", { scope: "col" }, t("open_flags")))),
      h("tbody", {}, items.map((p) => h("tr", {},
        h("td", {}, h("a", { href: `#/patient/${p.id}` }, p.display_name)),
        h("td", {}, p.adherence.rate === null ? "—" : `${Math.round(p.adherence.rate * 100)}%`,
          p.adherence.overdue_labs ? h("div", {}, `${p.adherence.overdue_labs} ${t("overdue_labs")}`) : null,
          p.adherence.missed_checklists ? h("div", {}, `${p.adherence.missed_checklists} ${t("missed_checklists")}`) : null,
          reach[p.id] && !reach[p.id].reachable ? h("div", {}, `⚠ ${t("unreachable")}`) : null),
        h("td", {}, p.open_flags))))));
}

// Courses in date order (by first infusion), as the engine numbers them.
const byDate = (courses) => [...courses].sort((a, b) => [...a.infusions].sort()[0].localeCompare([...b.infusions].sort()[0]));

export async function patient(id, message) {
  const [record, labs] = await Promise.all([get(`/patients/${id}`), get(`/patients/${id}/labs`)]);
  const dates = h("input", { id: "infusions", placeholder: "2027-01-11, 2027-01-12, 2027-01-13" });
  const status = h("select", { id: "course-status" }, h("option", { value: "planned" }, t("planned")),
    h("option", { value: "given" }, t("given")));
  const out = h("p", { role: "status" });
  show(h("h1", {}, record.display_name),
    h("p", {}, record.monitoring_ends ? `→ ${formatDate(record.monitoring_ends)}` : ""),
    h("ul", { class: "items" }, byDate(record.courses).map((c, n) => h("li", {},
      `${n + 1}: ${c.infusions.map((d) => formatDate(d)).join(", ")} (${t(c.status)})`,
      // Warnings on a planned course (CLINICAL.md 2.3), in the nurse's language; k counts courses by date.
      (record.warnings || []).filter((w) => w.course === n + 1).map((w) => h("div", { class: "warning" },
        `⚠ ${(state.texts.warnings && state.texts.warnings[w.code] && state.texts.warnings[w.code].text) || w.text}`))))),
    h("section", { class: "card" }, h("h2", {}, t("record_course")),
      h("label", { for: "infusions" }, t("infusions")), dates, h("label", { for: "course-status" }, t("sex") && "Status"), status,
      h("p", {}, h("button", { type: "button", onclick: async () => {
        try {
          await api("POST", `/patients/${id}/courses`, { infusions: dates.value.split(/[,\s]+/).filter(Boolean), status: status.value });
          out.textContent = t("course_saved");
        } catch (e) { out.textContent = e.message; }
      } }, t("save"))), out),
    h("section", { class: "card", "aria-labelledby": "results-title" }, h("h2", { id: "results-title" }, t("labs_title")),
      typeof message === "string" ? h("p", { role: "status", class: "notice" }, message) : null,
      // The care team corrects or withdraws any result (CLINICAL.md 6).
      resultsList(id, labs.items, () => true, (done) => patient(id, done), t("entered_by_patient"))));
}

export async function enrol() {
  const f = (id, label, input) => [h("label", { for: id }, label), input];
  const name = h("input", { id: "name", required: true });
  const sex = h("select", { id: "sex" }, ["female", "male", "other"].map((s) => h("option", { value: s }, t(s))));
  const childbearing = h("input", { id: "childbearing", type: "checkbox" });
  const tz = h("input", { id: "tz", value: Intl.DateTimeFormat().resolvedOptions().timeZone });
  const language = h("select", { id: "lang" }, ["en", "es", "de", "it"].map((l) => h("option", { value: l }, l)));
  const platelets = h("input", { id: "bp", type: "number", min: 0 });
  const creatinine = h("input", { id: "bc", type: "number", min: 0 });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", {}, f("name", t("name"), name), f("sex", t("sex"), sex),
    h("label", { for: "childbearing", class: "row" }, childbearing, t("childbearing")),
    f("tz", t("timezone"), tz), f("lang", t("language"), language),
    f("bp", t("baseline_platelets"), platelets), f("bc", t("baseline_creatinine"), creatinine),
    h("p", {}, h("button", { type: "submit" }, t("enrol"))), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const baseline = {};
    if (platelets.value) baseline.platelets = Number(platelets.value);
    if (creatinine.value) baseline.creatinine = Number(creatinine.value);
    try {
      const created = await api("POST", "/patients", { display_name: name.value, sex: sex.value,
        childbearing_potential: childbearing.checked, breastfeeding: false, timezone: tz.value, language: language.value, baseline });
      out.replaceChildren(h("p", {}, t("enrolment_code", { date: formatDate(created.enrollment_code_expires_at) })),
        h("p", {}, h("strong", {}, created.enrollment_code)), h("p", {}, h("a", { href: `#/patient/${created.id}` }, created.display_name)));
    } catch (e) { out.replaceChildren(h("p", { class: "error", role: "alert" }, e.message)); }
  });
  show(h("h1", {}, t("enrol_title")), form);
}
