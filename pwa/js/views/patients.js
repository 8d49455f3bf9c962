// The clinic's patients: the list, and enrolling a new one.
import { ApiError, api, get } from "../api.js";
import { h, show } from "../dom.js";
import { LANGUAGES, language, t, tn } from "../i18n.js";
import { codeWithLink } from "./start.js";
import { cervicalChoice, errorText, listeriaInput, notice } from "./nurse.js";

export async function list() {
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
