// The clinic's patients: the list, and enrolling a new one.
import { ApiError, api, get } from "../api.js";
import { h, show } from "../dom.js";
import { LANGUAGES, formatNumber, language, t, tn } from "../i18n.js";
import { codeWithLink } from "./start.js";
import { cervicalChoice, errorText, listeriaInput, notice } from "./nurse.js";

const formatPercent = (rate) => new Intl.NumberFormat(language(), { style: "percent" }).format(rate);

// The list's filters, orders and page size (the API's only, sort/order and per_page).
const FILTERS = ["overdue_labs", "missed_checklists", "open_flags", "unreachable"];
const SORTS = { name: ["name", "asc"], name_desc: ["name", "desc"], overdue_labs: ["overdue_labs", "desc"],
                missed_checklists: ["missed_checklists", "desc"], open_flags: ["open_flags", "desc"],
                adherence: ["adherence", "asc"], hospital_number: ["hospital_number", "asc"] };
const PER_PAGE = 25;

/** The list's state from the address (#/patients?q=…&only=…&sort=…&page=…), so that
 * Back, a reload and a shared link show the same list. */
function listState() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const sort = SORTS[params.get("sort")] ? params.get("sort") : "name";
  const page = Math.max(1, Number.parseInt(params.get("page"), 10) || 1);
  return { q: params.get("q") || "", only: params.getAll("only").filter((f) => FILTERS.includes(f)), sort, page };
}

function listHash({ q, only, sort, page }) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  for (const f of only) params.append("only", f);
  if (sort !== "name") params.set("sort", sort);
  if (page > 1) params.set("page", String(page));
  const text = params.toString();
  return `#/patients${text ? `?${text}` : ""}`;
}

function adherenceCell(p) {
  const a = p.adherence;
  if (p.status_error) return h("td", { class: "figures" }, h("span", { class: "warning" }, t("list_record_error")));
  return h("td", { class: "figures" },
    h("span", { class: "rate" }, a.rate === null ? t("list_nothing_due") : formatPercent(a.rate)),
    a.overdue_labs ? h("span", { class: "badge status-overdue" }, tn("overdue_labs", a.overdue_labs)) : null,
    a.missed_checklists ? h("span", { class: "badge status-missed" }, tn("missed_checklists", a.missed_checklists)) : null);
}

/** The clinic's patients: search, filters, order and pages, all on the server. */
export async function list() {
  const st = listState();
  const [sort, order] = SORTS[st.sort];
  const query = new URLSearchParams({ per_page: String(PER_PAGE), page: String(st.page), sort, order });
  if (st.q) query.set("q", st.q);
  for (const f of st.only) query.append("only", f);
  const body = await get(`/patients?${query}`);
  const move = (change) => { location.hash = listHash({ ...st, page: 1, ...change }); };

  const search = h("input", { id: "patient-search", type: "search", value: st.q, autocomplete: "off",
                              "aria-describedby": "patient-search-hint", maxlength: 100 });
  const searchForm = h("form", { role: "search", class: "list-search", onsubmit: (event) => {
    event.preventDefault(); move({ q: search.value.trim() });
  } }, h("label", { for: "patient-search" }, t("list_search")),
    h("p", { id: "patient-search-hint", class: "hint" }, t("list_search_hint")),
    h("div", { class: "row" }, search, h("button", { type: "submit" }, t("list_search_button")),
      st.q ? h("button", { type: "button", class: "secondary", onclick: () => move({ q: "" }) }, t("list_clear")) : null));

  const filters = h("div", { class: "filters", role: "group", "aria-labelledby": "filters-label" },
    h("span", { id: "filters-label", class: "filters-label" }, t("list_show_only")),
    FILTERS.map((f) => {
      const on = st.only.includes(f);
      return h("button", { type: "button", class: on ? "chip on" : "chip", "aria-pressed": on ? "true" : "false",
        "data-filter": f, onclick: () => move({ only: on ? st.only.filter((x) => x !== f) : [...st.only, f] }) },
      t(`list_filter_${f}`), " ", h("span", { class: "count" }, formatNumber(body.counts[f])));
    }));

  const sortSelect = h("select", { id: "patient-sort", onchange: (event) => move({ sort: event.target.value }) },
    Object.keys(SORTS).map((key) => h("option", { value: key, selected: key === st.sort }, t(`list_sort_${key}`))));

  const pages = Math.max(1, Math.ceil(body.total / PER_PAGE));
  const pager = h("nav", { class: "pager", "aria-label": t("list_pages") },
    h("button", { type: "button", class: "secondary", disabled: st.page <= 1,
                  onclick: () => { location.hash = listHash({ ...st, page: st.page - 1 }); } }, t("list_previous")),
    h("span", { "aria-live": "polite" }, t("list_page_of", { page: formatNumber(st.page), pages: formatNumber(pages) })),
    h("button", { type: "button", class: "secondary", disabled: st.page >= pages,
                  onclick: () => { location.hash = listHash({ ...st, page: st.page + 1 }); } }, t("list_next")));

  const rows = body.items.map((p) => h("tr", {},
    h("th", { scope: "row", "data-label": t("name") }, h("a", { href: `#/patient/${p.id}` }, p.display_name),
      p.hospital_number ? h("div", { class: "muted" }, t("list_number", { number: p.hospital_number })) : null),
    adherenceCell(p),
    h("td", { class: "flags-cell" }, p.open_flags
      ? h("span", { class: "badge level-urgent" }, tn("list_open_flags", p.open_flags)) : h("span", { class: "muted" }, "—"))));

  show(h("h1", {}, t("patients_title")),
    h("div", { class: "list-tools" }, searchForm,
      h("div", { class: "list-sort" }, h("label", { for: "patient-sort" }, t("list_sort")), sortSelect)),
    filters,
    h("p", { class: "list-total", role: "status" }, tn("list_total", body.total)),
    body.items.length ? h("table", { class: "patient-list" },
      h("caption", { class: "visually-hidden" }, t("patients_title")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), h("th", { scope: "col" }, t("adherence")),
        h("th", { scope: "col" }, t("list_flags_column")))),
      h("tbody", {}, rows)) : h("p", { class: "empty" }, t(st.q || st.only.length ? "list_none_match" : "list_none")),
    pages > 1 ? pager : null);
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
