// The clinic's patients: the list, and enrolling a new one.
import { ApiError, api, get } from "../api.js";
import { h, localToday, show } from "../dom.js";
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
  const cell = { class: "figures", "data-label": t("adherence") };
  if (p.status_error) return h("td", cell, h("span", { class: "warning" }, t("list_record_error")));
  // Figures still to compute (the server computes a bounded number per listing).
  if (a.due_so_far === null) return h("td", cell, h("span", { class: "muted" }, "…"));
  return h("td", cell,
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
    body.figures_pending ? h("p", { class: "hint" }, tn("list_pending", body.figures_pending)) : null,
    body.items.length ? h("table", { class: "patient-list" },
      h("caption", { class: "visually-hidden" }, t("patients_title")),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("name")), h("th", { scope: "col" }, t("adherence")),
        h("th", { scope: "col" }, t("list_flags_column")))),
      h("tbody", {}, rows)) : h("p", { class: "empty" }, t(st.q || st.only.length ? "list_none_match" : "list_none")),
    pages > 1 ? pager : null);
}

/** The time zones the browser knows, as options grouped by region: "Madrid — Central
 * European Time" in the nurse's language, the IANA name as the value. */
function timeZoneSelect(id, chosen) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [chosen];
  if (!zones.includes(chosen)) zones.push(chosen);
  const named = (zone) => {
    try {
      const part = new Intl.DateTimeFormat(language(), { timeZone: zone, timeZoneName: "longGeneric" })
        .formatToParts(new Date()).find((p) => p.type === "timeZoneName");
      return part ? part.value : "";
    } catch (e) { return ""; }
  };
  const groups = new Map();
  for (const zone of zones) {
    const [region, ...rest] = zone.split("/");
    const place = (rest.length ? rest.join(" / ") : region).replace(/_/g, " ");
    const name = named(zone);
    const label = `${place}${name ? ` — ${name}` : ""}${zone === chosen ? ` (${t("timezone_yours")})` : ""}`;
    if (!groups.has(region)) groups.set(region, []);
    groups.get(region).push(h("option", { value: zone, selected: zone === chosen }, label));
  }
  return h("select", { id, "aria-describedby": `${id}-hint` }, [...groups.entries()].map(([region, options]) =>
    (options.length > 1 ? h("optgroup", { label: region.replace(/_/g, " ") }, options) : options)));
}

/** The patient's language by its name in the nurse's language and in its own. */
function languageSelect(id) {
  let names = null;
  try { names = new Intl.DisplayNames([language()], { type: "language" }); } catch (e) { /* the codes' own names */ }
  return h("select", { id, "aria-describedby": `${id}-hint` }, Object.entries(LANGUAGES).map(([code, own]) => {
    const inNurses = names ? names.of(code) : own;
    const label = inNurses.toLowerCase() === own.toLowerCase() ? own : `${inNurses} (${own})`;
    return h("option", { value: code, selected: code === language() }, label);  // the nurse's own, most often hers too
  }));
}

/** A label with its hint and input; ``required`` adds the star and aria-required. */
function field(id, label, input, hint, required = false) {
  if (required) { input.setAttribute("required", ""); input.setAttribute("aria-required", "true"); }
  if (hint) input.setAttribute("aria-describedby", `${id}-hint`);
  return [h("label", { for: id }, label, required ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null),
    hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null, input];
}

/** What the nurse hands over after enrolling: the code, its link and QR code, printable. */
function enrolledCard(created) {
  return h("section", { class: "card enrolled", "aria-labelledby": "enrolled-title", tabindex: "-1" },
    h("h2", { id: "enrolled-title" }, t("enrol_done_title", { name: created.display_name })),
    h("p", { class: "no-print" }, t("enrol_give_code")),
    h("div", { class: "print-only" }, h("p", { class: "print-title" }, t("card_title")),
      h("p", {}, created.display_name), h("p", {}, t("card_steps"))),
    codeWithLink(created.enrollment_code, created.enrollment_code_expires_at),
    h("p", { class: "print-only" }, t("card_clinic", { phone: created.clinic.phone })),
    h("p", { class: "row no-print" },
      h("button", { type: "button", id: "print-card", onclick: () => window.print() }, t("print_card")),
      h("a", { class: "button secondary", href: `#/patient/${created.id}` }, t("open_new_record")),
      h("a", { class: "button secondary", href: "#/enrol", onclick: (event) => { event.preventDefault(); enrol(); } },
        t("enrol_another"))));
}

