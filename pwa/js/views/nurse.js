// The care team: the clinic's patients with adherence and reachability, and enrolment.
// (The queue and the patient record are views/queue.js and views/record.js, issue 17.)
import { ApiError, api, get } from "../api.js";
import { h, show } from "../dom.js";
import { LANGUAGES, language, t, tn } from "../i18n.js";
import { codeWithLink } from "./start.js";

export async function patients() {
  const [{ items }, delivery] = await Promise.all([get("/patients?per_page=100"), get("/delivery?per_page=100")]);
  const reach = Object.fromEntries(delivery.items.map((d) => [d.patient_id, d]));
  show(h("h1", {}, t("patients_title")),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), h("th", { scope: "col" }, t("adherence")),
      h("th", { scope: "col" }, t("open_flags")))),
      h("tbody", {}, items.map((p) => h("tr", {},
        h("td", {}, h("a", { href: `#/patient/${p.id}` }, p.display_name)),
        h("td", {}, p.adherence.rate === null ? "—" : `${Math.round(p.adherence.rate * 100)}%`,
          p.adherence.overdue_labs ? h("div", {}, tn("overdue_labs", p.adherence.overdue_labs)) : null,
          p.adherence.missed_checklists ? h("div", {}, tn("missed_checklists", p.adherence.missed_checklists)) : null,
          reach[p.id] && !reach[p.id].reachable ? h("div", {}, `⚠ ${t("unreachable")}`) : null),
        h("td", {}, p.open_flags))))));
}

/** A refused request in the nurse's words, saying what to do: the server's message is
 * English, so its field (and status) choose a translated line. */
function errorText(error) {
  if (!(error instanceof ApiError)) return t("err_network");
  if (error.status === 403 || error.status === 404) return t("err_forbidden");
  const key = `err_${(error.field || "").replace(/\[\d+\]$/, "")}`;
  return error.field && t(key) !== key ? t(key) : t("err_generic");
}

/** Cervical screening as three choices: the default by sex (null), yes, no. The default
 * is CLINICAL.md 1: true when sex is female, else false; ``sexOf`` reads the sex shown. */
function cervicalChoice(value, sexOf) {
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
function listeriaInput(value) {
  return h("input", { id: "listeria-until", type: "date", value: value || "", min: "1900-01-01", max: "2100-12-31",
                      "aria-describedby": "listeria-hint" });
}

/** A notice that a screen reader reads and a sighted nurse finds where she acted. */
function notice(text, kind = "notice") {
  return text ? h("p", { class: kind, role: kind === "error" ? "alert" : "status", tabindex: "-1" }, text) : null;
}

export async function enrol() {
  const f = (id, label, input) => [h("label", { for: id }, label), input];
  const name = h("input", { id: "name", required: true, "aria-required": "true" });
  const hospital = h("input", { id: "hospital-number", autocomplete: "off", maxlength: 40, "aria-describedby": "hospital-number-hint" });
  const sex = h("select", { id: "sex" }, ["female", "male", "other"].map((s) => h("option", { value: s }, t(s))));
  const childbearing = h("input", { id: "childbearing", type: "checkbox" });
  const cervical = cervicalChoice(null, () => sex.value);
  sex.addEventListener("change", cervical.describe);
  const listeria = listeriaInput(null);
  const tz = h("input", { id: "tz", value: Intl.DateTimeFormat().resolvedOptions().timeZone });
  const lang = h("select", { id: "lang" }, Object.entries(LANGUAGES).map(([code, label]) =>
    h("option", { value: code, selected: code === language() }, label)));  // the nurse's own, most often hers too
  const platelets = h("input", { id: "bp", type: "number", min: 0, step: "any" });
  const creatinine = h("input", { id: "bc", type: "number", min: 0, step: "any" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true }, f("name", t("name"), name),
    f("hospital-number", t("hospital_number"), [h("p", { id: "hospital-number-hint", class: "hint" }, t("hospital_number_hint")), hospital]),
    f("sex", t("sex"), sex),
    h("label", { for: "childbearing", class: "row" }, childbearing, t("childbearing")),
    cervical.fieldset,
    h("label", { for: "listeria-until" }, t("listeria_title")), h("p", { id: "listeria-hint", class: "hint" }, t("listeria_hint")), listeria,
    f("tz", t("timezone"), tz), f("lang", t("language"), lang),
    f("bp", t("baseline_platelets"), platelets), f("bc", t("baseline_creatinine"), creatinine),
    h("p", {}, h("button", { type: "submit" }, t("enrol"))), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const refuse = (key, field) => { out.replaceChildren(notice(t(key), "error")); field.focus(); };
    if (!name.value.trim()) return refuse("err_display_name", name);
    if (listeria.validity.badInput) return refuse("err_listeria_until", listeria);
    if (platelets.validity.badInput || creatinine.validity.badInput) return refuse("err_baseline", platelets);
    const baseline = {};
    if (platelets.value) baseline.platelets = Number(platelets.value);
    if (creatinine.value) baseline.creatinine = Number(creatinine.value);
    try {
      const created = await api("POST", "/patients", { display_name: name.value.trim(), sex: sex.value,
        childbearing_potential: childbearing.checked, breastfeeding: false, timezone: tz.value, language: lang.value, baseline,
        cervical_screening: cervical.read(), listeria_until: listeria.value || null,
        hospital_number: hospital.value.trim() || null });
      out.replaceChildren(codeWithLink(created.enrollment_code, created.enrollment_code_expires_at),
        h("p", {}, h("a", { href: `#/patient/${created.id}` }, created.display_name)));
    } catch (e) {
      if (e instanceof ApiError && e.field === "hospital_number") return refuse("err_hospital_number", hospital);
      out.replaceChildren(notice(errorText(e), "error"));
    }
  });
  show(h("h1", {}, t("enrol_title")), form);
}