export async function enrol() {
  const name = h("input", { id: "name", autocomplete: "off", maxlength: 120 });
  const protocol = h("fieldset", { class: "choices-inline" }, h("legend", {}, t("treated_for")),
    ["ms", "cll"].map((code) => h("label", {}, h("input", { type: "radio", name: "protocol", value: code,
      checked: code === "ms" }), t(`protocol_${code}`))));
  const hospital = h("input", { id: "hospital-number", autocomplete: "off", maxlength: 40 });
  const born = h("input", { id: "date-of-birth", type: "date", min: "1900-01-01", max: localToday() });
  const phone = h("input", { id: "phone", type: "tel", autocomplete: "off", maxlength: 30, inputmode: "tel" });
  const sex = h("select", { id: "sex" }, ["female", "male", "other"].map((s) => h("option", { value: s }, t(s))));
  const childbearing = h("input", { id: "childbearing", type: "checkbox" });
  const cervical = cervicalChoice(null, () => sex.value);
  sex.addEventListener("change", cervical.describe);
  const listeria = listeriaInput(null);
  const tz = timeZoneSelect("tz", Intl.DateTimeFormat().resolvedOptions().timeZone);
  const lang = languageSelect("lang");
  const platelets = h("input", { id: "bp", type: "number", min: 0, step: "any", inputmode: "decimal" });
  const creatinine = h("input", { id: "bc", type: "number", min: 0, step: "any", inputmode: "decimal" });
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true, class: "enrol-form" },
    h("p", { class: "hint" }, t("enrol_intro")),
    field("name", t("name"), name, null, true),
    protocol,
    h("div", { class: "pair" }, h("div", {}, field("hospital-number", t("hospital_number"), hospital, t("hospital_number_hint"))),
      h("div", {}, field("date-of-birth", t("date_of_birth"), born))),
    field("phone", t("phone_label"), phone, t("phone_hint")),
    h("div", { class: "pair" }, h("div", {}, field("sex", t("sex"), sex)),
      h("div", {}, field("lang", t("language"), lang, t("language_hint")))),
    field("tz", t("timezone"), tz, t("timezone_hint")),
    h("label", { for: "childbearing", class: "row" }, childbearing, t("childbearing")),
    cervical.fieldset,
    h("label", { for: "listeria-until" }, t("listeria_title")), h("p", { id: "listeria-hint", class: "hint" }, t("listeria_hint")), listeria,
    h("div", { class: "pair" }, h("div", {}, field("bp", t("baseline_platelets"), platelets)),
      h("div", {}, field("bc", t("baseline_creatinine"), creatinine))),
    h("p", {}, h("button", { type: "submit" }, t("enrol"))), out);
  const refuse = (key, input) => {
    out.replaceChildren(notice(t(key), "error"));
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!name.value.trim()) return refuse("err_display_name", name);
    if (born.validity.badInput || (born.value && (born.value > localToday() || born.value < "1900-01-01"))) {
      return refuse("err_date_of_birth", born);
    }
    if (phone.value.trim() && !/^\+?[0-9 ()\-.]{5,}$/.test(phone.value.trim())) return refuse("err_phone", phone);
    if (listeria.validity.badInput) return refuse("err_listeria_until", listeria);
    if (platelets.validity.badInput || creatinine.validity.badInput) return refuse("err_baseline", platelets);
    const chosen = form.querySelector("input[name=protocol]:checked").value;
    const baseline = {};
    if (platelets.value) baseline.platelets = Number(platelets.value);
    if (creatinine.value) baseline.creatinine = Number(creatinine.value);
    const body = { display_name: name.value.trim(), sex: sex.value, childbearing_potential: childbearing.checked,
      breastfeeding: false, timezone: tz.value, language: lang.value, baseline, cervical_screening: cervical.read(),
      listeria_until: listeria.value || null, hospital_number: hospital.value.trim() || null,
      phone: phone.value.trim() || null, date_of_birth: born.value || null };
    // Multiple sclerosis is the server's default: the choice is sent only for the other protocol.
    if (chosen !== "ms") body.protocol = chosen;
    try {
      const created = await api("POST", "/patients", body);
      const card = enrolledCard(created);
      show(h("h1", {}, t("enrol_title")), card);
      card.focus();
    } catch (e) {
      const fieldName = e instanceof ApiError ? e.field : null;
      if (fieldName === "protocol") return refuse("err_protocol_cll", protocol.querySelector("input:checked"));
      if (fieldName === "hospital_number") return refuse("err_hospital_number", hospital);
      if (fieldName === "phone") return refuse("err_phone", phone);
      if (fieldName === "date_of_birth") return refuse("err_date_of_birth", born);
      if (fieldName === "timezone") return refuse("err_timezone", tz);
      out.replaceChildren(notice(errorText(e), "error"));
    }
  });
  show(h("h1", {}, t("enrol_title")), form);
}
